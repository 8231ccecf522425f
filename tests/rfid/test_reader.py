"""The LLRP session against the simulated reader over real TCP: sequence, reads, keepalive, dead link,
reader restart, malformed frames, refusals."""

from __future__ import annotations

import asyncio
import random
import struct
from collections.abc import AsyncIterator

import pytest

from drivers.rfid import (
    FrameRejected,
    LlrpReader,
    ReaderEvent,
    ReaderOptions,
    ReaderState,
    RfidConfigError,
    RfidDriverError,
    TagRead,
    parse_reader_options,
)
from firmware_sim.llrp import Scenario, SimReader, random_population, sgtin96, wire
from tests.rfid.conftest import wait_for


def opts(port: int, **kw: object) -> ReaderOptions:
    base: dict[str, object] = dict(
        host="127.0.0.1",
        port=port,
        antennas=(1, 2),
        report_every_ms=50,
        keepalive_ms=200,
        backoff_initial_s=0.02,
        backoff_max_s=0.1,
    )
    base.update(kw)
    return ReaderOptions(**base)  # type: ignore[arg-type]


class Collector:
    """Consumes a reader's stream in the background so tests can wait on what arrived."""

    def __init__(self, reader: LlrpReader) -> None:
        self.reader = reader
        self.events: list[ReaderEvent] = []
        self.task = asyncio.create_task(self._run())

    async def _run(self) -> None:
        async for ev in self.reader:
            self.events.append(ev)

    def reads(self) -> list[TagRead]:
        return [e for e in self.events if isinstance(e, TagRead)]

    def states(self) -> list[str]:
        return [e.state for e in self.events if isinstance(e, ReaderState)]

    async def stop(self) -> None:
        self.task.cancel()
        await asyncio.gather(self.task, return_exceptions=True)


@pytest.fixture
async def sim() -> AsyncIterator[SimReader]:
    async with SimReader(random_population(6, antennas=(1, 2)), round_s=0.005) as reader:
        yield reader


async def test_common_sequence_then_tag_reads(sim: SimReader) -> None:
    async with LlrpReader(opts(sim.port, tx_power_dbm=25.0)) as reader:
        col = Collector(reader)
        await wait_for(lambda: len({r.epc.uri for r in col.reads()}) == 6, what="all six tags")
        await col.stop()
    assert list(sim.received)[:7] == [
        wire.GET_READER_CAPABILITIES,
        wire.SET_READER_CONFIG,
        wire.ENABLE_EVENTS_AND_REPORTS,
        wire.DELETE_ACCESSSPEC,
        wire.DELETE_ROSPEC,
        wire.ADD_ROSPEC,
        wire.ENABLE_ROSPEC,
    ]
    assert wire.CLOSE_CONNECTION in sim.received  # polite close on exit
    assert col.states()[:2] == ["connecting", "connected"]
    assert reader.capabilities is not None and reader.capabilities.power_index(25.0) == 61
    read = col.reads()[0]
    assert read.epc.scheme == "sgtin-96" and read.antenna in (1, 2)
    assert read.rssi is not None and -110 <= read.rssi <= -20
    assert read.first_seen is not None and read.last_seen is not None and read.first_seen <= read.last_seen
    assert read.count >= 1 and read.rospec_id == 1
    assert reader.reads == sum(r.count for r in col.reads()) <= sim.reads_sent


async def test_keepalives_are_acknowledged(sim: SimReader) -> None:
    async with LlrpReader(opts(sim.port, keepalive_ms=20)) as reader:
        col = Collector(reader)
        await wait_for(lambda: sim.acks_received >= 3, what="three keepalive acks")
        await col.stop()
    assert reader.keepalives >= sim.acks_received >= 3


async def test_dead_link_is_detected_and_the_driver_reconnects(sim: SimReader) -> None:
    async with LlrpReader(opts(sim.port, keepalive_ms=30, dead_after_keepalives=3)) as reader:
        col = Collector(reader)
        await wait_for(lambda: "connected" in col.states(), what="connect")
        sim.silent = True  # no FIN, no keepalive: a reader whose cable was pulled
        await wait_for(lambda: "disconnected" in col.states(), what="dead link")
        sim.silent = False
        await wait_for(lambda: col.states().count("connected") == 2, what="reconnect")
        await col.stop()
    dead = next(e for e in col.events if isinstance(e, ReaderState) and e.state == "disconnected")
    assert "link dead" in dead.detail
    assert sim.connections == 2


async def test_reader_restart_mid_read_reconnects_and_reads_resume() -> None:
    scenario = Scenario(miss_rate=0.0)
    epcs = [sgtin96("0614141", "812345", n) for n in range(1, 21)]
    for i, epc in enumerate(epcs):
        scenario.case_passes(epc, (1, 2), at=0.05 * i, over=0.6)
    async with SimReader(scenario, round_s=0.005) as sim, LlrpReader(opts(sim.port)) as reader:
        col = Collector(reader)
        await wait_for(lambda: len(col.reads()) >= 5, what="first reads")
        await sim.drop(down_for=0.1)  # power cycle: connection cut, ROSpecs forgotten
        await wait_for(lambda: col.states().count("connected") == 2, what="reconnect")
        await wait_for(lambda: sim.scenario_time() > scenario.end + 0.1, what="all cases passed")
        await asyncio.sleep(0.1)
        await col.stop()
    assert sim.received.count(wire.ADD_ROSPEC) == 2  # the ROSpec is re-installed after the reboot
    assert reader.sessions == 2


async def test_backoff_doubles_with_jitter_and_a_cap() -> None:
    reader = LlrpReader(opts(1, backoff_initial_s=1.0, backoff_max_s=8.0), rng=random.Random(1))
    delays = [reader.backoff(n) for n in range(1, 7)]
    for n, d in enumerate(delays, start=1):
        ceiling = min(8.0, 2.0 ** (n - 1))
        assert ceiling / 2 <= d <= ceiling


async def test_unreachable_reader_retries_with_backoff() -> None:
    server = await asyncio.start_server(lambda r, w: None, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    server.close()
    await server.wait_closed()
    async with LlrpReader(opts(port)) as reader:
        col = Collector(reader)
        await wait_for(lambda: col.states().count("disconnected") >= 3, what="three failed attempts")
        await col.stop()
    failed = [e for e in col.events if isinstance(e, ReaderState) and e.state == "disconnected"]
    assert "connect failed" in failed[0].detail and [e.attempt for e in failed[:3]] == [1, 2, 3]


async def test_malformed_frames_are_rejected_without_a_crash(sim: SimReader) -> None:
    async with LlrpReader(opts(sim.port)) as reader:
        col = Collector(reader)
        await wait_for(lambda: "connected" in col.states(), what="connect")
        bad_body = wire.frame(wire.RO_ACCESS_REPORT, 1, wire.tlv(240, bytes([0x80 | 99, 1])))
        await sim.inject(bad_body)
        await wait_for(lambda: any(isinstance(e, FrameRejected) for e in col.events), what="rejection")
        assert col.states().count("connected") == 1  # framing intact: the session goes on
        await sim.inject(struct.pack(">HII", (1 << 10) | 61, 3, 1))  # a length below the header: lost framing
        await wait_for(lambda: col.states().count("connected") == 2, what="resync by reconnect")
        before = len(col.reads())
        await wait_for(lambda: len(col.reads()) > before, what="reads after resync")
        await col.stop()
    rejected = [e for e in col.events if isinstance(e, FrameRejected)]
    assert "unknown TV parameter type 99" in rejected[0].detail and not rejected[0].resync
    assert rejected[1].resync and "length 3 out of range" in rejected[1].detail


async def test_reader_refusing_the_rospec_is_reported(sim: SimReader) -> None:
    async with LlrpReader(opts(sim.port, antennas=(1, 9))) as reader:
        col = Collector(reader)
        await wait_for(lambda: "disconnected" in col.states(), what="refusal")
        await col.stop()
    failed = next(e for e in col.events if isinstance(e, ReaderState) and e.state == "disconnected")
    assert "antennas (1, 9) but the reader has 4" in failed.detail


async def test_second_client_takes_over(sim: SimReader) -> None:
    async with LlrpReader(opts(sim.port, backoff_initial_s=5.0, backoff_max_s=5.0)) as first:
        col = Collector(first)
        await wait_for(lambda: "connected" in col.states(), what="connect")
        async with LlrpReader(opts(sim.port)) as second:
            col2 = Collector(second)
            await wait_for(lambda: "disconnected" in col.states(), what="first displaced")
            await wait_for(lambda: "connected" in col2.states(), what="second connected")
            await col2.stop()
        await col.stop()
    displaced = next(e for e in col.events if isinstance(e, ReaderState) and e.state == "disconnected")
    assert "another client" in displaced.detail or "closed" in displaced.detail


def test_options_are_validated_by_name() -> None:
    good = parse_reader_options({"host": "10.0.0.5", "antennas": [1, 2], "report_every_n": 20, "tx_power_dbm": 27.5})
    assert good.antennas == (1, 2) and good.port == 5084 and good.dead_after_s == 15.0
    cases: list[tuple[dict[str, object], str]] = [
        ({}, "host"),
        ({"host": "h", "antenas": [1]}, "antenas"),
        ({"host": "h", "antennas": "1"}, "antennas"),
        ({"host": "h", "port": 70000}, "port"),
        ({"host": "h", "report_every_ms": 0}, "report_every_ms"),
        ({"host": "h", "keepalive_ms": "often"}, "keepalive_ms"),
    ]
    for raw, option in cases:
        with pytest.raises(RfidConfigError) as info:
            parse_reader_options(raw)
        assert info.value.option == option


async def test_a_bug_in_the_session_ends_the_stream_loudly(sim: SimReader) -> None:
    class Broken(LlrpReader):
        async def _configure(self) -> None:
            raise ZeroDivisionError("bug")

    async with Broken(opts(sim.port)) as reader:
        with pytest.raises(RfidDriverError, match="ZeroDivisionError"):
            async for _ in reader:
                pass
