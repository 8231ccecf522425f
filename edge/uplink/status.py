"""The figures of a gateway's sync backlog, the same whether the gateway runs or not.

The running gateway shows them in ``/healthz`` (its sync agent's acknowledged seq); a stopped one is
read by ``wims edge sync status`` from the journal alone (the acknowledged seq the agent stored). Both
go through ``backlog_facts`` over the one backlog query (``edge.store.sync_state.read_backlog``).
"""

from __future__ import annotations

import sqlite3
from datetime import datetime
from typing import Any

from edge.store import sync_state
from edge.store.journal import read_head
from sync.agent.agent import ACKED_KEY


def _age_seconds(iso: str | None, now: datetime) -> float:
    if not iso:
        return 0.0
    return max(0.0, (now - datetime.fromisoformat(iso.replace("Z", "+00:00"))).total_seconds())


def backlog_facts(backlog: sync_state.Backlog, now: datetime) -> dict[str, Any]:
    return {
        "acked_seq": backlog.acked_seq,
        "head_seq": backlog.head_seq,
        "backlog_ops": backlog.ops,
        "backlog_bytes": backlog.bytes,
        "oldest_unacked_recorded_at": backlog.oldest_recorded_at,
        "oldest_unacked_age_s": round(_age_seconds(backlog.oldest_recorded_at, now), 3),
    }


def stored_backlog(conn: sqlite3.Connection) -> sync_state.Backlog:
    """The backlog as the journal alone says it (for a gateway that is not running)."""
    stored = sync_state.read_state(conn, ACKED_KEY)
    return sync_state.read_backlog(conn, int(stored) if stored else 0, read_head(conn)[0])
