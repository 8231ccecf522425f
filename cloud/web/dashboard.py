"""The dashboard's query functions: one per panel, each a few SQL statements returning a ``Table``.

State panels (sites, stock, transfers, alerts) show the present; the time window selects what counts as
recent (ops per hour, alarms raised, transfers shipped). Everything is computed in the database from
the ledger's own tables (``stock_balance``, ``transit``, ``ops`` through its partial index on the rare
kinds) and the sites' reports; nothing is cached, so a refresh after a change shows the change.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from cloud.db.schema import (
    commands,
    demand_history,
    discrepancies,
    fact_activity_hourly,
    fact_zone_hourly,
    forecast_totals,
    gateway_status,
    gateways,
    ops,
    order_shipments,
    orders,
    planning_runs,
    stock_balance,
    transfer_orders,
    transit,
    work_orders,
)
from cloud.web.filters import WINDOWS, Filters
from cloud.web.table import Column, Table
from sync.web.i18n import N_
from sync.web.labels import ALARMS, DISCREPANCY_KINDS, OP_KINDS, STATES, TRANSFER_STATES, WORK_ORDER_TYPES

sb = stock_balance.c
IN_FLIGHT = ("released", "in_transit", "received")
"""Transfer order states shown in flight: sent to the source, on the road, or received but not closed."""


@dataclass(frozen=True)
class QueryContext:
    now: datetime
    offline_after_s: float
    work_order_sla_h: float
    postgres: bool


def _aware(ts: datetime | None, ref: datetime) -> datetime | None:
    if ts is None:
        return None
    return ts if ts.tzinfo is not None else ts.replace(tzinfo=ref.tzinfo)


ORDER_ID_SQL = "((ops.body::jsonb -> 'payload') ->> 'order_id')"
"""A pick or ship op's order id in PostgreSQL, exactly as ``ix_ops_order_id`` indexes it."""


def _payload(field: str) -> Any:
    """A text field of an op's payload, extracted in SQL (PostgreSQL ``->>``, SQLite ``json_extract``)."""
    return sa.cast(ops.c.body, sa.JSON)["payload"][field].as_string()


# --- sites ------------------------------------------------------------------------------------------

SITE_COLUMNS = [
    Column("warehouse", N_("Warehouse"), "code"),
    Column("gateway_id", N_("Gateway"), "code"),
    Column("state", N_("State"), "label", labels=STATES),
    Column("last_seen", N_("Last seen"), "datetime"),
    Column("backlog_ops", N_("Sync backlog (ops)"), "int"),
    Column("health", N_("Health"), "label", labels=STATES),
    Column("parts_down", N_("Parts not OK"), "code"),
]


def sites(conn: Connection, f: Filters, qc: QueryContext) -> Table:
    g, s = gateways.c, gateway_status.c
    last_op = (
        sa.select(ops.c.received_at)
        .where(ops.c.gateway_id == g.gateway_id)
        .order_by(ops.c.seq.desc())
        .limit(1)
        .scalar_subquery()
    )
    q = (
        sa.select(
            g.gateway_id,
            g.warehouse,
            g.head_seq.label("cloud_seq"),
            s.reported_at,
            s.head_seq,
            s.overall,
            s.health,
            last_op.label("last_op_at"),
        )
        .select_from(gateways.outerjoin(gateway_status, s.gateway_id == g.gateway_id))
        .order_by(g.warehouse, g.gateway_id)
    )
    if f.warehouse:
        q = q.where(g.warehouse == f.warehouse)
    rows = []
    online = 0
    for r in conn.execute(q):
        seen = [t for t in (_aware(r.reported_at, qc.now), _aware(r.last_op_at, qc.now)) if t is not None]
        last_seen = max(seen) if seen else None
        is_online = last_seen is not None and (qc.now - last_seen).total_seconds() <= qc.offline_after_s
        online += is_online
        parts = json.loads(r.health) if r.health else {}
        down = sorted(name for name, p in parts.items() if p.get("status") not in ("ok", None) and name != "sync")
        rows.append(
            {
                "warehouse": r.warehouse,
                "gateway_id": r.gateway_id,
                "state": "online" if is_online else ("offline" if last_seen else "never"),
                "last_seen": last_seen,
                "backlog_ops": max(0, r.head_seq - r.cloud_seq) if r.head_seq is not None else None,
                "health": r.overall if is_online and r.overall else "unknown",
                "parts_down": ", ".join(down),
                "parts": parts,
            }
        )
    return Table(SITE_COLUMNS, rows, {"online": online, "sites": len(rows)})


# --- stock per warehouse -------------------------------------------------------------------------------

STOCK_COLUMNS = [
    Column("warehouse", N_("Warehouse"), "code"),
    Column("available", N_("Available"), "int"),
    Column("reserved", N_("Reserved"), "int"),
    Column("frozen", N_("Frozen"), "int"),
    Column("in_transit_in", N_("In transit (inbound)"), "int"),
    Column("in_transit_out", N_("In transit (outbound)"), "int"),
    Column("on_hand", N_("On hand"), "int"),
]


def _in_transit(t: Any) -> Any:
    return sa.case((t.out_qty > t.in_qty, t.out_qty - t.in_qty), else_=0)


def stock(conn: Connection, f: Filters, qc: QueryContext) -> Table:
    t = transit.c
    zero = sa.literal(0)
    u = sa.union_all(
        sa.select(
            sb.warehouse.label("w"),
            sa.func.sum(sa.case((sb.status == "available", sb.qty), else_=0)).label("av"),
            sa.func.sum(sa.case((sb.status == "reserved", sb.qty), else_=0)).label("rs"),
            sa.func.sum(sa.case((sb.status.in_(("qc_hold", "damaged")), sb.qty), else_=0)).label("fr"),
            zero.label("ti"),
            zero.label("to"),
        ).group_by(sb.warehouse),
        sa.select(t.to_warehouse, zero, zero, zero, sa.func.sum(_in_transit(t)), zero).group_by(t.to_warehouse),
        sa.select(t.from_warehouse, zero, zero, zero, zero, sa.func.sum(_in_transit(t))).group_by(t.from_warehouse),
    ).subquery()
    q = sa.select(
        u.c.w,
        sa.func.sum(u.c.av).label("available"),
        sa.func.sum(u.c.rs).label("reserved"),
        sa.func.sum(u.c.fr).label("frozen"),
        sa.func.sum(u.c.ti).label("tin"),
        sa.func.sum(u.c.to).label("tout"),
    ).group_by(u.c.w)
    if f.warehouse:
        q = q.where(u.c.w == f.warehouse)
    rows = []
    for r in conn.execute(q.order_by(u.c.w)):
        av, rs, fr, tin, tout = (int(x or 0) for x in (r.available, r.reserved, r.frozen, r.tin, r.tout))
        rows.append(
            {
                "warehouse": r.w,
                "available": av,
                "reserved": rs,
                "frozen": fr,
                "in_transit_in": tin,
                "in_transit_out": tout,
                "on_hand": av + rs + fr,
            }
        )
    totals = {c.key: sum(r[c.key] for r in rows) for c in STOCK_COLUMNS[1:]}
    return Table(STOCK_COLUMNS, rows, {"totals": totals})


# --- alerts ---------------------------------------------------------------------------------------------

ALERT_KINDS = {
    "temperature": N_("Temperature excursion"),
    "discrepancy": N_("Stock discrepancy"),
    "site_offline": N_("Site offline"),
    "device": N_("Device not OK"),
    "work_order_sla": N_("Work order past its SLA"),
    "slow_zone": N_("Slow or idle zone"),
}
ZONE_PACE = {"slow": N_("Slower than usual"), "idle": N_("Idle")}
WHAT = {**STATES, **ALARMS, **DISCREPANCY_KINDS, **WORK_ORDER_TYPES, **ZONE_PACE}
SLOW_ZONE_SHARE = 0.5
"""A zone is slow when its last full hour saw under this share of its usual floor ops at that hour of day
(idle when it saw none)."""
SLOW_ZONE_MIN_OPS = 10.0
"""The usual pace, in floor ops an hour, below which a zone is never called slow: a quiet zone (or a
night shift's hour) is not an alert."""
SLOW_ZONE_DAYS = 7
"""The usual pace is the mean of the same hour of day over this many days before."""

ALERT_COLUMNS = [
    Column("severity", N_("Severity"), "label", labels=STATES),
    Column("kind", N_("Alert"), "label", labels=ALERT_KINDS),
    Column("warehouse", N_("Warehouse"), "code"),
    Column("subject", N_("Where"), "code"),
    Column("what", N_("What"), "label", labels=WHAT),
    Column("detail", N_("Detail"), "code"),
    Column("since", N_("Since"), "datetime"),
]


def _temperature_alerts(conn: Connection, f: Filters) -> list[dict[str, Any]]:
    g = gateways.c
    zone, sensor, alarm, state = (_payload(k) for k in ("zone", "sensor_id", "alarm", "state"))
    value, limit = _payload("value"), _payload("limit")
    rank = sa.func.row_number().over(partition_by=(ops.c.gateway_id, zone, sensor, alarm), order_by=ops.c.seq.desc())
    sub = (
        sa.select(
            g.warehouse,
            zone.label("zone"),
            sensor.label("sensor"),
            alarm.label("alarm"),
            state.label("state"),
            value.label("value"),
            limit.label("limit"),
            ops.c.occurred_at,
            rank.label("rank"),
        )
        .join(gateways, g.gateway_id == ops.c.gateway_id)
        .where(ops.c.kind == "temp_alarm")
    )
    if f.warehouse:
        sub = sub.where(g.warehouse == f.warehouse)
    s = sub.subquery()
    rows = conn.execute(sa.select(s).where(s.c.rank == 1, s.c.state == "raised").order_by(s.c.occurred_at))
    return [
        {
            "severity": "critical",
            "kind": "temperature",
            "warehouse": r.warehouse,
            "subject": f"{r.zone} / {r.sensor}",
            "what": r.alarm,
            "detail": f"{r.value} / {r.limit}" if r.value is not None else "",
            "since": r.occurred_at,
        }
        for r in rows
    ]


def _discrepancy_alerts(conn: Connection, f: Filters) -> list[dict[str, Any]]:
    d = discrepancies.c
    q = sa.select(discrepancies).where(d.status == "open").order_by(d.created_at.desc()).limit(200)
    if f.warehouse:
        q = q.where(d.warehouse == f.warehouse)
    return [
        {
            "severity": "warning",
            "kind": "discrepancy",
            "warehouse": r.warehouse,
            "subject": r.sku or "",
            "what": r.kind,
            "detail": "",
            "since": r.created_at,
        }
        for r in conn.execute(q)
    ]


def _work_order_alerts(conn: Connection, f: Filters, qc: QueryContext) -> list[dict[str, Any]]:
    """Open work orders past their SLA: the cloud's own (for a discrepancy) and the gateways' (synced as
    ``work_order`` ops into the same list, ``source = 'gateway'``), open longer than ``WORK_ORDER_SLA_H``."""
    cutoff = qc.now - timedelta(hours=qc.work_order_sla_h)
    w, d = work_orders.c, discrepancies.c
    q = (
        sa.select(
            w.id,
            w.warehouse,
            w.created_at,
            w.source,
            w.external_id,
            w.assignee_role,
            w.location,
            sa.func.coalesce(w.wo_type, d.kind).label("what"),
        )
        .select_from(work_orders.outerjoin(discrepancies, d.id == w.discrepancy_id))
        .where(w.status != "closed", w.created_at < cutoff)
        .order_by(w.created_at)
        .limit(200)
    )
    if f.warehouse:
        q = q.where(w.warehouse == f.warehouse)
    return [
        {
            "severity": "warning",
            "kind": "work_order_sla",
            "warehouse": r.warehouse,
            "subject": r.external_id or f"WO-{r.id}",
            "what": r.what or "",
            "detail": " / ".join(x for x in (r.location, r.assignee_role) if x),
            "since": r.created_at,
        }
        for r in conn.execute(q)
    ]


def _zone_alerts(conn: Connection, f: Filters, qc: QueryContext) -> list[dict[str, Any]]:
    """Zones whose floor moved much less than usual in the last full hour: its ops (``fact_zone_hourly``,
    kept by the rollup) against the mean of the same hour on the days before. Comparing an hour with the
    same hour of other days keeps shift patterns (a quiet night) from raising alerts."""
    hour = qc.now.astimezone(UTC).replace(minute=0, second=0, microsecond=0) - timedelta(hours=1)
    before = [hour - timedelta(days=k) for k in range(1, SLOW_ZONE_DAYS + 1)]
    z = fact_zone_hourly.c
    last = sa.func.sum(sa.case((z.hour == hour, z.ops), else_=0))
    usual = sa.func.sum(sa.case((z.hour != hour, z.ops), else_=0))
    q = (
        sa.select(z.warehouse, z.zone, last.label("last"), usual.label("usual"))
        .where(z.hour.in_([hour, *before]))
        .group_by(z.warehouse, z.zone)
        .having(usual >= SLOW_ZONE_MIN_OPS * SLOW_ZONE_DAYS)
    )
    if f.warehouse:
        q = q.where(z.warehouse == f.warehouse)
    out = []
    for r in conn.execute(q):
        mean = float(r.usual) / SLOW_ZONE_DAYS
        if int(r.last) < SLOW_ZONE_SHARE * mean:
            out.append(
                {
                    "severity": "warning",
                    "kind": "slow_zone",
                    "warehouse": r.warehouse,
                    "subject": r.zone,
                    "what": "idle" if int(r.last) == 0 else "slow",
                    "detail": f"{int(r.last)} / {mean:.0f} ops/h",
                    "since": hour,
                }
            )
    return out


def _site_alerts(site_rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    out = []
    for s in site_rows:
        if s["state"] == "offline":
            out.append(
                {
                    "severity": "critical",
                    "kind": "site_offline",
                    "warehouse": s["warehouse"],
                    "subject": s["gateway_id"],
                    "what": "offline",
                    "detail": "",
                    "since": s["last_seen"],
                }
            )
            continue
        if s["state"] != "online":
            continue
        for name, part in sorted(s["parts"].items()):
            if name != "sync" and part.get("status") in ("down", "degraded"):
                out.append(
                    {
                        "severity": "critical" if part["status"] == "down" else "warning",
                        "kind": "device",
                        "warehouse": s["warehouse"],
                        "subject": f"{s['gateway_id']} / {name}",
                        "what": part["status"],
                        "detail": str(part.get("detail", ""))[:80],
                        "since": _parse_ts(part.get("since")),
                    }
                )
    return out


def _parse_ts(text: Any) -> datetime | None:
    try:
        return datetime.fromisoformat(str(text)) if text else None
    except ValueError:
        return None


_SEVERITY_ORDER = {"critical": 0, "warning": 1}


def alerts(conn: Connection, f: Filters, qc: QueryContext) -> Table:
    site_rows = sites(conn, f, qc).rows
    rows = (
        _temperature_alerts(conn, f)
        + _site_alerts(site_rows)
        + _work_order_alerts(conn, f, qc)
        + _discrepancy_alerts(conn, f)
        + _zone_alerts(conn, f, qc)
    )
    for r in rows:
        r["since"] = _aware(r["since"], qc.now)
    rows.sort(key=lambda r: (_SEVERITY_ORDER[r["severity"]], r["kind"], r["warehouse"], r["subject"]))
    counts = {k: sum(1 for r in rows if r["kind"] == k) for k in ALERT_KINDS}
    return Table(ALERT_COLUMNS, rows, {"counts": counts, "critical": sum(r["severity"] == "critical" for r in rows)})


# --- transfers in flight --------------------------------------------------------------------------------

TRANSFER_COLUMNS = [
    Column("transfer_id", N_("Transfer"), "code"),
    Column("from_warehouse", N_("From"), "code"),
    Column("to_warehouse", N_("To"), "code"),
    Column("sku", N_("SKU"), "code"),
    Column("shipped", N_("Shipped"), "int"),
    Column("received", N_("Received"), "int"),
    Column("in_transit", N_("In transit"), "int"),
    Column("shipped_at", N_("Shipped at"), "datetime"),
    Column("eta", N_("ETA"), "datetime"),
]


def transfers(conn: Connection, f: Filters, qc: QueryContext) -> Table:
    t = transit.c
    q = sa.select(transit).where(t.out_qty > t.in_qty).order_by(t.transfer_id, t.sku).limit(200)
    if f.warehouse:
        q = q.where(sa.or_(t.from_warehouse == f.warehouse, t.to_warehouse == f.warehouse))
    lines = conn.execute(q).all()
    ids = sorted({r.transfer_id for r in lines})
    shipped_at: dict[str, datetime] = {}
    eta: dict[str, datetime | None] = {}
    if ids:
        tid = _payload("transfer_id")
        for r in conn.execute(
            sa.select(tid.label("id"), sa.func.min(ops.c.occurred_at).label("at"))
            .where(ops.c.kind == "transfer_out", tid.in_(ids))
            .group_by(tid)
        ):
            shipped_at[r.id] = r.at
        body = sa.cast(commands.c.body, sa.JSON)
        cid = body["transfer_id"].as_string()
        for r in conn.execute(
            sa.select(cid.label("id"), body["eta"].as_string().label("eta")).where(
                commands.c.type == "transfer_order", cid.in_(ids)
            )
        ):
            eta[r.id] = _parse_ts(r.eta)
    rows = [
        {
            "transfer_id": r.transfer_id,
            "from_warehouse": r.from_warehouse,
            "to_warehouse": r.to_warehouse,
            "sku": r.sku,
            "shipped": r.out_qty,
            "received": r.in_qty,
            "in_transit": r.out_qty - r.in_qty,
            "shipped_at": _aware(shipped_at.get(r.transfer_id), qc.now),
            "eta": eta.get(r.transfer_id),
        }
        for r in lines
    ]
    return Table(TRANSFER_COLUMNS, rows, {"open_transfers": len(ids)})


# --- activity over the window ----------------------------------------------------------------------------

ACTIVITY_COLUMNS = [
    Column("hour", N_("Hour"), "datetime"),
    Column("kind", N_("Operation"), "label", labels=OP_KINDS),
    Column("ops", N_("Ops"), "int"),
]


def activity(conn: Connection, f: Filters, qc: QueryContext) -> Table:
    """Ops per hour and kind over the window: from the hourly facts on PostgreSQL (kept by the rollup),
    straight from ``ops`` on SQLite (a small, single-site deployment)."""
    since = f.since(qc.now)
    if qc.postgres:
        a = fact_activity_hourly.c
        q = sa.select(a.hour, a.kind, sa.func.sum(a.ops).label("n")).where(a.hour >= since).group_by(a.hour, a.kind)
        if f.warehouse:
            q = q.where(a.warehouse == f.warehouse)
    else:
        hour = sa.func.strftime("%Y-%m-%dT%H:00:00+00:00", ops.c.occurred_at)
        q = (
            sa.select(hour.label("hour"), ops.c.kind, sa.func.count().label("n"))
            .where(ops.c.occurred_at >= since)
            .group_by(hour, ops.c.kind)
        )
        if f.warehouse:
            q = q.join(gateways, gateways.c.gateway_id == ops.c.gateway_id).where(gateways.c.warehouse == f.warehouse)
    rows = []
    for r in conn.execute(q.order_by("hour")):
        at: datetime = r.hour if isinstance(r.hour, datetime) else datetime.fromisoformat(r.hour)
        rows.append({"hour": _aware(at, qc.now), "kind": r.kind, "ops": int(r.n)})
    return Table(ACTIVITY_COLUMNS, rows, {"ops": sum(r["ops"] for r in rows)})


def known_warehouses(conn: Connection) -> list[str]:
    """Every warehouse the network knows (a gateway's, or one that holds stock) for the filter."""
    u = sa.union(sa.select(gateways.c.warehouse), sa.select(sb.warehouse).distinct()).subquery()
    return [r[0] for r in conn.execute(sa.select(u.c[0]).order_by(u.c[0]))]


# --- order fulfilment -----------------------------------------------------------------------------------

ORDER_COLUMNS = [
    Column("warehouse", N_("Warehouse"), "code"),
    Column("orders", N_("Orders"), "int"),
    Column("waiting", N_("Not started"), "int"),
    Column("picking", N_("Picking"), "int"),
    Column("shipped", N_("Shipped"), "int"),
    Column("late", N_("Late"), "int"),
    Column("progress", N_("Shipped share"), "pct"),
]


def order_fulfilment(conn: Connection, f: Filters, qc: QueryContext) -> Table:
    """Orders routed in the window, per shipping warehouse: how many are not started, being picked and
    shipped (from the gateways' pick and ship ops carrying the order id), and how many are past their
    ship date unshipped. One statement: the ops are grouped per order and warehouse in the database."""
    since = f.since(qc.now)
    s, o, g = order_shipments.c, orders.c, gateways.c
    # PostgreSQL: the expression of ``ix_ops_order_id`` (migration 0006), so the ops of the window's
    # orders are found through it instead of parsing every pick and ship op of the window
    oid = sa.literal_column(ORDER_ID_SQL) if qc.postgres else _payload("order_id")
    routed = sa.select(o.order_id).where(o.created_at >= since)
    done = (
        sa.select(
            g.warehouse.label("w"),
            oid.label("oid"),
            sa.func.max(sa.case((ops.c.kind == "ship", 1), else_=0)).label("shipped"),
        )
        .join(gateways, g.gateway_id == ops.c.gateway_id)
        .where(ops.c.kind.in_(("pick", "ship")), oid.in_(routed))
        .group_by(g.warehouse, oid)
    ).subquery()
    shipped = sa.func.coalesce(done.c.shipped, 0) == 1
    picking = sa.and_(done.c.oid.is_not(None), sa.not_(shipped))
    waiting = done.c.oid.is_(None)
    q = (
        sa.select(
            s.warehouse,
            sa.func.count().label("orders"),
            sa.func.sum(sa.case((waiting, 1), else_=0)).label("waiting"),
            sa.func.sum(sa.case((picking, 1), else_=0)).label("picking"),
            sa.func.sum(sa.case((shipped, 1), else_=0)).label("shipped"),
            sa.func.sum(sa.case((sa.and_(sa.not_(shipped), s.ship_date < qc.now.date()), 1), else_=0)).label("late"),
        )
        .select_from(
            order_shipments.join(orders, o.order_id == s.order_id).outerjoin(
                done, sa.and_(done.c.oid == s.order_id, done.c.w == s.warehouse)
            )
        )
        .where(o.created_at >= since)
        .group_by(s.warehouse)
        .order_by(s.warehouse)
    )
    if f.warehouse:
        q = q.where(s.warehouse == f.warehouse)
    rows = []
    for r in conn.execute(q):
        n = int(r.orders)
        row = {k: int(getattr(r, k) or 0) for k in ("orders", "waiting", "picking", "shipped", "late")}
        rows.append({"warehouse": r.warehouse, **row, "progress": (row["shipped"] / n) if n else None})
    uq = sa.select(sa.func.count()).select_from(orders).where(o.created_at >= since, o.status == "unroutable")
    if f.warehouse:
        uq = uq.where(sa.false())  # an unroutable order has no warehouse
    totals = {k: sum(r[k] for r in rows) for k in ("orders", "waiting", "picking", "shipped", "late")}
    return Table(ORDER_COLUMNS, rows, {"totals": totals, "unroutable": int(conn.execute(uq).scalar_one())})


# --- transfer orders in flight ----------------------------------------------------------------------------

TRANSFER_ORDER_COLUMNS = [
    Column("transfer_id", N_("Transfer"), "code"),
    Column("state", N_("State"), "label", labels=TRANSFER_STATES),
    Column("from_warehouse", N_("From"), "code"),
    Column("to_warehouse", N_("To"), "code"),
    Column("units", N_("Units"), "int"),
    Column("in_transit", N_("In transit"), "int"),
    Column("shipped_at", N_("Shipped at"), "datetime"),
    Column("eta", N_("ETA"), "datetime"),
    Column("late", N_("Late"), "label", labels=STATES),
]


def transfer_orders_in_flight(conn: Connection, f: Filters, qc: QueryContext) -> Table:
    """Transfer orders released, in transit or received but not closed, with what is on the road
    (shipped less received, summed in SQL from ``transit``) and the ETA; late when the ETA has passed."""
    t, tr = transfer_orders.c, transit.c
    road = sa.select(tr.transfer_id, sa.func.sum(_in_transit(tr)).label("road")).group_by(tr.transfer_id).subquery()
    q = (
        sa.select(
            t.transfer_id,
            t.status,
            t.from_warehouse,
            t.to_warehouse,
            t.lines,
            t.shipped_at,
            t.released_at,
            t.eta,
            sa.func.coalesce(road.c.road, 0).label("road"),
        )
        .select_from(transfer_orders.outerjoin(road, road.c.transfer_id == t.transfer_id))
        .where(t.status.in_(IN_FLIGHT))
        .order_by(sa.func.coalesce(t.eta, t.released_at), t.transfer_id)
        .limit(200)
    )
    if f.warehouse:
        q = q.where(sa.or_(t.from_warehouse == f.warehouse, t.to_warehouse == f.warehouse))
    rows = []
    for r in conn.execute(q):
        eta = _aware(r.eta, qc.now)
        units = sum(int(ln.get("qty", 0)) for ln in json.loads(r.lines or "[]"))
        rows.append(
            {
                "transfer_id": r.transfer_id,
                "state": r.status,
                "from_warehouse": r.from_warehouse,
                "to_warehouse": r.to_warehouse,
                "units": units,
                "in_transit": int(r.road),
                "shipped_at": _aware(r.shipped_at, qc.now),
                "eta": eta,
                "late": "late" if eta is not None and eta < qc.now and r.status != "received" else None,
            }
        )
    by_state = {s: sum(1 for r in rows if r["state"] == s) for s in IN_FLIGHT}
    late = sum(1 for r in rows if r["late"])
    return Table(
        TRANSFER_ORDER_COLUMNS, rows, {"by_state": by_state, "late": late, "units": sum(r["in_transit"] for r in rows)}
    )


# --- forecasts against actuals ---------------------------------------------------------------------------

FORECAST_COLUMNS = [
    Column("sku", N_("SKU"), "code"),
    Column("warehouse", N_("Warehouse"), "code"),
    Column("model", N_("Model"), "code"),
    Column("mae", N_("Backtest error (MAE)"), "num", digits=1),
    Column("actual_7d", N_("Actual, last 7 days"), "int"),
    Column("forecast_7d", N_("Forecast, next 7 days"), "int"),
    Column("safety_stock", N_("Safety stock"), "int"),
]
FORECAST_DAYS_AHEAD = 14


def _latest_run(conn: Connection) -> Any:
    pr = planning_runs.c
    return conn.execute(
        sa.select(pr.id, pr.finished_at, pr.history_end)
        .where(pr.status == "done", pr.history_end.is_not(None))
        .order_by(pr.id.desc())
        .limit(1)
    ).first()


def _stored_totals(conn: Connection, run_id: int, warehouse: str | None, days: int) -> list[list[float]] | None:
    """Per forecast day: mean, low and high summed when the run was stored (``forecast_totals``), over
    the warehouse filter; None for a run stored before those totals existed."""
    ft = forecast_totals.c
    q = (
        sa.select(ft.day, sa.func.sum(ft.mean).label("mean"), sa.func.sum(ft.low).label("lo"))
        .add_columns(sa.func.sum(ft.high).label("hi"))
        .where(ft.run_id == run_id, ft.day < days)
        .group_by(ft.day)
        .order_by(ft.day)
    )
    if warehouse:
        q = q.where(ft.warehouse == warehouse)
    rows = conn.execute(q).all()
    if not rows:
        has_any = conn.execute(sa.select(ft.day).where(ft.run_id == run_id).limit(1)).first()
        return [] if has_any else None
    return [
        [float(r.mean), float(r.lo if r.lo is not None else r.mean), float(r.hi if r.hi is not None else r.mean)]
        for r in rows
    ]


def _sum_forecast(conn: Connection, run_id: int, warehouse: str | None, days: int, postgres: bool) -> list[list[float]]:
    """Per forecast day: the sum over the run's series of the mean and of the 80 % interval's bounds,
    read from the JSON lists in the database (PostgreSQL: each parsed once as jsonb, one column a day;
    SQLite ``json_each``), so no series is loaded into Python. For runs stored without totals."""
    if postgres:
        # each series' JSON parsed once (jsonb), then one sum per day and bound in a single pass
        cols = ", ".join(
            f"SUM((m->>{d})::float), SUM((iv->0->>{d})::float), SUM((iv->1->>{d})::float)" for d in range(days)
        )
        sql = f"""
        WITH s AS MATERIALIZED (
          SELECT f.mean::jsonb AS m, f.intervals::jsonb -> '80' AS iv FROM forecasts f
          WHERE f.run_id = :run AND (CAST(:wh AS text) IS NULL OR f.warehouse = :wh))
        SELECT {cols} FROM s"""
        row = conn.execute(sa.text(sql), {"run": run_id, "wh": warehouse}).one()
        out = []
        for d in range(days):
            mean, lo, hi = row[3 * d], row[3 * d + 1], row[3 * d + 2]
            if mean is None:
                break
            out.append([float(mean), float(lo if lo is not None else mean), float(hi if hi is not None else mean)])
        return out
    sql = """
        SELECT CAST(m.key AS INTEGER) AS d, SUM(m.value) AS mean,
               SUM(json_extract(f.intervals, '$."80"[0][' || m.key || ']')) AS lo,
               SUM(json_extract(f.intervals, '$."80"[1][' || m.key || ']')) AS hi
        FROM forecasts f, json_each(f.mean) AS m
        WHERE f.run_id = :run AND (:wh IS NULL OR f.warehouse = :wh) AND CAST(m.key AS INTEGER) < :days
        GROUP BY m.key ORDER BY CAST(m.key AS INTEGER)"""
    rows = conn.execute(sa.text(sql), {"run": run_id, "wh": warehouse, "days": days}).all()
    return [
        [
            float(r.mean or 0),
            float(r.lo if r.lo is not None else r.mean or 0),
            float(r.hi if r.hi is not None else r.mean or 0),
        ]
        for r in rows
    ]


def forecasts_vs_actuals(conn: Connection, f: Filters, qc: QueryContext) -> Table:
    """The latest planning run's forecast (summed over the SKUs of the warehouse filter, with the 80 %
    interval) against the demand that happened: actual days over the time window (a week at least),
    then the forecast days; and the largest series with their backtest error."""
    run = _latest_run(conn)
    if run is None:
        return Table(FORECAST_COLUMNS, [], {"run": None, "days": [], "actual": [], "forecast": []})
    start: date = run.history_end
    back = max(7, -(-int(WINDOWS[f.window][0].total_seconds()) // 86_400))
    dh = demand_history.c
    aq = (
        sa.select(dh.day, sa.func.sum(dh.shipped + dh.imported).label("q"))
        .where(dh.day >= start - timedelta(days=back), dh.day < start + timedelta(days=FORECAST_DAYS_AHEAD))
        .group_by(dh.day)
    )
    if f.warehouse:
        aq = aq.where(dh.warehouse == f.warehouse)
    actual = {r.day: int(r.q or 0) for r in conn.execute(aq)}
    stored = _stored_totals(conn, run.id, f.warehouse, FORECAST_DAYS_AHEAD)
    ahead = stored if stored is not None else _sum_forecast(conn, run.id, f.warehouse, FORECAST_DAYS_AHEAD, qc.postgres)
    days = [start - timedelta(days=back - i) for i in range(back)] + [
        start + timedelta(days=i) for i in range(len(ahead))
    ]
    today = qc.now.date()
    # the largest series: forecast volume of the first week, summed in SQL from the JSON list (parsed
    # once a series: the materialized CTE keeps PostgreSQL from parsing it again for every day)
    wh_clause = "AND f.warehouse = :wh" if f.warehouse else ""
    if stored is not None:  # each series' first week was summed when the run was stored (indexed)
        top = f"""
        SELECT f.sku, f.warehouse, f.model, f.mae, f.safety_stock, f.week_total AS f7 FROM forecasts f
        WHERE f.run_id = :run {wh_clause} ORDER BY f.week_total DESC, f.sku LIMIT 10"""
    elif qc.postgres:
        week = " + ".join(f"COALESCE((m->>{d})::float, 0)" for d in range(7))
        top = f"""
        WITH s AS MATERIALIZED (
          SELECT f.sku, f.warehouse, f.model, f.mae, f.safety_stock, f.mean::jsonb AS m FROM forecasts f
          WHERE f.run_id = :run {wh_clause})
        SELECT sku, warehouse, model, mae, safety_stock, {week} AS f7 FROM s ORDER BY f7 DESC, sku LIMIT 10"""
    else:
        top = f"""
        SELECT f.sku, f.warehouse, f.model, f.mae, f.safety_stock,
               (SELECT SUM(value) FROM json_each(f.mean) WHERE CAST(key AS INTEGER) < 7) AS f7
        FROM forecasts f WHERE f.run_id = :run {wh_clause} ORDER BY f7 DESC, f.sku LIMIT 10"""
    tq = sa.text(top).bindparams(run=run.id, **({"wh": f.warehouse} if f.warehouse else {}))
    series = conn.execute(tq).all()
    past = {}
    if series:
        pq = (
            sa.select(dh.sku, dh.warehouse, sa.func.sum(dh.shipped + dh.imported).label("q"))
            .where(
                dh.day >= start - timedelta(days=7),
                dh.day < start,
                sa.tuple_(dh.sku, dh.warehouse).in_([(s.sku, s.warehouse) for s in series]),
            )
            .group_by(dh.sku, dh.warehouse)
        )
        past = {(r.sku, r.warehouse): int(r.q or 0) for r in conn.execute(pq)}
    rows = [
        {
            "sku": s.sku,
            "warehouse": s.warehouse,
            "model": s.model,
            "mae": s.mae,
            "actual_7d": past.get((s.sku, s.warehouse), 0),
            "forecast_7d": round(float(s.f7 or 0)),
            "safety_stock": round(s.safety_stock),
        }
        for s in series
    ]
    facts = {
        "run": run.id,
        "run_at": _aware(run.finished_at, qc.now),
        "days": days,
        "actual": [actual.get(d) if d < today else None for d in days],
        "forecast": [None] * back + [a[0] for a in ahead],
        "low": [None] * back + [a[1] for a in ahead],
        "high": [None] * back + [a[2] for a in ahead],
    }
    return Table(FORECAST_COLUMNS, rows, facts)
