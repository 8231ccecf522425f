"""Rolls new ops up into the report facts, in SQL, exactly once per op.

The reports never scan ``ops`` (millions of rows, payloads as JSON text): they aggregate small fact
tables, kept here. Each run takes, for every gateway, the ops after its watermark (``rollup_state``),
adds their sums into the facts with ``INSERT .. ON CONFLICT DO UPDATE`` and moves the watermarks, all
in one transaction: an op is counted once or, if the transaction fails, not at all. One worker at a
time (a transaction-scoped advisory lock; the others skip that tick). Every worker runs it every
``WIMS_ROLLUP_INTERVAL_S`` and each report runs it before reading, so a report is current to the
moment it was asked for.

What the facts hold (days and hours in UTC):
- ``fact_stock_daily`` per warehouse, SKU and day: inbound (receive, transfer_in), outbound (ship,
  transfer_out), loss and gain (negative and positive adjust and count deltas) and the on-hand change
  (``net``), matching ``sync.ledger``'s legs: moves, picks, holds and reservations change no on-hand.
- ``fact_operator_daily`` per warehouse, person and day: task lines, pick lines, pick errors (the
  handheld's ``exception`` ops with code ``pick_mismatch``: a wrong item scanned at a pick) and active
  seconds: the time since the person's previous task op, when under ``IDLE_CUTOFF_S`` (a longer gap is
  a break and counts nothing). Devices (``device:...``) and ``system`` actors are not people.
- ``fact_activity_hourly`` per warehouse, hour and op kind: a count.
- ``fact_zone_hourly`` per warehouse, zone and hour: the floor ops (``TASK_KINDS``) touching a location
  of the zone (its ``location``, ``from_location`` or ``to_location``, as the site reported its
  locations), each op once a zone: what the dashboard's slow and idle zone alerts compare.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from cloud.services import Services

log = logging.getLogger(__name__)

CHUNK = 200_000
"""Most ops per gateway in one transaction (a large backlog is rolled up in several)."""
IDLE_CUTOFF_S = 600
LOCK_KEY = 0x5749_4D53_0001  # "WIMS" + 1
TASK_KINDS = (
    "receive",
    "putaway",
    "move",
    "qc_hold",
    "qc_release",
    "pick",
    "pack",
    "ship",
    "transfer_out",
    "transfer_in",
    "adjust",
    "count",
)
PICK_ERROR_CODE = "pick_mismatch"

_KINDS = ", ".join(f"'{k}'" for k in TASK_KINDS)
_PERSON = "actor NOT LIKE 'device:%' AND actor NOT LIKE 'system%'"

_SQL = [
    "SET LOCAL TIME ZONE 'UTC'",
    "INSERT INTO rollup_state (gateway_id, seq) SELECT gateway_id, 0 FROM gateways ON CONFLICT DO NOTHING",
    """CREATE TEMP TABLE rollup_new ON COMMIT DROP AS
    SELECT g.warehouse, o.gateway_id, o.seq, o.kind, o.actor, o.occurred_at, (o.body::jsonb -> 'payload') AS p
    FROM rollup_state r
    JOIN gateways g ON g.gateway_id = r.gateway_id
    CROSS JOIN LATERAL (
        SELECT * FROM ops WHERE ops.gateway_id = r.gateway_id AND ops.seq > r.seq ORDER BY ops.seq LIMIT :chunk
    ) o""",
    """INSERT INTO fact_stock_daily AS f (warehouse, sku, day, inbound, outbound, loss, gain, net)
    SELECT warehouse, p ->> 'sku', occurred_at::date,
      sum(CASE WHEN kind IN ('receive', 'transfer_in') THEN (p ->> 'qty')::bigint ELSE 0 END),
      sum(CASE WHEN kind IN ('ship', 'transfer_out') THEN (p ->> 'qty')::bigint ELSE 0 END),
      sum(CASE WHEN kind = 'adjust' AND (p ->> 'qty_delta')::bigint < 0 THEN -(p ->> 'qty_delta')::bigint
               WHEN kind = 'count' AND (p ->> 'delta')::bigint < 0 THEN -(p ->> 'delta')::bigint ELSE 0 END),
      sum(CASE WHEN kind = 'adjust' AND (p ->> 'qty_delta')::bigint > 0 THEN (p ->> 'qty_delta')::bigint
               WHEN kind = 'count' AND (p ->> 'delta')::bigint > 0 THEN (p ->> 'delta')::bigint ELSE 0 END),
      sum(CASE WHEN kind IN ('receive', 'transfer_in') THEN (p ->> 'qty')::bigint
               WHEN kind IN ('ship', 'transfer_out') THEN -(p ->> 'qty')::bigint
               WHEN kind = 'adjust' THEN (p ->> 'qty_delta')::bigint
               WHEN kind = 'count' THEN (p ->> 'delta')::bigint ELSE 0 END)
    FROM rollup_new
    WHERE kind IN ('receive', 'transfer_in', 'ship', 'transfer_out', 'adjust', 'count')
    GROUP BY 1, 2, 3
    ON CONFLICT (warehouse, sku, day) DO UPDATE SET
      inbound = f.inbound + EXCLUDED.inbound, outbound = f.outbound + EXCLUDED.outbound,
      loss = f.loss + EXCLUDED.loss, gain = f.gain + EXCLUDED.gain, net = f.net + EXCLUDED.net""",
    f"""INSERT INTO fact_operator_daily AS f (warehouse, actor, day, lines, pick_lines, pick_errors, active_s)
    SELECT warehouse, actor, occurred_at::date,
      count(*) FILTER (WHERE kind IN ({_KINDS})),
      count(*) FILTER (WHERE kind = 'pick'),
      count(*) FILTER (WHERE kind = 'exception' AND p ->> 'code' = '{PICK_ERROR_CODE}'),
      coalesce(sum(CASE WHEN gap BETWEEN 0 AND {IDLE_CUTOFF_S} THEN gap ELSE 0 END), 0)
    FROM (
      SELECT t.*, extract(epoch FROM t.occurred_at - coalesce(t.prev, a.last_at)) AS gap
      FROM (
        SELECT warehouse, actor, kind, occurred_at, p,
          lag(occurred_at) OVER (PARTITION BY warehouse, actor ORDER BY occurred_at, gateway_id, seq) AS prev
        FROM rollup_new WHERE {_PERSON} AND (kind IN ({_KINDS}) OR kind = 'exception')
      ) t
      LEFT JOIN rollup_actor a ON a.warehouse = t.warehouse AND a.actor = t.actor
    ) x
    GROUP BY 1, 2, 3
    ON CONFLICT (warehouse, actor, day) DO UPDATE SET
      lines = f.lines + EXCLUDED.lines, pick_lines = f.pick_lines + EXCLUDED.pick_lines,
      pick_errors = f.pick_errors + EXCLUDED.pick_errors, active_s = f.active_s + EXCLUDED.active_s""",
    f"""INSERT INTO rollup_actor AS a (warehouse, actor, last_at)
    SELECT warehouse, actor, max(occurred_at) FROM rollup_new
    WHERE {_PERSON} AND (kind IN ({_KINDS}) OR kind = 'exception')
    GROUP BY 1, 2
    ON CONFLICT (warehouse, actor) DO UPDATE SET last_at = greatest(a.last_at, EXCLUDED.last_at)""",
    """INSERT INTO fact_activity_hourly AS f (warehouse, hour, kind, ops)
    SELECT warehouse, date_trunc('hour', occurred_at), kind, count(*) FROM rollup_new GROUP BY 1, 2, 3
    ON CONFLICT (warehouse, hour, kind) DO UPDATE SET ops = f.ops + EXCLUDED.ops""",
    f"""INSERT INTO fact_zone_hourly AS f (warehouse, zone, hour, ops)
    SELECT n.warehouse, l.zone, date_trunc('hour', n.occurred_at), count(DISTINCT (n.gateway_id, n.seq))
    FROM rollup_new n
    CROSS JOIN LATERAL (VALUES (n.p ->> 'location'), (n.p ->> 'from_location'), (n.p ->> 'to_location')) AS x(loc)
    JOIN site_locations l ON l.warehouse = n.warehouse AND l.code = x.loc
    WHERE n.kind IN ({_KINDS})
    GROUP BY 1, 2, 3
    ON CONFLICT (warehouse, zone, hour) DO UPDATE SET ops = f.ops + EXCLUDED.ops""",
    """UPDATE rollup_state r SET seq = m.seq
    FROM (SELECT gateway_id, max(seq) AS seq FROM rollup_new GROUP BY 1) m
    WHERE r.gateway_id = m.gateway_id""",
]


def rollup_once(conn: Connection, *, chunk: int = CHUNK, wait: bool = False) -> int | None:
    """One transaction's worth (the caller's): the number of ops rolled up, or ``None`` when another
    worker holds the lock (``wait=False``)."""
    lock = "pg_advisory_xact_lock" if wait else "pg_try_advisory_xact_lock"
    got = conn.execute(sa.text(f"SELECT {lock}(:k)"), {"k": LOCK_KEY}).scalar()
    if not wait and not got:
        return None
    n = 0
    for i, stmt in enumerate(_SQL):
        conn.execute(sa.text(stmt), {"chunk": chunk})
        if i == 2:
            n = int(conn.execute(sa.text("SELECT count(*) FROM rollup_new")).scalar() or 0)
            if n == 0:
                conn.execute(sa.text("DROP TABLE rollup_new"))
                return 0
    return n


def catch_up(engine: Any, *, chunk: int = CHUNK, wait: bool = False) -> int:
    """Roll up until nothing new is left (or another worker has it): the ops rolled up."""
    total = 0
    while True:
        with engine.begin() as conn:
            n = rollup_once(conn, chunk=chunk, wait=wait)
        if not n:
            return total
        total += n
        if n < chunk:
            return total


async def rollup_loop(services: Services) -> None:
    every = services.settings.rollup_interval_s
    while True:
        # The thread cannot be interrupted: on cancel, wait for it, so that its connection goes back to the
        # pool before the engine is disposed (a connection still checked out then stays open until gc).
        step = asyncio.ensure_future(asyncio.to_thread(catch_up, services.engine))
        try:
            await asyncio.shield(step)
        except asyncio.CancelledError:
            await asyncio.wait({step})
            raise
        except Exception as exc:  # a database outage: the next tick tries again
            log.warning("report rollup failed: %s", exc)
        await services.clock.sleep(every)
