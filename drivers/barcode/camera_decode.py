"""Frame -> decoded symbols, with OpenCV's detectors or zxing-cpp. Pure and synchronous (run in a thread).

Both report an AIM symbology identifier with the text so that the rest of the pipeline is the same as for
a serial gun. OpenCV's detectors know EAN/UPC and plain QR only: no Code 128, no DataMatrix, and its QR
decoder refuses FNC1 (GS1) QR codes, so it cannot give a GS1 identifier; zxing-cpp reads all of them
and reports ``]C1``/``]d2``/``]Q3`` itself. zxing-cpp's linear readers scan rows and columns, so a 1D
code tilted past ~12 degrees is missed; ``hybrid`` then asks OpenCV's barcode *detector* (which finds
tilted 1D codes) where the code is, deskews that crop and hands it back to zxing-cpp.
bench/camera.py measures all three on the same images.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import cv2
import numpy as np
import zxingcpp

from drivers.barcode.options import DecoderName

Frame = np.ndarray[Any, Any]

_ZX = zxingcpp.BarcodeFormat
ZXING_FORMATS = zxingcpp.barcode_formats_from_str(
    "Code128,DataMatrix,QRCode,EAN13,EAN8,UPCA,UPCE,ITF,DataBar,DataBarExpanded"
)
"""The warehouse symbologies; limiting the set keeps zxing-cpp from trying every format on every frame."""

_OPENCV_AIM = {"EAN_13": "]E0", "UPC_A": "]E0", "UPC_E": "]E0", "EAN_8": "]E4"}


@dataclass(frozen=True, slots=True)
class Decoded:
    text: str
    symbology: str
    format: str
    decoder: str


def _gray(frame: Frame) -> Frame:
    if frame.ndim == 3 and frame.shape[2] == 3:
        return cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY)
    if frame.ndim == 3 and frame.shape[2] == 4:
        return cv2.cvtColor(frame, cv2.COLOR_BGRA2GRAY)
    return frame


_GS1_AIM_BY_CODE = {"C": "]C1", "d": "]d2", "Q": "]Q3", "e": "]e0", "J": "]J1"}


def _zxing_symbology(r: Any) -> str:
    """The AIM identifier, normalised for GS1 content.

    zxing-cpp 3.1 reports some GS1 DataMatrix symbols as ``]d8`` (seen on its own writer's output) while
    ``content_type`` says GS1; we trust ``content_type`` and give the standard GS1 identifier.
    """
    aim: str = r.symbology_identifier
    if r.content_type == zxingcpp.ContentType.GS1 and len(aim) == 3:
        return _GS1_AIM_BY_CODE.get(aim[1], aim)
    return aim


def decode_zxing(frame: Frame) -> list[Decoded]:
    """zxing-cpp in Plain text mode: GS1 separators arrive as GS (0x1D), the identifier as ``]d2`` etc."""
    results = zxingcpp.read_barcodes(_gray(frame), formats=ZXING_FORMATS, text_mode=zxingcpp.TextMode.Plain)
    return [
        Decoded(text=r.text, symbology=_zxing_symbology(r), format=str(r.format), decoder="zxing")
        for r in results
        if r.valid
    ]


class OpenCvDecoder:
    """OpenCV's barcode (EAN/UPC) and QR detectors; instances hold model state, so keep one per thread."""

    def __init__(self) -> None:
        self._barcode = cv2.barcode.BarcodeDetector()
        self._qr = cv2.QRCodeDetector()

    def __call__(self, frame: Frame) -> list[Decoded]:
        gray = _gray(frame)
        out: list[Decoded] = []
        try:
            ok, infos, types, _ = self._barcode.detectAndDecodeWithType(gray)
        except cv2.error:
            ok, infos, types = False, (), ()
        if ok:
            for info, kind in zip(infos, types, strict=False):
                if info:
                    aim = _OPENCV_AIM.get(kind, "")
                    text = info.zfill(13) if kind in ("UPC_A", "UPC_E") and aim == "]E0" else info
                    out.append(Decoded(text=text, symbology=aim, format=kind, decoder="opencv"))
        try:
            text, _, _ = self._qr.detectAndDecode(gray)
        except cv2.error:  # e.g. FNC1 (GS1) QR: "mode 5 not implemented"
            text = ""
        if text:
            out.append(Decoded(text=text, symbology="]Q1", format="QR_CODE", decoder="opencv"))
        return out


def _deskewed_crops(detector: Any, gray: Frame) -> list[Frame]:
    """Upright crops around each 1D code OpenCV's detector finds, rotated so the bars stand vertical."""
    try:
        ok, points = detector.detect(gray)
    except cv2.error:
        return []
    if not ok or points is None:
        return []
    h, w = gray.shape[:2]
    crops: list[Frame] = []
    for quad in np.asarray(points, dtype=np.float32).reshape(-1, 4, 2)[:4]:
        (cx, cy), (rw, rh), angle = cv2.minAreaRect(quad)
        if rw < rh:
            angle, rw, rh = angle + 90.0, rh, rw
        m = cv2.getRotationMatrix2D((cx, cy), angle, 1.0)
        upright = cv2.warpAffine(gray, m, (w, h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
        mx, my = rw * 0.15 + 20, rh * 0.3 + 20  # the detector's box is tight: keep the quiet zone
        x0, x1 = int(max(0, cx - rw / 2 - mx)), int(min(w, cx + rw / 2 + mx))
        y0, y1 = int(max(0, cy - rh / 2 - my)), int(min(h, cy + rh / 2 + my))
        if x1 - x0 > 8 and y1 - y0 > 8:
            crops.append(upright[y0:y1, x0:x1])
    return crops


class HybridDecoder:
    """zxing-cpp on the frame; when it finds nothing, zxing-cpp on OpenCV-located, deskewed 1D crops
    (sharpened if the plain crop fails)."""

    def __init__(self) -> None:
        self._detector = cv2.barcode.BarcodeDetector()

    def __call__(self, frame: Frame) -> list[Decoded]:
        found = decode_zxing(frame)
        if found:
            return found
        out: list[Decoded] = []
        for crop in _deskewed_crops(self._detector, _gray(frame)):
            found = decode_zxing(np.ascontiguousarray(crop))
            if not found:  # defocus: an unsharp mask restores bar edges (measured: +1/3 of the misses)
                soft = cv2.GaussianBlur(crop, (0, 0), 2.0)
                found = decode_zxing(np.ascontiguousarray(cv2.addWeighted(crop, 2.0, soft, -1.0, 0)))
            out.extend(found)
        return out


def make_decoder(name: DecoderName) -> Callable[[Frame], list[Decoded]]:
    """A frame decoder by name (see the module docstring for what each can read)."""
    if name == "zxing":
        return decode_zxing
    if name == "opencv":
        return OpenCvDecoder()
    return HybridDecoder()
