"""Inbound over HTTP: ASNs, receiving scans, QC decisions and putaway tasks (``edge.floor.inbound``).

A refused scan (wrong item or lot, too many, an unknown or unsuitable location) answers 422 with a
stable ``code`` the handheld beeps on, and is recorded as an ``exception`` op.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal, TypeVar

from fastapi import APIRouter, Path, Query
from pydantic import BaseModel

from edge.api.deps import Caller, CallerDep, Ctx
from edge.floor import inbound
from edge.floor.flow import floor_flow
from sync.codes import CODE_MAX_LENGTH, CODE_PATTERN
from sync.http.openapi import error_responses
from sync.masterdata import InboundOrder

router = APIRouter(tags=["inbound"])
Id = Annotated[str, Path(min_length=1, max_length=CODE_MAX_LENGTH, pattern=CODE_PATTERN)]
DOC = {"description": "The document (JSON object)."}
In = TypeVar("In", bound=BaseModel)


def as_caller(req: In, caller: Caller) -> In:
    """The body with its ``actor`` the caller's: the session's operator, else the body's (else ``api``)."""
    return req.model_copy(update={"actor": caller.actor(getattr(req, "actor", None) or None)})


@router.post("/inbound/asns", status_code=201, response_model=None, responses={201: DOC, **error_responses(409, 422)})
async def post_asn(asn: InboundOrder, ctx: Ctx) -> dict[str, Any]:
    """Register an ASN from the local API (the cloud's come as master data); the same ASN again is a no-op."""
    return await inbound.register_asn(floor_flow(ctx), asn)


@router.get("/inbound/asns/{asn_id}", response_model=None, responses={200: DOC, **error_responses(404)})
async def get_asn(asn_id: Id, ctx: Ctx) -> dict[str, Any]:
    """An ASN with what each line has received so far."""
    flow = floor_flow(ctx)
    return inbound.asn_view(flow, inbound.find_asn(flow, asn_id))


@router.post(
    "/inbound/receipts", status_code=201, response_model=None, responses={201: DOC, **error_responses(404, 422)}
)
async def post_receipt(req: inbound.ReceiveIn, ctx: Ctx, caller: CallerDep) -> dict[str, Any]:
    """Receive a scan (or RFID read) against an ASN line: a receive op on qc_hold, and a receipt awaiting QC."""
    return await inbound.receive(floor_flow(ctx), as_caller(req, caller))


@router.get("/inbound/receipts/{receipt_id}", response_model=None, responses={200: DOC, **error_responses(404)})
async def get_receipt(receipt_id: Id, ctx: Ctx) -> dict[str, Any]:
    status, doc = inbound.receipt(floor_flow(ctx), receipt_id)
    return {**doc, "status": status}


@router.post(
    "/inbound/receipts/{receipt_id}/qc", response_model=None, responses={200: DOC, **error_responses(404, 409, 422)}
)
async def post_qc(receipt_id: Id, req: inbound.QcIn, ctx: Ctx, caller: CallerDep) -> dict[str, Any]:
    """QC's decision: pass (available, putaway tasks with suggested locations), hold or reject (a reason code;
    a reject opens a work order)."""
    return await inbound.qc(floor_flow(ctx), receipt_id, as_caller(req, caller))


@router.get("/inbound/putaways", response_model=None, responses={200: {"description": "Putaway tasks."}})
async def list_putaways(
    ctx: Ctx, status: Annotated[Literal["open", "done"] | None, Query()] = "open"
) -> list[dict[str, Any]]:
    """Putaway tasks (open by default), each with its suggested location and the reasons for it."""
    return [{**doc, "status": st} for _, st, doc in floor_flow(ctx).docs("putaway", status=status)]


@router.get("/inbound/putaways/{task_id}", response_model=None, responses={200: DOC, **error_responses(404)})
async def get_putaway(task_id: Id, ctx: Ctx) -> dict[str, Any]:
    status, doc = inbound.putaway_task(floor_flow(ctx), task_id)
    return {**doc, "status": status}


@router.post(
    "/inbound/putaways/{task_id}/confirm", response_model=None, responses={200: DOC, **error_responses(404, 409, 422)}
)
async def confirm_putaway(task_id: Id, req: inbound.PutawayConfirmIn, ctx: Ctx, caller: CallerDep) -> dict[str, Any]:
    """The operator scanned the location the goods went to: the suggested one, or another with a reason code
    (checked against the same hard limits, and recorded as an override)."""
    return await inbound.confirm_putaway(floor_flow(ctx), task_id, as_caller(req, caller))


@router.get(
    "/putaway/suggestions",
    response_model=None,
    responses={200: {"description": "The best location and the ranking, with reasons."}, **error_responses(422)},
)
async def suggestions(
    ctx: Ctx,
    sku: Annotated[str, Query(min_length=1, max_length=CODE_MAX_LENGTH, pattern=CODE_PATTERN)],
    qty: Annotated[int, Query(ge=1, le=10**9)],
    lot: Annotated[str, Query(max_length=64)] = "",
    from_: Annotated[str | None, Query(alias="from", max_length=CODE_MAX_LENGTH)] = None,
) -> dict[str, Any]:
    """Where goods should go (the handheld's free putaway): scored like a putaway task's suggestion, counting
    every open putaway, but not held (the handheld's putaway op follows at once). ``from`` (where the goods
    stand) is accepted for the handheld and not used: distances are measured from the dock."""
    return inbound.suggest(floor_flow(ctx), sku, qty, lot)
