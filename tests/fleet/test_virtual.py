"""The in-process broker under virtual time: the same master and vehicles, an hour in seconds."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from typing import Any

import pytest

from edge.fleet.examples import loop_layout, warehouse_grid
from edge.fleet.tasks import TaskStatus
from firmware_sim.agv.clock import VirtualTimeLoop
from firmware_sim.agv.localbroker import LocalBroker, matches
from tests.fleet.virtual import transport_tasks, virtual_fleet


def run(coro: object) -> None:
    with asyncio.Runner(loop_factory=VirtualTimeLoop) as runner:
        runner.run(coro)  # type: ignore[arg-type]


def test_topic_filters() -> None:
    assert matches("uagv/v2/+/+/state", "uagv/v2/ACME/AGV-1/state")
    assert not matches("uagv/v2/+/+/state", "uagv/v2/ACME/AGV-1/order")
    assert matches("uagv/#", "uagv/v2/x") and not matches("uagv/v2/+", "uagv/v2/a/b")


def test_virtual_time_jumps_and_a_broker_delivers_wills() -> None:
    async def main() -> None:
        loop = asyncio.get_running_loop()
        await asyncio.sleep(3600)
        assert loop.time() == 3600.0
        broker = LocalBroker()
        will = type("Will", (), {"topic": "t/conn", "payload": "BROKEN", "retain": True})()
        listener = broker.client("l")
        async with listener:
            await listener.subscribe("t/#")
            dying = broker.client("d", will=will)
            await dying.__aenter__()
            dying.kill()
            msg = await anext(listener.messages)
            assert (msg.topic, msg.payload) == ("t/conn", b"BROKEN")
        late = broker.client("late")
        async with late:
            await late.subscribe("t/conn")
            assert (await anext(late.messages)).retain  # the will was retained

    run(main())


@pytest.mark.parametrize("traffic", ["reservations", "timed"])
def test_an_hour_of_five_agvs_in_virtual_time(traffic: str) -> None:
    async def main() -> None:
        layout = loop_layout()
        async with virtual_fleet(layout, tap=True, traffic=traffic) as fleet:
            fleet.spread(5)
            tasks = transport_tasks(layout, 60, seed=3)
            await fleet.until(lambda: len(fleet.master.control.vehicles) == 5, 10, "five AGVs online")
            for t in tasks:
                fleet.master.submit(t)
            await fleet.until(lambda: all(t.finished for t in tasks), 3600, "every task")
            assert all(t.status == TaskStatus.DONE for t in tasks)
            assert len(fleet.recorded) == 60 and fleet.world.floor.collisions == []
            assert fleet.clock.monotonic() > 300  # simulated, not wall, seconds
            assert fleet.tap.check() == []
            orders = [json.loads(p) for k, p in fleet.tap.seen if k == "out:order"]
            assert orders and max(len(o["nodes"]) for o in orders) <= 12  # a short horizon, not the whole route

    run(main())


def test_a_task_that_comes_in_mid_tick_has_its_order_out_before_the_next_re_plan() -> None:
    """The tick re-plans one vehicle at a time; a task submitted in between is not held up by the rest."""

    async def main() -> None:
        layout = warehouse_grid(agvs=20)
        async with virtual_fleet(layout) as fleet:
            fleet.spread(20)
            control = fleet.master.control
            await fleet.until(lambda: len(control.vehicles) == 20, 10, "twenty AGVs online")
            tasks = transport_tasks(layout, 16, seed=7)
            for t in tasks[:15]:
                fleet.master.submit(t)
            await fleet.clock.sleep(15)  # on the move: there is something to re-plan
            late = tasks[15]
            seen: list[tuple[str, bool]] = []
            replan, steps = control._replan, control.tick_steps

            def logged_replan(v: Any) -> None:
                seen.append(("replan", late.ordered_perf is not None))
                replan(v)

            def mid_tick() -> Iterator[None]:
                assert control.planner is not None
                control.planner.dirty.update(control.planner.lines)  # a long tick: every planned vehicle
                for i, _ in enumerate(steps()):
                    if i == 0:
                        fleet.master.submit(late)
                        seen.append(("submitted", late.vehicle is not None))
                    yield

            control._replan = logged_replan  # type: ignore[method-assign]
            control.tick_steps = mid_tick  # type: ignore[method-assign]
            await fleet.until(lambda: any(e == "submitted" for e, _ in seen), 5, "a tick")
            control.tick_steps = steps  # type: ignore[method-assign]
            await fleet.clock.sleep(2)
            at = seen.index(("submitted", True))  # an idle AGV took it at once
            after = [ordered for event, ordered in seen[at + 1 :] if event == "replan"]
            assert len(after) >= 5  # the tick had more to do after the task came in
            assert all(after), seen  # and the task's order was out before any of it

    run(main())
