"""Bytes from a serial scanner -> whole scan lines. Pure and fuzzable: no I/O, no clock.

Scanners frame each read with an optional prefix (STX, or a vendor byte) and a suffix (CR, LF, CR LF,
ETX). A line is bounded: a scanner stuck streaming noise must not grow memory, and an over-long line is
reported once and skipped up to the next suffix instead of being cut into bogus scans.
"""

from __future__ import annotations

from dataclasses import dataclass

from drivers.barcode.errors import BarcodeConfigError

NAMED_BYTES: dict[str, bytes] = {
    "": b"",
    "NONE": b"",
    "CR": b"\r",
    "LF": b"\n",
    "CRLF": b"\r\n",
    "STX": b"\x02",
    "ETX": b"\x03",
    "TAB": b"\t",
    "BEL": b"\x07",
}


def parse_bytes_option(option: str, value: str | bytes) -> bytes:
    """``"CRLF"`` / ``"STX"`` names, or a literal with ``\\xNN`` escapes (vendor commands)."""
    if isinstance(value, bytes):
        return value
    named = NAMED_BYTES.get(value.upper())
    if named is not None:
        return named
    try:
        return value.encode("latin-1").decode("unicode_escape").encode("latin-1")
    except (UnicodeError, ValueError) as exc:
        raise BarcodeConfigError(option, f"not a byte name or escaped string: {value!r} ({exc})") from None


@dataclass(frozen=True, slots=True)
class Line:
    """A complete line, without prefix or suffix."""

    data: bytes


@dataclass(frozen=True, slots=True)
class Overflow:
    """A line grew past ``max_line`` before its suffix; ``head`` is its start, for the log."""

    head: bytes


@dataclass(frozen=True, slots=True)
class MissingPrefix:
    """A line that does not start with the configured prefix (noise, or a misconfigured scanner)."""

    data: bytes


Frame = Line | Overflow | MissingPrefix


class LineFramer:
    """Split a byte stream on ``suffix``; strip ``prefix``; bound each line to ``max_line`` bytes."""

    def __init__(self, *, suffix: bytes = b"\r", prefix: bytes = b"", max_line: int = 1024) -> None:
        if not suffix:
            raise BarcodeConfigError("suffix", "a scanner line needs a suffix (CR, LF, CRLF, ETX ...)")
        if max_line < 1:
            raise BarcodeConfigError("max_line", "must be at least 1")
        self.suffix = suffix
        self.prefix = prefix
        self.max_line = max_line
        self._buf = bytearray()
        self._skipping = False  # inside an over-long line: drop until the next suffix

    def feed(self, chunk: bytes) -> list[Frame]:
        """Add bytes; return the frames completed by them (in order)."""
        self._buf += chunk
        out: list[Frame] = []
        limit = self.max_line + len(self.prefix) + len(self.suffix)
        while True:
            idx = self._buf.find(self.suffix)
            if idx < 0:
                if len(self._buf) > limit:
                    if not self._skipping:
                        out.append(Overflow(bytes(self._buf[:64])))
                        self._skipping = True
                    # keep a tail that might hold the start of a split suffix
                    del self._buf[: len(self._buf) - len(self.suffix) + 1]
                return out
            line = bytes(self._buf[:idx])
            del self._buf[: idx + len(self.suffix)]
            if self._skipping:
                self._skipping = False
                continue
            out.append(self._frame(line, limit))

    def _frame(self, line: bytes, limit: int) -> Frame:
        if len(line) > limit - len(self.suffix):
            return Overflow(line[:64])
        if self.prefix:
            start = line.rfind(self.prefix)
            if start < 0:
                return MissingPrefix(line)
            line = line[start + len(self.prefix) :]
        if len(line) > self.max_line:
            return Overflow(line[:64])
        return Line(line)

    def reset(self) -> None:
        """Forget a partial line (after a reconnect, its start belongs to a different session)."""
        self._buf.clear()
        self._skipping = False
