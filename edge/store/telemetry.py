"""The telemetry buffer: sensor readings, kept apart from ops, bounded whatever the backlog.

Readings are not ops: losing resolution on an old reading is acceptable, losing an op is not. Every
reading updates a 1-minute min/avg/max aggregate (what goes to the cloud); raw readings are kept too,
up to ``max_raw`` rows, beyond which the oldest half is thinned (every second reading dropped), so a
gateway offline for days keeps recent detail and a coarser past in constant space. Aggregates are
bounded as well: past ``max_aggregates`` the oldest already-synced ones go first, then the oldest.

``record`` never blocks and never touches the disk: readings gather in memory (bounded; a flood beyond
it drops the oldest and counts them) and ``flush`` writes them in one transaction through the journal's
writer, between group commits.
"""

from __future__ import annotations

import sqlite3
from collections import deque
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge

from edge.store.journal import Journal


@dataclass(frozen=True, slots=True)
class Aggregate:
    sensor_id: str
    minute: int  # minutes since the Unix epoch, UTC
    n: int
    vmin: float
    vmax: float
    vavg: float


class TelemetryBuffer:
    def __init__(
        self,
        journal: Journal,
        *,
        max_raw: int = 200_000,
        max_aggregates: int = 500_000,
        max_pending: int = 50_000,
        registry: CollectorRegistry | None = None,
    ) -> None:
        self._journal = journal
        self.max_raw = max_raw
        self.max_aggregates = max_aggregates
        self._pending: deque[tuple[str, float, float]] = deque(maxlen=max_pending)
        self._raw_count: int | None = None
        self._agg_count: int | None = None
        reg = registry or CollectorRegistry()
        self.m_recorded = Counter("wims_telemetry_readings", "Readings recorded", registry=reg)
        self.m_dropped = Counter(
            "wims_telemetry_dropped", "Readings dropped before reaching disk (flood)", registry=reg
        )
        self.m_thinned = Counter("wims_telemetry_thinned", "Raw readings thinned to stay in bound", registry=reg)
        self.m_raw = Gauge("wims_telemetry_raw_rows", "Raw readings held", registry=reg)
        self.m_agg = Gauge("wims_telemetry_aggregate_rows", "1-minute aggregates held", registry=reg)

    def record(self, sensor_id: str, value: float, at: datetime) -> None:
        """Take one reading; cheap enough for any poll rate."""
        if len(self._pending) == self._pending.maxlen:
            self.m_dropped.inc()
        self._pending.append((sensor_id, at.timestamp(), float(value)))
        self.m_recorded.inc()

    @property
    def pending(self) -> int:
        return len(self._pending)

    async def flush(self) -> int:
        """Write what has gathered; returns the number of readings written."""
        if not self._pending:
            return 0
        batch = list(self._pending)
        self._pending.clear()
        await self._journal.run_write(self._write, batch)
        return len(batch)

    def _write(self, batch: list[tuple[str, float, float]]) -> None:
        conn = self._journal.write_connection
        if self._raw_count is None:
            self._raw_count = conn.execute("SELECT count(*) FROM telemetry_raw").fetchone()[0]
            self._agg_count = conn.execute("SELECT count(*) FROM telemetry_agg").fetchone()[0]
        aggs: dict[tuple[str, int], list[float]] = {}
        for sensor, ts, v in batch:
            key = (sensor, int(ts // 60))
            a = aggs.get(key)
            if a is None:
                aggs[key] = [1, v, v, v]
            else:
                a[0] += 1
                a[1] = min(a[1], v)
                a[2] = max(a[2], v)
                a[3] += v
        conn.execute("BEGIN IMMEDIATE")
        try:
            conn.executemany("INSERT INTO telemetry_raw(sensor_id, ts, value) VALUES (?,?,?)", batch)
            conn.executemany(
                "INSERT INTO telemetry_agg(sensor_id, minute, n, vmin, vmax, vsum) VALUES (?,?,?,?,?,?)"
                " ON CONFLICT(sensor_id, minute) DO UPDATE SET n = n + excluded.n,"
                " vmin = min(vmin, excluded.vmin), vmax = max(vmax, excluded.vmax), vsum = vsum + excluded.vsum,"
                " synced = 0",
                [(s, m, int(a[0]), a[1], a[2], a[3]) for (s, m), a in aggs.items()],
            )
            self._agg_count = conn.execute("SELECT count(*) FROM telemetry_agg").fetchone()[0]
            self._raw_count += len(batch)
            if self._raw_count > self.max_raw:
                self._thin_raw(conn)
            if self._agg_count > self.max_aggregates:
                self._trim_aggregates(conn)
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            self._raw_count = self._agg_count = None
            raise
        self.m_raw.set(self._raw_count)
        self.m_agg.set(self._agg_count)

    def _thin_raw(self, conn: sqlite3.Connection) -> None:
        """Drop every second reading of the oldest half, repeatedly until within bound."""
        assert self._raw_count is not None
        while self._raw_count > self.max_raw:
            half = self._raw_count // 2
            cur = conn.execute(
                "DELETE FROM telemetry_raw WHERE id IN (SELECT id FROM (SELECT id, row_number() OVER"
                " (ORDER BY id) AS rn FROM telemetry_raw ORDER BY id LIMIT ?) WHERE rn % 2 = 0)",
                (max(half, 2),),
            )
            if cur.rowcount <= 0:
                break
            self._raw_count -= cur.rowcount
            self.m_thinned.inc(cur.rowcount)

    def _trim_aggregates(self, conn: sqlite3.Connection) -> None:
        assert self._agg_count is not None
        excess = self._agg_count - self.max_aggregates
        for synced_only in (True, False):
            if excess <= 0:
                break
            cond = "WHERE synced = 1" if synced_only else ""
            cur = conn.execute(
                f"DELETE FROM telemetry_agg WHERE (sensor_id, minute) IN (SELECT sensor_id, minute"
                f" FROM telemetry_agg {cond} ORDER BY minute LIMIT ?)",
                (excess,),
            )
            excess -= cur.rowcount
            self._agg_count -= cur.rowcount

    async def aggregates(self, *, unsynced_only: bool = False, limit: int = 10_000) -> list[Aggregate]:
        def read() -> list[Aggregate]:
            sql = "SELECT sensor_id, minute, n, vmin, vmax, vsum FROM telemetry_agg"
            if unsynced_only:
                sql += " WHERE synced = 0"
            sql += " ORDER BY minute, sensor_id LIMIT ?"
            rows = self._journal.write_connection.execute(sql, (limit,)).fetchall()
            return [Aggregate(s, m, n, lo, hi, total / n) for s, m, n, lo, hi, total in rows]

        result: list[Aggregate] = await self._journal.run_write(read)
        return result

    async def raw_count(self) -> int:
        def count() -> int:
            return int(self._journal.write_connection.execute("SELECT count(*) FROM telemetry_raw").fetchone()[0])

        result: int = await self._journal.run_write(count)
        return result


def read_unsynced(conn: sqlite3.Connection, limit: int) -> list[dict[str, Any]]:
    """1-minute aggregates the cloud has not acknowledged, oldest first (what the sync agent sends)."""
    rows = conn.execute(
        "SELECT sensor_id, minute, n, vmin, vmax, vsum FROM telemetry_agg WHERE synced = 0 "
        "ORDER BY minute, sensor_id LIMIT ?",
        (limit,),
    ).fetchall()
    return [
        {"sensor_id": s, "minute": m, "n": n, "vmin": lo, "vmax": hi, "vsum": total} for s, m, n, lo, hi, total in rows
    ]


def mark_synced(conn: sqlite3.Connection, aggregates: list[dict[str, Any]]) -> None:
    """Mark exactly these aggregates synced: a minute that grew since it was read (``n`` differs) stays unsynced."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        conn.executemany(
            "UPDATE telemetry_agg SET synced = 1 WHERE sensor_id = ? AND minute = ? AND n = ?",
            [(a["sensor_id"], a["minute"], a["n"]) for a in aggregates],
        )
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise
