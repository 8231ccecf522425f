"""Compaction keeps the chain verifiable and the projection checkable."""

from __future__ import annotations

import asyncio

from edge.config import SiteConfig
from edge.store.schema import connect
from edge.store.verify import verify_database
from edge.uplink.journal_outbox import JournalOutbox
from sync.ops import OpDraft, utc_now
from tests.support.edge import open_journal


def _receive(qty: int) -> OpDraft:
    return OpDraft.model_validate(
        {
            "payload": {"kind": "receive", "sku": "SKU-0", "location": "A-01", "qty": qty},
            "actor": "op1",
            "occurred_at": utc_now(),
        }
    )


async def test_compact_then_continue(site: SiteConfig) -> None:
    async with open_journal(site) as j:
        await asyncio.gather(*(j.append(_receive(i + 1)) for i in range(50)))
        head = j.head()
        assert await j.compact(30) == 30
        outbox = JournalOutbox(j)
        assert outbox.first_held_seq() == 31 and outbox.head_seq() == 50
        assert await j.compact(50) == 20  # everything: the head survives in the checkpoint
        assert j.head() == head and outbox.first_held_seq() == 51
        op = await j.append(_receive(1))
        assert op.seq == 51 and op.prev_hash == head[1]
        assert j.book_qty("SKU-0", "A-01") == sum(range(1, 51)) + 1
    report = verify_database(connect(str(site.store.path), readonly=True))
    assert report.ok and report.ops == 1 and report.head_seq == 51


async def test_tampering_after_compaction_is_still_caught(site: SiteConfig) -> None:
    async with open_journal(site) as j:
        await asyncio.gather(*(j.append(_receive(1)) for _ in range(10)))
        await j.compact(5)
    conn = connect(str(site.store.path))
    conn.execute("UPDATE meta SET value = ? WHERE key = 'checkpoint_hash'", ("0" * 64,))
    report = verify_database(connect(str(site.store.path), readonly=True))
    assert report.chain_error is not None and "seq 6" in report.chain_error
