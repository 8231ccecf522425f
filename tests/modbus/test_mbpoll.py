"""An independent client (Debian's mbpoll) reads the simulated sensors: the simulator speaks real Modbus,
so a bug shared by our driver and our simulator cannot hide."""

from __future__ import annotations

import asyncio
import json
import re
import shutil
import signal
import subprocess
import sys

import pytest

from firmware_sim.modbus import PtyNullModem, SensorLine, SimSensor

pytestmark = pytest.mark.skipif(shutil.which("mbpoll") is None, reason="mbpoll not installed (apt: mbpoll)")


async def _mbpoll(*args: str) -> dict[int, int]:
    proc = await asyncio.create_subprocess_exec(
        "mbpoll",
        "-1",
        "-0",
        "-t",
        "3",
        "-r",
        "1",
        "-c",
        "2",
        "-o",
        "1",
        *args,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    out, _ = await asyncio.wait_for(proc.communicate(), 15)
    text = out.decode()
    assert proc.returncode == 0, text
    return {int(m[1]): int(m[2]) for m in re.finditer(r"^\[(\d+)\]:\s+(\d+)", text, re.M)}


async def test_mbpoll_reads_rtu_sensors_on_a_pty() -> None:
    a, b = SimSensor(unit=1), SimSensor(unit=7)
    a.force(temperature=-20.5, humidity=45.2)
    b.force(temperature=7.9, humidity=81.0)
    async with PtyNullModem() as cable:
        line = await SensorLine([a, b]).start_rtu(cable.device_path)
        try:
            regs_a = await _mbpoll("-m", "rtu", "-b", "9600", "-P", "none", "-a", "1", cable.host_path)
            regs_b = await _mbpoll("-m", "rtu", "-b", "9600", "-P", "none", "-a", "7", cable.host_path)
        finally:
            await line.stop()
    assert regs_a == {1: 0xFF33, 2: 452}  # -20.5 C as int16 x10, 45.2 %RH x10
    assert regs_b == {1: 79, 2: 810}


async def test_mbpoll_reads_tcp_sensor() -> None:
    sensor = SimSensor(unit=3)
    sensor.force(temperature=2.5, humidity=50.0)
    line = await SensorLine([sensor]).start_tcp()
    try:
        regs = await _mbpoll("-m", "tcp", "-p", str(line.port), "-a", "3", "127.0.0.1")
    finally:
        await line.stop()
    assert regs == {1: 25, 2: 500}


async def test_mbpoll_reads_the_standalone_simulator_over_tcp_and_rtu() -> None:
    """``python -m firmware_sim.modbus`` as its own process, as in demos and the benchmark."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "firmware_sim.modbus",
        "--lines",
        "1",
        "--sensors-per-line",
        "2",
        "--rtu",
        "--setpoint",
        "3.0",
        stdout=subprocess.PIPE,
    )
    try:
        assert proc.stdout is not None
        info = json.loads(await asyncio.wait_for(proc.stdout.readline(), 15))
        ((host, port, units),) = info["tcp"]
        assert units == [1, 2]
        tcp = await _mbpoll("-m", "tcp", "-p", str(port), "-a", "2", host)
        rtu = await _mbpoll("-m", "rtu", "-b", "9600", "-P", "none", "-a", "1", info["rtu"])
    finally:
        proc.send_signal(signal.SIGTERM)
        await asyncio.wait_for(proc.wait(), 10)
    for regs in (tcp, rtu):
        assert 29 <= regs[1] <= 31 and 590 <= regs[2] <= 610  # 3.0 C +- noise, 60 %RH +- noise
