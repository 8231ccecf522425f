"""pcscd with vsmartcard-vpcd, started and stopped by the tests themselves.

The test set-up installs the Debian packages when they are missing and apt is usable (CI installs them
beforehand: pcscd vsmartcard-vpcd libpcsclite-dev swig). Only when the binaries are truly absent
after that are the tests skipped, with the reason.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from firmware_sim.badge import PcscdWithVpcd, vpcd_driver
from tests.support.coldchain import config, ctx

__all__ = ["config", "ctx"]


def _ensure_installed() -> str | None:
    """Install pcscd and vsmartcard-vpcd with apt if they are missing; the reason if still missing."""
    if (shutil.which("pcscd") or os.path.exists("/usr/sbin/pcscd")) and vpcd_driver() is not None:
        return None
    if os.geteuid() == 0 and shutil.which("apt-get"):
        subprocess.run(
            ["apt-get", "install", "-y", "--no-install-recommends", "pcscd", "vsmartcard-vpcd"],
            check=False,
            capture_output=True,
            timeout=600,
        )
    if not (shutil.which("pcscd") or os.path.exists("/usr/sbin/pcscd")):
        return "pcscd is not installed (apt: pcscd)"
    if vpcd_driver() is None:
        return "the vpcd reader driver is not installed (apt: vsmartcard-vpcd)"
    return None


def _pause_system_pcscd() -> bool:
    """On a systemd machine (CI runners) apt enables a socket-activated pcscd that holds the one PC/SC
    socket; stop it for the tests (as root only) and say so, so it can be started again after."""
    if os.geteuid() != 0 or not shutil.which("systemctl") or not Path("/run/systemd/system").exists():
        return False
    active = subprocess.run(["systemctl", "is-active", "--quiet", "pcscd.socket"], check=False).returncode == 0
    if active:
        subprocess.run(["systemctl", "stop", "pcscd.socket", "pcscd.service"], check=False, timeout=30)
    return active


@pytest.fixture(scope="module")
def pcscd(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PcscdWithVpcd]:
    missing = _ensure_installed()
    if missing:
        pytest.skip(missing)
    pytest.importorskip("smartcard", reason="pyscard is not installed (pip install 'wims[badge]')")
    workdir: Path = tmp_path_factory.mktemp("pcscd")
    paused = _pause_system_pcscd()
    try:
        with PcscdWithVpcd(workdir) as daemon:
            yield daemon
    finally:
        if paused:
            subprocess.run(["systemctl", "start", "pcscd.socket"], check=False, timeout=30)
