"""The cloud's tables, written once as SQLAlchemy Core metadata (Alembic migrations are generated from it).

Core rather than the ORM: the hot path (ingest) is set-based and the read paths are plain queries, so
mapped objects would only add cost. Quantities are 64-bit integers in the SKU's base unit.
"""

from __future__ import annotations

import sqlalchemy as sa

metadata = sa.MetaData(
    naming_convention={
        "ix": "ix_%(column_0_label)s",
        "uq": "uq_%(table_name)s_%(column_0_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

# SQLite only auto-increments an INTEGER PRIMARY KEY; PostgreSQL wants a 64-bit identity.
BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
TS = sa.DateTime(timezone=True)

gateways = sa.Table(
    "gateways",
    metadata,
    sa.Column("gateway_id", sa.String(64), primary_key=True),
    sa.Column("warehouse", sa.String(64), nullable=False, index=True),
    sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
    sa.Column("head_seq", sa.BigInteger, nullable=False, server_default="0"),
    sa.Column("head_hash", sa.String(64), nullable=False),
    sa.Column("created_at", TS, nullable=False),
    sa.Column(
        "revoked_at", TS, nullable=True, comment="Set by `wims cloud gateway revoke`: its token no longer works."
    ),
)

users = sa.Table(
    "users",
    metadata,
    sa.Column("username", sa.String(64), primary_key=True),
    sa.Column("role", sa.String(16), nullable=False),
    sa.Column("password_hash", sa.Text, nullable=False),
    sa.Column("warehouse", sa.String(64), nullable=True),
    sa.Column("created_at", TS, nullable=False),
    sa.Column("disabled_at", TS, nullable=True, comment="Set by `wims cloud user disable`: no login, no token."),
)

api_tokens = sa.Table(
    "api_tokens",
    metadata,
    sa.Column("token_hash", sa.String(64), primary_key=True),
    sa.Column("username", sa.String(64), sa.ForeignKey("users.username", ondelete="CASCADE"), nullable=False),
    sa.Column("expires_at", TS, nullable=False),
)

ops = sa.Table(
    "ops",
    metadata,
    sa.Column("gateway_id", sa.String(64), primary_key=True),
    sa.Column("seq", sa.BigInteger, primary_key=True),
    sa.Column("op_id", sa.String(36), nullable=False, unique=True),
    sa.Column("kind", sa.String(32), nullable=False),
    sa.Column("actor", sa.String(64), nullable=False),
    sa.Column("occurred_at", TS, nullable=False),
    sa.Column("prev_hash", sa.String(64), nullable=False),
    sa.Column("hash", sa.String(64), nullable=False),
    sa.Column("body", sa.Text, nullable=False, comment="Canonical JSON of the op without its hash."),
    sa.Column("received_at", TS, nullable=False),
)

quarantine = sa.Table(
    "quarantine",
    metadata,
    sa.Column("id", BigId, primary_key=True, autoincrement=True),
    sa.Column("gateway_id", sa.String(64), nullable=False),
    sa.Column("seq", sa.BigInteger, nullable=True),
    sa.Column("op_id", sa.String(64), nullable=True),
    sa.Column("raw_hash", sa.String(64), nullable=False),
    sa.Column("reason", sa.Text, nullable=False),
    sa.Column("body", sa.Text, nullable=False),
    sa.Column("received_at", TS, nullable=False),
    sa.Column("resolved", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.UniqueConstraint("gateway_id", "raw_hash", name="uq_quarantine_gateway_raw"),
)

stock_balance = sa.Table(
    "stock_balance",
    metadata,
    sa.Column("warehouse", sa.String(64), primary_key=True),
    sa.Column("sku", sa.String(64), primary_key=True),
    sa.Column("lot", sa.String(64), primary_key=True),
    sa.Column("location", sa.String(64), primary_key=True),
    sa.Column("status", sa.String(16), primary_key=True),
    sa.Column("qty", sa.BigInteger, nullable=False),
)
sa.Index("ix_stock_balance_sku", stock_balance.c.sku)

transit = sa.Table(
    "transit",
    metadata,
    sa.Column("transfer_id", sa.String(64), primary_key=True),
    sa.Column("sku", sa.String(64), primary_key=True),
    sa.Column("lot", sa.String(64), primary_key=True),
    sa.Column("from_warehouse", sa.String(64), nullable=False),
    sa.Column("to_warehouse", sa.String(64), nullable=False),
    sa.Column("out_qty", sa.BigInteger, nullable=False, server_default="0"),
    sa.Column("in_qty", sa.BigInteger, nullable=False, server_default="0"),
)

serials = sa.Table(
    "serials",
    metadata,
    sa.Column("serial", sa.String(128), primary_key=True),
    sa.Column("warehouse", sa.String(64), nullable=False),
    sa.Column("op_id", sa.String(36), nullable=False),
)

discrepancies = sa.Table(
    "discrepancies",
    metadata,
    sa.Column("id", BigId, primary_key=True, autoincrement=True),
    sa.Column("dkey", sa.String(400), nullable=False, unique=True, comment="Identity: one record per fact."),
    sa.Column("kind", sa.String(32), nullable=False),
    sa.Column("warehouse", sa.String(64), nullable=False, index=True),
    sa.Column("sku", sa.String(64), nullable=True),
    sa.Column("detail", sa.Text, nullable=False),
    sa.Column("status", sa.String(16), nullable=False, server_default="open"),
    sa.Column("created_at", TS, nullable=False),
    sa.Column("updated_at", TS, nullable=False),
)

work_orders = sa.Table(
    "work_orders",
    metadata,
    sa.Column("id", BigId, primary_key=True, autoincrement=True),
    sa.Column(
        "discrepancy_id",
        sa.BigInteger,
        sa.ForeignKey("discrepancies.id"),
        nullable=True,
        unique=True,
        comment="The discrepancy it answers (the cloud's own work orders); null for a gateway's.",
    ),
    sa.Column("warehouse", sa.String(64), nullable=False, index=True),
    sa.Column("assignee_role", sa.String(16), nullable=False, server_default="supervisor"),
    sa.Column("status", sa.String(16), nullable=False, server_default="open"),
    sa.Column("description", sa.Text, nullable=False),
    sa.Column("created_at", TS, nullable=False),
    sa.Column("source", sa.String(16), nullable=False, server_default="cloud", comment="cloud or gateway"),
    sa.Column("gateway_id", sa.String(64), nullable=True, comment="The gateway that opened it (source gateway)."),
    sa.Column("external_id", sa.String(64), nullable=True, comment="The gateway's own work_order_id."),
    sa.Column("wo_type", sa.String(64), nullable=True),
    sa.Column("zone", sa.String(64), nullable=True),
    sa.Column("location", sa.String(64), nullable=True),
    sa.Column("assignee", sa.String(64), nullable=True),
    sa.Column("updated_at", TS, nullable=True),
    sa.UniqueConstraint("gateway_id", "external_id", name="uq_work_orders_gateway_external"),
)

skus = sa.Table(
    "skus",
    metadata,
    # the fields of sync.masterdata.Sku, one column each (reports join on them); category is the cloud's own
    sa.Column("code", sa.String(64), primary_key=True),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("gtin", sa.String(14), nullable=True, index=True),
    sa.Column("base_unit", sa.String(16), nullable=False, server_default="EA"),
    sa.Column("length_mm", sa.BigInteger, nullable=False, server_default="0"),
    sa.Column("width_mm", sa.BigInteger, nullable=False, server_default="0"),
    sa.Column("height_mm", sa.BigInteger, nullable=False, server_default="0"),
    sa.Column("weight_g", sa.BigInteger, nullable=False, server_default="0"),
    sa.Column("temperature_class", sa.String(16), nullable=False, server_default="ambient"),
    sa.Column("hazmat_class", sa.String(32), nullable=True),
    sa.Column("lot_tracked", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("category", sa.String(64), nullable=True),
    sa.Column("cost_price", sa.Numeric(18, 4), nullable=True),
    sa.Column("currency", sa.String(3), nullable=False, server_default="CNY"),
    sa.Column("supplier", sa.String(200), nullable=True),
    sa.Column("updated_at", TS, nullable=False),
)

# A warehouse's own master data (zones, locations, operators, inbound and outbound orders), one row per
# record, the record as the JSON of its sync.masterdata model: the cloud is the network's master and keeps
# every field the gateways use.
site_records = sa.Table(
    "site_records",
    metadata,
    sa.Column("warehouse", sa.String(64), primary_key=True),
    sa.Column("kind", sa.String(32), primary_key=True, comment="zones, locations, operators, inbound_orders..."),
    sa.Column("code", sa.String(64), primary_key=True),
    sa.Column("data", sa.Text, nullable=False, comment="The record's canonical JSON."),
    sa.Column("updated_at", TS, nullable=False),
    sa.Column("updated_by", sa.String(80), nullable=False),
)

commands = sa.Table(
    "commands",
    metadata,
    sa.Column("cursor", BigId, primary_key=True, autoincrement=True),
    sa.Column("command_id", sa.String(64), nullable=False, unique=True),
    sa.Column("gateway_id", sa.String(64), sa.ForeignKey("gateways.gateway_id"), nullable=False),
    sa.Column("type", sa.String(32), nullable=False),
    sa.Column("body", sa.Text, nullable=False),
    sa.Column("created_by", sa.String(64), nullable=False),
    sa.Column("created_at", TS, nullable=False),
    sa.Column("status", sa.String(16), nullable=False, server_default="pending", comment="pending, applied, rejected"),
    sa.Column("reason", sa.Text, nullable=True, comment="The gateway's reason (its command_applied op)."),
    sa.Column("applied_at", TS, nullable=True),
    sa.Column("applied_seq", sa.BigInteger, nullable=True, comment="Seq of the gateway's command_applied op."),
)
sa.Index("ix_commands_gateway_cursor", commands.c.gateway_id, commands.c.cursor)

audit_log = sa.Table(
    "audit_log",
    metadata,
    sa.Column("id", BigId, primary_key=True, autoincrement=True),
    sa.Column("at", sa.String(32), nullable=False, comment="ISO 8601 text, hashed as written."),
    sa.Column("actor", sa.String(80), nullable=False),
    sa.Column("action", sa.String(64), nullable=False),
    sa.Column("target", sa.String(200), nullable=False),
    sa.Column("detail", sa.Text, nullable=False),
    sa.Column("prev_hash", sa.String(64), nullable=False),
    sa.Column("hash", sa.String(64), nullable=False, unique=True),
)

# Telemetry from gateways: 1-minute sensor aggregates, one row per (gateway, sensor, minute); a resent
# minute replaces its row (a minute only ever grows).
telemetry_minutes = sa.Table(
    "telemetry_minutes",
    metadata,
    sa.Column("gateway_id", sa.String(64), primary_key=True),
    sa.Column("sensor_id", sa.String(64), primary_key=True),
    sa.Column("minute", sa.BigInteger, primary_key=True, comment="Minutes since the Unix epoch, UTC."),
    sa.Column("n", sa.Integer, nullable=False),
    sa.Column("vmin", sa.Float, nullable=False),
    sa.Column("vmax", sa.Float, nullable=False),
    sa.Column("vsum", sa.Float, nullable=False),
)

# --- The web pages' tables (migration 0003) --------------------------------------------------------

# What each gateway last said of itself (``PUT /v1/gateways/{id}/status``): its journal head and sync
# backlog as it sees them, and each part's health; the dashboard's site panel reads it.
gateway_status = sa.Table(
    "gateway_status",
    metadata,
    sa.Column("gateway_id", sa.String(64), sa.ForeignKey("gateways.gateway_id"), primary_key=True),
    sa.Column("reported_at", TS, nullable=False),
    sa.Column("head_seq", sa.BigInteger, nullable=False),
    sa.Column("acked_seq", sa.BigInteger, nullable=False),
    sa.Column("backlog_ops", sa.BigInteger, nullable=False),
    sa.Column("backlog_bytes", sa.BigInteger, nullable=False),
    sa.Column("oldest_unacked_age_s", sa.Float, nullable=True),
    sa.Column("overall", sa.String(16), nullable=False),
    sa.Column("health", sa.Text, nullable=False, comment="JSON: part -> {status, detail, since}."),
    sa.Column("site_hash", sa.String(64), nullable=True),
)

# A site's zones and locations as its gateway reported them (space utilisation needs capacities).
site_zones = sa.Table(
    "site_zones",
    metadata,
    sa.Column("warehouse", sa.String(64), primary_key=True),
    sa.Column("code", sa.String(64), primary_key=True),
    sa.Column("name", sa.String(200), nullable=False, server_default=""),
    sa.Column("temperature_class", sa.String(16), nullable=False, server_default="ambient"),
)

site_locations = sa.Table(
    "site_locations",
    metadata,
    sa.Column("warehouse", sa.String(64), primary_key=True),
    sa.Column("code", sa.String(64), primary_key=True),
    sa.Column("zone", sa.String(64), nullable=False),
    sa.Column("type", sa.String(16), nullable=False),
    sa.Column("capacity", sa.BigInteger, nullable=False, server_default="0"),
)

user_prefs = sa.Table(
    "user_prefs",
    metadata,
    sa.Column("username", sa.String(64), sa.ForeignKey("users.username", ondelete="CASCADE"), primary_key=True),
    sa.Column("locale", sa.String(16), nullable=False),
)

# Cost rates per warehouse for the BI cost breakdown (labour from operators' active hours, energy per day).
warehouse_rates = sa.Table(
    "warehouse_rates",
    metadata,
    sa.Column("warehouse", sa.String(64), primary_key=True),
    sa.Column("currency", sa.String(3), nullable=False),
    sa.Column("labour_per_hour", sa.Numeric(18, 4), nullable=False),
    sa.Column("energy_kwh_per_day", sa.Numeric(18, 4), nullable=False),
    sa.Column("energy_price_per_kwh", sa.Numeric(18, 4), nullable=False),
    sa.Column("updated_at", TS, nullable=False),
    sa.Column("updated_by", sa.String(80), nullable=False),
)

# Report facts, rolled up from ``ops`` in SQL (cloud/web/reports/rollup.py): how far each gateway's
# ops are rolled up, and daily / hourly sums the reports aggregate instead of the ops themselves.
rollup_state = sa.Table(
    "rollup_state",
    metadata,
    sa.Column("gateway_id", sa.String(64), primary_key=True),
    sa.Column("seq", sa.BigInteger, nullable=False, server_default="0"),
)

rollup_actor = sa.Table(
    "rollup_actor",
    metadata,
    sa.Column("warehouse", sa.String(64), primary_key=True),
    sa.Column("actor", sa.String(64), primary_key=True),
    sa.Column("last_at", TS, nullable=False, comment="occurred_at of the actor's last task op rolled up."),
)

fact_stock_daily = sa.Table(
    "fact_stock_daily",
    metadata,
    sa.Column("warehouse", sa.String(64), primary_key=True),
    sa.Column("sku", sa.String(64), primary_key=True),
    sa.Column("day", sa.Date, primary_key=True),
    sa.Column("inbound", sa.BigInteger, nullable=False, server_default="0", comment="receive + transfer_in"),
    sa.Column("outbound", sa.BigInteger, nullable=False, server_default="0", comment="ship + transfer_out"),
    sa.Column("loss", sa.BigInteger, nullable=False, server_default="0", comment="negative adjust and count"),
    sa.Column("gain", sa.BigInteger, nullable=False, server_default="0", comment="positive adjust and count"),
    sa.Column("net", sa.BigInteger, nullable=False, server_default="0", comment="on-hand change"),
)

fact_operator_daily = sa.Table(
    "fact_operator_daily",
    metadata,
    sa.Column("warehouse", sa.String(64), primary_key=True),
    sa.Column("actor", sa.String(64), primary_key=True),
    sa.Column("day", sa.Date, primary_key=True),
    sa.Column("lines", sa.BigInteger, nullable=False, server_default="0"),
    sa.Column("pick_lines", sa.BigInteger, nullable=False, server_default="0"),
    sa.Column("pick_errors", sa.BigInteger, nullable=False, server_default="0"),
    sa.Column("active_s", sa.Float, nullable=False, server_default="0"),
)

fact_activity_hourly = sa.Table(
    "fact_activity_hourly",
    metadata,
    sa.Column("warehouse", sa.String(64), primary_key=True),
    sa.Column("hour", TS, primary_key=True),
    sa.Column("kind", sa.String(32), primary_key=True),
    sa.Column("ops", sa.BigInteger, nullable=False, server_default="0"),
)

# The rare kinds the dashboard's alerts read straight from ``ops`` (a partial index: ingest pays only
# for these rows).
ALERT_KINDS = ("temp_alarm", "work_order", "exception", "transfer_out")
sa.Index(
    "ix_ops_alert_kinds",
    ops.c.kind,
    ops.c.occurred_at,
    postgresql_where=ops.c.kind.in_(ALERT_KINDS),
    sqlite_where=ops.c.kind.in_(ALERT_KINDS),
)
