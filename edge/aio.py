"""Small asyncio helpers the gateway's long-lived parts share."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from typing import Any


async def cancel_until_done(
    tasks: Iterable[asyncio.Task[Any]], *, timeout: float | None = None, every: float = 0.5
) -> set[asyncio.Task[Any]]:
    """Cancel ``tasks`` and wait until every one has ended, cancelling again while any runs on.

    One cancel is not always enough on Python 3.11: ``asyncio.wait_for`` drops a cancel that arrives
    together with the awaited result (fixed in 3.12), so a task inside a library's ``wait_for`` (an MQTT
    publish, a Modbus reply) can swallow it and go on, "cancelling" for ever.

    Returns the tasks still running after ``timeout`` seconds (none without a timeout), for the caller
    to abandon and report. A cancel of the caller while it waits here is held until the tasks have
    ended (or the timeout), then raised: nothing is left running behind its back.
    """
    loop = asyncio.get_running_loop()
    deadline = None if timeout is None else loop.time() + timeout
    pending = {t for t in tasks if not t.done()}
    interrupted = False
    while pending:
        left = every if deadline is None else min(every, deadline - loop.time())
        if left <= 0:
            break
        for task in pending:
            task.cancel()
        try:
            _, pending = await asyncio.wait(pending, timeout=left)
        except asyncio.CancelledError:
            interrupted = True
    if interrupted:
        raise asyncio.CancelledError
    return pending
