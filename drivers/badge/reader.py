"""A PC/SC badge reader as an async context manager with a typed event stream.

PC/SC is a blocking C API, so one worker thread per reader makes every call, each bounded by
``wait_ms`` (and woken early by ``SCardCancel`` on close), and the event loop only awaits it. When
pcscd stops or the reader is unplugged, the reader reports ``ReaderState(available=False)`` and
retries with doubling backoff; a card still present counts as removed, since nobody can vouch for it.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from drivers.badge.errors import BadgeError, ReaderUnavailable
from drivers.badge.events import BadgeEvent, CardInserted, CardRemoved, CardUnreadable, ReaderState
from drivers.badge.pcsc import PcscSession
from sync.clock import Clock, SystemClock

T = TypeVar("T")
_CLOSED = object()


class BadgeReader:
    """``async with BadgeReader(reader="Virtual PCD") as r: async for ev in r.events(): ...``

    ``reader`` is the PC/SC reader name or a prefix of it ("" = the first reader).
    """

    def __init__(
        self,
        *,
        reader: str = "",
        clock: Clock | None = None,
        wait_ms: int = 250,
        backoff_initial_s: float = 0.5,
        backoff_max_s: float = 30.0,
    ) -> None:
        self.wanted = reader
        self.clock: Clock = clock or SystemClock()
        self.wait_ms = wait_ms
        self.backoff_initial_s = backoff_initial_s
        self.backoff_max_s = backoff_max_s
        self.available = False
        self.card_present = False
        self._session: PcscSession | None = None
        self._queue: asyncio.Queue[Any] = asyncio.Queue(maxsize=1000)
        self._executor: ThreadPoolExecutor | None = None
        self._task: asyncio.Task[None] | None = None

    async def __aenter__(self) -> BadgeReader:
        if self._task is not None:
            raise BadgeError("a BadgeReader is not re-entrant")
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"pcsc:{self.wanted or 'any'}")
        self._task = asyncio.create_task(self._run(), name=f"badge-reader:{self.wanted or 'any'}")
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._session is not None:
            self._session.cancel()
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        if self._executor is not None:
            if self._session is not None:
                await asyncio.get_running_loop().run_in_executor(self._executor, self._session.close)
            self._executor.shutdown(wait=True)
        self._session = None
        self._put(_CLOSED)

    async def events(self) -> AsyncIterator[BadgeEvent]:
        """Reader events until the reader is closed; raises the error that stopped the reader, if any
        (``PcscUnavailable``: pyscard is missing), instead of waiting for ever."""
        while True:
            item = await self._queue.get()
            if item is _CLOSED:
                return
            if isinstance(item, BaseException):
                raise item
            yield item

    def backoff(self, attempt: int) -> float:
        return float(min(self.backoff_max_s, self.backoff_initial_s * 2 ** min(attempt - 1, 30)))

    async def _call(self, fn: Any, *args: Any) -> Any:
        assert self._executor is not None
        return await asyncio.get_running_loop().run_in_executor(self._executor, fn, *args)

    def _put(self, item: object) -> None:
        if self._queue.full():
            self._queue.get_nowait()
        self._queue.put_nowait(item)

    async def _run(self) -> None:
        try:
            await self._loop_forever()
        except BadgeError as exc:  # nothing a retry fixes (pyscard missing): hand it to the reader of events
            self._put(exc)

    async def _loop_forever(self) -> None:
        attempt = 0
        while True:
            session = PcscSession(self.wanted)
            try:
                name = await self._call(session.open)
            except ReaderUnavailable as exc:
                attempt += 1
                self._set_available(False, str(exc), attempt)
                await self.clock.sleep(self.backoff(attempt))
                continue
            self._session = session
            attempt = 0
            self._set_available(True, f"reader {name!r} ready", 0)
            try:
                await self._watch(session)
            except ReaderUnavailable as exc:
                if self.card_present:
                    self.card_present = False
                    self._put(CardRemoved(session.reader, self.clock.now()))
                attempt = 1
                self._set_available(False, str(exc), attempt)
            finally:
                self._session = None
                await self._call(session.close)
            await self.clock.sleep(self.backoff(attempt))

    async def _watch(self, session: PcscSession) -> None:
        while True:
            state = await self._call(session.wait_change, self.wait_ms)
            if state is None or state.present == self.card_present:
                continue
            self.card_present = state.present
            now = self.clock.now()
            if not state.present:
                self._put(CardRemoved(session.reader, now))
                continue
            try:
                uid: bytes = await self._call(session.read_uid)
            except ValueError as exc:
                self._put(CardUnreadable(session.reader, str(exc), now))
                continue
            self._put(CardInserted(session.reader, uid.hex().upper(), state.atr.hex().upper(), now))

    def _set_available(self, available: bool, detail: str, attempt: int) -> None:
        self.available = available
        self._put(ReaderState(self.wanted or "any", available, detail, self.clock.now(), attempt))
