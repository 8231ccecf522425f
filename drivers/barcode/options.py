"""Driver options, validated once from a device's ``options`` table, with errors that name the key."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Any, Literal, cast, get_args

from drivers.barcode.errors import BarcodeConfigError
from drivers.barcode.framing import parse_bytes_option
from drivers.barcode.gs1 import Gs1Mode

DecoderName = Literal["hybrid", "zxing", "opencv"]
_PARITIES = {"N", "E", "O", "M", "S"}


def _get(options: Mapping[str, Any], key: str, kind: type, default: Any) -> Any:
    value = options.get(key, default)
    if kind is float and isinstance(value, int) and not isinstance(value, bool):
        value = float(value)
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise BarcodeConfigError(key, f"expected {kind.__name__}, got {value!r}")
    return value


def _check_unknown(options: Mapping[str, Any], known: set[str]) -> None:
    unknown = sorted(set(options) - known)
    if unknown:
        raise BarcodeConfigError(unknown[0], f"unknown option (known: {', '.join(sorted(known))})")


def _gs1_mode(options: Mapping[str, Any]) -> Gs1Mode:
    mode = _get(options, "gs1", str, "auto")
    if mode not in get_args(Gs1Mode):
        raise BarcodeConfigError("gs1", f"one of {get_args(Gs1Mode)}, got {mode!r}")
    return cast(Gs1Mode, mode)


@dataclass(frozen=True, slots=True)
class SerialOptions:
    """A serial (or USB-CDC) scanner. Defaults match the common 9600 8N1, CR-terminated gun."""

    port: str
    baudrate: int = 9600
    bytesize: int = 8
    parity: str = "N"
    stopbits: float = 1.0
    prefix: bytes = b""
    suffix: bytes = b"\r"
    max_line: int = 1024
    gs1: Gs1Mode = "auto"
    bad_read_command: bytes = b"\x07"
    """Written back on a refused scan: BEL by default; many guns take a vendor command instead."""
    beep_on_reject: bool = True
    backoff_initial: float = 0.5
    backoff_max: float = 30.0

    @classmethod
    def from_options(cls, options: Mapping[str, Any]) -> SerialOptions:
        _check_unknown(options, {f.name for f in fields(cls)})
        if "port" not in options:
            raise BarcodeConfigError("port", "required (a tty path such as /dev/ttyACM0)")
        parity = str(_get(options, "parity", str, "N")).upper()
        if parity not in _PARITIES:
            raise BarcodeConfigError("parity", f"one of {sorted(_PARITIES)}, got {parity!r}")
        bytesize = _get(options, "bytesize", int, 8)
        if bytesize not in (5, 6, 7, 8):
            raise BarcodeConfigError("bytesize", f"5..8, got {bytesize}")
        stopbits = _get(options, "stopbits", float, 1.0)
        if stopbits not in (1.0, 1.5, 2.0):
            raise BarcodeConfigError("stopbits", f"1, 1.5 or 2, got {stopbits}")
        baudrate = _get(options, "baudrate", int, 9600)
        max_line = _get(options, "max_line", int, 1024)
        if baudrate <= 0 or max_line <= 0:
            raise BarcodeConfigError("baudrate" if baudrate <= 0 else "max_line", "must be positive")
        suffix = parse_bytes_option("suffix", options.get("suffix", "CR"))
        if not suffix:
            raise BarcodeConfigError("suffix", "must not be empty")
        return cls(
            port=_get(options, "port", str, ""),
            baudrate=baudrate,
            bytesize=bytesize,
            parity=parity,
            stopbits=stopbits,
            prefix=parse_bytes_option("prefix", options.get("prefix", "")),
            suffix=suffix,
            max_line=max_line,
            gs1=_gs1_mode(options),
            bad_read_command=parse_bytes_option("bad_read_command", options.get("bad_read_command", "BEL")),
            beep_on_reject=_get(options, "beep_on_reject", bool, True),
            backoff_initial=_get(options, "backoff_initial", float, 0.5),
            backoff_max=_get(options, "backoff_max", float, 30.0),
        )


@dataclass(frozen=True, slots=True)
class CameraOptions:
    """A camera: an OpenCV capture source (device index, file or stream URL) and the decoder to use."""

    source: str | int
    decoder: DecoderName = "hybrid"
    gs1: Gs1Mode = "auto"
    repeat_window_s: float = 2.0
    """The same code seen again within this window is one scan, not thirty a second."""
    every_nth_frame: int = 1
    backoff_initial: float = 0.5
    backoff_max: float = 30.0

    @classmethod
    def from_options(cls, options: Mapping[str, Any]) -> CameraOptions:
        _check_unknown(options, {f.name for f in fields(cls)})
        source = options.get("source")
        if not isinstance(source, str | int) or isinstance(source, bool):
            raise BarcodeConfigError("source", "required: a device index, video file or stream URL")
        decoder = _get(options, "decoder", str, "hybrid")
        if decoder not in get_args(DecoderName):
            raise BarcodeConfigError("decoder", f"one of {get_args(DecoderName)}, got {decoder!r}")
        nth = _get(options, "every_nth_frame", int, 1)
        if nth < 1:
            raise BarcodeConfigError("every_nth_frame", "must be at least 1")
        return cls(
            source=source,
            decoder=cast(DecoderName, decoder),
            gs1=_gs1_mode(options),
            repeat_window_s=_get(options, "repeat_window_s", float, 2.0),
            every_nth_frame=nth,
            backoff_initial=_get(options, "backoff_initial", float, 0.5),
            backoff_max=_get(options, "backoff_max", float, 30.0),
        )
