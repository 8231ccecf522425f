"""The journal over HTTP: append an op (answered once it is durable), list ops, read one."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Path, Query

from edge.api.deps import Ctx
from edge.api.schemas import OpIn, OpsPage, op_body
from sync.http.openapi import error_responses
from sync.ops import Op, OpKind

router = APIRouter(tags=["ops"])
MAX_SEQ = 2**63 - 1
"""A seq is a SQLite INTEGER: 64 bits, signed."""


@router.post(
    "/ops",
    status_code=201,
    response_model=None,
    responses={201: {"model": Op, "description": "The stored op (wire form)."}, **error_responses(409)},
)
async def post_op(op: OpIn, ctx: Ctx) -> dict[str, Any]:
    """Append one op; answers once it is durable. Re-posting the same op_id returns the stored op."""
    stored = await ctx.journal.append(op.draft(ctx.clock.now()))
    return op_body(stored)


@router.get("/ops")
async def get_ops(
    ctx: Ctx,
    after: Annotated[int, Query(ge=0, le=MAX_SEQ)] = 0,
    limit: Annotated[int, Query(ge=1, le=5000)] = 100,
    kind: OpKind | None = None,
) -> OpsPage:
    entries = ctx.journal.entries(after=after, limit=limit, kind=kind)
    nxt = entries[-1].seq if entries else after
    return OpsPage(items=[e.body for e in entries], head_seq=ctx.journal.head()[0], next_after=nxt)


@router.get(
    "/ops/{seq}",
    response_model=None,
    responses={200: {"model": Op, "description": "The op (wire form)."}, **error_responses(404)},
)
async def get_op(seq: Annotated[int, Path(ge=1, le=MAX_SEQ)], ctx: Ctx) -> dict[str, Any]:
    entries = ctx.journal.entries(after=seq - 1, limit=1)
    if not entries or entries[0].seq != seq:
        raise HTTPException(404, f"no op with seq {seq}")
    return entries[0].body
