"""Transfer orders over HTTP: create, list, and the planner's steps (approve, release, cancel, close).

The steps ops drive (in transit, received, closed on an exact receipt) are not endpoints: they happen
when the gateways' ``transfer_out`` and ``transfer_in`` ops sync. Reading is for staff roles (a user
bound to a warehouse sees transfers from or to it); writing for planners and admins.
"""

from __future__ import annotations

import json
from typing import Annotated, Any, Literal

import sqlalchemy as sa
from fastapi import APIRouter, Depends, HTTPException, Path, Query, status
from pydantic import BaseModel, ConfigDict, Field

from cloud.auth.deps import Principal, require
from cloud.auth.scope import Reader
from cloud.db.schema import transfer_orders, transit, webhook_outbox
from cloud.paging import After, Limit, by_offset
from cloud.services import Svc
from cloud.transfers import machine
from sync.codes import CODE_MAX_LENGTH, CODE_PATTERN, Code
from sync.http.openapi import error_responses
from sync.masterdata import OrderLine
from sync.ops import uuid7
from sync.roles import Role
from sync.times import UtcDateTime

router = APIRouter(prefix="/v1/transfers", tags=["transfers"])
Decider = Annotated[Principal, Depends(require(Role.ADMIN, Role.PLANNER))]
TransferId = Annotated[str, Path(min_length=1, max_length=CODE_MAX_LENGTH, pattern=CODE_PATTERN)]
Status = Literal["draft", "approved", "released", "in_transit", "received", "closed", "cancelled"]


class TransferIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    transfer_id: Code | None = Field(default=None, description="Generated when left out.")
    from_warehouse: Code
    to_warehouse: Code
    lines: list[OrderLine] = Field(min_length=1, max_length=10_000)
    carrier: str = Field(default="", max_length=64)
    note: str = Field(default="", max_length=500)


class Note(BaseModel):
    model_config = ConfigDict(extra="forbid")

    note: str = Field(default="", max_length=500)


class TransitLine(BaseModel):
    sku: str
    lot: str
    shipped: int
    received: int
    in_transit: int


class WebhookState(BaseModel):
    event_id: str
    event_type: str
    attempts: int
    delivered_at: UtcDateTime | None
    failed_at: UtcDateTime | None
    last_error: str | None


class TransferOut(BaseModel):
    model_config = ConfigDict(json_schema_serialization_defaults_required=True)

    transfer_id: str
    from_warehouse: str
    to_warehouse: str
    status: Status
    lines: list[OrderLine]
    value: float = Field(description="Goods at cost price: what auto-approval compares.")
    transport_cost: float
    transit_days: int
    carrier: str
    eta: UtcDateTime | None = Field(description="Due at the destination (set at release).")
    recommendation_id: int | None
    command_id: str | None
    created_at: UtcDateTime
    created_by: str
    approved_by: str | None
    approved_at: UtcDateTime | None
    released_at: UtcDateTime | None
    shipped_at: UtcDateTime | None
    received_at: UtcDateTime | None
    closed_at: UtcDateTime | None
    note: str
    transit: list[TransitLine] = Field(default_factory=list, description="Shipped and received, per SKU and lot.")
    webhooks: list[WebhookState] = Field(default_factory=list, description="Transport notifications and delivery.")


class TransferPage(BaseModel):
    items: list[TransferOut]
    next_after: int | None


def transfer_out(
    row: dict[str, Any], transit_rows: list[Any] | None = None, hooks: list[Any] | None = None
) -> dict[str, Any]:
    out = {k: v for k, v in row.items() if k not in ("updated_at",)}
    out["lines"] = json.loads(row["lines"])
    out["transit"] = [
        {
            "sku": t.sku,
            "lot": t.lot,
            "shipped": t.out_qty,
            "received": t.in_qty,
            "in_transit": max(0, t.out_qty - t.in_qty),
        }
        for t in transit_rows or []
    ]
    out["webhooks"] = [
        {
            "event_id": h.event_id,
            "event_type": h.event_type,
            "attempts": h.attempts,
            "delivered_at": h.delivered_at,
            "failed_at": h.failed_at,
            "last_error": h.last_error,
        }
        for h in hooks or []
    ]
    return out


def _full(conn: Any, transfer_id: str) -> dict[str, Any]:
    r = conn.execute(sa.select(transfer_orders).where(transfer_orders.c.transfer_id == transfer_id)).first()
    if r is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "unknown transfer")
    t = conn.execute(
        sa.select(transit).where(transit.c.transfer_id == transfer_id).order_by(transit.c.sku, transit.c.lot)
    ).all()
    w = webhook_outbox.c
    hooks = conn.execute(sa.select(webhook_outbox).where(w.subject == f"transfer/{transfer_id}").order_by(w.id)).all()
    return transfer_out(dict(r._mapping), t, hooks)


def _step(svc: Svc, fn: Any, *args: Any, **kw: Any) -> dict[str, Any]:
    try:
        with svc.engine.begin() as conn:
            step: machine.Step = fn(conn, *args, **kw)
            return _full(conn, step.row["transfer_id"])
    except machine.TransferError as exc:
        raise HTTPException(exc.status, str(exc)) from None


@router.post("", response_model=TransferOut, status_code=201, responses=error_responses(409, 422))
def post_transfer(req: TransferIn, svc: Svc, caller: Decider) -> dict[str, Any]:
    """A draft transfer order; approved (and released) at once when worth less than the auto-approval value."""
    return _step(
        svc,
        machine.create,
        svc.bus,
        svc.dispatch.transfers,
        transfer_id=req.transfer_id or f"TR-{uuid7().hex[:20]}",
        from_warehouse=req.from_warehouse,
        to_warehouse=req.to_warehouse,
        lines=req.lines,
        actor=caller.audit_name,
        now=svc.clock.now(),
        carrier=req.carrier,
        note=req.note,
    )


@router.get("", response_model=TransferPage)
def get_transfers(
    svc: Svc,
    scope: Reader,
    warehouse: Annotated[str | None, Query(max_length=CODE_MAX_LENGTH)] = None,
    status_: Annotated[Status | None, Query(alias="status")] = None,
    limit: Limit = 100,
    after: After = 0,
) -> dict[str, Any]:
    """Transfer orders, newest first, each with its transit lines (in transit network-wide, with its ETA)."""
    wh = scope.warehouse(warehouse)
    o = transfer_orders.c
    q = sa.select(o.transfer_id)
    if wh is not None:
        q = q.where(sa.or_(o.from_warehouse == wh, o.to_warehouse == wh))
    if status_ is not None:
        q = q.where(o.status == status_)
    with svc.engine.connect() as conn:
        ids = (
            conn.execute(q.order_by(o.created_at.desc(), o.transfer_id).limit(limit + 1).offset(after)).scalars().all()
        )
        page, nxt = by_offset(ids, limit, after)
        return {"items": [_full(conn, i) for i in page], "next_after": nxt}


@router.get("/{transfer_id}", response_model=TransferOut, responses=error_responses(404))
def get_transfer(transfer_id: TransferId, svc: Svc, scope: Reader) -> dict[str, Any]:
    with svc.engine.connect() as conn:
        found = _full(conn, transfer_id)
    if scope.bound is not None and scope.bound not in (found["from_warehouse"], found["to_warehouse"]):
        raise HTTPException(status.HTTP_404_NOT_FOUND, "unknown transfer")
    return found


@router.post("/{transfer_id}/approve", response_model=TransferOut, responses=error_responses(404, 409))
def approve(transfer_id: TransferId, svc: Svc, caller: Decider) -> dict[str, Any]:
    return _step(
        svc, machine.approve, svc.bus, svc.dispatch.transfers, transfer_id, actor=caller.audit_name, now=svc.clock.now()
    )


@router.post("/{transfer_id}/release", response_model=TransferOut, responses=error_responses(404, 409))
def release(transfer_id: TransferId, svc: Svc, caller: Decider) -> dict[str, Any]:
    """Send the transfer_order command to the source gateway (when approval did not already)."""
    return _step(svc, machine.release, svc.bus, transfer_id, actor=caller.audit_name, now=svc.clock.now())


@router.post("/{transfer_id}/cancel", response_model=TransferOut, responses=error_responses(404, 409))
def cancel(transfer_id: TransferId, body: Note, svc: Svc, caller: Decider) -> dict[str, Any]:
    return _step(svc, machine.reject, transfer_id, actor=caller.audit_name, now=svc.clock.now(), note=body.note)


@router.post("/{transfer_id}/close", response_model=TransferOut, responses=error_responses(404, 409))
def close(transfer_id: TransferId, body: Note, svc: Svc, caller: Decider) -> dict[str, Any]:
    """Close a received transfer once its discrepancy is dealt with."""
    return _step(svc, machine.close, transfer_id, actor=caller.audit_name, now=svc.clock.now(), note=body.note)
