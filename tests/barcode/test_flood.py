"""A faulty scanner floods the gateway with bad reads through a real pty: 100,000 in a minute.

The gateway runs as its own process (``wims edge run``), so its memory is measured alone. The flood
must leave it under its memory budget (200 MB resident) and the journal a bounded number of exception
ops (per device and code: the first of a window and one op with the count), with the count right:
``sum(count or 1)`` over the exception ops is exactly the number of bad reads.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import psutil

from edge.store.schema import connect
from firmware_sim.ports import free_port
from firmware_sim.scanner import ScannerSim

ROOT = Path(__file__).resolve().parents[2]
READS = 100_000
BAD_CHECK_DIGIT = b"]C10109506000134353\r"  # a GS1 label whose GTIN check digit is wrong
BAD_FORMAT = b"]E0HELLO-WORLD\r"  # an EAN-13 symbol that is not 13 digits
BUDGET_MB = 200


def _site(tmp: Path, port: int, tty: Path) -> Path:
    cfg = tmp / "site.toml"
    cfg.write_text(f"""
[site]
gateway_id = "gw-flood"
warehouse = "WH-F"
[store]
path = "{tmp / "edge.sqlite"}"
[api]
port = {port}
[[zones]]
code = "INB"
[[locations]]
code = "DOCK-1"
zone = "INB"
type = "dock"
[[skus]]
code = "SKU-A"
gtin = "09506000134352"
[[devices]]
id = "gun-1"
kind = "scanner"
location = "DOCK-1"
options = {{ port = "{tty}", baudrate = 115200 }}
""")
    return cfg


def _metric(text: str, name: str, **labels: str) -> float:
    total = 0.0
    for line in text.splitlines():
        if line.startswith(name) and all(f'{k}="{v}"' in line for k, v in labels.items()):
            total += float(line.rsplit(" ", 1)[1])
    return total


def test_a_flood_of_bad_reads_keeps_memory_and_journal_bounded_with_the_count_right(tmp_path: Path) -> None:
    port = free_port()
    with ScannerSim(link=tmp_path / "ttyGun") as sim:
        assert sim.link is not None
        cfg = _site(tmp_path, port, sim.link)
        proc = subprocess.Popen(
            [sys.executable, "-c", "from wims.cli import main; main()", "edge", "run", "--config", str(cfg)],
            cwd=ROOT,
            stderr=subprocess.PIPE,
            text=True,
        )
        gateway = psutil.Process(proc.pid)
        peak = 0
        try:
            base = f"http://127.0.0.1:{port}"
            deadline = time.monotonic() + 30
            while True:
                try:
                    health = httpx.get(f"{base}/healthz", timeout=2).json()
                    if health["components"].get("device:gun-1", {}).get("status") == "ok":
                        break
                except httpx.TransportError:
                    pass
                assert time.monotonic() < deadline, "gateway or scanner did not come up"
                time.sleep(0.1)
            time.sleep(1.5)  # a real gun's port is flushed when the host opens it: start after that
            sent = threading.Event()
            took: list[float] = []

            def flood() -> None:  # the gun's side: frames out, beeps in (a gun never stops reading)
                t0 = time.monotonic()
                block = (BAD_CHECK_DIGIT + BAD_FORMAT) * 250
                for _ in range(READS // 500):
                    sim.write_raw(block)
                    sim.poll_host()
                    sim.host_bytes.clear()
                took.append(time.monotonic() - t0)
                sent.set()

            writer = threading.Thread(target=flood)
            writer.start()
            counted = 0.0
            deadline = time.monotonic() + 180
            while time.monotonic() < deadline:
                peak = max(peak, gateway.memory_info().rss)
                metrics = httpx.get(f"{base}/metrics", timeout=5).text
                counted = _metric(metrics, "wims_edge_exceptions_collapsed_total") + _metric(
                    metrics, "wims_journal_ops_appended_total", kind="exception"
                )
                if sent.is_set() and counted >= READS:
                    break
                time.sleep(0.25)
            writer.join(60)
            peak = max(peak, gateway.memory_info().rss)
            while not sent.is_set() or sim.poll_host():
                time.sleep(0.01)
            os.kill(proc.pid, signal.SIGTERM)
            rc = proc.wait(30)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    assert rc == 0, proc.stderr.read() if proc.stderr else ""
    assert counted == READS, counted
    assert took and took[0] < 60, f"{READS} reads took {took[0]:.1f} s to go through"
    assert peak < BUDGET_MB * 1024 * 1024, f"peak RSS {peak / 2**20:.0f} MB"
    conn = connect(str(tmp_path / "edge.sqlite"), readonly=True)
    rows = [json.loads(b)["payload"] for (b,) in conn.execute("SELECT body FROM journal WHERE kind = 'exception'")]
    assert len(rows) <= 4, rows  # per code: the first of the window, then one op with the count
    per_code: dict[str, int] = {}
    for p in rows:
        per_code[p["code"]] = per_code.get(p["code"], 0) + (p.get("count") or 1)
    assert per_code == {"scan_bad_check_digit": READS // 2, "scan_bad_format": READS // 2}, per_code
    assert conn.execute("SELECT count(*) FROM journal").fetchone()[0] == len(rows)
    logs = [line for line in (proc.stderr.read() if proc.stderr else "").splitlines() if "scan." in line]
    assert len(logs) < 100, f"{len(logs)} scan log lines"  # the logs are bounded too
    print(f"\nflood: {READS} bad reads in {took[0]:.1f} s, peak RSS {peak / 2**20:.0f} MB, {len(rows)} ops")
