"""A cold room's air temperature and humidity over time, for simulated sensors.

The model is a closed-form function of time, so it gives the same answer whether the test advances a
``ManualClock`` by ten minutes in one step or polls every second in real time:

- the room holds ``setpoint`` with a slow ``drift`` (C per hour) and a little seeded noise;
- ``open_door(at, seconds)`` adds a spike that rises while the door is open and decays after;
- ``fail_compressor(at)`` lets the room warm towards ``ambient`` with time constant ``tau_s``.
"""

from __future__ import annotations

import math
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass
class RoomModel:
    setpoint: float = 5.0
    drift_c_per_h: float = 0.0
    noise_c: float = 0.05
    humidity_pct: float = 60.0
    ambient: float = 25.0
    tau_s: float = 1800.0
    door_spike_c: float = 4.0
    door_tau_s: float = 120.0
    seed: int = 1
    _doors: list[tuple[float, float]] = field(default_factory=list)
    _failed_at: float | None = None

    def __post_init__(self) -> None:
        self._rng = random.Random(self.seed)

    def open_door(self, at: float, seconds: float) -> None:
        self._doors.append((at, seconds))

    def fail_compressor(self, at: float) -> None:
        self._failed_at = at

    def repair_compressor(self) -> None:
        self._failed_at = None

    def temperature(self, t: float) -> float:
        base = self.setpoint + self.drift_c_per_h * t / 3600.0
        if self._failed_at is not None and t > self._failed_at:
            base = self.ambient + (base - self.ambient) * math.exp(-(t - self._failed_at) / self.tau_s)
        for start, length in self._doors:
            if t < start:
                continue
            rise = min(t - start, length) / max(length, 1.0)
            after = max(0.0, t - start - length)
            base += self.door_spike_c * rise * math.exp(-after / self.door_tau_s)
        return base + self._rng.uniform(-self.noise_c, self.noise_c)

    def humidity(self, t: float) -> float:
        return self.humidity_pct + self._rng.uniform(-0.5, 0.5)


@dataclass
class Forced:
    """A value a test pins, overriding the model (``None`` to follow the model again)."""

    temperature: float | None = None
    humidity: float | None = None


def clock_fn(fn: Callable[[], float] | None) -> Callable[[], float]:
    return fn if fn is not None else time.monotonic
