"""Tag smoothing: pure unit tests with a hand-made timeline, then direction at a portal over real TCP."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest

from drivers.rfid import LlrpReader, ReaderOptions, RfidConfigError, TagRead, decode_epc
from drivers.rfid.smoothing import ReadPoint, SmoothingConfig, TagEvent, TagSmoother
from firmware_sim.llrp import Scenario, SimReader, sgtin96
from tests.rfid.conftest import FastClock, wait_for

T0 = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
EPC = decode_epc(sgtin96("0614141", "812345", 1))
OTHER = decode_epc(sgtin96("0614141", "812345", 2))


def read(t: float, antenna: int = 1, rssi: int = -50, count: int = 1, epc: object = EPC) -> TagRead:
    at = T0 + timedelta(seconds=t)
    return TagRead(epc, antenna, rssi, at, at, count, at)  # type: ignore[arg-type]


def at(t: float) -> datetime:
    return T0 + timedelta(seconds=t)


def test_one_arrival_and_one_departure_from_many_reads() -> None:
    sm = TagSmoother([ReadPoint("dock", (1,))], SmoothingConfig(window_s=1.0, min_seen=3))
    events: list[TagEvent] = []
    for i in range(50):
        events += sm.feed(read(i * 0.05))
        events += sm.tick(at(i * 0.05))
    assert [e.kind for e in events] == ["arrived"]
    assert events[0].seen == 3 and events[0].read_point == "dock"
    assert sm.tick(at(3.4)) == [] and sm.present("dock") == [EPC]  # last read at 2.45 s, window 1 s
    (departed,) = sm.tick(at(3.5))
    assert departed.kind == "departed" and departed.seen == 50
    assert sm.present("dock") == [] and sm.tick(at(9.0)) == []


def test_departure_after_window_with_totals() -> None:
    sm = TagSmoother([ReadPoint("dock", (1,))], SmoothingConfig(window_s=1.0, min_seen=2))
    assert sm.feed(read(0.0, rssi=-70)) == []
    arrived = sm.feed(read(0.5, rssi=-48, count=3))
    assert [e.kind for e in arrived] == ["arrived"] and sm.present("dock") == [EPC]
    assert sm.tick(at(1.4)) == []
    (departed,) = sm.tick(at(1.6))
    assert departed.kind == "departed" and departed.seen == 4 and departed.peak_rssi == -48
    assert departed.first_seen == at(0.0) and departed.last_seen == at(0.5) and departed.direction is None
    assert sm.tracked == 0


def test_stray_reads_below_min_seen_or_rssi_expire_silently() -> None:
    sm = TagSmoother([ReadPoint("dock", (1,))], SmoothingConfig(window_s=1.0, min_seen=3, min_rssi=-65))
    events = sm.feed(read(0.0)) + sm.feed(read(0.2, rssi=-80)) + sm.feed(read(0.3, rssi=-90, count=5))
    events += sm.tick(at(2.0))
    assert events == [] and sm.ignored == 6 and sm.reads == 7
    # a gap longer than the window starts over
    events = sm.feed(read(3.0)) + sm.feed(read(3.5)) + sm.tick(at(4.6)) + sm.feed(read(4.7))
    assert events == [] and sm.tracked == 1


def test_reads_on_antennas_outside_read_points_are_ignored() -> None:
    sm = TagSmoother([ReadPoint("a", (1,)), ReadPoint("b", (2,))], SmoothingConfig(min_seen=1))
    events = sm.feed(read(0, antenna=3)) + sm.feed(read(0, antenna=2)) + sm.feed(read(0, antenna=1, epc=OTHER))
    assert sorted((e.read_point, e.epc.uri[-1]) for e in events) == [("a", "2"), ("b", "1")]
    assert sm.ignored == 1


@pytest.mark.parametrize(("order", "direction"), [((1, 2), "in"), ((2, 1), "out"), ((1,), "unknown")])
def test_portal_direction_by_antenna_order(order: tuple[int, ...], direction: str) -> None:
    sm = TagSmoother([ReadPoint("door", (1, 2), portal=True)], SmoothingConfig(window_s=1.0, min_seen=2))
    t = 0.0
    for antenna in order:
        for _ in range(6):
            sm.feed(read(t, antenna=antenna))
            t += 0.05
    sm.feed(read(t, antenna=order[0]))  # one late stray read on the first antenna does not flip it
    (departed,) = sm.tick(at(t + 2))
    assert departed.direction == direction


def test_read_point_validation() -> None:
    with pytest.raises(RfidConfigError):
        ReadPoint("door", (1,), portal=True)
    with pytest.raises(RfidConfigError):
        TagSmoother([ReadPoint("a", (1,)), ReadPoint("b", (1, 2))])
    with pytest.raises(RfidConfigError):
        SmoothingConfig(window_s=0)


async def test_direction_at_a_portal_over_tcp() -> None:
    """Cases pass a simulated two-antenna door both ways; each gives one in or one out."""
    clock = FastClock(scale=10.0)
    scenario = Scenario(miss_rate=0.15, seed=3)
    inbound = [sgtin96("0614141", "812345", n) for n in range(1, 11)]
    outbound = [sgtin96("0614141", "812345", n) for n in range(11, 21)]
    for i, epc in enumerate(inbound):
        scenario.case_passes(epc, (1, 2), at=0.5 + 0.3 * i, over=1.2)
    for i, epc in enumerate(outbound):
        scenario.case_passes(epc, (2, 1), at=0.6 + 0.3 * i, over=1.2)
    sm = TagSmoother([ReadPoint("door", (1, 2), portal=True)], SmoothingConfig(window_s=1.0, min_seen=2))
    events: list[TagEvent] = []
    async with SimReader(scenario, round_s=0.02, clock=clock) as sim:
        opts = ReaderOptions(host="127.0.0.1", port=sim.port, antennas=(1, 2), report_every_ms=100, keepalive_ms=0)
        async with LlrpReader(opts, clock=clock) as reader:

            async def consume() -> None:
                async for ev in reader:
                    if isinstance(ev, TagRead):
                        events.extend(sm.feed(ev))

            task = asyncio.create_task(consume())
            await wait_for(lambda: reader.state == "connected", what="connected")
            sim.restart_scenario()  # the cases start moving once the reader inventories
            await wait_for(lambda: sim.scenario_time() > scenario.end + 0.5, timeout=20, what="all passes")
            events.extend(sm.tick(clock.now() + timedelta(seconds=5)))
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
    departed = {e.epc.hex: e.direction for e in events if e.kind == "departed"}
    assert {departed[e.hex().upper()] for e in inbound} == {"in"}
    assert {departed[e.hex().upper()] for e in outbound} == {"out"}
    assert sum(e.kind == "arrived" for e in events) == 20


def test_a_pass_cut_by_a_pause_still_gets_its_direction() -> None:
    sm = TagSmoother([ReadPoint("door", (1, 2), portal=True)], SmoothingConfig(window_s=1.0, min_seen=2))
    for i in range(5):
        sm.feed(read(i * 0.1, antenna=1))
    (first,) = sm.tick(at(2.0))  # the case stopped between the antennas for longer than the window
    assert first.kind == "departed" and first.direction == "unknown"
    events = []
    events += sm.feed(read(3.0, antenna=2))  # one read is enough: the pass had arrived already
    events += sm.tick(at(5.0))
    assert [(e.kind, e.direction, e.seen) for e in events] == [("departed", "in", 6)]
    for i in range(3):  # the same EPC much later, long forgotten: a pass of its own
        sm.feed(read(60.0 + i * 0.1, antenna=2))
    (late,) = sm.tick(at(62.0))
    assert late.direction == "unknown"
