"""Line framing edge cases and option validation (errors name the option, as the site config needs)."""

from __future__ import annotations

import pytest

from drivers.barcode import BarcodeConfigError, CameraOptions, SerialOptions, make_source
from drivers.barcode.framing import Line, LineFramer, MissingPrefix, Overflow, parse_bytes_option


def test_suffix_split_across_chunks() -> None:
    framer = LineFramer(suffix=b"\r\n")
    assert framer.feed(b"]C1010950") == []
    assert framer.feed(b"6000134352\r") == []
    assert framer.feed(b"\nABC\r\n") == [Line(b"]C10109506000134352"), Line(b"ABC")]


def test_overlong_line_is_reported_once_then_reading_recovers() -> None:
    framer = LineFramer(suffix=b"\r", max_line=16)
    frames = framer.feed(b"x" * 40) + framer.feed(b"y" * 40) + framer.feed(b"\rOK\r")
    assert len(frames) == 2
    assert isinstance(frames[0], Overflow) and frames[0].head.startswith(b"x")
    assert frames[1] == Line(b"OK")


def test_stx_prefix_drops_noise_before_it_and_flags_lines_without_it() -> None:
    framer = LineFramer(prefix=b"\x02", suffix=b"\x03")
    assert framer.feed(b"\x00\x02]E09506000134352\x03no-stx\x03") == [
        Line(b"]E09506000134352"),
        MissingPrefix(b"no-stx"),
    ]


def test_reset_forgets_a_partial_line() -> None:
    framer = LineFramer()
    framer.feed(b"half a sc")
    framer.reset()
    assert framer.feed(b"an\r") == [Line(b"an")]


@pytest.mark.parametrize(
    ("value", "expected"),
    [("CR", b"\r"), ("crlf", b"\r\n"), ("STX", b"\x02"), ("BEL", b"\x07"), ("\\x1bB3\\r", b"\x1bB3\r"), ("", b"")],
)
def test_byte_options(value: str, expected: bytes) -> None:
    assert parse_bytes_option("suffix", value) == expected


def test_serial_options_defaults_and_names() -> None:
    o = SerialOptions.from_options({"port": "/dev/ttyACM0"})
    assert (o.baudrate, o.bytesize, o.parity, o.stopbits, o.suffix, o.bad_read_command) == (
        9600,
        8,
        "N",
        1.0,
        b"\r",
        b"\x07",
    )


@pytest.mark.parametrize(
    ("options", "option"),
    [
        ({}, "port"),
        ({"port": "/dev/x", "parity": "Q"}, "parity"),
        ({"port": "/dev/x", "baudrate": "fast"}, "baudrate"),
        ({"port": "/dev/x", "suffix": ""}, "suffix"),
        ({"port": "/dev/x", "gs1": "maybe"}, "gs1"),
        ({"port": "/dev/x", "stopbits": 3}, "stopbits"),
        ({"port": "/dev/x", "colour": "red"}, "colour"),
    ],
)
def test_bad_serial_options_name_the_key(options: dict[str, object], option: str) -> None:
    with pytest.raises(BarcodeConfigError) as info:
        SerialOptions.from_options(options)
    assert info.value.option == option


def test_camera_options() -> None:
    assert CameraOptions.from_options({"source": 0}).decoder == "hybrid"
    with pytest.raises(BarcodeConfigError) as info:
        CameraOptions.from_options({"source": 0, "decoder": "magic"})
    assert info.value.option == "decoder"
    with pytest.raises(BarcodeConfigError):
        make_source("camera", {}, device_id="cam")
