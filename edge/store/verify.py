"""Offline checks of an edge database: the hash chain, the stock projection and the task projection.

``wims edge verify`` and the fault tests use these: the chain must verify from the first op (or the
compaction checkpoint) to the head, the stock table must equal the sum of every op's deltas, and every
task whose ops the journal still holds must stand in ``floor_tasks`` as its last op left it.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from dataclasses import dataclass, field

from edge.store.floor import get_task
from edge.store.journal import iter_entries, read_checkpoint
from sync.canonical import ChainError, op_from_body, verify_link
from sync.ledger import StockKey, effect_of
from sync.ops import GENESIS_HASH, StockStatus, TaskPayload


@dataclass
class VerifyReport:
    ops: int = 0
    head_seq: int = 0
    head_hash: str = GENESIS_HASH
    chain_error: str | None = None
    projection_diffs: list[tuple[StockKey, int, int]] = field(default_factory=list)
    task_diffs: list[str] = field(default_factory=list)
    """Tasks whose row in ``floor_tasks`` is not what their last journaled op says, in words."""

    @property
    def ok(self) -> bool:
        return self.chain_error is None and not self.projection_diffs and not self.task_diffs


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
    checkpoint = seq
    last_task: dict[str, tuple[int, TaskPayload]] = {}
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
            if isinstance(op.payload, TaskPayload):
                last_task[op.payload.task_id] = (entry.seq, op.payload)
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
    report.task_diffs = _task_diffs(conn, last_task, checkpoint)
    return report


def _task_diffs(conn: sqlite3.Connection, last: dict[str, tuple[int, TaskPayload]], checkpoint: int) -> list[str]:
    if conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'floor_tasks'").fetchone() is None:
        return []  # a database from before tasks
    diffs: list[str] = []
    for task_id, (seq, payload) in sorted(last.items()):
        row = get_task(conn, task_id)
        if row is None:
            diffs.append(f"task {task_id}: journaled (last at seq {seq}) but not in floor_tasks")
        elif row.updated_seq != seq or row.task != payload:
            diffs.append(
                f"task {task_id}: floor_tasks has it {row.task.state.value} as of seq {row.updated_seq},"
                f" the journal {payload.state.value} as of seq {seq}"
            )
    for (task_id,) in conn.execute("SELECT task_id FROM floor_tasks WHERE updated_seq > ?", (checkpoint,)):
        if task_id not in last:
            diffs.append(f"task {task_id}: in floor_tasks but no op of the journal made it")
    return diffs
