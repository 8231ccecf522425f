"""A serial (RS-232 or USB-CDC) barcode scanner: bytes -> framed lines -> scan events, bad-read beep back.

The port may vanish (a USB gun unplugged, a pty closed): the reader task notices, reports
``disconnected`` and reopens the port with jittered, doubling backoff. Point ``port`` at a stable name
(``/dev/serial/by-id/...``) so that a replugged device is found again.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Mapping
from typing import Any

import serial
import serial_asyncio_fast

from drivers.barcode.decode import ScanDecoder
from drivers.barcode.events import ScanRejected
from drivers.barcode.framing import LineFramer
from drivers.barcode.options import SerialOptions
from drivers.barcode.stream import EventSource, backoff_delay


class SerialScanner(EventSource):
    """``async with SerialScanner(opts, device_id=...) as s: async for ev in s: ...``"""

    def __init__(self, options: SerialOptions | Mapping[str, Any], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.options = options if isinstance(options, SerialOptions) else SerialOptions.from_options(options)
        self._decoder = ScanDecoder(device_id=self.device_id, gs1_mode=self.options.gs1, source="serial")
        self._framer = LineFramer(
            suffix=self.options.suffix, prefix=self.options.prefix, max_line=self.options.max_line
        )
        self._writer: asyncio.StreamWriter | None = None
        self.beeps_sent = 0

    async def _open(self) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        o = self.options
        return await serial_asyncio_fast.open_serial_connection(
            url=o.port, baudrate=o.baudrate, bytesize=o.bytesize, parity=o.parity, stopbits=o.stopbits
        )

    async def _run(self) -> None:
        attempt = 0
        while True:
            try:
                reader, self._writer = await self._open()
            except Exception as exc:  # termios.error, SerialException, OSError ...: all mean "not now"
                detail = f"cannot open {self.options.port}: {type(exc).__name__}: {exc}"
                self._set_state("disconnected", detail)
                await self._backoff(attempt)
                attempt += 1
                continue
            attempt = 0
            self.connects += 1
            self._framer.reset()
            self._set_state("connected", self.options.port)
            try:
                await self._read_until_lost(reader)
            except (OSError, serial.SerialException) as exc:
                self._set_state("disconnected", f"lost {self.options.port}: {exc}")
            await self._close_device()
            await self._backoff(0)

    async def _backoff(self, attempt: int) -> None:
        o = self.options
        await self.clock.sleep(backoff_delay(attempt, o.backoff_initial, o.backoff_max, self._rng))

    async def _read_until_lost(self, reader: asyncio.StreamReader) -> None:
        while True:
            chunk = await reader.read(4096)
            if not chunk:
                raise OSError("end of stream")
            for frame in self._framer.feed(chunk):
                event = self._decoder.from_frame(frame, self.clock.now())
                if isinstance(event, ScanRejected) and self.options.beep_on_reject:
                    await self.signal_bad_read()
                await self._emit(event)

    async def signal_bad_read(self) -> bool:
        """Write the configured bad-read command (BEL by default) to the scanner, if connected."""
        writer = self._writer
        if writer is None or not self.options.bad_read_command or writer.is_closing():
            return False
        try:
            writer.write(self.options.bad_read_command)
            await writer.drain()
        except (OSError, serial.SerialException, ConnectionError):
            return False
        self.beeps_sent += 1
        return True

    async def _close_device(self) -> None:
        writer, self._writer = self._writer, None
        if writer is not None:
            writer.close()
            # the transport closes the port in an executor; wait, so no task outlives the source
            with contextlib.suppress(OSError, serial.SerialException, ConnectionError, TimeoutError):
                await asyncio.wait_for(writer.wait_closed(), 2.0)
