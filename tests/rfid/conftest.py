"""Fixtures for the RFID tests: the firmware_sim package, a sped-up clock, a leak guard, a simulator."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


class FastClock:
    """Simulated time running ``scale`` times real time: sim, driver and edge share one, so they agree.

    Satisfies ``sync.clock.Clock`` by shape. Used where a test would otherwise wait for minutes of
    dock traffic; the logic under test is the real one, only faster.
    """

    def __init__(self, scale: float = 20.0) -> None:
        self.scale = scale
        self._real0 = time.monotonic()
        self._start = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)

    def monotonic(self) -> float:
        return (time.monotonic() - self._real0) * self.scale

    def now(self) -> datetime:
        return self._start + timedelta(seconds=self.monotonic())

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(max(0.0, seconds) / self.scale)


async def wait_for(cond: Callable[[], bool], timeout: float = 10.0, what: str = "condition") -> None:
    """Poll ``cond`` in real time (a test helper, not business timing)."""
    deadline = time.monotonic() + timeout
    while not cond():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.005)


@pytest.fixture(autouse=True)
async def no_leaked_tasks() -> AsyncIterator[None]:
    """Fail a test that leaves tasks running: a driver that leaks tasks dies in week three."""
    before = asyncio.all_tasks()
    yield
    for _ in range(5):
        await asyncio.sleep(0)
    leaked = [t for t in asyncio.all_tasks() - before if not t.done() and t is not asyncio.current_task()]
    assert not leaked, f"leaked tasks: {leaked}"
