"""What a bus tells its consumer: readings, failed polls, and the state of the line itself."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

FailureKind = Literal["timeout", "crc", "exception", "decode", "io"]
"""timeout: no byte came back (a silent device); crc: bytes came back but no valid frame (line noise,
a broken CRC); exception: the device answered with a Modbus exception; decode: registers that do not
make a number; io: the connection broke during the request."""


@dataclass(frozen=True, slots=True)
class Reading:
    bus_id: str
    sensor_id: str
    unit: int
    values: dict[str, float]
    at: datetime
    monotonic: float


@dataclass(frozen=True, slots=True)
class PollFailed:
    bus_id: str
    sensor_id: str
    unit: int
    kind: FailureKind
    detail: str
    at: datetime
    monotonic: float
    consecutive: int


@dataclass(frozen=True, slots=True)
class BusState:
    bus_id: str
    connected: bool
    detail: str
    at: datetime
    attempt: int = 0


@dataclass(frozen=True, slots=True)
class CycleDone:
    """Every sensor of the bus was polled once; ``started`` is the clock's monotonic time at the start."""

    bus_id: str
    cycle: int
    started: float
    lag_s: float


BusEvent = Reading | PollFailed | BusState | CycleDone


@dataclass(slots=True)
class SensorStats:
    """Counters per sensor, for health: a sensor that stops answering shows here before anywhere else."""

    polls: int = 0
    ok: int = 0
    timeouts: int = 0
    crc_errors: int = 0
    exceptions: int = 0
    decode_errors: int = 0
    io_errors: int = 0
    consecutive_failures: int = 0
    last_ok: datetime | None = None
    last_failure: str | None = None

    def as_dict(self) -> dict[str, object]:
        return {
            "polls": self.polls,
            "ok": self.ok,
            "timeouts": self.timeouts,
            "crc_errors": self.crc_errors,
            "exceptions": self.exceptions,
            "decode_errors": self.decode_errors,
            "io_errors": self.io_errors,
            "consecutive_failures": self.consecutive_failures,
            "last_ok": self.last_ok.isoformat() if self.last_ok else None,
            "last_failure": self.last_failure,
        }


@dataclass(slots=True)
class BusStats:
    connects: int = 0
    disconnects: int = 0
    cycles: int = 0
    late_cycles: int = 0
    jitter_s: list[float] = field(default_factory=list)
