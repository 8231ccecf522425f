"""One scanned payload -> ``ScanEvent`` or ``ScanRejected``. Shared by the serial and the camera sources.

Pure apart from the timestamp it is handed: the AIM symbology identifier is split off the front, the text
is checked (printable, GS kept), and GS1 payloads are parsed and verified. Nothing here raises on bad
input; every refusal carries a reason code.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from drivers.barcode.events import BarcodeEvent, RejectReason, ScanEvent, ScanRejected
from drivers.barcode.framing import Frame, Line, MissingPrefix, Overflow
from drivers.barcode.gs1 import Gs1Mode, Gs1Refusal, looks_like_gs1, parse_gs1

_AIM = re.compile(r"^\][A-Za-z][0-9A-Za-z]")
# Printable text plus GS (FNC1) and, for QR/DataMatrix free text, TAB. Anything else is line noise.
_ALLOWED_CONTROL = frozenset("\x1d\t")


def split_symbology(text: str) -> tuple[str, str] | None:
    """``"]C10109..."`` -> ``("]C1", "0109...")``; ``None`` for a malformed identifier."""
    if not text.startswith("]"):
        return "", text
    if _AIM.match(text) is None:
        return None
    return text[:3], text[3:]


def _bad_char(text: str) -> str | None:
    for ch in text:
        if ch in _ALLOWED_CONTROL:
            continue
        if not ch.isprintable():
            return ch
    return None


@dataclass(frozen=True, slots=True)
class ScanDecoder:
    """Turns payloads into events for one device; its options come from the device config."""

    device_id: str
    gs1_mode: Gs1Mode = "auto"
    source: str = "serial"

    def reject(self, reason: RejectReason, detail: str, at: datetime, raw: bytes, symbology: str = "") -> ScanRejected:
        return ScanRejected(
            device_id=self.device_id,
            at=at,
            reason=reason,
            detail=detail,
            raw=raw,
            symbology=symbology,
            source=self.source,
        )

    def from_frame(self, frame: Frame, at: datetime) -> BarcodeEvent:
        """A serial frame: checks bytes first (UTF-8, no stray control characters)."""
        if isinstance(frame, Overflow):
            return self.reject(RejectReason.TOO_LONG, "line longer than max_line without a suffix", at, frame.head)
        if isinstance(frame, MissingPrefix):
            return self.reject(
                RejectReason.BAD_FRAMING,
                "line does not start with the configured prefix",
                at,
                frame.data[:256],
            )
        assert isinstance(frame, Line)
        try:
            text = frame.data.decode("utf-8")
        except UnicodeDecodeError as exc:
            return self.reject(RejectReason.NOT_TEXT, f"not UTF-8 text (byte {exc.start})", at, frame.data[:256])
        return self.from_text(text, at, raw=frame.data)

    def from_text(self, text: str, at: datetime, *, raw: bytes | None = None) -> BarcodeEvent:
        raw_bytes = raw if raw is not None else text.encode("utf-8", "replace")
        raw_bytes = raw_bytes[:256] if len(raw_bytes) > 256 else raw_bytes
        if text.strip(" \t") == "":
            return self.reject(RejectReason.EMPTY, "empty scan", at, raw_bytes)
        bad = _bad_char(text)
        if bad is not None:
            return self.reject(RejectReason.NOT_TEXT, f"control character U+{ord(bad):04X} in scan", at, raw_bytes)
        split = split_symbology(text)
        if split is None:
            return self.reject(
                RejectReason.BAD_SYMBOLOGY_ID, f"malformed symbology identifier {text[:3]!r}", at, raw_bytes
            )
        symbology, data = split
        if data == "":
            return self.reject(RejectReason.EMPTY, "symbology identifier without data", at, raw_bytes, symbology)
        gs1 = None
        gs1_shaped = looks_like_gs1(symbology, data)
        if self.gs1_mode == "require" and not gs1_shaped:
            return self.reject(
                RejectReason.NOT_GS1,
                f"not a GS1 code ({symbology or 'no identifier'})",
                at,
                raw_bytes,
                symbology,
            )
        if self.gs1_mode != "off" and gs1_shaped:
            parsed = parse_gs1(symbology, data)
            if isinstance(parsed, Gs1Refusal):
                return self.reject(parsed.reason, parsed.detail, at, raw_bytes, symbology)
            gs1 = parsed
        return ScanEvent(
            device_id=self.device_id,
            at=at,
            data=data,
            symbology=symbology,
            raw=raw_bytes,
            gs1=gs1,
            source=self.source,
        )
