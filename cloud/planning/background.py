"""The dispatch engine's background work in a cloud worker's lifespan: the planning schedule and the
transport webhook outbox. Both stop cleanly with the worker (see ``schedule.Planner.close``)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator

import httpx

from cloud.services import Services
from cloud.transfers.webhooks import deliver_due

log = logging.getLogger(__name__)


async def _outbox_loop(svc: Services) -> None:
    settings = svc.dispatch.webhooks
    with httpx.Client() as client:
        while True:
            try:
                await asyncio.to_thread(deliver_due, svc.engine, settings, svc.clock, client)
            except Exception:  # the database is away for a moment: the events wait in the outbox
                log.exception("webhook outbox: delivery round failed")
            await svc.clock.sleep(settings.poll_s)


@contextlib.asynccontextmanager
async def dispatch_background(svc: Services) -> AsyncIterator[None]:
    planner = svc.planner
    tasks: list[asyncio.Task[None]] = []
    if planner is not None and svc.dispatch.planning.schedule:
        tasks.append(asyncio.create_task(planner.schedule_loop(), name="planning-schedule"))
    if svc.dispatch.webhooks.url:
        tasks.append(asyncio.create_task(_outbox_loop(svc), name="webhook-outbox"))
    try:
        yield
    finally:
        if planner is not None:
            planner.stop.set()
        for t in tasks:
            t.cancel()
        for t in tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await t
        if planner is not None:
            await asyncio.to_thread(planner.close)
