"""Starting the fleet master inside the gateway, from its ``EdgeContext``.

The master is one per site (it serves every AGV on the broker), so it is started once with
``run_fleet(ctx)``, not per configured device. Finished tasks go to the gateway's journal.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from edge.fleet.config import FleetConfig
from edge.fleet.master import FleetMaster

if TYPE_CHECKING:
    from edge.context import EdgeContext


def fleet_config(ctx: EdgeContext) -> FleetConfig | None:
    """The site's ``[fleet]`` section; None for a site without AGVs."""
    return ctx.config.fleet


async def run_fleet(ctx: EdgeContext, master: FleetMaster | None = None) -> None:
    """Run the fleet master until cancelled; returns at once (health "down") if the site has no fleet."""
    config = fleet_config(ctx)
    if master is None:
        if config is None:
            ctx.health.set("fleet", "down", "no [fleet] section in the site config", ctx.clock.now())
            return
        master = FleetMaster(config, clock=ctx.clock, record=ctx.journal.append, log=ctx.log.bind(component="fleet"))
    ctx.health.set("fleet", "starting", "connecting to the broker", ctx.clock.now())
    try:
        async with asyncio.TaskGroup() as tg:
            tg.create_task(master.run(), name="fleet-master")
            tg.create_task(_report(ctx, master), name="fleet-health")
    finally:
        ctx.health.set("fleet", "down", "stopped", ctx.clock.now())


async def _report(ctx: EdgeContext, master: FleetMaster) -> None:
    """Show in health whether the master holds the broker, and how many AGVs it knows."""
    while True:
        if master.connected.is_set():
            ctx.health.set(
                "fleet",
                "ok",
                f"{len(master.control.vehicles)} AGVs known",
                ctx.clock.now(),
                broker=f"{master.config.broker_host}:{master.config.broker_port}",
            )
        else:
            ctx.health.set("fleet", "degraded", "broker unreachable, retrying", ctx.clock.now())
        await ctx.clock.sleep(1.0)
