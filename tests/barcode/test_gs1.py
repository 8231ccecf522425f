"""GS1 parsing and refusal, one case per line of gs1_cases (the same table also goes over a pty)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from drivers.barcode import ScanDecoder, ScanEvent, ScanRejected
from drivers.barcode.events import BarcodeEvent, RejectReason

from .gs1_cases import CASES, Case

AT = datetime(2026, 5, 1, tzinfo=UTC)


def check(case: Case, event: BarcodeEvent) -> None:
    """Assert that ``event`` is what ``case`` expects; shared with the pty test."""
    if isinstance(case.expect, RejectReason):
        assert isinstance(event, ScanRejected), f"{case.id}: expected refusal, got {event}"
        assert event.reason == case.expect, f"{case.id}: {event.reason} ({event.detail})"
        assert event.detail
        return
    assert isinstance(event, ScanEvent), f"{case.id}: refused: {event}"
    if case.expect is None:
        assert event.gs1 is None
        return
    assert event.gs1 is not None
    for key, value in case.expect.items():
        assert getattr(event.gs1, key) == value, f"{case.id}: {key}"


def test_table_is_big_enough() -> None:
    assert len(CASES) >= 30
    assert len({c.id for c in CASES}) == len(CASES)


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_gs1_case(case: Case) -> None:
    check(case, ScanDecoder(device_id="gun").from_text(case.text, AT))


def test_symbology_and_gs_are_kept() -> None:
    event = ScanDecoder(device_id="gun").from_text("]C10109506000134352" + "10AB\x1d17261231", AT)
    assert isinstance(event, ScanEvent)
    assert event.symbology == "]C1"
    assert event.data == "010950600013435210AB\x1d17261231"


def test_require_mode_refuses_plain_codes() -> None:
    event = ScanDecoder(device_id="gun", gs1_mode="require").from_text("]C0ABC-123", AT)
    assert isinstance(event, ScanRejected) and event.reason == RejectReason.NOT_GS1


def test_off_mode_does_not_parse() -> None:
    event = ScanDecoder(device_id="gun", gs1_mode="off").from_text("]C10109506000134353", AT)
    assert isinstance(event, ScanEvent) and event.gs1 is None
