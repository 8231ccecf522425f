"""The carrier hand-off outbox against a real HTTP receiver that verifies with ``standardwebhooks``.

Simulated time: the clock is a ``ManualClock`` started at the real time (the receiver checks the
signature's timestamp against its own clock, within Standard Webhooks' five minutes), and the backoff
is waited by advancing it; only the HTTP exchanges themselves take real time.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import random
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from standardwebhooks import Webhook

from edge.config import ConfigError, SiteConfig, parse_config
from edge.context import EdgeContext
from edge.floor.handoff import WebhookOutbox, backoff_seconds, classify
from edge.floor.settings import HandoffSettings
from edge.store import webhooks as store
from sync.clock import ManualClock
from sync.ops import OpKind
from tests.floor.webhook_receiver import SECRET, Receiver, wait_until
from tests.support.edge import edge_context, site_dict

SHIPMENT = {
    "order_id": "SO-1",
    "carrier": "SF",
    "cartons": [{"sscc": "006900000000000017", "weight_g": 5400, "lines": [{"sku": "SKU-1", "qty": 4}]}],
}


def _site(tmp_path: Path, receiver: Receiver, **handoff: Any) -> SiteConfig:
    secret_file = tmp_path / "tms.secret"
    secret_file.write_text(SECRET + "\n")
    data = site_dict(tmp_path)
    data["handoff"] = {
        "url": receiver.url,
        "secret_file": str(secret_file),
        "backoff_base_seconds": 2,
        "backoff_max_seconds": 30,
        **handoff,
    }
    return parse_config(data)


@contextlib.asynccontextmanager
async def _running(ctx: EdgeContext) -> AsyncIterator[WebhookOutbox]:
    outbox = ctx.open_webhooks()
    assert outbox is not None
    outbox.rng = random.Random(7)
    task = asyncio.create_task(outbox.run())
    try:
        yield outbox
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


def _attempts(ctx: EdgeContext, msg_id: str) -> list[store.Attempt]:
    return ctx.journal.read(store.attempts, msg_id)


async def _next_attempt(ctx: EdgeContext, clock: ManualClock, msg_id: str) -> None:
    """Advance the clock to the message's due time and wait for the attempt it makes."""
    msg = ctx.journal.read(store.get, msg_id)
    assert msg is not None
    before = msg.attempts
    wait = (datetime.fromisoformat(msg.next_attempt_at) - clock.now()).total_seconds()
    await clock.advance(max(wait, 0) + 0.001)
    await wait_until(lambda: len(_attempts(ctx, msg_id)) > before)


async def test_signed_delivery_retries_while_the_receiver_is_down(tmp_path: Path) -> None:
    receiver = Receiver()
    cfg = _site(tmp_path, receiver)
    clock = ManualClock(datetime.now(UTC))
    async with edge_context(cfg, clock) as ctx, _running(ctx) as outbox:
        msg_id = await outbox.enqueue("shipment.dispatched", SHIPMENT, key="SO-1")
        assert await outbox.enqueue("shipment.dispatched", SHIPMENT, key="SO-1") == msg_id  # idempotent
        await wait_until(lambda: len(_attempts(ctx, msg_id)) == 1)  # nothing listens: refused
        await _next_attempt(ctx, clock, msg_id)
        receiver.answer = 503
        await receiver.start()
        try:
            await _next_attempt(ctx, clock, msg_id)  # up, but not ready
            receiver.answer = 204
            await _next_attempt(ctx, clock, msg_id)
            attempts = _attempts(ctx, msg_id)
            assert [a.outcome for a in attempts] == ["retry", "retry", "retry", "delivered"]
            assert attempts[0].status_code is None and "Connect" in (attempts[0].error or "")
            assert [a.status_code for a in attempts[2:]] == [503, 204]
            # capped, jittered, growing delays between the attempts (on the injected clock)
            gaps = [
                (datetime.fromisoformat(b.at) - datetime.fromisoformat(a.at)).total_seconds()
                for a, b in itertools.pairwise(attempts)
            ]
            assert 1 <= gaps[0] <= 2.1 and 2 <= gaps[1] <= 4.1 and 4 <= gaps[2] <= 8.1, gaps
            # later rounds send nothing more
            await clock.advance(120)
            await asyncio.sleep(0.2)
        finally:
            await receiver.stop()
        assert receiver.accepted == {msg_id: 1}
        good = [s for s in receiver.seen if s.verified]
        assert len(good) == 2 and all(s.msg_id == msg_id for s in good)
        last = good[-1].body
        assert last is not None
        assert last == {
            "type": "shipment.dispatched",
            "timestamp": last["timestamp"],
            "data": SHIPMENT,
        }
        msg = ctx.journal.read(store.get, msg_id)
        assert msg is not None and msg.status == "delivered" and msg.attempts == 4
        sample = ctx.registry.get_sample_value
        assert sample("wims_webhook_attempts_total", {"event_type": "shipment.dispatched", "outcome": "retry"}) == 3
        assert sample("wims_webhook_attempts_total", {"event_type": "shipment.dispatched", "outcome": "delivered"}) == 1
        assert sample("wims_webhook_pending") == 0


async def test_delivery_survives_a_gateway_restart(tmp_path: Path) -> None:
    receiver = Receiver()
    cfg = _site(tmp_path, receiver)
    clock = ManualClock(datetime.now(UTC))
    async with edge_context(cfg, clock) as ctx, _running(ctx) as outbox:
        msg_id = await outbox.enqueue("shipment.dispatched", SHIPMENT, key="SO-1")
        await wait_until(lambda: len(_attempts(ctx, msg_id)) == 1)
        await _next_attempt(ctx, clock, msg_id)
    # the gateway is stopped; the receiver comes up meanwhile; a new gateway process opens the same journal
    await receiver.start()
    try:
        clock2 = ManualClock(datetime.now(UTC))
        async with edge_context(cfg, clock2) as ctx2, _running(ctx2):
            await _next_attempt(ctx2, clock2, msg_id)
            await clock2.advance(300)
            await asyncio.sleep(0.2)
            attempts = _attempts(ctx2, msg_id)
            assert [a.outcome for a in attempts] == ["retry", "retry", "delivered"]
    finally:
        await receiver.stop()
    assert receiver.accepted == {msg_id: 1}


async def test_a_refused_delivery_fails_once_and_opens_one_work_order(tmp_path: Path) -> None:
    receiver = Receiver(answer=410)
    cfg = _site(tmp_path, receiver)
    clock = ManualClock(datetime.now(UTC))
    await receiver.start()
    try:
        async with edge_context(cfg, clock) as ctx, _running(ctx) as outbox:
            msg_id = await outbox.enqueue("shipment.dispatched", SHIPMENT, key="SO-9")
            await wait_until(lambda: len(_attempts(ctx, msg_id)) == 1)
            await clock.advance(120)  # within the receiver's 5 minutes of tolerance
            await asyncio.sleep(0.2)
            assert [a.outcome for a in _attempts(ctx, msg_id)] == ["failed"]
            msg = ctx.journal.read(store.get, msg_id)
            assert msg is not None and msg.status == "failed" and msg.work_order_id
            wos = [e.op().payload for e in ctx.journal.entries(kind=OpKind.WORK_ORDER)]
            assert len(wos) == 1 and wos[0].wo_type == "failed_handoff"  # type: ignore[union-attr]
            assert wos[0].work_order_id == msg.work_order_id  # type: ignore[union-attr]
            # the receiver is fixed; an operator puts the message back in line: delivered, no new work order
            receiver.answer = 200
            assert await outbox.retry(msg_id)
            await wait_until(lambda: len(_attempts(ctx, msg_id)) == 2)
            assert ctx.journal.read(store.get, msg_id).status == "delivered"  # type: ignore[union-attr]
            assert len(ctx.journal.entries(kind=OpKind.WORK_ORDER)) == 1
    finally:
        await receiver.stop()
    assert sum(receiver.accepted.values()) == 1


async def test_running_out_of_attempts_fails_the_delivery(tmp_path: Path) -> None:
    receiver = Receiver()  # never started: every attempt is refused
    cfg = _site(tmp_path, receiver, max_attempts=3)
    clock = ManualClock(datetime.now(UTC))
    async with edge_context(cfg, clock) as ctx, _running(ctx) as outbox:
        msg_id = await outbox.enqueue("rule.notify", {"rule": "r1", "op_id": "x"}, key="r1")
        await wait_until(lambda: len(_attempts(ctx, msg_id)) == 1)
        await _next_attempt(ctx, clock, msg_id)
        await _next_attempt(ctx, clock, msg_id)
        assert [a.outcome for a in _attempts(ctx, msg_id)] == ["retry", "retry", "failed"]
        assert len(ctx.journal.entries(kind=OpKind.WORK_ORDER)) == 1


async def test_notify_is_the_rules_runners_notifier(tmp_path: Path) -> None:
    receiver = Receiver()
    cfg = _site(tmp_path, receiver)
    clock = ManualClock(datetime.now(UTC))
    await receiver.start()
    try:
        async with edge_context(cfg, clock) as ctx, _running(ctx) as outbox:
            await outbox.notify("rule.fired", {"rule_id": "chilled-hold", "op_id": "0190"})
            await outbox.notify("rule.fired", {"op_id": "0190", "rule_id": "chilled-hold"})  # same fact
            await wait_until(lambda: sum(receiver.accepted.values()) == 1)
            await asyncio.sleep(0.1)
    finally:
        await receiver.stop()
    assert len(receiver.accepted) == 1


def test_signature_matches_the_reference_implementation(tmp_path: Path) -> None:
    receiver = Receiver()
    cfg = _site(tmp_path, receiver)
    assert cfg.handoff is not None
    now = datetime.now(UTC)
    body = '{"type":"t","data":{}}'
    outbox = WebhookOutbox.__new__(WebhookOutbox)
    outbox._signer = Webhook(cfg.handoff.resolved_secret())
    headers = outbox.sign("msg_1", now, body)
    assert Webhook(SECRET).verify(body, headers) == {"type": "t", "data": {}}
    with pytest.raises(Exception, match="signature"):
        Webhook("whsec_" + "A" * 32).verify(body, headers)


def test_backoff_is_capped_jittered_and_growing() -> None:
    rng = random.Random(1)
    for attempt in range(1, 30):
        d = backoff_seconds(attempt, 5, 900, rng)
        ceiling = min(900, 5 * 2 ** (attempt - 1))
        assert ceiling / 2 <= d <= ceiling
    s = HandoffSettings(url="http://x", secret="whsec_" + "A" * 24, max_attempts=5)
    assert classify(204, 1, 0, s) == "delivered"
    assert classify(404, 1, 0, s) == "failed"
    assert classify(429, 1, 0, s) == classify(408, 1, 0, s) == classify(None, 1, 0, s) == "retry"
    assert classify(500, 5, 0, s) == "failed"
    assert classify(500, 1, 73 * 3600, s) == "failed"


def test_handoff_settings_errors_name_the_key(tmp_path: Path) -> None:
    data = site_dict(tmp_path)
    data["handoff"] = {"url": "ftp://tms", "secret": "whsec_" + "A" * 24, "max_attempts": 0}
    with pytest.raises(ConfigError) as err:
        parse_config(data, "site.toml")
    text = str(err.value)
    assert "site.toml" in text and "handoff.url" in text and "handoff.max_attempts" in text
    bad = HandoffSettings(url="http://x", secret_file=tmp_path / "missing")
    with pytest.raises(ValueError, match=r"handoff.secret_file .*cannot read"):
        bad.resolved_secret()
    short = HandoffSettings(url="http://x", secret="whsec_QUJD")
    with pytest.raises(ValueError, match=r"handoff\.secret: the secret must hold at least 16 bytes"):
        short.resolved_secret()
