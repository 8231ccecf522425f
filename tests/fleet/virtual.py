"""A fleet under virtual time: the real master and simulated AGVs on the in-process broker.

Hours of a floor run in seconds of CPU, the same run every time for one seed; the MQTT tests next to
this one keep proving the same master and vehicles on a real mosquitto.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from edge.fleet.config import FleetConfig
from edge.fleet.layout import Layout
from edge.fleet.master import FleetMaster
from edge.fleet.tasks import TransportTask
from firmware_sim.agv.clock import LoopClock
from firmware_sim.agv.world import World
from sync.ops import OpDraft
from tests.fleet.conftest import SchemaTap


class Quiet:
    def __getattr__(self, _: str) -> Any:
        return lambda *a, **k: None


@dataclass
class VirtualFleet:
    master: FleetMaster
    world: World
    clock: LoopClock
    tap: SchemaTap
    recorded: list[OpDraft] = field(default_factory=list)
    runner: asyncio.Task[None] | None = None
    """The master's ``run()``: it must never end on its own (see ``alive``)."""

    def alive(self) -> None:
        """Raise what ended the master's run, if it ended: a master that died leaves the vehicles
        standing, which a test would otherwise see only as a stall, long after, without the cause."""
        if self.runner is not None and self.runner.done() and not self.runner.cancelled():
            exc = self.runner.exception()
            raise AssertionError(f"the master's run ended: {exc!r}") from exc

    def spread(self, count: int, **sim: Any) -> list[str]:
        """``count`` AGVs on park spots spread over the floor."""
        layout = self.master.config.layout
        parks = [s.node for s in layout.stations if s.kind == "park"]
        nodes = {n.id: n for n in layout.nodes}
        serials = []
        for i in range(count):
            node = parks[int(i * len(parks) / count)]
            serials.append(f"AGV-{i + 1:03d}")
            self.world.add_agv(serials[-1], node, nodes[node].x, nodes[node].y, **sim)
        return serials

    async def until(self, predicate: Any, sim_seconds: float, what: str) -> None:
        t0 = self.clock.monotonic()
        while not predicate():
            self.alive()
            if self.clock.monotonic() - t0 > sim_seconds:
                raise AssertionError(f"not within {sim_seconds} simulated seconds: {what}")
            await self.clock.sleep(0.5)


@asynccontextmanager
async def virtual_fleet(layout: Layout, *, tap: bool = False, **config: Any) -> AsyncIterator[VirtualFleet]:
    clock = LoopClock()
    world = World(clock=clock, map_id=layout.map_id)
    cfg = FleetConfig(layout=layout, client_id="master", **config)
    recorded: list[OpDraft] = []

    async def record(draft: OpDraft) -> None:
        recorded.append(draft)

    schema_tap = SchemaTap()
    master = FleetMaster(
        cfg,
        clock=clock,
        record=record,
        log=Quiet(),
        tap=schema_tap if tap else None,
        client_factory=lambda: world.broker.client(cfg.client_id),
    )
    runner = asyncio.create_task(master.run())
    await master.connected.wait()
    fleet = VirtualFleet(master, world, clock, schema_tap, recorded, runner)
    try:
        yield fleet
    finally:
        await world.close()
        runner.cancel()
        await asyncio.gather(runner, return_exceptions=True)


def transport_tasks(layout: Layout, count: int, seed: int) -> list[TransportTask]:
    """Putaways (dock -> slot) and goods-to-person moves (slot -> pick station), alternately."""
    rng = random.Random(seed)
    of = {k: [s.location for s in layout.stations if s.kind == k] for k in ("dock", "slot", "pick")}
    out = []
    for i in range(count):
        src, dst = (
            (rng.choice(of["dock"]), rng.choice(of["slot"]))
            if i % 2
            else (rng.choice(of["slot"]), rng.choice(of["pick"]))
        )
        out.append(TransportTask(task_id=f"T{i:05d}", handling_unit=f"HU{i:05d}", sku="SKU-1", qty=1,
                                 from_location=src, to_location=dst))  # fmt: skip
    return out
