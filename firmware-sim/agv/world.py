"""Many simulated AGVs in one process on a ``LocalBroker``: the floor for soaks and the benchmark.

Each vehicle is the same ``AgvSim`` and ``AgvLink`` that tests run against mosquitto, only the client
is in process. Run it under ``VirtualTimeLoop`` with a ``LoopClock`` and hours pass in seconds. The
master is wired by the caller (it is not ours to import): ``FleetMaster(..., client_factory=lambda:
world.broker.client(config.client_id))``.
"""

from __future__ import annotations

import asyncio
from typing import Any

from firmware_sim.agv.floor import Floor
from firmware_sim.agv.link import AgvLink
from firmware_sim.agv.localbroker import LocalBroker
from firmware_sim.agv.vehicle import AgvSim, SimClock


class World:
    def __init__(
        self,
        *,
        clock: SimClock,
        broker: LocalBroker | None = None,
        floor: Floor | None = None,
        map_id: str = "floor-1",
        manufacturer: str = "ACME",
        state_interval: float = 1.0,
    ) -> None:
        self.clock, self.map_id, self.manufacturer = clock, map_id, manufacturer
        self.broker = broker or LocalBroker()
        self.floor = floor if floor is not None else Floor()
        self.state_interval = state_interval
        self.links: dict[str, AgvLink] = {}
        self._tasks: dict[str, list[asyncio.Task[None]]] = {}

    def add_agv(self, serial: str, node: str, x: float, y: float, **sim: Any) -> AgvLink:
        agv = AgvSim(serial=serial, node=node, x=x, y=y, clock=self.clock, floor=self.floor, map_id=self.map_id, **sim)
        link = AgvLink(
            agv,
            host="local",
            port=0,
            clock=self.clock,
            manufacturer=self.manufacturer,
            state_interval=self.state_interval,
            client_factory=lambda identifier, will: self.broker.client(identifier, will=will),
        )
        self.links[serial] = link
        self._tasks[serial] = [
            asyncio.create_task(link.run(), name=f"link:{serial}"),
            asyncio.create_task(agv.run(), name=f"agv:{serial}"),
        ]
        return link

    def kill(self, serial: str) -> None:
        """The vehicle's process dies: the broker sends its will, it never moves or speaks again.

        It stays on the floor log where it stopped (a dead vehicle is still an obstacle)."""
        self.links[serial].kill()
        for task in self._tasks.pop(serial, []):
            task.cancel()

    async def close(self) -> None:
        for serial in list(self._tasks):
            await self.links[serial].close()
        tasks = [t for ts in self._tasks.values() for t in ts]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        self._tasks.clear()
