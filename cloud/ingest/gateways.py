"""Gateway registration: one row per edge gateway, its warehouse, its token hash and its chain head."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from cloud.audit.log import append as audit_append
from cloud.auth.security import new_token
from cloud.db.schema import gateways
from sync.ops import GENESIS_HASH


class GatewayExists(ValueError):
    pass


def add_gateway(engine: Engine, gateway_id: str, warehouse: str, *, now: datetime, actor: str) -> str:
    """Register a gateway and return its bearer token (the only time it is ever visible)."""
    token, digest = new_token("wgw")
    with engine.begin() as conn:
        if conn.execute(sa.select(gateways.c.gateway_id).where(gateways.c.gateway_id == gateway_id)).first():
            raise GatewayExists(gateway_id)
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
