"""The audit log: every write by a user or a gateway, hash-chained like the ops themselves.

Each entry's hash covers its fields and the previous entry's hash, so editing, deleting or reordering
any entry breaks verification from that point on. Appends take a transaction-scoped lock (an advisory
lock on PostgreSQL; SQLite's write lock already serialises writers) so that concurrent workers cannot
fork the chain.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from cloud.db.schema import audit_log
from sync.canonical import canonical_bytes, iso_utc
from sync.ops import GENESIS_HASH

_AUDIT_LOCK_KEY = 0x57494D53_00A0  # "WIMS" + audit: an arbitrary but fixed advisory lock id


def _entry_hash(at: str, actor: str, action: str, target: str, detail: str, prev_hash: str) -> str:
    fields = {
        "at": at,
        "actor": actor,
        "action": action,
        "target": target,
        "detail": detail,
        "prev": prev_hash,
    }
    return hashlib.sha256(canonical_bytes(fields)).hexdigest()


def append(conn: Connection, *, now: datetime, actor: str, action: str, target: str, detail: dict[str, Any]) -> str:
    """Append one entry inside the caller's transaction; returns its hash."""
    if conn.dialect.name == "postgresql":
        conn.execute(sa.text("SELECT pg_advisory_xact_lock(:k)"), {"k": _AUDIT_LOCK_KEY})
    prev = conn.execute(sa.select(audit_log.c.hash).order_by(audit_log.c.id.desc()).limit(1)).scalar()
    row = entry(now=now, actor=actor, action=action, target=target, detail=detail, prev_hash=prev or GENESIS_HASH)
    conn.execute(audit_log.insert().values(dict(zip(_ENTRY_COLUMNS, row, strict=True))))
    return row[-1]


_ENTRY_COLUMNS = ("at", "actor", "action", "target", "detail", "prev_hash", "hash")

PG_LOCK_SQL = f"SELECT pg_advisory_xact_lock({_AUDIT_LOCK_KEY})"
"""The append lock, for a caller that sends its statements itself (ingest's pipeline). Take it after every
other lock of the transaction and read ``PG_HEAD_SQL`` in a *later* statement: under READ COMMITTED a
statement's snapshot is taken when it starts, so a read in the locking statement could miss the entry
committed by the transaction that held the lock."""
PG_HEAD_SQL = "SELECT hash FROM audit_log ORDER BY id DESC LIMIT 1"
PG_INSERT_SQL = f"INSERT INTO audit_log ({', '.join(_ENTRY_COLUMNS)}) VALUES (%s, %s, %s, %s, %s, %s, %s)"


def entry(
    *, now: datetime, actor: str, action: str, target: str, detail: dict[str, Any], prev_hash: str
) -> tuple[str, str, str, str, str, str, str]:
    """The row of one entry following ``prev_hash``, in ``PG_INSERT_SQL``'s column order (hash last)."""
    at = iso_utc(now)
    detail_text = canonical_bytes(json.loads(json.dumps(detail, default=str))).decode()
    digest = _entry_hash(at, actor, action, target, detail_text, prev_hash)
    return at, actor, action, target, detail_text, prev_hash, digest


@dataclass(frozen=True, slots=True)
class AuditVerdict:
    entries: int
    ok: bool
    bad_id: int | None = None
    reason: str = ""


def verify(conn: Connection, *, chunk: int = 5000) -> AuditVerdict:
    """Walk the whole log in id order, recomputing every hash and link."""
    prev_hash = GENESIS_HASH
    count = 0
    last_id = 0
    while True:
        rows = conn.execute(
            sa.select(audit_log).where(audit_log.c.id > last_id).order_by(audit_log.c.id).limit(chunk)
        ).all()
        if not rows:
            return AuditVerdict(entries=count, ok=True)
        for r in rows:
            if r.prev_hash != prev_hash:
                return AuditVerdict(count, False, r.id, "prev_hash does not match the previous entry")
            if _entry_hash(r.at, r.actor, r.action, r.target, r.detail, r.prev_hash) != r.hash:
                return AuditVerdict(count, False, r.id, "hash does not match the entry's content")
            prev_hash = r.hash
            count += 1
            last_id = r.id
