"""``PUT /v1/gateways/{id}/status``: a gateway says how it is; ``GET /v1/sites``: every site's state.

A gateway's sync runner sends its status every ``[sync] status_seconds`` (journal head, acknowledged
seq, backlog, each part's health). The answer carries the hash of the site layout the cloud holds; when
it differs from the gateway's own, the gateway sends its zones and locations with the next status, so
the cloud learns capacities (space utilisation) without a second protocol. Each report emits a ``site``
event, so an open dashboard shows a site coming back at once; going offline is the absence of reports,
which the dashboard's query decides against ``WIMS_SITE_OFFLINE_AFTER_S``.
"""

from __future__ import annotations

import json
from typing import Any, Literal

import sqlalchemy as sa
from fastapi import APIRouter, HTTPException, status
from pydantic import BaseModel, Field

from cloud.auth.deps import Caller
from cloud.db.engine import dialect_insert
from cloud.db.schema import gateway_status, site_locations, site_zones
from cloud.ingest.routes import GatewayId, own_gateway
from cloud.services import Svc
from sync.roles import Role

router = APIRouter(prefix="/v1/gateways", tags=["sites"])

PartStatus = Literal["ok", "degraded", "down", "starting"]


class PartIn(BaseModel):
    status: PartStatus
    detail: str = Field(default="", max_length=500)
    since: str | None = Field(default=None, max_length=40)


class ZoneIn(BaseModel):
    code: str = Field(min_length=1, max_length=64)
    name: str = Field(default="", max_length=200)
    temperature_class: str = Field(default="ambient", max_length=16)


class LocationIn(BaseModel):
    code: str = Field(min_length=1, max_length=64)
    zone: str = Field(min_length=1, max_length=64)
    type: str = Field(default="rack", max_length=16)
    capacity: int = Field(default=0, ge=0, le=10**12)


class SiteLayoutIn(BaseModel):
    hash: str = Field(pattern=r"^[0-9a-f]{64}$")
    zones: list[ZoneIn] = Field(max_length=10_000)
    locations: list[LocationIn] = Field(max_length=200_000)


class StatusIn(BaseModel):
    head_seq: int = Field(ge=0)
    acked_seq: int = Field(ge=0)
    backlog_ops: int = Field(ge=0)
    backlog_bytes: int = Field(ge=0)
    oldest_unacked_age_s: float | None = Field(default=None, ge=0)
    overall: PartStatus
    parts: dict[str, PartIn] = Field(default_factory=dict, max_length=1000)
    site_hash: str | None = Field(default=None, pattern=r"^[0-9a-f]{64}$")
    site: SiteLayoutIn | None = None


class StatusAck(BaseModel):
    site_hash: str | None = Field(description="The layout the cloud holds; send yours when it differs.")


@router.put("/{gateway_id}/status", response_model=StatusAck)
def put_status(gateway_id: GatewayId, req: StatusIn, svc: Svc, caller: Caller) -> StatusAck:
    if caller.role is not Role.GATEWAY:
        raise HTTPException(status.HTTP_403_FORBIDDEN, "only a gateway reports its status")
    own_gateway(caller, gateway_id)
    warehouse = caller.warehouse or ""
    now = svc.clock.now()
    with svc.engine.begin() as conn:
        held = conn.execute(
            sa.select(gateway_status.c.site_hash).where(gateway_status.c.gateway_id == gateway_id)
        ).scalar_one_or_none()
        if req.site is not None:
            _store_layout(conn, warehouse, req.site)
            held = req.site.hash
        row: dict[str, Any] = {
            "gateway_id": gateway_id,
            "reported_at": now,
            "head_seq": req.head_seq,
            "acked_seq": req.acked_seq,
            "backlog_ops": req.backlog_ops,
            "backlog_bytes": req.backlog_bytes,
            "oldest_unacked_age_s": req.oldest_unacked_age_s,
            "overall": req.overall,
            "health": json.dumps({k: v.model_dump() for k, v in req.parts.items()}, sort_keys=True),
            "site_hash": held,
        }
        ins = dialect_insert(conn, gateway_status)
        conn.execute(ins.on_conflict_do_update(index_elements=["gateway_id"], set_=row), row)
        svc.bus.emit(conn, {"type": "site", "warehouse": warehouse, "gateway_id": gateway_id})
    return StatusAck(site_hash=held)


def _store_layout(conn: sa.Connection, warehouse: str, site: SiteLayoutIn) -> None:
    """Replace the warehouse's zones and locations with the gateway's (it is the source of its layout)."""
    conn.execute(site_zones.delete().where(site_zones.c.warehouse == warehouse))
    conn.execute(site_locations.delete().where(site_locations.c.warehouse == warehouse))
    if site.zones:
        conn.execute(site_zones.insert(), [{"warehouse": warehouse, **z.model_dump()} for z in site.zones])
    for i in range(0, len(site.locations), 5000):
        chunk = site.locations[i : i + 5000]
        conn.execute(site_locations.insert(), [{"warehouse": warehouse, **loc.model_dump()} for loc in chunk])
