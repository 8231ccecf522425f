"""Stock views and the discrepancies / work orders raised while applying ops."""

from __future__ import annotations

import json
from typing import Annotated, Any, Literal

import sqlalchemy as sa
from fastapi import APIRouter, Depends, HTTPException, Query, status
from fastapi import Path as PathParam
from pydantic import BaseModel, ConfigDict, Field

from cloud.audit.log import append as audit_append
from cloud.auth.scope import Reader, Scope, scope_for
from cloud.db.schema import discrepancies, work_orders
from cloud.paging import After, Limit, Page, by_key, by_offset
from cloud.services import Svc
from cloud.stock import queries
from sync.http.openapi import error_responses
from sync.roles import Role
from sync.times import UtcDateTime

router = APIRouter(tags=["stock"])
CodeQ = Annotated[str | None, Query(min_length=1, max_length=64)]
LotQ = Annotated[str | None, Query(max_length=64)]


class LocationLine(BaseModel):
    warehouse: str
    sku: str
    lot: str
    location: str
    on_hand: int
    available: int
    reserved: int
    qc_hold: int
    damaged: int
    frozen: int


class SkuLine(BaseModel):
    warehouse: str
    sku: str
    on_hand: int
    available: int
    reserved: int
    frozen: int
    in_transit_in: int
    in_transit_out: int
    projected: int


class TransferLine(BaseModel):
    transfer_id: str
    sku: str
    lot: str
    from_warehouse: str
    to_warehouse: str
    shipped: int
    received: int
    in_transit: int
    eta: UtcDateTime | None = Field(default=None, description="Due at the destination (a cloud-planned transfer).")
    transfer_status: str | None = Field(default=None, description="The transfer order's state, if the cloud made it.")


class NetworkLine(BaseModel):
    sku: str
    on_hand: int
    available: int
    reserved: int
    frozen: int
    in_transit: int
    projected: int


def _page(rows: list[Any], limit: int, after: int) -> dict[str, Any]:
    items, nxt = by_offset(rows, limit, after)
    return {"items": items, "next_after": nxt}


@router.get("/v1/stock", response_model=Page[LocationLine])
def stock(
    svc: Svc,
    scope: Reader,
    warehouse: CodeQ = None,
    sku: CodeQ = None,
    lot: LotQ = None,
    location: CodeQ = None,
    limit: Limit = 100,
    after: After = 0,
) -> dict[str, Any]:
    """On hand, available, reserved and frozen (qc_hold + damaged) per warehouse, SKU, lot and location."""
    with svc.engine.connect() as conn:
        items = queries.by_location(
            conn,
            warehouse=scope.warehouse(warehouse),
            sku=sku,
            lot=lot,
            location=location,
            limit=limit + 1,
            offset=after,
        )
    return _page(items, limit, after)


@router.get("/v1/stock/summary", response_model=Page[SkuLine])
def summary(
    svc: Svc, scope: Reader, warehouse: CodeQ = None, sku: CodeQ = None, limit: Limit = 100, after: After = 0
) -> dict[str, Any]:
    """Per warehouse and SKU, with stock in transit to and from it; projected = available + inbound."""
    with svc.engine.connect() as conn:
        items = queries.by_warehouse_sku(
            conn, warehouse=scope.warehouse(warehouse), sku=sku, limit=limit + 1, offset=after
        )
    return _page(items, limit, after)


@router.get("/v1/stock/transit", response_model=Page[TransferLine])
def in_transit(
    svc: Svc,
    scope: Reader,
    warehouse: CodeQ = None,
    sku: CodeQ = None,
    transfer_id: CodeQ = None,
    open_only: bool = False,
    limit: Limit = 100,
    after: After = 0,
) -> dict[str, Any]:
    """Stock in transit per transfer line: shipped by the source, received by the destination."""
    with svc.engine.connect() as conn:
        items = queries.transfers(
            conn,
            warehouse=scope.warehouse(warehouse),
            sku=sku,
            transfer_id=transfer_id,
            open_only=open_only,
            limit=limit + 1,
            offset=after,
        )
    return _page(items, limit, after)


@router.get("/v1/stock/network", response_model=Page[NetworkLine])
def network(svc: Svc, scope: Reader, sku: CodeQ = None, limit: Limit = 100, after: After = 0) -> dict[str, Any]:
    """Network totals per SKU over every warehouse, transit included once (for a user bound to a
    warehouse: that warehouse's stock and its transfers only)."""
    with svc.engine.connect() as conn:
        items = queries.network(conn, sku=sku, warehouse=scope.bound, limit=limit + 1, offset=after)
    return _page(items, limit, after)


class DiscrepancyOut(BaseModel):
    model_config = ConfigDict(json_schema_serialization_defaults_required=True)

    id: int
    kind: str
    warehouse: str
    sku: str | None
    detail: dict[str, Any]
    status: str
    created_at: UtcDateTime
    updated_at: UtcDateTime


class WorkOrderOut(BaseModel):
    """A work order, the cloud's own (``source`` cloud: raised by a discrepancy) or a gateway's (``source``
    gateway: stale sensor, cold chain, exceptions; ``external_id`` is the gateway's id for it)."""

    model_config = ConfigDict(json_schema_serialization_defaults_required=True)

    id: int
    source: Literal["cloud", "gateway"]
    discrepancy_id: int | None
    gateway_id: str | None
    external_id: str | None
    warehouse: str
    wo_type: str | None
    zone: str | None
    location: str | None
    assignee_role: str
    assignee: str | None
    status: str
    description: str
    created_at: UtcDateTime
    updated_at: UtcDateTime | None


def work_order_out(r: Any) -> WorkOrderOut:
    return WorkOrderOut(
        id=r.id,
        source=r.source,
        discrepancy_id=r.discrepancy_id,
        gateway_id=r.gateway_id,
        external_id=r.external_id,
        warehouse=r.warehouse,
        wo_type=r.wo_type,
        zone=r.zone,
        location=r.location,
        assignee_role=r.assignee_role,
        assignee=r.assignee,
        status=r.status,
        description=r.description,
        created_at=r.created_at,
        updated_at=r.updated_at,
    )


@router.get("/v1/discrepancies", response_model=Page[DiscrepancyOut])
def list_discrepancies(
    svc: Svc,
    scope: Reader,
    warehouse: CodeQ = None,
    status: Annotated[Literal["open", "resolved"] | None, Query()] = None,
    kind: Annotated[str | None, Query(max_length=32)] = None,
    limit: Limit = 100,
    after: After = 0,
) -> dict[str, Any]:
    d = discrepancies.c
    q = sa.select(discrepancies).where(d.id > after)
    wh = scope.warehouse(warehouse)
    if wh is not None:
        q = q.where(d.warehouse == wh)
    if status is not None:
        q = q.where(d.status == status)
    if kind is not None:
        q = q.where(d.kind == kind)
    with svc.engine.connect() as conn:
        rows = conn.execute(q.order_by(d.id).limit(limit + 1)).all()
    items, nxt = by_key(rows, limit, lambda r: int(r.id))
    return {
        "items": [
            DiscrepancyOut(
                id=r.id,
                kind=r.kind,
                warehouse=r.warehouse,
                sku=r.sku,
                detail=json.loads(r.detail),
                status=r.status,
                created_at=r.created_at,
                updated_at=r.updated_at,
            )
            for r in items
        ],
        "next_after": nxt,
    }


@router.get("/v1/work-orders", response_model=Page[WorkOrderOut])
def list_work_orders(
    svc: Svc,
    scope: Reader,
    warehouse: CodeQ = None,
    status: Annotated[Literal["open", "assigned", "closed"] | None, Query()] = None,
    source: Annotated[Literal["cloud", "gateway"] | None, Query(description="Only the cloud's, or gateways'.")] = None,
    limit: Limit = 100,
    after: After = 0,
) -> dict[str, Any]:
    """The cloud's work orders and the gateways' own, in one list."""
    w = work_orders.c
    q = sa.select(work_orders).where(w.id > after)
    wh = scope.warehouse(warehouse)
    if wh is not None:
        q = q.where(w.warehouse == wh)
    if status is not None:
        q = q.where(w.status == status)
    if source is not None:
        q = q.where(w.source == source)
    with svc.engine.connect() as conn:
        rows = conn.execute(q.order_by(w.id).limit(limit + 1)).all()
    items, nxt = by_key(rows, limit, lambda r: int(r.id))
    return {"items": [work_order_out(r) for r in items], "next_after": nxt}


class WorkOrderClose(BaseModel):
    note: str = Field(default="", max_length=1000)


@router.post("/v1/work-orders/{work_order_id}/close", response_model=WorkOrderOut, responses=error_responses(404, 409))
def close_work_order(
    work_order_id: Annotated[int, PathParam(ge=1, le=2**62)],
    req: WorkOrderClose,
    svc: Svc,
    scope: Annotated[Scope, Depends(scope_for(Role.SUPERVISOR, Role.ADMIN))],
) -> WorkOrderOut:
    """The supervisor records the work done; a supervisor tied to a warehouse closes only its own."""
    now = svc.clock.now()
    with svc.engine.begin() as conn:
        row = conn.execute(sa.select(work_orders).where(work_orders.c.id == work_order_id)).first()
        if row is None:
            raise HTTPException(status.HTTP_404_NOT_FOUND, "unknown work order")
        scope.check(row.warehouse)
        if row.source == "gateway":
            raise HTTPException(
                status.HTTP_409_CONFLICT,
                f"work order {row.external_id} belongs to gateway {row.gateway_id}: close it there",
            )
        if row.status != "closed":
            conn.execute(work_orders.update().where(work_orders.c.id == work_order_id).values(status="closed"))
            audit_append(
                conn,
                now=now,
                actor=scope.principal.audit_name,
                action="work_order.close",
                target=f"work_order/{work_order_id}",
                detail={"note": req.note},
            )
        row = conn.execute(sa.select(work_orders).where(work_orders.c.id == work_order_id)).one()
    return work_order_out(row)
