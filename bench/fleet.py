"""Fleet benchmark: AGV throughput on one fixed warehouse grid with 10, 25, 50 and 100 AGVs, the timed
traffic planner against the earlier reservation scheme, the master's CPU and the task -> order latency.

    .venv/bin/python -m bench.fleet [--quick] [--json]

The floor is ``edge.fleet.examples.warehouse_grid(two_way_aisles=True)``: 24 two-way rack aisles of 20
positions, three one-way cross-aisles and a one-way wall ring, 8 docks, 8 goods-to-person stations,
chargers and a park spot for every AGV in wall bays (757 nodes). Two-way aisles make trips short and
are where traffic control earns its keep: two vehicles meeting head-on in an aisle is what a policy
without time has to undo after the fact.
Every size runs on that same floor, from park spots spread over the walls, with the same task stream:
one outstanding task per AGV, alternately dock -> random rack slot (putaway) and random rack slot ->
pick station (goods to person), from one seed. Both policies (``[fleet] traffic``) run in the same run.

Throughput runs in virtual time: the real master (``FleetMaster``, the VDA 5050 JSON on every message
both ways) and the real simulated vehicles (``AgvSim``/``AgvLink``) on an in-process broker, under an
event loop whose clock jumps when nothing is due. A figure then depends on the planner, not on what
else the machine is doing, and the same seed gives the same run. Tasks per hour count tasks finished
after a warm-up (vehicles start parked), over the rest of the window (``--quick``: 120 seconds from the
start, so its figures show the run works, not the floor's capacity). "cpu" is the master's own CPU
(inbound handling, decisions, outbound encoding) per AGV per simulated second.

Latency is measured on the wire as well: 100 AGVs in a process of their own on a private mosquitto,
the master in a fresh process of its own (as on a gateway) on a sped-up clock, task -> order p95 over
tasks an idle AGV could take at once (queueing behind busy vehicles is not the master's latency), the
master's CPU there and its peak resident memory ("master_rss_mb": one master with 100 AGVs, the bench's
imports included; a whole gateway's budget is 200 MB).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
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
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from bench._common import rss_mb
from edge.fleet.config import FleetConfig
from edge.fleet.examples import warehouse_grid
from edge.fleet.layout import Layout
from edge.fleet.master import FleetMaster
from edge.fleet.tasks import TaskStatus, TransportTask
from firmware_sim.agv import ScaledClock
from firmware_sim.agv.clock import LoopClock, VirtualTimeLoop
from firmware_sim.agv.world import World
from firmware_sim.ports import free_port
from sync.ops import OpDraft

SIZES = (10, 25, 50, 100)
POLICIES = ("timed", "reservations")
SEED = 16
TWO_WAY = True
"""Two-way rack aisles (one-way cross-aisles and ring): the floor where traffic control matters."""


class _Quiet:
    """A logger that drops everything: the benchmark prints its own table."""

    def __getattr__(self, _: str) -> Any:
        return lambda *a, **k: None


def start_nodes(layout: Layout, agvs: int) -> list[str]:
    """Park spots spread over the walls, the same choice for both policies."""
    parks = [s.node for s in layout.stations if s.kind == "park"]
    step = len(parks) / agvs
    return [parks[int(i * step)] for i in range(agvs)]


class TaskStream:
    """One outstanding task per AGV: putaways (dock -> slot) and goods-to-person (slot -> pick), alternately."""

    def __init__(self, layout: Layout, seed: int) -> None:
        self.rng = random.Random(seed)
        self.docks = [s.location for s in layout.stations if s.kind == "dock"]
        self.slots = [s.location for s in layout.stations if s.kind == "slot"]
        self.picks = [s.location for s in layout.stations if s.kind == "pick"]
        self.tasks: list[TransportTask] = []

    async def top_up(self, master: FleetMaster, outstanding: int) -> list[TransportTask]:
        """Submit tasks until ``outstanding`` are unfinished; returns those an idle AGV took at once.

        Tasks arrive one after another (the loop runs between two), as a host system sends them: the
        latency of one is the master's work for it, not a queue of a hundred submitted in one go."""
        immediate = []
        while sum(not t.finished for t in self.tasks[-4 * outstanding :]) < outstanding:
            i = len(self.tasks)
            if i % 2:
                src, dst = self.rng.choice(self.docks), self.rng.choice(self.slots)
            else:
                src, dst = self.rng.choice(self.slots), self.rng.choice(self.picks)
            task = TransportTask(
                task_id=f"B{i:06d}", handling_unit=f"HU{i:06d}", sku="SKU-1", qty=1, from_location=src, to_location=dst
            )
            self.tasks.append(task)
            master.submit(task)
            if task.vehicle is not None:
                immediate.append(task)
            await asyncio.sleep(0)
        return immediate


def p95_ms(values: list[float]) -> float | None:
    if not values:
        return None
    values = sorted(values)
    return round(1000 * values[int(0.95 * (len(values) - 1))], 2)


# ---- throughput: virtual time, in process ---------------------------------------------------------


async def floor_run(agvs: int, traffic: str, sim_seconds: float, warmup: float) -> dict[str, Any]:
    layout = warehouse_grid(agvs=max(SIZES), two_way_aisles=TWO_WAY)
    config = FleetConfig(layout=layout, traffic=traffic, client_id=f"bench-{traffic}-{agvs}")
    clock = LoopClock()
    world = World(clock=clock, map_id=layout.map_id)
    recorded = 0

    async def record(_: OpDraft) -> None:
        nonlocal recorded
        recorded += 1

    master = FleetMaster(
        config, clock=clock, record=record, log=_Quiet(), client_factory=lambda: world.broker.client(config.client_id)
    )
    runner = asyncio.create_task(master.run())
    await master.connected.wait()
    nodes = {n.id: n for n in layout.nodes}
    for i, node in enumerate(start_nodes(layout, agvs)):
        world.add_agv(f"AGV-{i:03d}", node, nodes[node].x, nodes[node].y)
    while sum(v.state is not None for v in master.control.vehicles.values()) < agvs:
        await clock.sleep(0.1)
    stream = TaskStream(layout, SEED)
    immediate: list[TransportTask] = []
    t0 = clock.monotonic()
    cpu0 = master.cpu_seconds
    wall0 = time.perf_counter()
    while clock.monotonic() - t0 < sim_seconds:
        immediate += await stream.top_up(master, agvs)
        await clock.sleep(1.0)
    wall = time.perf_counter() - wall0
    cpu = master.cpu_seconds - cpu0
    stats = dict(master.control.stats)
    counted = [
        t for t in stream.tasks if t.status == TaskStatus.DONE and t.done_at is not None and t.done_at >= t0 + warmup
    ]
    window = sim_seconds - warmup
    durations = [t.done_at - t.created_at for t in counted if t.done_at is not None]
    collisions = len(world.floor.collisions)
    failed = sum(t.status == TaskStatus.FAILED for t in stream.tasks)
    await world.close()
    runner.cancel()
    await asyncio.gather(runner, return_exceptions=True)
    return {
        "agvs": agvs,
        "policy": traffic,
        "sim_seconds": round(sim_seconds),
        "tasks_done": len(counted),
        "tasks_per_hour": round(len(counted) * 3600 / window, 1),
        "tasks_per_agv_hour": round(len(counted) * 3600 / window / agvs, 2),
        "mean_task_s": round(statistics.fmean(durations), 1) if durations else None,
        "cpu_ms_per_agv_per_sim_s": round(1000 * cpu / (agvs * sim_seconds), 3),
        "task_to_order_p95_ms": p95_ms([t.ordered_perf - t.created_perf for t in immediate if t.ordered_perf]),
        "collisions": collisions,
        "failed": failed,
        "wall_s": round(wall, 1),
        "ops_recorded": recorded,
        **{k: stats[k] for k in ("detours", "replans", "charges") if k in stats},
    }


def floor_runs(quick: bool, window: float | None = None) -> list[dict[str, Any]]:
    # quick: 120 simulated seconds from a standing start (tasks finish at every size, the figures are
    # not steady-state; in 100 s, 10 AGVs' first tasks took some 82 s of the window, too few finished
    # to compare sizes by); full: 20 minutes, counted after 5 minutes of warm-up; --window: its own
    # length, a quarter of it warm-up
    sim_seconds, warmup = (120.0, 0.0) if quick else (1200.0, 300.0)
    if window is not None:
        sim_seconds, warmup = window, window / 4
    results = []
    for agvs in SIZES:
        for traffic in POLICIES:
            with asyncio.Runner(loop_factory=VirtualTimeLoop) as runner:
                results.append(runner.run(floor_run(agvs, traffic, sim_seconds, warmup)))
            r = results[-1]
            print(
                f"  {agvs:>3} AGVs {traffic:>12}: {r['tasks_per_hour']:>7} tasks/h ({r['wall_s']} s)", file=sys.stderr
            )
    return results


# ---- latency: real mosquitto, vehicles in their own process ------------------------------------------


@contextlib.contextmanager
def mosquitto() -> Iterator[int]:
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


def peak_rss_mb() -> float:
    """Peak resident memory of this process's own address space (``VmHWM``), MB.

    Not ``ru_maxrss``: Linux carries that across the exec that started this process, so a wire run
    started by a bench that had done its floor runs reported the bench's 132 MB, not its own 88."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return rss_mb()


def cpu_seconds() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


async def wire_run(port: int, agvs: int, traffic: str, sim_seconds: float, scale: float) -> dict[str, Any]:
    layout = warehouse_grid(agvs=max(SIZES))
    config = FleetConfig(broker_port=port, layout=layout, traffic=traffic, client_id=f"bench-wire-{traffic}")
    clock = ScaledClock(scale)

    async def record(_: OpDraft) -> None:
        return None

    master = FleetMaster(config, clock=clock, record=record, log=_Quiet())
    runner = asyncio.create_task(master.run())
    await master.connected.wait()
    nodes = {n.id: n for n in layout.nodes}
    specs = [f"AGV-{i:03d}@{n}:{nodes[n].x}:{nodes[n].y}" for i, n in enumerate(start_nodes(layout, agvs))]
    sims = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "firmware_sim.agv",
        "--port",
        str(port),
        "--scale",
        str(scale),
        *[a for spec in specs for a in ("--agv", spec)],
        stdout=asyncio.subprocess.PIPE,
    )
    assert sims.stdout is not None
    await asyncio.wait_for(sims.stdout.readline(), 60)
    while sum(v.state is not None for v in master.control.vehicles.values()) < agvs:
        await asyncio.sleep(0.01)
    stream = TaskStream(layout, SEED)
    immediate: list[TransportTask] = []
    cpu0, sim0 = cpu_seconds(), clock.monotonic()
    while clock.monotonic() - sim0 < sim_seconds:
        immediate += await stream.top_up(master, agvs)
        await asyncio.sleep(0.02)
    cpu, elapsed = cpu_seconds() - cpu0, clock.monotonic() - sim0
    sims.terminate()
    try:
        await asyncio.wait_for(sims.wait(), 10)
    except TimeoutError:
        sims.kill()
        await sims.wait()
    runner.cancel()
    await asyncio.gather(runner, return_exceptions=True)
    lat = [t.ordered_perf - t.created_perf for t in immediate if t.ordered_perf is not None]
    return {
        "agvs": agvs,
        "policy": traffic,
        "scale": scale,
        "sim_seconds": round(elapsed, 1),
        "orders_timed": len(lat),
        "task_to_order_p50_ms": round(1000 * statistics.median(lat), 2) if lat else None,
        "task_to_order_p95_ms": p95_ms(lat),
        "cpu_ms_per_agv_per_sim_s": round(1000 * cpu / (agvs * elapsed), 3),
        "tasks_done": sum(t.status == TaskStatus.DONE for t in stream.tasks),
        "master_rss_mb": round(peak_rss_mb(), 1),  # the process holds this master alone
    }


async def _wire_runs(quick: bool) -> list[dict[str, Any]]:
    sim_seconds, scale = (12.0, 4.0) if quick else (120.0, 4.0)
    with mosquitto() as port:
        return [await wire_run(port, max(SIZES), "timed", sim_seconds, scale)]


def wire_runs(quick: bool) -> list[dict[str, Any]]:
    """The wire measurement in a fresh process of its own, as a gateway runs its one master.

    Not in this process: after the floor runs it holds what eight masters and simulated floors left
    behind (an interpreter keeps its heap), and its resident memory would be theirs too. There the
    master's RSS is one gateway master's with 100 AGVs, and its garbage collector sees only its heap."""
    cmd = [sys.executable, "-m", "bench.fleet", "--wire-only", *(["--quick"] if quick else [])]
    out = subprocess.run(cmd, check=True, stdout=subprocess.PIPE, text=True).stdout
    result: list[dict[str, Any]] = json.loads(out.strip().splitlines()[-1])
    return result


# ---- report -------------------------------------------------------------------------------------------


def table(results: list[dict[str, Any]], cols: list[str]) -> str:
    rows = [cols] + [[str(r.get(c)) for c in cols] for r in results]
    widths = [max(len(row[i]) for row in rows) for i in range(len(cols))]
    return "\n".join("  ".join(cell.rjust(w) for cell, w in zip(row, widths, strict=True)) for row in rows)


def figures(floor: list[dict[str, Any]], wire: list[dict[str, Any]]) -> dict[str, Any]:
    per = {(r["policy"], r["agvs"]): r for r in floor}
    tph = {p: {str(n): per[(p, n)]["tasks_per_hour"] for n in SIZES} for p in POLICIES}
    timed = tph["timed"]
    out: dict[str, Any] = {
        "tasks_per_hour": tph,
        "tasks_per_agv_hour": {p: {str(n): per[(p, n)]["tasks_per_agv_hour"] for n in SIZES} for p in POLICIES},
        "mean_task_s": {p: {str(n): per[(p, n)]["mean_task_s"] for n in SIZES} for p in POLICIES},
        "cpu_ms_per_agv_per_sim_s": {
            p: {str(n): per[(p, n)]["cpu_ms_per_agv_per_sim_s"] for n in SIZES} for p in POLICIES
        },
        "scaling_50_over_10": round(timed["50"] / timed["10"], 2) if timed["10"] else None,
        "never_lower_when_larger": all(timed[str(a)] <= timed[str(b)] for a, b in itertools.pairwise(SIZES)),
        "timed_ahead_at_every_size": all(tph["timed"][str(n)] > tph["reservations"][str(n)] for n in SIZES),
        "collisions": sum(r["collisions"] for r in floor),
    }
    if wire:
        out["task_to_order_p95_ms"] = wire[0]["task_to_order_p95_ms"]
        out["wire_cpu_ms_per_agv_per_sim_s"] = wire[0]["cpu_ms_per_agv_per_sim_s"]
        out["master_rss_mb"] = wire[0]["master_rss_mb"]
        out["wire"] = wire
    out["floor"] = floor
    return out


def main() -> None:
    from bench._common import parser

    p = parser(__doc__ or "")
    p.add_argument(
        "--window", type=float, default=None, help="simulated seconds per throughput run (a quarter warm-up)"
    )
    p.add_argument("--wire-only", action="store_true", help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.wire_only:  # the child process of wire_runs: its results as one JSON line
        print(json.dumps(asyncio.run(_wire_runs(args.quick))))
        return
    t0 = time.monotonic()
    floor = floor_runs(args.quick, args.window)
    wire = wire_runs(args.quick)
    print("\nThroughput on one fixed grid (virtual time, in-process broker, same task stream):")
    print(
        table(
            floor,
            [
                "agvs",
                "policy",
                "sim_seconds",
                "tasks_done",
                "tasks_per_hour",
                "tasks_per_agv_hour",
                "mean_task_s",
                "cpu_ms_per_agv_per_sim_s",
                "task_to_order_p95_ms",
                "collisions",
            ],
        )
    )
    print("\nOn the wire (mosquitto, AGVs in their own process, sped-up clock):")
    print(
        table(
            wire,
            [
                "agvs",
                "policy",
                "scale",
                "sim_seconds",
                "orders_timed",
                "task_to_order_p50_ms",
                "task_to_order_p95_ms",
                "cpu_ms_per_agv_per_sim_s",
                "master_rss_mb",
            ],
        )
    )
    f = figures(floor, wire)
    timed = f["tasks_per_hour"]["timed"]
    print(
        f"\ntimed planner: 50 AGVs do {f['scaling_50_over_10']}x the tasks of 10 (goal >= 3.5); "
        f"never lower at a larger fleet: {f['never_lower_when_larger']}; "
        f"ahead of reservations at every size: {f['timed_ahead_at_every_size']}"
    )
    print(f"tasks per hour (timed): {timed}")
    print(f"task -> order p95 at {max(SIZES)} AGVs on the wire: {f.get('task_to_order_p95_ms')} ms (goal < 50 ms)")
    print(f"one master's resident memory with {max(SIZES)} AGVs: {f.get('master_rss_mb')} MB (a gateway's budget: 200)")
    print(f"wall time {time.monotonic() - t0:.1f} s")
    if args.json:
        f["wall_seconds"] = round(time.monotonic() - t0, 1)
        print(json.dumps(f))


if __name__ == "__main__":
    main()
