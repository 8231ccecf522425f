"""A small site for the RFID edge tests: one receiving dock door, a shipping dock, a count zone."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from firmware_sim.llrp import check_digit, sgtin96

COMPANY = "0614141"
ITEMS = ["812345", "812346", "812347", "812348"]


def gtin(item: str) -> str:
    body = item[0] + COMPANY + item[1:]
    return body + check_digit(body)


def case_epc(sku_index: int, serial: int) -> bytes:
    return sgtin96(COMPANY, ITEMS[sku_index], serial)


def site(per_line: int = 250, outbound: int = 5) -> dict[str, Any]:
    return {
        "site": {"gateway_id": "GW-RFID", "warehouse": "WH1"},
        "zones": [{"code": "INBOUND"}, {"code": "STORE"}],
        "locations": [
            {"code": "DOCK-1", "zone": "INBOUND", "type": "dock"},
            {"code": "DOCK-9", "zone": "INBOUND", "type": "dock"},
            {"code": "A-01", "zone": "STORE", "type": "rack"},
        ],
        "skus": [{"code": f"SKU-{i}", "gtin": gtin(item)} for i, item in enumerate(ITEMS)],
        "inbound_orders": [
            {
                "id": "ASN-1",
                "dock": "DOCK-1",
                "lines": [{"line": i + 1, "sku": f"SKU-{i}", "qty": per_line} for i in range(len(ITEMS))],
            },
        ],
        "outbound_orders": [{"id": "SO-1", "lines": [{"line": 1, "sku": "SKU-0", "qty": outbound}]}],
    }


@asynccontextmanager
async def edge_context(path: Path, clock: Any, config: dict[str, Any] | None = None) -> AsyncIterator[Any]:
    """A real EdgeContext over a journal at ``path`` (reopened across 'gateway restarts')."""
    from edge.config import parse_config
    from tests.support.edge import edge_context as open_context

    async with open_context(parse_config(config or site()), clock, path=path, logger="test.rfid") as ctx:
        yield ctx
