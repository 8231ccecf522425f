"""Every suite's guard against leaks: a daemon that leaks tasks, threads or connections dies in week three.

Each test is checked, whatever its folder: after its fixtures are torn down, it must have left no
asyncio task running (async tests), no thread alive and no TCP connection or listening socket open
that was not there before it started. Fixtures of a wider scope (a module's pcscd, the session's
PostgreSQL database) are set up before this check takes its snapshot, so what they hold is not
counted against the test. Threads and sockets get a short grace period to finish closing.
"""

from __future__ import annotations

import asyncio
import inspect
import os
import threading
import time
from collections.abc import AsyncIterator, Iterator

import psutil
import pytest

# The suite's assertions are in English: a developer's Chinese locale must not change what `wims` prints
# (a test that wants Chinese says so in its subprocess's environment).
os.environ["WIMS_LANG"] = "en"

_GRACE_S = 2.5
_IGNORED_THREADS = ("asyncio_", "ThreadPoolExecutor", "pydevd", "pytest_timeout", "Dask-Offload", "tqdm_monitor")
"""Threads that outlive a test by design: pools a library keeps for the process (asyncio's default
executor, a reused thread pool, dask's offload pool, tqdm's progress monitor) and tools."""


def _threads() -> dict[int, str]:
    return {
        t.ident: t.name
        for t in threading.enumerate()
        if t.ident is not None and t.is_alive() and not t.name.startswith(_IGNORED_THREADS)
    }


def _sockets() -> set[tuple[object, object, str]]:
    """This process's TCP sockets that are connected or listening (closing ones are on their way out)."""
    return {
        (c.laddr, c.raddr, c.status)
        for c in psutil.Process().net_connections(kind="tcp")
        if c.status in (psutil.CONN_ESTABLISHED, psutil.CONN_LISTEN)
    }


@pytest.fixture
async def no_leaked_tasks() -> AsyncIterator[None]:
    """Fail an async test that leaves tasks running (requested for every async test by ``no_leaks``)."""
    before = asyncio.all_tasks()
    yield
    leaked: list[asyncio.Task[object]] = []
    for _ in range(20):  # let cancelled tasks run to their end
        await asyncio.sleep(0)
        leaked = [t for t in asyncio.all_tasks() - before if not t.done() and t is not asyncio.current_task()]
        if not leaked:
            return
    assert not leaked, f"leaked tasks: {[t.get_name() for t in leaked]}"


@pytest.fixture(autouse=True)
def no_leaks(request: pytest.FixtureRequest) -> Iterator[None]:
    """Fail a test that leaks a thread or a TCP socket, and (async tests) a task."""
    threads_before, sockets_before = _threads(), _sockets()
    if inspect.iscoroutinefunction(getattr(request.node, "obj", None)):
        request.getfixturevalue("no_leaked_tasks")
    yield
    deadline = time.monotonic() + _GRACE_S
    while True:
        threads = {i: n for i, n in _threads().items() if i not in threads_before}
        sockets = _sockets() - sockets_before
        if not (threads or sockets) or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    assert not threads, f"leaked threads: {sorted(threads.values())}"
    assert not sockets, f"leaked sockets: {sorted(map(str, sockets))}"
