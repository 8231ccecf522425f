"""Real uvicorn processes: two workers on one PostgreSQL, one SSE subscriber, changes crossing workers.

The workers are separate processes with nothing shared but the database, as in production; the
subscriber is on one and the ops are pushed to the other, so the event can only arrive via
LISTEN/NOTIFY. The SQLite variant runs one worker and exercises the in-process fallback.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest

from cloud.auth.users import add_user
from cloud.db.engine import make_engine
from cloud.ingest.gateways import add_gateway
from firmware_sim.ports import free_port
from sync.clock import SystemClock
from sync.ops import ReceivePayload
from sync.roles import Role
from tests.cloud.conftest import PASSWORD, PASSWORDS
from tests.cloud.helpers import auth, chain

ROOT = Path(__file__).resolve().parents[2]


@contextmanager
def worker(db_url: str) -> Iterator[str]:
    """One uvicorn worker process serving the app for ``db_url``; yields its base URL."""
    port = free_port()
    env = {**os.environ, "WIMS_DATABASE_URL": db_url, "WIMS_POOL_SIZE": "4", "WIMS_SSE_KEEPALIVE_S": "0.5"}
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "cloud.app:app_from_env",
            "--factory",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--log-level",
            "warning",
            "--timeout-graceful-shutdown",
            "2",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"worker did not start: {proc.stderr.read().decode() if proc.stderr else ''}")
            time.sleep(0.1)
        yield base
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


class Subscriber:
    """Reads ``/v1/events`` on a thread and keeps every parsed event with its arrival time."""

    def __init__(self, base: str, token: str) -> None:
        self.events: list[tuple[float, dict[str, Any]]] = []
        self.connected = threading.Event()
        self._stop = False
        self._thread = threading.Thread(target=self._run, args=(base, token), daemon=True)
        self._thread.start()

    def _run(self, base: str, token: str) -> None:
        with (
            httpx.Client(timeout=httpx.Timeout(5, read=60)) as client,
            client.stream("GET", f"{base}/v1/events", headers=auth(token)) as r,
        ):
            kind = ""
            for line in r.iter_lines():
                if line.startswith(": connected"):
                    self.connected.set()
                elif line.startswith("event: "):
                    kind = line[7:]
                elif line.startswith("data: ") and kind == "stock":
                    self.events.append((time.monotonic(), json.loads(line[6:])))
                if self._stop:
                    return

    def wait_for(self, pred: Any, timeout: float = 10) -> tuple[float, dict[str, Any]]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for t, e in self.events:
                if pred(e):
                    return t, e
            time.sleep(0.005)
        raise AssertionError(f"no matching event in {timeout}s; got {self.events}")

    def close(self) -> None:
        self._stop = True


def _setup(db_url: str) -> tuple[str, str]:
    now = SystemClock().now()
    engine = make_engine(db_url, pool_size=1)
    gw_token = add_gateway(engine, "GW-L", "WH-L", now=now, actor="test")
    add_user(engine, "viewer", Role.OPERATOR, PASSWORD, warehouse=None, now=now, actor="test", passwords=PASSWORDS)
    engine.dispose()
    return gw_token, "viewer"


def _login(base: str, name: str) -> str:
    r = httpx.post(f"{base}/v1/auth/login", json={"username": name, "password": PASSWORD})
    r.raise_for_status()
    return str(r.json()["access_token"])


def _push_and_wait(base_push: str, sub: Subscriber, gw_token: str, bodies: list[dict[str, Any]]) -> float:
    r = httpx.post(f"{base_push}/v1/gateways/GW-L/ops", json={"ops": bodies}, headers=auth(gw_token))
    assert r.status_code == 200, r.text
    returned = time.monotonic()
    acked = r.json()["acked_seq"]
    t, event = sub.wait_for(lambda e: e.get("gateway_id") == "GW-L" and e.get("acked_seq") == acked)
    assert event["warehouse"] == "WH-L" and event["changes"]
    return t - returned


@pytest.mark.postgres
def test_change_on_one_worker_reaches_subscriber_of_another(pg_url: str) -> None:
    from tests.cloud.conftest import _truncate

    _truncate(pg_url)
    gw_token, user = _setup(pg_url)
    with worker(pg_url) as w1, worker(pg_url) as w2:
        sub = Subscriber(w1, _login(w1, user))
        assert sub.connected.wait(10)
        bodies = chain("GW-L", [ReceivePayload(sku="S", location=f"L-{i}", qty=1) for i in range(20)])
        lags = [_push_and_wait(w2, sub, gw_token, bodies[i : i + 5]) for i in range(0, 20, 5)]
        sub.close()
        assert max(lags) < 1.0  # the seed's bar: one change refreshes every view within a second
        stock = httpx.get(f"{w1}/v1/stock", params={"warehouse": "WH-L"}, headers=auth(_login(w1, user))).json()
        assert sum(i["on_hand"] for i in stock["items"]) == 20


def test_sqlite_single_worker_streams_events_in_process(tmp_path: Path) -> None:
    from cloud.db.migrate import upgrade

    url = f"sqlite:///{tmp_path / 'live.sqlite'}"
    upgrade(url)
    gw_token, user = _setup(url)
    with worker(url) as w:
        sub = Subscriber(w, _login(w, user))
        assert sub.connected.wait(10)
        bodies = chain("GW-L", [ReceivePayload(sku="S", location="L-1", qty=2)])
        assert _push_and_wait(w, sub, gw_token, bodies) < 1.0
        sub.close()
