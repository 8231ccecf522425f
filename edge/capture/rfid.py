"""RFID read points become ops: a receiving dock receives against the open ASN, a shipping dock checks
against the outbound orders, a cycle-count zone counts.

``RfidMapper`` is pure (tag event + master data + what was already recorded -> ``OpDraft``s); the
``RfidDevice`` runtime wires one reader, its smoother and the mapper to the journal, and
``run_rfid_device`` is what the daemon starts for a ``kind = "rfid"`` device.

Each EPC is received at most once: the mapper's seen set and ASN line tallies are rebuilt from the
journal at start, so neither repeated reads nor a gateway restart create a second receive. Shipping
docks record an exception op for a case leaving that no open outbound order asks for (each EPC once);
a matching case is only counted, the ship op stays with the person who confirms the load.

A device in the site TOML (edge keys here, every other key goes to ``drivers.rfid.ReaderOptions``)::

    [[devices]]
    id = "DOOR-1"
    kind = "rfid"
    location = "DOCK-1"                  # where receives land (per read point: read_points[].location)
    [devices.options]
    host = "10.0.5.21"                   # port 5084, keepalive_ms, report_every_ms/_n, tx_power_dbm ...
    antennas = [1, 2]                    # two antennas on a receiving/shipping device: a portal, outer first
    mode = "receiving"                   # receiving | shipping | cycle_count | monitor
    window_s = 2.0                       # smoothing: departed after this long unseen
    min_seen = 2                         # reads before a tag counts as arrived
    min_rssi = -70                       # weaker reads are ignored
    # read_points = [{name = "door", antennas = [1, 2], portal = true},
    #                {name = "shelf", antennas = [3], mode = "cycle_count", location = "A-01"}]
    # count_every_s = 300                # cycle-count zones count this often
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, Literal

from drivers.rfid import (
    Epc,
    FrameRejected,
    LinkState,
    LlrpReader,
    ReaderState,
    RfidConfigError,
    TagRead,
    parse_reader_options,
)
from drivers.rfid.smoothing import ReadPoint, SmoothingConfig, TagEvent, TagSmoother
from edge.config import Device
from edge.health import Status
from edge.identity.stations import StationSessions
from edge.store.errors import OpRejected
from edge.store.masterdata import MasterData
from sync.ops import CountPayload, ExceptionPayload, Op, OpDraft, OpKind, ReceivePayload

if TYPE_CHECKING:
    from edge.context import EdgeContext

Mode = Literal["receiving", "shipping", "cycle_count", "monitor"]
MODES: tuple[Mode, ...] = ("receiving", "shipping", "cycle_count", "monitor")
EDGE_OPTIONS = frozenset({"mode", "read_points", "window_s", "min_seen", "min_rssi", "count_every_s"})
"""Keys of a device's ``options`` read here; the rest go to the LLRP driver."""

_HEALTH: dict[LinkState, Status] = {
    "connecting": "starting",
    "connected": "ok",
    "disconnected": "down",
    "closed": "down",
}


@dataclass(frozen=True, slots=True)
class Point:
    """A read point as the warehouse sees it: where it is and what a tag passing it means."""

    device_id: str
    name: str
    mode: Mode
    location: str | None
    portal: bool

    @property
    def actor(self) -> str:
        return f"device:{self.device_id}"

    def triggers(self, event: TagEvent) -> bool:
        """Whether ``event`` is the moment to act: a completed inward (receiving) or outward (shipping)
        pass through a portal, or an arrival at a plain read point."""
        if self.mode in ("monitor", "cycle_count"):
            return False
        if not self.portal:
            return event.kind == "arrived"
        want = "in" if self.mode == "receiving" else "out"
        return event.kind == "departed" and event.direction == want


@dataclass(frozen=True, slots=True)
class RfidPlan:
    points: dict[str, Point]
    read_points: list[ReadPoint]
    smoothing: SmoothingConfig
    driver_options: dict[str, Any]
    count_every_s: float


def plan_for(device: Device) -> RfidPlan:
    """Split a device's options into edge settings and driver options; a bad option names itself."""
    opts = device.options
    mode = opts.get("mode", "receiving")
    if mode not in MODES:
        raise RfidConfigError("mode", f"one of {', '.join(MODES)}, got {mode!r}")
    antennas = opts.get("antennas", [1])
    antennas = [antennas] if isinstance(antennas, int) else list(antennas)
    raw_points = opts.get("read_points") or [
        {"name": device.id, "antennas": antennas, "portal": mode in ("receiving", "shipping") and len(antennas) == 2}
    ]
    points: dict[str, Point] = {}
    read_points: list[ReadPoint] = []
    for i, rp in enumerate(raw_points):
        if not isinstance(rp, Mapping) or "antennas" not in rp:
            raise RfidConfigError(f"read_points[{i}]", "a table with name, antennas, [portal, mode, location]")
        name = str(rp.get("name", f"{device.id}.{i}"))
        point_mode = rp.get("mode", mode)
        if point_mode not in MODES:
            raise RfidConfigError(f"read_points[{i}].mode", f"one of {', '.join(MODES)}")
        location = rp.get("location", device.location)
        if point_mode != "monitor" and location is None:
            raise RfidConfigError(f"read_points[{i}].location", f"a {point_mode} read point needs a location")
        read_points.append(ReadPoint(name, tuple(int(a) for a in rp["antennas"]), bool(rp.get("portal", False))))
        points[name] = Point(device.id, name, point_mode, location, bool(rp.get("portal", False)))
    smoothing = SmoothingConfig(
        window_s=float(opts.get("window_s", 2.0)),
        min_seen=int(opts.get("min_seen", 2)),
        min_rssi=None if opts.get("min_rssi") is None else int(opts["min_rssi"]),
    )
    driver = {k: v for k, v in opts.items() if k not in EDGE_OPTIONS}
    used = sorted({a for rp in read_points for a in rp.antennas})
    driver.setdefault("antennas", used)
    inventoried = driver["antennas"] if isinstance(driver["antennas"], list | tuple) else [driver["antennas"]]
    missing = set(used) - set(inventoried)
    if missing:
        raise RfidConfigError("antennas", f"read points use antennas {sorted(missing)} that are not inventoried")
    return RfidPlan(points, read_points, smoothing, driver, float(opts.get("count_every_s", 300.0)))


@dataclass
class RfidMapper:
    """Tag events -> op drafts, remembering what was already recorded (rebuilt from the journal)."""

    master: MasterData
    points: dict[str, Point]
    received: set[str] = field(default_factory=set)
    flagged: set[str] = field(default_factory=set)
    line_tally: Counter[tuple[str, int]] = field(default_factory=Counter)
    shipped_ok: Counter[tuple[str, str]] = field(default_factory=Counter)
    checked: set[str] = field(default_factory=set)
    """EPCs that passed a shipping dock's check in this run."""
    count_runs: int = 0
    sessions: StationSessions | None = None
    """Who is logged in where (badge, ``edge.identity.stations``): the operator at a read point's
    station (its location, the door) is the actor of what it records there."""

    def __post_init__(self) -> None:
        self._gtins = {s.gtin: s.code for s in self.master.skus.values()}

    def actor_at(self, point: Point) -> str:
        """The operator logged in at the read point's station (its location), else the reader itself."""
        if self.sessions is not None and point.location is not None:
            operator = self.sessions.actor_for(point.location)
            if operator is not None:
                return operator
        return point.actor

    def load_history(self, ops: Iterable[Op]) -> None:
        """Receives (any device, any station) fill the seen set and ASN tallies; rfid exceptions too."""
        for op in ops:
            p = op.payload
            if op.kind == OpKind.RECEIVE and isinstance(p, ReceivePayload):
                self.received.update(p.serials)
                if p.asn_id is not None and p.asn_line is not None:
                    self.line_tally[(p.asn_id, p.asn_line)] += p.qty
            elif op.kind == OpKind.EXCEPTION and isinstance(p, ExceptionPayload) and p.code.startswith("rfid_"):
                self.flagged.add(p.ref or "")

    def _exception(self, point: Point, epc: Epc, code: str, detail: str, at: datetime) -> OpDraft | None:
        if epc.uri in self.flagged:
            return None
        self.flagged.add(epc.uri)
        payload = ExceptionPayload(code=code, detail=detail[:1000], location=point.location, ref=epc.uri[:200])
        return OpDraft(payload=payload, actor=self.actor_at(point), device_id=point.device_id, occurred_at=at)

    def map_event(self, event: TagEvent) -> OpDraft | None:
        """The op one smoothed event records, if any. Updates the seen set before the append, so a
        concurrent event for the same EPC cannot record twice."""
        point = self.points[event.read_point]
        if not point.triggers(event):
            return None
        if point.mode == "receiving":
            return self._receive(point, event)
        return self._check_shipping(point, event)

    def _sku_for(self, epc: Epc) -> str | None:
        return self._gtins.get(epc.gtin or "")

    def _receive(self, point: Point, event: TagEvent) -> OpDraft | None:
        epc, at = event.epc, event.last_received or event.at
        if epc.uri in self.received:
            return None
        if not epc.known:
            return self._exception(point, epc, "rfid_unknown_epc", f"cannot decode EPC {epc.hex}: {epc.reason}", at)
        if epc.scheme == "sscc-96":
            return self._exception(
                point, epc, "rfid_sscc_no_contents", f"SSCC {epc.sscc}: no contents known, scan the pallet label", at
            )
        sku = self._sku_for(epc)
        if sku is None:
            return self._exception(point, epc, "rfid_unknown_gtin", f"GTIN {epc.gtin} is not a known SKU", at)
        line = self._open_line(sku, point.location)
        if line is None:
            return self._exception(point, epc, "rfid_no_open_asn_line", f"no open inbound order line for {sku}", at)
        order_id, line_no, lot = line
        assert point.location is not None
        self.received.add(epc.uri)
        self.line_tally[(order_id, line_no)] += 1
        payload = ReceivePayload(
            sku=sku, lot=lot, location=point.location, qty=1, asn_id=order_id, asn_line=line_no, serials=[epc.uri]
        )
        return OpDraft(payload=payload, actor=self.actor_at(point), device_id=point.device_id, occurred_at=at)

    def _open_line(self, sku: str, dock: str | None) -> tuple[str, int, str] | None:
        """First inbound line for ``sku`` still short of its qty; orders for this dock first."""
        orders = sorted(self.master.inbound_orders.values(), key=lambda o: (o.dock != dock, o.id))
        for order in orders:
            for line in order.lines:
                if line.sku == sku and self.line_tally[(order.id, line.line)] < line.qty:
                    return order.id, line.line, line.lot
        return None

    def _check_shipping(self, point: Point, event: TagEvent) -> OpDraft | None:
        epc, at = event.epc, event.last_received or event.at
        if epc.uri in self.flagged or epc.uri in self.checked:
            return None
        sku = self._sku_for(epc) if epc.scheme == "sgtin-96" else None
        for order in sorted(self.master.outbound_orders.values(), key=lambda o: o.id):
            for line in order.lines:
                if sku is not None and line.sku == sku and self.shipped_ok[(order.id, sku)] < line.qty:
                    self.shipped_ok[(order.id, sku)] += 1
                    self.checked.add(epc.uri)
                    return None
        what = f"SKU {sku}" if sku else f"EPC {epc.uri}"
        return self._exception(point, epc, "rfid_not_on_order", f"{what} left the dock on no open outbound order", at)

    def count(self, point: Point, present: Iterable[Epc], book: Mapping[str, int], at: datetime) -> list[OpDraft]:
        """Count ops for a cycle-count zone: tags present per SKU against the book at that moment.

        ``book`` holds the available quantity per SKU at the point's location; every SKU either seen
        or on the book gets a count, so a SKU with no tag left counts 0.
        """
        assert point.location is not None
        counted: Counter[str] = Counter()
        for epc in present:
            sku = self._sku_for(epc) if epc.scheme == "sgtin-96" else None
            if sku is not None:
                counted[sku] += 1
        self.count_runs += 1
        drafts = []
        for sku in sorted(set(counted) | {s for s, q in book.items() if q}):
            qty, booked = counted[sku], book.get(sku, 0)
            payload = CountPayload(
                sku=sku,
                location=point.location,
                counted_qty=qty,
                book_qty=booked,
                delta=qty - booked,
                count_id=f"{point.name}:{self.count_runs}",
            )
            actor = self.actor_at(point)
            drafts.append(OpDraft(payload=payload, actor=actor, device_id=point.device_id, occurred_at=at))
        return drafts


class RfidDevice:
    """One reader's edge runtime: reads -> smoother -> mapper -> journal, health and telemetry."""

    def __init__(self, device: Device, ctx: EdgeContext, plan: RfidPlan | None = None) -> None:
        self.device = device
        self.ctx = ctx
        self.plan = plan or plan_for(device)
        self.smoother = TagSmoother(self.plan.read_points, self.plan.smoothing)
        self.mapper = RfidMapper(ctx.master, self.plan.points, sessions=ctx.sessions)
        self.ops: list[Op] = []
        self.rejected_frames = 0
        self.reader: LlrpReader | None = None
        self._outbox: asyncio.Queue[OpDraft] = asyncio.Queue()
        self.log = ctx.log.bind(device=device.id)

    def load_history(self, page: int = 5000) -> None:
        after = 0
        while True:
            entries = self.ctx.journal.entries(after=after, limit=page)
            if not entries:
                return
            self.mapper.load_history(e.op() for e in entries if e.body.get("kind") in ("receive", "exception"))
            after = entries[-1].seq

    async def record(self, draft: OpDraft | None) -> None:
        """Queue a draft for the journal writer, so smoothing never waits on a commit."""
        if draft is not None:
            await self._outbox.put(draft)

    async def _writer(self) -> None:
        while True:
            await self.append(await self._outbox.get())
            self._outbox.task_done()

    async def drain(self) -> None:
        """Wait until every queued draft is journaled (tests, shutdown)."""
        await self._outbox.join()

    async def append(self, draft: OpDraft) -> None:
        try:
            op = await self.ctx.journal.append(draft)
        except OpRejected as exc:
            self.log.warning("rfid.op_rejected", kind=str(draft.kind), reason=exc.code, message=exc.message)
            return
        self.ops.append(op)
        self.log.info("rfid.recorded", kind=str(op.kind), seq=op.seq)

    async def on_events(self, events: list[TagEvent]) -> None:
        for event in events:
            await self.record(self.mapper.map_event(event))

    async def on_read(self, read: TagRead) -> None:
        await self.on_events(self.smoother.feed(read))

    async def tick(self) -> None:
        """Age tracks, unless reads are still queued or the link is down: absence is judged only on
        what could have been seen."""
        if self.reader is not None and (self.reader.backlog or self.reader.state != "connected"):
            return
        await self.on_events(self.smoother.tick(self.ctx.clock.now()))

    async def count_zones(self) -> None:
        for point in self.plan.points.values():
            if point.mode != "cycle_count" or point.location is None:
                continue
            book = {
                line.sku: line.qty
                for line in self.ctx.journal.stock(location=point.location)
                if line.status == "available" and line.lot == ""
            }
            for draft in self.mapper.count(point, self.smoother.present(point.name), book, self.ctx.clock.now()):
                await self.record(draft)

    def on_state(self, state: ReaderState) -> None:
        if state.state == "connected":
            self.smoother.hold(self.ctx.clock.now())  # an outage is not an absence
        self.ctx.health.set(
            f"device:{self.device.id}",
            _HEALTH[state.state],
            state.detail,
            state.at,
            kind="rfid",
            tracked=self.smoother.tracked,
            reads=self.smoother.reads,
        )
        self.log.info("rfid.link", state=state.state, detail=state.detail, attempt=state.attempt)

    async def _ticker(self) -> None:
        period = max(self.plan.smoothing.window_s / 4, 0.05)
        while True:
            await self.ctx.clock.sleep(period)
            await self.tick()
            now = self.ctx.clock.now()
            self.ctx.telemetry.record(f"rfid:{self.device.id}:tracked", float(self.smoother.tracked), now)

    async def _counter(self) -> None:
        while True:
            await self.ctx.clock.sleep(self.plan.count_every_s)
            await self.count_zones()

    async def run(self) -> None:
        """Run until cancelled; the reader reconnects on its own, failures show in health."""
        self.load_history()
        reader = LlrpReader(parse_reader_options(self.plan.driver_options), clock=self.ctx.clock)
        self.reader = reader
        background = [asyncio.create_task(self._ticker()), asyncio.create_task(self._writer())]
        if any(p.mode == "cycle_count" for p in self.plan.points.values()):
            background.append(asyncio.create_task(self._counter()))
        try:
            async with reader:
                async for event in reader:
                    if isinstance(event, TagRead):
                        await self.on_read(event)
                    elif isinstance(event, ReaderState):
                        self.on_state(event)
                    elif isinstance(event, FrameRejected):
                        self.rejected_frames += 1
                        self.log.warning("rfid.frame_rejected", detail=event.detail, resync=event.resync)
        finally:
            for task in background:
                task.cancel()
            await asyncio.gather(*background, return_exceptions=True)


async def run_rfid_device(device: Device, ctx: EdgeContext) -> None:
    """Daemon runner for ``kind = "rfid"``: runs until cancelled, reconnecting on its own."""
    await RfidDevice(device, ctx).run()
