"""Versioned schema of the edge database, kept in ``PRAGMA user_version``.

Each migration moves the schema one version forward and runs in its own transaction, so a gateway that
was upgraded while stopped at any version catches up at start. Tables are declared with sqlite-utils;
the hot path (the journal writer) uses plain ``sqlite3``.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable

import sqlite_utils


def _v1(db: sqlite_utils.Database) -> None:
    """The journal, the stock projection and master data."""
    db.create_table(
        "journal",
        {
            "seq": int,
            "op_id": str,
            "kind": str,
            "occurred_at": str,
            "recorded_at": str,
            "actor": str,
            "device_id": str,
            "body": str,
            "hash": str,
            "prev_hash": str,
            "flags": str,
        },
        pk="seq",
        not_null={"op_id", "kind", "body", "hash", "prev_hash", "recorded_at"},
    )
    db["journal"].create_index(["op_id"], unique=True)  # type: ignore[union-attr]
    db["journal"].create_index(["kind"])  # type: ignore[union-attr]
    db.execute(
        """CREATE TABLE stock (
            warehouse TEXT NOT NULL, sku TEXT NOT NULL, lot TEXT NOT NULL, location TEXT NOT NULL,
            status TEXT NOT NULL, qty INTEGER NOT NULL,
            PRIMARY KEY (warehouse, sku, lot, location, status)) WITHOUT ROWID"""
    )
    for table in ("skus", "zones", "locations", "operators", "inbound_orders", "outbound_orders"):
        db.create_table(table, {"code": str, "data": str}, pk="code", not_null={"data"})
    db.create_table("meta", {"key": str, "value": str}, pk="key")


def _v2(db: sqlite_utils.Database) -> None:
    """Telemetry buffer (raw readings and 1-minute aggregates) and the sync agent's durable state."""
    db.create_table("telemetry_raw", {"id": int, "sensor_id": str, "ts": float, "value": float}, pk="id")
    db.execute(
        """CREATE TABLE telemetry_agg (
            sensor_id TEXT NOT NULL, minute INTEGER NOT NULL, n INTEGER NOT NULL, vmin REAL NOT NULL,
            vmax REAL NOT NULL, vsum REAL NOT NULL, synced INTEGER NOT NULL DEFAULT 0,
            PRIMARY KEY (sensor_id, minute)) WITHOUT ROWID"""
    )
    db.create_table("sync_state", {"key": str, "value": str}, pk="key")


def _v3(db: sqlite_utils.Database) -> None:
    """Compaction: the stock that compacted ops amount to, so the projection stays checkable."""
    db.execute(
        """CREATE TABLE stock_checkpoint (
            warehouse TEXT NOT NULL, sku TEXT NOT NULL, lot TEXT NOT NULL, location TEXT NOT NULL,
            status TEXT NOT NULL, qty INTEGER NOT NULL,
            PRIMARY KEY (warehouse, sku, lot, location, status)) WITHOUT ROWID"""
    )


def _v4(db: sqlite_utils.Database) -> None:
    """Master data records received from the cloud (the network's master): they win over the site file's
    at every start (``edge.store.masterdata.overlay_cloud``)."""
    db.execute(
        """CREATE TABLE cloud_master (
            kind TEXT NOT NULL, code TEXT NOT NULL, data TEXT NOT NULL,
            PRIMARY KEY (kind, code)) WITHOUT ROWID"""
    )


MIGRATIONS: list[Callable[[sqlite_utils.Database], None]] = [_v1, _v2, _v3, _v4]
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
    db = sqlite_utils.Database(conn)
    for version in range(current + 1, target + 1):
        conn.execute("BEGIN IMMEDIATE")
        try:
            MIGRATIONS[version - 1](db)
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
