"""A sped-up wall clock, so hours of driving run in seconds with the real timing logic.

``ScaledClock(scale=60)`` makes one real second one simulated minute: ``sleep(s)`` waits ``s / scale``
real seconds and ``now()`` runs ``scale`` times fast from its start. It satisfies ``sync.clock.Clock``
by shape; the master and the simulators of one test share one instance so their times agree.
"""

from __future__ import annotations

import asyncio
import selectors
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


class VirtualTimeLoop(asyncio.SelectorEventLoop):
    """An event loop whose clock jumps to the next timer whenever nothing is ready to run.

    Only for worlds with no sockets in them (the in-process ``LocalBroker``): an hour of a fleet then
    costs only the CPU of its decisions, and every run with the same seed is the same run, whatever else
    the machine is doing. Waiting with nothing scheduled would be waiting for ever, so it raises.
    """

    def __init__(self) -> None:
        self._virtual_now = 0.0
        super().__init__(_JumpingSelector(self))

    def time(self) -> float:
        return self._virtual_now


class _JumpingSelector(selectors.DefaultSelector):
    def __init__(self, loop: VirtualTimeLoop) -> None:
        super().__init__()
        self._loop = loop

    def select(self, timeout: float | None = None) -> list[tuple[selectors.SelectorKey, int]]:
        ready = super().select(0)  # the loop's own self-pipe (call_soon_threadsafe) still works
        if not ready:
            if timeout is None:
                raise RuntimeError("virtual time: every task waits and no timer is set")
            self._loop._virtual_now += timeout
        return ready


class LoopClock:
    """The running loop's time as a clock (``VirtualTimeLoop`` time in a simulation): sync.clock.Clock by shape."""

    def __init__(self, *, start: datetime | None = None) -> None:
        self._start = start or datetime(2026, 1, 1, tzinfo=UTC)

    def monotonic(self) -> float:
        return asyncio.get_running_loop().time()

    def now(self) -> datetime:
        return self._start + timedelta(seconds=self.monotonic())

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(max(0.0, seconds))
