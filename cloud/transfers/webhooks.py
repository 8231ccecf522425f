"""Transport is told about transfers by a signed webhook, through a durable outbox in the database.

An event is written in the same transaction as the state change it reports (so a change is never
committed without its event, nor an event without its change); any worker then delivers due events:
each is signed with the Standard Webhooks scheme (``webhook-id``, ``webhook-timestamp`` and
``webhook-signature`` headers, HMAC-SHA256 over ``id.timestamp.body``; the ``standardwebhooks``
package) and POSTed. A 2xx answer marks it delivered; anything else (an error status, a refused or
timed-out connection) schedules a retry with exponential backoff until ``max_attempts``, after which
the event is marked failed and stays listed. The ``webhook-id`` is the same on every attempt, so the
receiver can drop a repeat (delivery is at least once).

On PostgreSQL, due rows are claimed with ``FOR UPDATE SKIP LOCKED``: several workers never send the
same event at the same moment.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any

import httpx
import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine
from standardwebhooks import Webhook

from cloud.db.schema import webhook_outbox
from cloud.planning.config import WebhookSettings
from sync.canonical import iso_utc
from sync.clock import Clock
from sync.ops import uuid7


def enqueue_event(conn: Connection, event_type: str, subject: str, data: dict[str, Any], now: datetime) -> str:
    """Write an event to the outbox inside the caller's transaction; returns its id."""
    event_id = f"msg_{uuid7().hex}"
    payload = json.dumps({"type": event_type, "timestamp": iso_utc(now), "data": data}, sort_keys=True, default=str)
    conn.execute(
        webhook_outbox.insert().values(
            event_id=event_id,
            event_type=event_type,
            subject=subject,
            payload=payload,
            created_at=now,
            next_attempt_at=now,
        )
    )
    return event_id


def signed_headers(secret: str, event_id: str, at: datetime, payload: str) -> dict[str, str]:
    return {
        "webhook-id": event_id,
        "webhook-timestamp": str(int(at.timestamp())),
        "webhook-signature": Webhook(secret).sign(event_id, at, payload),
        "content-type": "application/json",
    }


def deliver_due(engine: Engine, settings: WebhookSettings, clock: Clock, client: httpx.Client, limit: int = 50) -> int:
    """Send the events due now, one transaction each (the row stays locked while it is sent); returns how
    many were delivered. Without a URL nothing is sent."""
    if not settings.url:
        return 0
    delivered = 0
    for _ in range(limit):
        with engine.begin() as conn:
            w = webhook_outbox.c
            now = clock.now()
            q = (
                sa.select(webhook_outbox)
                .where(w.delivered_at.is_(None), w.failed_at.is_(None), w.next_attempt_at <= now)
                .order_by(w.id)
                .limit(1)
            )
            if conn.dialect.name == "postgresql":
                q = q.with_for_update(skip_locked=True)
            row = conn.execute(q).first()
            if row is None:
                return delivered
            error = _send(client, settings, row.event_id, row.payload, now)
            attempts = row.attempts + 1
            if error is None:
                values: dict[str, Any] = {"attempts": attempts, "delivered_at": now, "last_error": None}
                delivered += 1
            else:
                delay = min(settings.backoff_s * 2 ** (attempts - 1), settings.backoff_max_s)
                values = {
                    "attempts": attempts,
                    "last_error": error[:500],
                    "next_attempt_at": now + timedelta(seconds=delay),
                }
                if attempts >= settings.max_attempts:
                    values["failed_at"] = now
            conn.execute(webhook_outbox.update().where(w.id == row.id).values(**values))
    return delivered


def _send(client: httpx.Client, settings: WebhookSettings, event_id: str, payload: str, now: datetime) -> str | None:
    """POST one signed event; None when the receiver took it, else why not."""
    try:
        r = client.post(
            settings.url,
            content=payload.encode(),
            headers=signed_headers(settings.secret, event_id, now, payload),
            timeout=settings.timeout_s,
        )
    except httpx.HTTPError as exc:
        return f"{type(exc).__name__}: {exc}"
    if 200 <= r.status_code < 300:
        return None
    return f"HTTP {r.status_code}: {r.text[:200]}"
