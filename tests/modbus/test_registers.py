"""Register decoding is pure: known vectors from sensor datasheets, then fuzzing."""

from __future__ import annotations

import struct

import pytest
from hypothesis import given
from hypothesis import strategies as st

from drivers.modbus import DecodeError, ModbusConfigError, PointSpec, decode, parse_bus_options, read_blocks


def test_xy_md02_vectors() -> None:
    temp = PointSpec(name="temperature", address=1)
    hum = PointSpec(name="humidity", address=2, signed=False)
    assert decode(temp, [0xFF33]) == -20.5
    assert decode(temp, [0x00FA]) == 25.0
    assert decode(hum, [0x0262]) == 61.0
    assert hum.data_type == "uint16"


def test_wide_types_and_word_order() -> None:
    big = PointSpec(name="t", address=0, data_type="int32", scale=0.01)
    little = PointSpec(name="t", address=0, data_type="int32", scale=0.01, word_order="little")
    assert decode(big, [0xFFFF, 0xFC18]) == -10.0
    assert decode(little, [0xFC18, 0xFFFF]) == -10.0
    f = PointSpec(name="t", address=0, data_type="float32", scale=1.0)
    hi, lo = struct.unpack(">HH", struct.pack(">f", 4.5))
    assert decode(f, [hi, lo]) == 4.5


def test_bad_register_counts_and_nan_are_decode_errors() -> None:
    with pytest.raises(DecodeError):
        decode(PointSpec(name="t", address=0, data_type="int32"), [1])
    with pytest.raises(DecodeError):
        decode(PointSpec(name="t", address=0, data_type="float32", scale=1.0), [0x7FC0, 0])


@given(
    data_type=st.sampled_from(["int16", "uint16", "int32", "uint32", "float32"]),
    regs=st.lists(st.integers(min_value=-5, max_value=0x10004), max_size=4),
    scale=st.floats(min_value=-1000, max_value=1000, allow_nan=False),
)
def test_decode_never_fails_otherwise(data_type: str, regs: list[int], scale: float) -> None:
    """Whatever a broken device sends, decoding returns a finite float or raises DecodeError."""
    spec = PointSpec.model_validate({"name": "x", "address": 0, "data_type": data_type, "scale": scale})
    try:
        value = decode(spec, regs)
    except DecodeError:
        return
    assert value == value and abs(value) != float("inf")


@given(st.integers(min_value=-32768, max_value=32767))
def test_int16_round_trip(raw: int) -> None:
    spec = PointSpec(name="t", address=1, scale=1.0)
    assert decode(spec, [raw & 0xFFFF]) == raw


def test_neighbouring_points_are_read_in_one_request() -> None:
    pts = [
        PointSpec(name="t", address=1),
        PointSpec(name="h", address=2),
        PointSpec(name="x", function=3, address=0x101),
        PointSpec(name="far", address=200),
    ]
    blocks = read_blocks(pts)
    assert [(fn, start, count) for fn, start, count, _ in blocks] == [(3, 0x101, 1), (4, 1, 2), (4, 200, 1)]


def test_config_errors_name_the_key() -> None:
    with pytest.raises(ModbusConfigError) as err:
        parse_bus_options({"transport": "rtu", "port": "/dev/x", "sensors": [{"id": "T1", "unit": 300}]})
    assert err.value.option == "options.sensors.0.unit"
    with pytest.raises(ModbusConfigError) as err:
        parse_bus_options({"transport": "tcp", "sensors": [{"id": "T1", "unit": 1}]})
    assert "host" in str(err.value)
    with pytest.raises(ModbusConfigError):
        parse_bus_options(
            {"transport": "tcp", "host": "h", "sensors": [{"id": "A", "unit": 1}, {"id": "B", "unit": 1}]}
        )
