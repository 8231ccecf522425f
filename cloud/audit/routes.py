"""Reading and verifying the audit log (auditors and admins)."""

from __future__ import annotations

import json
from typing import Annotated, Any

import sqlalchemy as sa
from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, Field

from cloud.audit.log import verify
from cloud.auth.deps import Principal, require
from cloud.auth.scope import Scope
from cloud.db.schema import audit_log
from cloud.paging import After, Limit, Page, by_key
from cloud.services import Svc
from sync.roles import Role

router = APIRouter(prefix="/v1/audit", tags=["audit"])


def _auditor(principal: Annotated[Principal, Depends(require(Role.AUDITOR, Role.ADMIN))]) -> Principal:
    """The audit log spans the network: a user bound to a warehouse may not read it."""
    Scope(principal).network()
    return principal


Auditor = Annotated[Principal, Depends(_auditor)]


class AuditEntry(BaseModel):
    id: int
    at: str = Field(description="ISO 8601 UTC with Z, as hashed.")
    actor: str
    action: str
    target: str
    detail: dict[str, Any]
    prev_hash: str
    hash: str


class AuditVerifyOut(BaseModel):
    ok: bool
    entries: int
    bad_id: int | None
    reason: str


@router.get("", response_model=Page[AuditEntry])
def entries(
    svc: Svc,
    _c: Auditor,
    after: After = 0,
    limit: Limit = 100,
    action: Annotated[str | None, Query(max_length=64)] = None,
) -> dict[str, Any]:
    q = sa.select(audit_log).where(audit_log.c.id > after)
    if action is not None:
        q = q.where(audit_log.c.action == action)
    with svc.engine.connect() as conn:
        rows = conn.execute(q.order_by(audit_log.c.id).limit(limit + 1)).all()
    page, nxt = by_key(rows, limit, lambda r: int(r.id))
    items = [
        AuditEntry(
            id=r.id,
            at=r.at,
            actor=r.actor,
            action=r.action,
            target=r.target,
            detail=json.loads(r.detail),
            prev_hash=r.prev_hash,
            hash=r.hash,
        )
        for r in page
    ]
    return {"items": items, "next_after": nxt}


@router.get("/verify", response_model=AuditVerifyOut)
def verify_chain(svc: Svc, _c: Auditor) -> AuditVerifyOut:
    with svc.engine.connect() as conn:
        v = verify(conn)
    return AuditVerifyOut(ok=v.ok, entries=v.entries, bad_id=v.bad_id, reason=v.reason)
