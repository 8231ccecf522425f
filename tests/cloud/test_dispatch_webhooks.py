"""The transport webhook outbox against a real HTTP receiver: every event signed the Standard Webhooks
way (the receiver verifies with the ``standardwebhooks`` package), a failed delivery retried with
backoff under the same ``webhook-id``, a receiver that never answers well ends the event as failed,
and an event is written only with the state change it reports (same transaction)."""

from __future__ import annotations

import asyncio
import base64
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from standardwebhooks import Webhook

from cloud.db.engine import make_engine
from cloud.db.schema import webhook_outbox
from cloud.planning.config import WebhookSettings
from cloud.transfers.webhooks import deliver_due, enqueue_event
from sync.clock import ManualClock
from tests.cloud.conftest import Cloud

SECRET = "whsec_" + base64.b64encode(b"transport-shared-secret-32-bytes").decode()


class Receiver:
    def __init__(self) -> None:
        self.got: list[dict[str, Any]] = []
        self.fail_next = 0
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["content-length"]))
                headers = {k.lower(): v for k, v in self.headers.items()}
                try:
                    data = Webhook(SECRET).verify(body, headers)
                    verified = True
                except Exception:
                    data, verified = None, False
                outer.got.append({"id": headers.get("webhook-id"), "verified": verified, "data": data})
                status = 500 if outer.fail_next > 0 else (204 if verified else 401)
                outer.fail_next = max(0, outer.fail_next - 1)
                self.send_response(status)
                self.end_headers()

            def log_message(self, *_: Any) -> None:
                return

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    yield r
    r.close()


def test_signed_delivery_with_retries_and_a_final_failure(cloud: Cloud, receiver: Receiver) -> None:
    engine = make_engine(cloud.url, pool_size=1)
    clock = ManualClock(datetime.now(UTC))  # signatures carry real time: receivers check their age
    settings = WebhookSettings(url=receiver.url, secret=SECRET, max_attempts=3, backoff_s=10)
    with engine.begin() as conn:
        first = enqueue_event(conn, "transfer.released", "transfer/T-1", {"transfer_id": "T-1"}, clock.now())
    with engine.begin() as conn:  # a rolled-back change takes its event with it
        enqueue_event(conn, "transfer.released", "transfer/T-X", {"transfer_id": "T-X"}, clock.now())
        conn.rollback()
    receiver.fail_next = 1
    with httpx.Client() as client:
        assert deliver_due(engine, settings, clock, client) == 0  # 500: kept, retried in 10 s
        assert deliver_due(engine, settings, clock, client) == 0  # not due yet
        asyncio.run(clock.advance(11))
        assert deliver_due(engine, settings, clock, client) == 1
        assert [(g["id"], g["verified"]) for g in receiver.got] == [(first, True), (first, True)]
        assert receiver.got[1]["data"] == {
            "type": "transfer.released",
            "timestamp": receiver.got[1]["data"]["timestamp"],
            "data": {"transfer_id": "T-1"},
        }
        # a receiver that keeps failing: three attempts with backoff, then failed (and kept)
        with engine.begin() as conn:
            enqueue_event(conn, "transfer.closed", "transfer/T-2", {"transfer_id": "T-2"}, clock.now())
        receiver.fail_next = 99
        for _ in range(3):
            deliver_due(engine, settings, clock, client)
            asyncio.run(clock.advance(100))
    with engine.connect() as conn:
        rows = conn.execute(sa.select(webhook_outbox).order_by(webhook_outbox.c.id)).all()
    engine.dispose()
    assert [(r.subject, r.attempts, r.delivered_at is not None, r.failed_at is not None) for r in rows] == [
        ("transfer/T-1", 2, True, False),
        ("transfer/T-2", 3, False, True),
    ]
    assert "HTTP 500" in (rows[1].last_error or "")


def test_a_wrong_secret_is_refused_by_the_receiver(cloud: Cloud, receiver: Receiver) -> None:
    engine = make_engine(cloud.url, pool_size=1)
    clock = ManualClock(datetime.now(UTC))
    other = "whsec_" + base64.b64encode(b"someone-else-entirely-0123456789").decode()
    with engine.begin() as conn:
        enqueue_event(conn, "transfer.released", "transfer/T-3", {"transfer_id": "T-3"}, clock.now())
    with httpx.Client() as client:
        deliver_due(engine, WebhookSettings(url=receiver.url, secret=other), clock, client)
    engine.dispose()
    assert receiver.got[0]["verified"] is False
