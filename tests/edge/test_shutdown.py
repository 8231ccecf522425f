"""``wims edge run`` as a real process stops within 10 s on SIGTERM whatever its devices do: a device that
cannot start says why at once, a device runner that will not stop is abandoned with a log line, and every
op acknowledged to a client is in the journal."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx

from edge.capture.badge import MISSING_PYSCARD
from edge.store.schema import connect
from edge.store.verify import verify_database
from firmware_sim.ports import free_port
from tests.edge.test_daemon import ROOT, _write_site

BADGE = '[[devices]]\nid = "badge-1"\nkind = "badge"\nlocation = "A"\n'


def _gateway(cfg: Path, *setup: str) -> subprocess.Popen[str]:
    code = "; ".join([*setup, "from wims.cli import main", "main()"])
    return subprocess.Popen(
        [sys.executable, "-c", code, "edge", "run", "--config", str(cfg)], cwd=ROOT, stderr=subprocess.PIPE, text=True
    )


async def _up(http: httpx.AsyncClient) -> float:
    for _ in range(400):
        try:
            if (await http.get("/healthz")).status_code == 200:
                return time.monotonic()
        except httpx.TransportError:
            await asyncio.sleep(0.05)
    raise AssertionError("gateway did not come up")


def _logs(proc: subprocess.Popen[str]) -> list[dict[str, object]]:
    text = proc.stderr.read() if proc.stderr else ""
    return [json.loads(line) for line in text.splitlines() if line.startswith("{")]


async def test_a_missing_pyscard_is_a_clear_health_error_at_once(tmp_path: Path) -> None:
    port = free_port()
    proc = _gateway(_write_site(tmp_path, port, BADGE), "import sys", "sys.modules['smartcard'] = None")
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=10) as http:
            up = await _up(http)
            while True:
                badge = (await http.get("/healthz")).json()["components"].get("device:badge-1", {})
                if badge.get("status") == "down" or time.monotonic() - up > 5:
                    break
                await asyncio.sleep(0.05)
            assert badge["status"] == "down" and badge["detail"] == MISSING_PYSCARD, badge
            assert time.monotonic() - up < 2  # at once, not at exit
        t0 = time.monotonic()
        os.kill(proc.pid, signal.SIGTERM)
        assert await asyncio.to_thread(proc.wait, 30) == 0
        assert time.monotonic() - t0 < 10
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    logs = _logs(proc)
    assert any(e["event"] == "part.unavailable" and e["reason"] == MISSING_PYSCARD for e in logs)


async def test_a_device_that_will_not_stop_is_abandoned_and_no_acknowledged_op_is_lost(tmp_path: Path) -> None:
    port = free_port()
    wedge = "import edge.capture.runners as r; r.RUNNERS['badge'] = 'tests.support.stuck:run_wedged_device'"
    proc = _gateway(_write_site(tmp_path, port, BADGE), wedge)
    acked: list[str] = []
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=10) as http:
            await _up(http)
            assert (await http.get("/healthz")).json()["components"]["device:badge-1"]["status"] == "starting"

            async def client() -> None:
                op = {"payload": {"kind": "receive", "sku": "S", "location": "A", "qty": 1}, "actor": "t"}
                while True:
                    try:
                        r = await http.post("/v1/ops", json=op)
                    except httpx.TransportError:
                        return
                    if r.status_code != 201:
                        return
                    acked.append(r.json()["op_id"])

            clients = [asyncio.create_task(client()) for _ in range(10)]
            while len(acked) < 100:
                await asyncio.sleep(0.01)
            t0 = time.monotonic()
            os.kill(proc.pid, signal.SIGTERM)
            await asyncio.gather(*clients)
        rc = await asyncio.to_thread(proc.wait, 60)
        stopped = time.monotonic() - t0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert rc == 0 and stopped < 10, (rc, stopped)
    logs = _logs(proc)
    assert any(e["event"] == "part.abandoned" and e["part"] == "device:badge-1" for e in logs), logs[-5:]
    assert any(e["event"] == "gateway.closed" for e in logs)
    conn = connect(str(tmp_path / "edge.sqlite"), readonly=True)
    stored = {r[0] for r in conn.execute("SELECT op_id FROM journal")}
    assert acked and set(acked) <= stored
    assert verify_database(conn).ok
