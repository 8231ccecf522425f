"""The network as rows: warehouses, transfer lanes and carrier service lanes, read back as a ``Network``.

The records are the planning cores' own models (``cloud.planning.network``), so a body an admin posts
is validated exactly as planning will read it, and a lane naming an unknown warehouse is refused when
it is written, not when a planning run trips over it. Every write is in the audit log.
"""

from __future__ import annotations

import json
from datetime import datetime, time
from typing import Any

import sqlalchemy as sa
from pydantic import Field
from sqlalchemy.engine import Connection

from cloud.audit.log import append as audit_append
from cloud.db.engine import dialect_insert
from cloud.db.schema import lanes, service_lanes, warehouses
from cloud.planning.network import Lane, Network, ServiceLane, Warehouse, network_of


class WarehouseRecord(Warehouse):
    """A warehouse as the cloud stores it: the planning record plus its supplier lead time."""

    lead_time_days: int = Field(default=14, ge=0, le=365, description="Days a purchase takes to arrive here.")


class NetworkWriteError(ValueError):
    """A record that does not fit the network as stored (a lane to an unknown warehouse)."""


def _upsert(conn: Connection, table: sa.Table, row: dict[str, Any]) -> bool:
    """Insert or update ``row`` by the table's primary key; True when it was new."""
    keys = [c.name for c in table.primary_key]
    where = sa.and_(*(table.c[k] == row[k] for k in keys))
    existed = conn.execute(sa.select(*(table.c[k] for k in keys)).where(where)).first() is not None
    ins = dialect_insert(conn, table).values(**row)
    conn.execute(ins.on_conflict_do_update(index_elements=keys, set_={k: v for k, v in row.items() if k not in keys}))
    return not existed


def put_warehouse(conn: Connection, w: WarehouseRecord, *, now: datetime, actor: str) -> bool:
    row = {
        "code": w.code,
        "name": w.name,
        "country": w.country,
        "region": w.region,
        "timezone": w.timezone,
        "latitude": w.latitude,
        "longitude": w.longitude,
        "events": None if w.events is None else json.dumps(list(w.events)),
        "lead_time_days": w.lead_time_days,
        "updated_at": now,
        "updated_by": actor,
    }
    created = _upsert(conn, warehouses, row)
    audit_append(
        conn, now=now, actor=actor, action="network.warehouse", target=f"warehouse/{w.code}", detail=w.model_dump()
    )
    return created


def _known(conn: Connection, *codes: str) -> None:
    found = set(conn.execute(sa.select(warehouses.c.code).where(warehouses.c.code.in_(codes))).scalars())
    for key, code in zip(("origin", "destination"), codes, strict=False):
        if code not in found:
            raise NetworkWriteError(f"{key}: unknown warehouse {code!r} (add it first)")


def put_lane(conn: Connection, lane: Lane, *, now: datetime, actor: str) -> bool:
    _known(conn, lane.origin, lane.destination)
    row = {**lane.model_dump(), "updated_at": now, "updated_by": actor}
    created = _upsert(conn, lanes, row)
    audit_append(
        conn,
        now=now,
        actor=actor,
        action="network.lane",
        target=f"lane/{lane.origin}/{lane.destination}",
        detail=lane.model_dump(),
    )
    return created


def put_service_lane(conn: Connection, s: ServiceLane, *, now: datetime, actor: str) -> bool:
    found = conn.execute(sa.select(warehouses.c.code).where(warehouses.c.code == s.warehouse)).first()
    if found is None:
        raise NetworkWriteError(f"warehouse: unknown warehouse {s.warehouse!r} (add it first)")
    row = {
        "warehouse": s.warehouse,
        "region": s.region,
        "carrier": s.carrier,
        "transit_days": s.transit_days,
        "cutoff": s.cutoff.strftime("%H:%M"),
        "ship_days": "".join(str(d) for d in s.ship_days),
        "cost_per_unit": s.cost_per_unit,
        "cost_per_shipment": s.cost_per_shipment,
        "updated_at": now,
        "updated_by": actor,
    }
    created = _upsert(conn, service_lanes, row)
    audit_append(
        conn,
        now=now,
        actor=actor,
        action="network.service_lane",
        target=f"service_lane/{s.warehouse}/{s.region}/{s.carrier}",
        detail=s.model_dump(mode="json"),
    )
    return created


def _warehouse(r: Any) -> WarehouseRecord:
    return WarehouseRecord(
        code=r.code,
        name=r.name,
        country=r.country,
        region=r.region,
        timezone=r.timezone,
        latitude=r.latitude,
        longitude=r.longitude,
        events=None if r.events is None else tuple(json.loads(r.events)),
        lead_time_days=r.lead_time_days,
    )


def list_warehouses(conn: Connection) -> list[WarehouseRecord]:
    return [_warehouse(r) for r in conn.execute(sa.select(warehouses).order_by(warehouses.c.code))]


def list_lanes(conn: Connection) -> list[Lane]:
    c = lanes.c
    return [
        Lane(
            origin=r.origin,
            destination=r.destination,
            transit_days=r.transit_days,
            cost_per_unit=r.cost_per_unit,
            cost_per_shipment=r.cost_per_shipment,
            capacity=r.capacity,
            min_shipment=r.min_shipment,
        )
        for r in conn.execute(sa.select(lanes).order_by(c.origin, c.destination))
    ]


def list_service_lanes(conn: Connection) -> list[ServiceLane]:
    c = service_lanes.c
    out = []
    for r in conn.execute(sa.select(service_lanes).order_by(c.warehouse, c.region, c.carrier)):
        hh, mm = r.cutoff.split(":")
        out.append(
            ServiceLane(
                warehouse=r.warehouse,
                region=r.region,
                carrier=r.carrier,
                transit_days=r.transit_days,
                cutoff=time(int(hh), int(mm)),
                ship_days=tuple(int(d) for d in r.ship_days),
                cost_per_unit=r.cost_per_unit,
                cost_per_shipment=r.cost_per_shipment,
            )
        )
    return out


def load_network(conn: Connection) -> Network:
    """The whole network as planning reads it (records were validated one by one when written)."""
    whs = [Warehouse(**w.model_dump(exclude={"lead_time_days"})) for w in list_warehouses(conn)]
    return network_of(whs, list_lanes(conn), list_service_lanes(conn))


def lead_times(conn: Connection) -> dict[str, int]:
    return dict(conn.execute(sa.select(warehouses.c.code, warehouses.c.lead_time_days)).all())


def time_zones(conn: Connection) -> dict[str, str]:
    return dict(conn.execute(sa.select(warehouses.c.code, warehouses.c.timezone)).all())
