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

fact_zone_hourly = sa.Table(
    "fact_zone_hourly",
    metadata,
    sa.Column("warehouse", sa.String(64), primary_key=True),
    sa.Column("zone", sa.String(64), primary_key=True),
    sa.Column("hour", TS, primary_key=True),
    sa.Column("ops", sa.BigInteger, nullable=False, server_default="0", comment="Floor ops touching the zone."),
    comment="Floor work per zone and hour (cloud/web/reports/rollup.py), for the slow and idle zone alerts.",
)
sa.Index("ix_fact_zone_hourly_hour", fact_zone_hourly.c.hour)

# PostgreSQL also indexes pick and ship ops by their payload's order id, for the dashboard's order
# fulfilment (``cloud.web.dashboard.ORDER_ID_SQL`` is the same expression; SQLite does without).
sa.Index(
    "ix_ops_order_id",
    sa.text("((body::jsonb -> 'payload') ->> 'order_id')"),
    postgresql_where=ops.c.kind.in_(("pick", "ship")),
).ddl_if(dialect="postgresql")

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

# --- Dispatch (migration 0005): the network as data, demand history, planning runs and their output,
# routed orders, transfer orders and the transport webhook outbox. -----------------------------------

warehouses = sa.Table(
    "warehouses",
    metadata,
    sa.Column("code", sa.String(64), primary_key=True),
    sa.Column("name", sa.String(200), nullable=False, server_default=""),
    sa.Column("country", sa.String(2), nullable=False, comment="ISO 3166-1 alpha-2: its holiday calendar."),
    sa.Column("region", sa.String(8), nullable=False, server_default="", comment="ISO 3166-2 subdivision."),
    sa.Column("timezone", sa.String(64), nullable=False, server_default="UTC"),
    sa.Column("latitude", sa.Float, nullable=False, server_default="0"),
    sa.Column("longitude", sa.Float, nullable=False, server_default="0"),
    sa.Column("events", sa.Text, nullable=True, comment="JSON list of promotion events; null: the country's."),
    sa.Column("lead_time_days", sa.Integer, nullable=False, server_default="14", comment="Supplier lead time."),
    sa.Column("updated_at", TS, nullable=False),
    sa.Column("updated_by", sa.String(80), nullable=False),
)

lanes = sa.Table(
    "lanes",
    metadata,
    sa.Column("origin", sa.String(64), sa.ForeignKey("warehouses.code"), primary_key=True),
    sa.Column("destination", sa.String(64), sa.ForeignKey("warehouses.code"), primary_key=True),
    sa.Column("transit_days", sa.Integer, nullable=False),
    sa.Column("cost_per_unit", sa.Float, nullable=False, server_default="0"),
    sa.Column("cost_per_shipment", sa.Float, nullable=False, server_default="0"),
    sa.Column("capacity", sa.BigInteger, nullable=True, comment="Most units one dispatch carries; null: no limit."),
    sa.Column("min_shipment", sa.BigInteger, nullable=False, server_default="0"),
    sa.Column("updated_at", TS, nullable=False),
    sa.Column("updated_by", sa.String(80), nullable=False),
)

service_lanes = sa.Table(
    "service_lanes",
    metadata,
    sa.Column("warehouse", sa.String(64), sa.ForeignKey("warehouses.code"), primary_key=True),
    sa.Column("region", sa.String(64), primary_key=True, comment="The customers' delivery region."),
    sa.Column("carrier", sa.String(64), primary_key=True),
    sa.Column("transit_days", sa.Integer, nullable=False),
    sa.Column("cutoff", sa.String(5), nullable=False, server_default="17:00", comment="Local HH:MM."),
    sa.Column("ship_days", sa.String(7), nullable=False, server_default="1234567", comment="ISO weekdays."),
    sa.Column("cost_per_unit", sa.Float, nullable=False, server_default="0"),
    sa.Column("cost_per_shipment", sa.Float, nullable=False, server_default="0"),
    sa.Column("updated_at", TS, nullable=False),
    sa.Column("updated_by", sa.String(80), nullable=False),
)

demand_history = sa.Table(
    "demand_history",
    metadata,
    sa.Column("sku", sa.String(64), primary_key=True),
    sa.Column("warehouse", sa.String(64), primary_key=True),
    sa.Column("day", sa.Date, primary_key=True, comment="The warehouse's local calendar day."),
    sa.Column("shipped", sa.BigInteger, nullable=False, server_default="0", comment="Summed from ship ops."),
    sa.Column("imported", sa.BigInteger, nullable=False, server_default="0", comment="Past sales, imported."),
)
sa.Index("ix_demand_history_warehouse_day", demand_history.c.warehouse, demand_history.c.day)

planning_runs = sa.Table(
    "planning_runs",
    metadata,
    sa.Column("id", BigId, primary_key=True, autoincrement=True),
    sa.Column("slot", sa.String(64), nullable=True, unique=True, comment="A scheduled run's slot: one run a slot."),
    sa.Column("trigger", sa.String(16), nullable=False, comment="api, cli or schedule"),
    sa.Column("actor", sa.String(80), nullable=False),
    sa.Column("status", sa.String(16), nullable=False, server_default="running"),
    sa.Column("started_at", TS, nullable=False),
    sa.Column("finished_at", TS, nullable=True),
    sa.Column("history_end", sa.Date, nullable=True, comment="The first forecast day."),
    sa.Column("series", sa.Integer, nullable=False, server_default="0"),
    sa.Column("recommendations", sa.Integer, nullable=False, server_default="0"),
    sa.Column("detail", sa.Text, nullable=False, server_default="{}", comment="JSON: timings, counts."),
    sa.Column("error", sa.Text, nullable=True),
)

forecasts = sa.Table(
    "forecasts",
    metadata,
    sa.Column("run_id", sa.BigInteger, sa.ForeignKey("planning_runs.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("sku", sa.String(64), primary_key=True),
    sa.Column("warehouse", sa.String(64), primary_key=True),
    sa.Column("start", sa.Date, nullable=False),
    sa.Column("demand_class", sa.String(16), nullable=False),
    sa.Column("model", sa.String(32), nullable=False),
    sa.Column("interval_method", sa.String(16), nullable=False),
    sa.Column("mae", sa.Float, nullable=True, comment="Backtest error of the chosen model."),
    sa.Column("rmse", sa.Float, nullable=True),
    sa.Column("bias", sa.Float, nullable=True),
    sa.Column("mean", sa.Text, nullable=False, comment="JSON list, one value a day from start."),
    sa.Column("intervals", sa.Text, nullable=False, comment='JSON {"80": [[lo...], [hi...]], ...}'),
    sa.Column("safety_stock", sa.Float, nullable=False, server_default="0"),
    sa.Column("reorder_point", sa.Float, nullable=False, server_default="0"),
    sa.Column("lead_time_days", sa.Integer, nullable=False, server_default="0"),
    sa.Column("service_level", sa.Float, nullable=False, server_default="0"),
    sa.Column(
        "week_total", sa.Float, nullable=True, comment="The first 7 days of mean, summed when the run is stored."
    ),
)
sa.Index("ix_forecasts_sku_warehouse", forecasts.c.sku, forecasts.c.warehouse)
sa.Index("ix_forecasts_run_week_total", forecasts.c.run_id, forecasts.c.week_total)

forecast_totals = sa.Table(
    "forecast_totals",
    metadata,
    sa.Column("run_id", sa.BigInteger, sa.ForeignKey("planning_runs.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("warehouse", sa.String(64), primary_key=True),
    sa.Column("day", sa.Integer, primary_key=True, comment="Days from the run's first forecast day."),
    sa.Column("mean", sa.Float, nullable=False, comment="Summed over the warehouse's series."),
    sa.Column("low", sa.Float, nullable=True, comment="Sum of the 80 % interval's lower bounds."),
    sa.Column("high", sa.Float, nullable=True, comment="Sum of the 80 % interval's upper bounds."),
    comment="A run's forecasts summed per warehouse and day (cloud/planning/totals.py), for the dashboard.",
)

recommendations = sa.Table(
    "recommendations",
    metadata,
    sa.Column("id", BigId, primary_key=True, autoincrement=True),
    sa.Column("run_id", sa.BigInteger, sa.ForeignKey("planning_runs.id", ondelete="CASCADE"), nullable=False),
    sa.Column("kind", sa.String(16), nullable=False, comment="transfer or purchase"),
    sa.Column("sku", sa.String(64), nullable=False),
    sa.Column("origin", sa.String(64), nullable=True),
    sa.Column("warehouse", sa.String(64), nullable=False, comment="Destination (transfer) or buyer (purchase)."),
    sa.Column("qty", sa.BigInteger, nullable=False),
    sa.Column("cost", sa.Float, nullable=False, server_default="0"),
    sa.Column("why", sa.Text, nullable=False, comment="JSON: the numbers behind it."),
    sa.Column("status", sa.String(16), nullable=False, server_default="open"),
    sa.Column("created_at", TS, nullable=False),
    sa.Column("decided_by", sa.String(80), nullable=True),
    sa.Column("decided_at", TS, nullable=True),
    sa.Column("note", sa.Text, nullable=True),
    sa.Column("transfer_id", sa.String(64), nullable=True, comment="The transfer order an approval made."),
)
sa.Index("ix_recommendations_status", recommendations.c.status, recommendations.c.id)

orders = sa.Table(
    "orders",
    metadata,
    sa.Column("order_id", sa.String(64), primary_key=True),
    sa.Column("region", sa.String(64), nullable=False),
    sa.Column("customer", sa.String(200), nullable=False, server_default=""),
    sa.Column("lines", sa.Text, nullable=False, comment="JSON list of {line, sku, qty, lot}."),
    sa.Column("status", sa.String(16), nullable=False, comment="routed, split, partial, unroutable"),
    sa.Column("reason_code", sa.String(16), nullable=False),
    sa.Column("reason", sa.Text, nullable=False, comment="Why, in English."),
    sa.Column("reason_zh", sa.Text, nullable=False, comment="Why, in Simplified Chinese."),
    sa.Column("backorder", sa.Text, nullable=False, server_default="[]", comment="JSON lines not shipped."),
    sa.Column("source", sa.String(16), nullable=False, server_default="api"),
    sa.Column("created_at", TS, nullable=False),
    sa.Column("created_by", sa.String(80), nullable=False),
)

order_shipments = sa.Table(
    "order_shipments",
    metadata,
    sa.Column("order_id", sa.String(64), sa.ForeignKey("orders.order_id", ondelete="CASCADE"), primary_key=True),
    sa.Column("warehouse", sa.String(64), primary_key=True),
    sa.Column("gateway_id", sa.String(64), nullable=True, comment="The gateway the command went to."),
    sa.Column("command_id", sa.String(64), nullable=True),
    sa.Column("carrier", sa.String(64), nullable=False, server_default=""),
    sa.Column("lines", sa.Text, nullable=False),
    sa.Column("ship_date", sa.Date, nullable=False),
    sa.Column("delivery_date", sa.Date, nullable=False),
    sa.Column("cost", sa.Float, nullable=False),
)

transfer_orders = sa.Table(
    "transfer_orders",
    metadata,
    sa.Column("transfer_id", sa.String(64), primary_key=True),
    sa.Column("from_warehouse", sa.String(64), nullable=False, index=True),
    sa.Column("to_warehouse", sa.String(64), nullable=False, index=True),
    sa.Column(
        "status", sa.String(16), nullable=False, comment="draft approved released in_transit received closed cancelled"
    ),
    sa.Column("lines", sa.Text, nullable=False, comment="JSON list of {line, sku, qty, lot}."),
    sa.Column("value", sa.Float, nullable=False, server_default="0", comment="Goods value (cost price x qty)."),
    sa.Column("transport_cost", sa.Float, nullable=False, server_default="0"),
    sa.Column("transit_days", sa.Integer, nullable=False, server_default="0"),
    sa.Column("carrier", sa.String(64), nullable=False, server_default=""),
    sa.Column("recommendation_id", sa.BigInteger, nullable=True),
    sa.Column("command_id", sa.String(64), nullable=True),
    sa.Column("eta", TS, nullable=True),
    sa.Column("created_at", TS, nullable=False),
    sa.Column("created_by", sa.String(80), nullable=False),
    sa.Column("approved_by", sa.String(80), nullable=True),
    sa.Column("approved_at", TS, nullable=True),
    sa.Column("released_at", TS, nullable=True),
    sa.Column("shipped_at", TS, nullable=True),
    sa.Column("received_at", TS, nullable=True),
    sa.Column("closed_at", TS, nullable=True),
    sa.Column("updated_at", TS, nullable=False),
    sa.Column("note", sa.Text, nullable=False, server_default=""),
)

webhook_outbox = sa.Table(
    "webhook_outbox",
    metadata,
    sa.Column("id", BigId, primary_key=True, autoincrement=True),
    sa.Column("event_id", sa.String(64), nullable=False, unique=True, comment="webhook-id: receivers dedupe on it."),
    sa.Column("event_type", sa.String(64), nullable=False),
    sa.Column("subject", sa.String(200), nullable=False, index=True, comment="What it is about, e.g. transfer/T-1."),
    sa.Column("payload", sa.Text, nullable=False, comment="The JSON body, exactly as signed and sent."),
    sa.Column("created_at", TS, nullable=False),
    sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
    sa.Column("next_attempt_at", TS, nullable=False),
    sa.Column("delivered_at", TS, nullable=True),
    sa.Column("failed_at", TS, nullable=True, comment="Set when the attempts ran out."),
    sa.Column("last_error", sa.Text, nullable=True),
)
sa.Index("ix_webhook_outbox_due", webhook_outbox.c.delivered_at, webhook_outbox.c.next_attempt_at)
