"""Reader options, validated once at the edge: a bad option names its key instead of failing later."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Any

from drivers.rfid.errors import RfidConfigError


@dataclass(frozen=True, slots=True, kw_only=True)
class ReaderOptions:
    """How to reach and drive one fixed reader.

    ``report_every_n`` and ``report_every_ms`` map to the ROSpec: a report after N tags
    (ROReportTrigger Upon_N_Tags_Or_End_Of_AISpec) and/or an AISpec of T ms restarted by a periodic
    start trigger, which is how LLRP 1.0.1 expresses "report at least every T ms".
    ``tx_power_dbm`` is matched to the nearest entry of the reader's own power table at connect.
    """

    host: str
    port: int = 5084
    antennas: tuple[int, ...] = (1,)
    tx_power_dbm: float | None = None
    report_every_n: int = 0
    report_every_ms: int = 200
    rospec_id: int = 1
    keepalive_ms: int = 5000
    dead_after_keepalives: int = 3
    connect_timeout_s: float = 5.0
    response_timeout_s: float = 5.0
    backoff_initial_s: float = 0.5
    backoff_max_s: float = 30.0
    reset_to_factory_default: bool = False

    def __post_init__(self) -> None:
        if not self.host:
            raise RfidConfigError("host", "is required")
        if not 0 < self.port < 65536:
            raise RfidConfigError("port", f"{self.port} is not a TCP port")
        if not self.antennas or any(not 0 < a < 65536 for a in self.antennas):
            raise RfidConfigError("antennas", "give one or more antenna ids (1..65535)")
        if self.report_every_n < 0 or self.report_every_n > 0xFFFF:
            raise RfidConfigError("report_every_n", "must be 0..65535")
        if self.report_every_ms < 0:
            raise RfidConfigError("report_every_ms", "must not be negative")
        if self.report_every_n == 0 and self.report_every_ms == 0:
            raise RfidConfigError("report_every_ms", "set report_every_n or report_every_ms, or no report comes")
        if not 0 < self.rospec_id < 2**32:
            raise RfidConfigError("rospec_id", "must be 1..2^32-1")
        if self.keepalive_ms < 0 or self.dead_after_keepalives < 1:
            raise RfidConfigError("keepalive_ms", "keepalive_ms >= 0 and dead_after_keepalives >= 1")
        for name in ("connect_timeout_s", "response_timeout_s", "backoff_initial_s", "backoff_max_s"):
            if getattr(self, name) <= 0:
                raise RfidConfigError(name, "must be positive")

    @property
    def target(self) -> str:
        return f"{self.host}:{self.port}"

    @property
    def dead_after_s(self) -> float | None:
        """Silence after which the link is declared dead (None when keepalives are off)."""
        return self.keepalive_ms * self.dead_after_keepalives / 1000 if self.keepalive_ms else None


_NAMES = frozenset(f.name for f in fields(ReaderOptions))


def parse_reader_options(options: Mapping[str, Any]) -> ReaderOptions:
    """Options from a site config's ``[devices.options]`` table; unknown keys are refused by name."""
    unknown = sorted(set(options) - _NAMES)
    if unknown:
        raise RfidConfigError(unknown[0], f"unknown option (known: {', '.join(sorted(_NAMES))})")
    values = dict(options)
    if "host" not in values:
        raise RfidConfigError("host", "is required")
    if "antennas" in values:
        ants = values["antennas"]
        if isinstance(ants, int) and not isinstance(ants, bool):
            ants = [ants]
        if not isinstance(ants, list | tuple) or not all(isinstance(a, int) and not isinstance(a, bool) for a in ants):
            raise RfidConfigError("antennas", "must be a list of integers")
        values["antennas"] = tuple(ants)
    for key, value in values.items():
        expected = {"host": str, "reset_to_factory_default": bool}.get(key)
        if expected is not None and not isinstance(value, expected):
            raise RfidConfigError(key, f"must be a {expected.__name__}")
        if (
            expected is None
            and key != "antennas"
            and value is not None
            and (isinstance(value, bool) or not isinstance(value, int | float))
        ):
            raise RfidConfigError(key, "must be a number")
    try:
        return ReaderOptions(**values)
    except TypeError as exc:
        raise RfidConfigError("options", str(exc)) from None
