"""A scan at a receiving station becomes an op: the pure mapping, then the runner over a pty and a real
journal (the lead's edge store)."""

from __future__ import annotations

import asyncio
import contextlib
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest

from drivers.barcode import Gs1Data, RejectReason, ScanDecoder, ScanEvent, ScanRejected
from edge.capture.camera import run_camera_device
from edge.capture.scan import Station, map_scan, run_scanner_device, station_for
from edge.config import Device, parse_config
from edge.identity.stations import Session
from edge.store.masterdata import MasterData
from firmware_sim.camera import CodeSpec, frames, write_video
from firmware_sim.scanner import GS, ScannerSim
from sync.ops import ExceptionPayload, OpKind, ReceivePayload

from .conftest import SITE

AT = datetime(2026, 5, 1, 8, 30, tzinfo=UTC)
MASTER = MasterData.from_config(parse_config(SITE))
DOCK1 = Station(device_id="gun-1", location="DOCK-1")


def scan(text: str) -> ScanEvent | ScanRejected:
    return ScanDecoder(device_id="gun-1").from_text(text, AT)


def test_gs1_scan_receives_against_the_docks_asn_line() -> None:
    mapped = map_scan(scan(f"]C101095060001343521726123110LOT7{GS}3712{GS}21S-9"), DOCK1, MASTER)
    assert not mapped.refused and mapped.draft is not None
    p = mapped.draft.payload
    assert isinstance(p, ReceivePayload)
    # SKU-A is on ASN-1 (dock DOCK-2) and ASN-2 line 2 (dock DOCK-1): the station's dock wins
    assert (p.sku, p.asn_id, p.asn_line, p.location) == ("SKU-A", "ASN-2", 2, "DOCK-1")
    assert (p.lot, p.qty, p.expiry, p.serials) == ("LOT7", 12, "2026-12-31", ["S-9"])
    assert mapped.draft.actor == "device:gun-1" and mapped.draft.device_id == "gun-1"
    assert mapped.draft.occurred_at == AT


def test_pallet_label_uses_contained_gtin_and_sscc() -> None:
    mapped = map_scan(scan("]C10010614141123456789702195060001343593724"), DOCK1, MASTER)
    p = mapped.draft.payload if mapped.draft else None
    assert isinstance(p, ReceivePayload)
    assert (p.sku, p.qty, p.sscc, p.asn_id, p.asn_line) == ("SKU-B", 24, "106141411234567897", "ASN-2", 1)


def test_ean13_without_count_receives_one() -> None:
    station = Station(device_id="gun-2", location="DOCK-2")
    mapped = map_scan(scan("]C1010950600013435210L1"), station, MASTER)
    p = mapped.draft.payload if mapped.draft else None
    assert isinstance(p, ReceivePayload) and (p.qty, p.asn_id) == (1, "ASN-1")


@pytest.mark.parametrize(
    ("text", "code", "beep"),
    [
        ("]C10109506000134353", "scan_bad_check_digit", False),  # the driver already beeped
        ("]C1010950600013435217261331", "scan_bad_date", False),
        ("]C10112345678901231", "unknown_gtin", True),
        ("]C100106141411234567897", "no_gtin", True),
        ("]C10109506000134352", "lot_required", True),
        ("]E496385074", "no_open_asn_line", True),
        ("]Q1https://example.com", "scan_not_gs1", True),
    ],
)
def test_refusals_become_exception_ops(text: str, code: str, beep: bool) -> None:
    mapped = map_scan(scan(text), DOCK1, MASTER)
    assert mapped.refused and mapped.code == code and mapped.beep is beep
    assert mapped.draft is not None
    p = mapped.draft.payload
    assert isinstance(p, ExceptionPayload) and p.code == code and p.location == "DOCK-1" and p.ref


def test_line_noise_is_not_journaled() -> None:
    event = ScanRejected(device_id="gun-1", at=AT, reason=RejectReason.NOT_TEXT, detail="binary", raw=b"\xff")
    mapped = map_scan(event, DOCK1, MASTER)
    assert mapped.refused and mapped.draft is None and not mapped.beep


def test_event_carries_parsed_fields() -> None:
    event = scan("]C1010950600013435217261231")
    assert isinstance(event, ScanEvent)
    assert event.gs1 == Gs1Data(
        gtin="09506000134352", expiry=date(2026, 12, 31), elements=(("01", "09506000134352"), ("17", "261231"))
    )


def test_station_needs_a_location() -> None:
    with pytest.raises(ValueError, match="location is required"):
        station_for(Device(id="g", kind="scanner", options={"port": "/dev/null"}))
    with pytest.raises(ValueError, match="only 'receiving'"):
        station_for(Device(id="g", kind="scanner", location="DOCK-1", options={"mode": "picking"}))


@pytest.mark.usefixtures("no_leaked_tasks")
async def test_runner_over_pty_into_the_journal(sim: ScannerSim, edge_ctx: Any) -> None:
    """sim writes -> driver reads -> op in the journal; refusals are exception ops with a beep back."""
    assert sim.link is not None
    device = Device(
        id="gun-1",
        kind="scanner",
        zone="INB",
        location="DOCK-1",
        options={"port": str(sim.link), "suffix": "CR", "mode": "receiving", "backoff_initial": 0.02},
    )
    task = asyncio.create_task(run_scanner_device(device, edge_ctx))
    try:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + 10
        while (h := edge_ctx.health.get("device:gun-1")) is None or h.status != "ok":
            assert loop.time() < deadline, "scanner never connected"
            await asyncio.sleep(0.01)
        sim.scan(f"010950600013435210LOT7{GS}3712")  # receive 12 of SKU-A
        sim.scan("0112345678901231")  # unknown GTIN: exception op + beep from the edge
        sim.scan("0109506000134353")  # bad check digit: exception op + beep from the driver
        sim.write_raw(b"\x00\xff\xfe garbage\r")  # noise: beep, no op
        await sim.wait_host(b"\x07\x07\x07")
        deadline = loop.time() + 10
        while edge_ctx.journal.head()[0] < 3:
            assert loop.time() < deadline, f"journal head {edge_ctx.journal.head()}"
            await asyncio.sleep(0.01)
        # an operator badges in at the station: from now on the station's ops are theirs
        edge_ctx.sessions.start(
            "DOCK-1", Session(operator_id="op-badge", card_uid="04AABBCC", started=AT, last_activity=0.0)
        )
        sim.scan("010950600013435210LOT7")  # still reading
        deadline = loop.time() + 10
        while edge_ctx.journal.head()[0] < 4:
            assert loop.time() < deadline, f"journal head {edge_ctx.journal.head()}"
            await asyncio.sleep(0.01)
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
    ops = [e.op() for e in edge_ctx.journal.entries()]
    assert [o.kind for o in ops] == [OpKind.RECEIVE, OpKind.EXCEPTION, OpKind.EXCEPTION, OpKind.RECEIVE]
    assert [getattr(o.payload, "code", None) for o in ops[1:3]] == ["unknown_gtin", "scan_bad_check_digit"]
    assert edge_ctx.journal.book_qty("SKU-A", "DOCK-1", "LOT7") == 13
    assert [o.actor for o in ops] == ["device:gun-1"] * 3 + ["op-badge"]
    assert sim.host_bytes == b"\x07\x07\x07"


@pytest.mark.usefixtures("no_leaked_tasks")
async def test_camera_runner_receives_from_a_video(tmp_path: Path, edge_ctx: Any) -> None:
    """A camera over a dock, fed a recorded video: each label is received once, an unknown one refused."""
    labels = [
        CodeSpec("gs1-datamatrix", "(01)09506000134352(10)LOT9(37)6"),
        CodeSpec("gs1-128", "(01)12345678901231(10)X"),  # unknown GTIN
    ]
    video = write_video(tmp_path / "dock.avi", frames(labels, repeat=4))
    device = Device(id="cam-1", kind="camera", location="DOCK-1", options={"source": str(video)})
    await asyncio.wait_for(run_camera_device(device, edge_ctx), 30)
    ops = [e.op() for e in edge_ctx.journal.entries()]
    assert [o.kind for o in ops] == [OpKind.RECEIVE, OpKind.EXCEPTION]
    assert edge_ctx.journal.book_qty("SKU-A", "DOCK-1", "LOT9") == 6
    health = edge_ctx.health.get("device:cam-1")
    assert health is not None and (health.status, health.detail) == ("down", "closed")  # the file ended
