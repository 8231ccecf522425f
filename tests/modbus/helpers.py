"""Small helpers shared by the Modbus and cold-chain tests."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from drivers.modbus import BusEvent, ModbusBus


async def collect(bus: ModbusBus, until: Callable[[list[BusEvent]], bool], timeout: float = 10.0) -> list[BusEvent]:
    """Events from ``bus`` until ``until(events)`` holds; fails the test on timeout."""
    events: list[BusEvent] = []

    async def run() -> None:
        async for ev in bus.events():
            events.append(ev)
            if until(events):
                return

    await asyncio.wait_for(run(), timeout)
    return events


def rtu_options(port: str, units: list[int], **kw: Any) -> dict[str, Any]:
    return {
        "transport": "rtu",
        "port": port,
        "poll_interval_s": 0.2,
        "timeout_s": 0.15,
        "retries": 0,
        "backoff_initial_s": 0.05,
        "backoff_max_s": 0.4,
        "sensors": [{"id": f"T{u}", "unit": u} for u in units],
        **kw,
    }
