"""Edge -> cloud sync: latency to the cloud's live event, and how fast a backlog drains.

1. Latency: a gateway appends ops at a steady 100 ops/s; for each op, the time from ``append``
   returning to the cloud's server-sent ``stock`` event that covers it (``acked_seq >= seq``), seen by
   a subscriber on ``GET /v1/events``. Goal p95 < 250 ms (the user's bar is 1 s).
2. Drain: a gateway holding a backlog (100,000 ops; 20,000 with --quick) comes online; ops/s until the
   cloud acknowledged all of it. Goal >= 10,000 ops/s.
3. Baseline, same run, same cloud: the cloud's ingest alone, batches of 500 already-sealed ops POSTed
   back to back by one client (no edge, no journal reads, no gzip).

The cloud runs as a real uvicorn process on PostgreSQL (127.0.0.1:5432, a database made for the run
and dropped after), or on SQLite with ``--sqlite``.

    python -m bench.sync [--quick] [--json] [--sqlite]
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import statistics
import tempfile
import time
import uuid
from pathlib import Path

import httpx
import psycopg

from bench._common import emit_json, parser, rss_mb, table
from cloud.devserver import CloudProcess
from edge.config import SiteConfig, parse_config
from edge.daemon import Gateway
from sync.canonical import GENESIS_HASH, iso_utc, seal_canonical
from sync.codes import gtin14
from sync.ops import OpDraft, ReceivePayload, utc_now

PG_ADMIN = "postgresql://postgres@127.0.0.1:5432/test"
SKUS = [f"SKU-{i}" for i in range(50)]
LOCS = [f"L-{i}" for i in range(20)]


def _site(tmp: Path, gw: str, wh: str, url: str | None, token: str | None) -> SiteConfig:
    return parse_config(
        {
            "site": {"gateway_id": gw, "warehouse": wh},
            "store": {"path": str(tmp / f"{gw}.sqlite")},
            "zones": [{"code": "Z"}],
            "locations": [{"code": c, "zone": "Z"} for c in LOCS],
            "skus": [{"code": s, "gtin": gtin14(i + 1)} for i, s in enumerate(SKUS)],
            "sync": {"url": url, "token": token, "batch_max_ops": 2000, "poll_wait_seconds": 20} if url else {},
        }
    )


def _draft(i: int) -> OpDraft:
    return OpDraft(
        payload=ReceivePayload(sku=SKUS[i % len(SKUS)], location=LOCS[i % len(LOCS)], qty=1),
        actor="bench",
        occurred_at=utc_now(),
    )


async def _latency(tmp: Path, cloud: CloudProcess, user_token: str, seconds: float) -> list[float]:
    token = cloud.register("gw-lat", "WH-LAT")
    cfg = _site(tmp, "gw-lat", "WH-LAT", cloud.url, token)
    appended: dict[int, float] = {}
    latencies: list[float] = []
    connected = asyncio.Event()

    async def subscribe() -> None:
        async with (
            httpx.AsyncClient(timeout=None) as http,
            http.stream(
                "GET",
                f"{cloud.url}/v1/events",
                params={"warehouse": "WH-LAT"},
                headers={"Authorization": f"Bearer {user_token}"},
            ) as r,
        ):
            async for line in r.aiter_lines():
                connected.set()
                if not line.startswith("data:"):
                    continue
                now = time.perf_counter()
                event = json.loads(line[5:])
                acked = int(event.get("acked_seq", 0))
                for seq in [s for s in appended if s <= acked]:
                    latencies.append(now - appended.pop(seq))

    async with Gateway(cfg, serve_api=False) as gw:
        stop = asyncio.Event()
        runner = asyncio.create_task(gw.run(stop))
        sub = asyncio.create_task(subscribe())
        await asyncio.wait_for(connected.wait(), 30)
        t0 = time.perf_counter()
        i = 0
        while time.perf_counter() - t0 < seconds:
            op = await gw.journal.append(_draft(i))
            appended[op.seq] = time.perf_counter()
            i += 1
            await asyncio.sleep(max(0.0, t0 + i / 100 - time.perf_counter()))  # 100 ops/s, steady
        deadline = time.perf_counter() + 10
        while appended and time.perf_counter() < deadline:
            await asyncio.sleep(0.05)
        sub.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await sub
        stop.set()
        await runner
    return latencies


async def _drain(tmp: Path, cloud: CloudProcess, backlog: int) -> tuple[float, float]:
    token = cloud.register("gw-drain", "WH-DRAIN")
    offline = _site(tmp, "gw-drain", "WH-DRAIN", None, None)
    async with Gateway(offline, serve_api=False) as gw:  # build the backlog with no link
        for start in range(0, backlog, 1000):
            await asyncio.gather(*(gw.journal.append(_draft(i)) for i in range(start, min(backlog, start + 1000))))
    online = _site(tmp, "gw-drain", "WH-DRAIN", cloud.url, token)
    async with Gateway(online, serve_api=False) as gw:
        stop = asyncio.Event()
        t0 = time.perf_counter()
        runner = asyncio.create_task(gw.run(stop))
        while gw.sync is None or gw.sync.agent.status.acked_seq < backlog:
            await asyncio.sleep(0.02)
        elapsed = time.perf_counter() - t0
        stop.set()
        await runner
    return backlog / elapsed, elapsed


def _ingest_alone(cloud: CloudProcess, n: int) -> float:
    token = cloud.register("gw-raw", "WH-RAW")
    bodies, head = [], GENESIS_HASH
    rec = iso_utc(_draft(0).occurred_at)
    for seq in range(1, n + 1):
        text, h = seal_canonical(_draft(seq), gateway_id="gw-raw", seq=seq, prev_hash=head, recorded_at=rec)
        bodies.append(f'{text[:-1]},"hash":"{h}"}}')
        head = h
    with httpx.Client(base_url=cloud.url, timeout=120, headers={"Authorization": f"Bearer {token}"}) as http:
        t0 = time.perf_counter()
        for i in range(0, n, 500):
            payload = '{"ops":[' + ",".join(bodies[i : i + 500]) + "]}"
            r = http.post("/v1/gateways/gw-raw/ops", content=payload, headers={"Content-Type": "application/json"})
            r.raise_for_status()
        return n / (time.perf_counter() - t0)


def _pct(xs: list[float], q: float) -> float:
    return statistics.quantiles(xs, n=100)[int(q * 100) - 1] * 1000 if len(xs) >= 2 else float("nan")


def main() -> None:
    p = parser(__doc__ or "")
    p.add_argument("--sqlite", action="store_true", help="run the cloud on SQLite instead of PostgreSQL")
    args = p.parse_args()
    seconds, backlog, raw_n = (10, 20_000, 20_000) if args.quick else (60, 100_000, 100_000)
    with tempfile.TemporaryDirectory(prefix="wims-bench-sync-") as d:
        tmp = Path(d)
        dbname = f"wims_bench_{uuid.uuid4().hex[:10]}"
        if args.sqlite:
            url = f"sqlite:///{tmp / 'cloud.sqlite'}"
        else:
            with psycopg.connect(PG_ADMIN, autocommit=True) as c:
                c.execute(f'CREATE DATABASE "{dbname}"')
            url = f"postgresql+psycopg://postgres@127.0.0.1:5432/{dbname}"
        cloud = CloudProcess(url)
        try:
            cloud.add_user("bench", "auditor", "bench-password-1")
            cloud.start()
            user_token = cloud.login("bench", "bench-password-1")
            lat = asyncio.run(_latency(tmp, cloud, user_token, seconds))
            drain_rate, drain_s = asyncio.run(_drain(tmp, cloud, backlog))
            raw_rate = _ingest_alone(cloud, raw_n)
        finally:
            cloud.stop()
            if not args.sqlite:
                with psycopg.connect(PG_ADMIN, autocommit=True) as c:
                    c.execute(f'DROP DATABASE IF EXISTS "{dbname}" WITH (FORCE)')
    backend = "sqlite" if args.sqlite else "postgresql"
    figures = {
        "cloud_db": backend,
        "latency_ops": len(lat),
        "latency_p50_ms": round(_pct(lat, 0.50), 1),
        "latency_p95_ms": round(_pct(lat, 0.95), 1),
        "latency_p99_ms": round(_pct(lat, 0.99), 1),
        "drain_backlog_ops": backlog,
        "drain_ops_per_s": round(drain_rate),
        "cloud_ingest_alone_ops_per_s": round(raw_rate),
        "drain_vs_ingest": round(drain_rate / raw_rate, 3),
        "rss_mb": round(rss_mb(), 1),
        "goal": {"latency_p95_ms": 250, "drain_ops_per_s": 10_000},
    }
    table(
        f"edge append -> cloud SSE event, 100 ops/s for {seconds} s (cloud on {backend})",
        ["ops", "p50 ms", "p95 ms", "p99 ms", "goal p95"],
        [[len(lat), figures["latency_p50_ms"], figures["latency_p95_ms"], figures["latency_p99_ms"], "< 250"]],
    )
    table(
        "backlog drain vs the cloud's ingest alone (same cloud, same run)",
        ["backlog", "drain s", "drain ops/s", "ingest alone ops/s", "drain/ingest", "goal"],
        [
            [
                backlog,
                round(drain_s, 1),
                round(drain_rate),
                round(raw_rate),
                f"{100 * drain_rate / raw_rate:.0f}%",
                ">= 10,000 ops/s",
            ]
        ],
    )
    print(f"\npeak RSS of this process (edge gateways + bench client): {figures['rss_mb']} MB")
    if args.json:
        emit_json(figures)


if __name__ == "__main__":
    main()
