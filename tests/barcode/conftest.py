"""Fixtures for the barcode tests: a pty scanner simulator, and a guard against leaked tasks."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from firmware_sim.scanner import ScannerSim

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def sim(tmp_path: Path) -> Iterator[ScannerSim]:
    """A plugged pty scanner (CR suffix, AIM identifiers) reachable through a stable symlink."""
    s = ScannerSim(link=tmp_path / "ttyScanner")
    s.plug()
    yield s
    s.unplug()


@pytest.fixture
async def no_leaked_tasks() -> AsyncIterator[None]:
    """Fail a test that leaves tasks running: a driver that leaks tasks dies in week three."""
    before = asyncio.all_tasks()
    yield
    for _ in range(3):
        await asyncio.sleep(0)
    leaked = [t for t in asyncio.all_tasks() - before if not t.done() and t is not asyncio.current_task()]
    assert not leaked, f"leaked tasks: {leaked}"


SITE: dict[str, object] = {
    "site": {"gateway_id": "gw-test", "warehouse": "WH1"},
    "zones": [{"code": "INB"}],
    "locations": [
        {"code": "DOCK-1", "zone": "INB", "type": "dock"},
        {"code": "DOCK-2", "zone": "INB", "type": "dock"},
    ],
    "skus": [
        {"code": "SKU-A", "gtin": "09506000134352", "lot_tracked": True},
        {"code": "SKU-B", "gtin": "19506000134359"},
        {"code": "SKU-C", "gtin": "00000096385074"},
    ],
    "inbound_orders": [
        {"id": "ASN-1", "dock": "DOCK-2", "lines": [{"line": 1, "sku": "SKU-A", "qty": 100}]},
        {
            "id": "ASN-2",
            "dock": "DOCK-1",
            "lines": [
                {"line": 1, "sku": "SKU-B", "qty": 10},
                {"line": 2, "sku": "SKU-A", "qty": 50},
            ],
        },
    ],
}


@pytest.fixture
async def edge_ctx(tmp_path: Path) -> AsyncIterator[object]:
    """A real EdgeContext over a temporary journal (the lead's store), with the test site above."""
    from edge.config import parse_config
    from sync.clock import SystemClock
    from tests.edge.conftest import edge_context

    async with edge_context(parse_config(SITE), SystemClock(), path=tmp_path / "edge.sqlite") as ctx:
        yield ctx
