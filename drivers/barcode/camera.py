"""A camera as a barcode source: frames from ``cv2.VideoCapture`` (device, file, stream URL) or from any
iterator of numpy frames, decoded off the event loop, each code reported once per ``repeat_window_s``.

A live capture that fails to open or stops delivering frames is reopened with backoff; a finite source
(an iterator, or a video file) ends the event stream when it runs out.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any

import cv2

from drivers.barcode.camera_decode import Decoded, Frame, make_decoder
from drivers.barcode.decode import ScanDecoder
from drivers.barcode.errors import DeviceUnavailable
from drivers.barcode.options import CameraOptions
from drivers.barcode.stream import EventSource, backoff_delay

FrameSource = str | int | Iterable[Frame] | cv2.VideoCapture


def _capture_frames(cap: cv2.VideoCapture) -> Iterator[Frame]:
    while True:
        ok, frame = cap.read()
        if not ok:
            return
        yield frame


class CameraSource(EventSource):
    """``async with CameraSource(opts, device_id=..., frames=...) as cam: async for ev in cam: ...``

    ``frames`` overrides ``options.source``: pass a ``cv2.VideoCapture`` or an iterable of frames.
    """

    def __init__(
        self,
        options: CameraOptions | Mapping[str, Any],
        *,
        frames: FrameSource | None = None,
        decode: Callable[[Frame], list[Decoded]] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.options = options if isinstance(options, CameraOptions) else CameraOptions.from_options(options)
        self._frames: FrameSource = frames if frames is not None else self.options.source
        self._decode = decode or make_decoder(self.options.decoder)
        self._decoder = ScanDecoder(device_id=self.device_id, gs1_mode=self.options.gs1, source="camera")
        self._last_seen: dict[tuple[str, str], float] = {}
        self._cap: cv2.VideoCapture | None = None
        self.frames_read = 0

    def _finite(self) -> bool:
        src = self._frames
        return not isinstance(src, str | int | cv2.VideoCapture) or (isinstance(src, str) and os.path.isfile(src))

    def _open(self) -> Iterator[Frame]:
        src = self._frames
        if isinstance(src, str | int):
            cap = cv2.VideoCapture(src)
            if not cap.isOpened():
                cap.release()
                raise DeviceUnavailable(str(src), "cv2.VideoCapture could not open it")
            self._cap = cap
            return _capture_frames(cap)
        if isinstance(src, cv2.VideoCapture):
            return _capture_frames(src)
        return iter(src)

    async def _run(self) -> None:
        attempt = 0
        while True:
            try:
                frames = await asyncio.to_thread(self._open)
            except DeviceUnavailable as exc:
                self._set_state("disconnected", str(exc))
                await self._backoff(attempt)
                attempt += 1
                continue
            attempt = 0
            self.connects += 1
            self._set_state("connected", str(self._frames) if isinstance(self._frames, str | int) else "frames")
            await self._consume(frames)
            await self._close_device()
            if self._finite():
                return
            self._set_state("disconnected", "capture stopped delivering frames")
            await self._backoff(0)

    async def _backoff(self, attempt: int) -> None:
        o = self.options
        await self.clock.sleep(backoff_delay(attempt, o.backoff_initial, o.backoff_max, self._rng))

    async def _consume(self, frames: Iterator[Frame]) -> None:
        nth = self.options.every_nth_frame
        while True:
            decoded = await asyncio.to_thread(self._next_decoded, frames, nth)
            if decoded is None:
                return
            for d in decoded:
                await self._report(d)

    def _next_decoded(self, frames: Iterator[Frame], nth: int) -> list[Decoded] | None:
        """Runs in a worker thread: skip to the next frame we decode, then decode it."""
        frame: Frame | None = None
        for _ in range(nth):
            frame = next(frames, None)
            if frame is None:
                return None
            self.frames_read += 1
        return self._decode(frame) if frame is not None else None

    async def _report(self, d: Decoded) -> None:
        now = self.clock.monotonic()
        key = (d.symbology, d.text)
        last = self._last_seen.get(key)
        self._last_seen[key] = now
        if last is not None and now - last < self.options.repeat_window_s:
            return
        if len(self._last_seen) > 4096:  # bound memory on a camera that sees many distinct codes
            horizon = now - self.options.repeat_window_s
            self._last_seen = {k: t for k, t in self._last_seen.items() if t >= horizon}
        event = self._decoder.from_text(d.symbology + d.text, self.clock.now())
        await self._emit(event)

    async def _close_device(self) -> None:
        cap, self._cap = self._cap, None
        if cap is not None:
            cap.release()
