"""The journal: group commit, gap-free seq, domain rules, idempotency, and a second writer."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from pathlib import Path

import pytest

from edge.config import SiteConfig, parse_config
from edge.store.errors import OpRejected
from edge.store.journal import Journal
from edge.store.schema import connect
from edge.store.verify import verify_database
from sync.ops import OpDraft, StockStatus, utc_now
from tests.support.edge import open_journal, site_dict


def d(actor: str = "op1", **payload: object) -> OpDraft:
    return OpDraft.model_validate({"payload": payload, "actor": actor, "occurred_at": utc_now()})


def receive(sku: str = "SKU-0", loc: str = "A-01", qty: int = 10, lot: str = "") -> OpDraft:
    return d(kind="receive", sku=sku, location=loc, qty=qty, lot=lot)


async def test_group_commit_under_100_concurrent_appenders(journal: Journal, site: SiteConfig) -> None:
    ops = await asyncio.gather(*(journal.append(receive(qty=i + 1)) for i in range(100 * 5)))
    seqs = sorted(op.seq for op in ops)
    assert seqs == list(range(1, 501))  # gap-free, each op exactly once
    batches = journal.metrics.batch.collect()[0].samples
    count = next(s.value for s in batches if s.name.endswith("_count"))
    assert count < 500 / 5, f"{count} commits for 500 concurrent appends: no grouping happened"
    assert journal.book_qty("SKU-0", "A-01") == sum(range(1, 501))
    report = verify_database(connect(str(site.store.path), readonly=True))
    assert report.ok and report.ops == 500


async def test_rejections_leave_no_trace_and_take_no_seq(journal: Journal) -> None:
    await journal.append(receive(qty=5))
    with pytest.raises(OpRejected) as exc:
        await journal.append(
            d(
                kind="pick",
                sku="SKU-0",
                from_location="A-01",
                to_location="STAGE",
                qty=6,
                order_id="O1",
                from_status="available",
            )
        )
    assert exc.value.code == "insufficient_stock" and "is 5, the op takes 6" in exc.value.message
    with pytest.raises(OpRejected, match="unknown SKU 'NOPE'") as exc:
        await journal.append(receive(sku="NOPE"))
    assert exc.value.field == "payload.sku"
    with pytest.raises(OpRejected, match="unknown location 'Z-99'"):
        await journal.append(d(kind="move", sku="SKU-0", from_location="A-01", to_location="Z-99", qty=1))
    op = await journal.append(receive(qty=1))
    assert op.seq == 2  # the three refused ops took no seq
    assert journal.book_qty("SKU-0", "A-01") == 6


async def test_a_refused_op_does_not_spoil_its_batch(journal: Journal) -> None:
    await journal.append(receive(qty=3))
    results = await asyncio.gather(
        *(
            journal.append(d(kind="adjust", sku="SKU-0", location="A-01", qty_delta=-1, reason="loss"))
            for _ in range(5)
        ),
        return_exceptions=True,
    )
    refused = [r for r in results if isinstance(r, OpRejected)]
    assert len(refused) == 2 and journal.book_qty("SKU-0", "A-01") == 0
    assert journal.head()[0] == 4


async def test_status_buckets_follow_reserve_pick_ship(journal: Journal) -> None:
    await journal.append(receive(qty=10))
    await journal.append(d(kind="reserve", sku="SKU-0", location="A-01", qty=4, order_id="O1"))
    await journal.append(d(kind="pick", sku="SKU-0", from_location="A-01", to_location="STAGE", qty=4, order_id="O1"))
    await journal.append(d(kind="qc_hold", sku="SKU-0", location="A-01", qty=2, reason="dented"))
    assert journal.book_qty("SKU-0", "A-01") == 4
    assert journal.book_qty("SKU-0", "A-01", status=StockStatus.QC_HOLD) == 2
    assert journal.book_qty("SKU-0", "STAGE", status=StockStatus.RESERVED) == 4
    await journal.append(d(kind="ship", sku="SKU-0", location="STAGE", qty=4, order_id="O1"))
    with pytest.raises(OpRejected, match="reserved stock"):
        await journal.append(d(kind="ship", sku="SKU-0", location="STAGE", qty=1, order_id="O1"))
    await journal.append(d("sup1", kind="qc_release", sku="SKU-0", location="A-01", qty=2, to_status="damaged"))
    assert journal.book_qty("SKU-0", "A-01", status=StockStatus.DAMAGED) == 2


async def test_retry_with_same_op_id_is_idempotent(journal: Journal) -> None:
    draft = receive(qty=7)
    first = await journal.append(draft)
    again = await journal.append(draft)
    both = await asyncio.gather(journal.append(receive(qty=1)), journal.append(draft))
    assert again.seq == first.seq == both[1].seq and again.hash == first.hash
    assert journal.book_qty("SKU-0", "A-01") == 8
    other = draft.model_copy(update={"payload": receive(qty=8).payload})
    with pytest.raises(OpRejected) as exc:
        await journal.append(other)
    assert exc.value.code == "op_id_conflict"


async def test_count_delta_is_taken_against_the_book_at_commit(journal: Journal) -> None:
    await journal.append(receive(qty=10))
    stale = d(kind="count", sku="SKU-0", location="A-01", counted_qty=12, book_qty=8, delta=4)
    op = await journal.append(stale)
    assert (op.payload.book_qty, op.payload.delta) == (10, 2)  # type: ignore[union-attr]
    assert journal.book_qty("SKU-0", "A-01") == 12
    stored = journal.entries(after=op.seq - 1, limit=1)[0].body["payload"]
    assert (stored["book_qty"], stored["delta"]) == (10, 2)


async def test_negative_stock_is_kept_and_flagged_when_the_site_allows_it(tmp_path: Path) -> None:
    cfg = parse_config(site_dict(tmp_path, allow_negative_stock=True))
    async with open_journal(cfg) as j:
        op = await j.append(d(kind="adjust", sku="SKU-1", location="A-02", qty_delta=-3, reason="oversold"))
        assert j.book_qty("SKU-1", "A-02") == -3
        assert j.entries(after=op.seq - 1, limit=1)[0].flags == "negative_stock"


async def test_restart_continues_the_chain(site: SiteConfig) -> None:
    async with open_journal(site) as j:
        await asyncio.gather(*(j.append(receive()) for _ in range(10)))
    async with open_journal(site) as j:
        op = await j.append(receive())
        assert op.seq == 11
    assert verify_database(connect(str(site.store.path), readonly=True)).ok


_WRITER = """
import asyncio, sys
from edge.config import parse_config
from tests.support.edge import site_dict, open_journal
from tests.edge.test_journal import receive
from pathlib import Path
async def main():
    cfg = parse_config(site_dict(Path(sys.argv[1])))
    async with open_journal(cfg) as j:
        for _ in range(20):
            await asyncio.gather(*(j.append(receive(qty=1)) for _ in range(10)))
asyncio.run(main())
"""


async def test_a_second_writer_process_cannot_fork_the_chain(site: SiteConfig) -> None:
    proc = subprocess.Popen(
        [sys.executable, "-c", _WRITER, str(Path(site.store.path).parent)], cwd=Path(__file__).parents[2]
    )
    async with open_journal(site) as j:
        for _ in range(20):
            await asyncio.gather(*(j.append(receive(qty=1)) for _ in range(10)))
    assert await asyncio.to_thread(proc.wait, 60) == 0
    report = verify_database(connect(str(site.store.path), readonly=True))
    assert report.ok and report.ops == 400
    assert dict(connect(str(site.store.path), readonly=True).execute("SELECT location, qty FROM stock")) == {
        "A-01": 400
    }


async def test_closing_commits_what_is_queued(site: SiteConfig) -> None:
    j = open_journal(site)
    await j.__aenter__()
    pending = [asyncio.create_task(j.append(receive(qty=1))) for _ in range(300)]
    await asyncio.sleep(0)
    await j.close()
    ops = await asyncio.gather(*pending)
    assert max(op.seq for op in ops) == 300
    assert verify_database(connect(str(site.store.path), readonly=True)).ops == 300
