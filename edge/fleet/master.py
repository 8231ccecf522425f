"""The fleet master on MQTT: subscribes to every AGV's state, connection, factsheet and visualization,
publishes orders and instant actions, and journals the ops finished tasks imply.

One aiomqtt client, re-entered with jittered backoff when the broker goes away (aiomqtt 2.x has no
reconnect of its own). Decisions live in ``FleetControl`` and are synchronous; this module only moves
bytes: a reader feeds inputs, a sender publishes what the control left in its outbox (adding the
VDA 5050 header), a recorder hands op drafts to the journal, a ticker re-checks waits and dispatch.
A bad message is counted and logged, never fatal.

The client comes from ``client_factory`` (``aiomqtt.Client`` by default), a seam that lets the benchmark
and the soak run the same master against an in-process broker under virtual time.
"""

from __future__ import annotations

import asyncio
import math
import random
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from typing import Any

import aiomqtt
import orjson
import structlog
from pydantic import ValidationError

from edge.aio import cancel_until_done
from edge.fleet import vda
from edge.fleet.config import FleetConfig
from edge.fleet.control import FleetControl, Outgoing
from edge.fleet.layout import LayoutGraph
from edge.fleet.tasks import TransportTask
from sync.clock import Clock
from sync.ops import OpDraft

_END = object()
"""What ``next`` gives once a tick's steps are done (a step itself gives None)."""

Record = Callable[[OpDraft], Awaitable[Any]]
Tap = Callable[[str, str, bytes], None]
"""(direction "in"/"out", topic, payload): lets tests validate every message both ways."""


class FleetMaster:
    def __init__(
        self,
        config: FleetConfig,
        *,
        clock: Clock,
        record: Record,
        tap: Tap | None = None,
        log: Any = None,
        tick_seconds: float = 1.0,
        client_factory: Callable[..., Any] | None = None,
    ) -> None:
        self.config, self.clock, self.record, self.tap = config, clock, record, tap
        self.graph = LayoutGraph(config.layout)
        self.control = FleetControl(config, self.graph, clock.monotonic, clock.now)
        self.log = log if log is not None else structlog.get_logger("wims.fleet")
        self.tick_seconds = tick_seconds
        self.client_factory = client_factory or (
            lambda: aiomqtt.Client(config.broker_host, config.broker_port, identifier=config.client_id)
        )
        self.header_ids = vda.HeaderIds()
        self.latencies: list[float] = []
        """Real seconds from task creation to its first order on the wire."""
        self.cpu_seconds = 0.0
        """Process CPU spent in the master's own work (handling, deciding, encoding): the benchmark's figure."""
        self.received: Counter[str] = Counter()
        self.rejected = 0
        self.record_errors = 0
        self.connected = asyncio.Event()
        self._client: Any = None
        self._wake = asyncio.Event()
        self._first_orders = 0
        """Batches holding a task's first order that the sender has handed to the client, not yet out."""
        self._sent = asyncio.Event()
        """Set when the sender takes a batch with a first order, and when it is out: a re-check for the tick."""

    # ---- API --------------------------------------------------------------------------------------

    def submit(self, task: TransportTask) -> None:
        t0 = time.process_time()
        self.control.submit(task)
        self._wake.set()
        self.cpu_seconds += time.process_time() - t0

    def pause(self, serial: str) -> None:
        self.control.pause(serial)
        self._wake.set()

    def resume(self, serial: str) -> None:
        self.control.resume(serial)
        self._wake.set()

    def remove_vehicle(self, serial: str) -> None:
        self.control.remove_vehicle(serial)
        self._wake.set()

    # ---- running ----------------------------------------------------------------------------------

    async def run(self) -> None:
        """Run until cancelled, reconnecting to the broker with jittered backoff."""
        attempt = 0
        while True:
            try:
                async with self.client_factory() as client:
                    attempt = 0
                    await self._session(client)
            except aiomqtt.MqttError as exc:
                attempt += 1
                self.log.warning("fleet.broker_lost", error=str(exc), attempt=attempt)
            self._client = None
            self.connected.clear()
            await self.clock.sleep(random.uniform(0, min(30.0, 1.5 ** min(10, attempt))) / 10)

    async def _session(self, client: Any) -> None:
        prefix = f"{self.config.interface}/{vda.MAJOR}/+/+"
        for name in ("state", "connection", "factsheet", "visualization"):
            await client.subscribe(f"{prefix}/{name}", qos=1 if name == "connection" else 0)
        if isinstance(client, aiomqtt.Client):
            # batches go to the client without waiting for the one before (see _send): under a burst of
            # orders that is dozens of publishes in flight, which aiomqtt would warn about past ten
            client.pending_calls_threshold = 1000
        self._client = client
        self.connected.set()
        self.log.info("fleet.connected", broker=f"{self.config.broker_host}:{self.config.broker_port}")
        parts = {
            asyncio.create_task(self._read(client), name="fleet-read"),
            asyncio.create_task(self._send(client), name="fleet-send"),
            asyncio.create_task(self._tick(), name="fleet-tick"),
            asyncio.create_task(self._warm(), name="fleet-warm"),
        }
        try:
            done, _ = await asyncio.wait(parts, return_when=asyncio.FIRST_EXCEPTION)
        finally:
            await cancel_until_done(parts)
        for task in done:
            if (exc := task.exception()) is not None:
                raise exc

    async def _read(self, client: Any) -> None:
        async for message in client.messages:
            payload = message.payload if isinstance(message.payload, bytes) else b""
            if self.tap is not None:
                self.tap("in", str(message.topic), payload)
            self.handle(str(message.topic), payload)
            self._wake.set()
            # a backlog of states is read without a pause (the iterator does not yield while it has
            # messages): let the sender publish what is decided first, orders for new tasks above all,
            # and a new task be planned between two states rather than after a hundred of them
            await asyncio.sleep(0)

    def handle(self, topic: str, payload: bytes) -> None:
        """Apply one inbound message; malformed ones are counted and logged, not raised."""
        t0 = time.process_time()
        try:
            self._handle(topic, payload)
        finally:
            self.cpu_seconds += time.process_time() - t0

    def _handle(self, topic: str, payload: bytes) -> None:
        parsed = vda.parse_topic(topic)
        if parsed is None:
            return
        vid, name = parsed
        self.received[name] += 1
        try:
            if name == "state":  # the hot path: parsed and validated in one go by pydantic-core
                self.control.on_state(vid, vda.StateIn.model_validate_json(payload))
                return
            body = orjson.loads(payload)
            if name == "connection":
                msg = vda.ConnectionIn.model_validate(body)
                self.control.on_connection(vid, msg)
                self.log.info("fleet.connection", vehicle=str(vid), state=msg.connectionState)
            elif name == "factsheet":
                self.control.on_factsheet(vid, vda.FactsheetIn.model_validate(body))
            elif name == "visualization":
                pos = body.get("agvPosition") or {}
                self.control.on_visualization(vid, float(pos.get("x", 0.0)), float(pos.get("y", 0.0)))
        except (ValueError, ValidationError, AttributeError, TypeError) as exc:
            self.rejected += 1
            self.log.warning("fleet.bad_message", topic=topic, error=str(exc)[:300])

    async def _send(self, client: Any) -> None:
        """Publish what the control decided, batch after batch, without waiting for one batch to be on
        the wire before handing over the next.

        An aiomqtt publish returns only after some eight turns of the event loop (its task, the
        socket-writer registration, the write, the confirmation event, ``wait_for``, the gather); a
        sender that waited for that before looking at the outbox again made a new task's order queue
        behind the previous batch's confirmations, which under a burst of tasks was most of its latency.
        Batches are still handed to the client in order (the publishes start in the order they are
        created), and each batch's messages are tapped and time-stamped once they, and every batch
        before them, are out. A failed publish ends the session, as before."""
        last: asyncio.Task[None] | None = None
        running: set[asyncio.Future[Any]] = set()
        failed: list[BaseException] = []

        def settled(fut: asyncio.Future[Any]) -> None:
            running.discard(fut)
            if not fut.cancelled() and (exc := fut.exception()) is not None:
                failed.append(exc)
                self._wake.set()

        try:
            while True:
                await self._wake.wait()
                self._wake.clear()
                if failed:
                    raise failed[0]
                out, self.control.outbox = self.control.outbox, []
                t0 = time.process_time()
                wire = []
                for item in out:
                    name = vda.topic(self.config.interface, item.vehicle, item.topic)
                    body = {**vda.header(self.header_ids, name, item.vehicle, self.clock.now()), **item.body}
                    wire.append((name, orjson.dumps(body)))
                self.cpu_seconds += time.process_time() - t0
                # a batch with a task's first order: the tick holds its re-planning until it is out
                first = bool(wire) and any(item.task is not None for item in out)
                if first:
                    self._first_orders += 1
                    self._sent.set()
                if wire:
                    # handed to the client together (in order), not one round trip each: a new task's
                    # order must not wait behind a hundred order updates
                    # no timeout: aiomqtt wraps a timed wait in a task of its own, three more turns of the
                    # loop per message; a publish that never completes ends with the session, which a lost
                    # connection ends anyway
                    publishes = [
                        asyncio.ensure_future(client.publish(name, payload, timeout=math.inf)) for name, payload in wire
                    ]
                    last = asyncio.create_task(self._published(out, wire, publishes, last, first), name="fleet-sent")
                    for fut in (*publishes, last):
                        running.add(fut)
                        fut.add_done_callback(settled)
                ops, self.control.ops = self.control.ops, []
                for serial, draft in ops:
                    try:
                        await self.record(draft)
                    except Exception as exc:  # a refused op must not stop the fleet; it is logged once
                        self.record_errors += 1
                        self.log.error("fleet.op_not_recorded", vehicle=serial, kind=str(draft.kind), error=str(exc))
        finally:
            await cancel_until_done([t for t in running if isinstance(t, asyncio.Task)])

    async def _published(
        self,
        out: list[Outgoing],
        wire: list[tuple[str, bytes]],
        publishes: list[asyncio.Future[Any]],
        before: asyncio.Task[None] | None,
        first: bool,
    ) -> None:
        """Once a batch, and the one before it, are on the wire: tap its messages, time new orders."""
        try:
            await asyncio.gather(*publishes)
            if before is not None:
                await before
        finally:
            if first:
                self._first_orders -= 1
                self._sent.set()
        sent = time.perf_counter()
        for item, (name, payload) in zip(out, wire, strict=True):
            if self.tap is not None:
                self.tap("out", name, payload)
            if item.task is not None and item.task.ordered_perf is None:
                item.task.ordered_perf = sent  # the latency metric, not business time
                self.latencies.append(sent - item.task.created_perf)

    async def _warm(self) -> None:
        """Work out the travel times to every station ahead of the first task that needs them.

        Planning and assignment need them for every task's stations (the search's heuristic, the
        nearest vehicle), and the first task to a rack slot would otherwise pay for a search over the
        whole floor before its order goes out. One station per turn of the loop, so nothing waits on it."""
        for node in dict.fromkeys(s.node for s in self.graph.stations.values()):
            self.graph.time_to(node)
            await asyncio.sleep(0)

    async def _tick(self) -> None:
        """Re-check waits, re-plan and dispatch every ``tick_seconds``, letting new tasks' orders out first.

        Re-planning is the master's one long piece of work (tens of ms a tick with a hundred vehicles on
        the move); a new task's order that came in meanwhile waited for all of it, then for the loop turns
        of its publish with more of it in between. So the tick goes one re-plan at a time, and between two
        it lets whatever is waiting in (a new task, a state) and, while a task's first order is on its way
        out, waits for it to be out: a task -> order latency is then its own planning and publishing, plus
        one re-plan at most. Order updates from re-planning go out as they are made."""
        while True:
            await self.clock.sleep(self.tick_seconds)
            steps = self.control.tick_steps()
            while True:
                t0 = time.process_time()
                more = next(steps, _END) is not _END
                self.cpu_seconds += time.process_time() - t0
                self._wake.set()
                if not more:
                    break
                await asyncio.sleep(0)
                await self._first_orders_out()

    async def _first_orders_out(self) -> None:
        """Wait while a task's first order waits for the sender or is on its way to the broker.

        Woken by the sender (it took the outbox, or such a batch is out), never by polling: under the
        benchmark's and the soak's virtual time a loop that is never idle would stop the clock."""
        while True:
            waiting = any(item.task is not None for item in self.control.outbox)
            if not (waiting or self._first_orders):
                return
            if waiting:
                self._wake.set()
            self._sent.clear()
            await self._sent.wait()
