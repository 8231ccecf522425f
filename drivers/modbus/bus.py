"""One Modbus line polled by one task: requests go out strictly one at a time, so sensors sharing an
RS-485 pair never talk over each other, and a silent sensor costs only its own timeout.

``ModbusBus`` is an async context manager (the aiomqtt shape): ``__aenter__`` starts one named task
that connects, polls every sensor once per ``poll_interval_s`` on a fixed schedule (deadline based,
so a slow cycle does not push every later cycle back) and reconnects with doubling backoff when the
port or socket goes away; ``__aexit__`` cancels it and closes the client. Consumers read typed events
from ``events()``. Timing of the schedule comes from the injected ``Clock``.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any

from pymodbus.client import AsyncModbusSerialClient, AsyncModbusTcpClient
from pymodbus.exceptions import ConnectionException, ModbusException, ModbusIOException

from drivers.modbus.errors import BusClosed, BusUnavailable, DecodeError
from drivers.modbus.events import (
    BusEvent,
    BusState,
    BusStats,
    CycleDone,
    FailureKind,
    PollFailed,
    Reading,
    SensorStats,
)
from drivers.modbus.options import BusOptions, SensorOptions
from drivers.modbus.registers import PointSpec, decode, read_blocks
from sync.clock import Clock, SystemClock

_CLOSED = object()


class _LineLost(Exception):
    """The connection broke under a request; the run loop reconnects."""


class ModbusBus:
    """Poll the sensors of one bus. ``async with ModbusBus(...) as bus: async for ev in bus.events(): ...``"""

    def __init__(
        self,
        bus_id: str,
        options: BusOptions,
        *,
        clock: Clock | None = None,
        queue_size: int = 10_000,
    ) -> None:
        self.bus_id = bus_id
        self.options = options
        self.clock: Clock = clock or SystemClock()
        self.stats: dict[str, SensorStats] = {s.id: SensorStats() for s in options.sensors}
        self.bus_stats = BusStats()
        self.connected = False
        self.dropped_events = 0
        self._blocks = {s.id: read_blocks(list(s.points)) for s in options.sensors}
        self._queue: asyncio.Queue[Any] = asyncio.Queue(maxsize=queue_size)
        self._client: AsyncModbusSerialClient | AsyncModbusTcpClient | None = None
        self._task: asyncio.Task[None] | None = None
        self._rx_seen = False
        self._answered_since_connect = False

    async def __aenter__(self) -> ModbusBus:
        if self._task is not None:
            raise BusClosed("a ModbusBus is not re-entrant")
        self._task = asyncio.create_task(self._run(), name=f"modbus-bus:{self.bus_id}")
        return self

    async def __aexit__(self, *exc: object) -> None:
        interrupted = False
        if self._task is not None:
            # One cancel is not enough: pymodbus awaits each reply with asyncio.wait_for, which on Python
            # 3.11 drops a cancel that arrives together with the reply (fixed in 3.12), and the bus then
            # polls on (seen once in CI: the task "cancelling" forever, a gateway shutdown hung).
            # A cancel of our caller while we wait here (a supervisor cancels its parts again every half
            # second) is held until the poller has ended, then raised: it must not leave the poller behind.
            while not self._task.done():
                self._task.cancel()
                try:
                    await asyncio.wait({self._task}, timeout=0.5)
                except asyncio.CancelledError:
                    interrupted = True
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        self._close_client()
        self._put(_CLOSED)
        if interrupted:
            raise asyncio.CancelledError

    async def events(self) -> AsyncIterator[BusEvent]:
        """Every event in order, until the bus is closed."""
        while True:
            item = await self._queue.get()
            if item is _CLOSED:
                return
            yield item

    # ---- connection ------------------------------------------------------------------------------

    def _trace_packet(self, sending: bool, data: bytes) -> bytes:
        if not sending and data:
            self._rx_seen = True  # bytes came back: a later timeout is a broken frame, not silence
        return data

    def _make_client(self) -> AsyncModbusSerialClient | AsyncModbusTcpClient:
        o = self.options
        common: dict[str, Any] = {
            "name": self.bus_id,
            "timeout": o.timeout_s,
            "retries": o.retries,
            "reconnect_delay": 0,
            "trace_packet": self._trace_packet,
        }
        if o.transport == "tcp":
            assert o.host is not None
            return AsyncModbusTcpClient(o.host, port=o.tcp_port, **common)
        assert o.port is not None
        return AsyncModbusSerialClient(
            o.port, baudrate=o.baudrate, parity=o.parity, stopbits=o.stopbits, bytesize=o.bytesize, **common
        )

    async def _connect(self) -> None:
        self._close_client()
        client = self._make_client()
        try:
            ok = await client.connect()
        except (OSError, ModbusException) as exc:
            client.close()
            raise BusUnavailable(self.options.target, str(exc)) from exc
        if not ok:
            client.close()
            raise BusUnavailable(self.options.target, "cannot connect")
        self._client = client

    def _close_client(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None

    async def _run(self) -> None:
        attempt = 0
        while True:
            try:
                await self._connect()
            except BusUnavailable as exc:
                attempt += 1
                self._set_connected(False, str(exc), attempt)
                await self.clock.sleep(self.backoff(attempt))
                continue
            self._answered_since_connect = False
            self.bus_stats.connects += 1
            self._set_connected(True, f"connected to {self.options.target}", 0)
            try:
                await self._poll_forever()
            except _LineLost as exc:
                self.bus_stats.disconnects += 1
                self._close_client()
                # a line that connects but never answers keeps doubling its delay; one that worked starts over
                attempt = 1 if self._answered_since_connect else attempt + 1
                self._set_connected(False, f"line lost: {exc}", attempt)
                await self.clock.sleep(self.backoff(attempt))

    def backoff(self, attempt: int) -> float:
        """Delay before reconnect ``attempt`` (1-based): doubling from the initial delay up to the maximum."""
        o = self.options
        return float(min(o.backoff_max_s, o.backoff_initial_s * 2 ** min(attempt - 1, 30)))

    def _set_connected(self, connected: bool, detail: str, attempt: int) -> None:
        self.connected = connected
        self._put(BusState(self.bus_id, connected, detail, self.clock.now(), attempt))

    def _put(self, item: object) -> None:
        if self._queue.full():
            self._queue.get_nowait()  # a stalled consumer loses the oldest events, the bus keeps polling
            self.dropped_events += 1
        self._queue.put_nowait(item)

    # ---- polling ---------------------------------------------------------------------------------

    async def _poll_forever(self) -> None:
        interval = self.options.poll_interval_s
        due = self.clock.monotonic()
        while True:
            started = self.clock.monotonic()
            self.bus_stats.jitter_s.append(started - due)
            if len(self.bus_stats.jitter_s) > 100_000:
                del self.bus_stats.jitter_s[:50_000]
            await self.poll_cycle()
            self.bus_stats.cycles += 1
            self._put(CycleDone(self.bus_id, self.bus_stats.cycles, started, started - due))
            due += interval
            now = self.clock.monotonic()
            if due < now:  # the cycle overran: skip the missed slots instead of bursting to catch up
                self.bus_stats.late_cycles += 1
                due += ((now - due) // interval + 1) * interval
            await self.clock.sleep(due - now)

    async def poll_cycle(self) -> None:
        """Poll every sensor once, in order, one request on the line at a time."""
        gap = self.options.inter_request_delay_s if self.options.transport == "rtu" else 0.0
        for i, sensor in enumerate(self.options.sensors):
            if i and gap:
                await asyncio.sleep(gap)  # line turnaround (protocol timing, not business time)
            await self._poll_sensor(sensor)

    async def _poll_sensor(self, sensor: SensorOptions) -> None:
        stats = self.stats[sensor.id]
        stats.polls += 1
        values: dict[str, float] = {}
        for fn, start, count, points in self._blocks[sensor.id]:
            outcome = await self._read(sensor, fn, start, count)
            if isinstance(outcome, tuple):
                self._fail(sensor, stats, *outcome)
                return
            try:
                values.update(_decode_block(start, outcome, points))
            except DecodeError as exc:
                self._fail(sensor, stats, "decode", str(exc))
                return
        stats.ok += 1
        stats.consecutive_failures = 0
        self._answered_since_connect = True
        now = self.clock.now()
        stats.last_ok = now
        self._put(Reading(self.bus_id, sensor.id, sensor.unit, values, now, self.clock.monotonic()))

    async def _read(
        self, sensor: SensorOptions, fn: int, start: int, count: int
    ) -> list[int] | tuple[FailureKind, str]:
        client = self._client
        if client is None:
            raise _LineLost("no client")
        self._rx_seen = False
        try:
            if fn == 4:
                rr = await client.read_input_registers(start, count=count, device_id=sensor.unit)
            else:
                rr = await client.read_holding_registers(start, count=count, device_id=sensor.unit)
        except ConnectionException as exc:
            raise _LineLost(str(exc)) from exc
        except ModbusIOException as exc:
            if self._client is None or not client.connected:
                raise _LineLost(str(exc)) from exc
            return ("crc", "reply garbled (bad CRC or framing)") if self._rx_seen else ("timeout", "no reply")
        except (ModbusException, OSError) as exc:
            return "io", f"{type(exc).__name__}: {exc}"
        if rr.isError():
            return "exception", f"modbus exception {getattr(rr, 'exception_code', '?')}"
        regs = list(rr.registers)
        if len(regs) < count:
            return "decode", f"short reply: {len(regs)} of {count} registers"
        return regs[:count]

    def _fail(self, sensor: SensorOptions, stats: SensorStats, kind: FailureKind, detail: str) -> None:
        stats.consecutive_failures += 1
        stats.last_failure = f"{kind}: {detail}"
        attr = {
            "timeout": "timeouts",
            "crc": "crc_errors",
            "exception": "exceptions",
            "decode": "decode_errors",
            "io": "io_errors",
        }[kind]
        setattr(stats, attr, getattr(stats, attr) + 1)
        self._put(
            PollFailed(
                self.bus_id,
                sensor.id,
                sensor.unit,
                kind,
                detail,
                self.clock.now(),
                self.clock.monotonic(),
                stats.consecutive_failures,
            )
        )


def _decode_block(start: int, regs: list[int], points: list[PointSpec]) -> dict[str, float]:
    return {p.name: decode(p, regs[p.address - start : p.address - start + p.count]) for p in points}
