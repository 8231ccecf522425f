"""SKU master data. Cost prices and suppliers are written and read only by admins and planners."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Any

import sqlalchemy as sa
from fastapi import APIRouter, Depends, HTTPException, Path, Query, status
from pydantic import BaseModel, Field

from cloud.audit.log import append as audit_append
from cloud.auth.deps import Principal, require
from cloud.db.engine import dialect_insert
from cloud.db.schema import skus
from cloud.services import Svc
from sync.codes import CODE_MAX_LENGTH, CODE_PATTERN
from sync.roles import COST_ROLES, USER_ROLES, Role

router = APIRouter(prefix="/v1/skus", tags=["master data"])
SkuCode = Annotated[str, Path(min_length=1, max_length=CODE_MAX_LENGTH, pattern=CODE_PATTERN)]


class SkuIn(BaseModel):
    name: str = Field(min_length=1, max_length=200)
    uom: str = Field(default="EA", min_length=1, max_length=16)
    category: str | None = Field(default=None, max_length=64)
    cost_price: Decimal | None = Field(default=None, ge=0, le=Decimal("1e12"), decimal_places=4)
    supplier: str | None = Field(default=None, max_length=200)


class SkuOut(BaseModel):
    """``cost_price`` and ``supplier`` are present only for admins and planners."""

    code: str
    name: str
    uom: str
    category: str | None = None
    cost_price: Decimal | None = None
    supplier: str | None = None


def _out(row: Any, caller: Principal) -> SkuOut:
    fields: dict[str, Any] = {"code": row.code, "name": row.name, "uom": row.uom, "category": row.category}
    if caller.role in COST_ROLES:
        fields["cost_price"] = row.cost_price
        fields["supplier"] = row.supplier
    return SkuOut(**fields)


@router.put("/{code}", response_model=SkuOut, response_model_exclude_unset=True)
def put_sku(
    code: SkuCode,
    req: SkuIn,
    svc: Svc,
    caller: Annotated[Principal, Depends(require(Role.ADMIN, Role.PLANNER))],
) -> SkuOut:
    now = svc.clock.now()
    values = {**req.model_dump(), "code": code, "updated_at": now}
    with svc.engine.begin() as conn:
        ins = dialect_insert(conn, skus).values(**values)
        conn.execute(
            ins.on_conflict_do_update(index_elements=["code"], set_={k: v for k, v in values.items() if k != "code"})
        )
        audit_append(
            conn,
            now=now,
            actor=caller.audit_name,
            action="sku.put",
            target=f"sku/{code}",
            detail=req.model_dump(mode="json"),
        )
        row = conn.execute(sa.select(skus).where(skus.c.code == code)).one()
    return _out(row, caller)


@router.get("/{code}", response_model=SkuOut, response_model_exclude_unset=True)
def get_sku(code: SkuCode, svc: Svc, caller: Annotated[Principal, Depends(require(*USER_ROLES))]) -> SkuOut:
    with svc.engine.connect() as conn:
        row = conn.execute(sa.select(skus).where(skus.c.code == code)).first()
    if row is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "unknown SKU")
    return _out(row, caller)


@router.get("", response_model=list[SkuOut], response_model_exclude_unset=True)
def list_skus(
    svc: Svc,
    caller: Annotated[Principal, Depends(require(*USER_ROLES))],
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Annotated[int, Query(ge=0, le=10**9)] = 0,
) -> list[SkuOut]:
    with svc.engine.connect() as conn:
        rows = conn.execute(sa.select(skus).order_by(skus.c.code).limit(limit).offset(offset)).all()
    return [_out(r, caller) for r in rows]
