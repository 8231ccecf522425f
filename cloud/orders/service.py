"""Routing orders against the network's stock and sending each parcel to its warehouse's gateway.

For each order: the network (carrier service lanes) and the stock available now are read, the pure
router (``routing.route_order``) decides, and in one transaction the order, its shipments and its
reason (English and Chinese) are stored and one ``outbound_order`` command is queued per chosen
warehouse. Stock already promised to an earlier order whose command the gateway has not applied yet
is not offered again, so two orders routed back to back do not both count on the same units.

An order id seen before is not routed again: the stored decision is returned (a retried POST or a
re-imported file is harmless).
"""

from __future__ import annotations

import json
from collections import Counter
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from cloud.audit.log import append as audit_append
from cloud.commands.queue import NoGateway, enqueue, gateway_of
from cloud.db.schema import commands, order_shipments, orders, stock_balance
from cloud.events.hub import EventBus
from cloud.network.store import load_network
from cloud.orders.models import OrderIn
from cloud.orders.routing import Order, RoutingDecision, route_order
from cloud.orders.routing import OrderLine as RouteLine
from sync.commands import OutboundOrderCommand
from sync.masterdata import OrderLine


def available_now(conn: Connection, skus: set[str]) -> Counter[tuple[str, str]]:
    """Units available per (warehouse, sku), less what pending outbound_order commands promised."""
    sb = stock_balance.c
    out: Counter[tuple[str, str]] = Counter()
    q = (
        sa.select(sb.warehouse, sb.sku, sa.func.sum(sb.qty))
        .where(sb.sku.in_(skus), sb.status == "available")
        .group_by(sb.warehouse, sb.sku)
    )
    for wh, sku, qty in conn.execute(q):
        out[(wh, sku)] += int(qty)
    s, c = order_shipments.c, commands.c
    pending = sa.select(s.warehouse, s.lines).join(commands, c.command_id == s.command_id).where(c.status == "pending")
    for wh, lines in conn.execute(pending):
        for ln in json.loads(lines):
            if ln["sku"] in skus:
                out[(wh, ln["sku"])] -= int(ln["qty"])
    return out


def _status(decision: RoutingDecision) -> str:
    if not decision.shipments:
        return "unroutable"
    if decision.backorder:
        return "partial"
    return "split" if decision.split else "routed"


def _lines_for(order: OrderIn, sku_qty: dict[str, int]) -> list[OrderLine]:
    """The order's lines (with their line numbers and lots) for the quantities one parcel carries."""
    left = dict(sku_qty)
    out = []
    for ln in order.lines:
        take = min(ln.qty, left.get(ln.sku, 0))
        if take > 0:
            out.append(OrderLine(line=ln.line, sku=ln.sku, qty=take, lot=ln.lot))
            left[ln.sku] -= take
    return out


def route_one(
    conn: Connection, bus: EventBus, order: OrderIn, *, now: datetime, actor: str, source: str, max_split: int
) -> dict[str, Any]:
    """Route and store one order inside the caller's transaction; returns the stored order."""
    existing = get_order(conn, order.order_id)
    if existing is not None:
        return existing
    network = load_network(conn)
    stock = available_now(conn, {ln.sku for ln in order.lines})
    decision = route_order(
        Order(order.order_id, order.region, tuple(RouteLine(ln.sku, ln.qty) for ln in order.lines)),
        network,
        stock,
        now,
        max_split=max_split,
    )
    conn.execute(
        orders.insert().values(
            order_id=order.order_id,
            region=order.region,
            customer=order.customer,
            lines=json.dumps([ln.model_dump(mode="json") for ln in order.lines]),
            status=_status(decision),
            reason_code=decision.reason.code,
            reason=decision.reason.text("en"),
            reason_zh=decision.reason.text("zh"),
            backorder=json.dumps([{"sku": b.sku, "qty": b.qty} for b in decision.backorder]),
            source=source,
            created_at=now,
            created_by=actor,
        )
    )
    for sh in decision.shipments:
        lines = _lines_for(order, {ln.sku: ln.qty for ln in sh.lines})
        try:
            gateway_id: str | None = gateway_of(conn, sh.warehouse)
        except NoGateway:
            gateway_id = None
        command_id = None
        if gateway_id is not None:
            suffix = f"-{sh.warehouse}" if decision.split else ""
            command_id = f"OO-{order.order_id}{suffix}"[:64]
            enqueue(
                conn,
                bus,
                gateway_id=gateway_id,
                command_type="outbound_order",
                body=OutboundOrderCommand(
                    id=f"{order.order_id}{suffix}"[:64], customer=order.customer, carrier=sh.carrier, lines=lines
                ),
                command_id=command_id,
                actor=actor,
                now=now,
            )
        conn.execute(
            order_shipments.insert().values(
                order_id=order.order_id,
                warehouse=sh.warehouse,
                gateway_id=gateway_id,
                command_id=command_id,
                carrier=sh.carrier,
                lines=json.dumps([ln.model_dump(mode="json") for ln in lines]),
                ship_date=sh.ship_date,
                delivery_date=sh.delivery_date,
                cost=sh.cost,
            )
        )
    audit_append(
        conn,
        now=now,
        actor=actor,
        action="order.route",
        target=f"order/{order.order_id}",
        detail={
            "status": _status(decision),
            "warehouses": [s.warehouse for s in decision.shipments],
            "reason": decision.reason.code,
        },
    )
    stored = get_order(conn, order.order_id)
    assert stored is not None
    return stored


def route_and_store(
    engine: Engine,
    bus: EventBus,
    batch: list[OrderIn],
    *,
    now: datetime,
    actor: str,
    source: str = "api",
    max_split: int = 3,
) -> list[dict[str, Any]]:
    """Route each order in its own transaction, in order (each sees the stock the previous ones took)."""
    out = []
    for order in batch:
        with engine.begin() as conn:
            if conn.dialect.name == "postgresql":  # one router at a time: each sees the promises before it
                conn.execute(sa.text("SELECT pg_advisory_xact_lock(:k)"), {"k": _ROUTING_LOCK})
            out.append(route_one(conn, bus, order, now=now, actor=actor, source=source, max_split=max_split))
    return out


_ROUTING_LOCK = 0x57494D53_0D15


def _order(r: Any, shipments: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "order_id": r.order_id,
        "region": r.region,
        "customer": r.customer,
        "lines": json.loads(r.lines),
        "status": r.status,
        "reason_code": r.reason_code,
        "reason": r.reason,
        "reason_zh": r.reason_zh,
        "backorder": [{"line": i + 1, **b} for i, b in enumerate(json.loads(r.backorder))],
        "shipments": shipments,
        "source": r.source,
        "created_at": r.created_at,
        "created_by": r.created_by,
    }


def _shipments(conn: Connection, order_ids: list[str]) -> dict[str, list[dict[str, Any]]]:
    s = order_shipments.c
    out: dict[str, list[dict[str, Any]]] = {}
    for r in conn.execute(
        sa.select(order_shipments).where(s.order_id.in_(order_ids)).order_by(s.order_id, s.warehouse)
    ):
        out.setdefault(r.order_id, []).append(
            {
                "warehouse": r.warehouse,
                "gateway_id": r.gateway_id,
                "command_id": r.command_id,
                "carrier": r.carrier,
                "lines": json.loads(r.lines),
                "ship_date": r.ship_date,
                "delivery_date": r.delivery_date,
                "cost": r.cost,
            }
        )
    return out


def get_order(conn: Connection, order_id: str) -> dict[str, Any] | None:
    r = conn.execute(sa.select(orders).where(orders.c.order_id == order_id)).first()
    if r is None:
        return None
    return _order(r, _shipments(conn, [order_id]).get(order_id, []))


def list_orders(
    conn: Connection, *, warehouse: str | None, status: str | None, limit: int, offset: int
) -> list[dict[str, Any]]:
    o = orders.c
    q = sa.select(orders)
    if warehouse is not None:
        q = q.where(
            o.order_id.in_(sa.select(order_shipments.c.order_id).where(order_shipments.c.warehouse == warehouse))
        )
    if status is not None:
        q = q.where(o.status == status)
    rows = conn.execute(q.order_by(o.created_at, o.order_id).limit(limit).offset(offset)).all()
    ships = _shipments(conn, [r.order_id for r in rows])
    out = []
    for r in rows:
        mine = [s for s in ships.get(r.order_id, []) if warehouse is None or s["warehouse"] == warehouse]
        out.append(_order(r, mine))
    return out
