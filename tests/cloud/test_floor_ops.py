"""The floor's ops at the cloud: task ops are stored like any op, and a gateway's exception work orders
(opened, escalated, closed) show in ``/v1/work-orders`` with their state and role."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa

from cloud.db.engine import make_engine
from cloud.db.schema import ops
from sync.ops import TaskKind, TaskPayload, TaskState, WorkOrderPayload
from tests.cloud.conftest import Cloud
from tests.cloud.helpers import chain, push


def _kinds(url: str) -> list[tuple[int, str]]:
    engine = make_engine(url, pool_size=1)
    with engine.connect() as conn:
        rows = conn.execute(sa.select(ops.c.seq, ops.c.kind).where(ops.c.gateway_id == "GW-A").order_by(ops.c.seq))
        out = [(int(r.seq), str(r.kind)) for r in rows]
    engine.dispose()
    return out


def test_task_ops_are_accepted_and_stored(cloud: Cloud, db_url: str) -> None:
    base: dict[str, Any] = {"task_id": "T-1", "task_kind": TaskKind.PICK, "sku": "SKU-1", "qty": 2}
    bodies = chain(
        "GW-A",
        [
            TaskPayload(**base, transition="create", state=TaskState.OPEN),
            TaskPayload(**base, transition="assign", state=TaskState.ASSIGNED, assignee="op1"),
            TaskPayload(**base, transition="done", state=TaskState.DONE, assignee="op1"),
        ],
    )
    res = push(cloud.client, "GW-A", cloud.gw["GW-A"], bodies)
    assert res["accepted"] == 3 and res["quarantined"] == []
    assert _kinds(db_url) == [(1, "task"), (2, "task"), (3, "task")]


def test_gateway_work_orders_keep_their_state_through_escalation_and_close(cloud: Cloud) -> None:
    due = datetime(2026, 1, 5, 8, 30, tzinfo=UTC)
    wo: dict[str, Any] = {"work_order_id": "WO-gw-1", "wo_type": "short_pick", "fact_key": "short_pick:SO-1:1"}
    bodies = chain(
        "GW-A",
        [
            WorkOrderPayload(**wo, action="open", assignee_role="operator", sla_due=due, level=0),
            WorkOrderPayload(**wo, action="escalate", assignee_role="supervisor", level=1),
        ],
    )
    push(cloud.client, "GW-A", cloud.gw["GW-A"], bodies)
    orders = cloud.client.get("/v1/work-orders", params={"source": "gateway"}, headers=cloud.h("admin")).json()
    [order] = orders["items"]
    assert (order["external_id"], order["status"], order["assignee_role"]) == ("WO-gw-1", "open", "supervisor")
    closing = chain(
        "GW-A",
        [WorkOrderPayload(**wo, action="close", assignee_role="supervisor", reason="re-picked from B-01")],
        start=3,
        prev=bodies[-1]["hash"],
    )
    push(cloud.client, "GW-A", cloud.gw["GW-A"], closing)
    listed = cloud.client.get("/v1/work-orders", params={"source": "gateway"}, headers=cloud.h("admin")).json()
    [order] = listed["items"]
    assert (order["status"], order["assignee_role"]) == ("closed", "supervisor")


def test_old_work_order_ops_still_parse() -> None:
    """A work_order op written before the floor's fields (no fact_key, sla_due, level, reason)."""
    old = {"kind": "work_order", "work_order_id": "WO-1", "action": "open", "wo_type": "sensor_stale", "zone": "Z"}
    p = WorkOrderPayload.model_validate(old)
    assert p.fact_key is None and p.sla_due is None and p.level is None
