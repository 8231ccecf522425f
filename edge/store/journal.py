"""The op journal: durable, gap-free, hash-chained, with the stock projection in the same transaction.

Appends from any number of tasks queue up; one writer task takes everything waiting (up to
``max_batch``) and commits it as one transaction (group commit), so one fsync covers many ops and
``await append(...)`` returns only once its op is on disk. The batch is validated, sealed and inserted
on the event loop (a thread hop per batch cost a third of the throughput in GIL hand-offs, measured),
and only the ``COMMIT``, where the fsync happens, runs on a helper thread: while one group is being
fsynced the next one gathers in the queue. The queue is bounded, so a flood of appends holds its
callers back instead of growing memory. Every other write (telemetry, master data) takes the same
lock, so transactions never interleave on the one write connection.

Durability: WAL with ``synchronous=FULL`` (the WAL is fsynced at every commit). ``NORMAL`` would
survive a crash of the process but could lose the last commits on power loss, and an acknowledged op
must survive both.

Each transaction reads the chain head from the database rather than trusting a cached one, so a
second writer process (``wims edge append`` while the daemon runs) can never fork the chain: SQLite's
write lock (``BEGIN IMMEDIATE``) serialises the two.
"""

from __future__ import annotations

import asyncio
import sqlite3
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

from edge.store.errors import JournalClosed, OpRejected
from edge.store.masterdata import MasterData
from edge.store.schema import connect, migrate
from sync.canonical import body_from_stored, iso_utc, seal_canonical
from sync.clock import Clock, SystemClock
from sync.ledger import StockKey, effect_of, stock_locations, stock_skus
from sync.ops import GENESIS_HASH, CountPayload, Op, OpDraft, OpKind, StockStatus

T = TypeVar("T")

_INSERT_OP = (
    "INSERT INTO journal(seq, op_id, kind, occurred_at, recorded_at, actor, device_id, body, hash, prev_hash,"
    " flags) VALUES (?,?,?,?,?,?,?,?,?,?,?)"
)
_UPSERT_STOCK = (
    "INSERT INTO stock(warehouse, sku, lot, location, status, qty) VALUES (?,?,?,?,?,?)"
    " ON CONFLICT(warehouse, sku, lot, location, status) DO UPDATE SET qty = qty + excluded.qty"
)
_SELECT_QTY = "SELECT qty FROM stock WHERE warehouse=? AND sku=? AND lot=? AND location=? AND status=?"


@dataclass(frozen=True, slots=True)
class StockLine:
    warehouse: str
    sku: str
    lot: str
    location: str
    status: str
    qty: int


@dataclass(frozen=True, slots=True)
class JournalEntry:
    """A stored op as the journal holds it: the canonical body plus local flags."""

    seq: int
    body: dict[str, Any]
    flags: str | None

    def op(self) -> Op:
        return Op.model_validate(self.body)


class JournalMetrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        self.appended = Counter("wims_journal_ops_appended", "Ops durably appended", ["kind"], registry=registry)
        self.rejected = Counter(
            "wims_journal_ops_rejected", "Ops refused by a domain rule", ["code"], registry=registry
        )
        self.flagged = Counter(
            "wims_journal_ops_negative_stock", "Ops kept with negative stock (allowed by site)", registry=registry
        )
        self.batch = Histogram(
            "wims_journal_batch_size",
            "Ops per group commit",
            registry=registry,
            buckets=(1, 2, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000),
        )
        self.commit_seconds = Histogram(
            "wims_journal_commit_seconds",
            "Time of one group commit incl. fsync",
            registry=registry,
            buckets=(0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.5, 1),
        )
        self.head = Gauge("wims_journal_head_seq", "Highest seq in the journal", registry=registry)
        self.queue = Gauge("wims_journal_queue_depth", "Appends waiting for the writer", registry=registry)


_STOP = object()


class Journal:
    """Append ops durably; read ops and stock. Use as ``async with Journal(...) as journal``."""

    def __init__(
        self,
        path: Path | str,
        *,
        gateway_id: str,
        warehouse: str,
        master: MasterData,
        allow_negative_stock: bool = False,
        clock: Clock | None = None,
        synchronous: str = "FULL",
        max_batch: int = 2000,
        queue_limit: int = 20_000,
        registry: CollectorRegistry | None = None,
    ) -> None:
        self.path = Path(path)
        self.gateway_id = gateway_id
        self.warehouse = warehouse
        self.master = master
        self.allow_negative_stock = allow_negative_stock
        self._clock = clock or SystemClock()
        self._synchronous = synchronous
        self._max_batch = max_batch
        self._queue: asyncio.Queue[Any] = asyncio.Queue(maxsize=queue_limit)
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="journal-writer")
        self._wconn: sqlite3.Connection | None = None
        self._rconn: sqlite3.Connection | None = None
        self._writer: asyncio.Task[None] | None = None
        self._write_lock = asyncio.Lock()
        self._closing = False
        self.metrics = JournalMetrics(registry or CollectorRegistry())
        self._head_listeners: list[asyncio.Event] = []

    # ---- lifecycle -------------------------------------------------------------------------------

    async def __aenter__(self) -> Journal:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        await self.run_write(self._open)
        self._rconn = connect(str(self.path), readonly=True)
        self.metrics.head.set(self.head()[0])
        self._writer = asyncio.create_task(self._write_loop(), name=f"journal-writer:{self.gateway_id}")
        return self

    def _open(self) -> None:
        conn = connect(str(self.path), synchronous=self._synchronous)
        migrate(conn)
        self.master.save(conn)
        conn.execute(
            "INSERT OR REPLACE INTO meta(key, value) VALUES ('gateway_id', ?), ('warehouse', ?)",
            (self.gateway_id, self.warehouse),
        )
        self._wconn = conn

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def close(self) -> None:
        """Stop taking appends, commit everything already queued, then close the database."""
        if self._closing:
            return
        self._closing = True
        if self._writer is not None:
            await self._queue.put(_STOP)
            await self._writer
        if self._wconn is not None:
            wconn = self._wconn
            await self.run_write(wconn.close)
        if self._rconn is not None:
            self._rconn.close()
        self._executor.shutdown(wait=True)

    async def run_write(self, fn: Any, *args: Any) -> Any:
        """Run ``fn`` (which may use ``write_connection``) on the writer thread, between group commits."""
        async with self._write_lock:
            return await asyncio.get_running_loop().run_in_executor(self._executor, fn, *args)

    @property
    def write_connection(self) -> sqlite3.Connection:
        """The write connection; only for code run through ``run_write``."""
        assert self._wconn is not None, "journal is not open"
        return self._wconn

    # ---- appending -------------------------------------------------------------------------------

    async def append(self, draft: OpDraft) -> Op:
        """Append one op; returns it once durable. Raises ``OpRejected`` if a domain rule refuses it."""
        if self._closing:
            raise JournalClosed("journal is closing")
        fut: asyncio.Future[Op] = asyncio.get_running_loop().create_future()
        await self._queue.put((draft, fut))
        return await fut

    async def _write_loop(self) -> None:
        loop = asyncio.get_running_loop()
        stop = False
        while not stop:
            item = await self._queue.get()
            if item is _STOP:
                break
            batch = [item]
            while len(batch) < self._max_batch and not self._queue.empty():
                nxt = self._queue.get_nowait()
                if nxt is _STOP:
                    stop = True
                    break
                batch.append(nxt)
            self.metrics.queue.set(self._queue.qsize())
            try:
                async with self._write_lock:
                    t0 = time.perf_counter()
                    results, head_seq = self._stage([d for d, _ in batch])
                    try:
                        await loop.run_in_executor(self._executor, self.write_connection.execute, "COMMIT")
                    except BaseException:
                        self.write_connection.execute("ROLLBACK")
                        raise
                    self._observe_commit(results, len(batch), head_seq, time.perf_counter() - t0)
            except Exception as exc:  # the database failed (disk full, I/O error): no op of the batch stands
                for _, fut in batch:
                    if not fut.done():
                        fut.set_exception(exc)
                continue
            for (_, fut), res in zip(batch, results, strict=True):
                if fut.done():
                    continue  # the caller gave up; the op (if stored) stays, and a retry is idempotent
                if isinstance(res, OpRejected):
                    fut.set_exception(res)
                else:
                    fut.set_result(res)
            for ev in self._head_listeners:
                ev.set()

    def _stage(self, drafts: list[OpDraft]) -> tuple[list[Op | OpRejected], int]:
        """Open the group's transaction and write it, leaving only the COMMIT to do.

        Rejected ops take no seq and leave no trace. Returns the per-draft results and the new head seq.
        """
        conn = self.write_connection
        recorded_at = self._clock.now()
        recorded = iso_utc(recorded_at)
        conn.execute("BEGIN IMMEDIATE")
        try:
            seq, head = read_head(conn)
            pending: dict[StockKey, int] = {}  # this batch's net deltas on top of the stored projection
            pending_ids: dict[uuid.UUID, Op] = {}
            stored = self._stored_ops(conn, drafts)
            results: list[Op | OpRejected] = []
            rows: list[tuple[Any, ...]] = []
            for draft in drafts:
                try:
                    draft, flags = self._prepare(conn, draft, pending, pending_ids, stored)
                except OpRejected as rej:
                    results.append(rej)
                    continue
                except _AlreadyStored as dup:
                    results.append(dup.op)
                    continue
                seq += 1
                prev = head
                op_id, occurred = str(draft.op_id), iso_utc(draft.occurred_at)
                text, head = seal_canonical(
                    draft,
                    gateway_id=self.gateway_id,
                    seq=seq,
                    prev_hash=prev,
                    recorded_at=recorded,
                    op_id=op_id,
                    occurred_at=occurred,
                )
                rows.append(
                    (
                        seq,
                        op_id,
                        draft.payload.kind.value,
                        occurred,
                        recorded,
                        draft.actor,
                        draft.device_id,
                        text,
                        head,
                        prev,
                        flags,
                    )
                )
                op = _trusted_op(draft, self.gateway_id, seq, recorded_at, prev, head)
                pending_ids[draft.op_id] = op
                results.append(op)
                if flags:
                    self.metrics.flagged.inc()
            conn.executemany(_INSERT_OP, rows)
            conn.executemany(
                _UPSERT_STOCK,
                [(k.warehouse, k.sku, k.lot, k.location, k.status.value, q) for k, q in pending.items() if q],
            )
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        return results, seq

    def _observe_commit(self, results: list[Op | OpRejected], size: int, head_seq: int, seconds: float) -> None:
        kinds: dict[str, int] = {}
        for res in results:
            if isinstance(res, OpRejected):
                self.metrics.rejected.labels(res.code).inc()
            else:
                kinds[res.kind.value] = kinds.get(res.kind.value, 0) + 1
        for kind, n in kinds.items():
            self.metrics.appended.labels(kind).inc(n)
        self.metrics.batch.observe(size)
        self.metrics.commit_seconds.observe(seconds)
        self.metrics.head.set(head_seq)

    def _prepare(
        self,
        conn: sqlite3.Connection,
        draft: OpDraft,
        pending: dict[StockKey, int],
        pending_ids: dict[uuid.UUID, Op],
        stored: dict[str, Op],
    ) -> tuple[OpDraft, str | None]:
        """Check one draft against master data and stock; fold its deltas into ``pending``."""
        if (dup := pending_ids.get(draft.op_id)) is not None:
            if dup.payload != draft.payload:
                raise OpRejected("op_id_conflict", f"op_id {draft.op_id} was already used for another op", "op_id")
            raise _AlreadyStored(dup)
        if stored and (op := stored.get(str(draft.op_id))) is not None:
            if op.payload != draft.payload:
                raise OpRejected("op_id_conflict", f"op_id {draft.op_id} was already used for another op", "op_id")
            raise _AlreadyStored(op)
        payload = draft.payload
        for sku in stock_skus(payload):
            if sku not in self.master.skus:
                raise OpRejected("unknown_sku", f"unknown SKU {sku!r}", "payload.sku")
        for loc in stock_locations(payload):
            if loc not in self.master.locations:
                raise OpRejected("unknown_location", f"unknown location {loc!r}", "payload.location")
        if isinstance(payload, CountPayload):
            # The book is read here, inside the write transaction, so the delta is exact even if stock
            # moved between the count and this commit.
            key = StockKey(self.warehouse, payload.sku, payload.lot, payload.location, StockStatus.AVAILABLE)
            book = self._qty(conn, key) + pending.get(key, 0)
            if book != payload.book_qty:
                payload = payload.model_copy(update={"book_qty": book, "delta": payload.counted_qty - book})
                draft = draft.model_copy(update={"payload": payload})
        effect = effect_of(payload, self.warehouse)
        flags: str | None = None
        for delta in effect.stock:
            if delta.qty >= 0:
                continue
            after = self._qty(conn, delta.key) + pending.get(delta.key, 0) + delta.qty
            if after < 0:
                if not self.allow_negative_stock:
                    raise OpRejected(
                        "insufficient_stock",
                        f"{delta.key.status.value} stock of {delta.key.sku!r} lot {delta.key.lot!r} at "
                        f"{delta.key.location!r} is {after - delta.qty}, the op takes {-delta.qty}",
                        "payload.qty",
                    )
                flags = "negative_stock"
        for delta in effect.stock:
            pending[delta.key] = pending.get(delta.key, 0) + delta.qty
        return draft, flags

    @staticmethod
    def _stored_ops(conn: sqlite3.Connection, drafts: list[OpDraft]) -> dict[str, Op]:
        """Ops of this batch whose op_id is already journaled (retries), found with one query per 500."""
        found: dict[str, Op] = {}
        ids = [str(d.op_id) for d in drafts]  # one str() per op here, one more in _stage
        for i in range(0, len(ids), 500):
            chunk = ids[i : i + 500]
            sql = f"SELECT op_id, body, hash FROM journal WHERE op_id IN ({','.join('?' * len(chunk))})"
            for op_id, text, hash_ in conn.execute(sql, chunk):
                found[op_id] = Op.model_validate(body_from_stored(text, hash_))
        return found

    @staticmethod
    def _qty(conn: sqlite3.Connection, key: StockKey) -> int:
        row = conn.execute(_SELECT_QTY, (key.warehouse, key.sku, key.lot, key.location, key.status.value)).fetchone()
        return int(row[0]) if row else 0

    # ---- reading ---------------------------------------------------------------------------------

    @property
    def _reader(self) -> sqlite3.Connection:
        assert self._rconn is not None, "journal is not open"
        return self._rconn

    def read_one(self, sql: str, args: tuple[Any, ...] = ()) -> tuple[Any, ...] | None:
        """One row of a read-only query on the reader connection (never blocks the writer)."""
        row: tuple[Any, ...] | None = self._reader.execute(sql, args).fetchone()
        return row

    def read_all(self, sql: str, args: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        return list(self._reader.execute(sql, args))

    def head(self) -> tuple[int, str]:
        return read_head(self._reader)

    async def compact(self, up_to_seq: int) -> int:
        """Delete ops up to ``up_to_seq`` (the caller makes sure the cloud holds them).

        The chain stays verifiable: the last deleted op's seq and hash become the checkpoint the chain
        is verified from, and the stock those ops amount to is kept in ``stock_checkpoint`` so the
        projection can still be recomputed. Returns the number of ops removed.
        """
        removed: int = await self.run_write(self._compact, up_to_seq)
        return removed

    def _compact(self, up_to_seq: int) -> int:
        conn = self.write_connection
        conn.execute("BEGIN IMMEDIATE")
        try:
            totals: dict[StockKey, int] = {}
            last: tuple[int, str] | None = None
            for seq, text, hash_ in conn.execute(
                "SELECT seq, body, hash FROM journal WHERE seq <= ? ORDER BY seq", (up_to_seq,)
            ):
                op = Op.model_validate(body_from_stored(text, hash_))
                for delta in effect_of(op.payload, self.warehouse).stock:
                    totals[delta.key] = totals.get(delta.key, 0) + delta.qty
                last = (int(seq), str(hash_))
            if last is None:
                conn.execute("ROLLBACK")
                return 0
            conn.executemany(
                "INSERT INTO stock_checkpoint(warehouse, sku, lot, location, status, qty) VALUES (?,?,?,?,?,?)"
                " ON CONFLICT(warehouse, sku, lot, location, status) DO UPDATE SET qty = qty + excluded.qty",
                [(k.warehouse, k.sku, k.lot, k.location, k.status.value, q) for k, q in totals.items()],
            )
            conn.execute(
                "INSERT OR REPLACE INTO meta(key, value) VALUES ('checkpoint_seq', ?), ('checkpoint_hash', ?)",
                (str(last[0]), last[1]),
            )
            removed = conn.execute("DELETE FROM journal WHERE seq <= ?", (up_to_seq,)).rowcount
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        return int(removed)

    def entries(self, after: int = 0, limit: int = 1000, kind: OpKind | None = None) -> list[JournalEntry]:
        return list(iter_entries(self._reader, after=after, limit=limit, kind=kind))

    def stock(self, **filters: str | None) -> list[StockLine]:
        return query_stock(self._reader, **filters)

    def book_qty(self, sku: str, location: str, lot: str = "", status: StockStatus = StockStatus.AVAILABLE) -> int:
        return self._qty(self._reader, StockKey(self.warehouse, sku, lot, location, status))

    async def wait_for_head(self, after: int, timeout: float) -> int:
        """Wait until the journal has ops beyond ``after`` (for ``follow`` readers); returns the head."""
        ev = asyncio.Event()
        self._head_listeners.append(ev)
        try:
            if self.head()[0] <= after:
                try:
                    await asyncio.wait_for(ev.wait(), timeout)
                except TimeoutError:
                    pass
            return self.head()[0]
        finally:
            self._head_listeners.remove(ev)


_OP_FIELDS = frozenset(Op.model_fields)


def _trusted_op(draft: OpDraft, gateway_id: str, seq: int, recorded_at: Any, prev: str, head: str) -> Op:
    """Build the ``Op`` the journal just sealed without validating it again.

    Every field comes from an already validated draft or from the journal itself, and
    ``Op.model_construct`` costs a fifth of an append; this is the same construction without its
    defaults handling (every field is given).
    """
    op = Op.__new__(Op)
    object.__setattr__(
        op,
        "__dict__",
        {
            "op_id": draft.op_id,
            "gateway_id": gateway_id,
            "seq": seq,
            "kind": draft.payload.kind,
            "payload": draft.payload,
            "actor": draft.actor,
            "device_id": draft.device_id,
            "occurred_at": draft.occurred_at,
            "recorded_at": recorded_at,
            "prev_hash": prev,
            "hash": head,
        },
    )
    object.__setattr__(op, "__pydantic_fields_set__", _OP_FIELDS)
    object.__setattr__(op, "__pydantic_extra__", None)
    object.__setattr__(op, "__pydantic_private__", None)
    return op


class _AlreadyStored(Exception):
    """The op_id is already in the journal with the same content: the append is a retry."""

    def __init__(self, op: Op) -> None:
        self.op = op


def read_checkpoint(conn: sqlite3.Connection) -> tuple[int, str]:
    """Where the held chain starts: genesis, or the last op compacted away."""
    rows = dict(conn.execute("SELECT key, value FROM meta WHERE key IN ('checkpoint_seq', 'checkpoint_hash')"))
    if "checkpoint_seq" in rows:
        return int(rows["checkpoint_seq"]), str(rows["checkpoint_hash"])
    return 0, GENESIS_HASH


def read_head(conn: sqlite3.Connection) -> tuple[int, str]:
    """The chain head: the last op held, or the compaction checkpoint if every op was compacted."""
    row = conn.execute("SELECT seq, hash FROM journal ORDER BY seq DESC LIMIT 1").fetchone()
    if row:
        return int(row[0]), str(row[1])
    return read_checkpoint(conn)


def iter_entries(
    conn: sqlite3.Connection, *, after: int = 0, limit: int = 1000, kind: OpKind | None = None
) -> Iterator[JournalEntry]:
    sql = "SELECT seq, body, hash, flags FROM journal WHERE seq > ?"
    args: list[Any] = [after]
    if kind is not None:
        sql += " AND kind = ?"
        args.append(kind.value)
    sql += " ORDER BY seq LIMIT ?"
    args.append(limit)
    for seq, text, hash_, flags in conn.execute(sql, args):
        yield JournalEntry(int(seq), body_from_stored(text, hash_), flags)


_STOCK_FILTERS = ("warehouse", "sku", "lot", "location", "status")


def query_stock(conn: sqlite3.Connection, **filters: str | None) -> list[StockLine]:
    """Non-zero stock lines, optionally filtered by any of warehouse, sku, lot, location, status."""
    unknown = set(filters) - set(_STOCK_FILTERS)
    if unknown:
        raise ValueError(f"unknown stock filter(s): {sorted(unknown)}")
    where = ["qty != 0"]
    args: list[str] = []
    for name, value in filters.items():
        if value is not None:
            where.append(f"{name} = ?")
            args.append(value)
    sql = (
        f"SELECT warehouse, sku, lot, location, status, qty FROM stock WHERE {' AND '.join(where)}"
        " ORDER BY warehouse, sku, lot, location, status"
    )
    return [StockLine(*row) for row in conn.execute(sql, args)]
