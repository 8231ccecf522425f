"""Cloud ``transport_task`` commands reach the transport record once, and are refused without a fleet."""

from __future__ import annotations

from pathlib import Path

from edge.fleet.config import FleetConfig
from edge.fleet.examples import loop_layout
from edge.fleet.master import FleetMaster
from edge.floor.transport import TransportService
from edge.uplink.commands import apply_command
from sync.clock import ManualClock
from sync.ops import CommandAppliedPayload, OpKind
from tests.floor.test_transport import STATIONS, site
from tests.support.edge import edge_context

BODY = {
    "task_id": "TT-1",
    "handling_unit": "HU-77",
    "sku": "SKU-1",
    "qty": 2,
    "from_location": "DOCK-01",
    "to_location": "SLOT-04",
}


async def test_a_transport_task_command_is_accepted_once(tmp_path: Path) -> None:
    clock = ManualClock()
    async with edge_context(site(tmp_path), clock) as ctx:
        command = {"command_id": "tc-1", "cursor": 1, "type": "transport_task", "body": BODY}
        assert await apply_command(ctx.journal, command, ctx) == (
            "rejected",
            "this gateway has no AGV fleet ([fleet] missing): transport task not accepted",
        )
        service = TransportService(ctx)
        service.master = FleetMaster(FleetConfig(layout=loop_layout()), clock=clock, record=ctx.journal.append)
        ctx.transport = service
        command = {**command, "command_id": "tc-2", "cursor": 2}
        assert await apply_command(ctx.journal, command, ctx) == ("applied", "transport task TT-1 accepted (submitted)")
        # the same task again under another command (the cloud retried): the same task, not a second
        again = {**command, "command_id": "tc-3", "cursor": 3}
        assert await apply_command(ctx.journal, again, ctx) == ("applied", "transport task TT-1 accepted (submitted)")
        assert [r.task_id for r in service.rows()] == ["TT-1"]
        row = service.rows()[0]
        assert (row.source, row.ref, row.handling_unit, row.qty) == ("cloud", "tc-2", "HU-77", 2)
        assert list(service.master.control.tasks) == ["TT-1"]
        bad = {
            "command_id": "tc-4",
            "cursor": 4,
            "type": "transport_task",
            "body": {**BODY, "task_id": "TT-2", "to_location": "LOST-1"},
        }
        result, reason = await apply_command(ctx.journal, bad, ctx)
        assert result == "rejected" and "to_location 'LOST-1' is not a station" in reason
        applied = [e.op().payload for e in ctx.journal.entries(kind=OpKind.COMMAND_APPLIED)]
        assert [(p.command_id, p.result) for p in applied if isinstance(p, CommandAppliedPayload)] == [
            ("tc-1", "rejected"),
            ("tc-2", "applied"),
            ("tc-3", "applied"),
            ("tc-4", "rejected"),
        ]
        assert "DOCK-01" in STATIONS


async def test_a_rule_asks_for_a_transport_of_the_ops_load_once(tmp_path: Path) -> None:
    import asyncio

    from edge.rules.runner import RulesRunner
    from sync.ops import OpDraft, ReceivePayload

    rules = tmp_path / "rules.toml"
    rules.write_text("""
[[rules]]
id = "dock-to-slot"
on = "receive"
when = "location == 'DOCK-01'"
then = [{ action = "agv_transport", from_location = "{location}", to_location = "SLOT-04", load = "HU-{sku}" }]
""")
    cfg = site(tmp_path)
    cfg = cfg.model_copy(update={"rules": cfg.rules.model_copy(update={"file": rules})})
    clock = ManualClock()
    async with edge_context(cfg, clock) as ctx:
        service = TransportService(ctx)
        service.master = FleetMaster(FleetConfig(layout=loop_layout()), clock=clock, record=ctx.journal.append)
        runner = RulesRunner(ctx, transport=service)
        await runner.start()
        await ctx.journal.append(
            OpDraft(
                payload=ReceivePayload(sku="SKU-1", location="DOCK-01", qty=3), actor="op1", occurred_at=clock.now()
            )
        )
        await asyncio.wait_for(runner.catch_up(), 10)
        (row,) = service.rows()
        assert (row.source, row.sku, row.qty, row.from_location, row.to_location, row.handling_unit) == (
            "rule", "SKU-1", 3, "DOCK-01", "SLOT-04", "HU-SKU-1",
        )  # fmt: skip
        (fired,) = [e.op() for e in ctx.journal.entries(kind=OpKind.RULE_FIRED)]
        assert row.ref == f"{fired.op_id}/0"
        runner2 = RulesRunner(ctx, transport=service)  # the firing done again (a restart): the same task
        runner2.cursor, runner2._started = 0, True
        await asyncio.wait_for(runner2.catch_up(), 10)
        assert len(service.rows()) == 1


async def test_a_floor_task_given_to_the_fleet_becomes_a_transport(tmp_path: Path) -> None:
    clock = ManualClock()
    async with edge_context(site(tmp_path), clock) as ctx:
        service = TransportService(ctx)
        service.master = FleetMaster(FleetConfig(layout=loop_layout()), clock=clock, record=ctx.journal.append)
        await ctx.floor.create_task(
            "transport", task_id="T-PUT-1", assignee="fleet", sku="SKU-1", qty=4,
            from_location="DOCK-02", to_location="SLOT-07", ref="putaway ASN-1/1",
        )  # fmt: skip
        await ctx.floor.create_task("transport", task_id="T-BAD", assignee="fleet", from_location="DOCK-02")
        await service.sync()
        (row,) = service.rows()
        assert (row.task_id, row.source, row.ref, row.qty, row.to_location) == (
            "T-PUT-1", "floor", "putaway ASN-1/1", 4, "SLOT-07",
        )  # fmt: skip
        assert list(service.master.control.tasks) == ["T-PUT-1"]
        bad = ctx.floor.task("T-BAD")
        assert bad is not None and bad.task.state.value == "failed"
        assert "needs sku, qty, from_location and to_location" in (bad.task.reason or "")
        await service.sync()  # nothing twice
        assert len(service.rows()) == 1


async def test_goods_to_person_putaways_become_transports_also_those_made_before_the_fleet(tmp_path: Path) -> None:
    from edge.floor.flow import floor_flow
    from sync.commands import TransportTaskCommand
    from sync.ops import ExceptionPayload

    clock = ManualClock()
    async with edge_context(site(tmp_path), clock) as ctx:
        flow = floor_flow(ctx)
        waiting = {
            "id": "PA-R1-1", "receipt_id": "R1", "sku": "SKU-1", "lot": "", "qty": 5, "done_qty": 0,
            "from_location": "DOCK-01", "location": "SLOT-11", "mode": "agv", "transport": "waiting_for_fleet",
        }  # fmt: skip
        await flow.save(("putaway", "PA-R1-1", "open", waiting))  # made while the site had no fleet running
        service = TransportService(ctx)
        service.master = FleetMaster(FleetConfig(layout=loop_layout()), clock=clock, record=ctx.journal.append)
        flow.transport = service.from_putaway  # as the gateway installs it
        assert await service.adopt_waiting_putaways() == 1
        assert await service.adopt_waiting_putaways() == 0  # once
        row = service.get("PA-R1-1")
        assert row is not None and (row.source, row.ref, row.state, row.to_location) == (
            "putaway",
            "R1",
            "submitted",
            "SLOT-11",
        )
        found = flow.doc("putaway", "PA-R1-1")
        assert found is not None and found[1]["transport"] == "submitted"
        # a putaway to a place the AGVs cannot reach: a failed task with its op, not an error for the QC
        command = TransportTaskCommand(
            task_id="PA-R2-1", handling_unit="PA-R2-1", sku="SKU-1", qty=1, from_location="DOCK-01", to_location="A-99"
        )
        await service.from_putaway(command, {"receipt_id": "R2"})
        failed = service.get("PA-R2-1")
        assert failed is not None and failed.state == "failed" and "not a station" in failed.reason
        (op,) = [e.op() for e in ctx.journal.entries(kind=OpKind.EXCEPTION)]
        assert isinstance(op.payload, ExceptionPayload) and op.payload.code == "agv_task_failed"
        assert op.payload.detail.startswith("task PA-R2-1: refused: to_location 'A-99'")
