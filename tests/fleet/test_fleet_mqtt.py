"""The fleet end to end on a real mosquitto: master, simulated AGVs, many tasks, faults on the way."""

from __future__ import annotations

import random

import pytest

from edge.fleet.examples import loop_layout
from edge.fleet.tasks import TaskStatus, TransportTask
from sync.ops import MovePayload
from tests.fleet.conftest import Broker, Fleet, running_fleet

pytestmark = pytest.mark.mqtt


def make_tasks(fleet: Fleet, n: int, seed: int = 7) -> list[TransportTask]:
    """Inbound (dock -> slot) and goods-to-person (slot -> pick station) moves, mixed."""
    rng = random.Random(seed)
    graph = fleet.graph
    docks = [s.location for s in graph.stations_of("dock")]
    slots = [s.location for s in graph.stations_of("slot")]
    picks = [s.location for s in graph.stations_of("pick")]
    tasks = []
    for i in range(n):
        src, dst = (rng.choice(docks), rng.choice(slots)) if i % 2 == 0 else (rng.choice(slots), rng.choice(picks))
        tasks.append(
            TransportTask(
                task_id=f"T{i:04d}",
                handling_unit=f"HU{i:05d}",
                sku="SKU-1",
                qty=1 + i % 5,
                from_location=src,
                to_location=dst,
            )
        )
    return tasks


async def start_agvs(fleet: Fleet, count: int, **kw: float) -> None:
    parks = [s.node for s in fleet.graph.stations_of("park")]
    for i in range(count):
        fleet.add_agv(f"AGV-{i + 1:03d}", parks[i], **kw)
    await fleet.until(
        lambda: sum(v.state is not None for v in fleet.master.control.vehicles.values()) == count,
        10,
        "every AGV's first state",
    )


def check_ops(fleet: Fleet, tasks: list[TransportTask]) -> None:
    moves = {d.payload.task_id: d.payload for d in fleet.recorded if isinstance(d.payload, MovePayload)}
    for t in tasks:
        if t.status == TaskStatus.DONE:
            p = moves[t.task_id]
            assert (p.from_location, p.to_location, p.handling_unit, p.qty) == (
                t.from_location,
                t.to_location,
                t.handling_unit,
                t.qty,
            )
    assert len(moves) == sum(t.status == TaskStatus.DONE for t in tasks)


async def test_ten_agvs_two_hundred_tasks(broker: Broker) -> None:
    """10 AGVs, 200 tasks, two obstacle errors and a radio dropout: no collision, no deadlock, all accounted."""
    async with running_fleet(broker, loop_layout(), scale=40.0, release_ahead=3) as fleet:
        await start_agvs(fleet, 10, drain_per_m=0.08)
        tasks = make_tasks(fleet, 200)
        for t in tasks:
            fleet.master.submit(t)
        control = fleet.master.control

        def done_count() -> int:
            return sum(t.finished for t in tasks)

        await fleet.until(lambda: done_count() >= 30, 60, "30 tasks")
        # faults mid-run: an obstacle on two vehicles that are working, a dropout on a third
        busy = [v.key for v in control.vehicles.values() if v.task is not None]
        for serial in busy[:2]:
            fleet.links[serial].sim.inject_error("obstacle")
        fleet.links[busy[2]].cut(outage=20.0)
        await fleet.until(lambda: control.stats["redispatched"] + control.stats["failed"] >= 1, 20, "re-dispatch")
        await fleet.clock.sleep(15)
        for serial in busy[:2]:
            fleet.links[serial].sim.clear_errors()

        # 100 s suffices alone (76-88 s for the whole test); the margin is for a loaded CI machine
        def all_recorded() -> bool:  # a done task's move op is recorded at the master's next flush
            moves = sum(isinstance(d.payload, MovePayload) for d in fleet.recorded)
            return moves == sum(t.status == TaskStatus.DONE for t in tasks)

        await fleet.until(
            lambda: done_count() == len(tasks) and all_recorded(),
            240,
            "every task finished",
            detail=lambda: (
                f"{done_count()} finished; unfinished: "
                + "; ".join(
                    f"{t.task_id} {t.status} on {t.vehicle}: {t.history[-1][1] if t.history else '-'}"
                    for t in tasks
                    if not t.finished
                )[:2000]
            ),
        )

        assert fleet.floor.collisions == []
        assert fleet.floor.moves > 1000
        failed = [t for t in tasks if t.status == TaskStatus.FAILED]
        for t in failed:  # explicit, with the reason in the history
            assert "failed" in t.history[-1][1] and "aboard" in t.history[-1][1]
        assert sum(t.status == TaskStatus.DONE for t in tasks) >= 190
        assert any(t.attempts > 1 for t in tasks) or failed
        check_ops(fleet, tasks)
        assert fleet.tap.check() == []
        assert fleet.tap.counts["in:state"] > 1000 and fleet.tap.counts["out:order"] >= 200
        assert fleet.tap.counts.get("in:factsheet", 0) >= 10 and fleet.tap.counts["in:visualization"] > 10
        assert fleet.tap.counts["out:instantActions"] >= 2  # the cancels after the obstacles
        assert fleet.master.rejected == 0
        # batteries drained on the way and low ones went to charge
        assert control.stats["charges"] >= 1
