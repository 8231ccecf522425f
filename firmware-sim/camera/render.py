"""Barcode pictures as a camera would see them: generated symbols, then blur, rotation, noise and glare.

Symbols come from zxing-cpp's writer (GS1-128, GS1 DataMatrix, GS1 QR, EAN-13, plain QR); distortions are
plain OpenCV/numpy. Nothing here imports our drivers, so a decoder bug cannot be mirrored by the encoder.
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Literal

import cv2
import numpy as np
import zxingcpp

Symbol = Literal["gs1-128", "gs1-datamatrix", "gs1-qr", "ean13", "qr"]
Image = np.ndarray[Any, Any]

_FORMATS: dict[Symbol, tuple[zxingcpp.BarcodeFormat, bool]] = {
    "gs1-128": (zxingcpp.BarcodeFormat.Code128, True),
    "gs1-datamatrix": (zxingcpp.BarcodeFormat.DataMatrix, True),
    "gs1-qr": (zxingcpp.BarcodeFormat.QRCode, True),
    "ean13": (zxingcpp.BarcodeFormat.EAN13, False),
    "qr": (zxingcpp.BarcodeFormat.QRCode, False),
}


@dataclass(frozen=True, slots=True)
class CodeSpec:
    """What to print. GS1 content is the bracketed HRI form, ``(01)09506000134352(10)LOT1``."""

    symbol: Symbol
    content: str


@dataclass(frozen=True, slots=True)
class Distortion:
    blur_sigma: float = 0.0
    rotation_deg: float = 0.0
    noise_sigma: float = 0.0
    glare: float = 0.0
    """Peak brightness added by a specular highlight, 0..1 of full scale."""
    fill: float = 0.5
    """Symbol width as a fraction of the frame width."""


CLEAN = Distortion()


def gs1_check_digit(digits: str) -> str:
    """Mod-10 check digit of a GTIN/SSCC body (weights 3,1,3,... from the right)."""
    total = sum(int(d) * (3 if i % 2 == 0 else 1) for i, d in enumerate(reversed(digits)))
    return str((10 - total % 10) % 10)


def symbol_image(spec: CodeSpec) -> Image:
    """The bare symbol, black on white with its quiet zone, one pixel per module."""
    fmt, gs1 = _FORMATS[spec.symbol]
    barcode = zxingcpp.create_barcode(spec.content, fmt, gs1=gs1)
    return np.asarray(zxingcpp.write_barcode_to_image(barcode, scale=1, add_quiet_zones=True)).copy()


def render(
    spec: CodeSpec, distortion: Distortion = CLEAN, *, size: tuple[int, int] = (1280, 720), seed: int = 0
) -> Image:
    """One BGR frame of ``size`` (w, h) showing the symbol with the given distortion."""
    w, h = size
    rng = np.random.default_rng(seed)
    sym = symbol_image(spec)
    sh, sw = sym.shape
    # fractional pixels per module, as a real lens gives, but at least ~1.8 so the code is resolvable
    target_w = min(0.95 * w, max(distortion.fill * w, 1.8 * sw))
    target_h = target_w * sh / sw
    if sh < sw / 4:  # linear symbol: print bars at a usual height, not zxing's minimum
        target_h = max(target_h, 0.22 * target_w)
    # keep the whole rotated symbol with its quiet zone in the frame: a clipped code is not a test
    rad = np.deg2rad(distortion.rotation_deg)
    c, s = abs(np.cos(rad)), abs(np.sin(rad))
    fit = min(1.0, 0.95 * w / (target_w * c + target_h * s), 0.9 * h / (target_w * s + target_h * c))
    target_w, target_h = target_w * fit, target_h * fit
    sym = cv2.resize(sym, (round(target_w), round(target_h)), interpolation=cv2.INTER_AREA)
    paper = 235
    canvas: Image = np.full((h, w), paper, np.float32)
    canvas += rng.normal(0, 3, (h, w)).astype(np.float32)  # paper texture
    y0, x0 = (h - sym.shape[0]) // 2, (w - sym.shape[1]) // 2
    ink = 30.0 + (sym.astype(np.float32) / 255.0) * (paper - 30.0)  # grey levels keep the resize's edges
    canvas[y0 : y0 + sym.shape[0], x0 : x0 + sym.shape[1]] = ink
    if distortion.rotation_deg:
        m = cv2.getRotationMatrix2D((w / 2, h / 2), distortion.rotation_deg, 1.0)
        canvas = cv2.warpAffine(canvas, m, (w, h), borderMode=cv2.BORDER_CONSTANT, borderValue=float(paper))
    if distortion.blur_sigma > 0:
        canvas = cv2.GaussianBlur(canvas, (0, 0), distortion.blur_sigma)
    if distortion.glare > 0:
        cy, cx = rng.uniform(0.3, 0.7) * h, rng.uniform(0.3, 0.7) * w
        r = rng.uniform(0.08, 0.18) * w
        yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
        canvas += 255.0 * distortion.glare * np.exp(-((yy - cy) ** 2 + (xx - cx) ** 2) / (2 * r * r))
    if distortion.noise_sigma > 0:
        canvas += rng.normal(0, distortion.noise_sigma, (h, w)).astype(np.float32)
    gray = np.clip(canvas, 0, 255).astype(np.uint8)
    return cv2.cvtColor(gray, cv2.COLOR_GRAY2BGR)


def random_distortion(rng: random.Random, level: float = 1.0) -> Distortion:
    """A plausible handheld-camera distortion; ``level`` scales all of them (0 = clean)."""
    return Distortion(
        blur_sigma=rng.uniform(0.0, 1.6) * level,
        rotation_deg=rng.uniform(-30, 30) * level,
        noise_sigma=rng.uniform(0.0, 14.0) * level,
        glare=rng.uniform(0.0, 0.45) * level if rng.random() < 0.5 else 0.0,
        fill=rng.uniform(0.4, 0.75),
    )


def _lot(rng: random.Random) -> str:
    return "".join(rng.choice("ABCDEFGHJKLMNPQRSTUVWXYZ0123456789") for _ in range(rng.randint(3, 10)))


def _gtin14(rng: random.Random) -> str:
    body = "0" + "".join(str(rng.randint(0, 9)) for _ in range(12))
    return body + gs1_check_digit(body)


def sample_specs(n: int, seed: int = 1) -> list[CodeSpec]:
    """A warehouse-like mix of labels, cycling through every symbology and the common AIs."""
    rng = random.Random(seed)
    out: list[CodeSpec] = []
    for i in range(n):
        gtin = _gtin14(rng)
        expiry = f"{rng.randint(26, 35):02d}{rng.randint(1, 12):02d}{rng.randint(1, 28):02d}"
        kind = i % 6
        if kind == 0:
            body = "3" + "".join(str(rng.randint(0, 9)) for _ in range(16))
            out.append(CodeSpec("gs1-128", f"(00){body}{gs1_check_digit(body)}"))
        elif kind == 1:
            out.append(CodeSpec("gs1-128", f"(01){gtin}(17){expiry}(10){_lot(rng)}"))
        elif kind == 2:
            out.append(CodeSpec("gs1-datamatrix", f"(01){gtin}(21){_lot(rng)}(17){expiry}"))
        elif kind == 3:
            out.append(CodeSpec("gs1-qr", f"(01){gtin}(10){_lot(rng)}(37){rng.randint(1, 500)}"))
        elif kind == 4:
            out.append(CodeSpec("ean13", gtin[1:]))
        else:
            out.append(CodeSpec("gs1-datamatrix", f"(01){gtin}(3103){rng.randint(1, 999999):06d}"))
    return out


def frames(
    specs: Iterable[CodeSpec], distortions: Iterable[Distortion] | None = None, *, repeat: int = 1
) -> Iterator[Image]:
    """Serve rendered frames, each shown ``repeat`` times (a camera sees a label for many frames)."""
    dist_iter = iter(distortions) if distortions is not None else None
    for i, spec in enumerate(specs):
        d = next(dist_iter, CLEAN) if dist_iter is not None else CLEAN
        img = render(spec, d, seed=i)
        for _ in range(repeat):
            yield img


def write_video(path: Path | str, images: Iterable[Image], *, fps: float = 10.0) -> Path:
    """A fake camera recording (MJPG in AVI, high quality) for ``cv2.VideoCapture(path)``."""
    p = Path(path)
    writer: cv2.VideoWriter | None = None
    try:
        for img in images:
            if writer is None:
                fourcc = cv2.VideoWriter.fourcc(*"MJPG")
                writer = cv2.VideoWriter(str(p), fourcc, fps, (img.shape[1], img.shape[0]))
                writer.set(cv2.VIDEOWRITER_PROP_QUALITY, 95)
                if not writer.isOpened():
                    raise RuntimeError(f"cv2.VideoWriter cannot write {p}")
            writer.write(img)
    finally:
        if writer is not None:
            writer.release()
    return p


def with_fill(d: Distortion, fill: float) -> Distortion:
    return replace(d, fill=fill)
