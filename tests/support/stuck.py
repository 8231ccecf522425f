"""A device runner wedged the way a driver can be: inside a wait that swallows every cancellation (3.11's
``wait_for`` can drop a cancel), so it never ends. For shutdown tests of the real gateway process."""

from __future__ import annotations

import asyncio

from edge.config import Device
from edge.context import EdgeContext


async def run_wedged_device(device: Device, ctx: EdgeContext) -> None:
    ctx.health.set(f"device:{device.id}", "starting", "starting", ctx.clock.now(), kind=device.kind)
    while True:
        try:
            await asyncio.sleep(3600)
        except asyncio.CancelledError:
            continue
