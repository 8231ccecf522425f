"""HTTP face of ingest: a gateway pushes its ops; staff look at heads and quarantine."""

from __future__ import annotations

import sqlite3
from typing import Annotated, Any

import psycopg
import psycopg.errors
import sqlalchemy as sa
from fastapi import APIRouter, Depends, HTTPException, Path, Request, status
from pydantic import BaseModel, Field
from sqlalchemy.exc import IntegrityError, OperationalError
from starlette.concurrency import run_in_threadpool

from cloud.auth.deps import Caller, Principal, require
from cloud.auth.scope import AnyScope, Scope, scope_for
from cloud.db.schema import gateways, quarantine
from cloud.ingest.gateways import GatewayExists, add_gateway
from cloud.ingest.service import Ingestor, UnknownGateway
from cloud.paging import After, Limit, Page, by_key
from cloud.services import Services, Svc
from sync.canonical import loads
from sync.codes import CODE_MAX_LENGTH, CODE_PATTERN, Code
from sync.http.openapi import error_responses
from sync.roles import Role
from sync.times import UtcDateTime

router = APIRouter(prefix="/v1/gateways", tags=["gateways"])
GatewayId = Annotated[str, Path(min_length=1, max_length=CODE_MAX_LENGTH, pattern=CODE_PATTERN)]


class IngestRequest(BaseModel):
    ops: list[dict[str, Any]] = Field(max_length=10_000, description="Op bodies in seq order, as sealed.")


class QuarantinedOut(BaseModel):
    seq: int | None
    op_id: str | None
    reason: str


class IngestResponse(BaseModel):
    acked_seq: int = Field(description="Highest contiguous seq stored for this gateway.")
    accepted: int
    duplicates: int
    quarantined: list[QuarantinedOut]
    discrepancies_opened: int


class GatewayIn(BaseModel):
    gateway_id: Code
    warehouse: Code


class GatewayCreated(BaseModel):
    gateway_id: str
    warehouse: str
    token: str = Field(description="Shown once; only its hash is stored.")


class HeadOut(BaseModel):
    gateway_id: str
    warehouse: str
    acked_seq: int
    head_hash: str


class QuarantineRow(BaseModel):
    id: int
    seq: int | None
    op_id: str | None
    reason: str
    received_at: UtcDateTime
    resolved: bool


def own_gateway(principal: Principal, gateway_id: str) -> None:
    """A gateway acts only for itself; staff roles are checked by the route."""
    if principal.role is Role.GATEWAY and principal.name != gateway_id:
        raise HTTPException(status.HTTP_403_FORBIDDEN, "a gateway may act only for itself")


def _decode_batch(raw: bytes, max_batch: int) -> list[dict[str, Any]]:
    """The request body as plain dicts: json.loads without a model pass, which at 500 ops a batch costs as
    much as the hash checks. The shape checked here is exactly ``IngestRequest``'s."""
    try:
        doc = loads(raw)
    except ValueError as exc:  # orjson's decode error is a ValueError
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, f"body is not JSON: {exc}") from exc
    if not isinstance(doc, dict) or not isinstance(doc.get("ops"), list):
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, 'body must be {"ops": [op, ...]}')
    bodies: list[Any] = doc["ops"]
    if len(bodies) > max_batch:
        raise HTTPException(status.HTTP_413_CONTENT_TOO_LARGE, f"at most {max_batch} ops per batch")
    if not all(isinstance(b, dict) for b in bodies):
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, "every op must be a JSON object")
    return bodies


def _ingest(svc: Services, gateway_id: str, raw: bytes) -> IngestResponse:
    with svc.metrics.batch_seconds.time():
        res = _ingest_timed(svc, gateway_id, raw)
    ops = svc.metrics.ops
    ops.labels("accepted").inc(res.accepted)
    ops.labels("duplicate").inc(res.duplicates)
    ops.labels("quarantined").inc(len(res.quarantined))
    return res


def _transient(exc: Exception) -> bool:
    """A lost race worth retrying at once, as opposed to a database that is down."""
    orig = getattr(exc, "orig", None) or exc
    if isinstance(orig, psycopg.IntegrityError | sqlite3.IntegrityError | IntegrityError):
        return True
    if isinstance(orig, psycopg.errors.DeadlockDetected | psycopg.errors.SerializationFailure):
        return True
    return isinstance(orig, sqlite3.OperationalError) and "locked" in str(orig)


def _ingest_timed(svc: Services, gateway_id: str, raw: bytes) -> IngestResponse:
    bodies = _decode_batch(raw, svc.settings.max_batch)
    ingestor = Ingestor(svc.bus)
    for attempt in range(3):
        try:
            with svc.engine.begin() as conn:
                result = ingestor.ingest(conn, gateway_id, bodies, svc.clock.now(), thorough=attempt > 0)
            break
        except UnknownGateway as exc:
            raise HTTPException(status.HTTP_404_NOT_FOUND, "unknown gateway") from exc
        except (IntegrityError, OperationalError, psycopg.IntegrityError, psycopg.OperationalError) as exc:
            # psycopg's own errors come from the COPY, which runs on the raw driver connection
            if not _transient(exc):
                raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, "database unavailable; retry later") from exc
            # a concurrent writer won a race on a unique key (or a deadlock victim): the retry sees its work
            if attempt == 2:
                raise HTTPException(status.HTTP_409_CONFLICT, "concurrent conflicting write; retry") from exc
    return IngestResponse(
        acked_seq=result.acked_seq,
        accepted=result.accepted,
        duplicates=result.duplicates,
        quarantined=[QuarantinedOut(seq=q.seq, op_id=q.op_id, reason=q.reason) for q in result.quarantined],
        discrepancies_opened=len(result.discrepancies),
    )


@router.post(
    "/{gateway_id}/ops",
    response_model=IngestResponse,
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": IngestRequest.model_json_schema()}},
        }
    },
    responses={413: {"description": "Too many ops in one batch."}, 422: {"description": "Not a batch."}},
)
async def push_ops(gateway_id: GatewayId, request: Request, svc: Svc, caller: Caller) -> IngestResponse:
    """Store, verify and apply a batch; answers the highest contiguous seq stored and what was quarantined."""
    if caller.role is not Role.GATEWAY:
        raise HTTPException(status.HTTP_403_FORBIDDEN, "only a gateway pushes ops")
    own_gateway(caller, gateway_id)
    raw = await request.body()
    return await run_in_threadpool(_ingest, svc, gateway_id, raw)


@router.get("/{gateway_id}/head", response_model=HeadOut, responses=error_responses(404))
def head(gateway_id: GatewayId, svc: Svc, scope: AnyScope) -> HeadOut:
    """Where the cloud's copy of the chain ends: a gateway resumes pushing from ``acked_seq + 1``."""
    with svc.engine.connect() as conn:
        scope.gateway(conn, gateway_id)
        row = conn.execute(sa.select(gateways).where(gateways.c.gateway_id == gateway_id)).first()
    if row is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "unknown gateway")
    return HeadOut(gateway_id=row.gateway_id, warehouse=row.warehouse, acked_seq=row.head_seq, head_hash=row.head_hash)


@router.post("", response_model=GatewayCreated, status_code=201, responses=error_responses(409))
def register(req: GatewayIn, svc: Svc, caller: Annotated[Principal, Depends(require(Role.ADMIN))]) -> GatewayCreated:
    try:
        token = add_gateway(svc.engine, req.gateway_id, req.warehouse, now=svc.clock.now(), actor=caller.audit_name)
    except GatewayExists as exc:
        raise HTTPException(status.HTTP_409_CONFLICT, str(exc)) from exc
    return GatewayCreated(gateway_id=req.gateway_id, warehouse=req.warehouse, token=token)


@router.get("/{gateway_id}/quarantine", response_model=Page[QuarantineRow], responses=error_responses(404))
def list_quarantine(
    gateway_id: GatewayId,
    svc: Svc,
    scope: Annotated[Scope, Depends(scope_for(Role.ADMIN, Role.SUPERVISOR, Role.AUDITOR, Role.PLANNER))],
    include_resolved: bool = False,
    limit: Limit = 100,
    after: After = 0,
) -> dict[str, Any]:
    q = sa.select(quarantine).where(quarantine.c.gateway_id == gateway_id, quarantine.c.id > after)
    if not include_resolved:
        q = q.where(~quarantine.c.resolved)
    with svc.engine.connect() as conn:
        scope.gateway(conn, gateway_id)
        rows = conn.execute(q.order_by(quarantine.c.id).limit(limit + 1)).all()
    page, nxt = by_key(rows, limit, lambda r: int(r.id))
    items = [
        QuarantineRow(
            id=r.id, seq=r.seq, op_id=r.op_id, reason=r.reason, received_at=r.received_at, resolved=bool(r.resolved)
        )
        for r in page
    ]
    return {"items": items, "next_after": nxt}
