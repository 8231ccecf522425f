"""The transfer order's state machine.

    draft -> approved -> released -> in_transit -> received -> closed
      \\________\\___________________________________________-> cancelled (before release only)

- **draft**: made by a planner (``POST /v1/transfers``) or by approving a rebalancing recommendation.
  Worth less than ``[transfers] auto_approve_below`` (goods at cost price): approved at once by the
  system; otherwise a planner or an admin approves it.
- **released**: a ``transfer_order`` command is queued for the source warehouse's gateway (with
  ``release_on_approve``, at approval). Transport hears of it (webhook ``transfer.released``).
- **in_transit**: the source's ``transfer_out`` op reached the cloud. The stock is then in the transit
  ledger (``transit`` table), out of the source's available stock, and shows network-wide with the
  transfer's ETA (``GET /v1/stock/transit``, ``GET /v1/transfers``).
- **received**: the destination's ``transfer_in`` reached the cloud. A short or over receipt is a
  discrepancy with a work order (``cloud.ingest.ledger``); a lot that was not shipped is a
  ``transfer_wrong_lot`` discrepancy with its work order (here). A receipt that matches line by line
  closes the transfer at once; otherwise it stays received until a planner closes it. Goods moved under
a cancelled transfer open a ``transfer_after_cancel`` discrepancy (and its work order).

Ops drive the last three states and arrive whenever each gateway syncs: the state is recomputed from
the transit ledger each time, so a destination that syncs its receipt before the source syncs its
shipment (the source was offline) still ends in the right state, and nothing is lost.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from cloud.audit.log import append as audit_append
from cloud.commands.queue import NoGateway, enqueue, gateway_of
from cloud.db.schema import lanes, skus, transfer_orders, transit
from cloud.events.hub import EventBus
from cloud.ingest.ledger import Discrepancy
from cloud.planning.config import TransferSettings
from cloud.transfers.webhooks import enqueue_event
from sync.commands import TransferOrderCommand
from sync.masterdata import OrderLine
from sync.ops import Op, TransferInPayload, TransferOutPayload

STATES = ("draft", "approved", "released", "in_transit", "received", "closed", "cancelled")
SYSTEM = "system:auto-approve"


class TransferError(ValueError):
    """A step the transfer's state does not allow, or an input that cannot make a transfer (422/409)."""

    def __init__(self, message: str, status: int = 409) -> None:
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class Step:
    """What a step did: the row after it, and whether it queued a command."""

    row: dict[str, Any]
    command_id: str | None = None


def _row(conn: Connection, transfer_id: str, *, lock: bool = False) -> dict[str, Any]:
    q = sa.select(transfer_orders).where(transfer_orders.c.transfer_id == transfer_id)
    if lock and conn.dialect.name == "postgresql":
        q = q.with_for_update()
    r = conn.execute(q).first()
    if r is None:
        raise TransferError(f"unknown transfer {transfer_id!r}", 404)
    return dict(r._mapping)


def _value(conn: Connection, lines: list[OrderLine]) -> float:
    codes = {ln.sku for ln in lines}
    prices = dict(conn.execute(sa.select(skus.c.code, skus.c.cost_price).where(skus.c.code.in_(codes))).all())
    return round(sum(float(prices.get(ln.sku) or 0) * ln.qty for ln in lines), 2)


def _set(conn: Connection, transfer_id: str, now: datetime, **values: Any) -> dict[str, Any]:
    conn.execute(
        transfer_orders.update().where(transfer_orders.c.transfer_id == transfer_id).values(updated_at=now, **values)
    )
    return _row(conn, transfer_id)


def _audit(conn: Connection, now: datetime, actor: str, action: str, transfer_id: str, **detail: Any) -> None:
    audit_append(
        conn, now=now, actor=actor, action=f"transfer.{action}", target=f"transfer/{transfer_id}", detail=detail
    )


def create(
    conn: Connection,
    bus: EventBus,
    settings: TransferSettings,
    *,
    transfer_id: str,
    from_warehouse: str,
    to_warehouse: str,
    lines: list[OrderLine],
    actor: str,
    now: datetime,
    carrier: str = "",
    note: str = "",
    recommendation_id: int | None = None,
) -> Step:
    """A draft transfer (approved, and released, at once when worth less than ``auto_approve_below``)."""
    if from_warehouse == to_warehouse:
        raise TransferError("from_warehouse and to_warehouse must differ", 422)
    if conn.execute(
        sa.select(transfer_orders.c.transfer_id).where(transfer_orders.c.transfer_id == transfer_id)
    ).first():
        raise TransferError(f"transfer {transfer_id!r} exists already")
    lane = conn.execute(
        sa.select(lanes).where(lanes.c.origin == from_warehouse, lanes.c.destination == to_warehouse)
    ).first()
    if lane is None:
        raise TransferError(f"no lane {from_warehouse} -> {to_warehouse} in the network (add it first)", 422)
    units = sum(ln.qty for ln in lines)
    conn.execute(
        transfer_orders.insert().values(
            transfer_id=transfer_id,
            from_warehouse=from_warehouse,
            to_warehouse=to_warehouse,
            status="draft",
            lines=json.dumps([ln.model_dump(mode="json") for ln in lines]),
            value=_value(conn, lines),
            transport_cost=round(lane.cost_per_shipment + lane.cost_per_unit * units, 2),
            transit_days=lane.transit_days,
            carrier=carrier,
            recommendation_id=recommendation_id,
            created_at=now,
            created_by=actor,
            updated_at=now,
            note=note,
        )
    )
    row = _row(conn, transfer_id)
    _audit(conn, now, actor, "create", transfer_id, value=row["value"], lines=len(lines), units=units)
    if row["value"] < settings.auto_approve_below:
        return approve(conn, bus, settings, transfer_id, actor=SYSTEM, now=now)
    return Step(row)


def approve(
    conn: Connection, bus: EventBus, settings: TransferSettings, transfer_id: str, *, actor: str, now: datetime
) -> Step:
    row = _row(conn, transfer_id, lock=True)
    if row["status"] != "draft":
        raise TransferError(f"transfer {transfer_id} is {row['status']}; only a draft can be approved")
    row = _set(conn, transfer_id, now, status="approved", approved_by=actor, approved_at=now)
    _audit(conn, now, actor, "approve", transfer_id, value=row["value"])
    if settings.release_on_approve:
        return release(conn, bus, transfer_id, actor=actor, now=now)
    return Step(row)


def release(conn: Connection, bus: EventBus, transfer_id: str, *, actor: str, now: datetime) -> Step:
    """Send the ``transfer_order`` command to the source gateway; transport hears of it."""
    row = _row(conn, transfer_id, lock=True)
    if row["status"] != "approved":
        raise TransferError(f"transfer {transfer_id} is {row['status']}; only an approved one can be released")
    try:
        gateway_id = gateway_of(conn, row["from_warehouse"])
    except NoGateway as exc:
        raise TransferError(str(exc)) from None
    eta = now + timedelta(days=row["transit_days"])
    lines = [OrderLine.model_validate(x) for x in json.loads(row["lines"])]
    body = TransferOrderCommand(
        transfer_id=transfer_id,
        from_warehouse=row["from_warehouse"],
        to_warehouse=row["to_warehouse"],
        lines=lines,
        eta=eta,
        carrier=row["carrier"],
        note=row["note"][:500],
    )
    command_id = f"TO-{transfer_id}"[:64]
    enqueue(
        conn,
        bus,
        gateway_id=gateway_id,
        command_type="transfer_order",
        body=body,
        command_id=command_id,
        actor=actor,
        now=now,
    )
    row = _set(conn, transfer_id, now, status="released", released_at=now, command_id=command_id, eta=eta)
    _audit(conn, now, actor, "release", transfer_id, gateway_id=gateway_id, command_id=command_id)
    enqueue_event(conn, "transfer.released", f"transfer/{transfer_id}", _event(row), now)
    return Step(row, command_id)


def reject(conn: Connection, transfer_id: str, *, actor: str, now: datetime, note: str = "") -> Step:
    """Cancel a transfer that has not left (draft or approved)."""
    row = _row(conn, transfer_id, lock=True)
    if row["status"] not in ("draft", "approved"):
        raise TransferError(f"transfer {transfer_id} is {row['status']}; only a draft or approved one can be cancelled")
    row = _set(conn, transfer_id, now, status="cancelled", closed_at=now)
    _audit(conn, now, actor, "cancel", transfer_id, note=note)
    return Step(row)


def close(conn: Connection, transfer_id: str, *, actor: str, now: datetime, note: str = "") -> Step:
    """Close a received transfer whose discrepancy a person has dealt with."""
    row = _row(conn, transfer_id, lock=True)
    if row["status"] != "received":
        raise TransferError(f"transfer {transfer_id} is {row['status']}; only a received one can be closed")
    row = _set(conn, transfer_id, now, status="closed", closed_at=now)
    _audit(conn, now, actor, "close", transfer_id, note=note)
    enqueue_event(conn, "transfer.closed", f"transfer/{transfer_id}", _event(row), now)
    return Step(row)


def _event(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "transfer_id": row["transfer_id"],
        "status": row["status"],
        "from_warehouse": row["from_warehouse"],
        "to_warehouse": row["to_warehouse"],
        "carrier": row["carrier"],
        "eta": row["eta"].isoformat() if row["eta"] else None,
        "lines": json.loads(row["lines"]),
    }


# --- driven by ops --------------------------------------------------------------------------------

TRANSFER_KINDS = (TransferOutPayload, TransferInPayload)


def on_ops(conn: Connection, new_ops: Iterable[Op], now: datetime) -> list[Discrepancy]:
    """Move the transfers a batch's ``transfer_out`` / ``transfer_in`` ops touch; returns wrong-lot
    discrepancies to record (short and over are the ledger's)."""
    touched: dict[str, datetime] = {}
    for op in new_ops:
        if isinstance(op.payload, TRANSFER_KINDS):
            touched.setdefault(op.payload.transfer_id, op.occurred_at)
    found: list[Discrepancy] = []
    for transfer_id, at in sorted(touched.items()):
        q = sa.select(transfer_orders).where(transfer_orders.c.transfer_id == transfer_id)
        if conn.dialect.name == "postgresql":
            q = q.with_for_update()
        r = conn.execute(q).first()
        if r is None or r.status == "closed":
            continue  # a transfer the cloud did not plan (the edge's own), or one already settled
        if r.status == "cancelled":  # goods moved under a transfer the planner called off: a person looks
            found.append(
                Discrepancy(
                    dkey=f"transfer_cancelled|{transfer_id}",
                    kind="transfer_after_cancel",
                    warehouse=r.from_warehouse,
                    sku=None,
                    detail={"transfer_id": transfer_id, "to_warehouse": r.to_warehouse, "at": at.isoformat()},
                )
            )
            continue
        found += _advance(conn, dict(r._mapping), at, now)
    return found


def _advance(conn: Connection, row: dict[str, Any], at: datetime, now: datetime) -> list[Discrepancy]:
    tid = row["transfer_id"]
    rows = list(conn.execute(sa.select(transit).where(transit.c.transfer_id == tid)).all())
    shipped = sum(r.out_qty for r in rows)
    received = sum(r.in_qty for r in rows)
    values: dict[str, Any] = {}
    events: list[str] = []
    if shipped > 0 and row["shipped_at"] is None:
        values["shipped_at"] = at
        events.append("transfer.shipped")
    status = row["status"]
    if received > 0:
        target = "received"
    elif shipped > 0:
        target = "in_transit"
    else:
        target = status
    found: list[Discrepancy] = []
    if target == "received":
        if row["received_at"] is None:
            values["received_at"] = at
            events.append("transfer.received")
        found = _wrong_lots(row, rows, shipped)
        ordered = sum(int(x["qty"]) for x in json.loads(row["lines"]))
        exact = shipped > 0 and not found and all(r.out_qty == r.in_qty for r in rows) and shipped >= ordered
        if exact:
            target = "closed"
            values["closed_at"] = now
            events.append("transfer.closed")
    if target != status or values:
        values["status"] = target
        conn.execute(
            transfer_orders.update().where(transfer_orders.c.transfer_id == tid).values(updated_at=now, **values)
        )
        if target != status:
            audit_append(
                conn,
                now=now,
                actor="system:ops",
                action=f"transfer.{target}",
                target=f"transfer/{tid}",
                detail={"shipped": shipped, "received": received, "from": status},
            )
        after = {**row, **values}
        for name in events:
            enqueue_event(
                conn, name, f"transfer/{tid}", {**_event(after), "shipped": shipped, "received": received}, now
            )
    return found


def _wrong_lots(row: dict[str, Any], rows: list[Any], shipped: int) -> list[Discrepancy]:
    """A lot received that the source never shipped under this transfer (once it has shipped something)."""
    if shipped <= 0:
        return []
    shipped_lots = {(r.sku, r.lot) for r in rows if r.out_qty > 0}
    ordered_lots = {(x["sku"], x.get("lot", "")) for x in json.loads(row["lines"]) if x.get("lot")}
    out = []
    for r in rows:
        if r.in_qty > 0 and r.out_qty == 0 and (r.sku, r.lot) not in shipped_lots:
            out.append(
                Discrepancy(
                    dkey=f"transfer_lot|{row['transfer_id']}|{r.sku}|{r.lot}",
                    kind="transfer_wrong_lot",
                    warehouse=row["to_warehouse"],
                    sku=r.sku,
                    detail={
                        "transfer_id": row["transfer_id"],
                        "lot": r.lot,
                        "received": r.in_qty,
                        "shipped_lots": sorted(lot for s, lot in shipped_lots if s == r.sku),
                        "ordered_lots": sorted(lot for s, lot in ordered_lots if s == r.sku),
                    },
                )
            )
    return out
