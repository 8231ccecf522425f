"""GS1 element strings -> ``Gs1Data``, with every check biip offers (check digits, dates, lengths).

biip does the parsing; this module decides *when* a payload is GS1 (from the AIM symbology identifier,
or from its shape when the scanner sends none) and turns biip's error sentences into stable reason codes,
because an exception op needs a code a dashboard can group by, not a free-text message.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Literal

import biip
from biip.gs1_element_strings import GS1ElementString
from biip.gs1_messages import GS1Message

from drivers.barcode.events import Gs1Data, RejectReason

Gs1Mode = Literal["auto", "require", "off"]
"""auto: GS1 when the symbology says so or the payload looks like it; require: refuse anything else;
off: never parse (plain codes only)."""

GS1_SYMBOLOGIES = frozenset({"]C1", "]d2", "]d5", "]Q3", "]Q4", "]e0", "]J1"})
"""AIM identifiers whose payload is a GS1 element string (leading FNC1 implied; ]d5/]Q4 add an ECI)."""
GTIN_SYMBOLOGIES = frozenset({"]E0", "]E3", "]E4", "]I1"})
"""AIM identifiers whose payload is a bare GTIN (EAN-13/UPC, EAN-8, ITF-14)."""

_CONFIG = biip.ParseConfig(separator_chars=("\x1d",))
_HRI_START = re.compile(r"^\(\d{2,4}\)")
_AI_IN_ERROR = re.compile(r"GS1 AI \((\d{2,4})\)")
_DATE_AIS = frozenset({"11", "12", "13", "15", "16", "17"})
_BARE_GTIN_OR_SSCC = re.compile(r"^(\d{8}|\d{12,14}|\d{18})$")


@dataclass(frozen=True, slots=True)
class Gs1Refusal:
    reason: RejectReason
    detail: str


def _classify(message: str) -> RejectReason:
    if "check digit" in message.lower():
        return RejectReason.BAD_CHECK_DIGIT
    m = _AI_IN_ERROR.search(message)
    if m is not None and m.group(1) in _DATE_AIS:
        return RejectReason.BAD_DATE
    return RejectReason.BAD_FORMAT


def looks_like_gs1(symbology: str, data: str) -> bool:
    """Whether a payload should be read as GS1 in ``auto`` mode."""
    if symbology in GS1_SYMBOLOGIES or symbology in GTIN_SYMBOLOGIES:
        return True
    if _HRI_START.match(data):
        return True
    if symbology:
        return False  # a plain Code 128 / QR / DataMatrix that says it is not GS1
    return "\x1d" in data or bool(_BARE_GTIN_OR_SSCC.match(data))


def _from_elements(elements: list[GS1ElementString]) -> Gs1Data | Gs1Refusal:
    fields: dict[str, object] = {}
    pairs: list[tuple[str, str]] = []
    for es in elements:
        ai = es.ai.ai
        pairs.append((ai, es.value))
        for err in (es.gtin_error, es.sscc_error):
            if err:
                return Gs1Refusal(_classify(err), f"AI ({ai}): {err}")
        if ai == "00":
            fields["sscc"] = es.value
        elif ai == "01":
            fields["gtin"] = es.value
        elif ai == "02":
            fields["contained_gtin"] = es.value
        elif ai == "10":
            fields["batch"] = es.value
        elif ai == "17" and es.date is not None:
            fields["expiry"] = es.date
        elif ai == "15" and es.date is not None:
            fields["best_before"] = es.date
        elif ai == "21":
            fields["serial"] = es.value
        elif ai == "37":
            fields["count"] = int(es.value)
        elif ai.startswith("310") and es.decimal is not None:
            fields["net_weight_kg"] = es.decimal
    if not pairs:
        return Gs1Refusal(RejectReason.NOT_GS1, "no GS1 element string after the symbology identifier")
    return _build(fields, tuple(pairs))


def _build(fields: dict[str, object], pairs: tuple[tuple[str, str], ...]) -> Gs1Data:
    def s(key: str) -> str | None:
        v = fields.get(key)
        return v if isinstance(v, str) else None

    def d(key: str) -> date | None:
        v = fields.get(key)
        return v if isinstance(v, date) else None

    count = fields.get("count")
    weight = fields.get("net_weight_kg")
    return Gs1Data(
        gtin=s("gtin"),
        contained_gtin=s("contained_gtin"),
        sscc=s("sscc"),
        batch=s("batch"),
        expiry=d("expiry"),
        best_before=d("best_before"),
        serial=s("serial"),
        count=count if isinstance(count, int) else None,
        net_weight_kg=weight if isinstance(weight, Decimal) else None,
        elements=pairs,
    )


def parse_gs1(symbology: str, data: str) -> Gs1Data | Gs1Refusal:
    """Parse a payload known to be GS1 (see ``looks_like_gs1``); never raises on bad input."""
    try:
        if _HRI_START.match(data):
            return _from_elements(list(GS1Message.parse_hri(data, config=_CONFIG).element_strings))
        bare = not symbology and "\x1d" not in data and _BARE_GTIN_OR_SSCC.match(data)
        if symbology in GTIN_SYMBOLOGIES or bare:
            return _bare(symbology, data)
        # biip needs only "this is a GS1 message"; it does not know every ECI variant of the identifiers
        gs1_id = "]C1" if symbology in GS1_SYMBOLOGIES or not symbology else symbology
        result = biip.parse(gs1_id + data, config=_CONFIG)
    except biip.ParseError as exc:
        return Gs1Refusal(_classify(str(exc)), str(exc))
    except (ValueError, ArithmeticError) as exc:  # defensive: biip on hostile input
        return Gs1Refusal(RejectReason.BAD_FORMAT, f"unparseable GS1 data: {exc}")
    if result.gs1_message_error:
        return Gs1Refusal(_classify(result.gs1_message_error), result.gs1_message_error)
    if result.gs1_message is None:
        return Gs1Refusal(RejectReason.NOT_GS1, "payload is not a GS1 element string")
    return _from_elements(list(result.gs1_message.element_strings))


def _bare(symbology: str, data: str) -> Gs1Data | Gs1Refusal:
    """An EAN/UPC/ITF-14 symbol, or a bare 8..14-digit GTIN or 18-digit SSCC from a scanner without AIM."""
    if len(data) == 18 and not symbology:
        result = biip.parse(data, config=_CONFIG)
        if result.sscc is None:
            return Gs1Refusal(_classify(result.sscc_error or ""), result.sscc_error or "not an SSCC")
        return Gs1Data(sscc=result.sscc.value, elements=(("00", result.sscc.value),))
    result = biip.parse((symbology or "") + data, config=_CONFIG)
    if result.gtin is None:
        err = result.gtin_error or "not a GTIN"
        return Gs1Refusal(_classify(err), err)
    gtin = result.gtin.value.zfill(14)
    return Gs1Data(gtin=gtin, elements=(("01", gtin),))
