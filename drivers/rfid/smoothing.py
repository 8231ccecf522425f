"""Tag smoothing: many raw reads a second become one arrived and one departed event per tag and read point.

Pure and clock-free: ``feed`` takes reads, ``tick(now)`` ages them, the caller owns time. Windows are
measured on the gateway clock (``TagRead.received_at``), because a reader's own clock may be off by
seconds; the reader's timestamps are only compared with each other, to order a tag's sightings on the
two antennas of a portal.

- A tag *arrives* at a read point once it was read ``min_seen`` times (TagSeenCount adds up) at or
  above ``min_rssi``, with no gap longer than ``window_s`` between reads. Fewer reads (a stray read
  through a wall) expire silently.
- It *departs* once it has not been read for ``window_s``.
- A portal is a read point with two antennas, outer then inner: a tag whose sightings on the outer
  antenna come before those on the inner one went ``in``; the other way round ``out``; only one
  antenna saw it: ``unknown``. The direction is on the departed event, when the pass is complete.
  A portal remembers a departed tag's sightings for ``memory_s``: a pass cut in two by a pause
  (a stalled forklift, a gateway hiccup) departs ``unknown`` first, then, without a second arrival,
  departs again with the direction of the whole pass when the tag leaves for good.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Literal

from drivers.rfid.epc import Epc
from drivers.rfid.errors import RfidConfigError
from drivers.rfid.events import TagRead

Direction = Literal["in", "out", "unknown"]


@dataclass(frozen=True, slots=True)
class ReadPoint:
    """A named group of antennas; ``portal=True`` needs exactly two, listed outer first."""

    name: str
    antennas: tuple[int, ...]
    portal: bool = False

    def __post_init__(self) -> None:
        if not self.antennas:
            raise RfidConfigError(f"read_points.{self.name}.antennas", "needs at least one antenna")
        if self.portal and (len(self.antennas) != 2 or self.antennas[0] == self.antennas[1]):
            raise RfidConfigError(f"read_points.{self.name}.antennas", "a portal needs two antennas: outer, inner")


@dataclass(frozen=True, slots=True)
class SmoothingConfig:
    window_s: float = 2.0
    min_seen: int = 2
    min_rssi: int | None = None
    memory_s: float = 30.0

    def __post_init__(self) -> None:
        if self.window_s <= 0:
            raise RfidConfigError("window_s", "must be positive")
        if self.min_seen < 1:
            raise RfidConfigError("min_seen", "must be at least 1")


@dataclass(frozen=True, slots=True)
class TagEvent:
    kind: Literal["arrived", "departed"]
    epc: Epc
    read_point: str
    at: datetime
    first_seen: datetime
    last_seen: datetime
    seen: int
    peak_rssi: int | None
    direction: Direction | None = None
    """Set on a portal's departed events."""
    last_received: datetime | None = None
    """Gateway time of the last read: when it happened, on a clock that is kept right (reader clocks
    often are not)."""


@dataclass(slots=True)
class _Track:
    epc: Epc
    first_rx: datetime
    last_rx: datetime
    first_seen: datetime
    last_seen: datetime
    seen: int = 0
    peak: int | None = None
    arrived: bool = False
    # per antenna: [sum of reader-time midpoints in us weighted by count, count]
    antenna_time: dict[int, list[float]] = field(default_factory=dict)


class TagSmoother:
    """Arrived/departed events for a set of read points; one instance per reader."""

    def __init__(self, read_points: Sequence[ReadPoint], config: SmoothingConfig | None = None) -> None:
        self.config = config or SmoothingConfig()
        self.read_points = {rp.name: rp for rp in read_points}
        self._by_antenna: dict[int, ReadPoint] = {}
        for rp in read_points:
            for a in rp.antennas:
                if a in self._by_antenna:
                    raise RfidConfigError("read_points", f"antenna {a} is in two read points")
                self._by_antenna[a] = rp
        self._window = timedelta(seconds=self.config.window_s)
        # insertion order == order of last receipt, so expiry pops from the front
        self._tracks: dict[tuple[str, str], _Track] = {}
        # portal sightings of departed tags, by departure time (oldest first): (forget after, sightings)
        self._memory: dict[tuple[str, str], tuple[datetime, _Track]] = {}
        self._memory_span = timedelta(seconds=self.config.memory_s)
        self.reads = 0
        self.ignored = 0

    @property
    def tracked(self) -> int:
        return len(self._tracks)

    def present(self, read_point: str) -> list[Epc]:
        """Tags that arrived at ``read_point`` and have not departed."""
        return [t.epc for (rp, _), t in self._tracks.items() if rp == read_point and t.arrived]

    def feed(self, read: TagRead) -> list[TagEvent]:
        """Account one raw read; returns the arrived event it completes, if any."""
        self.reads += read.count
        rp = self._by_antenna.get(read.antenna)
        min_rssi = self.config.min_rssi
        if rp is None or (min_rssi is not None and read.rssi is not None and read.rssi < min_rssi):
            self.ignored += read.count
            return []
        key = (rp.name, read.epc.hex)
        rx = read.received_at
        seen_first = read.first_seen or read.seen_at
        seen_last = read.seen_at
        track = self._tracks.pop(key, None)
        if track is None:
            track = _Track(read.epc, rx, rx, seen_first, seen_last)
            if rp.portal:
                remembered = self._memory.pop(key, None)
                if remembered is not None and remembered[0] > rx:  # the same pass resumes: no new arrival
                    old = remembered[1]
                    track.antenna_time, track.arrived = old.antenna_time, old.arrived
                    track.first_seen, track.seen, track.peak = old.first_seen, old.seen, old.peak
        else:
            track.last_rx = rx
            track.first_seen = min(track.first_seen, seen_first)
            track.last_seen = max(track.last_seen, seen_last)
        self._tracks[key] = track
        track.seen += read.count
        if read.rssi is not None and (track.peak is None or read.rssi > track.peak):
            track.peak = read.rssi
        if rp.portal:
            mid = (seen_first.timestamp() + seen_last.timestamp()) / 2
            acc = track.antenna_time.setdefault(read.antenna, [0.0, 0.0])
            acc[0] += mid * read.count
            acc[1] += read.count
        if not track.arrived and track.seen >= self.config.min_seen:
            track.arrived = True
            return [self._event("arrived", rp, track, rx)]
        return []

    def feed_many(self, reads: Iterable[TagRead]) -> list[TagEvent]:
        out: list[TagEvent] = []
        for read in reads:
            out.extend(self.feed(read))
        return out

    def tick(self, now: datetime) -> list[TagEvent]:
        """Departed events for tags unseen for ``window_s`` at ``now``; forget unconfirmed tags."""
        out: list[TagEvent] = []
        limit = now - self._window
        while self._tracks:
            key, track = next(iter(self._tracks.items()))
            if track.last_rx > limit:
                break
            del self._tracks[key]
            rp = self.read_points[key[0]]
            if track.arrived:
                out.append(self._event("departed", rp, track, now))
            if rp.portal:
                self._memory[key] = (now + self._memory_span, track)
        while self._memory:
            key, (forget_at, _) = next(iter(self._memory.items()))
            if forget_at > now:
                break
            del self._memory[key]
        return out

    def hold(self, now: datetime) -> None:
        """Restart every track's window at ``now``: while a reader was unreachable nothing could be read,
        and that silence says nothing about whether a tag left (call on reconnect)."""
        for track in self._tracks.values():
            track.last_rx = max(track.last_rx, now)

    def flush(self, now: datetime) -> list[TagEvent]:
        """Depart every tag (shutdown): nothing arrived stays open."""
        out = [self._event("departed", self.read_points[k[0]], t, now) for k, t in self._tracks.items() if t.arrived]
        self._tracks.clear()
        return out

    def _event(self, kind: Literal["arrived", "departed"], rp: ReadPoint, track: _Track, at: datetime) -> TagEvent:
        direction: Direction | None = None
        if kind == "departed" and rp.portal:
            direction = _direction(track, rp.antennas[0], rp.antennas[1])
        return TagEvent(
            kind,
            track.epc,
            rp.name,
            at,
            track.first_seen,
            track.last_seen,
            track.seen,
            track.peak,
            direction,
            track.last_rx,
        )


def _direction(track: _Track, outer: int, inner: int) -> Direction:
    a = track.antenna_time.get(outer)
    b = track.antenna_time.get(inner)
    if not a or not b or not a[1] or not b[1]:
        return "unknown"
    ta, tb = a[0] / a[1], b[0] / b[1]
    if ta == tb:
        return "unknown"
    return "in" if ta < tb else "out"
