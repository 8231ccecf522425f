"""The tags in front of the simulated reader: EPC encoding, scripted passes and a random population.

The EPC encoder is written here independently of the driver's decoder (from the Tag Data Standard's
bit layout) so tests can check one against the other. A ``Scenario`` says where each tag is over
(simulated) time: "case X passes antenna 1 then 2 starting at t over T seconds", or "N tags sit in
front of antenna 3". ``sighting`` turns that into what one inventory round on one antenna sees: a
read or a miss, with an RSSI that peaks when the tag is closest, plus noise.
"""

from __future__ import annotations

import bisect
import math
import random
from dataclasses import dataclass, field

_PARTITION_BITS = (40, 37, 34, 30, 27, 24, 20)
_PARTITION_DIGITS = (12, 11, 10, 9, 8, 7, 6)


def sgtin96(company_prefix: str, item_ref: str, serial: int, filter_value: int = 1) -> bytes:
    """SGTIN-96 from the company prefix and item reference digit strings (indicator digit first)."""
    digits = len(company_prefix)
    if digits not in _PARTITION_DIGITS or len(company_prefix) + len(item_ref) != 13:
        raise ValueError("company prefix 6..12 digits, prefix + item reference = 13 digits")
    partition = _PARTITION_DIGITS.index(digits)
    m = _PARTITION_BITS[partition]
    if not 0 <= serial < 2**38:
        raise ValueError("serial must fit 38 bits")
    bits = f"{0x30:08b}{filter_value:03b}{partition:03b}{int(company_prefix):0{m}b}"
    bits += f"{int(item_ref):0{44 - m}b}{serial:038b}"
    return int(bits, 2).to_bytes(12, "big")


def sscc96(company_prefix: str, serial_ref: str, filter_value: int = 2) -> bytes:
    """SSCC-96 from the company prefix and serial reference digit strings (extension digit first)."""
    digits = len(company_prefix)
    if digits not in _PARTITION_DIGITS or len(company_prefix) + len(serial_ref) != 17:
        raise ValueError("company prefix 6..12 digits, prefix + serial reference = 17 digits")
    partition = _PARTITION_DIGITS.index(digits)
    m = _PARTITION_BITS[partition]
    bits = f"{0x31:08b}{filter_value:03b}{partition:03b}{int(company_prefix):0{m}b}{int(serial_ref):0{58 - m}b}{0:024b}"
    return int(bits, 2).to_bytes(12, "big")


def check_digit(digits: str) -> str:
    total = 0
    for i, ch in enumerate(digits[::-1]):
        total += int(ch) * (1 if i % 2 else 3)
    return str(-total % 10)


@dataclass(frozen=True)
class Pass:
    """A tag moving past antennas in order, spending ``dwell`` seconds in each antenna's field."""

    epc: bytes
    antennas: tuple[int, ...]
    start: float
    dwell: float
    peak_rssi: float = -50.0

    @property
    def end(self) -> float:
        return self.start + self.dwell * len(self.antennas)

    def position(self, t: float, antenna: int) -> float | None:
        """0..1 through ``antenna``'s field at time ``t`` (0.5 = closest), or None when out of it."""
        for i, a in enumerate(self.antennas):
            if a != antenna:
                continue
            begin = self.start + i * self.dwell
            if begin <= t < begin + self.dwell:
                return (t - begin) / self.dwell
        return None


@dataclass(frozen=True)
class Standing:
    """A tag that stays in one antenna's field (a shelf in a cycle-count zone) between two times."""

    epc: bytes
    antenna: int
    start: float = 0.0
    end: float = math.inf
    rssi: float = -60.0


@dataclass
class Scenario:
    """Where tags are over simulated time; seconds count from the simulator's creation."""

    passes: list[Pass] = field(default_factory=list)
    standing: list[Standing] = field(default_factory=list)
    miss_rate: float = 0.1
    rssi_noise: float = 2.0
    seed: int = 1
    rng: random.Random = field(init=False)

    def __post_init__(self) -> None:
        self.rng = random.Random(self.seed)
        self._index: tuple[int, list[float], list[Pass], float] = (-1, [], [], 0.0)

    def _active(self, t: float) -> list[Pass]:
        """Passes under way at ``t``, found by start time so a 1,000-case dock costs little per round."""
        if self._index[0] != len(self.passes):
            ordered = sorted(self.passes, key=lambda p: p.start)
            longest = max((p.end - p.start for p in ordered), default=0.0)
            self._index = (len(self.passes), [p.start for p in ordered], ordered, longest)
        _, starts, ordered, longest = self._index
        lo = bisect.bisect_left(starts, t - longest)
        hi = bisect.bisect_right(starts, t)
        return [p for p in ordered[lo:hi] if p.start <= t < p.end]

    def case_passes(
        self, epc: bytes, antennas: tuple[int, ...] = (1, 2), *, at: float, over: float, peak_rssi: float = -50.0
    ) -> Pass:
        """Script a case moving past ``antennas`` in order, starting at ``at``, taking ``over`` seconds."""
        p = Pass(epc, antennas, at, over / len(antennas), peak_rssi)
        self.passes.append(p)
        return p

    def tag_stands(
        self, epc: bytes, antenna: int, *, start: float = 0.0, end: float = math.inf, rssi: float = -60.0
    ) -> Standing:
        s = Standing(epc, antenna, start, end, rssi)
        self.standing.append(s)
        return s

    @property
    def end(self) -> float:
        ends = [p.end for p in self.passes] + [s.end for s in self.standing if s.end != math.inf]
        return max(ends, default=0.0)

    def sighting(self, t: float, antenna: int) -> list[tuple[bytes, int]]:
        """(EPC, RSSI dBm) of the tags one round on ``antenna`` reads at ``t``; some are missed."""
        seen: list[tuple[bytes, int]] = []
        for p in self._active(t):
            pos = p.position(t, antenna)
            if pos is None or self.rng.random() < self.miss_rate:
                continue
            # free-space-like fall-off from the field's centre: about 12 dB weaker at its edges
            rssi = p.peak_rssi - 24.0 * (pos - 0.5) ** 2 * 2 + self.rng.gauss(0.0, self.rssi_noise)
            seen.append((p.epc, _clamp_rssi(rssi)))
        for s in self.standing:
            if s.antenna == antenna and s.start <= t < s.end and self.rng.random() >= self.miss_rate:
                seen.append((s.epc, _clamp_rssi(s.rssi + self.rng.gauss(0.0, self.rssi_noise))))
        return seen


def _clamp_rssi(v: float) -> int:
    return max(-110, min(-20, round(v)))


def random_population(
    count: int,
    *,
    antennas: tuple[int, ...] = (1,),
    seed: int = 7,
    company_prefix: str = "0614141",
    item_ref: str = "812345",
) -> Scenario:
    """``count`` SGTIN-96 tags standing in front of random antennas with random signal strength."""
    rng = random.Random(seed)
    sc = Scenario(seed=seed)
    for serial in range(1, count + 1):
        sc.tag_stands(sgtin96(company_prefix, item_ref, serial), rng.choice(antennas), rssi=rng.uniform(-75, -45))
    return sc
