"""``wims edge run`` as a real process: config errors, health, and SIGTERM with appends in flight."""

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

from edge.store.schema import connect
from edge.store.verify import verify_database
from firmware_sim.ports import free_port

ROOT = Path(__file__).parents[2]


def _write_site(tmp_path: Path, port: int, extra: str = "") -> Path:
    cfg = tmp_path / "site.toml"
    cfg.write_text(f"""
[site]
gateway_id = "gw-d"
warehouse = "WH-D"
[store]
path = "{tmp_path / "edge.sqlite"}"
[api]
port = {port}
[[zones]]
code = "Z"
[[locations]]
code = "A"
zone = "Z"
[[skus]]
code = "S"
gtin = "00000000000017"
{extra}
""")
    return cfg


def _wims(*args: str) -> list[str]:
    return [sys.executable, "-c", "from wims.cli import main; main()", *args]


def test_config_error_names_file_and_key(tmp_path: Path) -> None:
    cfg = _write_site(tmp_path, 0, '[[devices]]\nid = "x"\nkind = "teleporter"\n')
    r = subprocess.run(_wims("edge", "run", "--config", str(cfg)), cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert r.returncode == 2
    assert str(cfg) in r.stderr and "devices[0].kind" in r.stderr.replace("\n", "")


async def test_sigterm_loses_nothing_acknowledged(tmp_path: Path) -> None:
    port = free_port()
    cfg = _write_site(
        tmp_path,
        port,
        '[[devices]]\nid = "ghost"\nkind = "rfid"\nenabled = true\noptions = { host = "127.0.0.1", port = 1 }\n',
    )
    proc = subprocess.Popen(_wims("edge", "run", "--config", str(cfg)), cwd=ROOT, stderr=subprocess.PIPE, text=True)
    base = f"http://127.0.0.1:{port}"
    acked: list[str] = []
    async with httpx.AsyncClient(base_url=base, timeout=10) as http:
        for _ in range(200):
            try:
                if (await http.get("/healthz")).status_code == 200:
                    break
            except httpx.TransportError:
                await asyncio.sleep(0.05)
        health = (await http.get("/healthz")).json()
        assert health["journal"]["head_seq"] == 0
        assert health["components"]["device:ghost"]["status"] in ("down", "starting", "degraded", "ok")

        async def client() -> None:
            while True:
                try:
                    r = await http.post(
                        "/v1/ops",
                        json={"payload": {"kind": "receive", "sku": "S", "location": "A", "qty": 1}, "actor": "t"},
                    )
                except httpx.TransportError:
                    return
                if r.status_code != 201:
                    return
                acked.append(r.json()["op_id"])

        clients = [asyncio.create_task(client()) for _ in range(20)]
        while len(acked) < 200:
            await asyncio.sleep(0.01)
        t0 = time.monotonic()
        os.kill(proc.pid, signal.SIGTERM)
        await asyncio.gather(*clients)
    rc = await asyncio.to_thread(proc.wait, 30)
    assert rc == 0, proc.stderr.read() if proc.stderr else ""
    assert time.monotonic() - t0 < 15
    logs = [
        json.loads(line) for line in (proc.stderr.read() if proc.stderr else "").splitlines() if line.startswith("{")
    ]
    assert any(e["event"] == "gateway.closed" for e in logs)  # structured logs, one JSON object a line
    conn = connect(str(tmp_path / "edge.sqlite"), readonly=True)
    stored = {r[0] for r in conn.execute("SELECT op_id FROM journal")}
    assert set(acked) <= stored
    assert verify_database(conn).ok
