"""A gateway offline for 72 simulated hours keeps working inside its bounds, then drains fast.

Simulated time (a ManualClock drives the gateway, the agent's backoff and the readings): 72 hours of
100 sensors and a stream of ops, with the cloud unreachable. The op rate is scaled down from the
issue's 20 ops/s (one op per 5 simulated seconds, 51,840 ops) so the test runs in seconds; the
telemetry bound is what the test is about, and it is exercised at full scale of minutes and sensors
(432,000 sensor-minutes against a bound of 100,000 aggregates). The full-rate drain figure is in
bench/sync.py.
"""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest

from cloud.devserver import free_port
from edge.config import parse_config
from edge.daemon import Gateway
from sync.clock import ManualClock
from sync.codes import gtin14
from sync.ops import OpDraft
from tests.sync.harness import LOCS, SKUS, CloudProcess, edge_stock

HOURS = 72
SENSORS = 100
OP_EVERY_S = 5
READING_EVERY_S = 30
MAX_RAW = 50_000
MAX_AGGREGATES = 100_000


@pytest.mark.slow
async def test_72_hours_offline_then_drain(tmp_path: Path) -> None:
    port = free_port()
    cloud = CloudProcess(f"sqlite:///{tmp_path / 'cloud.sqlite'}", port=port)
    token = cloud.register("gw-off", "WH-OFF")
    cfg = parse_config(
        {
            "site": {"gateway_id": "gw-off", "warehouse": "WH-OFF"},
            "store": {
                "path": str(tmp_path / "edge.sqlite"),
                "telemetry_max_raw": MAX_RAW,
                "telemetry_max_aggregates": MAX_AGGREGATES,
            },
            "zones": [{"code": "Z"}],
            "locations": [{"code": c, "zone": "Z"} for c in LOCS],
            "skus": [{"code": s, "gtin": gtin14(i + 1)} for i, s in enumerate(SKUS)],
            "sync": {
                "url": cloud.url,
                "token": token,
                "backoff_max_seconds": 60,
                "batch_max_ops": 2000,
                "timeout_seconds": 5,
            },
        }
    )
    clock = ManualClock(datetime(2026, 11, 20, tzinfo=UTC))
    ops = 0
    async with Gateway(cfg, clock=clock, serve_api=False, telemetry_flush_seconds=60) as gw:
        stop = asyncio.Event()
        runner = asyncio.create_task(gw.run(stop))
        assert gw.ctx is not None
        telemetry = gw.ctx.telemetry
        for step in range(HOURS * 3600 // OP_EVERY_S):
            t = step * OP_EVERY_S
            await gw.journal.append(
                OpDraft(
                    payload={
                        "kind": "receive",
                        "sku": SKUS[step % len(SKUS)],
                        "location": LOCS[step % len(LOCS)],
                        "qty": 1,
                    },  # type: ignore[arg-type]
                    actor="offline",
                    occurred_at=clock.now(),
                )
            )
            ops += 1
            if t % READING_EVERY_S == 0:
                for s in range(SENSORS):
                    telemetry.record(f"t{s:03d}", 4.0 + (s % 7) * 0.1, clock.now())
            if t % 3600 == 0:  # hourly: let the flusher and the retrying agent run on simulated time
                await clock.advance(OP_EVERY_S, step=OP_EVERY_S)
                assert telemetry.pending < 50_000  # the in-memory side stays bounded too
            else:
                clock._t += OP_EVERY_S  # plain time passing between hourly wake-ups
        await clock.advance(120, step=60)
        await telemetry.flush()
        raw = await telemetry.raw_count()
        aggs = len(await telemetry.aggregates(limit=10**6))
        assert raw <= MAX_RAW and aggs <= MAX_AGGREGATES  # the buffer stayed inside its bounds
        assert telemetry.m_thinned._value.get() > 0  # type: ignore[attr-defined]  # by thinning telemetry
        assert gw.journal.head()[0] == ops  # and no op was lost
        assert gw.sync is not None and gw.sync.agent.status.acked_seq == 0
        assert gw.sync.agent.status.consecutive_errors > 0

        cloud.start()  # the link returns
        try:
            t0 = time.perf_counter()
            while gw.sync.agent.status.acked_seq < ops:
                await clock.advance(60, step=1)  # wake the agent out of its backoff
                await asyncio.sleep(0.01)
                assert time.perf_counter() - t0 < 120, gw.sync.snapshot()
            drain_rate = ops / (time.perf_counter() - t0)
            live_rate = 20
            assert drain_rate > 10 * live_rate, drain_rate
            assert cloud.verify_chain("gw-off") == ops
            assert cloud.stock("WH-OFF") == edge_stock(gw)
            for _ in range(200):  # telemetry follows, at lower priority, once ops are through
                if gw.sync.agent.status.telemetry_sent >= aggs:
                    break
                await clock.advance(5, step=1)
                await asyncio.sleep(0.05)
            stored = cloud.query("SELECT count(*) FROM telemetry_minutes WHERE gateway_id = 'gw-off'")[0][0]
            assert stored == aggs
        finally:
            stop.set()
            await runner
            cloud.stop()
    print(
        f"offline 72 h: {ops} ops kept, raw readings {raw} (bound {MAX_RAW}), aggregates {aggs} "
        f"(bound {MAX_AGGREGATES}); drained at {drain_rate:,.0f} ops/s"
    )
