"""The LLRP session: one fixed reader as an async context manager yielding a typed event stream.

``async with LlrpReader(options) as reader: async for event in reader: ...``. Entering starts one
supervisor task that connects, configures (capabilities, keepalive, a fresh ROSpec) and reads until
the link fails, then reconnects with jittered exponential backoff; leaving closes the connection
politely and cancels the task. The link is declared dead when nothing (not even a KEEPALIVE) arrived
within ``keepalive_ms * dead_after_keepalives``: a reader that lost power sends no FIN.

Business timing (backoff, dead link) goes through the injected clock; socket I/O timeouts (connect,
a response) are real time, since they measure the network, not the warehouse.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
from typing import Any

from drivers.rfid.codec import HEADER_SIZE, Message, decode_header, decode_message, encode_message, message
from drivers.rfid.errors import LlrpDecodeError, LlrpStatusError, ReaderClosed, ReaderUnavailable, RfidDriverError
from drivers.rfid.events import FrameRejected, LinkState, ReaderEvent, ReaderState
from drivers.rfid.messages import Capabilities, add_rospec, parse_capabilities, set_reader_config, status_of, tag_reads
from drivers.rfid.options import ReaderOptions
from sync.clock import Clock, SystemClock

_END = object()


class LlrpReader:
    """A fixed RFID reader over LLRP 1.0.1. Keyword-only options; not re-entrant."""

    def __init__(
        self,
        options: ReaderOptions,
        *,
        clock: Clock | None = None,
        rng: random.Random | None = None,
        queue_size: int = 10_000,
    ) -> None:
        self.options = options
        self.clock: Clock = clock or SystemClock()
        self._rng = rng or random.Random()
        self._queue: asyncio.Queue[Any] = asyncio.Queue(maxsize=queue_size)
        self._task: asyncio.Task[None] | None = None
        self._writer: asyncio.StreamWriter | None = None
        self._pending: dict[int, asyncio.Future[Message]] = {}
        self._next_id = 0
        self._last_rx = 0.0
        self._closed = False
        self._failure: BaseException | None = None
        self.state: LinkState = "connecting"
        self.capabilities: Capabilities | None = None
        self.reads = 0
        self.reports = 0
        self.keepalives = 0
        self.sessions = 0

    async def __aenter__(self) -> LlrpReader:
        if self._task is not None or self._closed:
            raise ReaderClosed("an LlrpReader is entered once")
        self._task = asyncio.create_task(self._supervise(), name=f"llrp:{self.options.target}")
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._writer is not None and self.state == "connected":
            with contextlib.suppress(RfidDriverError, OSError, TimeoutError):
                await asyncio.wait_for(self.request(message("CLOSE_CONNECTION", self._new_id())), 1.0)
        self._closed = True
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        self.state = "closed"
        with contextlib.suppress(asyncio.QueueFull):
            self._queue.put_nowait(_END)

    def _raise_end(self) -> None:
        """End the stream: with the supervisor's error if it died of a bug, so the caller sees it."""
        if self._failure is not None:
            raise RfidDriverError(f"reader supervisor failed: {self._failure!r}") from self._failure
        raise StopAsyncIteration

    @property
    def backlog(self) -> int:
        """Events received but not yet taken from the stream: a consumer judging a tag's absence should
        wait until this is 0, or it would miss reads that are only queued."""
        return self._queue.qsize()

    def __aiter__(self) -> LlrpReader:
        return self

    async def __anext__(self) -> ReaderEvent:
        if self._queue.empty() and (self._closed or self._failure is not None):
            self._raise_end()
        item = await self._queue.get()
        if item is _END:
            self._raise_end()
        event: ReaderEvent = item
        return event

    # ------------------------------------------------------------ requests

    def _new_id(self) -> int:
        self._next_id = (self._next_id + 1) & 0xFFFFFFFF
        return self._next_id

    async def send(self, msg: Message) -> None:
        """Send a message that has no response (ENABLE_EVENTS_AND_REPORTS, KEEPALIVE_ACK)."""
        writer = self._writer
        if writer is None:
            raise ReaderUnavailable(self.options.target, "not connected")
        writer.write(encode_message(msg))
        await writer.drain()

    async def request(self, msg: Message) -> Message:
        """Send ``msg`` and wait for its response (matched by message id); a bad status raises."""
        if not msg.msg_id:
            msg.msg_id = self._new_id()
        fut: asyncio.Future[Message] = asyncio.get_running_loop().create_future()
        self._pending[msg.msg_id] = fut
        try:
            await self.send(msg)
            async with asyncio.timeout(self.options.response_timeout_s):
                response = await fut
        except TimeoutError:
            raise ReaderUnavailable(self.options.target, f"no response to {msg.name}") from None
        finally:
            self._pending.pop(msg.msg_id, None)
        code, text = status_of(response)
        if code != 0:
            raise LlrpStatusError(msg.name, code, text)
        return response

    # ------------------------------------------------------------ supervision

    async def _emit(self, event: ReaderEvent) -> None:
        await self._queue.put(event)

    async def _set_state(self, state: LinkState, detail: str, attempt: int = 0) -> None:
        self.state = state
        await self._emit(ReaderState(state, detail, self.clock.now(), attempt))

    def backoff(self, attempt: int) -> float:
        """Delay before reconnect ``attempt`` (1, 2, ...): doubling, capped, with equal jitter."""
        ceiling = min(self.options.backoff_max_s, self.options.backoff_initial_s * 2.0 ** min(attempt - 1, 30))
        return ceiling / 2 + self._rng.uniform(0, ceiling / 2)

    async def _supervise(self) -> None:
        try:
            await self._reconnect_loop()
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # a bug, not a link problem: end the stream loudly
            self._failure = exc
            with contextlib.suppress(asyncio.QueueFull):
                self._queue.put_nowait(_END)

    async def _reconnect_loop(self) -> None:
        attempt = 0
        while True:
            await self._set_state("connecting", self.options.target, attempt)
            connected_before = self.sessions
            try:
                await self._session()
                detail = "session ended"
            except (RfidDriverError, OSError, TimeoutError) as exc:
                detail = str(exc) or type(exc).__name__
            attempt = 1 if self.sessions > connected_before else attempt + 1
            await self._set_state("disconnected", detail, attempt)
            await self.clock.sleep(self.backoff(attempt))

    async def _session(self) -> None:
        opts = self.options
        try:
            async with asyncio.timeout(opts.connect_timeout_s):
                stream, writer = await asyncio.open_connection(opts.host, opts.port)
        except (OSError, TimeoutError) as exc:
            raise ReaderUnavailable(opts.target, f"connect failed: {exc or type(exc).__name__}") from None
        self._writer = writer
        tasks: list[asyncio.Task[None]] = []
        try:
            async with asyncio.timeout(opts.response_timeout_s):
                hello = decode_message(await self._read_frame(stream))
            self._check_hello(hello)
            self._last_rx = self.clock.monotonic()
            tasks = [asyncio.create_task(self._receive(stream)), asyncio.create_task(self._configure())]
            if opts.dead_after_s is not None:
                tasks.append(asyncio.create_task(self._watchdog(opts.dead_after_s)))
            while tasks:
                done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
                for task in done:
                    tasks.remove(task)
                    task.result()  # a failed task ends the session with its error
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            self._writer = None
            for fut in self._pending.values():
                if not fut.done():
                    fut.set_exception(ReaderUnavailable(opts.target, "connection lost"))
            self._pending.clear()
            writer.close()
            with contextlib.suppress(OSError):
                await writer.wait_closed()

    def _check_hello(self, hello: Message) -> None:
        event = hello.find("ReaderEventNotificationData")
        attempt = event.find("ConnectionAttemptEvent") if event else None
        if hello.name != "READER_EVENT_NOTIFICATION" or attempt is None:
            raise ReaderUnavailable(self.options.target, f"expected a ConnectionAttemptEvent, got {hello.name}")
        if attempt.int("Status") != 0:
            status = attempt.int("Status")
            raise ReaderUnavailable(self.options.target, f"reader refused the connection (status {status})")

    async def _configure(self) -> None:
        """The common client sequence; the ROSpec starts by its own trigger, no START_ROSPEC needed."""
        opts = self.options
        caps = parse_capabilities(await self.request(message("GET_READER_CAPABILITIES", 0, RequestedData=0)))
        if caps.max_antennas and max(opts.antennas) > caps.max_antennas:
            raise ReaderUnavailable(opts.target, f"antennas {opts.antennas} but the reader has {caps.max_antennas}")
        self.capabilities = caps
        await self.request(set_reader_config(0, opts))
        await self.send(message("ENABLE_EVENTS_AND_REPORTS", self._new_id()))
        await self.request(message("DELETE_ACCESSSPEC", 0, AccessSpecID=0))
        await self.request(message("DELETE_ROSPEC", 0, ROSpecID=0))
        await self.request(add_rospec(0, opts, caps.power_index(opts.tx_power_dbm)))
        await self.request(message("ENABLE_ROSPEC", 0, ROSpecID=opts.rospec_id))
        self.sessions += 1
        await self._set_state("connected", f"{opts.target} firmware {caps.firmware!r}, {caps.max_antennas} antennas")

    async def _watchdog(self, dead_after: float) -> None:
        check = max(dead_after / 4, 0.01)
        while True:
            await self.clock.sleep(check)
            silent = self.clock.monotonic() - self._last_rx
            if silent > dead_after:
                raise ReaderUnavailable(self.options.target, f"link dead: nothing received for {silent:.1f} s")

    async def _read_frame(self, stream: asyncio.StreamReader) -> bytes:
        try:
            header = await stream.readexactly(HEADER_SIZE)
            _, length, _ = decode_header(header)
            return header + await stream.readexactly(length - HEADER_SIZE)
        except asyncio.IncompleteReadError:
            raise ReaderUnavailable(self.options.target, "connection closed by the reader") from None

    async def _receive(self, stream: asyncio.StreamReader) -> None:
        while True:
            try:
                frame = await self._read_frame(stream)
            except LlrpDecodeError as exc:  # a bad header: the byte stream cannot be trusted any more
                await self._emit(FrameRejected(str(exc), self.clock.now(), resync=True))
                raise ReaderUnavailable(self.options.target, f"lost framing: {exc}") from None
            self._last_rx = self.clock.monotonic()
            try:
                msg = decode_message(frame)
            except LlrpDecodeError as exc:
                await self._emit(FrameRejected(str(exc), self.clock.now(), resync=False))
                continue
            await self._dispatch(msg)

    async def _dispatch(self, msg: Message) -> None:
        if msg.name == "RO_ACCESS_REPORT":
            self.reports += 1
            for read in tag_reads(msg, self.clock.now()):
                self.reads += read.count
                await self._emit(read)
        elif msg.name == "KEEPALIVE":
            self.keepalives += 1
            await self.send(message("KEEPALIVE_ACK", msg.msg_id))
        elif msg.name == "READER_EVENT_NOTIFICATION":
            event = msg.find("ReaderEventNotificationData")
            attempt = event.find("ConnectionAttemptEvent") if event else None
            if attempt is not None and attempt.int("Status") == 4:
                raise ReaderUnavailable(self.options.target, "another client took over the reader")
        else:
            fut = self._pending.get(msg.msg_id)
            if fut is not None and not fut.done():
                fut.set_result(msg)
