"""The gateway's local HTTP API: handhelds, scripts and the sync agent's local view.

It keeps working with the cloud unreachable: it speaks only to this gateway's journal. A body that
does not parse gets FastAPI's 422 naming the field; an op that breaks a domain rule gets 422 (unknown
SKU or location) or 409 (not enough stock, op_id reused), with the journal's own reason.
"""

from __future__ import annotations

import hmac
from collections.abc import Awaitable, Callable
from dataclasses import asdict
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, FastAPI, Header, HTTPException, Query, Request, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from pydantic import BaseModel, Field

from edge.context import EdgeContext
from edge.store.errors import JournalClosed, OpRejected
from sync.canonical import body_from_stored, iso_utc, seal_canonical
from sync.ops import Op, OpDraft, OpKind, StockStatus

_STATUS_OF = {
    "unknown_sku": 422,
    "unknown_location": 422,
    "invalid": 422,
    "insufficient_stock": 409,
    "op_id_conflict": 409,
    "closed": 503,
}


class StockLineOut(BaseModel):
    warehouse: str
    sku: str
    lot: str
    location: str
    status: str
    qty: int


class ZoneRelease(BaseModel):
    """A supervisor's decision on a zone's held stock (after a temperature excursion)."""

    actor: str = Field(min_length=1, max_length=64, description="The supervisor deciding, by operator id.")
    to_status: Literal["available", "damaged"] = "available"
    note: str = Field(default="", max_length=500)
    work_order_id: str | None = Field(default=None, max_length=64, description="The work order this closes.")


class OpsPage(BaseModel):
    ops: list[dict[str, Any]]
    head_seq: int
    next_after: int


def op_body(op: Op) -> dict[str, Any]:
    """The wire body of a journaled op, rebuilt from its fields (same bytes as stored)."""
    draft = OpDraft(
        op_id=op.op_id, payload=op.payload, actor=op.actor, device_id=op.device_id, occurred_at=op.occurred_at
    )
    text, hash_ = seal_canonical(
        draft, gateway_id=op.gateway_id, seq=op.seq, prev_hash=op.prev_hash, recorded_at=iso_utc(op.recorded_at)
    )
    return body_from_stored(text, hash_)


def token_check(expected: str | None) -> Callable[[str | None], Awaitable[None]]:
    """The dependency that guards ``/v1/*``: with a token configured, callers must send it as
    ``Authorization: Bearer <token>`` (compared in constant time); without one, the API is open,
    which the config allows only on a loopback address."""

    async def check(authorization: Annotated[str | None, Header()] = None) -> None:
        if expected is None:
            return
        scheme, _, sent = (authorization or "").partition(" ")
        if scheme.lower() != "bearer" or not hmac.compare_digest(sent.strip().encode(), expected.encode()):
            raise HTTPException(
                401,
                "this gateway's API needs its token: send Authorization: Bearer <token> (see [api] token_file)",
                headers={"WWW-Authenticate": "Bearer"},
            )

    return check


def create_app(ctx: EdgeContext) -> FastAPI:
    app = FastAPI(title=f"WIMS edge gateway {ctx.gateway_id}", version="0.1.0")
    journal = ctx.journal
    guarded = APIRouter(prefix="/v1", dependencies=[Depends(token_check(ctx.config.api.resolved_token()))])

    @app.exception_handler(OpRejected)
    async def _rejected(_: Request, exc: OpRejected) -> JSONResponse:
        return JSONResponse(status_code=_STATUS_OF.get(exc.code, 422), content={"detail": exc.as_dict()})

    @app.exception_handler(JournalClosed)
    async def _closed(_: Request, exc: JournalClosed) -> JSONResponse:
        return JSONResponse(status_code=503, content={"detail": {"code": "closed", "message": str(exc)}})

    @app.get("/healthz")
    async def healthz() -> dict[str, Any]:
        seq, head = journal.head()
        ctx.health.set("journal", "ok", f"head seq {seq}", ctx.clock.now())
        snap = ctx.health.snapshot()
        snap.update(gateway_id=ctx.gateway_id, warehouse=ctx.warehouse, journal={"head_seq": seq, "head_hash": head})
        return snap

    @app.get("/metrics")
    async def metrics() -> Response:
        return Response(generate_latest(ctx.registry), media_type=CONTENT_TYPE_LATEST)

    @guarded.post("/ops", status_code=201)
    async def post_op(draft: OpDraft) -> dict[str, Any]:
        """Append one op; answers once it is durable. Re-posting the same op_id returns the stored op."""
        op = await journal.append(draft)
        return op_body(op)

    @guarded.get("/ops")
    async def get_ops(
        after: Annotated[int, Query(ge=0)] = 0,
        limit: Annotated[int, Query(ge=1, le=5000)] = 100,
        kind: OpKind | None = None,
    ) -> OpsPage:
        entries = journal.entries(after=after, limit=limit, kind=kind)
        nxt = entries[-1].seq if entries else after
        return OpsPage(ops=[e.body for e in entries], head_seq=journal.head()[0], next_after=nxt)

    @guarded.get("/stock")
    async def get_stock(
        sku: str | None = None,
        lot: str | None = None,
        location: str | None = None,
        status: StockStatus | None = None,
    ) -> list[StockLineOut]:
        lines = journal.stock(sku=sku, lot=lot, location=location, status=status.value if status else None)
        return [StockLineOut(**asdict(line)) for line in lines]

    @guarded.post("/zones/{zone}/release")
    async def release(zone: str, req: ZoneRelease) -> list[dict[str, Any]]:
        """Release a zone's qc_hold stock: only a supervisor may, and every line becomes a qc_release op."""
        from edge.coldchain import ReleaseRefused, release_zone

        if zone not in ctx.master.zones:
            raise HTTPException(404, f"unknown zone {zone!r}")
        try:
            ops = await release_zone(
                ctx,
                zone,
                actor=req.actor,
                to_status=StockStatus(req.to_status),  # type: ignore[arg-type]
                note=req.note,
                work_order_id=req.work_order_id,
            )
        except ReleaseRefused as exc:
            raise HTTPException(403, str(exc)) from None
        return [op_body(op) for op in ops]

    @guarded.get("/ops/{seq}")
    async def get_op(seq: int) -> dict[str, Any]:
        entries = journal.entries(after=seq - 1, limit=1)
        if not entries or entries[0].seq != seq:
            raise HTTPException(404, f"no op with seq {seq}")
        return entries[0].body

    app.include_router(guarded)
    return app
