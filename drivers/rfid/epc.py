"""EPC binary decoding (GS1 EPC Tag Data Standard): SGTIN-96 and SSCC-96 to GTIN-14 / SSCC-18.

Warehouse logic wants business identifiers (a GTIN and a serial, an SSCC), not bit strings, and the
pure-identity URI (``urn:epc:id:sgtin:...``) is the stable key for "this physical case" whatever the
filter value on the tag. Anything else (other headers, invalid partitions, values out of range) is
kept as raw hex with a ``urn:epc:raw:`` URI and ``scheme="unknown"``, so nothing read is thrown away.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from biip.checksums import gs1_standard_check_digit

SGTIN96_HEADER = 0x30
SSCC96_HEADER = 0x31

PARTITIONS: tuple[tuple[int, int], ...] = ((40, 12), (37, 11), (34, 10), (30, 9), (27, 8), (24, 7), (20, 6))
"""Partition value -> (company prefix bits, company prefix digits), the same for SGTIN and SSCC."""

Scheme = Literal["sgtin-96", "sscc-96", "unknown"]


@dataclass(frozen=True, slots=True)
class Epc:
    """A decoded EPC. ``uri`` is the pure identity (or ``urn:epc:raw:`` for unknown encodings)."""

    hex: str
    scheme: Scheme
    uri: str
    tag_uri: str | None = None
    filter: int | None = None
    company_prefix: str | None = None
    gtin: str | None = None
    serial: str | None = None
    sscc: str | None = None
    reason: str = ""
    """Why an EPC is ``unknown`` (unknown header, bad partition, value out of range)."""

    @property
    def known(self) -> bool:
        return self.scheme != "unknown"


def _raw(data: bytes, reason: str) -> Epc:
    hx = data.hex().upper()
    uri = f"urn:epc:raw:{len(data) * 8}.x{hx}" if hx else "urn:epc:raw:0"
    return Epc(hex=hx, scheme="unknown", uri=uri, reason=reason)


def _fields(value: int, company_bits: int, rest_bits: int, tail_bits: int) -> tuple[int, int, int, int]:
    """(filter, company, rest, tail) from the 88 bits after the header and partition layout."""
    tail = value & ((1 << tail_bits) - 1)
    value >>= tail_bits
    rest = value & ((1 << rest_bits) - 1)
    value >>= rest_bits
    company = value & ((1 << company_bits) - 1)
    return value >> (company_bits + 3) & 0x7, company, rest, tail


def _sgtin96(data: bytes) -> Epc:
    value = int.from_bytes(data, "big")
    partition = (value >> 82) & 0x7
    hx = data.hex().upper()
    if partition >= len(PARTITIONS):
        return _raw(data, f"SGTIN-96 partition {partition} is invalid")
    m_bits, l_digits = PARTITIONS[partition]
    filt, company, item, serial = _fields(value & ((1 << 88) - 1), m_bits, 44 - m_bits, 38)
    item_digits = 13 - l_digits
    if company >= 10**l_digits or item >= 10**item_digits:
        return _raw(data, "SGTIN-96 company prefix or item reference out of range for its partition")
    cp = str(company).zfill(l_digits)
    ir = str(item).zfill(item_digits)
    body = ir[0] + cp + ir[1:]
    return Epc(
        hex=hx,
        scheme="sgtin-96",
        uri=f"urn:epc:id:sgtin:{cp}.{ir}.{serial}",
        tag_uri=f"urn:epc:tag:sgtin-96:{filt}.{cp}.{ir}.{serial}",
        filter=filt,
        company_prefix=cp,
        gtin=body + str(gs1_standard_check_digit(body)),
        serial=str(serial),
    )


def _sscc96(data: bytes) -> Epc:
    value = int.from_bytes(data, "big")
    partition = (value >> 82) & 0x7
    hx = data.hex().upper()
    if partition >= len(PARTITIONS):
        return _raw(data, f"SSCC-96 partition {partition} is invalid")
    m_bits, l_digits = PARTITIONS[partition]
    filt, company, ref, reserved = _fields(value & ((1 << 88) - 1), m_bits, 58 - m_bits, 24)
    ref_digits = 17 - l_digits
    if reserved != 0:
        return _raw(data, "SSCC-96 reserved bits are not zero")
    if company >= 10**l_digits or ref >= 10**ref_digits:
        return _raw(data, "SSCC-96 company prefix or serial reference out of range for its partition")
    cp = str(company).zfill(l_digits)
    sr = str(ref).zfill(ref_digits)
    body = sr[0] + cp + sr[1:]
    return Epc(
        hex=hx,
        scheme="sscc-96",
        uri=f"urn:epc:id:sscc:{cp}.{sr}",
        tag_uri=f"urn:epc:tag:sscc-96:{filt}.{cp}.{sr}",
        filter=filt,
        company_prefix=cp,
        sscc=body + str(gs1_standard_check_digit(body)),
    )


def decode_epc(data: bytes) -> Epc:
    """Decode EPC bank contents; never raises, an encoding it cannot read comes back ``unknown``."""
    if len(data) == 12 and data[0] == SGTIN96_HEADER:
        return _sgtin96(data)
    if len(data) == 12 and data[0] == SSCC96_HEADER:
        return _sscc96(data)
    if not data:
        return _raw(data, "empty EPC")
    return _raw(data, f"unsupported header 0x{data[0]:02X} or length {len(data) * 8} bits")


def decode_epc_hex(hx: str) -> Epc:
    """Decode an EPC given as hex text; text that is not hex comes back ``unknown`` as well."""
    try:
        data = bytes.fromhex(hx)
    except ValueError:
        return Epc(hex=hx.upper(), scheme="unknown", uri="urn:epc:raw:0", reason="not hexadecimal")
    return decode_epc(data)
