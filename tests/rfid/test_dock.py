"""Read points to ops, end to end over real TCP: simulated reader -> driver -> smoothing -> journal.

Simulated time (``FastClock``) runs the dock traffic 10-15 times faster than real time, shared by the
simulator, the driver and the edge so they agree on what "two seconds" means.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from pathlib import Path
from typing import Any

from edge.capture.rfid import RfidDevice
from edge.config import Device
from firmware_sim.llrp import Scenario, SimReader, sgtin96, wire
from sync.ops import OpKind, ReceivePayload
from tests.rfid.conftest import FastClock, wait_for
from tests.rfid.edge_site import case_epc, edge_context, site


def door(port: int, **extra: Any) -> Device:
    options: dict[str, Any] = {
        "host": "127.0.0.1",
        "port": port,
        "antennas": [1, 2],
        "mode": "receiving",
        "window_s": 2.0,
        "min_seen": 2,
        "report_every_ms": 100,
        "keepalive_ms": 5000,
        "dead_after_keepalives": 4,
        "backoff_initial_s": 0.2,
        "backoff_max_s": 1.0,
    }
    options.update(extra)
    return Device(id="DOOR-1", kind="rfid", location="DOCK-1", options=options)


def dock_scenario(cases: list[bytes], *, spacing: float, over: float, seed: int = 5) -> Scenario:
    scenario = Scenario(miss_rate=0.1, seed=seed)
    for i, epc in enumerate(cases):
        scenario.case_passes(epc, (1, 2), at=0.5 + i * spacing, over=over)
    return scenario


def receives(ctx: Any) -> list[ReceivePayload]:
    out = []
    for entry in ctx.journal.entries(limit=100_000, kind=OpKind.RECEIVE):
        payload = entry.op().payload
        assert isinstance(payload, ReceivePayload)
        out.append(payload)
    return out


async def run_until_done(
    dev: RfidDevice, sim: SimReader, scenario: Scenario, clock: FastClock, expected_ops: int, timeout: float = 40.0
) -> None:
    task = asyncio.create_task(dev.run())
    try:
        await wait_for(lambda: dev.reader is not None and dev.reader.state == "connected", what="connected")
        sim.restart_scenario()  # the dock traffic starts once the reader is inventorying
        await wait_for(lambda: sim.scenario_time() > scenario.end + 4.0, timeout=timeout, what="all cases through")
        try:
            await wait_for(lambda: len(dev.ops) >= expected_ops, timeout=10, what=f"{expected_ops} ops")
        except AssertionError as exc:
            reader = dev.reader
            raise AssertionError(
                f"{exc}: have {len(dev.ops)} ops, smoother saw {dev.smoother.reads} of {sim.reads_sent} reads, "
                f"sessions {reader.sessions if reader else 0}, rejected frames {dev.rejected_frames}"
            ) from None
        await dev.drain()
        await asyncio.sleep(0.1)  # anything extra (a duplicate) would land now
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


async def test_1000_cases_through_a_dock_door_receive_exactly_the_asn(tmp_path: Path) -> None:
    clock = FastClock(scale=10.0)  # 100 s of dock traffic in about 10 s
    cases = [case_epc(i % 4, 10_000 + i) for i in range(1000)]
    scenario = dock_scenario(cases, spacing=0.1, over=1.2)
    scenario.tag_stands(sgtin96("0614141", "812345", 1), antenna=1, rssi=-72)  # parked by the door: never in
    async with SimReader(scenario, round_s=0.02, clock=clock) as sim, edge_context(tmp_path / "j.sqlite", clock) as ctx:
        dev = RfidDevice(door(sim.port), ctx)
        await run_until_done(dev, sim, scenario, clock, expected_ops=1000, timeout=60)
        got = receives(ctx)
        assert ctx.journal.book_qty("SKU-2", "DOCK-1") == 250
    assert len(got) == 1000
    serials = [p.serials[0] for p in got]
    assert len(set(serials)) == 1000
    assert set(serials) == {f"urn:epc:id:sgtin:0614141.{812345 + i % 4}.{10_000 + i}" for i in range(1000)}
    per_line = Counter((p.asn_id, p.asn_line, p.sku) for p in got)
    assert per_line == {("ASN-1", i + 1, f"SKU-{i}"): 250 for i in range(4)}
    assert {p.location for p in got} == {"DOCK-1"} and {p.qty for p in got} == {1}
    assert sim.reads_sent > 5 * 1000  # many raw reads per case became one op


async def test_reader_restarted_mid_read_loses_and_duplicates_nothing(tmp_path: Path) -> None:
    clock = FastClock(scale=15.0)
    cases = [case_epc(i % 4, 20_000 + i) for i in range(120)]
    scenario = dock_scenario(cases, spacing=0.1, over=3.0)
    async with SimReader(scenario, round_s=0.02, clock=clock) as sim, edge_context(tmp_path / "j.sqlite", clock) as ctx:
        dev = RfidDevice(door(sim.port), ctx)

        async def power_cycle() -> None:
            await wait_for(lambda: len(dev.ops) >= 30, timeout=20, what="30 receives before the restart")
            await sim.drop(down_for=0.02)

        cycler = asyncio.create_task(power_cycle())
        await run_until_done(dev, sim, scenario, clock, expected_ops=120)
        await cycler
        got = receives(ctx)
    assert sim.connections == 2 and dev.reader is not None and dev.reader.sessions == 2
    assert sorted(p.serials[0] for p in got) == sorted(
        f"urn:epc:id:sgtin:0614141.{812345 + i % 4}.{20_000 + i}" for i in range(120)
    )


async def test_gateway_restart_does_not_receive_an_epc_twice(tmp_path: Path) -> None:
    clock = FastClock(scale=15.0)
    first = [case_epc(0, 30_000 + i) for i in range(40)]
    more = [case_epc(1, 31_000 + i) for i in range(20)]
    path = tmp_path / "j.sqlite"
    scenario = dock_scenario(first, spacing=0.1, over=1.2)
    async with SimReader(scenario, round_s=0.02, clock=clock) as sim, edge_context(path, clock) as ctx:
        await run_until_done(RfidDevice(door(sim.port), ctx), sim, scenario, clock, expected_ops=40)
    # the gateway restarts; the same 40 cases come back through the door with 20 new ones
    clock2 = FastClock(scale=15.0)
    scenario2 = dock_scenario(first + more, spacing=0.1, over=1.2, seed=6)
    async with SimReader(scenario2, round_s=0.02, clock=clock2) as sim, edge_context(path, clock2) as ctx:
        dev = RfidDevice(door(sim.port), ctx)
        await run_until_done(dev, sim, scenario2, clock2, expected_ops=20)
        got = receives(ctx)
    assert len(dev.ops) == 20 and len(got) == 60 and len({p.serials[0] for p in got}) == 60


async def test_unknown_tags_and_over_receipt_become_one_exception_each(tmp_path: Path) -> None:
    clock = FastClock(scale=15.0)
    unknown_gtin = sgtin96("0614141", "899999", 1)
    gid = bytes.fromhex("35000000000000000000000A")
    over = [case_epc(3, 40_000 + i) for i in range(3)]  # line 4 allows 2
    config = site(per_line=2)
    scenario = dock_scenario([unknown_gtin, gid, *over], spacing=0.3, over=1.2)
    async with (
        SimReader(scenario, round_s=0.02, clock=clock) as sim,
        edge_context(tmp_path / "j.sqlite", clock, config) as ctx,
    ):
        dev = RfidDevice(door(sim.port), ctx)
        await run_until_done(dev, sim, scenario, clock, expected_ops=5)
    kinds = Counter(str(op.kind) for op in dev.ops)
    assert kinds == {"receive": 2, "exception": 3}
    codes = sorted(op.payload.code for op in dev.ops if op.kind == OpKind.EXCEPTION)  # type: ignore[union-attr]
    assert codes == ["rfid_no_open_asn_line", "rfid_unknown_epc", "rfid_unknown_gtin"]


async def test_malformed_frames_mid_run_make_no_op_and_no_crash(tmp_path: Path) -> None:
    clock = FastClock(scale=15.0)
    async with (
        SimReader(Scenario(), round_s=0.02, clock=clock) as sim,
        edge_context(tmp_path / "j.sqlite", clock) as ctx,
    ):
        dev = RfidDevice(door(sim.port), ctx)
        task = asyncio.create_task(dev.run())
        await wait_for(lambda: dev.reader is not None and dev.reader.state == "connected", what="connected")
        epc = case_epc(0, 1)
        garbage = [
            wire.tlv(240, wire.tv(13, epc)[:-3]),  # EPC cut short
            wire.tlv(240, wire.tv(13, epc) + bytes([0x80 | 77, 1, 2])),  # unknown TV type
            wire.tlv(240, wire.tv(13, epc))[:3] + b"\xff" + wire.tv(13, epc),  # TLV length past the end
            wire.tlv(287, b"\x00\x00\x00\x02\xff\xfe"),  # LLRPStatus text not UTF-8
        ]
        for body in garbage:
            await sim.inject(wire.frame(wire.RO_ACCESS_REPORT, 1, body))
        await sim.inject(wire.frame(999, 1))  # unknown message type
        await wait_for(lambda: dev.rejected_frames == 5, what="five rejections")
        await sim.inject(b"\x7f" * 10)  # a header with version 7: framing lost, the driver reconnects
        await wait_for(
            lambda: dev.rejected_frames == 6 and dev.reader is not None and dev.reader.sessions == 2, what="resync"
        )
        # the new session reports itself healthy a moment after it counts as a session
        await wait_for(
            lambda: (h := ctx.health.get("device:DOOR-1")) is not None and h.status == "ok", what="healthy again"
        )
        assert not task.done()
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        assert dev.ops == [] and ctx.journal.head()[0] == 0
