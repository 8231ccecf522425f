"""Engines for SQLite (the default) and PostgreSQL, and the few dialect differences the code needs.

SQLite: WAL, a busy timeout and ``BEGIN IMMEDIATE`` so that two writers queue instead of failing late
with "database is locked". PostgreSQL: psycopg 3, whatever spelling of the URL the user gave.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, Engine


def normalise_url(url: str) -> str:
    """Accept ``postgres://`` and ``postgresql://`` and run them with psycopg 3."""
    for prefix in ("postgres://", "postgresql://", "postgresql+psycopg2://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def is_postgres(url_or_conn: str | Connection | Engine) -> bool:
    if isinstance(url_or_conn, str):
        return normalise_url(url_or_conn).startswith("postgresql")
    return url_or_conn.dialect.name == "postgresql"


def make_engine(url: str, *, pool_size: int = 10) -> Engine:
    url = normalise_url(url)
    if url.startswith("sqlite"):
        engine = sa.create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})

        @sa.event.listens_for(engine, "connect")
        def _on_connect(dbapi_conn: Any, _record: Any) -> None:
            dbapi_conn.isolation_level = None  # we issue BEGIN ourselves (below)
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.close()

        @sa.event.listens_for(engine, "begin")
        def _on_begin(conn: Connection) -> None:
            conn.exec_driver_sql("BEGIN IMMEDIATE")

        return engine
    return sa.create_engine(url, pool_size=pool_size, max_overflow=pool_size, pool_pre_ping=True)


def dialect_insert(conn: Connection, table: sa.Table) -> Any:
    """An INSERT that knows ``ON CONFLICT`` (both dialects spell it the same way in SQLAlchemy)."""
    if conn.dialect.name == "postgresql":
        return postgresql.insert(table)
    return sqlite.insert(table)
