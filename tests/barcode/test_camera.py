"""Camera decoding on generated images (firmware_sim.camera), and the camera source's event stream."""

from __future__ import annotations

import asyncio
import random
from pathlib import Path

import pytest

from drivers.barcode import CameraSource, RejectReason, ScanEvent, ScanRejected
from drivers.barcode.camera_decode import make_decoder
from drivers.barcode.events import BarcodeEvent
from firmware_sim.camera import CodeSpec, Distortion, frames, random_distortion, render, write_video

GTIN = "09506000134352"
SPECS = [
    CodeSpec("gs1-128", f"(01){GTIN}(17)261231(10)LOT7"),
    CodeSpec("gs1-datamatrix", f"(01){GTIN}(21)SN42(3103)001250"),
    CodeSpec("gs1-qr", f"(01){GTIN}(10)AB(37)12"),
    CodeSpec("ean13", GTIN[1:]),
]
TILTED = Distortion(blur_sigma=0.8, rotation_deg=22, noise_sigma=6, glare=0.2, fill=0.6)


def _gtin_of(events: list[BarcodeEvent]) -> list[str | None]:
    return [e.gs1.gtin if isinstance(e, ScanEvent) and e.gs1 else None for e in events]


@pytest.mark.parametrize("spec", SPECS, ids=[s.symbol for s in SPECS])
@pytest.mark.parametrize("distortion", [Distortion(), TILTED], ids=["clean", "tilted"])
def test_hybrid_decodes_generated_images(spec: CodeSpec, distortion: Distortion) -> None:
    found = make_decoder("hybrid")(render(spec, distortion, seed=3))
    assert found, f"nothing decoded from {spec}"
    expected_aim = {"gs1-128": "]C1", "gs1-datamatrix": "]d2", "gs1-qr": "]Q3", "ean13": "]E0"}[spec.symbol]
    assert found[0].symbology == expected_aim
    assert GTIN[1:] in found[0].text


def test_opencv_reads_ean13_but_not_gs1_symbols() -> None:
    """Why OpenCV alone is not the default: EAN/UPC and plain QR only."""
    decode = make_decoder("opencv")
    ean = decode(render(SPECS[3], Distortion(fill=0.35), seed=1))  # it misses EAN-13 with modules > ~6 px
    assert [(d.text, d.symbology) for d in ean] == [(GTIN[1:], "]E0")]
    assert decode(render(SPECS[0], seed=1)) == []  # Code 128 is not among its symbologies
    assert decode(render(SPECS[1], seed=1)) == []  # nor DataMatrix


def test_zxing_alone_misses_tilted_linear_codes() -> None:
    """Why the hybrid exists: zxing-cpp's 1D readers scan rows, OpenCV's detector finds the tilt."""
    img = render(SPECS[0], Distortion(rotation_deg=25, fill=0.6), seed=2)
    assert make_decoder("zxing")(img) == []
    assert make_decoder("hybrid")(img)


async def _collect(source: CameraSource, timeout: float = 30.0) -> list[BarcodeEvent]:
    async def run() -> list[BarcodeEvent]:
        async with source:
            return [e async for e in source]

    return await asyncio.wait_for(run(), timeout)


@pytest.mark.usefixtures("no_leaked_tasks")
async def test_camera_source_reports_each_code_once() -> None:
    specs = [*SPECS[:3], CodeSpec("qr", "(01)09506000134353")]  # the last one has a bad check digit
    rng = random.Random(4)
    source = CameraSource(
        {"source": "unused", "repeat_window_s": 60.0},
        frames=frames(specs, [random_distortion(rng, 0.5) for _ in specs], repeat=3),
        device_id="cam-1",
    )
    events = await _collect(source)
    assert len(events) == 4 and source.frames_read == 12
    assert _gtin_of(events[:3]) == [GTIN, GTIN, GTIN]
    assert all(isinstance(e, ScanEvent) and e.source == "camera" for e in events[:3])
    assert isinstance(events[3], ScanRejected) and events[3].reason == RejectReason.BAD_CHECK_DIGIT
    assert source.state == "closed"


@pytest.mark.usefixtures("no_leaked_tasks")
async def test_camera_source_reads_a_video_file(tmp_path: Path) -> None:
    video = write_video(tmp_path / "dock.avi", frames(SPECS[:2], repeat=4), fps=10)
    events = await _collect(CameraSource({"source": str(video)}, device_id="cam-1"))
    assert _gtin_of(events) == [GTIN, GTIN]
    first = events[0]
    assert isinstance(first, ScanEvent) and first.gs1 is not None and first.gs1.batch == "LOT7"


@pytest.mark.usefixtures("no_leaked_tasks")
async def test_camera_that_cannot_open_reports_disconnected() -> None:
    states: list[str] = []
    source = CameraSource(
        {"source": "rtsp://127.0.0.1:9/none", "backoff_initial": 0.01, "backoff_max": 0.05},
        device_id="cam-9",
        on_state=lambda s, d: states.append(s),
    )
    async with source:
        for _ in range(500):
            if source.state == "disconnected":
                break
            await asyncio.sleep(0.01)
    assert "disconnected" in states and states[-1] == "closed"
