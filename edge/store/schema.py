"""Versioned schema of the edge database, kept in ``PRAGMA user_version``.

Each migration moves the schema one version forward and runs in its own transaction, so a gateway that
was upgraded while stopped at any version catches up at start. Tables are declared in plain SQL: not
with sqlite-utils, which imports pandas whenever it is installed (as it is beside the cloud's planning),
and pandas alone would cost a gateway over 100 MB of its 200 MB budget.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable


def _v1(conn: sqlite3.Connection) -> None:
    """The journal, the stock projection and master data."""
    conn.execute(
        """CREATE TABLE journal (
            seq INTEGER PRIMARY KEY, op_id TEXT NOT NULL, kind TEXT NOT NULL, occurred_at TEXT,
            recorded_at TEXT NOT NULL, actor TEXT, device_id TEXT, body TEXT NOT NULL, hash TEXT NOT NULL,
            prev_hash TEXT NOT NULL, flags TEXT)"""
    )
    conn.execute("CREATE UNIQUE INDEX idx_journal_op_id ON journal (op_id)")
    conn.execute("CREATE INDEX idx_journal_kind ON journal (kind)")
    conn.execute(
        """CREATE TABLE stock (
            warehouse TEXT NOT NULL, sku TEXT NOT NULL, lot TEXT NOT NULL, location TEXT NOT NULL,
            status TEXT NOT NULL, qty INTEGER NOT NULL,
            PRIMARY KEY (warehouse, sku, lot, location, status)) WITHOUT ROWID"""
    )
    for table in ("skus", "zones", "locations", "operators", "inbound_orders", "outbound_orders"):
        conn.execute(f"CREATE TABLE {table} (code TEXT PRIMARY KEY, data TEXT NOT NULL)")
    conn.execute("CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT)")


def _v2(conn: sqlite3.Connection) -> None:
    """Telemetry buffer (raw readings and 1-minute aggregates) and the sync agent's durable state."""
    conn.execute("CREATE TABLE telemetry_raw (id INTEGER PRIMARY KEY, sensor_id TEXT, ts FLOAT, value FLOAT)")
    conn.execute(
        """CREATE TABLE telemetry_agg (
            sensor_id TEXT NOT NULL, minute INTEGER NOT NULL, n INTEGER NOT NULL, vmin REAL NOT NULL,
            vmax REAL NOT NULL, vsum REAL NOT NULL, synced INTEGER NOT NULL DEFAULT 0,
            PRIMARY KEY (sensor_id, minute)) WITHOUT ROWID"""
    )
    conn.execute("CREATE TABLE sync_state (key TEXT PRIMARY KEY, value TEXT)")


def _v3(conn: sqlite3.Connection) -> None:
    """Compaction: the stock that compacted ops amount to, so the projection stays checkable."""
    conn.execute(
        """CREATE TABLE stock_checkpoint (
            warehouse TEXT NOT NULL, sku TEXT NOT NULL, lot TEXT NOT NULL, location TEXT NOT NULL,
            status TEXT NOT NULL, qty INTEGER NOT NULL,
            PRIMARY KEY (warehouse, sku, lot, location, status)) WITHOUT ROWID"""
    )


def _v4(conn: sqlite3.Connection) -> None:
    """Master data records received from the cloud (the network's master): they win over the site file's
    at every start (``edge.store.masterdata.overlay_cloud``)."""
    conn.execute(
        """CREATE TABLE cloud_master (
            kind TEXT NOT NULL, code TEXT NOT NULL, data TEXT NOT NULL,
            PRIMARY KEY (kind, code)) WITHOUT ROWID"""
    )


def _floor_tasks(conn: sqlite3.Connection) -> None:
    """Floor tasks, exception work orders and operator sessions (``edge.store.floor``).

    ``floor_tasks`` and ``floor_work_orders`` are projections of the ``task`` and ``work_order`` ops,
    updated in the transaction that journals the op; ``body`` is the last op's payload. Sessions hold
    only a hash of their token: whoever reads the database cannot act as an operator.
    """
    conn.execute(
        """CREATE TABLE floor_tasks (
            task_id TEXT PRIMARY KEY, task_kind TEXT NOT NULL, state TEXT NOT NULL, assignee TEXT,
            role TEXT NOT NULL, zone TEXT, priority INTEGER NOT NULL, body TEXT NOT NULL,
            created_at TEXT NOT NULL, created_by TEXT NOT NULL, created_seq INTEGER NOT NULL,
            updated_at TEXT NOT NULL, updated_by TEXT NOT NULL, updated_seq INTEGER NOT NULL)"""
    )
    conn.execute("CREATE INDEX idx_floor_tasks_queue ON floor_tasks (state, priority, created_seq)")
    conn.execute("CREATE INDEX idx_floor_tasks_assignee ON floor_tasks (assignee, state)")
    conn.execute(
        """CREATE TABLE floor_work_orders (
            work_order_id TEXT PRIMARY KEY, fact_key TEXT UNIQUE, wo_type TEXT NOT NULL, state TEXT NOT NULL,
            role TEXT NOT NULL, level INTEGER NOT NULL DEFAULT 0, sla_due TEXT, body TEXT NOT NULL,
            opened_at TEXT NOT NULL, opened_by TEXT NOT NULL, opened_seq INTEGER NOT NULL,
            updated_at TEXT NOT NULL, updated_by TEXT NOT NULL, updated_seq INTEGER NOT NULL)"""
    )
    conn.execute("CREATE INDEX idx_floor_work_orders_due ON floor_work_orders (state, sla_due)")
    conn.execute(
        """CREATE TABLE operator_sessions (
            token_hash TEXT PRIMARY KEY, operator_id TEXT NOT NULL, method TEXT NOT NULL, station TEXT NOT NULL,
            started_at TEXT NOT NULL, expires_at TEXT NOT NULL, ended_at TEXT)"""
    )
    conn.execute("CREATE INDEX idx_operator_sessions_station ON operator_sessions (station, ended_at)")


def _floor_flow(conn: sqlite3.Connection) -> None:
    """The carrier hand-off's webhook outbox (every delivery attempt kept) and the floor's working
    documents (receipts, putaways, orders, waves): state that is not stock, so not ops, but must
    survive a restart. Stock changes stay ops in the journal."""
    conn.execute(
        """CREATE TABLE webhook_outbox (
            msg_id TEXT PRIMARY KEY, event_type TEXT NOT NULL, url TEXT NOT NULL, body TEXT NOT NULL,
            created_at TEXT NOT NULL, next_attempt_at TEXT NOT NULL, attempts INTEGER NOT NULL DEFAULT 0,
            status TEXT NOT NULL DEFAULT 'pending', delivered_at TEXT, last_error TEXT,
            work_order_id TEXT)"""
    )
    conn.execute("CREATE INDEX idx_webhook_outbox_due ON webhook_outbox (status, next_attempt_at)")
    conn.execute(
        """CREATE TABLE webhook_attempts (
            id INTEGER PRIMARY KEY, msg_id TEXT NOT NULL, attempt INTEGER NOT NULL, at TEXT NOT NULL,
            status_code INTEGER, error TEXT, outcome TEXT NOT NULL, elapsed_ms REAL)"""
    )
    conn.execute("CREATE INDEX idx_webhook_attempts_msg ON webhook_attempts (msg_id, attempt)")
    conn.execute(
        """CREATE TABLE floor_docs (
            kind TEXT NOT NULL, id TEXT NOT NULL, status TEXT NOT NULL, data TEXT NOT NULL,
            updated_at TEXT NOT NULL, PRIMARY KEY (kind, id)) WITHOUT ROWID"""
    )
    conn.execute("CREATE INDEX idx_floor_docs_status ON floor_docs (kind, status)")


def _transport_tasks(conn: sqlite3.Connection) -> None:
    """AGV transport tasks the gateway accepted (from rules, putaway, the cloud), with their last known
    state, so a restart resumes each from the AGVs' reports instead of sending it again blindly
    (``edge.floor.transport``)."""
    conn.execute(
        """CREATE TABLE transport_tasks (
            task_id TEXT PRIMARY KEY, source TEXT NOT NULL, ref TEXT NOT NULL, handling_unit TEXT NOT NULL,
            sku TEXT NOT NULL, lot TEXT NOT NULL, qty INTEGER NOT NULL, from_location TEXT NOT NULL,
            to_location TEXT NOT NULL, priority INTEGER NOT NULL, state TEXT NOT NULL, vehicle TEXT,
            pick_action TEXT, drop_action TEXT, attempts INTEGER NOT NULL DEFAULT 0,
            reason TEXT NOT NULL DEFAULT '', accepted_at TEXT NOT NULL, updated_at TEXT NOT NULL)"""
    )
    conn.execute("CREATE INDEX idx_transport_tasks_state ON transport_tasks (state)")


MIGRATIONS: list[Callable[[sqlite3.Connection], None]] = [
    _v1,
    _v2,
    _v3,
    _v4,
    _floor_tasks,
    _floor_flow,
    _transport_tasks,
]
SCHEMA_VERSION = len(MIGRATIONS)


class SchemaTooNew(RuntimeError):
    """The database was written by a newer WIMS than this one; refuse rather than corrupt it."""


def schema_version(conn: sqlite3.Connection) -> int:
    return int(conn.execute("PRAGMA user_version").fetchone()[0])


def migrate(conn: sqlite3.Connection, target: int = SCHEMA_VERSION) -> list[int]:
    """Bring the database to ``target``; returns the versions applied."""
    current = schema_version(conn)
    if current > SCHEMA_VERSION:
        raise SchemaTooNew(f"database schema v{current} is newer than this WIMS (v{SCHEMA_VERSION})")
    applied = []
    for version in range(current + 1, target + 1):
        conn.execute("BEGIN IMMEDIATE")
        try:
            MIGRATIONS[version - 1](conn)
            conn.execute(f"PRAGMA user_version = {version}")
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        applied.append(version)
    return applied


BUSY_TIMEOUT_MS = 30_000
"""How long a write waits for another process's write lock before failing with "database is locked"."""


def connect(path: str, *, synchronous: str = "FULL", readonly: bool = False) -> sqlite3.Connection:
    """Open the edge database the way every part of WIMS must: WAL, explicit transactions.

    WAL lets readers (API, CLI) run beside the one writer. ``synchronous=FULL`` in WAL mode fsyncs the
    log at every commit, which is what makes an acknowledged append survive power loss.
    """
    uri = f"file:{path}?mode=ro" if readonly else f"file:{path}"
    conn = sqlite3.connect(uri, uri=True, isolation_level=None, check_same_thread=False, timeout=BUSY_TIMEOUT_MS / 1000)
    conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    if not readonly:
        conn.execute("PRAGMA journal_mode = WAL")
        conn.execute(f"PRAGMA synchronous = {synchronous}")
        conn.execute("PRAGMA foreign_keys = ON")
    return conn
