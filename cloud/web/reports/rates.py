"""Cost rates per warehouse (labour per hour, energy per day and its price), set by admin or planner."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated

import sqlalchemy as sa
from fastapi import APIRouter, Depends, HTTPException
from fastapi import Path as PathParam
from pydantic import BaseModel, Field
from sqlalchemy.engine import Engine

from cloud.audit.log import append as audit_append
from cloud.auth.scope import Scope, scope_for
from cloud.db.engine import dialect_insert
from cloud.db.schema import warehouse_rates
from cloud.services import Svc
from sync.codes import CODE_MAX_LENGTH, CODE_PATTERN
from sync.roles import Role

router = APIRouter(prefix="/v1/warehouses", tags=["reports"])
WarehouseId = Annotated[str, PathParam(min_length=1, max_length=CODE_MAX_LENGTH, pattern=CODE_PATTERN)]
CostRole = Annotated[Scope, Depends(scope_for(Role.ADMIN, Role.PLANNER))]
"""Admins and planners; one bound to a warehouse sees and sets only its rates (cloud.auth.scope)."""


class RatesIn(BaseModel):
    currency: str = Field(pattern=r"^[A-Z]{3}$", description="ISO 4217 code, e.g. CNY, USD.")
    labour_per_hour: Decimal = Field(ge=0, le=10**9, max_digits=18, decimal_places=4)
    energy_kwh_per_day: Decimal = Field(ge=0, le=10**9, max_digits=18, decimal_places=4)
    energy_price_per_kwh: Decimal = Field(ge=0, le=10**6, max_digits=18, decimal_places=4)


class RatesOut(RatesIn):
    warehouse: str


def set_rates(engine: Engine, warehouse: str, rates: RatesIn, *, now: object, actor: str) -> None:
    row = {"warehouse": warehouse, **rates.model_dump(), "updated_at": now, "updated_by": actor}
    with engine.begin() as conn:
        ins = dialect_insert(conn, warehouse_rates)
        conn.execute(ins.on_conflict_do_update(index_elements=["warehouse"], set_=row), row)
        audit_append(
            conn,
            now=now,  # type: ignore[arg-type]
            actor=actor,
            action="rates.set",
            target=f"warehouse/{warehouse}",
            detail=rates.model_dump(mode="json"),
        )


@router.put("/{warehouse}/rates", response_model=RatesOut)
def put_rates(warehouse: WarehouseId, req: RatesIn, svc: Svc, caller: CostRole) -> RatesOut:
    caller.check(warehouse)
    set_rates(svc.engine, warehouse, req, now=svc.clock.now(), actor=caller.principal.audit_name)
    return RatesOut(warehouse=warehouse, **req.model_dump())


@router.get("/{warehouse}/rates", response_model=RatesOut)
def get_rates(warehouse: WarehouseId, svc: Svc, caller: CostRole) -> RatesOut:
    caller.check(warehouse)
    with svc.engine.connect() as conn:
        r = conn.execute(sa.select(warehouse_rates).where(warehouse_rates.c.warehouse == warehouse)).first()
    if r is None:
        raise HTTPException(404, f"no rates for warehouse {warehouse!r}")
    return RatesOut(
        warehouse=warehouse,
        currency=r.currency,
        labour_per_hour=r.labour_per_hour,
        energy_kwh_per_day=r.energy_kwh_per_day,
        energy_price_per_kwh=r.energy_price_per_kwh,
    )
