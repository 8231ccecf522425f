"""``cancel_until_done``: a task that swallows a cancel is cancelled again until it ends."""

from __future__ import annotations

import asyncio

from edge.aio import cancel_until_done


async def _swallows_one_cancel(ended: list[str]) -> None:
    try:
        await asyncio.sleep(3600)
    except asyncio.CancelledError:
        pass  # as 3.11's wait_for does when the cancel races the result
    try:
        await asyncio.sleep(3600)
    finally:
        ended.append("ended")


async def test_a_swallowed_cancel_is_repeated_until_the_task_ends() -> None:
    ended: list[str] = []
    task = asyncio.create_task(_swallows_one_cancel(ended))
    await asyncio.sleep(0)
    assert await cancel_until_done([task], every=0.01) == set()
    assert task.cancelled() and ended == ["ended"]


async def test_a_task_that_will_not_end_is_returned_after_the_timeout() -> None:
    release = asyncio.Event()

    async def stubborn() -> None:
        while not release.is_set():
            try:
                await release.wait()
            except asyncio.CancelledError:
                continue

    task = asyncio.create_task(stubborn())
    await asyncio.sleep(0)
    left = await cancel_until_done([task], timeout=0.2, every=0.05)
    assert left == {task} and not task.done()
    release.set()  # the test's own clean-up: let it end
    await task
