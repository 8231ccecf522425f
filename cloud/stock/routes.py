"""Stock views and the discrepancies / work orders raised while applying ops."""

from __future__ import annotations

import json
from typing import Annotated, Any, Literal

import sqlalchemy as sa
from fastapi import APIRouter, Depends, HTTPException, Query, status
from fastapi import Path as PathParam
from pydantic import BaseModel, Field

from cloud.audit.log import append as audit_append
from cloud.auth.scope import Reader, Scope, scope_for
from cloud.db.schema import discrepancies, work_orders
from cloud.services import Svc
from cloud.stock import queries
from sync.roles import Role

router = APIRouter(tags=["stock"])
CodeQ = Annotated[str | None, Query(min_length=1, max_length=64)]
LotQ = Annotated[str | None, Query(max_length=64)]
Limit = Annotated[int, Query(ge=1, le=1000)]
Offset = Annotated[int, Query(ge=0, le=10**9)]


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


class LocationPage(BaseModel):
    items: list[LocationLine]
    next_offset: int | None


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


class SkuPage(BaseModel):
    items: list[SkuLine]
    next_offset: int | None


class TransferLine(BaseModel):
    transfer_id: str
    sku: str
    lot: str
    from_warehouse: str
    to_warehouse: str
    shipped: int
    received: int
    in_transit: int


class TransferPage(BaseModel):
    items: list[TransferLine]
    next_offset: int | None


class NetworkLine(BaseModel):
    sku: str
    on_hand: int
    available: int
    reserved: int
    frozen: int
    in_transit: int
    projected: int


class NetworkPage(BaseModel):
    items: list[NetworkLine]
    next_offset: int | None


def _next(items: list[Any], limit: int, offset: int) -> int | None:
    return offset + limit if len(items) > limit else None


@router.get("/v1/stock", response_model=LocationPage)
def stock(
    svc: Svc,
    scope: Reader,
    warehouse: CodeQ = None,
    sku: CodeQ = None,
    lot: LotQ = None,
    location: CodeQ = None,
    limit: Limit = 100,
    offset: Offset = 0,
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
            offset=offset,
        )
    return {"items": items[:limit], "next_offset": _next(items, limit, offset)}


@router.get("/v1/stock/summary", response_model=SkuPage)
def summary(
    svc: Svc, scope: Reader, warehouse: CodeQ = None, sku: CodeQ = None, limit: Limit = 100, offset: Offset = 0
) -> dict[str, Any]:
    """Per warehouse and SKU, with stock in transit to and from it; projected = available + inbound."""
    with svc.engine.connect() as conn:
        items = queries.by_warehouse_sku(
            conn, warehouse=scope.warehouse(warehouse), sku=sku, limit=limit + 1, offset=offset
        )
    return {"items": items[:limit], "next_offset": _next(items, limit, offset)}


@router.get("/v1/stock/transit", response_model=TransferPage)
def in_transit(
    svc: Svc,
    scope: Reader,
    warehouse: CodeQ = None,
    sku: CodeQ = None,
    transfer_id: CodeQ = None,
    open_only: bool = False,
    limit: Limit = 100,
    offset: Offset = 0,
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
            offset=offset,
        )
    return {"items": items[:limit], "next_offset": _next(items, limit, offset)}


@router.get("/v1/stock/network", response_model=NetworkPage)
def network(svc: Svc, scope: Reader, sku: CodeQ = None, limit: Limit = 100, offset: Offset = 0) -> dict[str, Any]:
    """Network totals per SKU over every warehouse, transit included once (for a user bound to a
    warehouse: that warehouse's stock and its transfers only)."""
    with svc.engine.connect() as conn:
        items = queries.network(conn, sku=sku, warehouse=scope.bound, limit=limit + 1, offset=offset)
    return {"items": items[:limit], "next_offset": _next(items, limit, offset)}


class DiscrepancyOut(BaseModel):
    id: int
    kind: str
    warehouse: str
    sku: str | None
    detail: dict[str, Any]
    status: str
    created_at: str
    updated_at: str


class WorkOrderOut(BaseModel):
    id: int
    discrepancy_id: int
    warehouse: str
    assignee_role: str
    status: str
    description: str
    created_at: str


@router.get("/v1/discrepancies", response_model=list[DiscrepancyOut])
def list_discrepancies(
    svc: Svc,
    scope: Reader,
    warehouse: CodeQ = None,
    status: Annotated[Literal["open", "resolved"] | None, Query()] = None,
    kind: Annotated[str | None, Query(max_length=32)] = None,
    limit: Limit = 100,
    offset: Offset = 0,
) -> list[DiscrepancyOut]:
    d = discrepancies.c
    q = sa.select(discrepancies)
    wh = scope.warehouse(warehouse)
    if wh is not None:
        q = q.where(d.warehouse == wh)
    if status is not None:
        q = q.where(d.status == status)
    if kind is not None:
        q = q.where(d.kind == kind)
    with svc.engine.connect() as conn:
        rows = conn.execute(q.order_by(d.id).limit(limit).offset(offset)).all()
    return [
        DiscrepancyOut(
            id=r.id,
            kind=r.kind,
            warehouse=r.warehouse,
            sku=r.sku,
            detail=json.loads(r.detail),
            status=r.status,
            created_at=str(r.created_at),
            updated_at=str(r.updated_at),
        )
        for r in rows
    ]


@router.get("/v1/work-orders", response_model=list[WorkOrderOut])
def list_work_orders(
    svc: Svc,
    scope: Reader,
    warehouse: CodeQ = None,
    status: Annotated[Literal["open", "closed"] | None, Query()] = None,
    limit: Limit = 100,
    offset: Offset = 0,
) -> list[WorkOrderOut]:
    w = work_orders.c
    q = sa.select(work_orders)
    wh = scope.warehouse(warehouse)
    if wh is not None:
        q = q.where(w.warehouse == wh)
    if status is not None:
        q = q.where(w.status == status)
    with svc.engine.connect() as conn:
        rows = conn.execute(q.order_by(w.id).limit(limit).offset(offset)).all()
    return [
        WorkOrderOut(
            id=r.id,
            discrepancy_id=r.discrepancy_id,
            warehouse=r.warehouse,
            assignee_role=r.assignee_role,
            status=r.status,
            description=r.description,
            created_at=str(r.created_at),
        )
        for r in rows
    ]


class WorkOrderClose(BaseModel):
    note: str = Field(default="", max_length=1000)


@router.post("/v1/work-orders/{work_order_id}/close", response_model=WorkOrderOut)
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
    return WorkOrderOut(
        id=row.id,
        discrepancy_id=row.discrepancy_id,
        warehouse=row.warehouse,
        assignee_role=row.assignee_role,
        status=row.status,
        description=row.description,
        created_at=str(row.created_at),
    )
