"""Shutdown of a cloud worker: long-lived requests end as soon as the worker is told to stop.

uvicorn stops on SIGTERM/SIGINT by closing its listening socket and then waiting for the requests in
flight, up to its graceful timeout, before running the app's lifespan shutdown. An event stream or a
command long-poll would keep it waiting (an SSE client for ever), and with several workers the parent
process would hold the port meanwhile, so gateways saw read timeouts instead of refused connections.
``on_stop_signal`` chains a handler in front of uvicorn's own, in the worker's main thread, so that the
app hears of the signal at once and ends those requests (``EventHub.close``); uvicorn's handler then
runs as before. ``wims cloud serve`` also bounds uvicorn's wait (``WIMS_SHUTDOWN_GRACE_S``).
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import threading
from collections.abc import Callable, Iterator
from types import FrameType
from typing import Any

STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT)


@contextlib.contextmanager
def on_stop_signal(callback: Callable[[], None]) -> Iterator[None]:
    """Call ``callback`` on the running loop when SIGTERM or SIGINT arrives, then the previous handler.

    Outside the main thread (an app under a test client) signals cannot be handled: nothing is installed.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    loop = asyncio.get_running_loop()
    previous: dict[int, Any] = {}

    def handler(signum: int, frame: FrameType | None) -> None:
        with contextlib.suppress(RuntimeError):  # the loop is already closed: nothing left to end
            loop.call_soon_threadsafe(callback)
        prev = previous.get(signum)
        if callable(prev):
            prev(signum, frame)
        elif signum == signal.SIGINT and prev == signal.default_int_handler:
            raise KeyboardInterrupt

    for sig in STOP_SIGNALS:
        previous[sig] = signal.getsignal(sig)
        signal.signal(sig, handler)
    try:
        yield
    finally:
        for signum, prev in previous.items():
            if signal.getsignal(signum) is handler:
                signal.signal(signum, prev if prev is not None else signal.SIG_DFL)
