"""The op journal: durable, gap-free, hash-chained, with the stock projection in the same transaction.

Appends from any number of tasks queue up; one writer task takes everything waiting (up to
``max_batch``) and commits it as one transaction (group commit), so one fsync covers many ops and
``await append(...)`` returns only once its op is on disk. The writer plans a group (checks, seq,
sealing: see ``edge.store.commit_plan``), inserts its rows with a few multi-row statements
(``edge.store.bulk``) and commits. While commits are fast the ``COMMIT`` runs inline on the loop:
handing it to a thread costs more in wake-ups than a fast fsync. Once commits are slow (an SD card)
it runs on a helper thread without the GIL, and the loop plans the next group meanwhile, then
inserts it as soon as the commit is through. The inserts stay on the loop either way: on a thread,
each statement would wait for the GIL while the loop runs Python (measured: no overlap at all).
Splitting a group in two so that one half's commit overlaps the other half's planning was tried
twice and measured slower: the fsync is a fixed cost per commit, and two commits cost more than the
overlap gives. The waiting line is bounded, so a flood of appends holds its callers back instead of
growing memory. Every other write (telemetry, master data) takes the same lock, so transactions
never interleave on the one write connection.

Durability: WAL with ``synchronous=FULL`` (the WAL is fsynced at every commit). ``NORMAL`` would
survive a crash of the process but could lose the last commits on power loss, and an acknowledged op
must survive both.

A second writer process (``wims edge append`` while the daemon runs) can never fork the chain: every
transaction (``BEGIN IMMEDIATE``, SQLite's write lock) reads the chain head from the database, and a
group planned ahead on a head that is no longer the head is planned again inside the transaction.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import sqlite3
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Concatenate, ParamSpec, TypeVar

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

from edge.store.bulk import insert_rows
from edge.store.commit_plan import JOURNAL_COLUMNS, STOCK_COLUMNS, AheadView, Plan, Planner, TransactionView, read_qty
from edge.store.errors import JournalClosed, OpRejected
from edge.store.floor import FLOOR_KINDS, fold_floor
from edge.store.masterdata import MasterData, overlay_cloud
from edge.store.schema import BUSY_TIMEOUT_MS, connect, migrate
from sync.canonical import body_from_stored
from sync.clock import Clock, SystemClock
from sync.ledger import StockKey, effect_of
from sync.ops import GENESIS_HASH, Op, OpDraft, OpKind, StockStatus

T = TypeVar("T")
P = ParamSpec("P")

JOURNAL_INSERT = f"INSERT INTO journal({', '.join(JOURNAL_COLUMNS)})"
"""The journal row insert up to ``VALUES``."""
STOCK_UPSERT = f"INSERT INTO stock({', '.join(STOCK_COLUMNS)})"
"""The stock delta upsert up to ``VALUES``; ``STOCK_UPSERT_TAIL`` follows the rows."""
STOCK_UPSERT_TAIL = " ON CONFLICT(warehouse, sku, lot, location, status) DO UPDATE SET qty = qty + excluded.qty"


def write_plan(conn: sqlite3.Connection, plan: Plan, warehouse: str) -> None:
    """Insert a plan's journal rows, add its stock deltas and project its floor ops (tasks, work
    orders: ``edge.store.floor``), inside the caller's transaction."""
    insert_rows(conn, JOURNAL_INSERT, len(JOURNAL_COLUMNS), plan.values)
    insert_rows(conn, STOCK_UPSERT, len(STOCK_COLUMNS), plan.stock_values(warehouse), STOCK_UPSERT_TAIL)
    if not FLOOR_KINDS.isdisjoint(plan.kinds):  # rare kinds: the common group pays one set test
        fold_floor(conn, (op for op in plan.new.values() if op.kind in FLOOR_KINDS))


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
        self.plans = Counter(
            "wims_journal_groups_planned",
            "Group commits by where they were planned: ahead (during the previous fsync), in the"
            " transaction, or replanned (planned ahead on a head another process moved, or holding an"
            " op_id journaled already)",
            ["where"],
            registry=registry,
        )
        self.head = Gauge("wims_journal_head_seq", "Highest seq in the journal", registry=registry)
        self.queue = Gauge("wims_journal_queue_depth", "Appends waiting for the writer", registry=registry)


@dataclass(slots=True)
class _Commit:
    """A group whose rows are written and whose COMMIT is running on the writer thread."""

    batch: list[tuple[OpDraft, asyncio.Future[Op]]]
    plan: Plan
    future: asyncio.Future[Any]
    started: float


def _rollback(conn: sqlite3.Connection) -> None:
    """Roll back the open transaction, if SQLite has not already (``RAISE(ROLLBACK)``, some I/O errors)."""
    if conn.in_transaction:
        conn.execute("ROLLBACK")


def _fail(batch: list[tuple[OpDraft, asyncio.Future[Op]]], exc: BaseException) -> None:
    for _, fut in batch:
        if not fut.done():
            fut.set_exception(exc)


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
        inline_commit_below: float = 0.001,
        registry: CollectorRegistry | None = None,
    ) -> None:
        self.path = Path(path)
        self.gateway_id = gateway_id
        self.warehouse = warehouse
        self.master = master
        self.allow_negative_stock = allow_negative_stock
        self.clock = clock or SystemClock()
        self._synchronous = synchronous
        self._max_batch = max_batch
        self._queue_limit = queue_limit
        self._inline_commit_below = inline_commit_below  # seconds: see _commit
        self._commit_seconds = 0.0  # recent COMMIT duration (EWMA)
        self._waiting: deque[tuple[OpDraft, asyncio.Future[Op]]] = deque()  # a deque: a Queue costs 0.5 us/op more
        self._work = asyncio.Event()  # set when appends wait or the journal stops
        self._room = asyncio.Event()  # set when the waiting line is below queue_limit
        self._stopping = False
        self._planner = Planner(
            gateway_id=gateway_id, warehouse=warehouse, master=master, allow_negative_stock=allow_negative_stock
        )
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="journal-writer")
        self._wconn: sqlite3.Connection | None = None
        self._rconn: sqlite3.Connection | None = None
        self._ahead_reader: sqlite3.Connection | None = None  # the planner's own: never shared with API reads
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
        self._ahead_reader = connect(str(self.path), readonly=True)
        self._loop = asyncio.get_running_loop()
        self.metrics.head.set(self.head()[0])
        self._writer = asyncio.create_task(self._write_loop(), name=f"journal-writer:{self.gateway_id}")
        return self

    def _open(self) -> None:
        conn = connect(str(self.path), synchronous=self._synchronous)
        migrate(conn)
        overlay_cloud(conn, self.master)  # the cloud is the master: what it sent wins over the site file
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
        self._stopping = True
        self._room.set()  # appenders held back by a full line give up (JournalClosed)
        self._work.set()
        if self._writer is not None:
            await self._writer
        if self._wconn is not None:
            wconn = self._wconn
            await self.run_write(wconn.close)
        for conn in (self._rconn, self._ahead_reader):
            if conn is not None:
                conn.close()
        self._executor.shutdown(wait=True)

    async def run_write(self, fn: Any, *args: Any) -> Any:
        """Run ``fn`` (which may use ``write_connection``) on the writer thread, between group commits.

        The chain head may move under it (a write by ``fn`` or another process): the next group is then
        planned inside its transaction.
        """
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
        while len(self._waiting) >= self._queue_limit:  # backpressure: wait for the writer to take some
            self._room.clear()
            await self._room.wait()
            if self._closing:
                raise JournalClosed("journal is closing")
        fut: asyncio.Future[Op] = self._loop.create_future()
        self._waiting.append((draft, fut))
        self._work.set()
        return await fut

    def _take(self) -> list[tuple[OpDraft, asyncio.Future[Op]]]:
        """The next group: everything waiting, up to ``max_batch``."""
        n = min(len(self._waiting), self._max_batch)
        popleft = self._waiting.popleft
        batch = [popleft() for _ in range(n)]
        if len(self._waiting) < self._queue_limit:
            self._room.set()
        self.metrics.queue.set(len(self._waiting))
        return batch

    async def _write_loop(self) -> None:
        inflight: _Commit | None = None
        try:
            while True:
                if inflight is not None and not self._waiting:
                    await self._settle(inflight)  # nothing to plan meanwhile: let its appenders go on
                    inflight = None
                if not self._waiting:
                    if self._stopping:
                        return
                    self._work.clear()
                    await self._work.wait()
                    continue
                batch = self._take()
                ahead = None
                if inflight is not None:  # plan this group while the one before is being fsynced
                    ahead = self._plan_ahead([d for d, _ in batch], inflight.plan)
                    if not await self._settle(inflight):
                        ahead = None  # planned on a group that did not commit
                    inflight = None
                inflight = await self._start_commit(batch, ahead)
        finally:
            if inflight is not None:  # never leave the thread mid-COMMIT, nor its appenders unanswered
                if not inflight.future.done():
                    await asyncio.shield(inflight.future)
                await self._settle(inflight)
            for _, fut in self._waiting:
                if not fut.done():
                    fut.set_exception(JournalClosed("journal writer stopped"))

    def _plan_ahead(self, drafts: list[OpDraft], inflight: Plan) -> Plan | None:
        """Plan ``drafts`` on the head ``inflight`` will leave; ``None`` if it cannot be done now."""
        if self._ahead_reader is None:
            return None
        try:
            with AheadView(self._ahead_reader, self.warehouse, inflight, look_up=False) as view:
                return self._planner.plan(drafts, inflight.head, view, self.clock.now())
        except sqlite3.Error:
            return None  # planned again inside the transaction, where an error fails the group

    async def _begin(self, conn: sqlite3.Connection) -> None:
        """``BEGIN IMMEDIATE`` without stalling the loop while another process holds the write lock.

        Tried at once on the loop (the common case costs nothing more); if the lock is taken (say a
        ``wims edge append`` beside the daemon), the wait of up to the busy timeout happens on the
        writer thread, and the gateway's devices and API carry on meanwhile.
        """
        conn.execute("PRAGMA busy_timeout = 0")
        try:
            conn.execute("BEGIN IMMEDIATE")
            return
        except sqlite3.OperationalError as exc:
            if exc.sqlite_errorname != "SQLITE_BUSY":
                raise
        finally:
            conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        await self._loop.run_in_executor(self._executor, conn.execute, "BEGIN IMMEDIATE")

    async def _start_commit(self, batch: list[tuple[OpDraft, asyncio.Future[Op]]], plan: Plan | None) -> _Commit | None:
        """Write a group's rows and start its COMMIT on the writer thread; the caller settles it."""
        await self._write_lock.acquire()
        t0 = time.perf_counter()
        drafts = [d for d, _ in batch]
        try:
            conn = self.write_connection
            await self._begin(conn)
            try:
                plan, where = self._write(conn, drafts, plan, look_up=False)
            except sqlite3.IntegrityError:  # an op_id of the group is journaled already: see _write
                _rollback(conn)
                await self._begin(conn)
                try:
                    plan, _ = self._write(conn, drafts, None, look_up=True)
                    where = "replanned"
                except BaseException:
                    _rollback(conn)
                    raise
            except BaseException:
                _rollback(conn)
                raise
        except Exception as exc:  # the database failed (disk full, I/O error): no op of the group stands
            self._write_lock.release()
            _fail(batch, exc)
            return None
        except BaseException:
            self._write_lock.release()
            raise
        self.metrics.plans.labels(where).inc()
        return _Commit(batch, plan, self._commit(conn), t0)

    def _write(
        self, conn: sqlite3.Connection, drafts: list[OpDraft], plan: Plan | None, *, look_up: bool
    ) -> tuple[Plan, str]:
        """Inside the transaction: use the plan made ahead if its base is still the head, else plan now;
        then insert the rows. Returns the plan written and where it was made (the metric's label).

        Plans take their op_ids to be new without looking them up (``look_up=False``): the unique index
        on op_id checks that at insert, for a third of the cost of a lookup per group. A group that
        holds an op_id journaled already (an append retried after it was stored) fails its insert with
        an ``IntegrityError``, and is planned again with ``look_up=True``, where that draft answers with
        the stored op. (A retried draft that a rule refuses is never inserted: the planner looks those
        up itself.)
        """
        base = read_head(conn)
        if plan is not None and plan.base == base:
            where = "ahead"
        else:  # not planned ahead, or planned on a head another process has moved on from
            where = "transaction" if plan is None else "replanned"
            view = TransactionView(conn, self.warehouse, look_up=look_up)
            plan = self._planner.plan(drafts, base, view, self.clock.now())
        write_plan(conn, plan, self.warehouse)
        return plan, where

    def _commit(self, conn: sqlite3.Connection) -> asyncio.Future[None]:
        """COMMIT (the fsync): inline while commits are fast, on the writer thread once they are slow.

        Handing a COMMIT to a thread and getting the answer back costs ~150-200 us of wake-ups (measured
        here), more than the fsync of a fast disk, and the loop spends longer than that planning and
        inserting each group anyway. A slow disk (an SD card's fsync can take 10-50 ms) must not stall
        the loop: there the COMMIT runs on the thread, and the next group is planned meanwhile.
        """
        future: asyncio.Future[None] = self._loop.create_future()
        if self._commit_seconds < self._inline_commit_below:
            t = time.perf_counter()
            try:
                conn.execute("COMMIT")
            except Exception as exc:
                future.set_exception(exc)
            else:
                future.set_result(None)
            self._note_commit_time(time.perf_counter() - t)
            return future
        started = threading.Event()

        def commit() -> None:
            started.set()
            t = time.perf_counter()
            conn.execute("COMMIT")
            self._note_commit_time(time.perf_counter() - t)

        threaded = self._loop.run_in_executor(self._executor, commit)
        # Wait (GIL released) until the thread is inside COMMIT: otherwise it waits for the GIL until
        # the loop next idles, and the fsync starts only when the loop has nothing else to do.
        started.wait(0.002)
        return threaded

    def _note_commit_time(self, seconds: float) -> None:
        self._commit_seconds += 0.2 * (seconds - self._commit_seconds)  # an EWMA over the last few commits

    async def _settle(self, commit: _Commit | None) -> bool:
        """Wait for a group's COMMIT and answer its appenders; ``False`` if it did not commit."""
        if commit is None:
            return False
        try:
            await commit.future
        except Exception as exc:
            with contextlib.suppress(sqlite3.Error):
                self.write_connection.execute("ROLLBACK")
            _fail(commit.batch, exc)
            return False
        finally:
            self._write_lock.release()
        plan = commit.plan
        self._observe_commit(plan, len(commit.batch), time.perf_counter() - commit.started)
        for (_, fut), res in zip(commit.batch, plan.results, strict=True):
            if fut.done():
                continue  # the caller gave up; the op (if stored) stays, and a retry is idempotent
            if isinstance(res, OpRejected):
                fut.set_exception(res)
            else:
                fut.set_result(res)
        for ev in self._head_listeners:
            ev.set()
        return True

    def _observe_commit(self, plan: Plan, size: int, seconds: float) -> None:
        for res in plan.results:
            if isinstance(res, OpRejected):
                self.metrics.rejected.labels(res.code).inc()
        for kind, n in plan.kinds.items():
            self.metrics.appended.labels(kind).inc(n)
        if plan.flagged:
            self.metrics.flagged.inc(plan.flagged)
        self.metrics.batch.observe(size)
        self.metrics.commit_seconds.observe(seconds)
        self.metrics.head.set(plan.head[0])

    # ---- reading ---------------------------------------------------------------------------------

    @property
    def _reader(self) -> sqlite3.Connection:
        assert self._rconn is not None, "journal is not open"
        return self._rconn

    def read(self, fn: Callable[Concatenate[sqlite3.Connection, P], T], *args: P.args, **kwargs: P.kwargs) -> T:
        """Run a store query function on the reader connection (never blocks the writer)."""
        return fn(self._reader, *args, **kwargs)

    async def write(self, fn: Callable[Concatenate[sqlite3.Connection, P], T], *args: P.args, **kwargs: P.kwargs) -> T:
        """Run a store write function on the write connection, on the writer thread between group commits."""
        result: T = await self.run_write(functools.partial(fn, self.write_connection, *args, **kwargs))
        return result

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
        return read_qty(self._reader, self.warehouse, (sku, lot, location, status.value))

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
