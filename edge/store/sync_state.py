"""What the uplink reads and writes in the journal's database: the wire form of ops, the backlog, the
sync agent's durable state and the receipts of applied commands.

Every statement is a function of a connection, so the running gateway (through its journal's reader
or writer) and the CLI (on a read-only connection while the gateway is stopped) ask the same question
the same way: ``wims edge sync status`` gives the same figures either way.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass

WIRE_OVERHEAD_BYTES = 80
"""What an op weighs on the wire beyond its stored body: the hash and its key, and the separator."""


@dataclass(frozen=True)
class Backlog:
    """Ops journaled but not yet acknowledged by the cloud."""

    acked_seq: int
    head_seq: int
    ops: int
    bytes: int
    """Approximate bytes of the unacknowledged ops as sent (body plus ``WIRE_OVERHEAD_BYTES`` each)."""
    oldest_recorded_at: str | None


def read_state(conn: sqlite3.Connection, key: str) -> str | None:
    row = conn.execute("SELECT value FROM sync_state WHERE key = ?", (key,)).fetchone()
    return str(row[0]) if row else None


def write_state(conn: sqlite3.Connection, key: str, value: str) -> None:
    conn.execute(
        "INSERT INTO sync_state(key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
        (key, value),
    )


def read_backlog(conn: sqlite3.Connection, acked_seq: int, head_seq: int) -> Backlog:
    """The backlog after ``acked_seq``: the one query for the running gateway and the CLI alike."""
    count, size, oldest = conn.execute(
        "SELECT count(*), coalesce(sum(length(body)), 0),"
        " (SELECT recorded_at FROM journal WHERE seq > ?1 ORDER BY seq LIMIT 1) FROM journal WHERE seq > ?1",
        (acked_seq,),
    ).fetchone()
    return Backlog(
        acked_seq=acked_seq,
        head_seq=head_seq,
        ops=max(0, head_seq - acked_seq),
        bytes=int(size) + WIRE_OVERHEAD_BYTES * int(count),
        oldest_recorded_at=str(oldest) if oldest is not None else None,
    )


def first_held_seq(conn: sqlite3.Connection, head_seq: int) -> int:
    """The lowest seq still held (1 unless acknowledged ops were compacted away)."""
    row = conn.execute("SELECT min(seq) FROM journal").fetchone()
    return int(row[0]) if row and row[0] is not None else head_seq + 1


def read_wire(conn: sqlite3.Connection, after: int, max_ops: int, max_bytes: int) -> list[tuple[int, bytes]]:
    """Ops after ``after`` in seq order as (seq, wire JSON), stopping at either limit (at least one op).

    The wire JSON of an op is its stored canonical text with the hash added, so nothing is
    re-serialised between the hash and the wire.
    """
    out: list[tuple[int, bytes]] = []
    size = 0
    for seq, text, hash_ in conn.execute(
        "SELECT seq, body, hash FROM journal WHERE seq > ? ORDER BY seq LIMIT ?", (after, max_ops)
    ):
        wire = f'{text[:-1]},"hash":"{hash_}"}}'.encode()
        if out and size + len(wire) > max_bytes:
            break
        out.append((int(seq), wire))
        size += len(wire)
    return out


def command_applied(conn: sqlite3.Connection, command_id: str) -> bool:
    """Whether a ``command_applied`` op for this command is in the journal (a re-delivered command)."""
    row = conn.execute(
        "SELECT 1 FROM journal WHERE kind = 'command_applied' "
        "AND json_extract(body, '$.payload.command_id') = ? LIMIT 1",
        (command_id,),
    ).fetchone()
    return row is not None


def compactable_seq(conn: sqlite3.Connection, acked_seq: int, recorded_before: str) -> int | None:
    """The highest seq that the cloud acknowledged and that was recorded before ``recorded_before``."""
    row = conn.execute(
        "SELECT max(seq) FROM journal WHERE seq <= ? AND recorded_at < ?", (acked_seq, recorded_before)
    ).fetchone()
    return int(row[0]) if row and row[0] is not None else None
