"""What a barcode source emits: a typed stream of good scans and refused scans.

A refused scan is an event, not an exception: garbage on a serial line or a label with a bad check digit
is normal floor life, and the consumer must be able to record it (an exception op, a beep) and carry on.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum


class RejectReason(StrEnum):
    """Why a scan was refused. Stable codes: they end up in exception ops and dashboards."""

    EMPTY = "empty"
    TOO_LONG = "too_long"
    NOT_TEXT = "not_text"
    BAD_FRAMING = "bad_framing"
    BAD_SYMBOLOGY_ID = "bad_symbology_id"
    NOT_GS1 = "not_gs1"
    BAD_CHECK_DIGIT = "bad_check_digit"
    BAD_DATE = "bad_date"
    BAD_FORMAT = "bad_format"


@dataclass(frozen=True, slots=True)
class Gs1Data:
    """The GS1 element strings a warehouse acts on, already validated (check digits, dates, lengths)."""

    gtin: str | None = None
    """GTIN-14, zero-padded (from AI 01, or an EAN/UPC/ITF-14 symbol)."""
    contained_gtin: str | None = None
    """AI 02: the GTIN of the trade items inside a logistic unit."""
    sscc: str | None = None
    batch: str | None = None
    expiry: date | None = None
    best_before: date | None = None
    serial: str | None = None
    count: int | None = None
    net_weight_kg: Decimal | None = None
    elements: tuple[tuple[str, str], ...] = ()
    """Every (AI, value) pair in order, for the ones not given a field above."""


@dataclass(frozen=True, slots=True)
class ScanEvent:
    """One good read. ``data`` is the payload after the symbology identifier, GS (0x1D) kept."""

    device_id: str
    at: datetime
    data: str
    symbology: str
    """AIM symbology identifier such as ``]C1``, or ``""`` when the scanner sends none."""
    raw: bytes
    gs1: Gs1Data | None = None
    source: str = "serial"


@dataclass(frozen=True, slots=True)
class ScanRejected:
    """A read that was refused, with a stable reason code and a sentence for a person."""

    device_id: str
    at: datetime
    reason: RejectReason
    detail: str
    raw: bytes = b""
    symbology: str = ""
    source: str = "serial"
    extra: dict[str, str] = field(default_factory=dict)


BarcodeEvent = ScanEvent | ScanRejected
