"""Live events: an in-process fan-out, fed by PostgreSQL LISTEN/NOTIFY so that every worker sees every change.

A write emits its event inside its own transaction (``EventBus.emit``). On PostgreSQL that is a
``pg_notify``, delivered by the server at commit to the listener of every worker (including the one that
wrote), which hands it to its local subscribers. On SQLite (one host, usually one worker) the event is
held on the connection and handed to the local hub when the transaction commits. Either way a
subscriber never sees a change that was rolled back.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import random
import time
from collections.abc import Callable
from typing import Any

import psycopg
import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

log = logging.getLogger(__name__)

Event = dict[str, Any]
_NOTIFY_LIMIT = 7900  # PostgreSQL refuses NOTIFY payloads of 8000 bytes or more
MAX_REMEMBERED = 10_000
"""Most (type, warehouse) pairs whose last delivery time the hub keeps (a bound, whatever arrives)."""


class Subscription:
    """One subscriber's bounded queue; when it overflows the oldest events go and ``lost`` counts them.

    ``closed`` turns true when the worker shuts down (``EventHub.close``): a waiting ``get`` returns at
    once, so event streams and command long-polls end instead of holding the shutdown up.
    """

    def __init__(self, hub: EventHub, accept: Callable[[Event], bool], maxsize: int) -> None:
        self._hub = hub
        self.accept = accept
        self.queue: asyncio.Queue[Event] = asyncio.Queue(maxsize=maxsize)
        self.lost = 0
        self.closed = False
        self._wake = asyncio.Event()

    def offer(self, event: Event) -> None:
        if not self.accept(event):
            return
        if self.queue.full():
            self.queue.get_nowait()
            self.lost += 1
        self.queue.put_nowait(event)

    def shut(self) -> None:
        self.closed = True
        self._wake.set()

    async def get(self, timeout: float) -> Event | None:
        """The next event, or ``None`` after ``timeout`` seconds or once the hub is closed."""
        if self.closed:
            return None
        if not self.queue.empty():
            return self.queue.get_nowait()
        getter = asyncio.ensure_future(self.queue.get())
        woken = asyncio.ensure_future(self._wake.wait())
        try:
            await asyncio.wait((getter, woken), timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
        finally:
            woken.cancel()
            if not getter.done():
                getter.cancel()
        if getter.done() and not getter.cancelled():
            return getter.result()
        return None

    def close(self) -> None:
        self._hub.unsubscribe(self)

    def __enter__(self) -> Subscription:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()


class EventHub:
    """Subscribers of this process. Delivery runs on the event loop; threads publish through it."""

    def __init__(self) -> None:
        self._subs: set[Subscription] = set()
        self._loop: asyncio.AbstractEventLoop | None = None
        self.closed = False
        self._last: dict[tuple[Any, Any], float] = {}  # (type, warehouse) -> wall time of its last delivery

    def bind(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop

    def subscribe(self, accept: Callable[[Event], bool] = lambda _e: True, maxsize: int = 1000) -> Subscription:
        sub = Subscription(self, accept, maxsize)
        if self.closed:
            sub.shut()  # the worker is stopping: a new stream ends at once
        self._subs.add(sub)
        return sub

    def close(self) -> None:
        """The worker is shutting down: every subscriber's wait ends now (call on the loop thread)."""
        self.closed = True
        for sub in list(self._subs):
            sub.shut()

    def unsubscribe(self, sub: Subscription) -> None:
        self._subs.discard(sub)

    @property
    def subscribers(self) -> int:
        return len(self._subs)

    def deliver(self, event: Event) -> None:
        """Hand an event to every subscriber; call on the loop thread."""
        key = (event.get("type"), event.get("warehouse"))
        if key in self._last or len(self._last) < MAX_REMEMBERED:
            self._last[key] = time.time()
        for sub in list(self._subs):
            sub.offer(event)

    def delivered_since(self, since: float, accept: Callable[[Event], bool]) -> list[Event]:
        """One event of each (type, warehouse) that ``accept`` takes and that was delivered at or after
        ``since`` (wall time): what a stream opened now has missed since its page was drawn. Wall time,
        not a clock of ours, because the page may have been drawn by another worker process."""
        return [
            {"type": t, "warehouse": w}
            for (t, w), at in sorted(self._last.items(), key=lambda kv: str(kv[0]))
            if at >= since and accept({"type": t, "warehouse": w})
        ]

    def publish_threadsafe(self, event: Event) -> None:
        loop = self._loop
        if loop is None or loop.is_closed():
            return
        with contextlib.suppress(RuntimeError):  # loop shutting down: nobody is listening any more
            loop.call_soon_threadsafe(self.deliver, event)


def _fit(event: Event) -> str:
    """Serialise an event small enough for NOTIFY, trimming its ``changes`` list if need be."""
    text = json.dumps(event, separators=(",", ":"), default=str)
    changes = event.get("changes")
    while len(text.encode()) > _NOTIFY_LIMIT and isinstance(changes, list) and changes:
        changes = changes[: len(changes) // 2]
        text = json.dumps({**event, "changes": changes, "truncated": True}, separators=(",", ":"), default=str)
    return text


PG_NOTIFY_SQL = "SELECT pg_notify(%s, %s)"


class EventBus:
    """Emits events inside write transactions and delivers them to this process's hub after commit."""

    def __init__(self, engine: Engine, hub: EventHub, channel: str) -> None:
        self.engine = engine
        self.hub = hub
        self.channel = channel
        self.postgres = engine.dialect.name == "postgresql"
        if not self.postgres:
            sa.event.listen(engine, "commit", self._flush)
            sa.event.listen(engine, "rollback", self._discard)

    def emit(self, conn: Connection, event: Event) -> None:
        if self.postgres:
            conn.execute(sa.text("SELECT pg_notify(:c, :p)"), {"c": self.channel, "p": _fit(event)})
        else:
            conn.info.setdefault("wims_pending_events", []).append(event)

    def notify_params(self, event: Event) -> tuple[str, str]:
        """``PG_NOTIFY_SQL``'s parameters for ``event`` (PostgreSQL), for a caller that sends it itself."""
        return self.channel, _fit(event)

    def _flush(self, conn: Connection) -> None:
        for event in conn.info.pop("wims_pending_events", []):
            self.hub.publish_threadsafe(event)

    def _discard(self, conn: Connection) -> None:
        conn.info.pop("wims_pending_events", None)


def conninfo(engine: Engine) -> str:
    """A libpq connection string for the engine's database (psycopg's own LISTEN connection)."""
    return engine.url.set(drivername="postgresql").render_as_string(hide_password=False)


async def listen(engine: Engine, hub: EventHub, channel: str, ready: asyncio.Event | None = None) -> None:
    """Forward NOTIFYs on ``channel`` to ``hub`` for as long as the app runs, reconnecting with backoff."""
    attempt = 0
    while True:
        try:
            async with await psycopg.AsyncConnection.connect(conninfo(engine), autocommit=True) as conn:
                await conn.execute(f"LISTEN {channel}")
                attempt = 0
                if ready is not None:
                    ready.set()
                async for note in conn.notifies():
                    try:
                        hub.deliver(json.loads(note.payload))
                    except ValueError:
                        log.warning("dropping a malformed event payload on %s", channel)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # the database went away: keep the app up, try again
            if ready is not None:
                ready.set()  # do not hold start-up for a database that is down: requests get 503 meanwhile
            attempt += 1
            delay = random.uniform(0, min(30.0, 0.5 * 1.5**attempt))
            log.warning("event listener lost its connection (%s); retrying in %.1f s", exc, delay)
            await asyncio.sleep(delay)
