"""A supervisor's release of a zone's held stock (after a temperature excursion)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Path

from edge.api.deps import CallerDep, Ctx
from edge.api.schemas import ZoneRelease, op_body
from edge.floor.holds import ReleaseRefused, release_zone
from sync.http.openapi import error_responses
from sync.ops import Op, StockStatus

router = APIRouter(tags=["zones"])


@router.post(
    "/zones/{zone}/release",
    response_model=None,
    responses={200: {"model": list[Op], "description": "The ops recorded."}, **error_responses(404)},
)
async def release(
    zone: Annotated[str, Path(max_length=64)], req: ZoneRelease, ctx: Ctx, caller: CallerDep
) -> list[dict[str, Any]]:
    """Release a zone's qc_hold stock: only a supervisor may, and every line becomes a qc_release op (under
    the session's operator when a session is sent, else the body's actor)."""
    if zone not in ctx.master.zones:
        raise HTTPException(404, f"unknown zone {zone!r}")
    try:
        ops = await release_zone(
            ctx,
            zone,
            actor=caller.actor(req.actor),
            to_status=StockStatus(req.to_status),  # type: ignore[arg-type]
            note=req.note,
            work_order_id=req.work_order_id,
        )
    except ReleaseRefused as exc:
        raise HTTPException(403, str(exc)) from None
    return [op_body(op) for op in ops]
