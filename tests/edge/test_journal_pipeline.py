"""Groups planned ahead, during the previous group's fsync (the journal's commit thread).

These run the journal with ``inline_commit_below=0`` so that every COMMIT goes to the writer thread,
as on a slow disk, and appends arrive while a commit is in flight.
"""

from __future__ import annotations

import asyncio
import sqlite3
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest

from edge.config import SiteConfig
from edge.store.commit_plan import AheadView, Plan, Planner, TransactionView
from edge.store.errors import OpRejected
from edge.store.journal import Journal, read_head, write_plan
from edge.store.masterdata import MasterData
from edge.store.schema import connect
from edge.store.verify import verify_database
from sync.clock import SystemClock
from sync.ops import Op, OpDraft
from tests.edge.test_journal import d, receive
from tests.support.edge import open_journal

ROOT = Path(__file__).parents[2]


def _plans(journal: Journal) -> dict[str, float]:
    samples = journal.metrics.plans.collect()[0].samples
    return {s.labels["where"]: s.value for s in samples if s.name.endswith("_total")}


def pick(qty: int) -> OpDraft:
    return d(
        kind="pick",
        sku="SKU-0",
        from_location="A-01",
        to_location="STAGE",
        qty=qty,
        order_id="O1",
        from_status="available",
    )


async def test_groups_are_planned_during_the_previous_fsync(site: SiteConfig) -> None:
    async with open_journal(site, inline_commit_below=0.0, max_batch=10) as j:
        ops = await asyncio.gather(*(j.append(receive(qty=1)) for _ in range(200)))
        assert sorted(op.seq for op in ops) == list(range(1, 201))
        assert _plans(j).get("ahead", 0) >= 10, _plans(j)
        assert j.book_qty("SKU-0", "A-01") == 200
    report = verify_database(connect(str(site.store.path), readonly=True))
    assert report.ok and report.ops == 200


async def test_stock_taken_by_the_group_in_flight_counts_against_the_next(site: SiteConfig) -> None:
    async with open_journal(site, inline_commit_below=0.0, max_batch=3) as j:
        await j.append(receive(qty=10))
        # The first group of 3 picks of 2 leaves 4; the next group, planned while the first commits, fits 2 more.
        results = await asyncio.gather(*(j.append(pick(2)) for _ in range(6)), return_exceptions=True)
        taken = [r for r in results if not isinstance(r, BaseException)]
        refused = [r for r in results if isinstance(r, OpRejected)]
        assert len(taken) == 5 and len(refused) == 1, results
        assert refused[0].code == "insufficient_stock"
        assert j.book_qty("SKU-0", "A-01") == 0
        assert _plans(j).get("ahead", 0) >= 1, _plans(j)
    report = verify_database(connect(str(site.store.path), readonly=True))
    assert report.ok and report.projection_diffs == []


async def test_a_group_holding_a_stored_op_id_is_planned_again_with_the_lookup(site: SiteConfig) -> None:
    """Plans take op_ids to be new; the unique index catches a retried one, in either planning path."""
    for inline_below in (1.0, 0.0):  # COMMIT inline (planned in the transaction), or on the thread (ahead)
        async with open_journal(site, inline_commit_below=inline_below, max_batch=8) as j:
            stored = await j.append(receive(qty=5))
            retry = d(kind="receive", sku="SKU-0", location="A-01", qty=5)
            retry = retry.model_copy(update={"op_id": stored.op_id})
            other = retry.model_copy(update={"payload": receive(qty=6).payload})
            drafts = [receive(qty=1) for _ in range(20)]
            drafts[7], drafts[15] = retry, other  # a retry, and an op_id used again for another op
            before = _plans(j).get("replanned", 0)
            results = await asyncio.gather(*(j.append(x) for x in drafts), return_exceptions=True)
            assert results[7] == stored, "a retried append answers with the stored op"
            assert isinstance(results[15], OpRejected) and results[15].code == "op_id_conflict"
            new = [r for i, r in enumerate(results) if i not in (7, 15)]
            assert all(isinstance(r, Op) for r in new), new
            assert _plans(j).get("replanned", 0) > before
            batches = j.metrics.batch.collect()[0].samples
            commits = next(s.value for s in batches if s.name.endswith("_count"))
            assert sum(_plans(j).values()) == commits, "each group is counted once, where it was planned last"
        report = verify_database(connect(str(site.store.path), readonly=True))
        assert report.ok and report.projection_diffs == []
    async with open_journal(site) as j:
        assert j.head()[0] == 2 * (1 + 18)  # per pass: the stored op and 18 new ones, nothing twice


@pytest.mark.parametrize("inline_below", [1.0, 0.0])
async def test_a_retry_that_a_rule_now_refuses_still_answers_with_the_stored_op(
    site: SiteConfig, inline_below: float
) -> None:
    """The unique index only sees ops inserted again: a retried pick whose stock its first attempt took,
    or a reused op_id whose other payload breaks a rule, must still be told what is stored."""
    async with open_journal(site, inline_commit_below=inline_below, max_batch=4) as j:
        await j.append(receive(qty=5))
        first = pick(5)
        stored = await j.append(first)  # takes all 5
        assert await j.append(first) == stored
        burst = await asyncio.gather(*(j.append(x) for x in [*(receive(qty=1) for _ in range(6)), first]))
        assert burst[-1] == stored
        reused = pick(50).model_copy(update={"op_id": stored.op_id})  # would also be short of stock
        with pytest.raises(OpRejected) as exc:
            await j.append(reused)
        assert exc.value.code == "op_id_conflict"
        still_short = await asyncio.gather(j.append(pick(50)), return_exceptions=True)
        assert isinstance(still_short[0], OpRejected) and still_short[0].code == "insufficient_stock"
    report = verify_database(connect(str(site.store.path), readonly=True))
    assert report.ok and report.projection_diffs == [] and report.ops == 2 + 6


def _written(path: Path, site: SiteConfig, qty: int) -> tuple[sqlite3.Connection, Plan]:
    """A group written as the journal writes it (``qty`` received at A-01), its COMMIT still to come."""
    conn = connect(str(path))
    planner = Planner(
        gateway_id=site.site.gateway_id,
        warehouse="WH-T",
        master=MasterData.from_config(site),
        allow_negative_stock=False,
    )
    conn.execute("BEGIN IMMEDIATE")
    plan = planner.plan([receive(qty=qty)], read_head(conn), TransactionView(conn, "WH-T"), datetime.now(UTC))
    write_plan(conn, plan, "WH-T")
    return conn, plan


async def test_ahead_view_adds_the_group_in_flight_only_while_it_is_not_visible(site: SiteConfig) -> None:
    """Both sides of the race made deterministic: the view reads before and after the COMMIT lands."""
    async with open_journal(site) as j:
        await j.append(receive(qty=10))
    path = Path(site.store.path)
    key = ("SKU-0", "", "A-01", "available")
    reader = connect(str(path), readonly=True)
    writer, inflight = _written(path, site, 5)
    op_ids = [str(op.op_id) for op in inflight.results if isinstance(op, Op)]
    with AheadView(reader, "WH-T", inflight) as view:
        assert view.qty(key) == 15  # 10 committed + the 5 in flight
        assert list(view.stored(op_ids)) == op_ids
    writer.execute("COMMIT")
    with AheadView(reader, "WH-T", inflight) as view:
        assert view.qty(key) == 15  # the 5 are in the database now: not added twice
        assert list(view.stored(op_ids)) == op_ids
    writer.close()
    reader.close()


_ONE_APPEND = """
import asyncio, sys
from pathlib import Path
from edge.config import parse_config
from tests.support.edge import open_journal, site_dict
from tests.edge.test_journal import receive
async def main():
    async with open_journal(parse_config(site_dict(Path(sys.argv[1])))) as j:
        await j.append(receive(sku="SKU-1", qty=7))
asyncio.run(main())
"""


class _AnotherWriterMidway(SystemClock):
    """A clock whose n-th reading, once armed, lets another process append first: it is read when a
    group is planned, so the other append lands between planning ahead and the group's transaction."""

    def __init__(self, store_dir: Path) -> None:
        self.store_dir = store_dir
        self.countdown: int | None = None

    def now(self) -> datetime:
        if self.countdown is not None:
            self.countdown -= 1
            if self.countdown == 0:
                subprocess.run([sys.executable, "-c", _ONE_APPEND, str(self.store_dir)], cwd=ROOT, check=True)
        return super().now()


async def test_a_plan_made_ahead_on_a_moved_head_is_made_again(site: SiteConfig) -> None:
    clock = _AnotherWriterMidway(Path(site.store.path).parent)
    async with open_journal(site, inline_commit_below=0.0, max_batch=5, clock=clock) as j:
        await j.append(receive(qty=1))
        clock.countdown = 2  # 1st reading: the next group, in its transaction; 2nd: the group after, ahead
        ops = await asyncio.gather(*(j.append(receive(qty=1)) for _ in range(10)))
        assert _plans(j).get("replanned") == 1, _plans(j)
        assert sorted(op.seq for op in ops) == [2, 3, 4, 5, 6, 8, 9, 10, 11, 12]  # seq 7 is the other process's
    report = verify_database(connect(str(site.store.path), readonly=True))
    assert report.ok and report.ops == 12 and report.projection_diffs == []
    stock = dict(connect(str(site.store.path), readonly=True).execute("SELECT sku, qty FROM stock"))
    assert stock == {"SKU-0": 11, "SKU-1": 7}


async def test_a_write_lock_held_elsewhere_does_not_stall_the_loop(site: SiteConfig) -> None:
    """Another connection (as ``wims edge append`` in another process) holds the write lock: the append
    waits for it off the event loop, which keeps ticking, and lands once the lock is released."""
    async with open_journal(site) as j:
        await j.append(receive(qty=1))
        other = sqlite3.connect(str(site.store.path), isolation_level=None)
        other.execute("BEGIN IMMEDIATE")
        appended = asyncio.create_task(j.append(receive(qty=2)))
        gaps, last = [], time.perf_counter()
        for _ in range(30):
            await asyncio.sleep(0.01)
            now = time.perf_counter()
            gaps.append(now - last)
            last = now
        assert not appended.done()  # still waiting for the lock
        other.execute("ROLLBACK")
        other.close()
        op = await asyncio.wait_for(appended, 10)
        assert op.seq == 2 and j.book_qty("SKU-0", "A-01") == 3
        assert max(gaps) < 0.1, f"the loop stalled {max(gaps) * 1000:.0f} ms while the lock was held elsewhere"
