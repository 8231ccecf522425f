"""The carrier hand-off: webhooks signed per Standard Webhooks, kept in a durable outbox until delivered.

On ship the gateway tells the carrier's TMS what leaves (order, cartons, weights, SSCCs). The message is
written to the ``webhook_outbox`` table of the journal's database first (``enqueue``), then the sender
(``run``, a part of the gateway) posts it until the receiver answers 2xx. Between attempts it waits a
capped, jittered exponential backoff on the injected clock; the due time is stored, so an outage, a
crash or a restart only delays a message, never loses it. Every attempt is a row of
``webhook_attempts`` and a metric.

Signing follows the Standard Webhooks scheme (the ``standardwebhooks`` package does it):
``webhook-id`` (the message id, the same on every retry: the receiver's deduplication key),
``webhook-timestamp`` (this attempt's Unix seconds) and ``webhook-signature`` (``v1,`` + base64 of
HMAC-SHA256 over ``id.timestamp.body``). The body is stored once and sent as the same bytes each time.

A delivery the receiver refuses for good (a 4xx other than 408 and 429) or that runs out of attempts or
age has failed: the message is marked ``failed`` and one work order is opened for it (idempotent per
message), so a person sees it; ``retry`` puts it back in line once the receiver is fixed.

The outbox also implements the rules runner's ``Notifier`` protocol (``notify(event_type, payload)``),
so a rule's ``notify`` action goes through the same durable, signed, retried path.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import random
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import Any, Protocol

import httpx
import orjson
from prometheus_client import Counter, Gauge
from standardwebhooks import Webhook

from edge.floor.settings import HandoffOutcome, HandoffSettings
from edge.health import HealthBoard
from edge.logs import get_logger
from edge.store import webhooks as store
from edge.store.errors import OpRejected
from edge.store.journal import Journal
from sync.canonical import iso_utc
from sync.clock import Clock
from sync.ops import OpDraft, WorkOrderPayload

log = get_logger("wims.edge.handoff")

_NAMESPACE = uuid.UUID("6f1c1d5e-8f3a-4c55-9a0e-3b7f6f0c2d11")
"""uuid5 namespace of the ops the outbox records (so re-recording after a crash is idempotent)."""

RETRYABLE_4XX = frozenset({408, 425, 429})
"""Client errors that mean "later", not "never" (timeout, too early, too many requests)."""


class Notifier(Protocol):
    """What the rules runner calls for a ``notify`` action."""

    async def notify(self, event_type: str, payload: dict[str, Any]) -> None: ...


WorkOrderOpener = Callable[[str, str, str], Awaitable[str | None]]
"""``(fact_key, wo_type, description) -> work_order_id``: opens one work order per fact (``None``: left
to the site's rules, which open it on the ``handoff_failed`` event)."""

FailureHook = Callable[[str, dict[str, Any], int, "int | None"], Awaitable[None]]
"""``(event_type, data, attempts, status_code)``: told once a delivery has failed for good (the rules'
``handoff_failed`` event)."""


def message_id(key: str) -> str:
    """The ``webhook-id`` of the message about ``key`` (a shipment, a rule firing): stable, so enqueueing
    the same fact twice (a retried request, a replay after a crash) is one message."""
    return "msg_" + hashlib.sha256(key.encode()).hexdigest()[:32]


def backoff_seconds(attempt: int, base: float, cap: float, rng: random.Random) -> float:
    """Delay after the ``attempt``-th failure: ``base * 2**(attempt-1)`` capped at ``cap``, then "equal
    jitter" (a uniform draw from the upper half), so retries of many messages after one outage spread
    out instead of arriving together, while the delay still grows."""
    ceiling = min(cap, base * 2.0 ** min(attempt - 1, 40))
    return ceiling / 2 + rng.uniform(0, ceiling / 2)


def classify(status_code: int | None, attempt: int, age_s: float, settings: HandoffSettings) -> HandoffOutcome:
    """What an attempt's answer means: delivered, try again, or failed for good."""
    if status_code is not None and 200 <= status_code < 300:
        return "delivered"
    if status_code is not None and 400 <= status_code < 500 and status_code not in RETRYABLE_4XX:
        return "failed"
    if attempt >= settings.max_attempts or age_s >= settings.max_age_hours * 3600:
        return "failed"
    return "retry"


class HandoffMetrics:
    def __init__(self, registry: Any) -> None:
        self.attempts = Counter(
            "wims_webhook_attempts",
            "Webhook delivery attempts by outcome",
            ["event_type", "outcome"],
            registry=registry,
        )
        self.enqueued = Counter("wims_webhook_enqueued", "Webhook messages enqueued", ["event_type"], registry=registry)
        self.pending = Gauge("wims_webhook_pending", "Webhook messages not yet delivered", registry=registry)
        self.failed = Gauge(
            "wims_webhook_failed", "Webhook messages given up on (each has a work order)", registry=registry
        )


class WebhookOutbox:
    """Enqueue messages durably; ``run`` delivers them. One per gateway (``[handoff]`` in the site TOML)."""

    def __init__(
        self,
        journal: Journal,
        settings: HandoffSettings,
        *,
        clock: Clock,
        registry: Any,
        health: HealthBoard | None = None,
        gateway_id: str = "",
        rng: random.Random | None = None,
        open_work_order: WorkOrderOpener | None = None,
        on_failed: FailureHook | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.journal = journal
        self.settings = settings
        self.clock = clock
        self.health = health
        self.gateway_id = gateway_id
        self.rng = rng or random.Random()
        self._signer = Webhook(settings.resolved_secret())
        self._open_work_order = open_work_order or self._work_order_op
        self._on_failed = on_failed
        self._transport = transport
        self._wake = asyncio.Event()
        self.metrics = HandoffMetrics(registry)
        self._refresh_gauges()

    # ---- enqueueing ------------------------------------------------------------------------------

    async def enqueue(self, event_type: str, data: dict[str, Any], *, key: str) -> str:
        """Store a message about ``key`` (due at once) and wake the sender; returns its ``webhook-id``.

        The body is the Standard Webhooks envelope ``{"type", "timestamp", "data"}``, encoded once here.
        """
        msg_id = message_id(f"{event_type}:{key}")
        now = self.clock.now()
        body = orjson.dumps({"type": event_type, "timestamp": iso_utc(now), "data": data}).decode()
        added = await self.journal.write(store.enqueue, msg_id, event_type, self.settings.url, body, iso_utc(now))
        if added:
            self.metrics.enqueued.labels(event_type).inc()
            log.info("webhook.enqueued", msg_id=msg_id, event_type=event_type, key=key)
        self._refresh_gauges()
        self._wake.set()
        return msg_id

    async def notify(self, event_type: str, payload: dict[str, Any]) -> None:
        """The rules runner's ``Notifier``: the same payload for the same event is one message (a rule
        re-fired by a replay does not notify twice); put an op id in the payload to tell firings apart."""
        await self.enqueue(event_type, payload, key=orjson.dumps(payload, option=orjson.OPT_SORT_KEYS).decode())

    async def retry(self, msg_id: str) -> bool:
        """Put a failed message back in line (the receiver was fixed); ``False`` if unknown or delivered."""
        ok: bool = await self.journal.write(store.retry_now, msg_id, iso_utc(self.clock.now()))
        self._refresh_gauges()
        self._wake.set()
        return ok

    # ---- sending ---------------------------------------------------------------------------------

    async def run(self) -> None:
        """Deliver due messages for ever; between rounds sleep until the next is due (or one is enqueued)."""
        async with httpx.AsyncClient(timeout=self.settings.timeout_seconds, transport=self._transport) as client:
            while True:
                await self.deliver_due(client)
                nxt = self.journal.read(store.next_due)
                wait = self.settings.idle_poll_seconds
                if nxt is not None:
                    wait = min(wait, max(0.0, (datetime.fromisoformat(nxt) - self.clock.now()).total_seconds()))
                await self._sleep_or_wake(self.clock.now() + timedelta(seconds=wait))

    async def _sleep_until(self, until: datetime) -> None:
        await self.clock.sleep(max(0.0, (until - self.clock.now()).total_seconds()))

    async def _sleep_or_wake(self, until: datetime) -> None:
        # An absolute deadline: the sleeper starts a loop turn later, and a clock that moved meanwhile
        # (a test's manual clock, a slow loop) must not push the wake-up out by the time already gone.
        if self._wake.is_set():
            self._wake.clear()
            return
        sleeper = asyncio.ensure_future(self._sleep_until(until))
        waker = asyncio.ensure_future(self._wake.wait())
        try:
            await asyncio.wait({sleeper, waker}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for fut in (sleeper, waker):
                fut.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await fut
        self._wake.clear()

    async def deliver_due(self, client: httpx.AsyncClient) -> int:
        """One round: attempt every due message once; returns how many were attempted."""
        messages = self.journal.read(store.due, iso_utc(self.clock.now()))
        for msg in messages:
            await self._attempt(client, msg)
        if messages:
            self._refresh_gauges()
        return len(messages)

    def sign(self, msg_id: str, at: datetime, body: str) -> dict[str, str]:
        """The Standard Webhooks headers of one attempt."""
        return {
            "webhook-id": msg_id,
            "webhook-timestamp": str(int(at.timestamp())),
            "webhook-signature": self._signer.sign(msg_id, at, body),
        }

    async def _attempt(self, client: httpx.AsyncClient, msg: store.OutboxMessage) -> None:
        at = self.clock.now()
        headers = {
            **self.sign(msg.msg_id, at, msg.body),
            "content-type": "application/json",
            "user-agent": f"wims-edge/{self.gateway_id or 'gateway'}",
        }
        code: int | None = None
        error: str | None = None
        retry_after: float | None = None
        t0 = time.perf_counter()
        try:
            resp = await client.post(msg.url, content=msg.body.encode(), headers=headers)
            code = resp.status_code
            if not 200 <= code < 300:
                error = f"HTTP {code}: {resp.text[:200]}"
                retry_after = _retry_after(resp.headers.get("retry-after"))
        except httpx.HTTPError as exc:
            error = f"{type(exc).__name__}: {exc}"[:500] or type(exc).__name__
        elapsed_ms = (time.perf_counter() - t0) * 1000
        attempt = msg.attempts + 1
        age_s = (at - datetime.fromisoformat(msg.created_at)).total_seconds()
        outcome = classify(code, attempt, age_s, self.settings)
        next_at: str | None = None
        wo_id: str | None = None
        if outcome == "retry":
            delay = backoff_seconds(
                attempt, self.settings.backoff_base_seconds, self.settings.backoff_max_seconds, self.rng
            )
            if retry_after is not None:
                delay = min(max(delay, retry_after), self.settings.backoff_max_seconds)
            next_at = iso_utc(at + timedelta(seconds=delay))
        elif outcome == "failed":
            why = error or "refused"
            if attempt >= self.settings.max_attempts:
                why = f"{why} (after {attempt} attempts)"
            wo_id = (
                msg.work_order_id
                or await self._open_work_order(  # one per message, even failed twice
                    f"webhook:{msg.msg_id}",
                    "failed_handoff",
                    f"carrier hand-off {msg.event_type} {msg.msg_id} to {msg.url} failed: {why}"[:1000],
                )
            )
        await self.journal.write(
            store.record_attempt,
            msg.msg_id,
            at=iso_utc(at),
            status_code=code,
            error=error,
            outcome=outcome,
            elapsed_ms=round(elapsed_ms, 3),
            next_attempt_at=next_at,
            work_order_id=wo_id,
        )
        self.metrics.attempts.labels(msg.event_type, outcome).inc()
        if outcome == "failed" and self._on_failed is not None:
            try:
                await self._on_failed(msg.event_type, orjson.loads(msg.body).get("data") or {}, attempt, code)
            except Exception:  # the failure is recorded and its work order open; a hook's error is logged
                log.exception("webhook.failure_hook_failed", msg_id=msg.msg_id)
        log.info(
            "webhook.attempt",
            msg_id=msg.msg_id,
            attempt=attempt,
            status_code=code,
            outcome=outcome,
            next_attempt_at=next_at,
            error=error,
        )
        if self.health is not None:
            self.health.set(
                "handoff",
                "ok" if outcome == "delivered" else "degraded",
                f"{msg.msg_id}: {outcome} ({error or code})",
                at,
            )

    async def _work_order_op(self, fact_key: str, wo_type: str, description: str) -> str | None:
        """Open the failed delivery's work order as a ``work_order`` op, one per fact: the op id derives
        from ``fact_key``, so recording it again after a crash answers with the stored op."""
        digest = hashlib.sha256(fact_key.encode()).hexdigest()[:12].upper()
        wo_id = f"WO-{wo_type.upper().replace('_', '-')}-{digest}"[:64]
        try:
            await self._append_work_order(fact_key, wo_type, wo_id, description)
        except OpRejected as exc:
            if exc.code != "op_id_conflict":
                raise
            # recorded before a crash (with another timestamp): the work order is open already
        return wo_id

    async def _append_work_order(self, fact_key: str, wo_type: str, wo_id: str, description: str) -> None:
        await self.journal.append(
            OpDraft(
                op_id=uuid.uuid5(_NAMESPACE, fact_key),
                payload=WorkOrderPayload(
                    work_order_id=wo_id,
                    action="open",
                    wo_type=wo_type,
                    assignee_role="supervisor",
                    description=description,
                ),
                actor="system:handoff",
                occurred_at=self.clock.now(),
            )
        )

    def _refresh_gauges(self) -> None:
        with contextlib.suppress(Exception):  # before the journal is open
            counts = self.journal.read(store.count_by_status)
            self.metrics.pending.set(counts.get(store.PENDING, 0))
            self.metrics.failed.set(counts.get(store.FAILED, 0))


def _retry_after(value: str | None) -> float | None:
    """A ``Retry-After`` in seconds (the HTTP-date form is ignored: the backoff applies)."""
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        return None
