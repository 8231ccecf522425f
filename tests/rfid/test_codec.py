"""The table-driven codec: tables from the LTK file, byte-exact frames, cross-checks with the
simulator's hand-written bytes both ways, and fuzzing (any input -> a message or LlrpDecodeError)."""

from __future__ import annotations

import struct
from datetime import UTC, datetime

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from drivers.rfid.codec import decode_message, encode_message, message, param, split_frames
from drivers.rfid.defs import DefinitionError, parse_definitions, tables
from drivers.rfid.errors import LlrpDecodeError, LlrpEncodeError
from drivers.rfid.messages import add_rospec, decode_report, parse_capabilities, set_reader_config
from drivers.rfid.options import ReaderOptions
from firmware_sim.llrp import wire
from firmware_sim.llrp.reader import _capabilities
from firmware_sim.llrp.tags import sgtin96

NOW = datetime(2026, 3, 2, tzinfo=UTC)


def _report(*tags: bytes) -> bytes:
    return wire.frame(wire.RO_ACCESS_REPORT, 9, b"".join(wire.tlv(240, t) for t in tags))


def test_tables_come_from_the_ltk_file() -> None:
    t = tables()
    assert len(t.messages_by_name) == 40 and len(t.params_by_name) == 108
    assert t.messages_by_name["KEEPALIVE_ACK"].type_num == 72
    assert t.params_by_name["EPC_96"].is_tv and t.params_by_name["EPC_96"].tv_size == 12
    assert not t.params_by_name["TagReportData"].is_tv
    assert t.enums["ROSpecStartTriggerType"]["Periodic"] == 2
    with pytest.raises(DefinitionError):
        parse_definitions(b'<llrpdef xmlns="http://www.llrp.org/ltk/schema/core/encoding/binary/1.0"/>')


def test_status_and_keepalive_bytes_match_the_standard() -> None:
    ok = encode_message(message("SET_READER_CONFIG_RESPONSE", 5, param("LLRPStatus", StatusCode=0)))
    assert ok.endswith(bytes.fromhex("011F000800000000"))
    assert encode_message(message("KEEPALIVE_ACK", 7)) == bytes.fromhex("04480000000a00000007")
    assert decode_message(wire.frame(wire.KEEPALIVE, 3)).name == "KEEPALIVE"


def test_bit_fields_and_reserved_bits_pack_msb_first() -> None:
    opts = ReaderOptions(host="h", keepalive_ms=1000, reset_to_factory_default=True)
    frame = encode_message(set_reader_config(2, opts))
    assert frame[10] == 0x80  # ResetToFactoryDefault is the top bit, 7 reserved bits follow
    back = decode_message(frame)
    assert back.fields == {"ResetToFactoryDefault": 1}
    keepalive = back.find("KeepaliveSpec")
    assert keepalive is not None and keepalive.fields == {"KeepaliveTriggerType": 1, "PeriodicTriggerValue": 1000}


def test_simulator_capabilities_decode_with_the_tables() -> None:
    msg = decode_message(wire.frame(wire.GET_READER_CAPABILITIES_RESPONSE, 1, _capabilities(4)))
    caps = parse_capabilities(msg)
    assert caps.max_antennas == 4 and caps.firmware == "wims-sim 1.0"
    assert caps.power_table[1] == 10.0 and caps.power_index(30.0) == 81
    regulatory = msg.find("RegulatoryCapabilities")
    assert regulatory is not None
    uhf = regulatory.find("UHFBandCapabilities")
    assert uhf is not None and uhf.find("C1G2UHFRFModeTable") is not None
    hop = next(p for p in msg.walk() if p.name == "FrequencyHopTable")
    assert len(hop.fields["Frequency"]) == 50  # type: ignore[arg-type]


def test_driver_rospec_reads_back_in_the_simulator() -> None:
    opts = ReaderOptions(host="h", antennas=(1, 2), report_every_n=50, report_every_ms=250)
    frame = encode_message(add_rospec(3, opts, power_index=40))
    spec = wire.parse_rospec(frame[10:])
    assert spec.rospec_id == 1 and spec.antennas == (1, 2) and spec.report_n == 50
    assert (spec.aispec_duration_ms, spec.start_trigger, spec.period_ms) == (250, 2, 250)
    assert spec.tx_power == {1: 40, 2: 40}
    assert decode_message(frame).find("ROSpec") is not None
    assert encode_message(decode_message(frame)) == frame


def test_report_decodes_to_tag_reads_carrying_missing_fields_over() -> None:
    epc = sgtin96("0614141", "812345", 6789)
    first = (
        wire.tv(13, epc)
        + wire.tv(1, struct.pack(">H", 2))
        + wire.tv(6, struct.pack(">b", -61))
        + wire.tv(2, struct.pack(">Q", 1_700_000_000_000_000))
        + wire.tv(8, struct.pack(">H", 4))
    )
    second = wire.tv(13, sgtin96("0614141", "812345", 6790))  # antenna and RSSI unchanged: left out
    reads = decode_report(_report(first, second), NOW)
    assert reads[0].epc.uri == "urn:epc:id:sgtin:0614141.812345.6789"
    assert (reads[0].antenna, reads[0].rssi, reads[0].count) == (2, -61, 4)
    assert reads[0].first_seen == datetime(2023, 11, 14, 22, 13, 20, tzinfo=UTC)
    assert (reads[1].antenna, reads[1].rssi, reads[1].count) == (2, -61, 1)
    epc_data = wire.tlv(241, struct.pack(">H", 64) + bytes(8))  # a 64-bit EPC in EPCData
    assert decode_report(_report(epc_data), NOW)[0].epc.scheme == "unknown"


def test_unknown_tlv_is_kept_raw_and_re_encoded() -> None:
    frame = _report(wire.tv(13, bytes(12)) + wire.tlv(900, b"\x01\x02"))
    msg = decode_message(frame)
    raw = msg.params[0].params[1]
    assert (raw.name, raw.raw) == ("Unknown900", b"\x01\x02")
    assert encode_message(msg) == frame


def test_clear_errors() -> None:
    with pytest.raises(LlrpDecodeError, match="unknown message type 999"):
        decode_message(struct.pack(">HII", (1 << 10) | 999, 10, 1))
    with pytest.raises(LlrpDecodeError, match="version 2"):
        decode_message(struct.pack(">HII", (2 << 10) | 62, 10, 1))
    with pytest.raises(LlrpDecodeError, match="TagReportData: truncated TV parameter EPC_96"):
        decode_message(_report(wire.tv(13, bytes(12))[:-1]))
    with pytest.raises(LlrpDecodeError, match="unknown TV parameter type 99"):
        decode_message(_report(bytes([0x80 | 99, 0])))
    with pytest.raises(LlrpEncodeError):
        encode_message(message("NOPE", 1))
    with pytest.raises(LlrpEncodeError):
        encode_message(message("KEEPALIVE", 1, Bogus=1))


def test_split_frames_keeps_partial_tails() -> None:
    a, b = wire.frame(wire.KEEPALIVE, 1), _report(wire.tv(13, bytes(12)))
    buf = bytearray(a + b[:7])
    assert [decode_message(f).name for f in split_frames(buf)] == ["KEEPALIVE"]
    buf += b[7:]
    assert [decode_message(f).name for f in split_frames(buf)] == ["RO_ACCESS_REPORT"] and not buf


VALID = [
    _report(wire.tv(13, sgtin96("0614141", "812345", 1)) + wire.tv(1, b"\x00\x01") + wire.tv(6, b"\xc4")),
    wire.frame(wire.GET_READER_CAPABILITIES_RESPONSE, 1, _capabilities(2)),
    wire.frame(wire.READER_EVENT_NOTIFICATION, 1, wire.tlv(246, wire.utc_timestamp(5) + wire.tlv(256, b"\x00\x00"))),
    encode_message(add_rospec(1, ReaderOptions(host="h", antennas=(1, 2)), 3)),
]


@settings(max_examples=400, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=300))
def test_fuzz_random_bytes(data: bytes) -> None:
    try:
        decode_message(data)
    except LlrpDecodeError:
        pass


@settings(max_examples=600, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.sampled_from(VALID),
    st.lists(st.tuples(st.integers(0, 10_000), st.integers(0, 255)), max_size=6),
    st.integers(0, 10_000),
)
def test_fuzz_mutated_frames(frame: bytes, flips: list[tuple[int, int]], cut: int) -> None:
    buf = bytearray(frame)
    for pos, value in flips:
        buf[pos % len(buf)] = value
    buf = buf[: max(0, len(buf) - cut % 8)]
    try:
        msg = decode_message(bytes(buf))
    except LlrpDecodeError as exc:
        assert str(exc)
    else:
        assert encode_message(msg)  # what decodes re-encodes


def test_timestamps_beyond_the_calendar_are_dropped_not_raised() -> None:
    tag = wire.tv(13, sgtin96("0614141", "812345", 1)) + wire.tv(2, b"\xff" * 8) + wire.tv(4, struct.pack(">Q", 5))
    (read,) = decode_report(_report(tag), NOW)
    assert read.first_seen is None and read.last_seen == datetime(1970, 1, 1, 0, 0, 0, 5, tzinfo=UTC)
    assert read.seen_at == read.last_seen


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.binary(min_size=12, max_size=12),
    st.integers(0, 2**64 - 1),
    st.integers(0, 2**64 - 1),
    st.integers(0, 65535),
    st.integers(-128, 127),
    st.integers(0, 65535),
)
def test_any_field_values_in_a_report_decode(
    epc: bytes, first: int, last: int, antenna: int, rssi: int, count: int
) -> None:
    tag = (
        wire.tv(13, epc)
        + wire.tv(2, struct.pack(">Q", first))
        + wire.tv(4, struct.pack(">Q", last))
        + wire.tv(1, struct.pack(">H", antenna))
        + wire.tv(6, struct.pack(">b", rssi))
        + wire.tv(8, struct.pack(">H", count))
    )
    (read,) = decode_report(_report(tag), NOW)
    assert read.epc.hex == epc.hex().upper() and read.antenna == antenna and read.count == count
