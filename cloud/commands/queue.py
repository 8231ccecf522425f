"""Queueing a command for a gateway from cloud code (order routing, transfer release), as a planner's
``POST /v1/commands`` does: one row, an audit entry and the ``command`` event that wakes the long-poll."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from cloud.audit.log import append as audit_append
from cloud.db.schema import commands, gateways
from cloud.events.hub import EventBus
from sync.canonical import canonical_bytes
from sync.masterdata import Record


class NoGateway(LookupError):
    """No active gateway serves the warehouse: the command has nowhere to go."""


def gateway_of(conn: Connection, warehouse: str) -> str:
    """The warehouse's gateway (the first active one by id: one gateway a site by design)."""
    g = gateways.c
    found = conn.execute(
        sa.select(g.gateway_id).where(g.warehouse == warehouse, g.revoked_at.is_(None)).order_by(g.gateway_id).limit(1)
    ).scalar()
    if found is None:
        raise NoGateway(f"warehouse {warehouse} has no active gateway")
    return str(found)


def enqueue(
    conn: Connection,
    bus: EventBus,
    *,
    gateway_id: str,
    command_type: str,
    body: Record,
    command_id: str,
    actor: str,
    now: datetime,
) -> int:
    """Queue the command (idempotent on ``command_id``: a second call returns the first's cursor)."""
    same = conn.execute(sa.select(commands.c.cursor).where(commands.c.command_id == command_id)).scalar()
    if same is not None:
        return int(same)
    cursor = conn.execute(
        commands.insert()
        .values(
            command_id=command_id,
            gateway_id=gateway_id,
            type=command_type,
            body=canonical_bytes(body.model_dump(mode="json")).decode(),
            created_by=actor,
            created_at=now,
        )
        .returning(commands.c.cursor)
    ).scalar_one()
    audit_append(
        conn,
        now=now,
        actor=actor,
        action="command.post",
        target=f"gateway/{gateway_id}",
        detail={"command_id": command_id, "type": command_type},
    )
    bus.emit(conn, {"type": "command", "gateway_id": gateway_id, "cursor": cursor})
    return int(cursor)
