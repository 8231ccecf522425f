"""Fixtures: a real PostgreSQL database per test session (uniquely named) and a SQLite file per test.

Every API test runs against both backends through the ``cloud`` fixture. The PostgreSQL database is
migrated once and emptied between tests (TRUNCATE), which is much cheaper than a database per test.
"""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from cloud.app import create_app
from cloud.auth.security import Passwords
from cloud.auth.users import add_user
from cloud.db.engine import make_engine
from cloud.db.migrate import upgrade
from cloud.db.schema import metadata
from cloud.ingest.gateways import add_gateway
from cloud.settings import CloudSettings
from sync.clock import SystemClock
from sync.roles import Role
from tests.cloud.helpers import auth

PG_ADMIN = os.environ.get("WIMS_TEST_PG", "postgresql://postgres@127.0.0.1:5432/test")
PASSWORD = "correct-horse-battery"
FAST_HASH = {"password_time_cost": 1, "password_memory_kib": 1024}
"""Many users per run: a cheap argon2 cost for tests (production keeps the defaults)."""
PASSWORDS = Passwords(time_cost=1, memory_kib=1024)


def _pg_admin_connect() -> psycopg.Connection:
    last: Exception | None = None
    for _ in range(20):  # bounded wait for a server that is still starting
        try:
            return psycopg.connect(PG_ADMIN, autocommit=True, connect_timeout=3)
        except psycopg.OperationalError as exc:
            last = exc
            time.sleep(0.5)
    raise RuntimeError(f"PostgreSQL not reachable at {PG_ADMIN}: {last}")


@pytest.fixture(scope="session")
def pg_url() -> Iterator[str]:
    """A freshly created, migrated PostgreSQL database for this session; dropped at the end."""
    name = f"wims_test_{uuid.uuid4().hex[:12]}"
    with _pg_admin_connect() as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    base = psycopg.conninfo.conninfo_to_dict(PG_ADMIN)
    host, port = base.get("host", "127.0.0.1"), base.get("port", 5432)
    url = f"postgresql+psycopg://{base.get('user', 'postgres')}@{host}:{port}/{name}"
    try:
        upgrade(url)
        yield url
    finally:
        with _pg_admin_connect() as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _truncate(url: str) -> None:
    engine = make_engine(url, pool_size=1)
    names = ", ".join(t.name for t in metadata.sorted_tables)
    with engine.begin() as conn:
        conn.execute(sa.text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
    engine.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        sqlite_url = f"sqlite:///{tmp_path / 'cloud.sqlite'}"
        upgrade(sqlite_url)
        return sqlite_url
    pg: str = request.getfixturevalue("pg_url")
    _truncate(pg)
    return pg


@dataclass
class Cloud:
    """A running app (in-process) with a few gateways and one user per role, ready to call."""

    client: TestClient
    url: str
    gw: dict[str, str]  # gateway id -> token
    user: dict[str, str]  # role name -> token

    def h(self, who: str) -> dict[str, str]:
        return auth(self.gw[who] if who in self.gw else self.user[who])


def login(client: TestClient, username: str) -> str:
    r = client.post("/v1/auth/login", json={"username": username, "password": PASSWORD})
    assert r.status_code == 200, r.text
    token: str = r.json()["access_token"]
    return token


@pytest.fixture
def cloud(db_url: str) -> Iterator[Cloud]:
    now = SystemClock().now()
    engine = make_engine(db_url, pool_size=1)
    gw = {
        "GW-A": add_gateway(engine, "GW-A", "WH-A", now=now, actor="test"),
        "GW-B": add_gateway(engine, "GW-B", "WH-B", now=now, actor="test"),
    }
    for role in ("admin", "planner", "supervisor", "operator", "auditor"):
        add_user(
            engine,
            role,
            Role(role),
            PASSWORD,
            warehouse="WH-A" if role == "supervisor" else None,
            now=now,
            actor="test",
            passwords=PASSWORDS,
        )
    engine.dispose()
    app = create_app(CloudSettings(database_url=db_url, pool_size=4, **FAST_HASH))
    with TestClient(app) as client:
        users = {role: login(client, role) for role in ("admin", "planner", "supervisor", "operator", "auditor")}
        yield Cloud(client=client, url=db_url, gw=gw, user=users)
