"""The simulated AGV's MQTT side: VDA 5050 topics, headers, last will, reconnects and cut links.

At connect the will is set to ``connection`` = CONNECTIONBROKEN (QoS 1, retained), then ONLINE is
published retained; a clean stop publishes OFFLINE first. State goes out on every event (coalesced
within one loop turn, so a burst of changes is one message) and at least every ``state_interval``
simulated seconds. ``cut(seconds)`` drops the TCP connection without a DISCONNECT packet, as a radio
dropout does, so the broker delivers the will; the vehicle halts while it has no link (a common
safety setting) and reconnects after the outage.

The MQTT client comes from ``client_factory`` (``aiomqtt.Client`` by default): ``LocalBroker.client``
runs the same link in process, under virtual time, for soaks and the throughput benchmark.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import aiomqtt

from firmware_sim.agv.vehicle import AgvSim, SimClock

VERSION = "2.1.0"


def _iso(ts: datetime) -> str:
    return ts.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


class AgvLink:
    def __init__(
        self,
        sim: AgvSim,
        *,
        host: str,
        port: int,
        clock: SimClock,
        manufacturer: str = "ACME",
        interface: str = "uagv",
        state_interval: float = 1.0,
        visualization_interval: float = 5.0,
        client_factory: Callable[..., Any] | None = None,
    ) -> None:
        self.client_factory = client_factory or (lambda identifier, will: aiomqtt.Client(
            host, port, identifier=identifier, will=will, keepalive=10))  # fmt: skip
        self.sim, self.host, self.port, self.clock = sim, host, port, clock
        self.manufacturer, self.state_interval = manufacturer, state_interval
        self.visualization_interval = visualization_interval
        self.prefix = f"{interface}/v2/{manufacturer}/{sim.serial}"
        self._header_ids: dict[str, int] = {}
        self._client: Any = None
        self._dirty = False
        self._last_state = 0.0
        self._outage: float = 0.0
        self._cut = asyncio.Event()
        self._t0 = datetime.now(UTC)
        self.connected = asyncio.Event()
        self.sent: int = 0
        sim.emit = self._mark_dirty
        sim.on_factsheet_request = lambda: self._spawn(self._publish_factsheet())
        self._tasks: set[asyncio.Task[None]] = set()

    def _now(self) -> datetime:
        return self._t0 + timedelta(seconds=self.clock.monotonic())

    def header(self, name: str) -> dict[str, Any]:
        n = (self._header_ids.get(name, -1) + 1) % (2**32)
        self._header_ids[name] = n
        return {
            "headerId": n,
            "timestamp": _iso(self._now()),
            "version": VERSION,
            "manufacturer": self.manufacturer,
            "serialNumber": self.sim.serial,
        }

    def connection_msg(self, state: str) -> dict[str, Any]:
        return {**self.header("connection"), "connectionState": state}

    async def run(self) -> None:
        """Stay connected for ever; after a cut, halt for the outage and reconnect."""
        attempt = 0
        while True:
            will = aiomqtt.Will(
                f"{self.prefix}/connection", json.dumps(self.connection_msg("CONNECTIONBROKEN")), qos=1, retain=True
            )
            try:
                async with self.client_factory(f"agv-{self.sim.serial}", will) as client:
                    attempt = 0
                    await self._session(client)
            except aiomqtt.MqttError:
                attempt += 1
            self._client = None
            self.connected.clear()
            self.sim.set_halted(True)
            await self.clock.sleep(self._outage or min(5.0, 0.2 * 1.5**attempt))
            self._outage = 0.0

    async def _session(self, client: Any) -> None:
        await client.subscribe(f"{self.prefix}/order")
        await client.subscribe(f"{self.prefix}/instantActions")
        await client.publish(f"{self.prefix}/connection", json.dumps(self.connection_msg("ONLINE")), qos=1, retain=True)
        self._client = client
        self.sim.set_halted(False)
        await self._publish_factsheet()
        await self._publish_state()
        self.connected.set()
        self._cut.clear()
        parts = {
            asyncio.create_task(self._tick()),
            asyncio.create_task(self._cut.wait()),
            asyncio.create_task(self._read(client)),
        }
        try:
            done, _ = await asyncio.wait(parts, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in parts:
                task.cancel()
            await asyncio.gather(*parts, return_exceptions=True)
        for task in done:
            exc = task.exception()
            if exc is not None:
                raise exc
        if self._cut.is_set():
            self._abort(client)
            raise aiomqtt.MqttError("link cut on command")

    async def _read(self, client: Any) -> None:
        async for message in client.messages:
            try:
                body = json.loads(bytes(message.payload))  # type: ignore[arg-type]
            except (ValueError, TypeError):
                continue  # garbage on our topic: a real vehicle ignores it too
            if not isinstance(body, dict):
                continue
            name = str(message.topic).rsplit("/", 1)[-1]
            try:
                if name == "order":
                    self.sim.on_order(body)
                elif name == "instantActions":
                    self.sim.on_instant_actions(body)
            except (KeyError, TypeError, ValueError) as exc:
                self.sim.inject_error("validationError", "WARNING", f"bad {name}: {exc}")

    async def _tick(self) -> None:
        """State at least every ``state_interval`` (events send their own at once), visualization every
        ``visualization_interval``; one wake a state interval, which matters with hundreds of vehicles."""
        since_vis = 0.0
        while True:
            await self.clock.sleep(self.state_interval)
            if self.clock.monotonic() - self._last_state >= 0.999 * self.state_interval:
                await self._publish_state()
            since_vis += self.state_interval
            if since_vis >= self.visualization_interval:
                since_vis = 0.0
                x, y = self.sim.position()
                await self._publish(
                    "visualization",
                    {
                        "agvPosition": {
                            "x": x,
                            "y": y,
                            "theta": self.sim.theta,
                            "mapId": self.sim.map_id,
                            "positionInitialized": True,
                        },
                        "velocity": {"vx": 0.0, "vy": 0.0, "omega": 0.0},
                    },
                )

    def _mark_dirty(self) -> None:
        if not self._dirty:
            self._dirty = True
            self._spawn(self._flush())

    async def _flush(self) -> None:
        if self._dirty:
            await self._publish_state()

    async def _publish_state(self) -> None:
        self._dirty = False
        self._last_state = self.clock.monotonic()
        await self._publish("state", self.sim.state_body())

    async def _publish(self, name: str, body: dict[str, Any], *, qos: int = 0, retain: bool = False) -> None:
        client = self._client
        if client is None:
            return
        try:
            await client.publish(
                f"{self.prefix}/{name}", json.dumps({**self.header(name), **body}), qos=qos, retain=retain
            )
            self.sent += 1
        except aiomqtt.MqttError:
            pass  # the session ends and reconnects; a lost state is replaced by the next one

    async def _publish_factsheet(self) -> None:
        await self._publish("factsheet", factsheet(self.sim.speed_max), retain=True)

    def _spawn(self, coro: Any) -> None:
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def cut(self, outage: float) -> None:
        """Drop the link now, as a radio dropout: no DISCONNECT, so the broker sends the will."""
        self._outage = outage
        self.sim.set_halted(True)
        self._cut.set()

    def kill(self) -> None:
        """Die as a SIGKILL would: no OFFLINE, the broker publishes the will (in process: ``LocalBroker``)."""
        client = self._client
        if client is not None and hasattr(client, "kill"):
            client.kill()
        self.sim.set_halted(True)
        for task in list(self._tasks):
            task.cancel()

    @staticmethod
    def _abort(client: Any) -> None:
        if hasattr(client, "kill"):  # the in-process broker's client
            client.kill()
            return
        sock = client._client.socket()  # paho's socket; aiomqtt 2.x has no public abort
        if isinstance(sock, socket.socket):
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)

    async def close(self) -> None:
        """Clean stop: OFFLINE (retained), then the context exit disconnects without the will."""
        if self._client is not None:  # with no broker there is nobody to tell; do not wait for one
            # asyncio.wait, not wait_for: wait_for waits for the cancelled publish to unwind, and a publish
            # stuck on a broken socket may never do so (seen once: a fleet test hung in teardown).
            offline = asyncio.ensure_future(
                self._publish("connection", {"connectionState": "OFFLINE"}, qos=1, retain=True)
            )
            if not (await asyncio.wait({offline}, timeout=2.0))[0]:
                offline.cancel()
        for task in list(self._tasks):
            task.cancel()


def factsheet(speed_max: float) -> dict[str, Any]:
    """The factsheet body: what the master needs (speeds, actions) and what the schema requires."""
    actions = [
        {"actionType": t, "actionScopes": scopes}
        for t, scopes in (
            ("pick", ["INSTANT", "NODE"]),
            ("drop", ["INSTANT", "NODE"]),
            ("startPause", ["INSTANT"]),
            ("stopPause", ["INSTANT"]),
            ("cancelOrder", ["INSTANT"]),
            ("startCharging", ["INSTANT", "NODE"]),
            ("stopCharging", ["INSTANT", "NODE"]),
            ("factsheetRequest", ["INSTANT"]),
            ("stateRequest", ["INSTANT"]),
        )
    ]
    return {
        "typeSpecification": {
            "seriesName": "SIM-CARRIER",
            "agvKinematic": "DIFF",
            "agvClass": "CARRIER",
            "maxLoadMass": 1000,
            "localizationTypes": ["NATURAL"],
            "navigationTypes": ["VIRTUAL_LINE_GUIDED"],
        },
        "physicalParameters": {
            "speedMin": 0.01,
            "speedMax": speed_max,
            "accelerationMax": 1.0,
            "decelerationMax": 1.0,
            "heightMax": 0.4,
            "width": 0.8,
            "length": 1.2,
        },
        "protocolLimits": {
            "maxStringLens": {},
            "maxArrayLens": {},
            "timing": {"minOrderInterval": 0.0, "minStateInterval": 0.0},
        },
        "protocolFeatures": {"optionalParameters": [], "agvActions": actions},
        "agvGeometry": {},
        "loadSpecification": {"loadPositions": ["front"]},
    }
