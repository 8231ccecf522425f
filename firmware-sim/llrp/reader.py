"""A simulated LLRP 1.0.1 fixed reader on TCP: answers the common client sequence and reports tags.

One client at a time (a new connection takes over, as many readers do). ROSpecs are honoured for
what matters to inventory: antennas (one antenna per round, round robin, as real readers switch),
report every N tags (ROReportTrigger N) and/or at the end of an AISpec of T ms (restarted when the
start trigger is periodic), GET_REPORT, START/STOP/ENABLE/DISABLE. Keepalives go out at the period a
client sets. Test hooks: ``drop()`` (power cut), ``silent`` (link dead without a FIN), ``inject()``.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import struct
import time
from collections import deque
from datetime import UTC, datetime
from typing import Any, Protocol

from firmware_sim.llrp import wire as w
from firmware_sim.llrp.tags import Scenario


class SimClock(Protocol):
    def now(self) -> datetime: ...
    def monotonic(self) -> float: ...
    async def sleep(self, seconds: float) -> None: ...


class RealClock:
    def now(self) -> datetime:
        return datetime.now(UTC)

    def monotonic(self) -> float:
        return time.monotonic()

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(max(0.0, seconds))


def _capabilities(antennas: int) -> bytes:
    per_antenna = b"".join(w.tlv(140, struct.pack(">HH", a, 1) + b"\x01") for a in range(1, antennas + 1))
    fw = b"wims-sim 1.0"
    general = w.tlv(
        137,
        struct.pack(">HHII", antennas, 0xC000, 0, 1)
        + struct.pack(">H", len(fw))
        + fw
        + w.tlv(139, struct.pack(">Hh", 1, -80))
        + w.tlv(141, struct.pack(">HH", 0, 0))
        + per_antenna,
    )
    llrp_caps = w.tlv(142, struct.pack(">BBHIIIII", 0, 1, 0, 8, 1, 1, 1, 1))
    power = b"".join(w.tlv(145, struct.pack(">Hh", i, 1000 + 25 * (i - 1))) for i in range(1, 82))
    freqs = [902750 + 500 * i for i in range(50)]
    hop = w.tlv(147, struct.pack(">BBH", 1, 0, len(freqs)) + struct.pack(f">{len(freqs)}I", *freqs))
    mode = w.tlv(329, struct.pack(">IBBBBIIIII", 0, 0x80, 2, 0, 2, 160000, 2000, 25000, 25000, 0))
    uhf = w.tlv(144, power + w.tlv(146, b"\x80" + hop) + w.tlv(328, mode))
    regulatory = w.tlv(143, struct.pack(">HH", 840, 1) + uhf)
    c1g2 = w.tlv(327, struct.pack(">BH", 0, 2))
    return w.status() + general + llrp_caps + regulatory + c1g2


class SimReader:
    """The reader. ``async with SimReader(scenario, port=0) as r:`` then connect to ``r.port``."""

    def __init__(
        self,
        scenario: Scenario | None = None,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        antennas: int = 4,
        round_s: float = 0.05,
        clock: SimClock | None = None,
    ) -> None:
        self.scenario = scenario or Scenario()
        self.host = host
        self.port = port
        self.antennas = antennas
        self.round_s = round_s
        self.clock: SimClock = clock or RealClock()
        self.t0 = self.clock.monotonic()
        self.silent = False
        self.reads_sent = 0
        self.reports_sent = 0
        self.keepalives_sent = 0
        self.acks_received = 0
        self.received: deque[int] = deque(maxlen=10_000)
        """Types of the latest client messages (bounded: a simulator may run for weeks)."""
        self.last_body: dict[int, bytes] = {}
        """The latest body of each client message type, for tests that inspect what a client sent."""
        self.connections = 0
        self._server: asyncio.Server | None = None
        self._writer: asyncio.StreamWriter | None = None
        self._tasks: set[asyncio.Task[Any]] = set()
        self._rospecs: dict[int, w.RoSpec] = {}
        self._inventory: asyncio.Task[None] | None = None
        self._keepalive: asyncio.Task[None] | None = None
        self._acc: dict[tuple[bytes, int], list[int]] = {}
        self._msg_id = 0

    async def __aenter__(self) -> SimReader:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    def restart_scenario(self) -> None:
        """Make scenario time 0 now (a test starts the dock traffic once its client is connected)."""
        self.t0 = self.clock.monotonic()

    def scenario_time(self) -> float:
        """Seconds of scenario time: the world keeps moving while the reader is off."""
        return self.clock.monotonic() - self.t0

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._serve, self.host, self.port)
        self.port = self._server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        """Power off: stop listening, cut the client, forget ROSpecs (a rebooted reader has none)."""
        if self._server is not None:
            self._server.close()
            await self._drop_client()
            await self._server.wait_closed()
            self._server = None
        for t in list(self._tasks):
            t.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    async def drop(self, down_for: float = 0.0) -> None:
        """Reboot: power off, stay down ``down_for`` real seconds, come back on the same port."""
        await self.stop()
        if down_for:
            await asyncio.sleep(down_for)
        await self.start()

    async def inject(self, raw: bytes) -> None:
        """Write raw bytes to the connected client (malformed frames for fuzz tests)."""
        if self._writer is not None:
            self._writer.write(raw)
            await self._writer.drain()

    def _next_id(self) -> int:
        self._msg_id += 1
        return self._msg_id

    async def _send(self, msg_type: int, body: bytes, msg_id: int | None = None) -> None:
        writer = self._writer
        if writer is None or writer.is_closing():
            return
        writer.write(w.frame(msg_type, self._next_id() if msg_id is None else msg_id, body))
        with contextlib.suppress(ConnectionError):
            await writer.drain()

    def _spawn(self, coro: Any) -> asyncio.Task[Any]:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    async def _drop_client(self) -> None:
        for attr in ("_inventory", "_keepalive"):
            task = getattr(self, attr)
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
                setattr(self, attr, None)
        self._rospecs.clear()
        self._acc.clear()
        if self._writer is not None:
            self._writer.close()
            self._writer = None

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._spawn(self._session(reader, writer))

    async def _session(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if self._writer is not None:  # the old client hears that another connection was attempted
            await self._send(w.READER_EVENT_NOTIFICATION, self._event(w.tlv(256, struct.pack(">H", 4))))
            await self._drop_client()
        self._writer = writer
        self.connections += 1
        await self._send(w.READER_EVENT_NOTIFICATION, self._event(w.tlv(256, struct.pack(">H", 0))))
        try:
            while True:
                header = await reader.readexactly(10)
                word, length, msg_id = struct.unpack(">HII", header)
                if (word >> 10) & 7 != 1 or not 10 <= length <= 1 << 20:
                    await self._send(w.ERROR_MESSAGE, w.status(w.STATUS_UNSUPPORTED_MESSAGE, "bad header"), msg_id)
                    break
                body = await reader.readexactly(length - 10)
                self.received.append(word & 0x3FF)
                self.last_body[word & 0x3FF] = body
                if not await self._handle(word & 0x3FF, msg_id, body):
                    break
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            if self._writer is writer:
                await self._drop_client()
            else:
                writer.close()

    def _event(self, inner: bytes) -> bytes:
        return w.tlv(246, w.utc_timestamp(self._now_us()) + inner)

    def _now_us(self) -> int:
        return int(self.clock.now().timestamp() * 1_000_000)

    async def _handle(self, msg_type: int, msg_id: int, body: bytes) -> bool:
        """Answer one client message; False ends the connection."""
        if self.silent:
            return True
        try:
            reply = self._dispatch(msg_type, body)
        except (w.WireError, struct.error) as exc:
            code = w.STATUS_FIELD_ERROR if msg_type in w.RESPONSES else w.STATUS_UNSUPPORTED_MESSAGE
            resp = w.RESPONSES.get(msg_type, w.ERROR_MESSAGE)
            await self._send(resp, w.status(code, str(exc)), msg_id)
            return True
        if reply is not None:
            await self._send(reply[0], reply[1], msg_id)
        return msg_type != w.CLOSE_CONNECTION

    def _dispatch(self, msg_type: int, body: bytes) -> tuple[int, bytes] | None:
        if msg_type == w.GET_READER_CAPABILITIES:
            return w.GET_READER_CAPABILITIES_RESPONSE, _capabilities(self.antennas)
        if msg_type == w.KEEPALIVE_ACK:
            self.acks_received += 1
            return None
        if msg_type == w.ENABLE_EVENTS_AND_REPORTS:
            return None
        if msg_type == w.GET_REPORT:
            self._spawn(self._report())
            return None
        if msg_type == w.GET_READER_CONFIG:
            props = b"".join(w.tlv(221, struct.pack(">BHh", 0x80, a, 0)) for a in range(1, self.antennas + 1))
            return w.GET_READER_CONFIG_RESPONSE, w.status() + props
        if msg_type == w.SET_READER_CONFIG:
            interval = w.parse_keepalive_ms(body)
            if interval is not None:
                self._set_keepalive(interval)
        elif msg_type == w.ADD_ROSPEC:
            spec = w.parse_rospec(body)
            if spec.rospec_id in self._rospecs:
                raise w.WireError(f"ROSpec {spec.rospec_id} already exists")
            if 0 in spec.antennas:  # LLRP 1.0.1, AISpec: an AntennaID of 0 means every antenna of the reader
                spec = dataclasses.replace(spec, antennas=tuple(range(1, self.antennas + 1)))
            if not spec.antennas or any(a > self.antennas for a in spec.antennas):
                raise w.WireError(f"antennas {spec.antennas} not on this reader")
            self._rospecs[spec.rospec_id] = spec
        elif msg_type in (w.DELETE_ROSPEC, w.ENABLE_ROSPEC, w.START_ROSPEC, w.STOP_ROSPEC, w.DISABLE_ROSPEC):
            self._rospec_op(msg_type, struct.unpack(">I", body[:4])[0])
        elif msg_type not in w.RESPONSES:
            return w.ERROR_MESSAGE, w.status(w.STATUS_UNSUPPORTED_MESSAGE, f"message type {msg_type}")
        return w.RESPONSES[msg_type], w.status()

    def _rospec_op(self, msg_type: int, rospec_id: int) -> None:
        if msg_type == w.DELETE_ROSPEC:
            if rospec_id == 0:
                self._rospecs.clear()
            elif self._rospecs.pop(rospec_id, None) is None:
                raise w.WireError(f"no ROSpec {rospec_id}")
            self._stop_inventory()
            return
        spec = self._rospecs.get(rospec_id)
        if spec is None:
            raise w.WireError(f"no ROSpec {rospec_id}")
        if msg_type == w.START_ROSPEC or (msg_type == w.ENABLE_ROSPEC and spec.start_trigger in (1, 2)):
            self._stop_inventory()
            self._inventory = self._spawn(self._inventory_loop(spec))
        elif msg_type in (w.STOP_ROSPEC, w.DISABLE_ROSPEC):
            self._stop_inventory()

    def _stop_inventory(self) -> None:
        if self._inventory is not None:
            self._inventory.cancel()
            self._inventory = None

    def _set_keepalive(self, interval_ms: int) -> None:
        if self._keepalive is not None:
            self._keepalive.cancel()
            self._keepalive = None
        if interval_ms > 0:
            self._keepalive = self._spawn(self._keepalive_loop(interval_ms / 1000))

    async def _keepalive_loop(self, interval: float) -> None:
        while True:
            await self.clock.sleep(interval)
            if not self.silent:
                self.keepalives_sent += 1
                await self._send(w.KEEPALIVE, b"")

    async def _inventory_loop(self, spec: w.RoSpec) -> None:
        """Rounds of one antenna each; report on N tags, at AISpec end, or on GET_REPORT.

        Rounds are laid out on the simulated timeline, one every ``round_s``: when the event loop
        wakes late (a loaded machine, a sped-up clock) the missed rounds are run at their own times,
        as a reader's radio would have run them, instead of silently skipping part of the field.
        """
        rounds = 0
        next_round = self.clock.monotonic() + self.round_s
        while True:
            started = next_round - self.round_s  # an AISpec begins where the last one ended
            seen: set[bytes] = set()
            while not self._aispec_done(spec, next_round - started, len(seen)):
                await self.clock.sleep(next_round - self.clock.monotonic())
                now = self.clock.monotonic()
                wall_us = self._now_us()
                backlog = 0
                while next_round <= now and backlog < 500:
                    if self._aispec_done(spec, next_round - started, len(seen)):
                        break
                    antenna = spec.antennas[rounds % len(spec.antennas)]
                    rounds += 1
                    backlog += 1
                    self._round(antenna, next_round - self.t0, wall_us - int((now - next_round) * 1e6), seen)
                    next_round += self.round_s
                    if spec.report_n and len(self._acc) >= spec.report_n:
                        await self._report(spec.rospec_id)
                if backlog == 500:  # hopelessly behind: drop the missed rounds rather than spiral
                    next_round = now + self.round_s
            await self._report(spec.rospec_id)
            if spec.start_trigger != 2:
                return
            if spec.period_ms > spec.aispec_duration_ms:
                idle = (spec.period_ms - spec.aispec_duration_ms) / 1000
                next_round += idle
                await self.clock.sleep(next_round - self.round_s - self.clock.monotonic())

    def _round(self, antenna: int, scenario_t: float, stamp_us: int, seen: set[bytes]) -> None:
        """One inventory round on ``antenna`` at scenario time ``scenario_t``, accumulated for a report."""
        for epc, rssi in self.scenario.sighting(scenario_t, antenna):
            seen.add(epc)
            entry = self._acc.get((epc, antenna))
            if entry is None:
                self._acc[(epc, antenna)] = [stamp_us, stamp_us, rssi, 1]
            else:
                entry[1] = stamp_us
                entry[2] = max(entry[2], rssi)
                entry[3] += 1

    @staticmethod
    def _aispec_done(spec: w.RoSpec, elapsed: float, unique_tags: int) -> bool:
        """AISpec stop triggers: Duration (T ms), Tag_Observation (N tags or timeout), or never (Null)."""
        if spec.aispec_duration_ms:
            return elapsed >= spec.aispec_duration_ms / 1000
        if spec.observe_tags:
            timeout = spec.observe_timeout_ms / 1000
            return unique_tags >= spec.observe_tags or (timeout > 0 and elapsed >= timeout)
        return False

    async def _report(self, rospec_id: int = 0) -> None:
        if not self._acc or self.silent:
            return
        acc, self._acc = self._acc, {}
        parts = []
        for (epc, antenna), (first, last, rssi, count) in acc.items():
            parts.append(
                w.tlv(
                    240,
                    w.tv(13, epc)
                    + w.tv(9, struct.pack(">I", rospec_id))
                    + w.tv(1, struct.pack(">H", antenna))
                    + w.tv(6, struct.pack(">b", rssi))
                    + w.tv(2, struct.pack(">Q", first))
                    + w.tv(4, struct.pack(">Q", last))
                    + w.tv(8, struct.pack(">H", count)),
                )
            )
            self.reads_sent += count
        self.reports_sent += 1
        await self._send(w.RO_ACCESS_REPORT, b"".join(parts))
