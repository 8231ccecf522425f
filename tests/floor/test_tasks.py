"""Floor tasks: the state machine, the service over a real journal (ops, projection, restart), and the API."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest

from edge.config import SiteConfig, parse_config
from edge.daemon import Gateway
from edge.floor.service import UnknownOperator
from edge.floor.tasks import TRANSITIONS, IllegalTransition, NotAllowed, TaskError, UnknownTask, create, step
from edge.store.errors import OpRejected
from edge.store.floor import get_task
from edge.store.schema import connect
from sync.clock import ManualClock
from sync.ops import FLEET, Op, OpKind, TaskKind, TaskPayload, TaskState
from tests.support.edge import edge_context, site_dict


def floor_site(tmp_path: Path) -> SiteConfig:
    data = site_dict(tmp_path)
    data["zones"].append({"code": "F", "temperature_class": "frozen"})
    data["locations"].append({"code": "F-01", "zone": "F"})
    data["operators"] = [
        {"id": "op1", "roles": ["operator"], "zones": ["Z"]},
        {"id": "op2", "roles": ["operator"], "zones": ["F"]},
        {"id": "sup1", "roles": ["supervisor"]},
        {"id": "aud1", "roles": ["auditor"]},
    ]
    return parse_config(data)


@pytest.fixture
def site(tmp_path: Path) -> SiteConfig:
    return floor_site(tmp_path)


# ---- the state machine ----------------------------------------------------------------------------


def test_every_legal_path_and_every_refusal_names_task_and_transition() -> None:
    t = create("T-1", TaskKind.PICK, sku="SKU-1", qty=3, from_location="A-01", to_location="STAGE", ref="SO-1")
    assert (t.state, t.transition) == (TaskState.OPEN, "create")
    a = step(t, "assign", assignee="op1")
    s = step(a, "start")
    d = step(s, "done", note="all 3")
    assert [x.state for x in (a, s, d)] == [TaskState.ASSIGNED, TaskState.IN_PROGRESS, TaskState.DONE]
    assert d.assignee == "op1" and d.note == "all 3" and d.sku == "SKU-1" and d.ref == "SO-1"
    assert step(a, "done").state is TaskState.DONE  # a one-scan task needs no separate start
    assert step(a, "release").assignee is None and step(a, "release").state is TaskState.OPEN
    with pytest.raises(IllegalTransition) as exc:
        step(d, "start")
    assert str(exc.value) == "task T-1 is done: cannot start it (start is allowed from assigned only)"
    assert exc.value.code == "illegal_transition"
    with pytest.raises(IllegalTransition, match="task T-1 is open: cannot start it"):
        step(t, "start")
    with pytest.raises(TaskError, match="task T-1: cancel needs a reason"):
        step(t, "cancel", reason="  ")
    with pytest.raises(TaskError, match="assign needs an assignee"):
        step(t, "assign")
    assert step(s, "fail", reason="AGV blocked").reason == "AGV blocked"
    # no way out of a final state, whatever the transition
    for final in (d, step(t, "cancel", reason="order cancelled"), step(s, "fail", reason="x")):
        for transition in TRANSITIONS:
            with pytest.raises(IllegalTransition):
                step(final, transition, assignee="op1", reason="r")


# ---- the service on a real journal ----------------------------------------------------------------


async def test_each_step_is_one_op_and_the_projection_follows_in_the_same_transaction(site: SiteConfig) -> None:
    clock = ManualClock()
    async with edge_context(site, clock) as ctx:
        row = await ctx.floor.create_task(
            TaskKind.PUTAWAY, sku="SKU-1", qty=5, from_location="DOCK", to_location="A-01", zone="Z", ref="ASN-7"
        )
        tid = row.task.task_id
        assert tid.startswith("T-") and row.task.state is TaskState.OPEN and row.created_by == "system"
        await ctx.floor.assign(tid, "op1", actor="sup1")
        await ctx.floor.start(tid, actor="op1", device_id="hh-1")
        done = await ctx.floor.complete(tid, actor="op1")
        assert done.task.state is TaskState.DONE and done.updated_by == "op1" and done.created_by == "system"
        entries = ctx.journal.entries(kind=OpKind.TASK)
        assert [(e.body["payload"]["transition"], e.body["payload"]["state"], e.body["actor"]) for e in entries] == [
            ("create", "open", "system"),
            ("assign", "assigned", "sup1"),
            ("start", "in_progress", "op1"),
            ("done", "done", "op1"),
        ]
        assert entries[2].body["device_id"] == "hh-1"
        # every op carries the whole task: the last one alone says what the task is
        last = TaskPayload.model_validate(entries[-1].body["payload"])
        assert last == done.task and done.updated_seq == entries[-1].seq
        assert ctx.journal.stock() == []  # a task moves no stock
        with pytest.raises(IllegalTransition, match=f"task {tid} is done: cannot cancel it"):
            await ctx.floor.cancel(tid, "too late", actor="sup1")
        assert len(ctx.journal.entries(kind=OpKind.TASK)) == 4  # a refused step leaves nothing
        with pytest.raises(UnknownTask):
            await ctx.floor.start("T-nope")


async def test_a_task_naming_an_unknown_location_or_sku_is_refused(site: SiteConfig) -> None:
    async with edge_context(site, ManualClock()) as ctx:
        with pytest.raises(OpRejected) as exc:
            await ctx.floor.create_task(TaskKind.MOVE, from_location="A-01", to_location="NOWHERE")
        assert exc.value.code == "unknown_location"
        with pytest.raises(OpRejected) as exc:
            await ctx.floor.create_task(TaskKind.COUNT, sku="GHOST", from_location="A-01")
        assert exc.value.code == "unknown_sku"
        with pytest.raises(TaskError, match="unknown zone 'NOPE'"):
            await ctx.floor.create_task(TaskKind.COUNT, zone="NOPE")
        with pytest.raises(TaskError, match="role 'picker' is not one a person holds"):
            await ctx.floor.create_task(TaskKind.PICK, role="picker")
        assert ctx.floor.tasks() == []


async def test_assignment_by_role_and_zone_and_to_the_fleet(site: SiteConfig) -> None:
    async with edge_context(site, ManualClock()) as ctx:
        chilled = (await ctx.floor.create_task(TaskKind.PICK, zone="Z", priority=5)).task.task_id
        frozen = (await ctx.floor.create_task(TaskKind.PICK, zone="F", priority=2)).task.task_id
        qc = (await ctx.floor.create_task(TaskKind.QC, zone="Z", role="supervisor")).task.task_id
        with pytest.raises(NotAllowed, match=f"task {frozen} is in zone F; operator op1 works Z"):
            await ctx.floor.assign(frozen, "op1")
        with pytest.raises(NotAllowed, match=f"task {qc} is for role 'supervisor'"):
            await ctx.floor.assign(qc, "op1")
        with pytest.raises(UnknownOperator):
            await ctx.floor.assign(chilled, "nobody")
        assert (await ctx.floor.assign(frozen, "op1", check=False)).task.assignee == "op1"  # an override
        await ctx.floor.release(frozen, actor="op1")
        # claims: the most urgent open task of my role and zones; a supervisor also takes operator work
        first = await ctx.floor.claim_next("op2")
        assert first is not None and first.task.task_id == frozen and first.task.assignee == "op2"
        assert await ctx.floor.claim_next("op2") is None  # nothing else in zone F
        sup = await ctx.floor.claim_next("sup1")
        assert sup is not None and sup.task.task_id == chilled  # priority 5 before the qc's default 5, older
        assert await ctx.floor.claim_next("aud1") is None
        transport = await ctx.floor.create_task(
            TaskKind.TRANSPORT, from_location="DOCK", to_location="A-02", assignee=FLEET, role="fleet"
        )
        assert (transport.task.state, transport.task.assignee) == (TaskState.ASSIGNED, FLEET)
        mine = ctx.floor.mine("sup1")
        assert [r.task.task_id for r in mine] == [chilled, qc]  # my assigned one, then the open ones I may take


async def test_concurrent_claims_never_get_the_same_task(site: SiteConfig) -> None:
    async with edge_context(site, ManualClock()) as ctx:
        ids = {(await ctx.floor.create_task(TaskKind.PICK, zone="Z")).task.task_id for _ in range(3)}
        claims = await asyncio.gather(*(ctx.floor.claim_next(who) for who in ("op1", "sup1", "op1", "sup1")))
        got = [c.task.task_id for c in claims if c is not None]
        assert sorted(got) == sorted(ids) and claims.count(None) == 1


async def test_creating_with_your_own_id_is_idempotent(site: SiteConfig) -> None:
    async with edge_context(site, ManualClock()) as ctx:
        a = await ctx.floor.create_task(TaskKind.REPLENISH, task_id="rule:low:SKU-1", sku="SKU-1", to_location="A-01")
        b = await ctx.floor.create_task(TaskKind.REPLENISH, task_id="rule:low:SKU-1", sku="SKU-1", to_location="A-01")
        assert a == b and len(ctx.journal.entries(kind=OpKind.TASK)) == 1


async def test_listeners_hear_every_floor_op_and_may_call_back_into_the_floor(site: SiteConfig) -> None:
    async with edge_context(site, ManualClock()) as ctx:
        heard: list[tuple[str, str]] = []

        async def listener(op: Op) -> None:
            p = op.payload
            if isinstance(p, TaskPayload):
                heard.append(("task", p.transition))
                if p.transition == "fail":  # a reaction that takes the floor's lock again
                    await ctx.floor.open_work_order(f"task_failed:{p.task_id}", "task_failed", sla=600)
            else:
                heard.append(("work_order", str(getattr(p, "action", ""))))

        ctx.floor.listeners.add(listener)
        tid = (await ctx.floor.create_task(TaskKind.TRANSPORT, assignee=FLEET, role="fleet")).task.task_id
        await ctx.floor.fail(tid, "no route", actor="fleet")
        await ctx.floor.listeners.settle()
        assert heard == [("task", "create"), ("task", "assign"), ("task", "fail"), ("work_order", "open")]


async def test_tasks_survive_a_restart_from_the_projection(site: SiteConfig) -> None:
    async with edge_context(site, ManualClock()) as ctx:
        tid = (await ctx.floor.create_task(TaskKind.COUNT, sku="SKU-2", from_location="B-01", zone="Z")).task.task_id
        await ctx.floor.assign(tid, "op1")
        before = ctx.floor.task(tid)
    async with edge_context(site, ManualClock()) as ctx:
        after = ctx.floor.task(tid)
        assert after == before and after is not None and after.task.state is TaskState.ASSIGNED
        assert [r.task.task_id for r in ctx.floor.mine("op1")] == [tid]
        await ctx.floor.start(tid, actor="op1")  # the state machine carries on where it was
        assert ctx.floor.task(tid).task.state is TaskState.IN_PROGRESS  # type: ignore[union-attr]
    # the projection is exactly the fold of the journal's task ops
    conn = connect(str(site.store.path), readonly=True)
    row = get_task(conn, tid)
    last = conn.execute("SELECT body FROM journal WHERE kind = 'task' ORDER BY seq DESC LIMIT 1").fetchone()[0]
    conn.close()
    assert row is not None and row.task == TaskPayload.model_validate(orjson.loads(last)["payload"])


# ---- the API ----------------------------------------------------------------------------------------


@pytest.fixture
async def api(site: SiteConfig) -> AsyncIterator[httpx.AsyncClient]:
    async with Gateway(site) as gw:
        stop = asyncio.Event()
        task = asyncio.create_task(gw.run(stop))
        await gw.api_ready.wait()
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{gw.api_port}") as client:
            yield client
        stop.set()
        await task


async def test_the_handhelds_task_flow_over_http(api: httpx.AsyncClient) -> None:
    r = await api.post(
        "/v1/tasks",
        json={"task_kind": "pick", "sku": "SKU-1", "qty": 2, "from_location": "A-01", "zone": "Z", "actor": "sup1"},
    )
    assert r.status_code == 201, r.text
    task: dict[str, Any] = r.json()
    tid = task["task_id"]
    assert task["state"] == "open" and task["created_by"] == "sup1" and task["last_transition"] == "create"
    mine = (await api.get("/v1/tasks", params={"mine": 1, "operator": "op1"})).json()["items"]
    assert [t["task_id"] for t in mine] == [tid]
    assert (await api.get("/v1/tasks", params={"mine": 1})).status_code == 422  # whose list?
    claimed = await api.post("/v1/tasks/next", json={"operator": "op1"})
    assert claimed.status_code == 200 and claimed.json()["assignee"] == "op1"
    assert (await api.post("/v1/tasks/next", json={"operator": "op1"})).status_code == 204
    assert (await api.post(f"/v1/tasks/{tid}/start", json={"actor": "op1"})).json()["state"] == "in_progress"
    r = await api.post(f"/v1/tasks/{tid}/start", json={"actor": "op1"})
    assert r.status_code == 409 and r.json()["code"] == "illegal_transition"
    assert r.json()["detail"] == f"task {tid} is in_progress: cannot start it (start is allowed from assigned only)"
    r = await api.post(f"/v1/tasks/{tid}/fail", json={"actor": "op1"})
    assert r.status_code == 422 and r.json()["errors"][0]["loc"] == ["body", "reason"]
    assert (await api.post(f"/v1/tasks/{tid}/done", json={"actor": "op1"})).json()["state"] == "done"
    assert (await api.get(f"/v1/tasks/{tid}")).json()["updated_by"] == "op1"
    assert (await api.get("/v1/tasks/T-none")).status_code == 404
    r = await api.post("/v1/tasks/T-none/start", json={})
    assert r.status_code == 404 and r.json()["code"] == "unknown_task"
    r = await api.post(f"/v1/tasks/{tid}/start", json={}, headers={"Accept-Language": "zh-CN"})
    assert r.status_code == 409 and r.json()["code"] == "illegal_transition"
    assert r.json()["detail"] == f"任务 {tid} 的状态为 done：不能执行 start（start 只能从 assigned 状态执行）"


async def test_assign_checks_role_and_zone_and_an_override_needs_a_supervisor(api: httpx.AsyncClient) -> None:
    tid = (await api.post("/v1/tasks", json={"task_kind": "count", "zone": "F"})).json()["task_id"]
    r = await api.post(f"/v1/tasks/{tid}/assign", json={"assignee": "op1"})
    assert r.status_code == 403 and r.json()["code"] == "not_allowed" and "zone F" in r.json()["detail"]
    r = await api.post(f"/v1/tasks/{tid}/assign", json={"assignee": "op1", "override": True, "actor": "op2"})
    assert r.status_code == 403 and "supervisor" in r.json()["detail"]
    r = await api.post(f"/v1/tasks/{tid}/assign", json={"assignee": "op1", "override": True, "actor": "sup1"})
    assert r.status_code == 200 and r.json()["assignee"] == "op1" and r.json()["updated_by"] == "sup1"
    r = await api.post(f"/v1/tasks/{tid}/cancel", json={"reason": "counted yesterday", "actor": "sup1"})
    assert r.json()["state"] == "cancelled" and r.json()["reason"] == "counted yesterday"
    page = (await api.get("/v1/tasks", params={"state": ["cancelled", "done"]})).json()
    assert [t["task_id"] for t in page["items"]] == [tid] and page["next_after"] is None
    for _ in range(3):
        await api.post("/v1/tasks", json={"task_kind": "move", "from_location": "A-01", "to_location": "A-02"})
    first = (await api.get("/v1/tasks", params={"kind": "move", "limit": 2})).json()
    rest = (await api.get("/v1/tasks", params={"kind": "move", "after": first["next_after"]})).json()
    assert len(first["items"]) == 2 and len(rest["items"]) == 1 and rest["next_after"] is None
    assert len((await api.get("/v1/tasks", params={"active": 1})).json()["items"]) == 3


async def test_verify_checks_the_task_projection_against_the_journal(site: SiteConfig) -> None:
    from edge.store.verify import verify_database

    async with edge_context(site, ManualClock()) as ctx:
        tid = (await ctx.floor.create_task(TaskKind.PICK, zone="Z")).task.task_id
        await ctx.floor.assign(tid, "op1")
    conn = connect(str(site.store.path))
    assert verify_database(conn).ok
    conn.execute("UPDATE floor_tasks SET state = 'done', body = replace(body, 'assigned', 'done')")
    report = verify_database(conn)
    assert not report.ok and report.task_diffs == [
        f"task {tid}: floor_tasks has it done as of seq 2, the journal assigned as of seq 2"
    ]
    conn.close()
