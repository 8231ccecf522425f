"""Outbound over HTTP: orders, reservation, waves, scanned picks, pack, outbound check, ship
(``edge.floor.outbound``, ``edge.floor.waves``).

A refused pick scan answers 422 with ``wrong_location``, ``wrong_item`` or ``wrong_lot`` (the handheld
beeps) and is recorded as an ``exception`` op; a check that does not match answers 409
``check_mismatch`` and blocks shipping until a check matches.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query

from edge.api.deps import CallerDep, Ctx
from edge.api.routes.inbound import as_caller
from edge.floor import outbound, waves
from edge.floor.flow import FloorError, floor_flow
from sync.canonical import iso_utc
from sync.codes import CODE_MAX_LENGTH, CODE_PATTERN
from sync.commands import OutboundOrderCommand
from sync.http.openapi import error_responses

router = APIRouter(tags=["orders"])
Id = Annotated[str, Path(min_length=1, max_length=CODE_MAX_LENGTH, pattern=CODE_PATTERN)]
ORDER = {"description": "The order with its reservations, picks, cartons and status (JSON object)."}


@router.post("/orders", status_code=201, response_model=None, responses={201: ORDER, **error_responses(409, 422)})
async def post_order(order: OutboundOrderCommand, ctx: Ctx) -> dict[str, Any]:
    """Take an order from the local API (the cloud's come as ``outbound_order`` commands); the same order
    again is a no-op, another body under its id 409."""
    flow = floor_flow(ctx)
    async with flow.lock:
        await outbound.store_order(ctx.journal, order, "api")
    return outbound.view(*outbound.find_order(flow, order.id))


@router.get("/orders", response_model=None, responses={200: {"description": "Orders (JSON objects)."}})
async def list_orders(ctx: Ctx, status: Annotated[str | None, Query(max_length=32)] = None) -> list[dict[str, Any]]:
    return [outbound.view(st, doc) for _, st, doc in floor_flow(ctx).docs("order", status=status)]


@router.get("/orders/{order_id}", response_model=None, responses={200: ORDER, **error_responses(404)})
async def get_order(order_id: Id, ctx: Ctx) -> dict[str, Any]:
    return outbound.view(*outbound.find_order(floor_flow(ctx), order_id))


@router.post("/orders/{order_id}/reserve", response_model=None, responses={200: ORDER, **error_responses(404, 409)})
async def reserve(order_id: Id, req: outbound.ActorIn, ctx: Ctx, caller: CallerDep) -> dict[str, Any]:
    """Reserve available stock for the order (FEFO for lot-tracked chilled and frozen goods, FIFO otherwise)."""
    return await outbound.reserve(floor_flow(ctx), order_id, caller.actor(req.actor or None))


@router.post("/orders/{order_id}/picks", response_model=None, responses={200: ORDER, **error_responses(404, 409, 422)})
async def pick(order_id: Id, req: outbound.PickIn, ctx: Ctx, caller: CallerDep) -> dict[str, Any]:
    """Confirm the order's next pick: the location scanned, then the item and lot; ``short`` when fewer
    were there (a work order opens and the rest is reserved and routed from other locations)."""
    return await outbound.confirm_pick(floor_flow(ctx), order_id, as_caller(req, caller))


@router.post("/orders/{order_id}/pack", response_model=None, responses={200: ORDER, **error_responses(404, 409, 422)})
async def pack(order_id: Id, req: outbound.PackIn, ctx: Ctx, caller: CallerDep) -> dict[str, Any]:
    """Pack the picked goods into cartons (SSCC, weight, lines)."""
    return await outbound.pack(floor_flow(ctx), order_id, as_caller(req, caller))


@router.post("/orders/{order_id}/check", response_model=None, responses={200: ORDER, **error_responses(404, 409, 422)})
async def check(order_id: Id, req: outbound.CheckIn, ctx: Ctx, caller: CallerDep) -> dict[str, Any]:
    """Outbound check: every unit scanned against the order; a difference blocks shipping."""
    return await outbound.check(floor_flow(ctx), order_id, as_caller(req, caller))


@router.post("/orders/{order_id}/ship", response_model=None, responses={200: ORDER, **error_responses(404, 409)})
async def ship(order_id: Id, req: outbound.ActorIn, ctx: Ctx, caller: CallerDep) -> dict[str, Any]:
    """Ship a checked order: ship ops, then the shipment to the carrier through the webhook outbox."""
    return await outbound.ship(floor_flow(ctx), order_id, caller.actor(req.actor or None))


@router.post("/waves", status_code=201, response_model=None, responses={201: {"description": "The waves released."}})
async def post_waves(req: outbound.WaveIn, ctx: Ctx, caller: CallerDep) -> list[dict[str, Any]]:
    """Release reserved orders into waves (by carrier and cut-off) and batches with sequenced pick lists."""
    before = iso_utc(req.cut_off_before) if req.cut_off_before else None
    return await waves.build_waves(
        floor_flow(ctx), carrier=req.carrier, cut_off_before=before, actor=caller.actor(req.actor or None)
    )


@router.get(
    "/waves/{wave_id}", response_model=None, responses={200: {"description": "A wave."}, **error_responses(404)}
)
async def get_wave(wave_id: Id, ctx: Ctx) -> dict[str, Any]:
    found = floor_flow(ctx).doc("wave", wave_id)
    if found is None:
        raise FloorError(404, "not_found", f"no wave {wave_id!r}")
    return {**found[1], "status": found[0]}
