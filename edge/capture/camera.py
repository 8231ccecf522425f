"""The camera runner: frames decoded by the barcode driver, each code handled as a scan at its station.

A camera is another source of the same scan events as a serial scanner (``drivers.barcode``), so what a
decoded code becomes (a receive or an exception op) is ``edge.capture.scan``'s mapping, unchanged.
"""

from __future__ import annotations

from edge.capture.scan import run_source
from edge.config import Device
from edge.context import EdgeContext


async def run_camera_device(device: Device, ctx: EdgeContext) -> None:
    """Daemon runner for ``kind = "camera"``; returns when a finite source (a video file) ends."""
    await run_source(device, ctx, "camera")
