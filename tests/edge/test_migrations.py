"""Schema migrations from an empty database and from the previous version."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from edge.config import SiteConfig
from edge.store.schema import SCHEMA_VERSION, SchemaTooNew, connect, migrate, schema_version
from edge.store.verify import verify_database
from sync.ops import OpDraft, utc_now
from tests.support.edge import open_journal


def _tables(conn: sqlite3.Connection) -> set[str]:
    return {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}


def test_from_empty(tmp_path: Path) -> None:
    conn = connect(str(tmp_path / "e.sqlite"))
    assert migrate(conn) == list(range(1, SCHEMA_VERSION + 1))
    assert schema_version(conn) == SCHEMA_VERSION
    assert {"journal", "stock", "skus", "telemetry_raw", "telemetry_agg", "sync_state"} <= _tables(conn)
    assert migrate(conn) == []  # idempotent


async def test_from_previous_version_keeps_the_journal(site: SiteConfig) -> None:
    path = str(site.store.path)
    conn = connect(path)
    migrate(conn, target=SCHEMA_VERSION - 1)
    before = _tables(conn)
    conn.close()
    async with open_journal(site) as j:  # a gateway upgraded while stopped migrates at start
        await j.append(
            OpDraft.model_validate(
                {
                    "payload": {"kind": "receive", "sku": "SKU-0", "location": "A-01", "qty": 3},
                    "actor": "op1",
                    "occurred_at": utc_now(),
                }
            )
        )
    conn = connect(path)
    assert schema_version(conn) == SCHEMA_VERSION
    assert _tables(conn) > before
    assert verify_database(conn).ops == 1


def test_v1_data_survives_upgrade(tmp_path: Path) -> None:
    path = str(tmp_path / "old.sqlite")
    conn = connect(path)
    migrate(conn, target=1)
    conn.execute(
        "INSERT INTO journal(seq, op_id, kind, recorded_at, body, hash, prev_hash) "
        "VALUES (1, 'x', 'receive', 't', '{}', 'h', 'p')"
    )
    conn.execute("INSERT INTO stock VALUES ('W', 'S', '', 'L', 'available', 5)")
    assert migrate(conn) == list(range(2, SCHEMA_VERSION + 1))
    assert conn.execute("SELECT qty FROM stock").fetchone() == (5,)
    assert conn.execute("SELECT count(*) FROM journal").fetchone() == (1,)


def test_newer_schema_is_refused(tmp_path: Path) -> None:
    conn = connect(str(tmp_path / "new.sqlite"))
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    with pytest.raises(SchemaTooNew, match="newer than this WIMS"):
        migrate(conn)
