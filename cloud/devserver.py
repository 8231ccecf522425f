"""A cloud service in a child process (uvicorn), for tests, benchmarks and the demo.

It is the real service: migrated database, real HTTP, real workers. Running it as a process lets a
test SIGKILL it and start it again on the same port and database.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import sqlalchemy as sa

from cloud.auth.users import add_user
from cloud.db.engine import make_engine
from cloud.db.migrate import upgrade
from cloud.ingest.gateways import add_gateway
from cloud.settings import CloudSettings
from sync.roles import Role


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class CloudProcess:
    def __init__(
        self,
        db_url: str,
        port: int | None = None,
        *,
        workers: int = 1,
        cwd: Path | None = None,
        ssl_certfile: Path | None = None,
        ssl_keyfile: Path | None = None,
        env: dict[str, str] | None = None,
    ) -> None:
        self.db_url = db_url
        self.env = dict(env or {})  # more WIMS_* settings for the server (e.g. WIMS_PLANNING_FILE)
        self.ssl = (ssl_certfile, ssl_keyfile) if ssl_certfile and ssl_keyfile else None
        self.port = port or free_port()
        self.workers = workers
        self.cwd = cwd or Path(__file__).parents[1]
        self.proc: subprocess.Popen[bytes] | None = None
        upgrade(db_url)

    @property
    def url(self) -> str:
        return f"{'https' if self.ssl else 'http'}://127.0.0.1:{self.port}"

    def register(self, gateway_id: str, warehouse: str) -> str:
        """Register a gateway; returns its token."""
        engine = make_engine(self.db_url, pool_size=1)
        try:
            return add_gateway(engine, gateway_id, warehouse, now=datetime.now(UTC), actor="devserver")
        finally:
            engine.dispose()

    def add_user(self, username: str, role: str, password: str) -> None:
        engine = make_engine(self.db_url, pool_size=1)
        try:
            add_user(
                engine,
                username,
                Role(role),
                password,
                warehouse=None,
                now=datetime.now(UTC),
                actor="devserver",
                passwords=CloudSettings(database_url=self.db_url).passwords(),
            )
        finally:
            engine.dispose()

    def login(self, username: str, password: str) -> str:
        r = httpx.post(f"{self.url}/v1/auth/login", json={"username": username, "password": password}, timeout=10)
        r.raise_for_status()
        return str(r.json()["access_token"])

    def start(self, timeout: float = 60) -> None:
        env = {**os.environ, **self.env, "WIMS_DATABASE_URL": self.db_url}
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "uvicorn",
                "--factory",
                "cloud.app:app_from_env",
                "--host",
                "127.0.0.1",
                "--port",
                str(self.port),
                "--workers",
                str(self.workers),
                "--log-level",
                "warning",
                "--no-access-log",
                "--timeout-graceful-shutdown",
                "5",
                *(["--ssl-certfile", str(self.ssl[0]), "--ssl-keyfile", str(self.ssl[1])] if self.ssl else []),
            ],
            cwd=self.cwd,
            env=env,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"cloud exited with {self.proc.returncode}")
            try:
                # a readiness probe only: the tests check certificates through the agent itself
                if httpx.get(f"{self.url}/healthz", timeout=1, verify=False).status_code == 200:
                    return
            except httpx.TransportError:
                time.sleep(0.1)
        self.stop()  # never leave a half-started server behind
        raise RuntimeError("cloud did not start")

    def kill(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def query(self, sql: str, **params: Any) -> list[Any]:
        engine = make_engine(self.db_url, pool_size=1)
        try:
            with engine.connect() as conn:
                return list(conn.execute(sa.text(sql), params))
        finally:
            engine.dispose()
