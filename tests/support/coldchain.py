"""A cold-chain site: two chilled zones with stock, and a real edge context over it on simulated time.

Used by the cold-chain and badge suites (their conftests import these fixtures)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from edge.config import SiteConfig, parse_config
from edge.context import EdgeContext
from sync.clock import ManualClock
from sync.ops import OpDraft, ReceivePayload
from tests.support.edge import edge_context


def site(tmp_path: Path) -> dict[str, Any]:
    return {
        "site": {"gateway_id": "gw-cold", "warehouse": "WH1"},
        "store": {"path": str(tmp_path / "edge.sqlite")},
        "zones": [
            {
                "code": "CHILL-A",
                "temperature_class": "chilled",
                "temp_min_c": 2,
                "temp_max_c": 8,
                "humidity_max_pct": 85,
                "supervisor": "sup1",
            },
            {"code": "CHILL-B", "temperature_class": "chilled", "temp_min_c": 2, "temp_max_c": 8, "supervisor": "sup2"},
        ],
        "locations": [
            {"code": "A-01", "zone": "CHILL-A"},
            {"code": "A-02", "zone": "CHILL-A"},
            {"code": "B-01", "zone": "CHILL-B"},
        ],
        "skus": [
            {"code": "MILK", "gtin": "00000000000017", "lot_tracked": True},
            {"code": "YOGH", "gtin": "00000000000024"},
        ],
        "operators": [
            {"id": "op1", "badge_uid": "04A1B2C3", "roles": ["operator"]},
            {"id": "sup1", "badge_uid": "04D4E5F6", "roles": ["supervisor"]},
            {"id": "sup2", "roles": ["supervisor"]},
        ],
    }


@pytest.fixture
def config(tmp_path: Path) -> SiteConfig:
    return parse_config(site(tmp_path))


@pytest.fixture
async def ctx(config: SiteConfig) -> AsyncIterator[EdgeContext]:
    clock = ManualClock()
    async with edge_context(config, clock) as context:
        journal = context.journal
        for sku, lot, loc, qty in (("MILK", "L1", "A-01", 40), ("YOGH", "", "A-02", 25), ("MILK", "L2", "B-01", 30)):
            await journal.append(
                OpDraft(
                    payload=ReceivePayload(sku=sku, lot=lot, location=loc, qty=qty),
                    actor="op1",
                    occurred_at=clock.now(),
                )
            )
        yield context
