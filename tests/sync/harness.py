"""A real cloud process (uvicorn) and real edge gateways, for sync tests.

The cloud runs as a child process so tests can SIGKILL and restart it; gateways run in the test's
event loop with their sync agent pointed at the cloud directly or through the fault proxy.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from cloud.devserver import CloudProcess as DevCloud
from edge.config import SiteConfig, parse_config
from edge.daemon import Gateway
from sync.canonical import body_from_stored, verify_chain
from sync.codes import gtin14

SKUS = [f"SKU-{i}" for i in range(20)]
LOCS = [f"L-{i}" for i in range(10)]


class CloudProcess(DevCloud):
    """The dev cloud with the checks sync tests make on its database."""

    def verify_chain(self, gateway_id: str) -> int:
        rows = self.query("SELECT body, hash FROM ops WHERE gateway_id = :g ORDER BY seq", g=gateway_id)
        head, _ = verify_chain([body_from_stored(b, h) for b, h in rows])
        return head

    def stock(self, warehouse: str) -> dict[tuple[str, str, str, str], int]:
        rows = self.query(
            "SELECT sku, lot, location, status, qty FROM stock_balance WHERE warehouse = :w AND qty != 0", w=warehouse
        )
        return {(r[0], r[1], r[2], r[3]): int(r[4]) for r in rows}


def site(
    tmp: Path, gateway_id: str, warehouse: str, sync_url: str | None, token: str | None, **sync: Any
) -> SiteConfig:
    return parse_config(
        {
            "site": {"gateway_id": gateway_id, "warehouse": warehouse},
            "store": {"path": str(tmp / f"{gateway_id}.sqlite")},
            "zones": [{"code": "Z"}],
            "locations": [{"code": c, "zone": "Z"} for c in LOCS],
            "skus": [{"code": s, "gtin": gtin14(i + 1)} for i, s in enumerate(SKUS)],
            "sync": {"url": sync_url, "token": token, **sync} if sync_url else {},
        }
    )


@asynccontextmanager
async def running(cfg: SiteConfig) -> AsyncIterator[Gateway]:
    async with Gateway(cfg, serve_api=False) as gw:
        stop = asyncio.Event()
        task = asyncio.create_task(gw.run(stop))
        try:
            await asyncio.sleep(0)
            yield gw
        finally:
            stop.set()
            await task


def edge_stock(gw: Gateway) -> dict[tuple[str, str, str, str], int]:
    return {(s.sku, s.lot, s.location, s.status): s.qty for s in gw.journal.stock()}


async def wait_synced(gw: Gateway, timeout: float) -> None:
    """Until the cloud acknowledged everything this gateway journaled."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert gw.sync is not None
        st = gw.sync.agent.status
        if st.acked_seq == gw.journal.head()[0] and gw.sync.agent.idle.is_set():
            return
        await asyncio.sleep(0.1)
    assert gw.sync is not None
    raise AssertionError(f"{gw.config.site.gateway_id} not synced: {gw.sync.snapshot()}")
