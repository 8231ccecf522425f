"""Gateway registration: one row per edge gateway, its warehouse, its token hash and its chain head."""

from __future__ import annotations

import secrets
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine, Row

from cloud.audit.log import append as audit_append
from cloud.auth.security import new_token
from cloud.db.schema import commands, gateways
from sync.ops import GENESIS_HASH


class GatewayExists(ValueError):
    pass


def add_gateway(engine: Engine, gateway_id: str, warehouse: str, *, now: datetime, actor: str) -> str:
    """Register a gateway and return its bearer token (the only time it is ever visible)."""
    token, digest = new_token("wgw")
    with engine.begin() as conn:
        row = conn.execute(sa.select(gateways).where(gateways.c.gateway_id == gateway_id)).first()
        if row is not None:
            raise GatewayExists(describe_existing(row))
        conn.execute(
            gateways.insert().values(
                gateway_id=gateway_id,
                warehouse=warehouse,
                token_hash=digest,
                head_seq=0,
                head_hash=GENESIS_HASH,
                created_at=now,
            )
        )
        audit_append(
            conn,
            now=now,
            actor=actor,
            action="gateway.add",
            target=f"gateway/{gateway_id}",
            detail={"warehouse": warehouse},
        )
    return token


def describe_existing(row: Row[Any]) -> str:
    state = ", revoked" if row.revoked_at is not None else ""
    return f"gateway {row.gateway_id!r} already exists (warehouse {row.warehouse}{state})"


class UnknownGateway(LookupError):
    def __init__(self, gateway_id: str) -> None:
        super().__init__(f"no gateway {gateway_id!r}")


def list_gateways(engine: Engine) -> list[dict[str, object]]:
    """Every registered gateway with its chain head and its commands still pending."""
    pending = (
        sa.select(sa.func.count())
        .where(commands.c.gateway_id == gateways.c.gateway_id, commands.c.status == "pending")
        .scalar_subquery()
    )
    with engine.connect() as conn:
        rows = conn.execute(sa.select(gateways, pending.label("pending")).order_by(gateways.c.gateway_id)).all()
    return [
        {
            "gateway_id": r.gateway_id,
            "warehouse": r.warehouse,
            "acked_seq": r.head_seq,
            "pending_commands": r.pending,
            "created_at": r.created_at,
            "revoked_at": r.revoked_at,
        }
        for r in rows
    ]


def _existing(conn: Connection, gateway_id: str) -> Row[Any]:
    row = conn.execute(sa.select(gateways).where(gateways.c.gateway_id == gateway_id).with_for_update()).first()
    if row is None:
        raise UnknownGateway(gateway_id)
    return row


def rotate_token(engine: Engine, gateway_id: str, *, now: datetime, actor: str) -> str:
    """A new token for the gateway (the old one stops working at once; a revoked gateway is restored)."""
    token, digest = new_token("wgw")
    with engine.begin() as conn:
        _existing(conn, gateway_id)
        conn.execute(
            gateways.update().where(gateways.c.gateway_id == gateway_id).values(token_hash=digest, revoked_at=None)
        )
        audit_append(
            conn, now=now, actor=actor, action="gateway.rotate_token", target=f"gateway/{gateway_id}", detail={}
        )
    return token


def revoke(engine: Engine, gateway_id: str, *, now: datetime, actor: str) -> None:
    """The gateway's token stops working; its ops and chain head stay (``rotate-token`` restores it)."""
    with engine.begin() as conn:
        _existing(conn, gateway_id)
        unusable = "revoked-" + secrets.token_hex(28)  # a hash no token has
        conn.execute(
            gateways.update().where(gateways.c.gateway_id == gateway_id).values(token_hash=unusable, revoked_at=now)
        )
        audit_append(conn, now=now, actor=actor, action="gateway.revoke", target=f"gateway/{gateway_id}", detail={})


class GatewayHasOps(RuntimeError):
    pass


def remove(engine: Engine, gateway_id: str, *, now: datetime, actor: str, force: bool) -> int:
    """Delete a gateway's registration and its queued commands. Its ops stay in the ledger (they are the
    stock's history); without ``force`` a gateway that has sent ops is refused. Returns the ops kept."""
    with engine.begin() as conn:
        row = _existing(conn, gateway_id)
        n_ops = int(row.head_seq)
        if n_ops and not force:
            raise GatewayHasOps(
                f"gateway {gateway_id!r} has sent {n_ops} ops: revoke it instead, or remove it with --force "
                "(its ops stay in the ledger)"
            )
        conn.execute(commands.delete().where(commands.c.gateway_id == gateway_id))
        conn.execute(gateways.delete().where(gateways.c.gateway_id == gateway_id))
        audit_append(
            conn, now=now, actor=actor, action="gateway.remove", target=f"gateway/{gateway_id}", detail={"ops": n_ops}
        )
    return n_ops
