"""200 Modbus sensors polled at 1 Hz by one gateway: CPU used, poll jitter, memory.

The simulated sensors run in a separate process (``python -m firmware_sim.modbus``: pymodbus servers,
10 TCP endpoints x 20 sensors), so the CPU measured here is the gateway's alone. Two pollers read the
same sensors for the same time, one after the other:

- baseline: a minimal hand-written Modbus TCP poller (asyncio streams, struct-packed frames, no
  library): about the least CPU that polling 200 sensors a second can cost in Python;
- gateway: ``drivers.modbus.ModbusBus`` per endpoint (pymodbus client, schedule, health counters)
  feeding the cold-chain rules (``edge.rules.coldchain.ColdChainRules``), as the daemon runs them.

Jitter is how far each sensor's interval between two readings strays from the 1 s period (p50/p99),
and how late each polling cycle starts against its schedule (p99). Goal: gateway < 0.5 core.

    python -m bench.modbus [--quick] [--json]
"""

from __future__ import annotations

import asyncio
import itertools
import json
import os
import struct
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench._common import emit_json, parser, rss_mb, table
from drivers.modbus import CycleDone, ModbusBus, Reading, parse_bus_options
from edge.config import Zone
from edge.rules.coldchain import ColdChainRules, RuleOptions

ROOT = Path(__file__).resolve().parents[1]
LINES, PER_LINE, PERIOD = 10, 20, 1.0


def _pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    s = sorted(values)
    return s[min(len(s) - 1, int(q * len(s)))]


def _interval_jitter(times: dict[str, list[float]]) -> list[float]:
    return [abs(b - a - PERIOD) for ts in times.values() for a, b in itertools.pairwise(ts)]


def start_sim(tmp: Path) -> tuple[subprocess.Popen[str], list[tuple[str, int, list[int]]]]:
    (tmp / "firmware_sim").symlink_to(ROOT / "firmware-sim")  # until the install maps firmware_sim
    env = {**os.environ, "PYTHONPATH": f"{tmp}{os.pathsep}{os.environ.get('PYTHONPATH', '')}"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "firmware_sim.modbus", "--lines", str(LINES), "--sensors-per-line", str(PER_LINE)],
        stdout=subprocess.PIPE,
        text=True,
        env=env,
    )
    assert proc.stdout is not None
    info = json.loads(proc.stdout.readline())
    return proc, [(h, int(p), list(units)) for h, p, units in info["tcp"]]


async def baseline(endpoints: list[tuple[str, int, list[int]]], seconds: float) -> dict[str, Any]:
    times: dict[str, list[float]] = {}
    lags: list[float] = []
    errors = 0

    async def line(host: str, port: int, units: list[int]) -> None:
        nonlocal errors
        reader, writer = await asyncio.open_connection(host, port)
        loop = asyncio.get_running_loop()
        due, tid = loop.time(), 0
        try:
            while True:
                lags.append(loop.time() - due)
                for unit in units:
                    tid = (tid + 1) & 0xFFFF
                    writer.write(struct.pack(">HHHBBHH", tid, 0, 6, unit, 4, 1, 2))
                    head = await reader.readexactly(9)
                    body = await reader.readexactly(head[8])
                    if head[7] != 4 or len(body) != 4:
                        errors += 1
                        continue
                    temp, _hum = struct.unpack(">hH", body)
                    times.setdefault(f"{port}/{unit}", []).append(loop.time())
                    _ = temp * 0.1
                due += PERIOD
                await asyncio.sleep(max(0.0, due - loop.time()))
        finally:
            writer.close()

    return await _measure([line(*ep) for ep in endpoints], seconds, times, lags, lambda: errors)


async def gateway(endpoints: list[tuple[str, int, list[int]]], seconds: float) -> dict[str, Any]:
    times: dict[str, list[float]] = {}
    lags: list[float] = []
    zone = Zone(code="COLD", temp_min_c=2, temp_max_c=8, humidity_max_pct=90)
    rules = ColdChainRules({"COLD": zone}, RuleOptions(), device_id="bench", poll_interval_s=1)
    buses: list[ModbusBus] = []
    for i, (host, port, units) in enumerate(endpoints):
        opts = parse_bus_options(
            {
                "transport": "tcp",
                "host": host,
                "tcp_port": port,
                "poll_interval_s": PERIOD,
                "timeout_s": 0.5,
                "sensors": [{"id": f"S{i}-{u}", "unit": u} for u in units],
            }
        )
        for s in opts.sensors:
            rules.add_sensor(s.id, "COLD", time.monotonic())
        buses.append(ModbusBus(f"bench-{i}", opts))

    async def consume(bus: ModbusBus) -> None:
        async with bus:
            async for ev in bus.events():
                if isinstance(ev, Reading):
                    times.setdefault(ev.sensor_id, []).append(ev.monotonic)
                    rules.observe(ev.sensor_id, ev.values, ev.at, ev.monotonic)
                elif isinstance(ev, CycleDone):
                    lags.append(ev.lag_s)

    def errors() -> int:
        return sum(st.polls - st.ok for bus in buses for st in bus.stats.values())

    return await _measure([consume(b) for b in buses], seconds, times, lags, errors)


async def _measure(
    coros: list[Any], seconds: float, times: dict[str, list[float]], lags: list[float], errors: Any
) -> dict[str, Any]:
    tasks = [asyncio.create_task(c) for c in coros]
    await asyncio.sleep(2.0)  # connect and settle before measuring
    for ts in times.values():
        ts.clear()
    lags.clear()
    err0 = errors()
    cpu0, wall0 = time.process_time(), time.monotonic()
    await asyncio.sleep(seconds)
    cpu, wall = time.process_time() - cpu0, time.monotonic() - wall0
    reads = sum(len(ts) for ts in times.values())
    jitter = _interval_jitter(times)
    for t in tasks:
        t.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    return {
        "cores": cpu / wall,
        "reads_per_s": reads / wall,
        "errors": errors() - err0,
        "jitter_p50_ms": 1000 * _pct(jitter, 0.50),
        "jitter_p99_ms": 1000 * _pct(jitter, 0.99),
        "cycle_lag_p99_ms": 1000 * _pct(lags, 0.99),
        "sensors_seen": sum(1 for ts in times.values() if ts),
    }


async def run(seconds: float) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        proc, endpoints = start_sim(Path(tmp))
        try:
            base = await baseline(endpoints, seconds)
            gw = await gateway(endpoints, seconds)
        finally:
            proc.terminate()
            proc.wait(10)
    return {"baseline": base, "gateway": gw}


def main() -> None:
    args = parser(__doc__ or "").parse_args()
    import logging

    logging.getLogger("pymodbus").setLevel(logging.CRITICAL)
    seconds = 15.0 if args.quick else 60.0
    res = asyncio.run(run(seconds))
    rows = [
        [
            name,
            r["sensors_seen"],
            r["reads_per_s"],
            r["cores"],
            r["jitter_p50_ms"],
            r["jitter_p99_ms"],
            r["cycle_lag_p99_ms"],
            r["errors"],
        ]
        for name, r in res.items()
    ]
    print(
        f"{LINES * PER_LINE} sensors ({LINES} TCP endpoints x {PER_LINE}) at {1 / PERIOD:.0f} Hz, {seconds:.0f} s each"
    )
    table(
        "Modbus polling",
        ["poller", "sensors", "reads/s", "cores", "jitter p50 ms", "jitter p99 ms", "cycle lag p99 ms", "errors"],
        [[*r[:3], f"{r[3]:.3f}", *r[4:]] for r in rows],
    )
    gw = res["gateway"]
    ratio = gw["cores"] / max(res["baseline"]["cores"], 1e-9)
    print(f"\ngateway CPU {gw['cores']:.3f} core (goal < 0.5), x{ratio:.1f} the baseline; peak RSS {rss_mb():.0f} MB")
    if args.json:
        emit_json(
            {
                "sensors": LINES * PER_LINE,
                "seconds": seconds,
                "rss_mb": round(rss_mb(), 1),
                **{
                    f"{name}_{k}": (round(v, 4) if isinstance(v, float) else v)
                    for name, r in res.items()
                    for k, v in r.items()
                },
            }
        )


if __name__ == "__main__":
    main()
