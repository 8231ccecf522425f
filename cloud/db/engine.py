"""Engines for SQLite (the default) and PostgreSQL, and the few dialect differences the code needs.

SQLite: WAL, a busy timeout and ``BEGIN IMMEDIATE`` so that two writers queue instead of failing late
with "database is locked". PostgreSQL: psycopg 3, whatever spelling of the URL the user gave.
"""

from __future__ import annotations

import time
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
    engine = sa.create_engine(url, pool_size=pool_size, max_overflow=pool_size)
    _ping_when_idle(engine)
    return engine


PING_IDLE_S = 1.0
"""A pooled connection back in use after this long idle is pinged before it is handed out."""


def _ping_when_idle(engine: Engine) -> None:
    """``pool_pre_ping``, but only for a connection idle for ``PING_IDLE_S`` or more.

    The ping is a round trip on every checkout, and an ingest request checks out twice (token lookup,
    then its transaction): a measurable share of a batch. A connection that came back to the pool less
    than a second ago was working then; if the server went away within that second, the request fails
    as it would have during the outage anyway (503, retryable) and SQLAlchemy discards the pool's
    connections. A dead idle connection is replaced transparently, as with ``pool_pre_ping``
    (SQLAlchemy's "pessimistic disconnect handling": a ``DisconnectionError`` from ``checkout`` makes
    the pool retry with a fresh connection).
    """

    @sa.event.listens_for(engine, "checkin")
    def _checkin(_dbapi_conn: Any, record: Any) -> None:
        record.info["wims_last_used"] = time.monotonic()

    @sa.event.listens_for(engine, "checkout")
    def _checkout(dbapi_conn: Any, record: Any, _proxy: Any) -> None:
        last = record.info.get("wims_last_used")
        if last is not None and time.monotonic() - last < PING_IDLE_S:
            return
        try:
            engine.dialect.do_ping(dbapi_conn)
        except Exception as exc:  # any failure of the ping means the connection is unusable
            raise sa.exc.DisconnectionError(f"connection failed its ping: {exc}") from exc


def dialect_insert(conn: Connection, table: sa.Table) -> Any:
    """An INSERT that knows ``ON CONFLICT`` (both dialects spell it the same way in SQLAlchemy)."""
    if conn.dialect.name == "postgresql":
        return postgresql.insert(table)
    return sqlite.insert(table)
