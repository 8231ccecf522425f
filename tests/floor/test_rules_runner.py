"""The rules runner on a real journal: firings are ops, actions happen once, across restarts."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from edge.config import SiteConfig, parse_config
from edge.context import EdgeContext
from edge.rules.actions import CreateTask, OpenWorkOrder
from edge.rules.engine import RulesError
from edge.rules.events import DamagedGoods
from edge.rules.runner import CURSOR_KEY, FiringContext, RulesRunner
from sync.clock import ManualClock
from sync.ops import ExceptionPayload, Op, OpDraft, OpKind, QcHoldPayload, ReceivePayload, RuleFiredPayload
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


class Recorder:
    """A real, if small, FloorActions and Notifier: keyed, so a repeated key does nothing."""

    def __init__(self) -> None:
        self.calls: dict[str, tuple[str, Any]] = {}
        self.notified: dict[str, tuple[str, dict[str, Any]]] = {}

    async def create_task(self, key: str, action: CreateTask, fired: FiringContext) -> str:
        self.calls.setdefault(key, ("task", action))
        return f"T-{key[-8:]}"

    async def open_work_order(self, key: str, action: OpenWorkOrder, fired: FiringContext) -> str:
        self.calls.setdefault(key, ("work_order", action))
        return f"WO-{key[-8:]}"

    async def notify(self, event_type: str, payload: dict[str, Any]) -> None:
        self.notified.setdefault(payload["id"], (event_type, payload))


def config(tmp_path: Path, rules: str = RULES) -> SiteConfig:
    path = tmp_path / "rules.toml"
    path.write_text(rules)
    data = site_dict(tmp_path)
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
    cfg = config(tmp_path)
    rec = Recorder()
    async with edge_context(cfg, ManualClock()) as ctx:
        runner = RulesRunner(ctx, floor=rec, notifier=rec)
        async with running(runner):
            small = await receive(ctx, 10)
            big = await receive(ctx, 150)
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
        ((event, body),) = rec.notified.values()
        assert event == "big_receipt" and body["rule_id"] == "big-receipt-hold" and body["message"] == "150 SKU-1"
        assert body["ruleset_hash"] == runner.current.hash
        assert small.op_id not in {f.payload.subject_op_id for f in ops(ctx, OpKind.RULE_FIRED)}  # type: ignore[union-attr]


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
    rec = Recorder()
    clock = ManualClock()
    await_stock = [("SKU-2", "A-01", 30)]
    async with edge_context(cfg, clock) as ctx:
        for sku, loc, qty in await_stock:
            await ctx.journal.append(
                OpDraft(payload=ReceivePayload(sku=sku, location=loc, qty=qty), actor="op1", occurred_at=clock.now())
            )
        runner = RulesRunner(ctx, floor=rec, notifier=rec)
        await runner.start()
        await runner.catch_up()
        event = DamagedGoods(sku="SKU-2", location="A-01", qty=2, note="forklift", occurred_at=clock.now())
        (fired,) = await runner.fire(event)  # recorded; the gateway "crashes" before the stream reaches it
        assert await runner.fire(event) == [fired]  # the same event again: the same firing, not a second
    assert rec.calls == {}
    for _ in range(2):  # restart twice: the second finds everything done
        async with edge_context(cfg, clock) as ctx:
            runner = RulesRunner(ctx, floor=rec, notifier=rec)
            async with running(runner):
                pass
            assert len(ops(ctx, OpKind.RULE_FIRED)) == 1
            assert [(h.payload.location, h.payload.qty) for h in ops(ctx, OpKind.QC_HOLD)] == [("A-01", 30)]  # type: ignore[union-attr]
            assert sorted(kind for kind, _ in rec.calls.values()) == ["task", "work_order"]
            assert ctx.journal.read(lambda c: c.execute("SELECT value FROM meta WHERE key=?", (CURSOR_KEY,)).fetchone())


async def test_a_restart_before_the_cursor_is_stored_does_nothing_twice(tmp_path: Path) -> None:
    cfg = config(tmp_path)
    rec = Recorder()
    clock = ManualClock()
    async with edge_context(cfg, clock) as ctx:
        runner = RulesRunner(ctx, floor=rec, notifier=rec)
        start = ctx.journal.head()[0]
        async with running(runner):
            await receive(ctx, 120)
            await receive(ctx, 130, location="A-02")
        before = [(o.kind, o.op_id) for o in ops(ctx)]

        def rewind(conn: Any) -> None:  # as if it crashed after the actions, before storing the cursor
            conn.execute("UPDATE meta SET value = ? WHERE key = ?", (str(start), CURSOR_KEY))

        await ctx.journal.write(rewind)
    async with edge_context(cfg, clock) as ctx:
        runner = RulesRunner(ctx, floor=rec, notifier=rec)
        assert runner.cursor == 0
        async with running(runner):
            pass
        assert runner.cursor > start
        assert [(o.kind, o.op_id) for o in ops(ctx)] == before  # evaluated again: found, not fired again
        assert len(rec.notified) == 2


async def test_a_new_runner_does_not_fire_on_history(tmp_path: Path) -> None:
    async with edge_context(config(tmp_path), ManualClock()) as ctx:
        await receive(ctx, 500)  # before any runner
        runner = RulesRunner(ctx, notifier=Recorder())
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
        runner = RulesRunner(ctx, notifier=Recorder())
        old = runner.current
        cfg.rules.file.write_text(RULES.replace("qty >= 100", "qty >= 100 and"))
        with pytest.raises(RulesError):
            runner.reload()
        assert runner.current is old
        cfg.rules.file.write_text(RULES.replace("qty >= 100", "qty >= 5"))
        new = runner.reload()
        async with running(runner):
            await receive(ctx, 6)
        (fired,) = ops(ctx, OpKind.RULE_FIRED)
        assert fired.payload.ruleset_hash == new.hash != old.hash  # type: ignore[union-attr]
