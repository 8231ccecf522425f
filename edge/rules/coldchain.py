"""Cold-chain alarms: Modbus readings become telemetry, and sustained breaches become ``temp_alarm`` ops.

Per zone, the site config gives the limits (``temp_min_c``/``temp_max_c``/``humidity_max_pct``); the
device's ``options.rules`` gives hysteresis, the minimum duration and staleness. A limit must be
breached without a break for ``min_duration_s`` before an alarm is raised (so readings flapping
around the limit raise nothing), and an alarm clears only once the value is back inside by the
hysteresis for ``clear_duration_s``. This is signal conditioning, with state per sensor, which a
stateless rule condition cannot do; what the site does about an alarm is a rule of the site's rule
set (``edge.rules``, one mechanism): the built-in ``default.toml`` has ``cold-chain-excursion``,
which on the alarm that opens a zone's excursion

1. puts every available stock line of the zone on ``qc_hold`` (``alarm_op_id`` links them),
2. opens one work order (``temp_excursion``) for the zone's supervisor.

A second sensor's alarm in a zone whose excursion is open says so (``joins_excursion``), so the rule
holds and opens nothing twice. Stock stays held after the alarm clears: only a person releases it
(``edge.floor.holds.release_zone``). A sensor silent for ``stale_after_s`` raises its own ``stale``
alarm (the ``cold-chain-sensor-stale`` rule opens a work order, without holding stock: an unknown
temperature is not an excursion). Implausible values (a broken probe's 0x7FFF) are recorded once as
an ``exception`` op and otherwise ignored, so a stuck-high probe reads as silence, not as heat.

``ColdChainRules`` is pure (readings and time in, ``OpDraft`` out): the Modbus runner
(``edge.capture.modbus``) feeds it, appends what it returns and hands every reading to the rules
runner as a ``TempReading`` event, for site rules on raw readings.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from sync.masterdata import Zone
from sync.ops import AlarmState, ExceptionPayload, OpDraft, TempAlarmPayload

AlarmKind = Literal["temp_high", "temp_low", "humidity_high", "humidity_low"]
SYSTEM_ACTOR = "system"


class RuleOptions(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    hysteresis_c: float = Field(default=0.5, ge=0)
    hysteresis_pct: float = Field(default=2.0, ge=0)
    min_duration_s: float = Field(default=300.0, ge=0, description="Breach this long before alarming.")
    clear_duration_s: float = Field(default=60.0, ge=0, description="Back inside this long before clearing.")
    stale_after_s: float | None = Field(default=None, gt=0, description="Default: 3 poll intervals, >= 60 s.")
    humidity_min_pct: float | None = None
    plausible_c: tuple[float, float] = (-60.0, 90.0)
    plausible_pct: tuple[float, float] = (0.0, 100.0)


@dataclass(frozen=True, slots=True)
class HoldLine:
    """A stock line a hold would freeze (or a release free): what a rule's ``hold_stock`` acts on."""

    sku: str
    lot: str
    location: str
    qty: int


@dataclass(slots=True)
class _Limit:
    kind: AlarmKind
    quantity: str  # the point name: temperature or humidity
    limit: float
    high: bool
    hysteresis: float
    out_since: float | None = None
    out_since_at: datetime | None = None
    in_since: float | None = None
    raised: bool = False


@dataclass(slots=True)
class _SensorState:
    zone: str
    limits: list[_Limit]
    last_valid: float
    stale: bool = False
    implausible: set[str] = field(default_factory=set)


class ColdChainRules:
    """Readings and time in, op drafts out. No I/O: the runner appends what it returns, in order."""

    def __init__(
        self,
        zones: Mapping[str, Zone],
        options: RuleOptions,
        *,
        device_id: str,
        poll_interval_s: float = 10.0,
        location: str | None = None,
    ) -> None:
        self.zones = zones
        self.options = options
        self.device_id = device_id
        self.location = location
        self.stale_after_s = options.stale_after_s or max(60.0, 3 * poll_interval_s)
        self._sensors: dict[str, _SensorState] = {}
        self.excursions: dict[str, str] = {}  # zone -> op_id of the alarm that opened the excursion

    def add_sensor(self, sensor_id: str, zone: str, now: float) -> None:
        z = self.zones[zone]
        o = self.options
        limits: list[_Limit] = []
        for kind, quantity, value, high, hyst in (
            ("temp_high", "temperature", z.temp_max_c, True, o.hysteresis_c),
            ("temp_low", "temperature", z.temp_min_c, False, o.hysteresis_c),
            ("humidity_high", "humidity", z.humidity_max_pct, True, o.hysteresis_pct),
            ("humidity_low", "humidity", o.humidity_min_pct, False, o.hysteresis_pct),
        ):
            if value is not None:
                limits.append(_Limit(kind, quantity, float(value), high, hyst))  # type: ignore[arg-type]
        self._sensors[sensor_id] = _SensorState(zone, limits, last_valid=now)

    def restore(self, payload: TempAlarmPayload, op_id: uuid.UUID) -> None:
        """Replay a journaled alarm (oldest first) so a restarted gateway does not raise it twice."""
        st = self._sensors.get(payload.sensor_id)
        if st is None or st.zone != payload.zone:
            return
        raised = payload.state == AlarmState.RAISED
        if payload.alarm == "stale":
            st.stale = raised
            return
        for lim in st.limits:
            if lim.kind == payload.alarm:
                lim.raised, lim.out_since_at, lim.in_since = raised, payload.since, None
        if raised:
            self.excursions.setdefault(st.zone, str(op_id))
        elif not any(k != "stale" for _, k in self.active_alarms(st.zone)):
            self.excursions.pop(st.zone, None)

    def zone_of(self, sensor_id: str) -> str | None:
        st = self._sensors.get(sensor_id)
        return None if st is None else st.zone

    def active_alarms(self, zone: str | None = None) -> list[tuple[str, str]]:
        out: list[tuple[str, str]] = []
        for sid, st in self._sensors.items():
            if zone is None or st.zone == zone:
                out += [(sid, lim.kind) for lim in st.limits if lim.raised]
                out += [(sid, "stale")] if st.stale else []
        return out

    def observe(self, sensor_id: str, values: Mapping[str, float], at: datetime, now: float) -> list[OpDraft]:
        st = self._sensors[sensor_id]
        drafts: list[OpDraft] = []
        plausible: dict[str, float] = {}
        for name, v in values.items():
            lo, hi = self.options.plausible_pct if name == "humidity" else self.options.plausible_c
            if lo <= v <= hi:
                plausible[name] = v
                st.implausible.discard(name)
            elif name not in st.implausible:
                st.implausible.add(name)
                drafts.append(
                    self._draft(
                        ExceptionPayload(
                            code="sensor_out_of_range",
                            location=self.location,
                            ref=f"{sensor_id}/{name}",
                            detail=f"{sensor_id} {name} read {v}, outside {lo}..{hi}: reading ignored",
                        ),
                        at,
                    )
                )
        if not plausible:
            return drafts
        st.last_valid = now
        if st.stale:
            st.stale = False
            drafts.append(self._alarm(sensor_id, st.zone, "stale", AlarmState.CLEARED, None, None, None, at))
        for lim in st.limits:
            v_or_none = plausible.get(lim.quantity)
            if v_or_none is not None:
                drafts += self._step(sensor_id, st, lim, v_or_none, at, now)
        return drafts

    def _step(self, sensor_id: str, st: _SensorState, lim: _Limit, v: float, at: datetime, now: float) -> list[OpDraft]:
        breach = v > lim.limit if lim.high else v < lim.limit
        back_in = v <= lim.limit - lim.hysteresis if lim.high else v >= lim.limit + lim.hysteresis
        if not lim.raised:
            if not breach:
                lim.out_since = lim.out_since_at = None
                return []
            if lim.out_since is None:
                lim.out_since, lim.out_since_at = now, at
            if now - lim.out_since < self.options.min_duration_s:
                return []
            lim.raised, lim.in_since = True, None
            return self._raise(sensor_id, st.zone, lim, v, at)
        if not back_in:
            lim.in_since = None
            return []
        if lim.in_since is None:
            lim.in_since = now
        if now - lim.in_since < self.options.clear_duration_s:
            return []
        lim.raised, lim.out_since, lim.out_since_at = False, None, None
        drafts = [self._alarm(sensor_id, st.zone, lim.kind, AlarmState.CLEARED, v, lim.limit, None, at)]
        if not any(k != "stale" for _, k in self.active_alarms(st.zone)):
            self.excursions.pop(st.zone, None)  # the excursion is over; the stock stays held for a person
        return drafts

    def _raise(self, sensor_id: str, zone: str, lim: _Limit, v: float, at: datetime) -> list[OpDraft]:
        joins = zone in self.excursions  # one excursion, one hold, one work order, however many sensors see it
        alarm = self._alarm(
            sensor_id, zone, lim.kind, AlarmState.RAISED, v, lim.limit, lim.out_since_at, at, joins=joins
        )
        if not joins:
            self.excursions[zone] = str(alarm.op_id)
        return [alarm]

    def tick(self, at: datetime, now: float) -> list[OpDraft]:
        """Time passes: a sensor without a valid reading for ``stale_after_s`` raises ``stale``."""
        drafts: list[OpDraft] = []
        for sid, st in self._sensors.items():
            if not st.stale and now - st.last_valid >= self.stale_after_s:
                st.stale = True
                drafts.append(self._alarm(sid, st.zone, "stale", AlarmState.RAISED, None, None, None, at))
        return drafts

    def _alarm(
        self,
        sensor_id: str,
        zone: str,
        kind: str,
        state: AlarmState,
        value: float | None,
        limit: float | None,
        since: datetime | None,
        at: datetime,
        *,
        joins: bool = False,
    ) -> OpDraft:
        payload = TempAlarmPayload.model_validate(
            {
                "zone": zone,
                "sensor_id": sensor_id,
                "alarm": kind,
                "state": state,
                "since": since,
                "value": None if value is None else Decimal(str(round(value, 3))),
                "limit": None if limit is None else Decimal(str(limit)),
                "joins_excursion": True if joins else None,
            }
        )
        return self._draft(payload, at)

    def _draft(self, payload: Any, at: datetime) -> OpDraft:
        return OpDraft(payload=payload, actor=SYSTEM_ACTOR, device_id=self.device_id, occurred_at=at)
