"""Two AGVs meeting head-on in a two-way corridor: the reservation scheme finds the wait cycle and one
steps into the bay; the timed planner plans them past each other without a cycle to break."""

from __future__ import annotations

import pytest

from edge.fleet.layout import Layout
from edge.fleet.tasks import TaskStatus, TransportTask
from tests.fleet.conftest import Broker, running_fleet
from tests.fleet.test_layout import corridor

pytestmark = pytest.mark.mqtt


@pytest.mark.parametrize("traffic", ["reservations", "timed"])
async def test_head_on_cycle_is_broken(broker: Broker, traffic: str) -> None:
    layout: Layout = corridor().layout
    async with running_fleet(broker, layout, scale=30.0, release_ahead=1, traffic=traffic) as fleet:
        control = fleet.master.control
        east = TransportTask(
            task_id="T-E", handling_unit="HU-E", sku="SKU-1", qty=1, from_location="DOCK-1", to_location="SLOT-1"
        )
        west = TransportTask(
            task_id="T-W", handling_unit="HU-W", sku="SKU-1", qty=1, from_location="SLOT-1", to_location="DOCK-1"
        )
        fleet.master.submit(east)
        fleet.master.submit(west)  # queued until a vehicle comes: each takes the task where it stands
        fleet.add_agv("AGV-W", "A", action_seconds=1.0)
        await fleet.until(lambda: east.vehicle == "AGV-W", 10, "AGV-W on the eastbound task")
        fleet.add_agv("AGV-E", "D", action_seconds=1.0)
        await fleet.until(lambda: west.vehicle == "AGV-E", 10, "AGV-E on the westbound task")
        await fleet.until(lambda: east.status == west.status == TaskStatus.DONE, 30, "both tasks")
        if traffic == "reservations":
            assert control.stats["detours"] >= 1
        else:
            assert control.stats["replans"] >= 1 and control.stats.get("cycle_replans", 0) == 0
        assert fleet.floor.collisions == []
        assert fleet.tap.check() == []
