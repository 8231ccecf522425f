"""Badge sessions: who is working at a station, from a PC/SC badge reader.

A card on the reader is looked up in master data (``Operator.badge_uid``). A known card logs its
operator in at the station (``session`` op, event ``login``), and from then on that operator is the
actor of ops made at the station (``StationSessions.actor_for``) until the card is removed
(``logout``) or the session idles past ``idle_timeout_s`` (``timeout``). An unknown card is refused and
recorded (``refused``, actor ``device:<id>``) so that attempts are audited; it never logs anyone in.

Options of a ``kind = "badge"`` device: ``reader`` (PC/SC name or prefix, "" = first reader),
``station`` (default: the device's location, else its id), ``idle_timeout_s`` (default 900),
``backoff_max_s`` (default 30).
"""

from __future__ import annotations

import asyncio
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from drivers.badge import (
    BadgeConfigError,
    BadgeEvent,
    BadgeReader,
    CardInserted,
    CardRemoved,
    CardUnreadable,
    PcscUnavailable,
    ReaderState,
    pyscard_installed,
)
from edge.capture.runners import PartUnavailable
from edge.config import Device
from edge.context import EdgeContext
from edge.identity.stations import Session, StationSessions
from edge.store.errors import OpRejected
from sync.codes import Code
from sync.ops import ExceptionPayload, OpDraft, SessionPayload


class BadgeOptions(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    reader: str = ""
    station: Code | None = None
    idle_timeout_s: float = Field(default=900.0, gt=0)
    backoff_max_s: float = Field(default=30.0, gt=0)


def sessions_of(ctx: EdgeContext) -> StationSessions:
    """The gateway's one ``StationSessions``."""
    return ctx.sessions


class BadgeStation:
    """One configured badge reader at one station: reader events in, session ops out."""

    def __init__(self, device: Device, ctx: EdgeContext) -> None:
        try:
            self.options = BadgeOptions.model_validate(device.options)
        except ValidationError as exc:
            err = exc.errors()[0]
            raise BadgeConfigError(".".join(map(str, ("options", *err["loc"]))), err["msg"]) from None
        self.device = device
        self.ctx = ctx
        self.station = self.options.station or device.location or device.id
        self.component = f"device:{device.id}"
        self.sessions = sessions_of(ctx)
        self.handled = 0
        self._reader_state: ReaderState | None = None
        self._progress = asyncio.Condition()

    async def run(self) -> None:
        reader = BadgeReader(reader=self.options.reader, clock=self.ctx.clock, backoff_max_s=self.options.backoff_max_s)
        async with reader, asyncio.TaskGroup() as tg:
            tg.create_task(self._watch_idle(), name=f"badge-idle:{self.device.id}")
            async for ev in reader.events():
                await self._handle(ev)
                async with self._progress:
                    self.handled += 1
                    self._progress.notify_all()

    async def wait_handled(self, n: int, timeout: float = 10.0) -> None:
        """Wait until ``n`` reader events are fully handled (journal included); for tests and tools."""
        async with self._progress:
            await asyncio.wait_for(self._progress.wait_for(lambda: self.handled >= n), timeout)

    async def _handle(self, ev: BadgeEvent) -> None:
        if isinstance(ev, CardInserted):
            await self._card_in(ev)
        elif isinstance(ev, CardRemoved):
            await self._end("logout")
        elif isinstance(ev, CardUnreadable):
            await self._record(
                ExceptionPayload(
                    code="badge_unreadable", detail=ev.reason[:1000], location=self.device.location, ref=self.station
                ),
                f"device:{self.device.id}",
            )
        elif isinstance(ev, ReaderState):
            self._reader_state = ev
            self.ctx.log.info(
                "badge.reader_state",
                device=self.device.id,
                available=ev.available,
                detail=ev.detail,
                attempt=ev.attempt,
            )
        self._report_health()

    def _report_health(self) -> None:
        rs = self._reader_state
        if rs is None:
            return
        status: Literal["ok", "down"] = "ok" if rs.available else "down"
        self.ctx.health.set(
            self.component,
            status,
            rs.detail,
            self.ctx.clock.now(),
            kind="badge",
            station=self.station,
            operator=self.sessions.actor_for(self.station),
        )

    async def _card_in(self, ev: CardInserted) -> None:
        if self.sessions.get(self.station) is not None:
            await self._end("logout")  # a new card replaces whoever was still logged in
        operator = self.ctx.master.operator_by_badge(ev.uid)
        if operator is None:
            self.ctx.log.warning("badge.refused", device=self.device.id, station=self.station, card_uid=ev.uid)
            await self._record(
                SessionPayload(event="refused", station=self.station, card_uid=ev.uid), f"device:{self.device.id}"
            )
            return
        self.sessions.start(self.station, Session(operator.id, ev.uid, ev.at, self.ctx.clock.monotonic()))
        await self._record(
            SessionPayload(event="login", operator_id=operator.id, station=self.station, card_uid=ev.uid), operator.id
        )

    async def _end(self, event: Literal["logout", "timeout"]) -> None:
        session = self.sessions.end(self.station)
        if session is not None:
            await self._record(
                SessionPayload(
                    event=event, operator_id=session.operator_id, station=self.station, card_uid=session.card_uid
                ),
                session.operator_id,
            )

    async def _watch_idle(self) -> None:
        timeout = self.options.idle_timeout_s
        while True:
            await self.ctx.clock.sleep(min(timeout / 4, 30.0))
            session = self.sessions.get(self.station)
            if session is not None and self.ctx.clock.monotonic() - session.last_activity >= timeout:
                await self._end("timeout")

    async def _record(self, payload: SessionPayload | ExceptionPayload, actor: str) -> None:
        draft = OpDraft(payload=payload, actor=actor, device_id=self.device.id, occurred_at=self.ctx.clock.now())
        try:
            await self.ctx.floods.record(draft)  # a card that never reads cleanly must not flood the journal
        except OpRejected as exc:
            self.ctx.log.error("badge.op_rejected", code=exc.code, message=exc.message)


MISSING_PYSCARD = "badge: pyscard is not installed; install wims[badge]"


async def run_badge_device(device: Device, ctx: EdgeContext) -> None:
    """Runner for ``kind = "badge"`` devices (see ``edge.capture.runners``): runs until cancelled.

    Without pyscard it stops at once with ``PartUnavailable``, so health says what to install instead of
    showing the device "starting" for ever."""
    if not pyscard_installed():
        raise PartUnavailable(MISSING_PYSCARD)
    try:
        await BadgeStation(device, ctx).run()
    except PcscUnavailable as exc:
        raise PartUnavailable(MISSING_PYSCARD) from exc
