"""EPC vectors: every SGTIN-96 and SSCC-96 partition, encoded by the simulator's own encoder (and by
epcpy when installed), decoded by the driver."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from drivers.rfid.epc import decode_epc, decode_epc_hex
from firmware_sim.llrp.tags import check_digit, sgtin96, sscc96
from sync.codes import gtin_check_digit as gs1_check_digit

# (partition, company prefix, item reference with indicator digit, serial)
SGTIN_VECTORS = [
    (0, "061414112345", "8", 1),
    (1, "06141411234", "81", 274877906943),
    (2, "0614141123", "812", 42),
    (3, "061414112", "8123", 7),
    (4, "06141411", "81234", 123456),
    (5, "0614141", "812345", 6789),
    (6, "061414", "8123456", 0),
]
# (partition, company prefix, serial reference with extension digit)
SSCC_VECTORS = [
    (0, "061414112345", "12345"),
    (1, "06141411234", "123456"),
    (2, "0614141123", "1234567"),
    (3, "061414112", "12345678"),
    (4, "06141411", "123456789"),
    (5, "0614141", "1234567890"),
    (6, "061414", "12345678901"),
]


def test_reference_vector() -> None:
    epc = decode_epc_hex("3074257BF7194E4000001A85")
    assert epc.scheme == "sgtin-96"
    assert epc.uri == "urn:epc:id:sgtin:0614141.812345.6789"
    assert epc.tag_uri == "urn:epc:tag:sgtin-96:3.0614141.812345.6789"
    assert (epc.gtin, epc.serial, epc.filter) == ("80614141123458", "6789", 3)


@pytest.mark.parametrize(("partition", "cp", "item", "serial"), SGTIN_VECTORS)
def test_sgtin96_every_partition(partition: int, cp: str, item: str, serial: int) -> None:
    raw = sgtin96(cp, item, serial, filter_value=1)
    assert (raw[1] >> 2) & 0x7 == partition
    epc = decode_epc(raw)
    assert epc.uri == f"urn:epc:id:sgtin:{cp}.{item}.{serial}"
    body = item[0] + cp + item[1:]
    assert epc.gtin == body + check_digit(body)
    assert epc.serial == str(serial)
    assert epc.company_prefix == cp and epc.filter == 1


@pytest.mark.parametrize(("partition", "cp", "ref"), SSCC_VECTORS)
def test_sscc96_every_partition(partition: int, cp: str, ref: str) -> None:
    raw = sscc96(cp, ref)
    assert (raw[1] >> 2) & 0x7 == partition
    epc = decode_epc(raw)
    assert epc.scheme == "sscc-96"
    assert epc.uri == f"urn:epc:id:sscc:{cp}.{ref}"
    body = ref[0] + cp + ref[1:]
    assert epc.sscc == body + check_digit(body)
    assert len(epc.sscc) == 18


def test_epcpy_agrees_on_every_partition() -> None:
    epcpy = pytest.importorskip("epcpy")
    for _, cp, item, serial in SGTIN_VECTORS:
        hx = sgtin96(cp, item, serial).hex().upper()
        theirs = epcpy.hex_to_tag_encodable(hx)
        ours = decode_epc_hex(hx)
        assert (ours.uri, ours.gtin) == (theirs.epc_uri, theirs.gtin())
    for _, cp, ref in SSCC_VECTORS:
        hx = sscc96(cp, ref).hex().upper()
        theirs = epcpy.hex_to_tag_encodable(hx)
        assert decode_epc_hex(hx).uri == theirs.epc_uri


@given(partition=st.integers(0, 6), data=st.data(), serial=st.integers(0, 2**38 - 1), filt=st.integers(0, 7))
def test_sgtin96_round_trip(partition: int, data: st.DataObject, serial: int, filt: int) -> None:
    digits = 12 - partition
    cp = data.draw(st.text("0123456789", min_size=digits, max_size=digits))
    item = data.draw(st.text("0123456789", min_size=13 - digits, max_size=13 - digits))
    epc = decode_epc(sgtin96(cp, item, serial, filter_value=filt))
    assert epc.uri == f"urn:epc:id:sgtin:{cp}.{item}.{serial}"
    assert epc.filter == filt and epc.gtin is not None and epc.gtin[-1] == gs1_check_digit(epc.gtin[:-1])


def test_unknown_encodings_are_kept_as_raw_hex() -> None:
    sgtin198 = decode_epc(bytes.fromhex("3674257BF7194E4000001A85AAAA"))
    assert sgtin198.scheme == "unknown" and not sgtin198.known
    assert sgtin198.hex == "3674257BF7194E4000001A85AAAA"
    assert sgtin198.uri == "urn:epc:raw:112.x3674257BF7194E4000001A85AAAA"
    assert "header" in sgtin198.reason
    gid = decode_epc_hex("35000000000000000000000A")
    assert gid.scheme == "unknown" and gid.uri == "urn:epc:raw:96.x35000000000000000000000A"


def test_invalid_partition_and_out_of_range_values_are_unknown() -> None:
    raw = bytearray(sgtin96("0614141", "812345", 1))
    raw[1] |= 0b11100  # partition 7
    assert "partition 7" in decode_epc(bytes(raw)).reason
    too_big = int("1" * 20 + "0" * 76, 2) | (0x30 << 88) | (6 << 82)  # partition 6: 20 bits > 999999
    assert decode_epc(too_big.to_bytes(12, "big")).scheme == "unknown"
    assert decode_epc(b"").scheme == "unknown"
    assert decode_epc_hex("zz").reason == "not hexadecimal"
    sscc = bytearray(sscc96("0614141", "1234567890"))
    sscc[-1] = 1
    assert "reserved" in decode_epc(bytes(sscc)).reason
