"""Master data the gateway holds: SKUs, zones, locations, operators, inbound and outbound orders.

It comes from the site config at start and, later, from the cloud's commands. It is kept in the edge
database too, so the CLI and a restarted gateway see the same catalogue the journal validated against.

The cloud is the network's master: records it sent (``master_data`` commands) are kept apart in
``cloud_master`` and laid over the site file's at every start (``overlay_cloud``), so a restart does not
bring back a site-file version the cloud has since replaced.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass, field
from typing import TypeVar

from pydantic import BaseModel

from edge.config import InboundOrder, Location, Operator, OutboundOrder, SiteConfig, Sku, Zone

M = TypeVar("M", bound=BaseModel)

_TABLES: dict[str, type[BaseModel]] = {
    "skus": Sku,
    "zones": Zone,
    "locations": Location,
    "operators": Operator,
    "inbound_orders": InboundOrder,
    "outbound_orders": OutboundOrder,
}


def _key(record: BaseModel) -> str:
    return str(getattr(record, "code", None) or getattr(record, "id", ""))


def save_cloud_records(conn: sqlite3.Connection, records: dict[str, list[BaseModel]]) -> None:
    """Keep records the cloud sent (inside the caller's transaction)."""
    conn.executemany(
        "INSERT INTO cloud_master(kind, code, data) VALUES (?, ?, ?)"
        " ON CONFLICT(kind, code) DO UPDATE SET data = excluded.data",
        [(kind, _key(r), r.model_dump_json()) for kind, items in records.items() for r in items],
    )


def overlay_cloud(conn: sqlite3.Connection, master: MasterData) -> int:
    """Lay the records the cloud sent over ``master`` (in place); returns how many."""
    n = 0
    for kind, code, data in conn.execute("SELECT kind, code, data FROM cloud_master"):
        model = _TABLES.get(kind)
        if model is not None:
            getattr(master, kind)[code] = model.model_validate(json.loads(data))
            n += 1
    return n


@dataclass
class MasterData:
    skus: dict[str, Sku] = field(default_factory=dict)
    zones: dict[str, Zone] = field(default_factory=dict)
    locations: dict[str, Location] = field(default_factory=dict)
    operators: dict[str, Operator] = field(default_factory=dict)
    inbound_orders: dict[str, InboundOrder] = field(default_factory=dict)
    outbound_orders: dict[str, OutboundOrder] = field(default_factory=dict)

    @classmethod
    def from_config(cls, cfg: SiteConfig) -> MasterData:
        return cls(
            skus={s.code: s for s in cfg.skus},
            zones={z.code: z for z in cfg.zones},
            locations={loc.code: loc for loc in cfg.locations},
            operators={o.id: o for o in cfg.operators},
            inbound_orders={o.id: o for o in cfg.inbound_orders},
            outbound_orders={o.id: o for o in cfg.outbound_orders},
        )

    def sku_by_gtin(self, gtin: str) -> Sku | None:
        gtin14 = gtin.zfill(14)
        return next((s for s in self.skus.values() if s.gtin == gtin14), None)

    def operator_by_badge(self, uid: str) -> Operator | None:
        uid = uid.upper()
        return next((o for o in self.operators.values() if o.badge_uid == uid), None)

    def locations_in_zone(self, zone: str) -> list[Location]:
        return [loc for loc in self.locations.values() if loc.zone == zone]

    def save(self, conn: sqlite3.Connection) -> None:
        """Replace the stored catalogue with this one, in one transaction."""
        conn.execute("BEGIN IMMEDIATE")
        try:
            for table in _TABLES:
                items: dict[str, BaseModel] = getattr(self, table)
                conn.execute(f"DELETE FROM {table}")
                conn.executemany(
                    f"INSERT INTO {table}(code, data) VALUES (?, ?)",
                    [(code, item.model_dump_json()) for code, item in items.items()],
                )
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise

    def catalogue(self) -> dict[str, list[BaseModel]]:
        """Every record, by kind (the lists of a ``master_data`` command)."""
        return {table: list(getattr(self, table).values()) for table in _TABLES}

    def upsert(self, kind: str, records: list[BaseModel]) -> None:
        target: dict[str, BaseModel] = getattr(self, kind)
        for record in records:
            target[_key(record)] = record

    @classmethod
    def load(cls, conn: sqlite3.Connection) -> MasterData:
        md = cls()
        for table, model in _TABLES.items():
            target: dict[str, BaseModel] = getattr(md, table)
            for code, data in conn.execute(f"SELECT code, data FROM {table}"):
                target[code] = model.model_validate(json.loads(data))
        return md
