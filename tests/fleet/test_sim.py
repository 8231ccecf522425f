"""The simulated AGV on its own (no broker): driving, actions, pause, cancel, battery, faults."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import pytest

from edge.fleet import vda
from edge.fleet.layout import LayoutGraph
from edge.fleet.orders import OrderPlan, steps_for
from firmware_sim.agv import AgvSim, Floor, ScaledClock
from tests.fleet.conftest import validators
from tests.fleet.test_layout import corridor

SCALE = 50.0


@pytest.fixture
async def agv() -> AsyncIterator[AgvSim]:
    clock = ScaledClock(SCALE)
    sim = AgvSim(
        serial="AGV-T", node="A", x=0.0, y=0.0, clock=clock, floor=Floor(), map_id="hall-a", action_seconds=2.0
    )
    task = asyncio.create_task(sim.run())
    yield sim
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)


def order(plan: OrderPlan) -> dict[str, Any]:
    return {"headerId": 0, **plan.message()}


async def until(predicate: Any, sim_seconds: float) -> None:
    for _ in range(int(sim_seconds / SCALE / 0.005)):
        if predicate():
            return
        await asyncio.sleep(0.005)
    raise AssertionError("timed out")


def valid_state(sim: AgvSim) -> None:
    msg = {
        "headerId": 1,
        "timestamp": vda.iso(datetime.now(UTC)),
        "version": "2.1.0",
        "manufacturer": "ACME",
        "serialNumber": sim.serial,
        **sim.state_body(),
    }
    validators()["state"].validate(msg)


async def test_drives_only_the_released_base_then_picks(agv: AgvSim) -> None:
    g = LayoutGraph(corridor().layout)
    plan = OrderPlan(g, "o-1", steps_for(g, "A", [("D", [vda.pick("HU1")])]))
    plan.release_next()  # base A-B, horizon C-D
    agv.on_order(order(plan))
    await until(lambda: agv.last_node == "B" and not agv.driving, 10)
    await asyncio.sleep(2 / SCALE)
    assert agv.last_node == "B" and not agv.driving  # stops at the end of its base
    plan.release_next()
    plan.release_next()
    agv.on_order(order(plan))
    await until(lambda: agv.loads, 20)
    assert agv.last_node == "D" and agv.loads[0]["loadId"] == "HU1"
    assert [a["actionStatus"] for a in agv.actions.values()] == ["FINISHED"]
    assert agv.floor is not None and agv.floor.covers["AGV-T"] == frozenset({"D"})
    assert agv.battery < 100
    valid_state(agv)


async def test_pause_keeps_the_action_running_and_resumes(agv: AgvSim) -> None:
    agv.on_instant_actions({"actions": [vda.pick("HU2")]})
    await until(lambda: next(iter(agv.actions.values()))["actionStatus"] == "RUNNING", 5)
    agv.on_instant_actions({"actions": [vda.start_pause()]})
    await until(lambda: agv.paused, 2)
    await asyncio.sleep(4 / SCALE)  # longer than the action: paused, it does not finish
    states = {a["actionType"]: a["actionStatus"] for a in agv.actions.values()}
    assert states == {"pick": "RUNNING", "startPause": "FINISHED"}  # RUNNING, not PAUSED: see vda.py
    valid_state(agv)
    agv.on_instant_actions({"actions": [vda.stop_pause()]})
    await until(lambda: agv.loads, 5)


async def test_cancel_fatal_error_and_charging(agv: AgvSim) -> None:
    agv.on_instant_actions({"actions": [vda.cancel_order()]})
    await until(lambda: any(a["actionStatus"] == "FAILED" for a in agv.actions.values()), 2)  # no order
    g = LayoutGraph(corridor().layout)
    plan = OrderPlan(g, "o-2", steps_for(g, "A", [("D", [])]))
    for _ in range(3):
        plan.release_next()
    agv.inject_error("obstacle")
    agv.on_order(order(plan))
    await asyncio.sleep(2 / SCALE)
    assert agv.last_node == "A" and not agv.driving  # a FATAL error stops the vehicle
    agv.on_instant_actions({"actions": [vda.cancel_order()]})
    await until(lambda: not agv.nodes, 2)
    agv.clear_errors()
    assert agv.state_body()["nodeStates"] == []
    before = agv.state_body()["batteryState"]["batteryCharge"]
    agv.on_instant_actions({"actions": [vda.start_charging()]})
    await until(lambda: agv.charging, 2)
    await asyncio.sleep(5 / SCALE)
    battery = agv.state_body()["batteryState"]
    assert battery["batteryCharge"] > before and battery["charging"]
    stale = {**order(plan), "orderId": "o-2", "orderUpdateId": 0}
    agv.on_order({**stale, "orderId": "o-3", "nodes": [{**stale["nodes"][0], "nodeId": "C"}]})
    assert agv.errors[-1]["errorType"] == "noRouteError" and agv.errors[-1]["errorLevel"] == "WARNING"
    valid_state(agv)
