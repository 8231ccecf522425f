"""The Shanghai cold-chain example site as the floor tests use it: its own journal, its app over HTTP."""

from __future__ import annotations

import tomllib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from edge.api.app import create_app
from edge.config import SiteConfig, parse_config
from edge.context import EdgeContext
from sync.clock import Clock
from sync.ops import OpKind
from tests.support.edge import edge_context

ROOT = Path(__file__).resolve().parents[2]
SITE = ROOT / "configs" / "shanghai-cold.toml"
MILK_GTIN = "06901234567892"
YOG_GTIN = "06901234567908"
ASN = "ASN-SH-20261124-001"


def site_data(tmp_path: Path, **extra: Any) -> dict[str, Any]:
    data = tomllib.loads(SITE.read_text())
    data["store"] = {"path": str(tmp_path / "edge.sqlite")}
    data["api"] = {"host": "127.0.0.1", "port": 0}
    data["devices"] = []  # no simulators here: the floor is driven through the API
    data.update(extra)
    return data


def site_config(tmp_path: Path, **extra: Any) -> SiteConfig:
    return parse_config(site_data(tmp_path, **extra), SITE)


@dataclass
class Floor:
    ctx: EdgeContext
    http: httpx.AsyncClient

    async def post(self, path: str, body: dict[str, Any], expect: int = 200) -> Any:
        r = await self.http.post(path, json=body)
        assert r.status_code == expect, (path, r.status_code, r.text)
        return r.json()

    def kinds(self, kind: OpKind) -> list[dict[str, Any]]:
        return [e.body["payload"] for e in self.ctx.journal.entries(limit=10_000, kind=kind)]


@asynccontextmanager
async def floor(cfg: SiteConfig, clock: Clock) -> AsyncIterator[Floor]:
    async with edge_context(cfg, clock) as ctx:
        transport = httpx.ASGITransport(app=create_app(ctx))
        async with httpx.AsyncClient(transport=transport, base_url="http://gateway") as http:
            yield Floor(ctx, http)


async def receive_and_pass(f: Floor, line: int, qty: int, lot: str, expiry: str, gtin: str) -> dict[str, Any]:
    """Receive ``qty`` of an ASN line, pass QC; returns the QC answer (with its putaway tasks)."""
    rcv = await f.post(
        "/v1/inbound/receipts",
        {"asn_id": ASN, "line": line, "qty": qty, "item": gtin, "lot": lot, "expiry": expiry, "actor": "op-zhang"},
        201,
    )
    return await f.post(f"/v1/inbound/receipts/{rcv['id']}/qc", {"result": "pass", "actor": "sup-li"})  # type: ignore[no-any-return]
