"""``python -m firmware_sim.llrp`` as its own process, read by the edge runner the daemon starts."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from pathlib import Path

from edge.capture.rfid import run_rfid_device
from edge.config import Device
from sync.clock import SystemClock
from sync.ops import OpKind, ReceivePayload
from tests.rfid.conftest import ROOT, wait_for
from tests.rfid.edge_site import edge_context, site


async def test_cli_simulator_feeds_run_rfid_device(tmp_path: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "firmware_sim.llrp",
        "--port",
        "0",
        "--tags",
        "0",
        "--cases",
        "3",
        "--every",
        "0.4",
        "--transit",
        "1.0",
        "--round-ms",
        "10",
        "--miss-rate",
        "0.05",
        cwd=ROOT,
        env=env,
        stdout=asyncio.subprocess.PIPE,
    )
    try:
        assert proc.stdout is not None
        line = await asyncio.wait_for(proc.stdout.readline(), 20)
        info = json.loads(line)
        assert info["antennas"] == 4
        device = Device(
            id="DOOR-1",
            kind="rfid",
            location="DOCK-1",
            options={
                "host": "127.0.0.1",
                "port": info["port"],
                "antennas": [1, 2],
                "window_s": 0.5,
                "report_every_ms": 100,
            },
        )
        cfg = site()
        cfg["inbound_orders"][0]["lines"][0]["qty"] = 3
        async with edge_context(tmp_path / "j.sqlite", SystemClock(), cfg) as ctx:
            task = asyncio.create_task(run_rfid_device(device, ctx))
            await wait_for(lambda: len(ctx.journal.entries(kind=OpKind.RECEIVE)) == 3, timeout=20, what="3 receives")
            health = ctx.health.get("device:DOOR-1")
            assert health is not None and health.status == "ok" and health.facts["kind"] == "rfid"
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
            ops = [e.op().payload for e in ctx.journal.entries(kind=OpKind.RECEIVE)]
            serials = sorted(p.serials[0] for p in ops if isinstance(p, ReceivePayload))
        assert serials == [f"urn:epc:id:sgtin:0614141.812345.{100_000 + i}" for i in range(3)]
    finally:
        proc.terminate()
        await proc.wait()
