"""Helpers for the RFID tests: a sped-up clock and a real-time wait (the leak check is the root conftest's)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from firmware_sim.agv import ScaledClock

ROOT = Path(__file__).resolve().parents[2]


def FastClock(scale: float = 20.0) -> ScaledClock:
    """Simulated time running ``scale`` times real time: sim, driver and edge share one, so they agree.

    Used where a test would otherwise wait for minutes of dock traffic; the logic under test is the real
    one, only faster. The simulators' own sped-up clock, started at a fixed morning.
    """
    return ScaledClock(scale, start=datetime(2026, 3, 2, 8, 0, tzinfo=UTC))


async def wait_for(cond: Callable[[], bool], timeout: float = 10.0, what: str = "condition") -> None:
    """Poll ``cond`` in real time (a test helper, not business timing)."""
    deadline = time.monotonic() + timeout
    while not cond():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.005)
