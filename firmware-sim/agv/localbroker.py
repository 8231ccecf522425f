"""An in-process stand-in for an MQTT broker, for running hours of a fleet in seconds of virtual time.

Mosquitto is the peer for everything that claims to work over MQTT (the fleet tests, the benchmark's
latency run). A soak of 8 simulated hours with 50 AGVs, or a throughput table over four fleet sizes,
cannot run against a socket: time has to jump when nothing is due (``VirtualTimeLoop``), and sockets
would let it jump past messages in flight. So the transport is a seam: the master and ``AgvLink`` take
a client factory, and ``LocalBroker.client`` gives them an object with the three things they use of an
``aiomqtt.Client`` (``subscribe``, ``publish``, ``messages``), the same topics and bytes, retained
messages and a last will delivered when a client dies without a clean exit (``kill``).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from types import TracebackType
from typing import Any

import aiomqtt


@dataclass(frozen=True)
class LocalMessage:
    topic: str
    payload: bytes
    retain: bool = False


def matches(pattern: str, topic: str) -> bool:
    """MQTT topic filter match with ``+`` and a trailing ``#``."""
    p, t = pattern.split("/"), topic.split("/")
    for i, part in enumerate(p):
        if part == "#":
            return True
        if i >= len(t) or (part != "+" and part != t[i]):
            return False
    return len(p) == len(t)


class LocalBroker:
    def __init__(self) -> None:
        self._clients: dict[str, LocalClient] = {}
        self._retained: dict[str, bytes] = {}
        self._routes: dict[str, list[LocalClient]] = {}
        self.delivered = 0

    def client(self, identifier: str, *, will: Any = None, **_: Any) -> LocalClient:
        """A client like ``aiomqtt.Client(host, port, identifier=..., will=...)``; host and port are ignored."""
        return LocalClient(self, identifier, will)

    def route(self, topic: str, payload: bytes, retain: bool) -> None:
        if retain:
            if payload:
                self._retained[topic] = payload
            else:
                self._retained.pop(topic, None)
        route = self._routes.get(topic)
        if route is None:
            route = self._routes[topic] = [
                c for c in self._clients.values() if any(matches(p, topic) for p in c.filters)
            ]
        for c in route:
            c.queue.put_nowait(LocalMessage(topic, payload))
            self.delivered += 1

    def changed(self) -> None:
        """A client came, went or subscribed: routes are worked out again."""
        self._routes.clear()


class LocalClient:
    def __init__(self, broker: LocalBroker, identifier: str, will: Any) -> None:
        self.broker, self.identifier, self.will = broker, identifier, will
        self.filters: list[str] = []
        self.queue: asyncio.Queue[LocalMessage] = asyncio.Queue()
        self.closed = False

    async def __aenter__(self) -> LocalClient:
        old = self.broker._clients.get(self.identifier)
        if old is not None:  # same client id: the broker drops the old session (and sends its will)
            old.kill()
        self.broker._clients[self.identifier] = self
        self.broker.changed()
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if exc_type is not None and not issubclass(exc_type, asyncio.CancelledError):
            self.kill()  # a session that died, not a clean DISCONNECT
        self._leave()

    def _leave(self) -> None:
        if self.broker._clients.get(self.identifier) is self:
            del self.broker._clients[self.identifier]
            self.broker.changed()
        self.closed = True

    def kill(self) -> None:
        """Gone without DISCONNECT (a SIGKILL, a cut cable): the broker publishes the will."""
        if self.closed:
            return
        self._leave()
        will = self.will
        if will is not None:
            payload = will.payload.encode() if isinstance(will.payload, str) else bytes(will.payload or b"")
            self.broker.route(will.topic, payload, bool(will.retain))

    async def subscribe(self, topic: str, qos: int = 0, **_: Any) -> None:
        self.filters.append(topic)
        self.broker.changed()
        for name, payload in list(self.broker._retained.items()):
            if matches(topic, name):
                self.queue.put_nowait(LocalMessage(name, payload, retain=True))

    async def publish(self, topic: str, payload: Any = None, qos: int = 0, retain: bool = False, **_: Any) -> None:
        if self.closed:
            raise aiomqtt.MqttError(f"client {self.identifier} is not connected")
        data = payload.encode() if isinstance(payload, str) else bytes(payload or b"")
        self.broker.route(topic, data, retain)

    @property
    def messages(self) -> AsyncIterator[LocalMessage]:
        return self._messages()

    async def _messages(self) -> AsyncIterator[LocalMessage]:
        while not self.closed:
            yield await self.queue.get()
