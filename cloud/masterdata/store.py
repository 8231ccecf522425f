"""The network's master data, held by the cloud: SKUs (network-wide, table ``skus``) and each warehouse's
zones, locations, operators and orders (table ``site_records``), all as the models of ``sync.masterdata``.

The cloud is the master. A site's TOML seeds its gateway and is imported here (``import_catalogue``: at
the gateway's first sync, or ``wims cloud masterdata import``); from then on a change made in the cloud
reaches every gateway that needs it as a ``master_data`` command, written in the same transaction as the
change (``distribute``): a SKU goes to every gateway, a warehouse's own records to that warehouse's.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

import sqlalchemy as sa
from pydantic import BaseModel
from sqlalchemy.engine import Connection

from cloud.audit.log import append as audit_append
from cloud.db.engine import dialect_insert
from cloud.db.schema import commands, gateways, site_records, skus
from cloud.events.hub import EventBus
from sync.canonical import canonical_bytes
from sync.commands import MasterDataCommand
from sync.masterdata import InboundOrder, Location, Operator, OutboundOrder, Record, Sku, Zone
from sync.ops import uuid7

SITE_MODELS: dict[str, type[Record]] = {
    "zones": Zone,
    "locations": Location,
    "operators": Operator,
    "inbound_orders": InboundOrder,
    "outbound_orders": OutboundOrder,
}
"""The ``MasterDataCommand`` lists held per warehouse (``skus`` is network-wide)."""
SITE_KINDS = tuple(SITE_MODELS)

SKU_COLUMNS = tuple(Sku.model_fields)
COST_FIELDS = ("cost_price", "supplier")

ImportMode = Literal["upsert", "seed"]
"""``upsert``: the imported records replace the cloud's (an admin's import). ``seed``: only records the
cloud does not have yet are added; where the cloud has its own, it keeps it (a gateway's first sync)."""


def key_of(record: Record) -> str:
    return str(getattr(record, "code", None) or getattr(record, "id", ""))


def sku_from_row(row: Any) -> Sku:
    return Sku.model_validate({name: getattr(row, name) for name in SKU_COLUMNS})


def read_skus(conn: Connection, codes: Iterable[str] | None = None) -> dict[str, Sku]:
    q = sa.select(skus)
    if codes is not None:
        wanted = list(codes)
        if not wanted:
            return {}
        q = q.where(skus.c.code.in_(wanted))
    return {r.code: sku_from_row(r) for r in conn.execute(q)}


def read_site(conn: Connection, warehouse: str, kind: str) -> dict[str, Record]:
    model = SITE_MODELS[kind]
    rows = conn.execute(
        sa.select(site_records.c.code, site_records.c.data).where(
            site_records.c.warehouse == warehouse, site_records.c.kind == kind
        )
    )
    return {r.code: model.model_validate_json(r.data) for r in rows}


@dataclass
class ImportResult:
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    kept: list[str] = field(default_factory=list)
    """Records the cloud kept over the imported ones (``seed`` mode), as ``kind/code``."""
    changed: MasterDataCommand = field(default_factory=MasterDataCommand)
    """What changed in the cloud: to distribute."""
    cloud_versions: MasterDataCommand = field(default_factory=MasterDataCommand)
    """The cloud's own version of the records kept (sent back to the importing gateway)."""


def import_catalogue(
    conn: Connection,
    warehouse: str,
    body: MasterDataCommand,
    *,
    mode: ImportMode,
    now: datetime,
    actor: str,
) -> ImportResult:
    """Write ``body`` into the cloud's master data (inside the caller's transaction)."""
    result = ImportResult()
    changed: dict[str, list[BaseModel]] = {name: [] for name in MasterDataCommand.model_fields}
    kept: dict[str, list[BaseModel]] = {name: [] for name in MasterDataCommand.model_fields}
    stored_skus = read_skus(conn, [s.code for s in body.skus])
    for sku in body.skus:
        _sort(result, changed["skus"], kept["skus"], "skus", sku, stored_skus.get(sku.code), mode)
    for kind in SITE_KINDS:
        stored = read_site(conn, warehouse, kind)
        for record in getattr(body, kind):
            _sort(result, changed[kind], kept[kind], kind, record, stored.get(key_of(record)), mode)
    result.changed = MasterDataCommand.model_validate({k: v for k, v in changed.items() if v})
    result.cloud_versions = MasterDataCommand.model_validate({k: v for k, v in kept.items() if v})
    write(conn, warehouse, result.changed, now=now, actor=actor)
    return result


def _sort(
    result: ImportResult,
    changed: list[BaseModel],
    kept: list[BaseModel],
    kind: str,
    record: Record,
    stored: Record | None,
    mode: ImportMode,
) -> None:
    if stored is None:
        result.added += 1
        changed.append(record)
    elif stored == record:
        result.unchanged += 1
    elif mode == "upsert":
        result.updated += 1
        changed.append(record)
    else:
        result.kept.append(f"{kind}/{key_of(record)}")
        kept.append(stored)


def write(conn: Connection, warehouse: str | None, body: MasterDataCommand, *, now: datetime, actor: str) -> None:
    """Upsert the records of ``body`` (site records need ``warehouse``)."""
    if body.skus:
        rows = [{**s.model_dump(), "updated_at": now} for s in body.skus]
        ins = dialect_insert(conn, skus)
        conn.execute(
            ins.on_conflict_do_update(
                index_elements=["code"], set_={c: ins.excluded[c] for c in (*SKU_COLUMNS, "updated_at") if c != "code"}
            ),
            rows,
        )
    site_rows = [
        {
            "warehouse": warehouse,
            "kind": kind,
            "code": key_of(record),
            "data": canonical_bytes(record.model_dump(mode="json")).decode(),
            "updated_at": now,
            "updated_by": actor,
        }
        for kind in SITE_KINDS
        for record in getattr(body, kind)
    ]
    if site_rows:
        if warehouse is None:
            raise ValueError("site records need a warehouse")
        ins = dialect_insert(conn, site_records)
        conn.execute(
            ins.on_conflict_do_update(
                index_elements=["warehouse", "kind", "code"],
                set_={c: ins.excluded[c] for c in ("data", "updated_at", "updated_by")},
            ),
            site_rows,
        )
    if body.record_count:
        audit_append(
            conn,
            now=now,
            actor=actor,
            action="masterdata.write",
            target=f"warehouse/{warehouse}" if warehouse else "network",
            detail={k: len(getattr(body, k)) for k in MasterDataCommand.model_fields if getattr(body, k)},
        )


def export(conn: Connection, warehouse: str | None) -> MasterDataCommand:
    """Every SKU, and the warehouse's own records when one is named."""
    data: dict[str, list[Any]] = {"skus": sorted(read_skus(conn).values(), key=lambda s: s.code)}
    if warehouse is not None:
        for kind in SITE_KINDS:
            data[kind] = [r for _, r in sorted(read_site(conn, warehouse, kind).items())]
    return MasterDataCommand.model_validate(data)


_CHUNK = 5000
"""Records per ``master_data`` command: a big import goes to a gateway in several commands."""


def distribute(
    conn: Connection,
    bus: EventBus,
    changed: MasterDataCommand,
    warehouse: str | None,
    *,
    now: datetime,
    actor: str,
    only_gateway: str | None = None,
    except_gateway: str | None = None,
) -> int:
    """Queue ``changed`` as ``master_data`` commands for every gateway that needs it; returns how many.

    SKUs go to every registered (not revoked) gateway; the records of ``warehouse`` to its gateways only.
    """
    if not changed.record_count:
        return 0
    q = sa.select(gateways.c.gateway_id, gateways.c.warehouse).where(gateways.c.revoked_at.is_(None))
    if only_gateway is not None:
        q = q.where(gateways.c.gateway_id == only_gateway)
    queued = 0
    for gateway_id, gw_warehouse in conn.execute(q.order_by(gateways.c.gateway_id)).all():
        if gateway_id == except_gateway:
            continue
        parts: dict[str, list[Any]] = {"skus": list(changed.skus)}
        if warehouse is not None and gw_warehouse == warehouse:
            for kind in SITE_KINDS:
                parts[kind] = list(getattr(changed, kind))
        for body in _chunks(parts):
            text = canonical_bytes(body.model_dump(mode="json")).decode()
            row = conn.execute(
                commands.insert()
                .values(
                    command_id=f"md-{uuid7()}",
                    gateway_id=gateway_id,
                    type="master_data",
                    body=text,
                    created_by=actor,
                    created_at=now,
                )
                .returning(commands.c.cursor)
            ).one()
            bus.emit(conn, {"type": "command", "gateway_id": gateway_id, "cursor": row.cursor})
            queued += 1
    return queued


def _chunks(parts: dict[str, list[Any]]) -> list[MasterDataCommand]:
    flat = [(kind, r) for kind, records in parts.items() for r in records]
    out = []
    for i in range(0, len(flat), _CHUNK):
        body: dict[str, list[Any]] = {}
        for kind, record in flat[i : i + _CHUNK]:
            body.setdefault(kind, []).append(record)
        out.append(MasterDataCommand.model_validate(body))
    return out


def catalogue_from_toml(data: dict[str, Any]) -> tuple[str, MasterDataCommand]:
    """A site TOML's warehouse code and master data (its other sections are the gateway's business)."""
    warehouse = data.get("site", {}).get("warehouse")
    if not isinstance(warehouse, str) or not warehouse:
        raise ValueError("site.warehouse: missing")
    body = MasterDataCommand.model_validate({k: data.get(k, []) for k in MasterDataCommand.model_fields})
    return warehouse, body
