"""Who is logged in at which station: the operator becomes the actor of the ops made there.

Badge readers start and end sessions (``edge/capture/badge.py``); every part that records an op at a
station (scanners, RFID read points, handheld API) asks ``actor_for(station)`` and calls ``touch`` so
the idle timeout starts again. A station is named by its location code unless configured otherwise.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass
class Session:
    operator_id: str
    card_uid: str
    started: datetime
    last_activity: float


class StationSessions:
    """Who is logged in where. Other parts ask ``actor_for(station)`` when they record an op there."""

    def __init__(self) -> None:
        self._by_station: dict[str, Session] = {}

    def actor_for(self, station: str) -> str | None:
        s = self._by_station.get(station)
        return s.operator_id if s is not None else None

    def get(self, station: str) -> Session | None:
        return self._by_station.get(station)

    def touch(self, station: str, now: float) -> None:
        """The operator did something at the station: the idle timeout starts again."""
        s = self._by_station.get(station)
        if s is not None:
            s.last_activity = now

    def start(self, station: str, session: Session) -> None:
        self._by_station[station] = session

    def end(self, station: str) -> Session | None:
        return self._by_station.pop(station, None)
