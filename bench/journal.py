"""Durable appends per second through the edge journal, next to raw sqlite3 doing the same writes.

For 1, 10 and 100 concurrent appenders, each appender awaits ``journal.append`` in a loop (so an op
counts only once it is durable). The baseline, measured in the same run on the same disk, is plain
``sqlite3``: ``executemany`` of the same journal rows and the same stock upserts into the same tables
(the journal's own schema, indexes included), committed with the same durability (WAL,
synchronous=FULL) in groups of the same size as the appenders (one group per round of
acknowledgements): the physical limit of this machine for that durability, with none of the
journal's work (validation, hashing, the chain, futures). The journal itself writes with multi-row
``INSERT ... VALUES`` statements, which are faster than ``executemany``; raw writes done that way
are shown beside the baseline, so the table also says how the journal does against the fastest raw
write we know. Drafts are built before the clock starts:
building an op is the caller's cost, not the journal's. They are dealt to the appenders round-robin,
so a group commit holds drafts made one after another, as on a gateway (op_ids are UUIDv7, ordered
by creation time) and as in the raw groups; dealt in contiguous slices, each group would scatter its
op_id index inserts over the whole index (4x the pages written per commit, measured).

    python -m bench.journal [--quick] [--json]
"""

from __future__ import annotations

import asyncio
import gc
import itertools
import os
import statistics
import tempfile
import time
from pathlib import Path

from bench._common import current_rss_mb, emit_json, parser, rss_mb, table
from edge.config import parse_config
from edge.store.bulk import insert_rows
from edge.store.commit_plan import JOURNAL_COLUMNS, STOCK_COLUMNS
from edge.store.journal import JOURNAL_INSERT, STOCK_UPSERT, STOCK_UPSERT_TAIL, Journal
from edge.store.masterdata import MasterData
from edge.store.schema import connect, migrate
from sync.canonical import iso_utc, seal_canonical
from sync.codes import gtin14
from sync.ops import GENESIS_HASH, OpDraft, ReceivePayload, utc_now

SKUS = [f"SKU-{i:03d}" for i in range(200)]
LOCS = [f"L-{i:02d}" for i in range(40)]


def _site(tmp: Path) -> MasterData:
    cfg = parse_config(
        {
            "site": {"gateway_id": "gw-bench", "warehouse": "WH-B"},
            "zones": [{"code": "Z"}],
            "locations": [{"code": c, "zone": "Z"} for c in LOCS],
            "skus": [{"code": s, "gtin": gtin14(i + 1)} for i, s in enumerate(SKUS)],
        }
    )
    return MasterData.from_config(cfg)


def _drafts(n: int) -> list[OpDraft]:
    return [
        OpDraft(
            payload=ReceivePayload(sku=SKUS[i % len(SKUS)], location=LOCS[i % len(LOCS)], qty=1 + i % 7),
            actor="bench",
            device_id="bench",
            occurred_at=utc_now(),
        )
        for i in range(n)
    ]


async def _journal_run(tmp: Path, appenders: int, total: int) -> tuple[float, list[float], float]:
    """Ops/s, each append's latency, and how far resident memory rose above the prebuilt drafts."""
    per = total // appenders
    drafts = _drafts(per * appenders)
    gc.collect()
    gc.freeze()  # the prebuilt inputs are not the journal's garbage: keep the collector off them
    lat: list[float] = []
    base_rss = peak_rss = current_rss_mb()

    async def sample_rss() -> None:
        nonlocal peak_rss
        while True:
            peak_rss = max(peak_rss, current_rss_mb())
            await asyncio.sleep(0.05)

    async with Journal(
        tmp / f"j{appenders}.sqlite", gateway_id="gw-bench", warehouse="WH-B", master=_site(tmp)
    ) as journal:

        async def worker(mine: list[OpDraft]) -> None:
            for d in mine:
                t = time.perf_counter()
                await journal.append(d)
                lat.append(time.perf_counter() - t)

        sampler = asyncio.create_task(sample_rss())
        t0 = time.perf_counter()
        await asyncio.gather(*(worker(drafts[i::appenders]) for i in range(appenders)))
        elapsed = time.perf_counter() - t0
        sampler.cancel()
        peak_rss = max(peak_rss, current_rss_mb())
    return per * appenders / elapsed, lat, peak_rss - base_rss


def _raw_run(tmp: Path, group: int, total: int, *, multirow: bool = False) -> float:
    """Same rows, same tables, same durability, plain sqlite3, commits of ``group`` rows.

    The tables are the journal's own (its migrations), so the raw writes maintain the same indexes.
    ``executemany`` is the baseline the goal names; ``multirow`` writes the rows with the multi-row
    ``INSERT ... VALUES`` statements the journal uses (``edge.store.bulk``), the fastest raw write
    we know, shown beside it.
    """
    path = tmp / f"raw{group}{'m' if multirow else ''}.sqlite"
    conn = connect(str(path))
    migrate(conn)
    drafts = _drafts(total)
    rec = iso_utc(drafts[0].occurred_at)
    rows, head = [], GENESIS_HASH  # prepared outside the clock: only the database work is timed
    for seq, d in enumerate(drafts, 1):
        text, h = seal_canonical(d, gateway_id="gw-bench", seq=seq, prev_hash=head, recorded_at=rec)
        rows.append((seq, str(d.op_id), "receive", rec, rec, "bench", "bench", text, h, head, None))
        head = h
    stock = [("WH-B", d.payload.sku, "", d.payload.location, "available", d.payload.qty) for d in drafts]  # type: ignore[union-attr]
    insert_op = f"{JOURNAL_INSERT} VALUES ({','.join('?' * len(JOURNAL_COLUMNS))})"
    upsert_stock = f"{STOCK_UPSERT} VALUES ({','.join('?' * len(STOCK_COLUMNS))}){STOCK_UPSERT_TAIL}"
    flat = itertools.chain.from_iterable
    groups = [(rows[i : i + group], stock[i : i + group]) for i in range(0, total, group)]
    if multirow:  # the flat values are the caller's to build, as the journal's planner builds them
        groups = [(list(flat(r)), list(flat(s))) for r, s in groups]
    t0 = time.perf_counter()
    for journal_rows, stock_rows in groups:
        conn.execute("BEGIN IMMEDIATE")
        if multirow:
            insert_rows(conn, JOURNAL_INSERT, len(JOURNAL_COLUMNS), journal_rows)
            insert_rows(conn, STOCK_UPSERT, len(STOCK_COLUMNS), stock_rows, STOCK_UPSERT_TAIL)
        else:
            conn.executemany(insert_op, journal_rows)
            conn.executemany(upsert_stock, stock_rows)
        conn.execute("COMMIT")
    elapsed = time.perf_counter() - t0
    conn.close()
    return total / elapsed


def _p(lat: list[float], q: float) -> float:
    return statistics.quantiles(lat, n=1000)[int(q * 1000) - 1] * 1000 if len(lat) > 10 else max(lat) * 1000


def main() -> None:
    args = parser(__doc__ or "").parse_args()
    sizes = {1: 2_000, 10: 20_000, 100: 40_000} if args.quick else {1: 5_000, 10: 50_000, 100: 200_000}
    rows, figures = [], {}
    with tempfile.TemporaryDirectory(prefix="wims-bench-", dir=os.environ.get("WIMS_BENCH_DIR")) as d:
        tmp = Path(d)
        for appenders, total in sizes.items():
            ops_s, lat, rss_growth = asyncio.run(_journal_run(tmp, appenders, total))
            raw_s = _raw_run(tmp, appenders, total)
            multirow_s = _raw_run(tmp, appenders, total, multirow=True)
            p50, p99 = _p(lat, 0.5), _p(lat, 0.99)
            rows.append(
                [
                    appenders,
                    total,
                    ops_s,
                    raw_s,
                    f"{100 * ops_s / raw_s:.0f}%",
                    multirow_s,
                    f"{100 * ops_s / multirow_s:.0f}%",
                    p50,
                    p99,
                    rss_growth,
                ]
            )
            figures[f"appenders_{appenders}"] = {
                "ops_per_s": round(ops_s),
                "raw_ops_per_s": round(raw_s),
                "ratio": round(ops_s / raw_s, 3),
                "raw_multirow_ops_per_s": round(multirow_s),
                "ratio_multirow": round(ops_s / multirow_s, 3),
                "p50_ms": round(p50, 3),
                "p99_ms": round(p99, 3),
                "journal_rss_growth_mb": round(rss_growth, 1),
            }
    figures["rss_mb"] = round(rss_mb(), 1)
    figures["goal"] = {"ops_per_s_at_100": 20_000, "ratio_at_100": 0.5, "p99_ms": 20}
    table(
        "durable appends (WAL, synchronous=FULL); raw = sqlite3 executemany of the same rows into the same"
        " tables, same group size; multi-row = raw with multi-row INSERT .. VALUES",
        [
            "appenders",
            "ops",
            "journal ops/s",
            "raw ops/s",
            "journal/raw",
            "multi-row ops/s",
            "journal/multi-row",
            "p50 ms",
            "p99 ms",
            "RSS +MB",
        ],
        rows,
    )
    print(
        f"\npeak RSS {figures['rss_mb']} MB, most of it the prebuilt drafts; RSS +MB is how far the process grew"
        " while the journal ran. Goal at 100 appenders: >= 20,000 ops/s, >= 50% of raw, p99 < 20 ms"
    )
    if args.json:
        emit_json(figures)


if __name__ == "__main__":
    main()
