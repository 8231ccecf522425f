"""The rules runner on a real journal: firings are ops, actions happen once, across restarts."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from edge.config import SiteConfig, parse_config
from edge.context import EdgeContext
from edge.rules.engine import RulesError
from edge.rules.events import DamagedGoods
from edge.rules.runner import CURSOR_KEY, FloorTasks, RulesRunner
from sync.clock import ManualClock
from sync.ops import ExceptionPayload, Op, OpDraft, OpKind, QcHoldPayload, ReceivePayload, RuleFiredPayload
from tests.floor.webhook_receiver import SECRET, Receiver, wait_until
from tests.support.edge import edge_context, site_dict

RULES = """
[[rules]]
id = "big-receipt-hold"
on = "receive"
when = "qty >= 100"
then = [
  { action = "hold_stock", scope = "op", reason = "big receipt of {sku}: check it" },
  { action = "notify", webhook = "erp", event = "big_receipt", message = "{qty} {sku}" },
]

[[rules]]
id = "damaged"
on = "damaged_goods"
then = [
  { action = "hold_stock", scope = "location", location = "{location}", reason = "damaged: {note}" },
  { action = "open_work_order", wo_type = "damaged_goods", location = "{location}", description = "{note}" },
  { action = "create_task", task = "count", location = "{location}" },
]
"""


def config(tmp_path: Path, rules: str = RULES, receiver: Receiver | None = None) -> SiteConfig:
    path = tmp_path / "rules.toml"
    path.write_text(rules)
    data = site_dict(tmp_path)
    if receiver is not None:  # the site's webhook outbox ([handoff]): the notify action's way out
        data["handoff"] = {"url": receiver.url, "secret": SECRET, "backoff_base_seconds": 1}
    data["rules"] = {"file": str(path)}
    return parse_config(data)


def ops(ctx: EdgeContext, kind: OpKind | None = None) -> list[Op]:
    return [e.op() for e in ctx.journal.entries(limit=10_000, kind=kind)]


async def receive(ctx: EdgeContext, qty: int, location: str = "DOCK") -> Op:
    return await ctx.journal.append(
        OpDraft(
            payload=ReceivePayload(sku="SKU-1", location=location, qty=qty),
            actor="op1",
            device_id="hh-1",
            occurred_at=ctx.clock.now(),
        )
    )


@contextlib.asynccontextmanager
async def running(runner: RulesRunner) -> AsyncIterator[RulesRunner]:
    task = asyncio.create_task(runner.run())
    try:
        await runner.start()
        yield runner
        await runner.settled()
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def test_a_firing_is_an_op_and_its_actions_follow(tmp_path: Path) -> None:
    receiver = Receiver()
    await receiver.start()
    cfg = config(tmp_path, receiver=receiver)
    try:
        async with edge_context(cfg, ManualClock(datetime.now(UTC))) as ctx:
            outbox = ctx.open_webhooks()
            assert outbox is not None
            runner = RulesRunner(ctx, floor=FloorTasks(ctx))  # notifies through ctx.webhooks
            sender = asyncio.create_task(outbox.run())
            try:
                async with running(runner):
                    small = await receive(ctx, 10)
                    big = await receive(ctx, 150)
                await wait_until(lambda: len(receiver.accepted) == 1)
            finally:
                sender.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await sender
            (fired,) = ops(ctx, OpKind.RULE_FIRED)
            assert isinstance(fired.payload, RuleFiredPayload)
            assert fired.payload.rule_id == "big-receipt-hold"
            assert fired.payload.ruleset_hash == runner.current.hash
            assert fired.payload.subject_op_id == big.op_id and fired.payload.subject == f"op:{big.op_id}"
            assert fired.actor == "system" and fired.device_id == "hh-1"
            (hold,) = ops(ctx, OpKind.QC_HOLD)
            assert isinstance(hold.payload, QcHoldPayload)
            assert (hold.payload.sku, hold.payload.location, hold.payload.qty) == ("SKU-1", "DOCK", 150)
            assert hold.payload.reason == "big receipt of SKU-1: check it"
            assert ctx.journal.book_qty("SKU-1", "DOCK") == 10  # the small receipt stays available
            (seen,) = [x for x in receiver.seen if x.verified]  # signed, verified by standardwebhooks
            assert seen.body is not None and seen.body["type"] == "big_receipt"
            data = seen.body["data"]
            assert data["rule_id"] == "big-receipt-hold" and data["message"] == "150 SKU-1"
            assert data["ruleset_hash"] == runner.current.hash and data["subject"] == f"op:{big.op_id}"
            assert small.op_id not in {f.payload.subject_op_id for f in ops(ctx, OpKind.RULE_FIRED)}  # type: ignore[union-attr]
    finally:
        await receiver.stop()


async def test_an_action_without_its_part_is_refused_and_recorded(tmp_path: Path) -> None:
    async with edge_context(config(tmp_path), ManualClock()) as ctx:
        runner = RulesRunner(ctx)  # no task model, no outbox on this gateway
        async with running(runner):
            await receive(ctx, 200)
        (refused,) = ops(ctx, OpKind.EXCEPTION)
        assert isinstance(refused.payload, ExceptionPayload) and refused.payload.code == "rule_action_refused"
        assert "rule 'big-receipt-hold' action 1 (notify): no webhook outbox" in refused.payload.detail
        assert len(ops(ctx, OpKind.QC_HOLD)) == 1  # the hold still happened
        counted = ctx.registry.get_sample_value("wims_rules_actions_total", {"action": "notify", "result": "refused"})
        assert counted == 1.0


async def test_no_double_action_after_a_crash_between_firing_and_actions(tmp_path: Path) -> None:
    """The firing is journaled, then the gateway dies before any action: the restart does each once."""
    cfg = config(tmp_path)
    clock = ManualClock()
    stock = [("SKU-2", "A-01", 30)]
    async with edge_context(cfg, clock) as ctx:
        for sku, loc, qty in stock:
            await ctx.journal.append(
                OpDraft(payload=ReceivePayload(sku=sku, location=loc, qty=qty), actor="op1", occurred_at=clock.now())
            )
        runner = RulesRunner(ctx, floor=FloorTasks(ctx))
        await runner.start()
        await runner.catch_up()
        event = DamagedGoods(sku="SKU-2", location="A-01", qty=2, note="forklift", occurred_at=clock.now())
        (fired,) = await runner.fire(event)  # recorded; the gateway "crashes" before the stream reaches it
        assert await runner.fire(event) == [fired]  # the same event again: the same firing, not a second
        assert ctx.floor.tasks() == [] and ctx.floor.work_orders.query() == []
    for _ in range(2):  # restart twice: the second finds everything done
        async with edge_context(cfg, clock) as ctx:
            runner = RulesRunner(ctx, floor=FloorTasks(ctx))
            async with running(runner):
                pass
            assert len(ops(ctx, OpKind.RULE_FIRED)) == 1
            assert [(h.payload.location, h.payload.qty) for h in ops(ctx, OpKind.QC_HOLD)] == [("A-01", 30)]  # type: ignore[union-attr]
            (task,) = ctx.floor.tasks()
            assert (task.task.task_kind, task.task.from_location, task.task.zone) == ("count", "A-01", "Z")
            assert task.task.ref == "rule damaged"
            (wo,) = ctx.floor.work_orders.query()
            assert (wo.wo_type, wo.role, wo.fact_key) == (
                "damaged_goods",
                "supervisor",
                f"rule:damaged:{fired.payload.subject}:1",
            )  # type: ignore[union-attr]
            assert ctx.journal.read(lambda c: c.execute("SELECT value FROM meta WHERE key=?", (CURSOR_KEY,)).fetchone())


async def test_a_restart_before_the_cursor_is_stored_does_nothing_twice(tmp_path: Path) -> None:
    cfg = config(tmp_path, receiver=Receiver())  # the receiver is never started: messages stay queued
    clock = ManualClock()
    async with edge_context(cfg, clock) as ctx:
        ctx.open_webhooks()
        runner = RulesRunner(ctx, floor=FloorTasks(ctx))
        start = ctx.journal.head()[0]
        async with running(runner):
            await receive(ctx, 120)
            await receive(ctx, 130, location="A-02")
        before = [(o.kind, o.op_id) for o in ops(ctx)]

        def rewind(conn: Any) -> None:  # as if it crashed after the actions, before storing the cursor
            conn.execute("UPDATE meta SET value = ? WHERE key = ?", (str(start), CURSOR_KEY))

        await ctx.journal.write(rewind)
    async with edge_context(cfg, clock) as ctx:
        ctx.open_webhooks()
        runner = RulesRunner(ctx, floor=FloorTasks(ctx))
        assert runner.cursor == 0
        async with running(runner):
            pass
        assert runner.cursor > start
        assert [(o.kind, o.op_id) for o in ops(ctx)] == before  # evaluated again: found, not fired again
        queued = ctx.journal.read(lambda c: c.execute("SELECT count(*) FROM webhook_outbox").fetchone()[0])
        assert queued == 2  # one message a firing, not one a redo


async def test_a_new_runner_does_not_fire_on_history(tmp_path: Path) -> None:
    async with edge_context(config(tmp_path), ManualClock()) as ctx:
        await receive(ctx, 500)  # before any runner
        runner = RulesRunner(ctx)
        async with running(runner):
            await receive(ctx, 100)
        assert len(ops(ctx, OpKind.RULE_FIRED)) == 1


async def test_a_bad_rules_file_at_start_is_an_error_naming_it(tmp_path: Path) -> None:
    cfg = config(tmp_path, RULES.replace("qty >= 100", "qtty >= 100"))
    async with edge_context(cfg, ManualClock()) as ctx:
        with pytest.raises(RulesError, match=r"rules\.toml: rule 'big-receipt-hold' \(rules\[0\]\)\.when: unknown"):
            RulesRunner(ctx)


async def test_a_reload_takes_effect_and_a_bad_one_keeps_the_old_set(tmp_path: Path) -> None:
    cfg = config(tmp_path)
    assert cfg.rules.file is not None
    async with edge_context(cfg, ManualClock()) as ctx:
        runner = RulesRunner(ctx)
        old = runner.current
        cfg.rules.file.write_text(RULES.replace("qty >= 100", "qty >= 100 and"))
        with pytest.raises(RulesError):
            await runner.reload()
        assert runner.current is old
        cfg.rules.file.write_text(RULES.replace("qty >= 100", "qty >= 5"))
        new = await runner.reload()
        async with running(runner):
            await receive(ctx, 6)
        (fired,) = ops(ctx, OpKind.RULE_FIRED)
        assert fired.payload.ruleset_hash == new.hash != old.hash  # type: ignore[union-attr]


async def test_a_cloud_rule_command_replaces_the_set_until_the_file_is_reloaded(tmp_path: Path) -> None:
    from edge.uplink.commands import apply_command

    cfg = config(tmp_path)
    clock = ManualClock()
    body = {
        "rules": [
            {
                "id": "cloud-hold",
                "on": "receive",
                "when": "qty >= 2",
                "then": [{"do": "hold_stock", "scope": "op", "reason": "cloud says {sku}"}],
            }
        ]
    }
    async with edge_context(cfg, clock) as ctx:
        runner = RulesRunner(ctx)
        file_hash = runner.current.hash
        assert await apply_command(ctx.journal, {"command_id": "r-1", "cursor": 1, "type": "rule", "body": body}) == (
            "rejected",
            "this gateway runs no rules runner: rule set not applied",
        )
        ctx.rules = runner
        bad = {"rules": [{**body["rules"][0], "when": "qtty >= 2"}]}
        result, reason = await apply_command(
            ctx.journal, {"command_id": "r-2", "cursor": 2, "type": "rule", "body": bad}, ctx
        )
        assert result == "rejected"
        assert reason.startswith("cloud command r-2: rule 'cloud-hold' (rules[0]).when: unknown symbol 'qtty'")
        assert runner.current.hash == file_hash
        result, reason = await apply_command(
            ctx.journal, {"command_id": "r-3", "cursor": 3, "type": "rule", "body": body}, ctx
        )
        assert result == "applied" and runner.source == "cloud command r-3"
        cloud_hash = runner.current.hash
        async with running(runner):
            await receive(ctx, 5)
        (fired,) = ops(ctx, OpKind.RULE_FIRED)
        assert fired.payload.rule_id == "cloud-hold" and fired.payload.ruleset_hash == cloud_hash  # type: ignore[union-attr]
    async with edge_context(cfg, clock) as ctx:  # a restart keeps the cloud's set in force
        runner = RulesRunner(ctx)
        assert runner.current.hash == cloud_hash and runner.source == "cloud command r-3"
        await runner.reload()  # the site's own file again, here and after the next start
        assert runner.current.hash == file_hash
    async with edge_context(cfg, clock) as ctx:
        assert RulesRunner(ctx).current.hash == file_hash


async def test_an_event_fired_before_the_runner_runs_still_has_its_actions(tmp_path: Path) -> None:
    """A device may fire before the runner's part has read its cursor (a gateway's first start)."""
    clock = ManualClock()
    async with edge_context(config(tmp_path), clock) as ctx:
        await ctx.journal.append(
            OpDraft(payload=ReceivePayload(sku="SKU-3", location="B-01", qty=7), actor="op1", occurred_at=clock.now())
        )
        runner = RulesRunner(ctx, floor=FloorTasks(ctx))
        await runner.fire(DamagedGoods(sku="SKU-3", location="B-01", qty=1, note="dropped", occurred_at=clock.now()))
        async with running(runner):
            pass
        assert [(h.payload.location, h.payload.qty) for h in ops(ctx, OpKind.QC_HOLD)] == [("B-01", 7)]  # type: ignore[union-attr]
        assert len(ctx.floor.work_orders.query()) == 1
