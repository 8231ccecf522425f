"""A throwaway PostgreSQL database (from ``WIMS_TEST_PG``, default the local server), for suites that start
their own cloud process."""

from __future__ import annotations

import contextlib
import os
import uuid
from collections.abc import Iterator

import psycopg

PG_ADMIN = os.environ.get("WIMS_TEST_PG", "postgresql://postgres@127.0.0.1:5432/test")


@contextlib.contextmanager
def temporary_database() -> Iterator[str]:
    """A new, empty database's SQLAlchemy URL; dropped on exit."""
    name = f"wims_tmp_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(PG_ADMIN, autocommit=True, connect_timeout=5) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    base = psycopg.conninfo.conninfo_to_dict(PG_ADMIN)
    where = f"{base.get('host', '127.0.0.1')}:{base.get('port', 5432)}"
    try:
        yield f"postgresql+psycopg://{base.get('user', 'postgres')}@{where}/{name}"
    finally:
        with psycopg.connect(PG_ADMIN, autocommit=True, connect_timeout=5) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
