"""An AGV process killed mid-order: the broker delivers its last will and the master re-assigns its task."""

from __future__ import annotations

import asyncio
import json
import signal

import pytest

from edge.fleet.tasks import TaskStatus, TransportTask
from tests.fleet.conftest import SIM_COMMAND, Broker, running_fleet

pytestmark = pytest.mark.mqtt
SCALE = 30.0


async def test_sigkilled_agv_is_seen_through_its_will_and_its_task_reassigned(broker: Broker) -> None:
    async with running_fleet(broker, scale=SCALE) as fleet:
        graph = fleet.graph
        park = graph.stations["PARK-01"].node
        pos = graph.nodes[park]
        proc = await asyncio.create_subprocess_exec(
            *SIM_COMMAND,
            "--port",
            str(broker.port),
            "--scale",
            str(SCALE),
            "--agv",
            f"AGV-K@{park}:{pos.x}:{pos.y}",
            stdout=asyncio.subprocess.PIPE,
        )
        try:
            assert proc.stdout is not None
            line = await asyncio.wait_for(proc.stdout.readline(), 20)
            assert line.strip() == b"READY"
            control = fleet.master.control
            await fleet.until(
                lambda: "AGV-K" in control.vehicles and control.vehicles["AGV-K"].state is not None,
                10,
                "the AGV process's first state",
            )
            # a pick station far round the loop, so the kill lands before the pick
            task = TransportTask(
                task_id="T-KILL",
                handling_unit="HU-KILL",
                sku="SKU-1",
                qty=1,
                from_location="SLOT-20",
                to_location="PICK-01",
            )
            fleet.master.submit(task)
            assert task.vehicle == "AGV-K"
            vehicle = control.vehicles["AGV-K"]
            await fleet.until(
                lambda: vehicle.state is not None and vehicle.state.driving and vehicle.state.orderId != "",
                10,
                "AGV-K driving its order",
            )
            proc.send_signal(signal.SIGKILL)
            await proc.wait()
        finally:
            if proc.returncode is None:
                proc.kill()
                await proc.wait()

        await fleet.until(lambda: not vehicle.online, 10, "the last will")
        wills = [json.loads(p) for key, p in fleet.tap.seen if key == "in:connection"]
        assert any(w["serialNumber"] == "AGV-K" and w["connectionState"] == "CONNECTIONBROKEN" for w in wills)
        assert task.status == TaskStatus.WAITING and control.stats["redispatched"] == 1
        # the dead vehicle still blocks its nodes: it is an obstacle until someone removes it
        assert control.res.held("AGV-K")

        fleet.add_agv("AGV-001", graph.stations["PARK-05"].node)
        await fleet.until(lambda: task.vehicle == "AGV-001", 10, "re-assignment")
        assert task.attempts == 2
        fleet.master.remove_vehicle("AGV-K")  # the operator confirms it was taken off the floor
        assert control.res.held("AGV-K") == []
        # DONE is set when the drop is seen; its move op is recorded when the master next flushes
        await fleet.until(
            lambda: task.status == TaskStatus.DONE and bool(fleet.recorded),
            30,
            "the re-assigned task done and recorded",
        )
        assert [d.payload.task_id for d in fleet.recorded] == ["T-KILL"]  # type: ignore[union-attr]
        assert fleet.tap.check() == []
        assert fleet.floor.collisions == []
