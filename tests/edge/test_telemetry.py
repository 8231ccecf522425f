"""The telemetry buffer stays in bound under any backlog, keeping 1-minute aggregates exact."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

from edge.store.journal import Journal
from edge.store.telemetry import TelemetryBuffer


async def test_aggregates_are_exact_and_raw_is_thinned(journal: Journal) -> None:
    buf = TelemetryBuffer(journal, max_raw=1000, max_aggregates=10_000)
    t0 = datetime(2026, 11, 24, tzinfo=UTC)
    for i in range(6000):  # 100 minutes of one sensor at 1 Hz
        buf.record("t1", 5.0 + (i % 60) / 10, t0 + timedelta(seconds=i))
        if i % 500 == 499:
            await buf.flush()
    await buf.flush()
    raw = await buf.raw_count()
    assert raw <= 1000
    aggs = await buf.aggregates()
    assert len(aggs) == 100
    assert all(a.n == 60 and a.vmin == 5.0 and a.vmax == 10.9 for a in aggs)
    assert abs(aggs[0].vavg - 7.95) < 1e-9
    assert buf.m_thinned._value.get() == 6000 - raw  # type: ignore[attr-defined]
    # the newest readings keep full resolution: thinning takes from the old end
    conn = journal.write_connection
    newest = [r[0] for r in conn.execute("SELECT ts FROM telemetry_raw ORDER BY id DESC LIMIT 100")]
    assert all(a - b == 1.0 for a, b in itertools.pairwise(newest))


async def test_flood_before_flush_is_bounded_and_counted(journal: Journal) -> None:
    buf = TelemetryBuffer(journal, max_raw=100_000, max_pending=1000)
    t0 = datetime(2026, 11, 24, tzinfo=UTC)
    for i in range(5000):
        buf.record(f"s{i % 10}", 1.0, t0 + timedelta(milliseconds=i))
    assert buf.pending == 1000
    assert buf.m_dropped._value.get() == 4000  # type: ignore[attr-defined]
    assert await buf.flush() == 1000


async def test_aggregates_bounded_dropping_synced_first(journal: Journal) -> None:
    buf = TelemetryBuffer(journal, max_raw=100_000, max_aggregates=200)
    t0 = datetime(2026, 11, 24, tzinfo=UTC)
    for m in range(150):
        buf.record("a", 1.0, t0 + timedelta(minutes=m))
    await buf.flush()
    journal.write_connection.execute(
        "UPDATE telemetry_agg SET synced = 1 WHERE minute < ?", (int(t0.timestamp() // 60) + 100,)
    )
    for m in range(150, 300):
        buf.record("a", 1.0, t0 + timedelta(minutes=m))
    await buf.flush()
    aggs = await buf.aggregates()
    assert len(aggs) == 200
    first = int(t0.timestamp() // 60)
    assert aggs[0].minute == first + 100  # the 100 synced (oldest) went; every unsynced one stayed
