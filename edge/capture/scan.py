"""A scan at a station becomes an op: a receive against the ASN line for the GTIN, or an exception.

``map_scan`` is pure (event + station + master data -> what to record); ``run_scanner_device`` (here)
and ``run_camera_device`` (``edge.capture.camera``) are the thin runners the daemon starts per
``[[devices]]`` entry.

What gets an op: a good GS1 scan that matches an inbound order line (receive); a label that is refused
for its content (bad check digit, bad date, bad format, not GS1) or for what it names (unknown GTIN,
no ASN line, lot missing) -> an exception op with a reason code and a bad-read beep. Line noise (binary
garbage, over-long or empty lines, broken framing) is logged and counted but not journaled: it is not
a label anyone scanned, and a noisy cable must not flood the journal.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, Literal

from drivers.barcode import (
    BarcodeEvent,
    EventSource,
    Gs1Data,
    RejectReason,
    ScanEvent,
    ScanRejected,
    State,
    make_source,
)
from edge.config import Device
from edge.health import Status
from edge.store.errors import OpRejected
from edge.store.masterdata import MasterData
from sync.ops import ExceptionPayload, OpDraft, ReceivePayload

if TYPE_CHECKING:
    from edge.context import EdgeContext

NOISE = frozenset(
    {
        RejectReason.EMPTY,
        RejectReason.TOO_LONG,
        RejectReason.NOT_TEXT,
        RejectReason.BAD_FRAMING,
        RejectReason.BAD_SYMBOLOGY_ID,
    }
)
"""Driver refusals that are line noise, not a label: no op."""

EDGE_OPTIONS = frozenset({"mode"})
"""Keys of a device's ``options`` read here; the rest go to the driver."""

_HEALTH: dict[State, Status] = {
    "starting": "starting",
    "connected": "ok",
    "disconnected": "down",
    "finished": "ok",
    "closed": "down",
}


@dataclass(frozen=True, slots=True)
class Station:
    device_id: str
    location: str
    zone: str | None = None
    mode: Literal["receiving"] = "receiving"
    operator: str | None = None
    """The operator logged in at this station (badge), who then is the actor of its ops."""

    @property
    def actor(self) -> str:
        return self.operator or f"device:{self.device_id}"


@dataclass(frozen=True, slots=True)
class MappedScan:
    """What to do with one event: ``draft`` to journal (None for noise), and whether to signal bad read."""

    draft: OpDraft | None
    refused: bool
    code: str
    detail: str = ""
    beep: bool = False
    """Beep here; False when the driver already beeped (its own refusals)."""


def printable(data: str, limit: int = 200) -> str:
    """The scan as text fit for an op field and a log line: GS shown as <GS>, control bytes escaped."""
    out = data.replace("\x1d", "<GS>")
    out = "".join(ch if ch.isprintable() else f"\\x{ord(ch):02x}" for ch in out)
    return out[:limit]


def _exception(event: BarcodeEvent, station: Station, code: str, detail: str, ref: str) -> OpDraft:
    payload = ExceptionPayload(code=code, detail=detail[:1000], location=station.location, ref=ref or None)
    return OpDraft(payload=payload, actor=station.actor, device_id=station.device_id, occurred_at=event.at)


def _refuse(event: BarcodeEvent, station: Station, code: str, detail: str, *, beep: bool) -> MappedScan:
    ref = (
        printable(event.symbology + event.data)
        if isinstance(event, ScanEvent)
        else printable(event.symbology + event.raw.decode("utf-8", "replace"))
    )
    return MappedScan(_exception(event, station, code, detail, ref), refused=True, code=code, detail=detail, beep=beep)


def _asn_line(master: MasterData, sku: str, lot: str, station: Station) -> tuple[str, int] | None:
    """The inbound order line for this SKU (and lot, if the line names one); this dock's orders first."""
    orders = sorted(master.inbound_orders.values(), key=lambda o: o.dock != station.location)
    for order in orders:
        for line in order.lines:
            if line.sku == sku and (not line.lot or line.lot == lot):
                return order.id, line.line
    return None


def _receive(event: ScanEvent, gs1: Gs1Data, station: Station, master: MasterData) -> MappedScan:
    gtin = gs1.gtin or gs1.contained_gtin
    if gtin is None:
        return _refuse(event, station, "no_gtin", "GS1 label carries no GTIN (AI 01/02) to receive", beep=True)
    sku = master.sku_by_gtin(gtin)
    if sku is None:
        return _refuse(event, station, "unknown_gtin", f"GTIN {gtin} is not a known SKU", beep=True)
    lot = gs1.batch or ""
    if sku.lot_tracked and not lot:
        return _refuse(event, station, "lot_required", f"SKU {sku.code} is lot-tracked; label has no (10)", beep=True)
    asn = _asn_line(master, sku.code, lot, station)
    if asn is None:
        return _refuse(
            event,
            station,
            "no_open_asn_line",
            f"no inbound order line for SKU {sku.code}" + (f" lot {lot}" if lot else ""),
            beep=True,
        )
    payload = ReceivePayload(
        sku=sku.code,
        lot=lot,
        location=station.location,
        qty=gs1.count if gs1.count else 1,
        asn_id=asn[0],
        asn_line=asn[1],
        sscc=gs1.sscc,
        serials=[gs1.serial] if gs1.serial else [],
        expiry=gs1.expiry.isoformat() if gs1.expiry else None,
    )
    draft = OpDraft(payload=payload, actor=station.actor, device_id=station.device_id, occurred_at=event.at)
    return MappedScan(draft, refused=False, code="receive")


def map_scan(event: BarcodeEvent, station: Station, master: MasterData) -> MappedScan:
    """Decide what a scan at ``station`` records. Pure: no I/O, no clock (the event carries its time)."""
    if isinstance(event, ScanRejected):
        if event.reason in NOISE:
            return MappedScan(None, refused=True, code=f"scan_{event.reason}", detail=event.detail)
        return _refuse(event, station, f"scan_{event.reason}", event.detail, beep=False)
    if event.gs1 is None:
        return _refuse(event, station, "scan_not_gs1", f"not a GS1 label ({event.symbology or 'no id'})", beep=True)
    return _receive(event, event.gs1, station, master)


def station_for(device: Device) -> Station:
    """A device's station; a receiving scanner needs a ``location`` to receive into."""
    mode = device.options.get("mode", "receiving")
    if mode != "receiving":
        raise ValueError(f"device {device.id}: options.mode: only 'receiving' is supported, got {mode!r}")
    if device.location is None:
        raise ValueError(f"device {device.id}: location is required for a receiving scanner")
    return Station(device_id=device.id, location=device.location, zone=device.zone, mode="receiving")


def driver_options(options: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in options.items() if k not in EDGE_OPTIONS}


async def handle_event(event: BarcodeEvent, source: EventSource, station: Station, ctx: EdgeContext) -> None:
    """Record one event; a refused op becomes an exception op, and the operator hears a bad-read beep."""
    operator = ctx.sessions.actor_for(station.location)
    if operator is not None:
        ctx.sessions.touch(station.location, ctx.clock.monotonic())
        station = replace(station, operator=operator)
    mapped = map_scan(event, station, ctx.master)
    log = ctx.log.bind(device=station.device_id, code=mapped.code)
    beep = mapped.beep
    if mapped.draft is None:
        if ctx.floods.should_log(station.device_id, mapped.code):  # a noisy line: the first of a window
            log.info("scan.noise", detail=mapped.detail)
    else:
        try:
            op = await ctx.floods.record(mapped.draft)  # identical exceptions in a flood fold into a count
            if op is not None:
                log.info("scan.recorded", kind=str(op.kind), seq=op.seq, detail=mapped.detail)
        except OpRejected as exc:
            log.warning("scan.op_rejected", reason=exc.code, message=exc.message)
            beep = True
            if not mapped.refused:  # the receive was refused: keep a trace of why
                fallback = _refuse(event, station, f"receive_{exc.code}", exc.message, beep=True)
                if fallback.draft is not None:
                    try:
                        await ctx.floods.record(fallback.draft)
                    except OpRejected as exc2:
                        log.error("scan.exception_op_rejected", reason=exc2.code, message=exc2.message)
    if beep:
        await source.signal_bad_read()


async def run_source(device: Device, ctx: EdgeContext, kind: Literal["scanner", "camera"]) -> None:
    """Read a scanner's or a camera's events until the source ends or the task is cancelled."""
    station = station_for(device)
    component = f"device:{device.id}"

    def on_state(state: State, detail: str) -> None:
        ctx.health.set(component, _HEALTH[state], detail or state, ctx.clock.now(), kind=kind)

    source = make_source(kind, driver_options(device.options), device_id=device.id, clock=ctx.clock, on_state=on_state)
    async with source:
        async for event in source:
            await handle_event(event, source, station, ctx)


async def run_scanner_device(device: Device, ctx: EdgeContext) -> None:
    """Daemon runner for ``kind = "scanner"``: runs until cancelled, reconnecting on its own."""
    await run_source(device, ctx, "scanner")
