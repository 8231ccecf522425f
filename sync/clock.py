"""Injectable time: wall clock, monotonic clock and sleep, so tests and the digital twin run days in seconds.

Nothing in WIMS calls ``time.time()`` or ``asyncio.sleep()`` for business timing directly; it asks the
clock it was given. ``SystemClock`` is real time; ``ManualClock`` only moves when a test advances it.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import time
from datetime import UTC, datetime, timedelta
from typing import Protocol


class Clock(Protocol):
    def now(self) -> datetime:
        """Wall time, timezone-aware UTC."""
        ...

    def monotonic(self) -> float:
        """Seconds for measuring intervals; never goes back."""
        ...

    async def sleep(self, seconds: float) -> None: ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)

    def monotonic(self) -> float:
        return time.monotonic()

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(max(0.0, seconds))


class ManualClock:
    """Simulated time: ``sleep`` waits until a test calls ``advance`` past the deadline."""

    def __init__(self, start: datetime | None = None) -> None:
        self._start = start or datetime(2026, 1, 1, tzinfo=UTC)
        self._t = 0.0
        self._sleepers: list[tuple[float, int, asyncio.Future[None]]] = []
        self._ids = itertools.count()

    def now(self) -> datetime:
        return self._start + timedelta(seconds=self._t)

    def monotonic(self) -> float:
        return self._t

    async def sleep(self, seconds: float) -> None:
        if seconds <= 0:
            await asyncio.sleep(0)
            return
        fut: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        heapq.heappush(self._sleepers, (self._t + seconds, next(self._ids), fut))
        await fut

    async def advance(self, seconds: float, *, step: float | None = None) -> None:
        """Move time forward, waking sleepers in deadline order and letting them run between wakes.

        ``step`` bounds each jump, for loops that re-arm a sleep after every wake (pollers).
        """
        target = self._t + seconds
        while True:
            nxt = self._sleepers[0][0] if self._sleepers else None
            if step is not None:
                nxt = min(nxt if nxt is not None else target, self._t + step)
            if nxt is None or nxt > target:
                break
            self._t = max(self._t, nxt)
            while self._sleepers and self._sleepers[0][0] <= self._t:
                _, _, fut = heapq.heappop(self._sleepers)
                if not fut.done():
                    fut.set_result(None)
            for _ in range(5):  # let woken tasks run and re-arm before the next jump
                await asyncio.sleep(0)
        self._t = target
        for _ in range(5):
            await asyncio.sleep(0)

    @property
    def pending_sleepers(self) -> int:
        return sum(1 for _, _, f in self._sleepers if not f.done())
