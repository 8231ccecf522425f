"""Read points -> ops as pure logic (receiving, shipping, cycle count, options), plus the full path
from garbage bytes through decode, smoothing and mapping: a clear error, no op."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from drivers.rfid import Epc, LlrpDecodeError, RfidConfigError, decode_epc
from drivers.rfid.messages import decode_report
from drivers.rfid.smoothing import ReadPoint, SmoothingConfig, TagEvent, TagSmoother
from edge.capture.rfid import Point, RfidDevice, RfidMapper, plan_for
from edge.config import Device, parse_config
from edge.store.masterdata import MasterData
from firmware_sim.llrp import sscc96, wire
from sync.ops import CountPayload, ExceptionPayload, OpDraft, ReceivePayload
from tests.rfid.conftest import FastClock
from tests.rfid.edge_site import case_epc, edge_context, site

T0 = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
MASTER = MasterData.from_config(parse_config(site(per_line=2)))
DOCK = Point("D1", "in-door", "receiving", "DOCK-1", portal=True)
SHIP = Point("D2", "out-door", "shipping", "DOCK-9", portal=True)
ZONE = Point("Z1", "shelf", "cycle_count", "A-01", portal=False)


def event(epc: Epc, point: Point, kind: str = "departed", direction: str | None = "in") -> TagEvent:
    return TagEvent(kind, epc, point.name, T0, T0, T0, 5, -50, direction)  # type: ignore[arg-type]


def mapper() -> RfidMapper:
    return RfidMapper(MASTER, {p.name: p for p in (DOCK, SHIP, ZONE)})


def test_receive_once_per_epc_against_the_open_line() -> None:
    m = mapper()
    epc = decode_epc(case_epc(1, 7))
    draft = m.map_event(event(epc, DOCK))
    assert draft is not None and isinstance(draft.payload, ReceivePayload)
    p = draft.payload
    assert (p.sku, p.asn_id, p.asn_line, p.qty, p.location) == ("SKU-1", "ASN-1", 2, 1, "DOCK-1")
    assert p.serials == ["urn:epc:id:sgtin:0614141.812346.7"] and draft.actor == "device:D1"
    assert m.map_event(event(epc, DOCK)) is None  # the same case again: nothing
    assert m.map_event(event(decode_epc(case_epc(1, 8)), DOCK)) is not None
    over = m.map_event(event(decode_epc(case_epc(1, 9)), DOCK))  # line 2 holds 2
    assert over is not None and isinstance(over.payload, ExceptionPayload)
    assert over.payload.code == "rfid_no_open_asn_line"


def test_only_the_inward_pass_receives() -> None:
    m = mapper()
    epc = decode_epc(case_epc(0, 1))
    assert m.map_event(event(epc, DOCK, direction="out")) is None
    assert m.map_event(event(epc, DOCK, direction="unknown")) is None
    assert m.map_event(event(epc, DOCK, kind="arrived", direction=None)) is None
    assert m.map_event(event(epc, DOCK)) is not None


def test_history_from_the_journal_prevents_a_second_receive() -> None:
    m = mapper()
    epc = decode_epc(case_epc(2, 1))
    first = m.map_event(event(epc, DOCK))
    assert first is not None
    fresh = mapper()

    class Stored:  # what load_history reads of an Op
        kind = first.payload.kind
        payload = first.payload

    fresh.load_history([Stored()])  # type: ignore[list-item]
    assert fresh.map_event(event(epc, DOCK)) is None
    assert fresh.line_tally[("ASN-1", 3)] == 1


def test_sscc_and_unknown_tags_give_one_exception_each() -> None:
    m = mapper()
    sscc = decode_epc(sscc96("0614141", "1234567890"))
    codes = []
    for epc in (sscc, sscc, decode_epc(bytes(12))):
        draft = m.map_event(event(epc, DOCK))
        if draft is not None:
            assert isinstance(draft.payload, ExceptionPayload)
            codes.append(draft.payload.code)
    assert codes == ["rfid_sscc_no_contents", "rfid_unknown_epc"]


def test_shipping_dock_checks_against_the_outbound_order() -> None:
    m = mapper()  # SO-1 wants 5 x SKU-0
    results = [m.map_event(event(decode_epc(case_epc(0, n)), SHIP, direction="out")) for n in range(6)]
    assert results[:5] == [None] * 5 and m.shipped_ok[("SO-1", "SKU-0")] == 5
    sixth = results[5]
    assert sixth is not None and isinstance(sixth.payload, ExceptionPayload)
    assert sixth.payload.code == "rfid_not_on_order" and sixth.payload.location == "DOCK-9"
    wrong = m.map_event(event(decode_epc(case_epc(3, 1)), SHIP, direction="out"))
    assert wrong is not None and "SKU-3" in wrong.payload.detail  # type: ignore[union-attr]
    assert m.map_event(event(decode_epc(case_epc(3, 2)), SHIP, direction="in")) is None


def test_cycle_count_delta_against_the_book() -> None:
    m = mapper()
    present = [decode_epc(case_epc(0, n)) for n in range(3)] + [decode_epc(case_epc(1, 1))]
    drafts = m.count(ZONE, present, {"SKU-0": 5, "SKU-2": 4, "SKU-3": 0}, T0)
    got = {d.payload.sku: d.payload for d in drafts if isinstance(d.payload, CountPayload)}
    assert sorted(got) == ["SKU-0", "SKU-1", "SKU-2"]
    assert (got["SKU-0"].counted_qty, got["SKU-0"].book_qty, got["SKU-0"].delta) == (3, 5, -2)
    assert (got["SKU-1"].counted_qty, got["SKU-1"].delta) == (1, 1)
    assert (got["SKU-2"].counted_qty, got["SKU-2"].delta) == (0, -4)
    assert got["SKU-0"].count_id == "shelf:1"


async def test_cycle_count_zone_counts_against_the_journal_book(tmp_path: Path) -> None:
    clock = FastClock(scale=1.0)
    device = Device(
        id="Z1",
        kind="rfid",
        location="A-01",
        options={"host": "h", "mode": "cycle_count", "antennas": [3], "min_seen": 1},
    )
    async with edge_context(tmp_path / "j.sqlite", clock) as ctx:
        receive = ReceivePayload(sku="SKU-0", location="A-01", qty=4)
        await ctx.journal.append(OpDraft(payload=receive, actor="system", occurred_at=clock.now()))
        dev = RfidDevice(device, ctx)
        writer = __import__("asyncio").create_task(dev._writer())
        from drivers.rfid import TagRead

        for n in range(6):
            epc = decode_epc(case_epc(0, n))
            await dev.on_read(TagRead(epc, 3, -55, None, None, 1, clock.now()))
        await dev.count_zones()
        await dev.drain()
        writer.cancel()
        counts = [op.payload for op in dev.ops if isinstance(op.payload, CountPayload)]
        assert [(c.sku, c.counted_qty, c.book_qty, c.delta) for c in counts] == [("SKU-0", 6, 4, 2)]
        assert ctx.journal.book_qty("SKU-0", "A-01") == 6


def test_plan_splits_edge_and_driver_options() -> None:
    dev = Device(
        id="DOOR-1",
        kind="rfid",
        location="DOCK-1",
        options={"host": "10.0.0.9", "antennas": [1, 2], "window_s": 1.5, "min_rssi": -70, "report_every_n": 10},
    )
    plan = plan_for(dev)
    (rp,) = plan.read_points
    assert rp.portal and rp.antennas == (1, 2) and plan.points["DOOR-1"].mode == "receiving"
    assert plan.smoothing == SmoothingConfig(window_s=1.5, min_seen=2, min_rssi=-70)
    assert plan.driver_options == {"host": "10.0.0.9", "antennas": [1, 2], "report_every_n": 10}
    multi = Device(
        id="R",
        kind="rfid",
        location="DOCK-1",
        options={
            "host": "h",
            "read_points": [
                {"name": "door", "antennas": [1, 2], "portal": True},
                {"name": "shelf", "antennas": [3], "mode": "cycle_count", "location": "A-01"},
            ],
        },
    )
    plan = plan_for(multi)
    assert plan.driver_options["antennas"] == [1, 2, 3] and plan.points["shelf"].location == "A-01"
    bad: list[tuple[dict[str, Any], str | None, str]] = [
        ({"host": "h", "mode": "teleport"}, "DOCK-1", "mode"),
        ({"host": "h"}, None, "read_points[0].location"),
        ({"host": "h", "read_points": [{"name": "x"}]}, "DOCK-1", "read_points[0]"),
    ]
    for options, location, option in bad:
        with pytest.raises(RfidConfigError) as info:
            plan_for(Device(id="R", kind="rfid", location=location, options=options))
        assert info.value.option == option


VALID_REPORT = wire.frame(
    wire.RO_ACCESS_REPORT, 1, wire.tlv(240, wire.tv(13, case_epc(0, 1)) + wire.tv(1, b"\x00\x01"))
)


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(st.integers(0, 100), st.integers(0, 255)), min_size=1, max_size=4), st.binary(max_size=40))
def test_malformed_reports_never_escape_as_another_error(flips: list[tuple[int, int]], tail: bytes) -> None:
    """Mutated report frames through decode, smoothing and mapping: a decode error, or (when the
    mutation still is a valid frame) reads that map without raising; a rejected frame yields no op."""
    buf = bytearray(VALID_REPORT + tail)
    for pos, value in flips:
        buf[pos % len(buf)] = value
    smoother = TagSmoother([ReadPoint("in-door", (1, 2), portal=True)], SmoothingConfig(min_seen=1))
    m = mapper()
    try:
        reads = decode_report(bytes(buf), T0)
    except LlrpDecodeError as exc:
        assert str(exc)
        return
    events = smoother.feed_many(reads) + smoother.tick(T0 + timedelta(hours=1))
    for e in events:
        m.map_event(e)


def test_read_points_must_use_inventoried_antennas() -> None:
    device = Device(
        id="R",
        kind="rfid",
        location="DOCK-1",
        options={"host": "h", "antennas": [1], "read_points": [{"name": "door", "antennas": [1, 2], "portal": True}]},
    )
    with pytest.raises(RfidConfigError, match=r"antennas \[2\]"):
        plan_for(device)
