"""The serial scanner driver over a real pty, against the simulator in firmware_sim.scanner."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from pathlib import Path

import pytest
import serial

from drivers.barcode import RejectReason, ScanEvent, ScanRejected, SerialScanner
from drivers.barcode.events import BarcodeEvent
from firmware_sim.scanner import GS, ScannerSim

from .gs1_cases import CASES
from .test_gs1 import check

pytestmark = pytest.mark.usefixtures("no_leaked_tasks")


async def take(scanner: SerialScanner, n: int, timeout: float = 10.0) -> list[BarcodeEvent]:
    """The next ``n`` events, or fail after ``timeout``."""
    out: list[BarcodeEvent] = []

    async def collect() -> None:
        async for event in scanner:
            out.append(event)
            if len(out) == n:
                return

    await asyncio.wait_for(collect(), timeout)
    return out


async def wait_state(scanner: SerialScanner, state: str, timeout: float = 10.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while scanner.state != state:
        assert loop.time() < deadline, f"state {scanner.state!r} ({scanner.state_detail}), wanted {state!r}"
        await asyncio.sleep(0.01)


def opts(sim: ScannerSim, **extra: object) -> dict[str, object]:
    assert sim.link is not None
    return {"port": str(sim.link), "backoff_initial": 0.02, "backoff_max": 0.2, **extra}


async def test_gs1_table_over_pty(sim: ScannerSim) -> None:
    """Every GS1 case from the table, written by the simulated gun and read by the driver."""
    async with SerialScanner(opts(sim), device_id="gun") as scanner:
        await wait_state(scanner, "connected")
        for case in CASES:
            sim.write_raw(case.text.encode() + b"\r")  # the case text carries its own AIM identifier
        events = await take(scanner, len(CASES))
        for case, event in zip(CASES, events, strict=True):
            check(case, event)
        refused = sum(isinstance(e, ScanRejected) for e in events)
        assert refused >= 10
        await sim.wait_host(b"\x07" * refused)
        assert scanner.beeps_sent == refused


@pytest.mark.parametrize(
    ("prefix", "suffix", "sim_prefix", "sim_suffix"),
    [
        ("", "CR", b"", b"\r"),
        ("", "LF", b"", b"\n"),
        ("", "CRLF", b"", b"\r\n"),
        ("STX", "ETX", b"\x02", b"\x03"),
    ],
)
async def test_framing_variants(tmp_path: Path, prefix: str, suffix: str, sim_prefix: bytes, sim_suffix: bytes) -> None:
    with ScannerSim(prefix=sim_prefix, suffix=sim_suffix, link=tmp_path / "tty") as sim:
        options = opts(sim, prefix=prefix, suffix=suffix, baudrate=115200)
        async with SerialScanner(options, device_id="gun") as scanner:
            await wait_state(scanner, "connected")
            sim.scan(f"010950600013435210L1{GS}3712", "]C1")
            (event,) = await take(scanner, 1)
    assert isinstance(event, ScanEvent)
    assert event.symbology == "]C1" and GS in event.data
    assert event.gs1 is not None and event.gs1.count == 12 and event.gs1.batch == "L1"


async def test_noise_is_refused_and_reading_goes_on(sim: ScannerSim) -> None:
    garbage = [b"\x00\x01\xff\xfe", b"\xc3\x28abc", b"]C1\x07ring", b"", b"x" * 5000, b"]!bad"]
    async with SerialScanner(opts(sim, max_line=256), device_id="gun") as scanner:
        await wait_state(scanner, "connected")
        for g in garbage:
            sim.write_raw(g + b"\r")
        sim.scan("0109506000134352")
        events = await take(scanner, len(garbage) + 1)
    reasons = [e.reason for e in events if isinstance(e, ScanRejected)]
    assert reasons == [
        RejectReason.NOT_TEXT,
        RejectReason.NOT_TEXT,
        RejectReason.NOT_TEXT,
        RejectReason.EMPTY,
        RejectReason.TOO_LONG,
        RejectReason.BAD_SYMBOLOGY_ID,
    ]
    assert isinstance(events[-1], ScanEvent) and events[-1].gs1 is not None


async def test_reconnects_after_unplug(sim: ScannerSim) -> None:
    states: list[str] = []
    async with SerialScanner(opts(sim), device_id="gun", on_state=lambda s, d: states.append(s)) as scanner:
        await wait_state(scanner, "connected")
        sim.scan("0109506000134352")
        await take(scanner, 1)
        sim.unplug()
        await wait_state(scanner, "disconnected")
        await asyncio.sleep(0.1)  # a few failed reopen attempts while the link is gone
        sim.plug()  # a new pty behind the same link, as a replugged USB gun
        await wait_state(scanner, "connected")
        sim.scan("00106141411234567897")
        (event,) = await take(scanner, 1)
        assert isinstance(event, ScanEvent) and event.gs1 is not None
        assert event.gs1.sscc == "106141411234567897"
        assert scanner.connects == 2
    assert states[0] == "connected" and "disconnected" in states and states[-1] == "closed"


async def test_bad_read_command_is_configurable(sim: ScannerSim) -> None:
    async with SerialScanner(opts(sim, bad_read_command="\\x1bB3\\r"), device_id="gun") as scanner:
        await wait_state(scanner, "connected")
        sim.scan("0109506000134353")
        (event,) = await take(scanner, 1)
        assert isinstance(event, ScanRejected) and event.reason == RejectReason.BAD_CHECK_DIGIT
        await sim.wait_host(b"\x1bB3\r")
        assert await scanner.signal_bad_read()
        await sim.wait_host(b"\x1bB3\r\x1bB3\r")


def test_cli_prints_pty_path(tmp_path: Path) -> None:
    """``python -m firmware_sim.scanner`` prints a pty path, scans what stdin says and reports host bytes."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "firmware_sim.scanner"],
        stdout=subprocess.PIPE,
        stdin=subprocess.PIPE,
        cwd=tmp_path,  # the installed package, not the source tree next to the working directory
        text=True,
    )
    try:
        assert proc.stdout is not None and proc.stdin is not None
        path = proc.stdout.readline().strip()
        assert path.startswith("/dev/pts/")
        with serial.Serial(path, 9600, timeout=5) as port:
            proc.stdin.write("]C1 0109506000134352<GS>10A\n")
            proc.stdin.flush()
            assert port.read_until(b"\r") == b"]C10109506000134352\x1d10A\r"
            port.write(b"\x07")
            assert proc.stdout.readline().strip() == "host: 07"
    finally:
        proc.kill()
        proc.wait(5)
