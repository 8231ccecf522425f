"""The webhook outbox and the floor's working documents: every SQL statement on their tables.

The outbox holds each message to a receiver (the carrier's TMS) until it is delivered or given up on,
so a message enqueued before a crash, an outage or a restart is still sent, and sent as the same bytes
under the same ``webhook-id`` (the receiver's deduplication key). Every attempt is a row of
``webhook_attempts``. Timestamps are ``iso_utc`` text (fixed width), so they compare as text.

``floor_docs`` keeps receipts, putaways, orders and waves as JSON documents by (kind, id): their state
is a working record, not stock (stock only ever changes through ops in the journal).
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from typing import Any

import orjson

PENDING, DELIVERED, FAILED = "pending", "delivered", "failed"


@dataclass(frozen=True, slots=True)
class OutboxMessage:
    msg_id: str
    event_type: str
    url: str
    body: str
    created_at: str
    next_attempt_at: str
    attempts: int
    status: str
    delivered_at: str | None
    last_error: str | None
    work_order_id: str | None


@dataclass(frozen=True, slots=True)
class Attempt:
    msg_id: str
    attempt: int
    at: str
    status_code: int | None
    error: str | None
    outcome: str
    elapsed_ms: float | None


_COLUMNS = (
    "msg_id, event_type, url, body, created_at, next_attempt_at, attempts, status, delivered_at, last_error,"
    " work_order_id"
)


def _tx(conn: sqlite3.Connection) -> _Tx:
    return _Tx(conn)


class _Tx:
    """``BEGIN IMMEDIATE`` ... ``COMMIT`` (``ROLLBACK`` on error): the write connection is in autocommit."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn

    def __enter__(self) -> sqlite3.Connection:
        self.conn.execute("BEGIN IMMEDIATE")
        return self.conn

    def __exit__(self, exc_type: object, *_: object) -> None:
        self.conn.execute("ROLLBACK" if exc_type is not None else "COMMIT")


def enqueue(conn: sqlite3.Connection, msg_id: str, event_type: str, url: str, body: str, now: str) -> bool:
    """Add a message, due at once; ``False`` if ``msg_id`` is already there (enqueueing is idempotent)."""
    with _tx(conn):
        cur = conn.execute(
            "INSERT OR IGNORE INTO webhook_outbox (msg_id, event_type, url, body, created_at, next_attempt_at)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            (msg_id, event_type, url, body, now, now),
        )
    return cur.rowcount == 1


def get(conn: sqlite3.Connection, msg_id: str) -> OutboxMessage | None:
    row = conn.execute(f"SELECT {_COLUMNS} FROM webhook_outbox WHERE msg_id = ?", (msg_id,)).fetchone()
    return OutboxMessage(*row) if row else None


def list_messages(conn: sqlite3.Connection, *, status: str | None = None, limit: int = 100) -> list[OutboxMessage]:
    sql = f"SELECT {_COLUMNS} FROM webhook_outbox"
    args: list[Any] = []
    if status is not None:
        sql += " WHERE status = ?"
        args.append(status)
    sql += " ORDER BY created_at, msg_id LIMIT ?"
    args.append(limit)
    return [OutboxMessage(*row) for row in conn.execute(sql, args)]


def count_by_status(conn: sqlite3.Connection) -> dict[str, int]:
    return {str(s): int(n) for s, n in conn.execute("SELECT status, COUNT(*) FROM webhook_outbox GROUP BY status")}


def due(conn: sqlite3.Connection, now: str, limit: int = 50) -> list[OutboxMessage]:
    """Pending messages whose next attempt is due, oldest first."""
    rows = conn.execute(
        f"SELECT {_COLUMNS} FROM webhook_outbox WHERE status = 'pending' AND next_attempt_at <= ?"
        " ORDER BY next_attempt_at, created_at LIMIT ?",
        (now, limit),
    )
    return [OutboxMessage(*row) for row in rows]


def next_due(conn: sqlite3.Connection) -> str | None:
    """When the earliest pending message is due (``None``: nothing pending)."""
    row = conn.execute("SELECT MIN(next_attempt_at) FROM webhook_outbox WHERE status = 'pending'").fetchone()
    return str(row[0]) if row and row[0] is not None else None


def record_attempt(
    conn: sqlite3.Connection,
    msg_id: str,
    *,
    at: str,
    status_code: int | None,
    error: str | None,
    outcome: str,
    elapsed_ms: float | None,
    next_attempt_at: str | None = None,
    work_order_id: str | None = None,
) -> int:
    """Record one attempt and move the message on in one transaction: ``outcome`` is ``delivered``,
    ``retry`` (due again at ``next_attempt_at``) or ``failed`` (given up). Returns the attempt number."""
    with _tx(conn):
        row = conn.execute("SELECT attempts FROM webhook_outbox WHERE msg_id = ?", (msg_id,)).fetchone()
        if row is None:
            raise KeyError(f"no webhook message {msg_id!r}")
        attempt = int(row[0]) + 1
        conn.execute(
            "INSERT INTO webhook_attempts (msg_id, attempt, at, status_code, error, outcome, elapsed_ms)"
            " VALUES (?, ?, ?, ?, ?, ?, ?)",
            (msg_id, attempt, at, status_code, error, outcome, elapsed_ms),
        )
        status = DELIVERED if outcome == "delivered" else FAILED if outcome == "failed" else PENDING
        conn.execute(
            "UPDATE webhook_outbox SET attempts = ?, status = ?, last_error = ?,"
            " next_attempt_at = COALESCE(?, next_attempt_at), delivered_at = CASE WHEN ? THEN ? END,"
            " work_order_id = COALESCE(?, work_order_id) WHERE msg_id = ?",
            (
                attempt,
                status,
                error,
                next_attempt_at,
                status == DELIVERED,
                at,
                work_order_id,
                msg_id,
            ),
        )
    return attempt


def attempts(conn: sqlite3.Connection, msg_id: str) -> list[Attempt]:
    rows = conn.execute(
        "SELECT msg_id, attempt, at, status_code, error, outcome, elapsed_ms FROM webhook_attempts"
        " WHERE msg_id = ? ORDER BY attempt",
        (msg_id,),
    )
    return [Attempt(*row) for row in rows]


def retry_now(conn: sqlite3.Connection, msg_id: str, now: str) -> bool:
    """Put a failed message back in line (an operator fixed the receiver); ``False`` if none such."""
    with _tx(conn):
        cur = conn.execute(
            "UPDATE webhook_outbox SET status = 'pending', next_attempt_at = ? WHERE msg_id = ? AND status != ?",
            (now, msg_id, DELIVERED),
        )
    return cur.rowcount == 1


# ---- floor documents ------------------------------------------------------------------------------


def put_doc(conn: sqlite3.Connection, kind: str, doc_id: str, status: str, data: dict[str, Any], now: str) -> None:
    """Insert or replace one document."""
    with _tx(conn):
        conn.execute(
            "INSERT OR REPLACE INTO floor_docs (kind, id, status, data, updated_at) VALUES (?, ?, ?, ?, ?)",
            (kind, doc_id, status, orjson.dumps(data).decode(), now),
        )


def put_docs(conn: sqlite3.Connection, docs: list[tuple[str, str, str, dict[str, Any]]], now: str) -> None:
    """Several documents in one transaction (an order and its wave change together)."""
    with _tx(conn):
        conn.executemany(
            "INSERT OR REPLACE INTO floor_docs (kind, id, status, data, updated_at) VALUES (?, ?, ?, ?, ?)",
            [(k, i, s, orjson.dumps(d).decode(), now) for k, i, s, d in docs],
        )


def get_doc(conn: sqlite3.Connection, kind: str, doc_id: str) -> tuple[str, dict[str, Any]] | None:
    """(status, data) of a document, or ``None``."""
    row = conn.execute("SELECT status, data FROM floor_docs WHERE kind = ? AND id = ?", (kind, doc_id)).fetchone()
    return (str(row[0]), orjson.loads(row[1])) if row else None


def list_docs(
    conn: sqlite3.Connection, kind: str, *, status: str | None = None, limit: int = 1000
) -> list[tuple[str, str, dict[str, Any]]]:
    """(id, status, data) of a kind's documents, by id."""
    sql = "SELECT id, status, data FROM floor_docs WHERE kind = ?"
    args: list[Any] = [kind]
    if status is not None:
        sql += " AND status = ?"
        args.append(status)
    sql += " ORDER BY id LIMIT ?"
    args.append(limit)
    return [(str(i), str(s), orjson.loads(d)) for i, s, d in conn.execute(sql, args)]


def next_serial(conn: sqlite3.Connection, name: str, now: str) -> int:
    """The next number of a named counter (SSCC serials, document ids): 1, 2, ... never reused."""
    with _tx(conn):
        row = conn.execute("SELECT data FROM floor_docs WHERE kind = 'counter' AND id = ?", (name,)).fetchone()
        value = int(orjson.loads(row[0])["value"]) + 1 if row else 1
        conn.execute(
            "INSERT OR REPLACE INTO floor_docs (kind, id, status, data, updated_at) VALUES ('counter', ?, 'n', ?, ?)",
            (name, orjson.dumps({"value": value}).decode(), now),
        )
    return value
