"""Run a private pcscd whose only reader is vsmartcard-vpcd on a chosen TCP port (tests, demos).

pcscd reads reader definitions from a ``reader.conf.d`` directory (``--config``); vpcd takes its port
from ``DEVICENAME /dev/null:0xPORT``. pcsc-lite 1.9 always serves clients on /run/pcscd/pcscd.comm,
so only one pcscd can run on a machine: starting fails clearly if another one holds the socket.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import time
from pathlib import Path

from firmware_sim.ports import free_port

VPCD_DRIVERS = ("/usr/lib/pcsc/drivers/serial/libifdvpcd.so", "/usr/lib64/pcsc/drivers/serial/libifdvpcd.so")
PID_FILE = Path("/run/pcscd/pcscd.pid")


class PcscdError(RuntimeError):
    """pcscd or the vpcd driver is missing, or pcscd did not come up."""


def vpcd_driver() -> str | None:
    return next((p for p in VPCD_DRIVERS if os.path.exists(p)), None)


class PcscdWithVpcd:
    """``with PcscdWithVpcd(workdir) as daemon:`` -- the virtual card connects to ``daemon.port``."""

    def __init__(self, workdir: Path, *, port: int | None = None) -> None:
        self.workdir = workdir
        self.port = port or free_port()
        self.reader_name_prefix = "Virtual PCD"
        self._proc: subprocess.Popen[bytes] | None = None
        self.log_path = workdir / "pcscd.log"

    def start(self, timeout: float = 10.0) -> None:
        binary = shutil.which("pcscd") or ("/usr/sbin/pcscd" if os.path.exists("/usr/sbin/pcscd") else None)
        driver = vpcd_driver()
        if binary is None or driver is None:
            raise PcscdError("needs the Debian packages pcscd and vsmartcard-vpcd")
        if PID_FILE.exists():
            with contextlib.suppress(ValueError, OSError):
                pid = int(PID_FILE.read_text().strip())
                os.kill(pid, 0)
                raise PcscdError(f"another pcscd (pid {pid}) already runs on this machine")
        conf = self.workdir / "reader.conf.d"
        conf.mkdir(parents=True, exist_ok=True)
        (conf / "vpcd").write_text(
            f'FRIENDLYNAME "{self.reader_name_prefix}"\nDEVICENAME /dev/null:0x{self.port:04X}\n'
            f"LIBPATH {driver}\nCHANNELID 0x{self.port:04X}\n"
        )
        log = self.log_path.open("wb")
        self._proc = subprocess.Popen(
            [binary, "--foreground", "--config", str(conf), "--info"], stdout=log, stderr=subprocess.STDOUT
        )
        log.close()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._proc.poll() is not None:
                raise PcscdError(f"pcscd exited with {self._proc.returncode}: {self.log_path.read_text()[-2000:]}")
            if "daemon ready" in self.log_path.read_text(errors="replace"):
                return
            time.sleep(0.05)
        self.stop()
        raise PcscdError("pcscd did not become ready")

    def stop(self) -> None:
        if self._proc is not None and self._proc.poll() is None:
            self._proc.terminate()
            try:
                self._proc.wait(5)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait(5)
        self._proc = None

    def __enter__(self) -> PcscdWithVpcd:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
