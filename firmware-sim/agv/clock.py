"""A sped-up wall clock, so hours of driving run in seconds with the real timing logic.

``ScaledClock(scale=60)`` makes one real second one simulated minute: ``sleep(s)`` waits ``s / scale``
real seconds and ``now()`` runs ``scale`` times fast from its start. It satisfies ``sync.clock.Clock``
by shape; the master and the simulators of one test share one instance so their times agree.
"""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime, timedelta


class ScaledClock:
    def __init__(self, scale: float = 1.0, *, start: datetime | None = None) -> None:
        if scale <= 0:
            raise ValueError("scale must be positive")
        self.scale = scale
        self._real0 = time.monotonic()
        self._start = start or datetime.now(UTC)

    def monotonic(self) -> float:
        return (time.monotonic() - self._real0) * self.scale

    def now(self) -> datetime:
        return self._start + timedelta(seconds=self.monotonic())

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(max(0.0, seconds) / self.scale)
