"""GS1 test strings with the expected parse or refusal, shared by the pure and the pty tests.

Every valid GTIN here is 09506000134352 (check digit 2) and every valid SSCC 106141411234567897
(check digit 7); GS is the FNC1 separator a scanner transmits as 0x1D.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from drivers.barcode.events import RejectReason

GS = "\x1d"
GTIN = "09506000134352"
SSCC = "106141411234567897"


@dataclass(frozen=True)
class Case:
    id: str
    text: str
    """What the scanner sends between prefix and suffix (AIM identifier included)."""
    expect: dict[str, object] | RejectReason | None
    """Gs1Data fields that must match, a refusal reason, or None for a plain (non-GS1) scan."""


CASES: list[Case] = [
    Case("sscc", f"]C100{SSCC}", {"sscc": SSCC}),
    Case("sscc-bad-check", "]C100106141411234567890", RejectReason.BAD_CHECK_DIGIT),
    Case("sscc-17-digits", "]C10010614141123456789", RejectReason.BAD_FORMAT),
    Case("gtin", f"]C101{GTIN}", {"gtin": GTIN}),
    Case("gtin-bad-check", "]C10109506000134353", RejectReason.BAD_CHECK_DIGIT),
    Case("gtin-13-digits-in-ai01", "]C1010950600013435", RejectReason.BAD_FORMAT),
    Case(
        "gtin-expiry-batch",
        f"]C101{GTIN}1726123110LOT-7",
        {"gtin": GTIN, "expiry": date(2026, 12, 31), "batch": "LOT-7"},
    ),
    Case(
        "gtin-batch-gs-expiry",
        f"]C101{GTIN}10ABC123{GS}17261231",
        {"gtin": GTIN, "batch": "ABC123", "expiry": date(2026, 12, 31)},
    ),
    Case("expiry-month-13", f"]C101{GTIN}17261331", RejectReason.BAD_DATE),
    Case("expiry-feb-30", f"]C101{GTIN}17260230", RejectReason.BAD_DATE),
    Case("expiry-day-00-is-month-end", f"]C101{GTIN}17261200", {"expiry": date(2026, 12, 31)}),
    Case("gtin-serial", f"]C101{GTIN}21SN0001", {"gtin": GTIN, "serial": "SN0001"}),
    Case("serial-gs-count", f"]C121SN1{GS}3712", {"serial": "SN1", "count": 12}),
    Case("contained-gtin-count", f"]C102{GTIN}3748", {"contained_gtin": GTIN, "count": 48}),
    Case("count-9-digits", "]C137123456789", RejectReason.BAD_FORMAT),
    Case("net-weight-3103", f"]C101{GTIN}3103001250", {"gtin": GTIN, "net_weight_kg": Decimal("1.250")}),
    Case("net-weight-3102", f"]C101{GTIN}3102000125", {"net_weight_kg": Decimal("1.25")}),
    Case("net-weight-5-digits", f"]C101{GTIN}310300125", RejectReason.BAD_FORMAT),
    Case(
        "pallet-label",
        f"]C100{SSCC}02{GTIN}3724{GS}10LOTX",
        {"sscc": SSCC, "contained_gtin": GTIN, "count": 24, "batch": "LOTX"},
    ),
    Case(
        "datamatrix-gs1",
        f"]d201{GTIN}172612311037B1{GS}21S1",
        {"gtin": GTIN, "expiry": date(2026, 12, 31), "batch": "37B1", "serial": "S1"},
    ),
    Case("gs1-qr", f"]Q301{GTIN}10LOT{GS}3705", {"gtin": GTIN, "batch": "LOT", "count": 5}),
    Case("gs1-datamatrix-eci", f"]d501{GTIN}", {"gtin": GTIN}),
    Case("leading-fnc1-as-gs", f"]C1{GS}01{GTIN}", {"gtin": GTIN}),
    Case("trailing-gs", f"]C101{GTIN}10ABC{GS}", {"gtin": GTIN, "batch": "ABC"}),
    Case("gs-inside-fixed-field", f"]C101095060001343{GS}52", RejectReason.BAD_FORMAT),
    Case("batch-21-chars", f"]C101{GTIN}10ABCDEFGHIJKLMNOPQRSTU", RejectReason.BAD_FORMAT),
    Case("unknown-ai-23", "]C123ABC", RejectReason.BAD_FORMAT),
    Case("gs1-128-with-text", "]C1hello", RejectReason.BAD_FORMAT),
    Case(
        "hri-brackets",
        f"(01){GTIN}(17)261231(10)ABC",
        {"gtin": GTIN, "expiry": date(2026, 12, 31), "batch": "ABC"},
    ),
    Case("hri-bad-check", "(01)09506000134353", RejectReason.BAD_CHECK_DIGIT),
    Case("hri-bad-date", f"(01){GTIN}(17)261340", RejectReason.BAD_DATE),
    Case("hri-in-plain-qr", f"]Q1(01){GTIN}(21)X9", {"gtin": GTIN, "serial": "X9"}),
    Case("ean13", "]E09506000134352", {"gtin": GTIN}),
    Case("ean13-bad-check", "]E09506000134353", RejectReason.BAD_CHECK_DIGIT),
    Case("ean13-12-digits", "]E0950600013435", RejectReason.BAD_CHECK_DIGIT),
    Case("ean8", "]E496385074", {"gtin": "00000096385074"}),
    Case("itf14", "]I119506000134359", {"gtin": "19506000134359"}),
    Case("no-aim-bare-gtin14", GTIN, {"gtin": GTIN}),
    Case("no-aim-bare-sscc", SSCC, {"sscc": SSCC}),
    Case("no-aim-bare-gtin-bad-check", "09506000134353", RejectReason.BAD_CHECK_DIGIT),
    Case("aim-only", "]C1", RejectReason.EMPTY),
    Case("plain-code128", "]C0ABC-123", None),
    Case("plain-qr-url", "]Q1https://example.com/x", None),
    Case("malformed-aim", "]9xABC", RejectReason.BAD_SYMBOLOGY_ID),
]
