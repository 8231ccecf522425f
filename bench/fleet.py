"""Fleet benchmark: transport tasks per simulated hour with 10, 30 and 50 AGVs, the master's CPU per AGV,
and the time from task creation to the order on the wire.

    .venv/bin/python bench/fleet.py [--quick] [--json]

Each run starts its own mosquitto on a free port, the simulated AGVs in a separate process (so their
CPU is not the master's), and the master in this process on a sped-up clock shared in scale with the
vehicles. Tasks are kept topped up (one waiting per AGV), so the figure is the floor's capacity. The
baseline, measured in the same run, is the naive "first idle AGV" assignment instead of the nearest.
The last stdout line with ``--json`` is one JSON object of all figures.

``--quick`` windows are short: at 50 AGVs the loop is long enough that no task finishes inside it, so
quick mode gives latency, CPU and RSS there, and the full run (30 simulated minutes each) the throughput.
Latency counts tasks an idle AGV could take at once (queueing behind busy vehicles is not the master's).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import random
import resource
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from edge.fleet.config import FleetConfig
from edge.fleet.examples import fleet_layout
from edge.fleet.master import FleetMaster
from edge.fleet.tasks import TaskStatus, TransportTask
from firmware_sim.agv import ScaledClock
from firmware_sim.ports import free_port
from sync.ops import OpDraft


@contextlib.contextmanager
def mosquitto() -> Any:
    exe = shutil.which("mosquitto") or "/usr/sbin/mosquitto"
    port = free_port()
    with tempfile.TemporaryDirectory() as tmp:
        conf = Path(tmp) / "mosquitto.conf"
        conf.write_text(f"listener {port} 127.0.0.1\nallow_anonymous true\npersistence false\n")
        proc = subprocess.Popen([exe, "-c", str(conf)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            for _ in range(200):
                with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=0.1):
                    break
                time.sleep(0.05)
            yield port
        finally:
            proc.terminate()
            proc.wait(5)


def cpu_seconds() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def rss_mb() -> float:
    try:
        import psutil

        return float(psutil.Process().memory_info().rss) / 2**20
    except ImportError:
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


async def run_one(port: int, agvs: int, policy: str, sim_seconds: float, scale: float) -> dict[str, Any]:
    layout = fleet_layout(agvs)
    config = FleetConfig(broker_port=port, layout=layout, assignment=policy, client_id=f"bench-{policy}-{agvs}")
    clock = ScaledClock(scale)
    recorded = 0

    async def record(_: OpDraft) -> None:
        nonlocal recorded
        recorded += 1

    master = FleetMaster(config, clock=clock, record=record, log=_Quiet())
    runner = asyncio.create_task(master.run())
    await master.connected.wait()
    parks = [s.node for s in layout.stations if s.kind == "park"]
    nodes = {n.id: n for n in layout.nodes}
    args = [f"AGV-{i:03d}@{n}:{nodes[n].x}:{nodes[n].y}" for i, n in enumerate(parks[:agvs])]
    sims = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "firmware_sim.agv",
        "--port",
        str(port),
        "--scale",
        str(scale),
        *[a for spec in args for a in ("--agv", spec)],
        stdout=asyncio.subprocess.PIPE,
    )
    assert sims.stdout is not None
    await asyncio.wait_for(sims.stdout.readline(), 60)
    while sum(v.state is not None for v in master.control.vehicles.values()) < agvs:
        await asyncio.sleep(0.01)
    rng = random.Random(agvs)
    docks = [s.location for s in layout.stations if s.kind == "dock"]
    slots = [s.location for s in layout.stations if s.kind == "slot"]
    picks = [s.location for s in layout.stations if s.kind == "pick"]
    tasks: list[TransportTask] = []
    immediate: list[TransportTask] = []
    cpu0, sim0 = cpu_seconds(), clock.monotonic()
    while clock.monotonic() - sim0 < sim_seconds:
        if sum(not t.finished for t in tasks) < agvs:  # one task per AGV outstanding: the floor is busy
            i = len(tasks)
            src, dst = (rng.choice(docks), rng.choice(slots)) if i % 2 else (rng.choice(slots), rng.choice(picks))
            task = TransportTask(
                task_id=f"B{i:05d}", handling_unit=f"HU{i:05d}", sku="SKU-1", qty=1, from_location=src, to_location=dst
            )
            tasks.append(task)
            master.submit(task)
            if task.vehicle is not None:
                immediate.append(task)  # latency counts only tasks an idle AGV could take at once
        await asyncio.sleep(0.005)
    cpu = cpu_seconds() - cpu0
    stats = dict(master.control.stats)  # before the vehicles go OFFLINE at the end
    elapsed = clock.monotonic() - sim0
    done = sum(t.status == TaskStatus.DONE for t in tasks)
    lat = sorted(t.ordered_perf - t.created_perf for t in immediate if t.ordered_perf is not None)
    sims.terminate()
    try:
        await asyncio.wait_for(sims.wait(), 10)
    except TimeoutError:
        sims.kill()
        await sims.wait()
    runner.cancel()
    await asyncio.gather(runner, return_exceptions=True)
    return {
        "agvs": agvs,
        "policy": policy,
        "scale": scale,
        "sim_seconds": round(elapsed, 1),
        "tasks_done": done,
        "tasks_per_sim_hour": round(done * 3600 / elapsed, 1),
        "cpu_ms_per_agv_per_sim_s": round(1000 * cpu / (agvs * elapsed), 3),
        "latency_p50_ms": round(1000 * statistics.median(lat), 2) if lat else None,
        "latency_p95_ms": round(1000 * lat[int(0.95 * (len(lat) - 1))], 2) if lat else None,
        "ops_recorded": recorded,
        "rss_mb": round(rss_mb(), 1),
        **stats,
    }


class _Quiet:
    """A logger that drops everything: the benchmark prints its own table."""

    def __getattr__(self, _: str) -> Any:
        return lambda *a, **k: None


async def main_async(quick: bool) -> list[dict[str, Any]]:
    plan = {10: (40.0, 200.0), 30: (16.0, 160.0), 50: (12.0, 120.0)}  # scale, quick simulated seconds
    results = []
    with mosquitto() as port:
        for agvs, (scale, quick_seconds) in plan.items():
            # the scale keeps the vehicles' process under one core; the window covers several tasks
            sim_seconds = quick_seconds if quick else 1800.0
            for policy in ("nearest", "first_idle"):
                if quick and policy == "first_idle" and agvs != 10:
                    continue  # the baseline once in quick mode, to stay under a minute
                results.append(await run_one(port, agvs, policy, sim_seconds, scale))
    return results


def table(results: list[dict[str, Any]]) -> str:
    cols = [
        "agvs",
        "policy",
        "sim_seconds",
        "tasks_done",
        "tasks_per_sim_hour",
        "cpu_ms_per_agv_per_sim_s",
        "latency_p50_ms",
        "latency_p95_ms",
        "rss_mb",
    ]
    rows = [cols] + [[str(r[c]) for c in cols] for r in results]
    widths = [max(len(row[i]) for row in rows) for i in range(len(cols))]
    return "\n".join("  ".join(cell.rjust(w) for cell, w in zip(row, widths, strict=True)) for row in rows)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--quick", action="store_true", help="short runs (under a minute in all)")
    p.add_argument("--json", action="store_true", help="end with one JSON line of every figure")
    args = p.parse_args()
    t0 = time.monotonic()
    results = asyncio.run(main_async(args.quick))
    print(table(results))
    base = {r["agvs"]: r for r in results if r["policy"] == "first_idle"}
    for r in results:
        if r["policy"] == "nearest" and r["agvs"] in base and base[r["agvs"]]["tasks_per_sim_hour"]:
            gain = r["tasks_per_sim_hour"] / base[r["agvs"]]["tasks_per_sim_hour"]
            print(f"{r['agvs']} AGVs: nearest-AGV assignment does {gain:.2f}x the tasks of first-idle")
    at50 = [r for r in results if r["agvs"] == 50 and r["policy"] == "nearest"]
    if at50:
        print(f"task -> order p95 at 50 AGVs: {at50[0]['latency_p95_ms']} ms (goal < 50 ms)")
    print(f"wall time {time.monotonic() - t0:.1f} s")
    if args.json:
        print(json.dumps({"results": results, "wall_seconds": round(time.monotonic() - t0, 1)}))


if __name__ == "__main__":
    main()
