"""What a badge reader tells its consumer."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True, slots=True)
class CardInserted:
    reader: str
    uid: str  # upper-case hex, as operators' badge_uid in master data
    atr: str
    at: datetime


@dataclass(frozen=True, slots=True)
class CardRemoved:
    reader: str
    at: datetime


@dataclass(frozen=True, slots=True)
class CardUnreadable:
    """A card is on the reader but did not give its UID (not a contactless badge, or pulled too fast)."""

    reader: str
    reason: str
    at: datetime


@dataclass(frozen=True, slots=True)
class ReaderState:
    reader: str
    available: bool
    detail: str
    at: datetime
    attempt: int = 0


BadgeEvent = CardInserted | CardRemoved | CardUnreadable | ReaderState
