"""Exception work orders over HTTP: the list, a report from the handheld (with an optional photo), closing.

A report names the fact it is about (``fact_key``, or else the type with its ref, SKU, lot and location),
so the same short pick reported twice is one work order: the second report answers 200 with it, the
first 201. Closing needs a reason (422 without) and someone holding the work order's role, or a
supervisor or admin (403 otherwise).
"""

from __future__ import annotations

import base64
import binascii
from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, HTTPException, Path, Query, Response
from pydantic import BaseModel, ConfigDict, Field

from edge.api.deps import CallerDep, Ctx
from edge.api.handheld.photos import MAX_BYTES, is_photo, save_photo
from edge.store.floor import WorkOrderRow
from sync.codes import CODE_MAX_LENGTH, CODE_PATTERN, Code
from sync.http.openapi import error_responses

router = APIRouter(tags=["work-orders"])
WorkOrderId = Annotated[str, Path(min_length=1, max_length=CODE_MAX_LENGTH, pattern=CODE_PATTERN)]
State = Literal["open", "assigned", "closed"]


class WorkOrderOut(BaseModel):
    """A work order as it stands: who answers it (``role``, escalated with ``level``), when, and why closed."""

    model_config = ConfigDict(json_schema_serialization_defaults_required=True)

    work_order_id: str
    fact_key: str | None
    wo_type: str
    state: str
    role: str = Field(description="The role it is routed to now (after any escalation).")
    level: int = Field(description="0 its own role, 1 escalated to the supervisor, 2 to the admin.")
    sla_due: datetime | None
    description: str
    zone: str | None
    location: str | None
    ref: str | None
    photo: str | None = Field(description="SHA-256 of its photo: GET /v1/photos/{photo}.")
    reason: str | None = Field(description="Why it was closed.")
    opened_at: str
    opened_by: str
    updated_at: str
    updated_by: str

    @classmethod
    def of(cls, row: WorkOrderRow) -> WorkOrderOut:
        b = row.body
        return cls(
            work_order_id=row.work_order_id,
            fact_key=row.fact_key,
            wo_type=row.wo_type,
            state=row.state,
            role=row.role,
            level=row.level,
            sla_due=row.sla_due,
            description=str(b.get("description", "")),
            zone=b.get("zone"),
            location=b.get("location"),
            ref=b.get("ref"),
            photo=b.get("photo"),
            reason=b.get("reason"),
            opened_at=row.opened_at,
            opened_by=row.opened_by,
            updated_at=row.updated_at,
            updated_by=row.updated_by,
        )


class WorkOrderPage(BaseModel):
    model_config = ConfigDict(json_schema_serialization_defaults_required=True)

    items: list[WorkOrderOut]
    next_after: int | None = Field(description="Pass as `after` for the next page; null when this one is the last.")


class WorkOrderReport(BaseModel):
    """An exception seen on the floor."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    wo_type: str = Field(
        min_length=1,
        max_length=64,
        pattern=r"^[a-z0-9_]+$",
        description="short_pick, damaged_goods, wrong_item, qc_reject, temp_excursion, failed_handoff, or the"
        " site's own.",
    )
    fact_key: str | None = Field(
        default=None,
        min_length=1,
        max_length=200,
        description="What fact it is about; the same fact never opens a second work order. Default: the type with"
        " ref, sku, lot and location.",
    )
    description: str = Field(default="", max_length=1000)
    zone: Code | None = None
    location: Code | None = None
    sku: Code | None = None
    lot: str = Field(default="", max_length=64)
    ref: str | None = Field(default=None, max_length=200, description="What it is about: an order, ASN, task.")
    photo_base64: str | None = Field(
        default=None, description="A JPEG, PNG or WebP photo, base64; the body limit ([api] max_body_bytes) applies."
    )
    actor: str | None = Field(default=None, min_length=1, max_length=64, description="Without a session: who reports.")
    device_id: str | None = Field(default=None, max_length=64)

    def fact(self) -> str:
        if self.fact_key is not None:
            return self.fact_key
        parts = [self.ref, self.sku, self.lot, self.location]
        if not any(parts):
            raise HTTPException(422, "say what the exception is about: fact_key, or at least one of ref, sku, location")
        return ":".join([self.wo_type, *(p or "" for p in parts)])


class WorkOrderClose(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    reason: str = Field(min_length=1, max_length=1000, description="What was done, or why nothing needs doing.")
    actor: str | None = Field(default=None, min_length=1, max_length=64, description="Without a session: who closes.")
    device_id: str | None = Field(default=None, max_length=64)


@router.get("/work-orders", response_model=WorkOrderPage)
async def list_work_orders(
    ctx: Ctx,
    state: Annotated[list[State] | None, Query()] = None,
    role: Annotated[str | None, Query(max_length=32)] = None,
    wo_type: Annotated[str | None, Query(max_length=64)] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    after: Annotated[int, Query(ge=0, le=2**63 - 1, description="From `next_after`.")] = 0,
) -> WorkOrderPage:
    """The gateway's work orders in the order they were opened (exceptions, cold chain, hand-offs)."""
    rows = ctx.floor.work_orders.query(
        states=state or None, role=role, wo_type=wo_type, after_seq=after, limit=limit + 1
    )
    more = len(rows) > limit
    rows = rows[:limit]
    return WorkOrderPage(items=[WorkOrderOut.of(r) for r in rows], next_after=rows[-1].opened_seq if more else None)


@router.get("/work-orders/{work_order_id}", response_model=WorkOrderOut, responses=error_responses(404))
async def get_work_order(work_order_id: WorkOrderId, ctx: Ctx) -> WorkOrderOut:
    row = ctx.floor.work_orders.get(work_order_id)
    if row is None:
        raise HTTPException(404, f"no work order {work_order_id!r}")
    return WorkOrderOut.of(row)


@router.post(
    "/work-orders",
    status_code=201,
    response_model=WorkOrderOut,
    responses={200: {"model": WorkOrderOut, "description": "The fact has a work order already: that one."}},
)
async def report(req: WorkOrderReport, ctx: Ctx, caller: CallerDep, response: Response) -> WorkOrderOut:
    """Report an exception: opens the work order for its fact (201), or answers the one it has (200)."""
    photo = None
    if req.photo_base64 is not None:
        photo = _photo(ctx, req.photo_base64)
    fields: dict[str, Any] = {
        "description": req.description,
        "zone": req.zone,
        "location": req.location,
        "ref": req.ref,
        "photo": photo,
        "actor": caller.actor(req.actor),
        "device_id": req.device_id,
    }
    row, opened = await ctx.floor.work_orders.open(req.fact(), req.wo_type, **fields)
    if not opened:
        response.status_code = 200
    return WorkOrderOut.of(row)


def _photo(ctx: Ctx, text: str) -> str:
    try:
        data = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise HTTPException(422, "photo_base64 is not valid base64") from None
    if len(data) > MAX_BYTES:
        raise HTTPException(413, f"a photo may have at most {MAX_BYTES} bytes")
    if not is_photo(data):
        raise HTTPException(422, "photo_base64 must be a JPEG, PNG or WebP image")
    return save_photo(ctx, data)


@router.post(
    "/work-orders/{work_order_id}/close", response_model=WorkOrderOut, responses=error_responses(403, 404, 409)
)
async def close(work_order_id: WorkOrderId, req: WorkOrderClose, ctx: Ctx, caller: CallerDep) -> WorkOrderOut:
    """Close with a reason: the work order's role, a supervisor or an admin may."""
    who = caller.operator_id or req.actor
    if who is None:
        raise HTTPException(403, "closing a work order needs a session, or an actor holding its role")
    row = await ctx.floor.work_orders.close(
        work_order_id, req.reason, actor=who, roles=caller.roles_of(who), device_id=req.device_id
    )
    return WorkOrderOut.of(row)
