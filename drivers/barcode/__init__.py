"""Barcode drivers: serial scanners and cameras, as async context managers with a typed event stream.

    async with SerialScanner({"port": "/dev/ttyACM0", "suffix": "CRLF"}, device_id="dock1-gun") as gun:
        async for event in gun:
            if isinstance(event, ScanRejected): ...

Knows nothing of warehouses: GS1 is parsed and verified here, what a GTIN means is the edge's business.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

from drivers.barcode.camera import CameraSource
from drivers.barcode.decode import ScanDecoder, split_symbology
from drivers.barcode.errors import BarcodeConfigError, BarcodeError, DeviceUnavailable, SourceClosed
from drivers.barcode.events import BarcodeEvent, Gs1Data, RejectReason, ScanEvent, ScanRejected
from drivers.barcode.options import CameraOptions, SerialOptions
from drivers.barcode.serial_scanner import SerialScanner
from drivers.barcode.stream import EventSource, State

__all__ = [
    "BarcodeConfigError",
    "BarcodeError",
    "BarcodeEvent",
    "CameraOptions",
    "CameraSource",
    "DeviceUnavailable",
    "EventSource",
    "Gs1Data",
    "RejectReason",
    "ScanDecoder",
    "ScanEvent",
    "ScanRejected",
    "SerialOptions",
    "SerialScanner",
    "SourceClosed",
    "State",
    "make_source",
    "split_symbology",
]


def make_source(
    kind: Literal["scanner", "camera"], options: Mapping[str, Any], *, device_id: str, **kwargs: Any
) -> EventSource:
    """Build the source for a configured device; raises ``BarcodeConfigError`` naming a bad option."""
    if kind == "scanner":
        return SerialScanner(SerialOptions.from_options(options), device_id=device_id, **kwargs)
    if kind == "camera":
        return CameraSource(CameraOptions.from_options(options), device_id=device_id, **kwargs)
    raise BarcodeConfigError("kind", f"not a barcode device kind: {kind!r}")
