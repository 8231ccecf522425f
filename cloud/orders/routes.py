"""Customer orders: ``POST /v1/orders`` (and ``/v1/orders/batch``) route each order and send its parcels
to the chosen gateways as ``outbound_order`` commands; ``GET /v1/orders`` lists them with the reason.

Posting is for admins and planners (and the integrations that hold such a token); reading for any staff
role, a user bound to a warehouse seeing the orders (and parcels) of its own warehouse.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Path, Query, status

from cloud.auth.deps import Principal, require
from cloud.auth.scope import Reader
from cloud.orders.models import OrderBatchIn, OrderIn, OrderOut, OrderPage
from cloud.orders.service import get_order, list_orders, route_and_store
from cloud.paging import After, Limit, by_offset
from cloud.services import Svc
from sync.codes import CODE_MAX_LENGTH, CODE_PATTERN
from sync.http.openapi import error_responses
from sync.roles import Role

router = APIRouter(prefix="/v1/orders", tags=["orders"])
Poster = Annotated[Principal, Depends(require(Role.ADMIN, Role.PLANNER))]


@router.post("", response_model=OrderOut, status_code=201, responses=error_responses(422))
def post_order(req: OrderIn, svc: Svc, caller: Poster) -> dict[str, Any]:
    """Route one order: the warehouse that delivers soonest at least cost; split only if none holds it all."""
    return route_and_store(
        svc.engine,
        svc.bus,
        [req],
        now=svc.clock.now(),
        actor=caller.audit_name,
        max_split=svc.dispatch.transfers.max_split,
    )[0]


@router.post("/batch", response_model=list[OrderOut], status_code=201, responses=error_responses(422))
def post_orders(req: OrderBatchIn, svc: Svc, caller: Poster) -> list[dict[str, Any]]:
    """Route several orders, in the order given (each sees the stock the previous ones took)."""
    ids = [o.order_id for o in req.orders]
    if len(set(ids)) != len(ids):
        dup = next(i for i in ids if ids.count(i) > 1)
        raise HTTPException(422, f"orders: order_id {dup!r} appears twice")
    return route_and_store(
        svc.engine,
        svc.bus,
        req.orders,
        now=svc.clock.now(),
        actor=caller.audit_name,
        max_split=svc.dispatch.transfers.max_split,
    )


@router.get("", response_model=OrderPage)
def get_orders(
    svc: Svc,
    scope: Reader,
    warehouse: Annotated[str | None, Query(max_length=CODE_MAX_LENGTH)] = None,
    status_: Annotated[str | None, Query(alias="status", max_length=16)] = None,
    limit: Limit = 100,
    after: After = 0,
) -> dict[str, Any]:
    wh = scope.warehouse(warehouse)
    with svc.engine.connect() as conn:
        rows = list_orders(conn, warehouse=wh, status=status_, limit=limit + 1, offset=after)
    items, nxt = by_offset(rows, limit, after)
    return {"items": items, "next_after": nxt}


@router.get("/{order_id}", response_model=OrderOut, responses=error_responses(404))
def get_one(
    order_id: Annotated[str, Path(min_length=1, max_length=CODE_MAX_LENGTH, pattern=CODE_PATTERN)],
    svc: Svc,
    scope: Reader,
) -> dict[str, Any]:
    with svc.engine.connect() as conn:
        found = get_order(conn, order_id)
    if found is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "unknown order")
    if scope.bound is not None:
        mine = [s for s in found["shipments"] if s["warehouse"] == scope.bound]
        if not mine:
            raise HTTPException(status.HTTP_404_NOT_FOUND, "unknown order")
        found = {**found, "shipments": mine}
    return found
