"""Commands to gateways: planners post them; each gateway long-polls its own queue by cursor.

The cursor is the command's row id, increasing in commit order per database. A waiting poller is woken
by the ``command`` event (LISTEN/NOTIFY across workers) and re-reads; it also re-reads every second
so that a missed notification costs at most that.
"""

from __future__ import annotations

import json
from typing import Annotated, Any, Literal

import sqlalchemy as sa
from fastapi import APIRouter, Depends, HTTPException, Query, status
from fastapi import Path as PathParam
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.exc import IntegrityError
from starlette.concurrency import run_in_threadpool

from cloud.audit.log import append as audit_append
from cloud.auth.deps import Caller, Principal, require
from cloud.auth.scope import Scope, scope_for
from cloud.db.schema import commands, gateways
from cloud.ingest.routes import GatewayId
from cloud.paging import After, Limit, Page, by_key
from cloud.services import Services, Svc
from sync.canonical import canonical_bytes
from sync.codes import CODE_MAX_LENGTH, CODE_PATTERN, Code
from sync.commands import (
    MasterDataCommand,
    OutboundOrderCommand,
    RuleSetCommand,
    TransferOrderCommand,
    TransportTaskCommand,
)
from sync.http.openapi import error_responses
from sync.ops import uuid7
from sync.roles import Role
from sync.times import UtcDateTime

router = APIRouter(tags=["commands"])


class _CommandEnvelope(BaseModel):
    model_config = ConfigDict(extra="forbid")

    gateway_id: Code
    command_id: Code | None = Field(default=None, description="Idempotency key; generated when left out.")


class MasterDataCommandIn(_CommandEnvelope):
    type: Literal["master_data"]
    body: MasterDataCommand


class TransferOrderCommandIn(_CommandEnvelope):
    type: Literal["transfer_order"]
    body: TransferOrderCommand


class RuleCommandIn(_CommandEnvelope):
    type: Literal["rule"]
    body: RuleSetCommand


class TransportTaskCommandIn(_CommandEnvelope):
    type: Literal["transport_task"]
    body: TransportTaskCommand


class OutboundOrderCommandIn(_CommandEnvelope):
    type: Literal["outbound_order"]
    body: OutboundOrderCommand


CommandIn = Annotated[
    MasterDataCommandIn | TransferOrderCommandIn | RuleCommandIn | TransportTaskCommandIn | OutboundOrderCommandIn,
    Field(discriminator="type"),
]
"""A command as a planner posts it: its body is validated against its type's model (``sync.commands``),
so a bad body is a 422 naming the field, and a gateway only ever receives bodies it can read."""


class CommandOut(BaseModel):
    """A command and, once the gateway has reported it (its ``command_applied`` op), its outcome."""

    model_config = ConfigDict(json_schema_serialization_defaults_required=True)

    cursor: int
    command_id: str
    gateway_id: str
    type: str
    body: dict[str, Any]
    created_by: str
    created_at: UtcDateTime
    status: Literal["pending", "applied", "rejected"] = Field(description="pending until the gateway reports it.")
    reason: str | None = Field(default=None, description="The gateway's reason (why it was rejected).")
    applied_at: UtcDateTime | None = None


class CommandPage(BaseModel):
    """A gateway's command queue, a stream: ``next_after`` (never null) is the cursor to resume from."""

    items: list[CommandOut]
    next_after: int = Field(description="Pass as ``after`` to get what follows.")


def _out(r: Any) -> CommandOut:
    return CommandOut(
        cursor=r.cursor,
        command_id=r.command_id,
        gateway_id=r.gateway_id,
        type=r.type,
        body=json.loads(r.body),
        created_by=r.created_by,
        created_at=r.created_at,
        status=r.status,
        reason=r.reason,
        applied_at=r.applied_at,
    )


@router.get("/v1/commands", response_model=Page[CommandOut])
def list_commands(
    svc: Svc,
    scope: Annotated[Scope, Depends(scope_for(Role.ADMIN, Role.PLANNER, Role.SUPERVISOR, Role.AUDITOR))],
    gateway_id: Annotated[Code | None, Query()] = None,
    status_: Annotated[Literal["pending", "applied", "rejected"] | None, Query(alias="status")] = None,
    limit: Limit = 100,
    after: After = 0,
) -> dict[str, Any]:
    """Commands with their outcome as the gateways reported it (a user bound to a warehouse sees its own)."""
    c = commands.c
    q = sa.select(commands).where(c.cursor > after)
    with svc.engine.connect() as conn:
        if gateway_id is not None:
            scope.gateway(conn, gateway_id)
            q = q.where(c.gateway_id == gateway_id)
        elif scope.bound is not None:
            own = sa.select(gateways.c.gateway_id).where(gateways.c.warehouse == scope.bound)
            q = q.where(c.gateway_id.in_(own))
        if status_ is not None:
            q = q.where(c.status == status_)
        rows = conn.execute(q.order_by(c.cursor).limit(limit + 1)).all()
    page, nxt = by_key(rows, limit, lambda r: int(r.cursor))
    return {"items": [_out(r) for r in page], "next_after": nxt}


@router.get("/v1/commands/{command_id}", response_model=CommandOut, responses=error_responses(404))
def get_command(
    command_id: Annotated[str, PathParam(min_length=1, max_length=CODE_MAX_LENGTH, pattern=CODE_PATTERN)],
    svc: Svc,
    scope: Annotated[Scope, Depends(scope_for(Role.ADMIN, Role.PLANNER, Role.SUPERVISOR, Role.AUDITOR))],
) -> CommandOut:
    with svc.engine.connect() as conn:
        row = conn.execute(sa.select(commands).where(commands.c.command_id == command_id)).first()
        if row is None:
            raise HTTPException(status.HTTP_404_NOT_FOUND, "unknown command")
        scope.gateway(conn, row.gateway_id)
    return _out(row)


@router.post("/v1/commands", response_model=CommandOut, status_code=201, responses=error_responses(404, 409))
def post_command(
    req: CommandIn, svc: Svc, caller: Annotated[Principal, Depends(require(Role.ADMIN, Role.PLANNER))]
) -> CommandOut:
    command_id = req.command_id or str(uuid7())
    body = canonical_bytes(req.body.model_dump(mode="json")).decode()
    now = svc.clock.now()
    try:
        with svc.engine.begin() as conn:
            if (
                conn.execute(sa.select(gateways.c.gateway_id).where(gateways.c.gateway_id == req.gateway_id)).first()
                is None
            ):
                raise HTTPException(status.HTTP_404_NOT_FOUND, "unknown gateway")
            same = conn.execute(sa.select(commands).where(commands.c.command_id == command_id)).first()
            if same is not None:
                if (same.gateway_id, same.type, same.body) == (req.gateway_id, req.type, body):
                    return _out(same)  # a retried POST: the same command, once
                raise HTTPException(status.HTTP_409_CONFLICT, "command_id already used for another command")
            row = conn.execute(
                commands.insert()
                .values(
                    command_id=command_id,
                    gateway_id=req.gateway_id,
                    type=req.type,
                    body=body,
                    created_by=caller.audit_name,
                    created_at=now,
                )
                .returning(*commands.c)
            ).one()
            audit_append(
                conn,
                now=now,
                actor=caller.audit_name,
                action="command.post",
                target=f"gateway/{req.gateway_id}",
                detail={"command_id": command_id, "type": req.type},
            )
            svc.bus.emit(conn, {"type": "command", "gateway_id": req.gateway_id, "cursor": row.cursor})
    except IntegrityError as exc:
        raise HTTPException(status.HTTP_409_CONFLICT, "command_id already used") from exc
    return _out(row)


def _read(svc: Services, gateway_id: str, after: int, limit: int) -> list[CommandOut]:
    with svc.engine.connect() as conn:
        rows = conn.execute(
            sa.select(commands)
            .where(commands.c.gateway_id == gateway_id, commands.c.cursor > after)
            .order_by(commands.c.cursor)
            .limit(limit)
        ).all()
    return [_out(r) for r in rows]


@router.get("/v1/gateways/{gateway_id}/commands", response_model=CommandPage, responses=error_responses(404))
async def get_commands(
    gateway_id: GatewayId,
    svc: Svc,
    caller: Caller,
    after: Annotated[int, Query(ge=0, le=2**62)] = 0,
    wait: Annotated[float, Query(ge=0, le=300)] = 0,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> CommandPage:
    """Commands after ``after``; with ``wait`` > 0, hold the request until one arrives or time is up."""
    if caller.role not in (Role.GATEWAY, Role.ADMIN, Role.PLANNER):
        raise HTTPException(status.HTTP_403_FORBIDDEN, "only the gateway itself, admins and planners read commands")
    with svc.engine.connect() as conn:
        Scope(caller).gateway(conn, gateway_id)
    wait = min(wait, svc.settings.max_long_poll_s)
    deadline = svc.clock.monotonic() + wait
    with svc.hub.subscribe(lambda e: e.get("type") == "command" and e.get("gateway_id") == gateway_id) as sub:
        while True:
            found = await run_in_threadpool(_read, svc, gateway_id, after, limit)
            left = deadline - svc.clock.monotonic()
            if found or left <= 0 or sub.closed:  # closed: the worker is shutting down
                return CommandPage(items=found, next_after=found[-1].cursor if found else after)
            await sub.get(timeout=min(left, 1.0))
