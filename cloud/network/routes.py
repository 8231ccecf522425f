"""Admin endpoints for the network: warehouses, transfer lanes, carrier service lanes.

Writes are for admins; reads for admins and planners (a user bound to a warehouse sees its own
warehouse and the lanes that touch it). A bad record is a 422 naming the field, as anywhere else.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Path
from pydantic import BaseModel, ConfigDict, Field

from cloud.auth.deps import Principal, require
from cloud.auth.scope import Scope, scope_for
from cloud.network import store
from cloud.planning.network import Lane, ServiceLane
from cloud.services import Svc
from sync.codes import CODE_MAX_LENGTH, CODE_PATTERN
from sync.http.openapi import error_responses
from sync.roles import Role

router = APIRouter(prefix="/v1/network", tags=["network"])
Admin = Annotated[Principal, Depends(require(Role.ADMIN))]
PlanReader = Annotated[Scope, Depends(scope_for(Role.ADMIN, Role.PLANNER))]
CodePath = Annotated[str, Path(min_length=1, max_length=CODE_MAX_LENGTH, pattern=CODE_PATTERN)]


class Saved(BaseModel):
    model_config = ConfigDict(json_schema_serialization_defaults_required=True)

    created: bool


class WarehousePage(BaseModel):
    items: list[store.WarehouseRecord]


class LanePage(BaseModel):
    items: list[Lane]


class ServiceLaneOut(BaseModel):
    """A carrier service as stored: ``cutoff`` as local ``HH:MM`` (a wall-clock time, no offset)."""

    model_config = ConfigDict(json_schema_serialization_defaults_required=True)

    warehouse: str
    region: str
    carrier: str
    transit_days: int
    cutoff: str = Field(pattern=r"^\d{2}:\d{2}$", description="The carrier's last pick-up, local HH:MM.")
    ship_days: list[int] = Field(description="ISO weekdays the carrier collects (1 = Monday).")
    cost_per_unit: float
    cost_per_shipment: float


class ServiceLanePage(BaseModel):
    items: list[ServiceLaneOut]


def _refused(exc: ValueError) -> HTTPException:
    return HTTPException(422, str(exc))


@router.put("/warehouses/{code}", response_model=Saved, responses=error_responses(422))
def put_warehouse(code: CodePath, req: store.WarehouseRecord, svc: Svc, caller: Admin) -> Saved:
    """Add or change a warehouse (its code in the path and the body must agree)."""
    if req.code != code:
        raise HTTPException(422, f"code: the body says {req.code!r}, the path {code!r}")
    with svc.engine.begin() as conn:
        return Saved(created=store.put_warehouse(conn, req, now=svc.clock.now(), actor=caller.audit_name))


@router.get("/warehouses", response_model=WarehousePage)
def get_warehouses(svc: Svc, scope: PlanReader) -> dict[str, Any]:
    with svc.engine.connect() as conn:
        rows = store.list_warehouses(conn)
    return {"items": [w for w in rows if scope.bound in (None, w.code)]}


@router.put("/lanes", response_model=Saved, responses=error_responses(422))
def put_lane(req: Lane, svc: Svc, caller: Admin) -> Saved:
    """Add or change the transfer lane ``origin -> destination`` (both warehouses must exist)."""
    try:
        with svc.engine.begin() as conn:
            return Saved(created=store.put_lane(conn, req, now=svc.clock.now(), actor=caller.audit_name))
    except store.NetworkWriteError as exc:
        raise _refused(exc) from None


@router.get("/lanes", response_model=LanePage)
def get_lanes(svc: Svc, scope: PlanReader) -> dict[str, Any]:
    with svc.engine.connect() as conn:
        rows = store.list_lanes(conn)
    return {"items": [x for x in rows if scope.bound is None or scope.bound in (x.origin, x.destination)]}


@router.put("/service-lanes", response_model=Saved, responses=error_responses(422))
def put_service_lane(req: ServiceLane, svc: Svc, caller: Admin) -> Saved:
    """Add or change a carrier service from a warehouse to a customer region (what order routing reads)."""
    try:
        with svc.engine.begin() as conn:
            return Saved(created=store.put_service_lane(conn, req, now=svc.clock.now(), actor=caller.audit_name))
    except store.NetworkWriteError as exc:
        raise _refused(exc) from None


@router.get("/service-lanes", response_model=ServiceLanePage)
def get_service_lanes(svc: Svc, scope: PlanReader) -> dict[str, Any]:
    with svc.engine.connect() as conn:
        rows = store.list_service_lanes(conn)
    return {
        "items": [
            {**x.model_dump(mode="json"), "cutoff": x.cutoff.strftime("%H:%M")}
            for x in rows
            if scope.bound in (None, x.warehouse)
        ]
    }
