"""Telemetry from gateways: 1-minute sensor aggregates, stored once per (gateway, sensor, minute).

A gateway may send the same minute again (more readings arrived after it was sent, or a response was
lost): the row is replaced, so resends are harmless and the latest aggregate wins, which is right for
a minute that only ever grows.
"""

from __future__ import annotations

from typing import Annotated, Any

import sqlalchemy as sa
from fastapi import APIRouter, HTTPException, Query, status
from pydantic import BaseModel, ConfigDict, Field

from cloud.auth.deps import Caller
from cloud.auth.scope import AnyScope
from cloud.db.schema import telemetry_minutes
from cloud.ingest.routes import GatewayId, own_gateway
from cloud.paging import After, Page, by_offset
from cloud.services import Svc
from sync.http.openapi import error_responses
from sync.roles import Role

router = APIRouter(prefix="/v1/gateways", tags=["telemetry"])


class AggregateIn(BaseModel):
    # NaN and infinities cannot be stored (NOT NULL) nor sent back as JSON: refuse them with a 422
    model_config = ConfigDict(allow_inf_nan=False)

    sensor_id: str = Field(min_length=1, max_length=64)
    minute: int = Field(ge=0, le=2**40)
    n: int = Field(ge=1, le=10**9)
    vmin: float
    vmax: float
    vsum: float


class TelemetryIn(BaseModel):
    aggregates: list[AggregateIn] = Field(max_length=5000)


class TelemetryAck(BaseModel):
    stored: int


class AggregateOut(BaseModel):
    sensor_id: str
    minute: int
    n: int
    vmin: float
    vmax: float
    vavg: float


@router.post("/{gateway_id}/telemetry", response_model=TelemetryAck)
def push_telemetry(gateway_id: GatewayId, req: TelemetryIn, svc: Svc, caller: Caller) -> TelemetryAck:
    if caller.role is not Role.GATEWAY:
        raise HTTPException(status.HTTP_403_FORBIDDEN, "only a gateway pushes telemetry")
    own_gateway(caller, gateway_id)
    rows = [{"gateway_id": gateway_id, **a.model_dump()} for a in req.aggregates]
    if rows:
        keys = [(r["sensor_id"], r["minute"]) for r in rows]
        with svc.engine.begin() as conn:
            t = telemetry_minutes
            conn.execute(
                sa.delete(t).where(t.c.gateway_id == gateway_id, sa.tuple_(t.c.sensor_id, t.c.minute).in_(keys))
            )
            conn.execute(sa.insert(t), rows)
    return TelemetryAck(stored=len(rows))


@router.get("/{gateway_id}/telemetry", response_model=Page[AggregateOut], responses=error_responses(404))
def read_telemetry(
    gateway_id: GatewayId,
    svc: Svc,
    scope: AnyScope,
    sensor_id: Annotated[str | None, Query(max_length=64)] = None,
    since_minute: Annotated[int, Query(ge=0, le=2**40)] = 0,
    limit: Annotated[int, Query(ge=1, le=10_000)] = 1000,
    after: After = 0,
) -> dict[str, Any]:
    t = telemetry_minutes
    q = sa.select(t).where(t.c.gateway_id == gateway_id, t.c.minute >= since_minute)
    if sensor_id is not None:
        q = q.where(t.c.sensor_id == sensor_id)
    with svc.engine.connect() as conn:
        scope.gateway(conn, gateway_id)
        rows = conn.execute(q.order_by(t.c.minute, t.c.sensor_id).limit(limit + 1).offset(after)).all()
    page, nxt = by_offset(rows, limit, after)
    items = [
        AggregateOut(sensor_id=r.sensor_id, minute=r.minute, n=r.n, vmin=r.vmin, vmax=r.vmax, vavg=r.vsum / r.n)
        for r in page
    ]
    return {"items": items, "next_after": nxt}
