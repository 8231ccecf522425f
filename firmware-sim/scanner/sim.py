"""A serial barcode scanner on a pseudo-terminal, for tests and demos without hardware.

The host opens the pty's slave side as if it were ``/dev/ttyACM0``; the simulator holds the master side,
writes scans framed as a real gun does (prefix, AIM symbology identifier, payload with GS, suffix) and
records whatever the host writes back (bad-read beeps). ``unplug()`` and ``plug()`` simulate a USB gun
pulled and reinserted; with ``link`` set, a symlink (like ``/dev/serial/by-id/...``) follows the new pty.

Uses only the standard library, never our drivers, so that a bug in the driver's framing cannot hide.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import time
import tty
from pathlib import Path

GS = "\x1d"


class ScannerSim:
    """One simulated gun. Not thread-safe; drive it from one thread or one event loop."""

    def __init__(
        self,
        *,
        prefix: bytes = b"",
        suffix: bytes = b"\r",
        aim: bool = True,
        link: Path | str | None = None,
    ) -> None:
        self.prefix = prefix
        self.suffix = suffix
        self.aim = aim
        self.link = Path(link) if link is not None else None
        self._master: int | None = None
        self._slave: int | None = None
        self.path: str | None = None
        self.host_bytes = bytearray()

    # --- lifecycle -------------------------------------------------------------------------------
    def plug(self) -> str:
        """Create the pty (a new one each time, as a replugged USB device gets); return the host's path."""
        if self._master is not None:
            raise RuntimeError("already plugged")
        master, slave = os.openpty()
        tty.setraw(slave)  # no echo, no CR->NL mapping before the host configures the port
        os.set_blocking(master, False)
        self._master, self._slave = master, slave
        self.path = os.ttyname(slave)
        if self.link is not None:
            tmp = self.link.with_name(self.link.name + ".tmp")
            with contextlib.suppress(FileNotFoundError):
                tmp.unlink()
            tmp.symlink_to(self.path)
            tmp.replace(self.link)
        return str(self.link) if self.link is not None else self.path

    def unplug(self) -> None:
        """Close the pty: the host's reads fail as if the cable were pulled."""
        for fd in (self._master, self._slave):
            if fd is not None:
                with contextlib.suppress(OSError):
                    os.close(fd)
        self._master = self._slave = None
        if self.link is not None:
            with contextlib.suppress(FileNotFoundError):
                self.link.unlink()

    def __enter__(self) -> ScannerSim:
        self.plug()
        return self

    def __exit__(self, *exc: object) -> None:
        self.unplug()

    @property
    def plugged(self) -> bool:
        return self._master is not None

    # --- scanning --------------------------------------------------------------------------------
    def frame(self, payload: str, symbology: str = "]C1") -> bytes:
        """The bytes a gun sends for one read."""
        aim = symbology if self.aim else ""
        return self.prefix + (aim + payload).encode("utf-8") + self.suffix

    def scan(self, payload: str, symbology: str = "]C1") -> bytes:
        """Send one read; returns the bytes written."""
        data = self.frame(payload, symbology)
        self.write_raw(data)
        return data

    def write_raw(self, data: bytes) -> None:
        """Send bytes as they are: noise, half frames, binary garbage."""
        if self._master is None:
            raise RuntimeError("scanner is unplugged")
        view = memoryview(data)
        while view:
            try:
                n = os.write(self._master, view)
            except BlockingIOError:
                time.sleep(0.001)  # pty buffer full: the host is not reading fast enough
                continue
            view = view[n:]

    # --- what the host wrote back ----------------------------------------------------------------
    def poll_host(self) -> bytes:
        """Read whatever the host has written since the last poll (non-blocking); also kept in host_bytes."""
        if self._master is None:
            return b""
        out = bytearray()
        while True:
            try:
                chunk = os.read(self._master, 4096)
            except (BlockingIOError, OSError):
                break
            if not chunk:
                break
            out += chunk
        self.host_bytes += out
        return bytes(out)

    async def wait_host(self, expected: bytes, timeout: float = 5.0) -> bytes:
        """Wait until ``expected`` appears in what the host wrote; returns all host bytes so far."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while expected not in self.host_bytes:
            self.poll_host()
            if expected in self.host_bytes:
                break
            if loop.time() > deadline:
                raise TimeoutError(f"host did not write {expected!r}; got {bytes(self.host_bytes)!r}")
            await asyncio.sleep(0.01)
        return bytes(self.host_bytes)
