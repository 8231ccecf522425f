"""The shape every barcode source shares: an async context manager that owns one reader task, an event
queue consumed with ``async for``, a connection state for health, and reconnect backoff.

Like aiomqtt's client: ``__aenter__`` starts the task, ``__aexit__`` cancels and awaits it, so a source
never leaks a task past its block.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
from collections.abc import AsyncIterator, Callable
from types import TracebackType
from typing import Literal

from drivers.barcode.errors import SourceClosed
from drivers.barcode.events import BarcodeEvent, ScanEvent, ScanRejected
from sync.clock import Clock, SystemClock

State = Literal["starting", "connected", "disconnected", "finished", "closed"]
StateCallback = Callable[[State, str], None]

_END = object()


def backoff_delay(attempt: int, initial: float, maximum: float, rng: random.Random) -> float:
    """Doubling delay up to ``maximum``, with jitter so that many gateways do not retry in step."""
    base = min(maximum, initial * (2 ** min(attempt, 30)))
    return float(base * rng.uniform(0.5, 1.0))


class EventSource:
    """Base for the serial and camera sources. Subclasses implement ``_run`` (which may loop forever)."""

    def __init__(
        self,
        *,
        device_id: str,
        clock: Clock | None = None,
        on_state: StateCallback | None = None,
        queue_size: int = 1000,
        rng: random.Random | None = None,
    ) -> None:
        self.device_id = device_id
        self.clock: Clock = clock or SystemClock()
        self._on_state = on_state
        self._queue: asyncio.Queue[object] = asyncio.Queue(maxsize=queue_size)
        self._task: asyncio.Task[None] | None = None
        self._rng = rng or random.Random()
        self.state: State = "starting"
        self.state_detail = ""
        self.connects = 0
        self.rejected = 0
        self.scanned = 0

    def _set_state(self, state: State, detail: str = "") -> None:
        self.state, self.state_detail = state, detail
        if self._on_state is not None:
            self._on_state(state, detail)

    async def _emit(self, event: BarcodeEvent) -> None:
        if isinstance(event, ScanRejected):
            self.rejected += 1
        else:
            self.scanned += 1
        await self._queue.put(event)

    async def _run(self) -> None:
        raise NotImplementedError

    async def _guarded_run(self) -> None:
        try:
            await self._run()
            self._set_state("finished", "source ended")
        finally:
            # put the end marker even when cancelled, so a consumer blocked in ``async for`` wakes up
            with contextlib.suppress(asyncio.QueueFull):
                self._queue.put_nowait(_END)

    async def __aenter__(self) -> EventSource:
        if self._task is not None:
            raise RuntimeError("a barcode source is not reusable while open")
        self._task = asyncio.create_task(self._guarded_run(), name=f"barcode:{self.device_id}")
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await self._close_device()
        self._set_state("closed", "")

    async def _close_device(self) -> None:
        """Release the device; subclasses override."""

    async def events(self) -> AsyncIterator[BarcodeEvent]:
        """Every event in arrival order; ends when the source ends (a file camera) or is closed."""
        if self._task is None and self._queue.empty():
            raise SourceClosed("use the source inside 'async with'")
        while True:
            item = await self._queue.get()
            if item is _END:
                return
            assert isinstance(item, ScanEvent | ScanRejected)
            yield item

    def __aiter__(self) -> AsyncIterator[BarcodeEvent]:
        return self.events()

    async def signal_bad_read(self) -> bool:
        """Tell the operator this scan was refused (beep/LED) where the device can; False if it cannot."""
        return False
