"""Fixtures for the barcode tests: a pty scanner simulator and a small receiving site."""

from __future__ import annotations

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
    from tests.support.edge import edge_context

    async with edge_context(parse_config(SITE), SystemClock(), path=tmp_path / "edge.sqlite") as ctx:
        yield ctx
