"""Read models over the ledger: balances per location, per warehouse and SKU, per transfer, per network SKU.

Everything is computed from ``stock_balance`` (signed sums per status) and ``transit`` (shipped and
received per transfer line) at query time; there is no second copy of the numbers to drift.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from cloud.db.schema import stock_balance, transfer_orders, transit

sb = stock_balance.c


def _status_sum(status: str) -> Any:
    return sa.func.coalesce(sa.func.sum(sa.case((sb.status == status, sb.qty), else_=0)), 0)


def _in_transit(t: Any) -> Any:
    """Shipped minus received, never below zero (an over receipt is a discrepancy, not negative transit)."""
    return sa.case((t.out_qty > t.in_qty, t.out_qty - t.in_qty), else_=0)


def by_location(
    conn: Connection,
    *,
    warehouse: str | None,
    sku: str | None,
    lot: str | None,
    location: str | None,
    limit: int,
    offset: int,
) -> list[dict[str, Any]]:
    avail, resv, qc, dmg = (_status_sum(s) for s in ("available", "reserved", "qc_hold", "damaged"))
    q = sa.select(
        sb.warehouse,
        sb.sku,
        sb.lot,
        sb.location,
        avail.label("available"),
        resv.label("reserved"),
        qc.label("qc_hold"),
        dmg.label("damaged"),
    ).group_by(sb.warehouse, sb.sku, sb.lot, sb.location)
    for col, val in ((sb.warehouse, warehouse), (sb.sku, sku), (sb.lot, lot), (sb.location, location)):
        if val is not None:
            q = q.where(col == val)
    q = q.order_by(sb.warehouse, sb.sku, sb.lot, sb.location).limit(limit).offset(offset)
    out = []
    for r in conn.execute(q):
        frozen = r.qc_hold + r.damaged
        out.append(
            {
                "warehouse": r.warehouse,
                "sku": r.sku,
                "lot": r.lot,
                "location": r.location,
                "on_hand": r.available + r.reserved + frozen,
                "available": r.available,
                "reserved": r.reserved,
                "qc_hold": r.qc_hold,
                "damaged": r.damaged,
                "frozen": frozen,
            }
        )
    return out


def by_warehouse_sku(
    conn: Connection, *, warehouse: str | None, sku: str | None, limit: int, offset: int
) -> list[dict[str, Any]]:
    """Per (warehouse, SKU), with transit in and out, so that a site with only inbound stock shows up."""
    t = transit.c
    zero = sa.literal(0)
    parts = [
        sa.select(
            sb.warehouse.label("w"),
            sb.sku.label("s"),
            sa.case((sb.status == "available", sb.qty), else_=0).label("av"),
            sa.case((sb.status == "reserved", sb.qty), else_=0).label("rs"),
            sa.case((sb.status.in_(("qc_hold", "damaged")), sb.qty), else_=0).label("fr"),
            zero.label("ti"),
            zero.label("to"),
        ),
        sa.select(t.to_warehouse, t.sku, zero, zero, zero, _in_transit(t), zero),
        sa.select(t.from_warehouse, t.sku, zero, zero, zero, zero, _in_transit(t)),
    ]
    u = sa.union_all(*parts).subquery()
    q = sa.select(
        u.c.w,
        u.c.s,
        sa.func.sum(u.c.av).label("available"),
        sa.func.sum(u.c.rs).label("reserved"),
        sa.func.sum(u.c.fr).label("frozen"),
        sa.func.sum(u.c.ti).label("in_transit_in"),
        sa.func.sum(u.c.to).label("in_transit_out"),
    ).group_by(u.c.w, u.c.s)
    if warehouse is not None:
        q = q.where(u.c.w == warehouse)
    if sku is not None:
        q = q.where(u.c.s == sku)
    q = q.order_by(u.c.w, u.c.s).limit(limit).offset(offset)
    out = []
    for r in conn.execute(q):
        available, reserved, frozen = int(r.available), int(r.reserved), int(r.frozen)
        tin, tout = int(r.in_transit_in), int(r.in_transit_out)
        out.append(
            {
                "warehouse": r.w,
                "sku": r.s,
                "on_hand": available + reserved + frozen,
                "available": available,
                "reserved": reserved,
                "frozen": frozen,
                "in_transit_in": tin,
                "in_transit_out": tout,
                "projected": available + tin,
            }
        )
    return out


def transfers(
    conn: Connection,
    *,
    warehouse: str | None,
    sku: str | None,
    transfer_id: str | None,
    open_only: bool,
    limit: int,
    offset: int,
) -> list[dict[str, Any]]:
    t = transit.c
    o = transfer_orders.c
    # the transfer order (when the cloud planned it) gives the ETA and the state
    q = sa.select(transit, o.eta, o.status).outerjoin(transfer_orders, o.transfer_id == t.transfer_id)
    if warehouse is not None:
        q = q.where(sa.or_(t.from_warehouse == warehouse, t.to_warehouse == warehouse))
    if sku is not None:
        q = q.where(t.sku == sku)
    if transfer_id is not None:
        q = q.where(t.transfer_id == transfer_id)
    if open_only:
        q = q.where(t.out_qty != t.in_qty)
    q = q.order_by(t.transfer_id, t.sku, t.lot).limit(limit).offset(offset)
    return [
        {
            "transfer_id": r.transfer_id,
            "sku": r.sku,
            "lot": r.lot,
            "from_warehouse": r.from_warehouse,
            "to_warehouse": r.to_warehouse,
            "shipped": r.out_qty,
            "received": r.in_qty,
            "in_transit": max(0, r.out_qty - r.in_qty),
            "eta": r.eta,
            "transfer_status": r.status,
        }
        for r in conn.execute(q)
    ]


def network(
    conn: Connection, *, sku: str | None, limit: int, offset: int, warehouse: str | None = None
) -> list[dict[str, Any]]:
    """Totals per SKU across every warehouse; transit counted once (it belongs to no warehouse yet).
    With ``warehouse``: that warehouse's stock and the transfers from or to it only.

    One grouped query over stock and transit, paged in SQL, so the cost follows the page, not the catalogue.
    """
    t = transit.c
    zero = sa.literal(0)
    stock_part = sa.select(
        sb.sku.label("s"),
        sa.case((sb.status == "available", sb.qty), else_=0).label("av"),
        sa.case((sb.status == "reserved", sb.qty), else_=0).label("rs"),
        sa.case((sb.status.in_(("qc_hold", "damaged")), sb.qty), else_=0).label("fr"),
        zero.label("tr"),
    )
    transit_part = sa.select(t.sku, zero, zero, zero, _in_transit(t))
    if warehouse is not None:
        stock_part = stock_part.where(sb.warehouse == warehouse)
        transit_part = transit_part.where(sa.or_(t.from_warehouse == warehouse, t.to_warehouse == warehouse))
    u = sa.union_all(stock_part, transit_part).subquery()
    q = sa.select(
        u.c.s,
        sa.func.sum(u.c.av).label("available"),
        sa.func.sum(u.c.rs).label("reserved"),
        sa.func.sum(u.c.fr).label("frozen"),
        sa.func.sum(u.c.tr).label("in_transit"),
    ).group_by(u.c.s)
    if sku is not None:
        q = q.where(u.c.s == sku)
    out = []
    for r in conn.execute(q.order_by(u.c.s).limit(limit).offset(offset)):
        available, reserved, frozen, in_transit = (int(v) for v in (r.available, r.reserved, r.frozen, r.in_transit))
        out.append(
            {
                "sku": r.s,
                "on_hand": available + reserved + frozen,
                "available": available,
                "reserved": reserved,
                "frozen": frozen,
                "in_transit": in_transit,
                "projected": available + in_transit,
            }
        )
    return out
