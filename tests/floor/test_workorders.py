"""Exception work orders: one per fact, escalation on the injected clock, closing with a reason and a role."""

from __future__ import annotations

import asyncio
import base64
import hashlib
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import httpx
import pytest

from edge.config import SiteConfig
from edge.context import EdgeContext
from edge.daemon import Gateway
from edge.floor.workorders import AlreadyClosed, CloseNotAllowed, WorkOrderError
from sync.clock import ManualClock
from sync.ops import OpKind
from tests.floor.test_tasks import floor_site
from tests.support.edge import edge_context

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


@pytest.fixture
def site(tmp_path: Path) -> SiteConfig:
    return floor_site(tmp_path)


def wo_ops(ctx: EdgeContext) -> list[tuple[str, str, int | None, str]]:
    """(action, role, level, actor) of every work_order op, in order."""
    return [
        (p["action"], p["assignee_role"], p.get("level"), e.body["actor"])
        for e in ctx.journal.entries(kind=OpKind.WORK_ORDER)
        for p in [e.body["payload"]]
    ]


async def test_a_short_pick_reported_twice_opens_one_work_order(site: SiteConfig) -> None:
    async with edge_context(site, ManualClock()) as ctx:
        fact = "short_pick:SO-1:line-2:A-01"
        first = await ctx.floor.open_work_order(fact, "short_pick", description="2 of 5 found", ref="SO-1")
        again = await ctx.floor.open_work_order(fact, "short_pick", description="reported again")
        both = await asyncio.gather(*(ctx.floor.open_work_order(fact, "short_pick") for _ in range(5)))
        assert {w.work_order_id for w in [first, again, *both]} == {first.work_order_id}
        assert wo_ops(ctx) == [("open", "operator", 0, "system")]
        assert first.role == "operator" and first.state == "open" and first.body["description"] == "2 of 5 found"
        assert first.sla_due == ctx.clock.now() + timedelta(minutes=30)
        other = await ctx.floor.open_work_order("short_pick:SO-1:line-3:A-02", "short_pick")
        assert other.work_order_id != first.work_order_id
        with pytest.raises(WorkOrderError, match="SLA must be positive"):
            await ctx.floor.open_work_order("x", "damaged_goods", sla=0)


async def test_an_unanswered_work_order_escalates_to_the_supervisor_then_the_admin(site: SiteConfig) -> None:
    clock = ManualClock()
    start = clock.now()
    async with edge_context(site, clock) as ctx:
        runner = asyncio.create_task(ctx.floor.work_orders.run())
        try:
            wo = await ctx.floor.open_work_order("short_pick:SO-9:1", "short_pick", sla=timedelta(minutes=20))
            await clock.advance(19 * 60)
            await asyncio.sleep(0.05)
            assert ctx.floor.work_orders.escalated == 0  # not yet due
            await clock.advance(61)
            await ctx.floor.work_orders.wait_escalated(1)
            row = ctx.floor.work_orders.get(wo.work_order_id)
            assert row is not None and (row.role, row.level, row.state) == ("supervisor", 1, "open")
            # escalated when the SLA ran out (minute 20), with the same 20 minutes again
            assert row.sla_due == start + timedelta(minutes=40)
            await clock.advance(20 * 60)
            await ctx.floor.work_orders.wait_escalated(2)
            row = ctx.floor.work_orders.get(wo.work_order_id)
            assert row is not None and (row.role, row.level) == ("admin", 2)
            await clock.advance(3 * 3600)
            await asyncio.sleep(0.05)
            assert ctx.floor.work_orders.escalated == 2  # the admin is the last level
            assert wo_ops(ctx) == [
                ("open", "operator", 0, "system"),
                ("escalate", "supervisor", 1, "system"),
                ("escalate", "admin", 2, "system"),
            ]
            # a work order routed to the supervisor goes straight to the admin
            sup = await ctx.floor.open_work_order("qc_reject:ASN-1:1", "qc_reject", sla=60)
            assert sup.role == "supervisor"
            await clock.advance(61)
            await ctx.floor.work_orders.wait_escalated(3)
            row = ctx.floor.work_orders.get(sup.work_order_id)
            assert row is not None and (row.role, row.level) == ("admin", 2)
        finally:
            runner.cancel()
            await asyncio.gather(runner, return_exceptions=True)


async def test_closing_needs_a_reason_and_a_role_and_stops_escalation(site: SiteConfig) -> None:
    clock = ManualClock()
    async with edge_context(site, clock) as ctx:
        wo = await ctx.floor.open_work_order("damaged_goods:DOCK:SKU-1", "damaged_goods", location="DOCK")
        with pytest.raises(CloseNotAllowed, match=r"op1 may not close work order .* routed to supervisor"):
            await ctx.floor.close_work_order(wo.work_order_id, "fine", actor="op1", roles=["operator"])
        with pytest.raises(WorkOrderError, match="closing needs a reason"):
            await ctx.floor.close_work_order(wo.work_order_id, " ", actor="sup1", roles=["supervisor"])
        closed = await ctx.floor.close_work_order(wo.work_order_id, "written off", actor="sup1", roles=["supervisor"])
        assert (closed.state, closed.body["reason"], closed.updated_by) == ("closed", "written off", "sup1")
        with pytest.raises(AlreadyClosed):
            await ctx.floor.close_work_order(wo.work_order_id, "again", actor="sup1", roles=["supervisor"])
        await clock.advance(5 * 3600)
        assert await ctx.floor.work_orders.escalate_due() == []  # closed: never escalates
        # the same fact after closing is still the same fact
        assert (await ctx.floor.open_work_order("damaged_goods:DOCK:SKU-1", "damaged_goods")).state == "closed"


async def test_escalation_carries_on_after_a_restart(site: SiteConfig) -> None:
    async with edge_context(site, ManualClock()) as ctx:
        wo = await ctx.floor.open_work_order("wrong_item:SO-4:1", "wrong_item", sla=600)
    clock = ManualClock()
    async with edge_context(site, clock) as ctx:
        assert ctx.floor.work_orders.for_fact("wrong_item:SO-4:1") is not None
        await clock.advance(601)
        [row] = await ctx.floor.work_orders.escalate_due()
        assert (row.work_order_id, row.role, row.level) == (wo.work_order_id, "supervisor", 1)


# ---- over HTTP, in a running gateway ------------------------------------------------------------------


@pytest.fixture
async def gateway(site: SiteConfig) -> AsyncIterator[tuple[httpx.AsyncClient, ManualClock, Gateway]]:
    clock = ManualClock()
    async with Gateway(site, clock=clock) as gw:
        stop = asyncio.Event()
        task = asyncio.create_task(gw.run(stop))
        await gw.api_ready.wait()
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{gw.api_port}") as client:
            yield client, clock, gw
        stop.set()
        await task


async def test_reports_closing_and_escalation_through_the_api(
    gateway: tuple[httpx.AsyncClient, ManualClock, Gateway],
) -> None:
    api, clock, gw = gateway
    report = {"wo_type": "short_pick", "ref": "SO-1", "sku": "SKU-1", "location": "A-01", "actor": "op1"}
    r1 = await api.post("/v1/work-orders", json={**report, "description": "3 short"})
    r2 = await api.post("/v1/work-orders", json=report)
    assert (r1.status_code, r2.status_code) == (201, 200), r1.text
    assert (
        r1.json()["work_order_id"] == r2.json()["work_order_id"]
        and r1.json()["fact_key"] == "short_pick:SO-1:SKU-1::A-01"
    )
    assert r1.json()["opened_by"] == "op1" and r1.json()["role"] == "operator"
    dmg = await api.post(
        "/v1/work-orders",
        json={"wo_type": "damaged_goods", "location": "DOCK", "photo_base64": base64.b64encode(PNG).decode()},
    )
    assert dmg.status_code == 201 and dmg.json()["photo"] == hashlib.sha256(PNG).hexdigest()
    assert (await api.get(f"/v1/photos/{dmg.json()['photo']}")).content == PNG
    bad = await api.post(
        "/v1/work-orders", json={"wo_type": "damaged_goods", "location": "DOCK", "photo_base64": "aGk="}
    )
    assert bad.status_code == 422 and "JPEG, PNG or WebP" in bad.json()["detail"]
    assert (await api.post("/v1/work-orders", json={"wo_type": "damaged_goods"})).status_code == 422
    wid = dmg.json()["work_order_id"]
    r = await api.post(f"/v1/work-orders/{wid}/close", json={"actor": "sup1"})
    assert r.status_code == 422 and r.json()["errors"][0]["loc"] == ["body", "reason"]
    r = await api.post(f"/v1/work-orders/{wid}/close", json={"actor": "op1", "reason": "looks fine"})
    assert r.status_code == 403 and r.json()["code"] == "not_allowed"
    r = await api.post(f"/v1/work-orders/{wid}/close", json={"actor": "sup1", "reason": "2 cartons written off"})
    assert r.status_code == 200 and r.json()["state"] == "closed" and r.json()["reason"] == "2 cartons written off"
    assert (await api.post(f"/v1/work-orders/{wid}/close", json={"actor": "sup1", "reason": "x"})).status_code == 409
    assert (await api.post("/v1/work-orders/WO-none/close", json={"actor": "sup1", "reason": "x"})).status_code == 404
    # the gateway's own runner escalates the short pick when its 30 minutes run out
    await clock.advance(31 * 60)
    assert gw.ctx is not None
    await gw.ctx.floor.work_orders.wait_escalated(1)
    listed = (await api.get("/v1/work-orders", params={"state": "open"})).json()["items"]
    assert [(w["wo_type"], w["role"], w["level"]) for w in listed] == [("short_pick", "supervisor", 1)]
    health = (await api.get("/healthz")).json()
    assert health["components"]["work-orders"]["status"] == "ok"
    metrics = (await api.get("/metrics")).text
    assert 'wims_floor_work_order_steps_total{action="escalate"} 1.0' in metrics
    assert 'wims_floor_work_order_steps_total{action="open"} 2.0' in metrics


async def test_rule_actions_make_tasks_and_work_orders_through_the_floor(tmp_path: Path) -> None:
    """What the gateway's rules runner gets as its floor (``edge.rules.runner.FloorTasks``): tasks and
    escalating work orders, once per firing."""
    from edge.config import parse_config
    from edge.rules.actions import CreateTask, OpenWorkOrder
    from edge.rules.runner import FiringContext, FloorTasks, fact_key
    from sync.ops import OpDraft, RuleFiredPayload
    from tests.support.edge import site_dict

    data = site_dict(tmp_path)
    data["zones"][0]["supervisor"] = "sup1"
    cfg = parse_config(data)
    clock = ManualClock()
    async with edge_context(cfg, clock) as ctx:
        payload = RuleFiredPayload(rule_id="cold-excursion", ruleset_hash="0" * 64, on="temp_alarm", subject="op:x")
        fired = FiringContext(OpDraft(payload=payload, actor="system", occurred_at=clock.now()), payload, 0)
        actions = FloorTasks(ctx)
        count = CreateTask(action="create_task", task="count", zone="Z", location="A-01", priority=2, note="recount")
        tid = await actions.create_task(fired.key, count, fired)
        assert tid == await actions.create_task(fired.key, count, fired)  # the same firing: the same task
        task = ctx.floor.task(tid)
        assert task is not None and (task.task.task_kind, task.task.from_location, task.task.priority) == (
            "count",
            "A-01",
            2,
        )
        assert task.task.ref == "rule cold-excursion"
        wo = OpenWorkOrder(action="open_work_order", wo_type="temp_excursion", zone="Z", sla_minutes=15)
        wid = await actions.open_work_order(fired.key, wo, fired)
        assert wid == await actions.open_work_order(fired.key, wo, fired)
        row = ctx.floor.work_orders.get(wid)
        assert row is not None and (row.role, row.body["assignee"], row.fact_key) == (
            "supervisor",
            "sup1",
            fact_key(fired),
        )
        await clock.advance(15 * 60)
        [escalated] = await ctx.floor.work_orders.escalate_due()
        assert (escalated.role, escalated.level) == ("admin", 2)  # routed to the supervisor: next is the admin
