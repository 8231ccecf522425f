"""``/healthz`` (each part's state and the journal head) and ``/metrics`` (Prometheus); open to monitoring."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from edge.api.deps import Ctx

router = APIRouter(tags=["health"])


@router.get("/healthz")
async def healthz(ctx: Ctx) -> dict[str, Any]:
    seq, head = ctx.journal.head()
    ctx.health.set("journal", "ok", f"head seq {seq}", ctx.clock.now())
    snap = ctx.health.snapshot()
    snap.update(gateway_id=ctx.gateway_id, warehouse=ctx.warehouse, journal={"head_seq": seq, "head_hash": head})
    return snap


@router.get(
    "/metrics",
    response_class=Response,
    responses={200: {"content": {"text/plain": {"schema": {"type": "string"}}}, "description": "Prometheus text."}},
)
async def metrics(ctx: Ctx) -> Response:
    return Response(generate_latest(ctx.registry), media_type=CONTENT_TYPE_LATEST)
