"""What a reader yields: tag reads, link state changes and rejected frames (a typed event stream)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from drivers.rfid.epc import Epc

LinkState = Literal["connecting", "connected", "disconnected", "closed"]


@dataclass(frozen=True, slots=True)
class TagRead:
    """One TagReportData: a tag seen ``count`` times on ``antenna`` between ``first_seen`` and ``last_seen``.

    Timestamps are the reader's (UTC); ``received_at`` is the gateway clock when the report arrived,
    used when a reader sends no timestamps.
    """

    epc: Epc
    antenna: int
    rssi: int | None
    first_seen: datetime | None
    last_seen: datetime | None
    count: int
    received_at: datetime
    rospec_id: int | None = None

    @property
    def seen_at(self) -> datetime:
        return self.last_seen or self.first_seen or self.received_at


@dataclass(frozen=True, slots=True)
class ReaderState:
    """The link changed state; ``detail`` says why (connect error, dead link, reader model)."""

    state: LinkState
    detail: str
    at: datetime
    attempt: int = 0


@dataclass(frozen=True, slots=True)
class FrameRejected:
    """A frame from the reader that did not decode; the session goes on when framing is intact."""

    detail: str
    at: datetime
    resync: bool
    """True when the stream lost its framing and the driver reconnects."""


ReaderEvent = TagRead | ReaderState | FrameRejected
