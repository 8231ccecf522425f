"""Identifiers both sides agree on: the ``Code`` of master data and the GS1 check digit.

One definition each. Every SKU, location, zone, order, gateway and sensor identifier is a ``Code``
(letters and digits first, then ``_ . : / -``; at most 64 characters): short enough for an index,
safe in a URL path segment and a file name, and the same rule on the edge and in the cloud. The GS1
mod-10 check digit is biip's (the GS1 library the barcode driver already uses), not a copy of ours.
"""

from __future__ import annotations

from typing import Annotated

from biip.checksums import gs1_standard_check_digit
from pydantic import Field

CODE_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.:/\-]*$"
"""The one pattern of a ``Code``; for places that need the pattern itself (FastAPI path parameters)."""

CODE_MAX_LENGTH = 64

Code = Annotated[str, Field(min_length=1, max_length=CODE_MAX_LENGTH, pattern=CODE_PATTERN)]
"""An identifier from master data (SKU code, location code, order id ...)."""


def gtin_check_digit(body: str) -> str:
    """The GS1 mod-10 check digit of the digits before it (GTIN, SSCC, GLN alike)."""
    return str(gs1_standard_check_digit(body))


def gtin14(item: int) -> str:
    """A valid GTIN-14 for a 13-digit number (example sites, tests and benchmarks)."""
    body = f"{item:013d}"
    return body + gtin_check_digit(body)
