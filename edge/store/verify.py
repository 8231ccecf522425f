"""Offline checks of an edge database: the hash chain and the stock projection.

``wims edge verify`` and the fault tests use these: the chain must verify from the first op (or the
compaction checkpoint) to the head, and the stock table must equal the sum of every op's deltas.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from dataclasses import dataclass, field

from edge.store.journal import iter_entries, read_checkpoint
from sync.canonical import ChainError, op_from_body, verify_link
from sync.ledger import StockKey, effect_of
from sync.ops import GENESIS_HASH, StockStatus


@dataclass
class VerifyReport:
    ops: int = 0
    head_seq: int = 0
    head_hash: str = GENESIS_HASH
    chain_error: str | None = None
    projection_diffs: list[tuple[StockKey, int, int]] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.chain_error is None and not self.projection_diffs


def verify_database(
    conn: sqlite3.Connection, *, warehouse: str | None = None, progress: Callable[[int], None] | None = None
) -> VerifyReport:
    report = VerifyReport()
    if warehouse is None:
        row = conn.execute("SELECT value FROM meta WHERE key = 'warehouse'").fetchone()
        warehouse = row[0] if row else ""
    seq, head = read_checkpoint(conn)
    report.head_seq, report.head_hash = seq, head
    computed: dict[StockKey, int] = {}
    if seq:  # ops before the checkpoint were compacted: start from the stock they amounted to
        for w, sku, lot, loc, status, qty in conn.execute("SELECT * FROM stock_checkpoint"):
            computed[StockKey(w, sku, lot, loc, StockStatus(status))] = qty
    while True:
        batch = list(iter_entries(conn, after=seq, limit=5000))
        if not batch:
            break
        for entry in batch:
            try:
                verify_link(entry.body, head, seq)
                op = op_from_body(entry.body)
            except ChainError as exc:
                report.chain_error = str(exc)
                return report
            for delta in effect_of(op.payload, str(warehouse)).stock:
                computed[delta.key] = computed.get(delta.key, 0) + delta.qty
            seq, head = entry.seq, entry.body["hash"]
            report.ops += 1
        report.head_seq, report.head_hash = seq, head
        if progress is not None:
            progress(report.ops)
    stored = {
        StockKey(w, sku, lot, loc, StockStatus(status)): qty
        for w, sku, lot, loc, status, qty in conn.execute("SELECT * FROM stock")
    }
    for key in sorted(set(stored) | set(computed), key=lambda k: (k.sku, k.lot, k.location, k.status)):
        a, b = stored.get(key, 0), computed.get(key, 0)
        if a != b:
            report.projection_diffs.append((key, a, b))
    return report
