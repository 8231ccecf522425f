"""The Modbus runner: one configured sensor bus polled, its readings fed to the cold-chain alarms.

Readings become telemetry and ``TempReading`` events for the site's rules; the alarms the
cold-chain logic returns (``edge.rules.coldchain``, pure) are appended to the journal in order, and
what follows an alarm (the zone's stock held, a work order) is the site's rules' doing (the rules
runner, ``edge.rules.runner``, sees the ``temp_alarm`` op). The bus's state shows in health; this
module only moves events.
"""

from __future__ import annotations

import asyncio
from decimal import Decimal

from pydantic import TypeAdapter, ValidationError

from drivers.modbus import BusEvent, BusState, ModbusBus, ModbusConfigError, PollFailed, Reading, parse_bus_options
from edge.config import Device
from edge.context import EdgeContext
from edge.health import Status
from edge.rules.coldchain import ColdChainRules, RuleOptions
from edge.rules.events import TempReading
from edge.store.errors import OpRejected
from sync.codes import Code
from sync.ops import OpDraft, OpKind, TempAlarmPayload

_CODE: TypeAdapter[str] = TypeAdapter(Code)


class ColdChainRunner:
    """One configured Modbus bus (a ``[[devices]]`` entry of kind ``modbus``) feeding the rules."""

    def __init__(self, device: Device, ctx: EdgeContext) -> None:
        opts = dict(device.options)
        try:
            rules = RuleOptions.model_validate(opts.pop("rules", {}))
        except ValidationError as exc:
            err = exc.errors()[0]
            raise ModbusConfigError(".".join(map(str, ("options.rules", *err["loc"]))), err["msg"]) from None
        self.bus_options = parse_bus_options(opts)
        for i, sensor in enumerate(self.bus_options.sensors):
            try:  # a sensor id names the sensor in ops (temp_alarm.sensor_id): it must be a master-data code
                _CODE.validate_python(sensor.id)
            except ValidationError as exc:
                raise ModbusConfigError(f"options.sensors.{i}.id", exc.errors()[0]["msg"]) from None
        self.device = device
        self.ctx = ctx
        self.component = f"device:{device.id}"
        self.rules = ColdChainRules(
            ctx.master.zones,
            rules,
            device_id=device.id,
            poll_interval_s=self.bus_options.poll_interval_s,
            location=device.location,
        )
        now = ctx.clock.monotonic()
        for s in self.bus_options.sensors:
            zone = s.zone or device.zone
            if zone is None or zone not in ctx.master.zones:
                raise ModbusConfigError(f"options.sensors.{s.id}.zone", f"unknown or missing zone {zone!r}")
            self.rules.add_sensor(s.id, zone, now)
        self._restore_alarms()
        self.cycles = 0
        self.bus: ModbusBus | None = None
        self._progress = asyncio.Condition()

    def _restore_alarms(self) -> None:
        after = 0
        while batch := self.ctx.journal.entries(after=after, limit=1000, kind=OpKind.TEMP_ALARM):
            for entry in batch:
                op = entry.op()
                if op.device_id == self.device.id and isinstance(op.payload, TempAlarmPayload):
                    self.rules.restore(op.payload, op.op_id)
            after = batch[-1].seq

    async def run(self) -> None:
        async with ModbusBus(self.device.id, self.bus_options, clock=self.ctx.clock) as bus:
            self.bus = bus
            async with asyncio.TaskGroup() as tg:
                tg.create_task(self._tick_forever(), name=f"coldchain-tick:{self.device.id}")
                async for ev in bus.events():
                    await self._handle(ev)

    async def wait_cycles(self, n: int, timeout: float = 10.0) -> None:
        """Wait until ``n`` polling cycles are fully handled (journal included); for tests and tools."""
        async with self._progress:
            await asyncio.wait_for(self._progress.wait_for(lambda: self.cycles >= n), timeout)

    async def _tick_forever(self) -> None:
        while True:
            await self.ctx.clock.sleep(self.bus_options.poll_interval_s)
            await self._append(self.rules.tick(self.ctx.clock.now(), self.ctx.clock.monotonic()))

    async def _handle(self, ev: BusEvent) -> None:
        if isinstance(ev, Reading):
            for name, value in ev.values.items():
                self.ctx.telemetry.record(f"{ev.sensor_id}/{name}", value, ev.at)
            await self._append(self.rules.observe(ev.sensor_id, ev.values, ev.at, ev.monotonic))
            await self._fire_reading(ev)
        elif isinstance(ev, PollFailed):
            if ev.consecutive in (1, 3) or ev.consecutive % 100 == 0:
                self.ctx.log.warning(
                    "modbus.poll_failed",
                    bus=ev.bus_id,
                    sensor=ev.sensor_id,
                    kind=ev.kind,
                    detail=ev.detail,
                    consecutive=ev.consecutive,
                )
        elif isinstance(ev, BusState):
            self.ctx.log.info(
                "modbus.bus_state", bus=ev.bus_id, connected=ev.connected, detail=ev.detail, attempt=ev.attempt
            )
        else:
            await self._append(self.rules.tick(self.ctx.clock.now(), self.ctx.clock.monotonic()))
            async with self._progress:
                self.cycles += 1
                self._progress.notify_all()
        self._report_health()

    def _report_health(self) -> None:
        bus = self.bus
        if bus is None:
            return
        failing = sorted(sid for sid, st in bus.stats.items() if st.consecutive_failures >= 3)
        alarms = self.rules.active_alarms()
        status: Status
        if not bus.connected:
            status, detail = "down", f"bus {self.bus_options.target} not connected"
        elif failing:
            status, detail = "degraded", f"silent or failing sensors: {', '.join(failing)}"
        else:
            status, detail = "ok", f"{len(bus.stats)} sensors answering"
        self.ctx.health.set(
            self.component,
            status,
            detail,
            self.ctx.clock.now(),
            kind="modbus",
            sensors={sid: st.as_dict() for sid, st in bus.stats.items()},
            alarms=[f"{s}:{k}" for s, k in alarms],
            cycles=bus.bus_stats.cycles,
        )

    async def _fire_reading(self, ev: Reading) -> None:
        """The reading as a ``TempReading`` event for the site's rules (those ``on = "temp_reading"``)."""
        runner, zone = self.ctx.rules, self.rules.zone_of(ev.sensor_id)
        if runner is None or zone is None or not runner.current.by_on.get(TempReading.name):
            return  # no rule is on readings: nothing to evaluate
        z = self.ctx.master.zones.get(zone)
        t, h = ev.values.get("temperature"), ev.values.get("humidity")
        event = TempReading(
            zone=zone,
            sensor_id=ev.sensor_id,
            temperature_c=None if t is None else Decimal(str(round(t, 3))),
            humidity_pct=None if h is None else Decimal(str(round(h, 3))),
            temp_min_c=None if z is None or z.temp_min_c is None else Decimal(str(z.temp_min_c)),
            temp_max_c=None if z is None or z.temp_max_c is None else Decimal(str(z.temp_max_c)),
            occurred_at=ev.at,
            actor=f"device:{self.device.id}",
        )
        try:
            await runner.fire(event)
        except OpRejected as exc:
            self.ctx.log.warning("coldchain.rule_not_fired", sensor=ev.sensor_id, code=exc.code, message=exc.message)

    async def _append(self, drafts: list[OpDraft]) -> None:
        for draft in drafts:
            try:
                await self.ctx.journal.append(draft)
            except OpRejected as exc:  # stock moved between the look-up and the hold: logged, not fatal
                self.ctx.log.warning("coldchain.op_rejected", kind=draft.kind.value, code=exc.code, message=exc.message)


async def run_modbus_device(device: Device, ctx: EdgeContext) -> None:
    """Runner for ``kind = "modbus"`` devices (see ``edge.capture.runners``): one bus, polled until cancelled."""
    await ColdChainRunner(device, ctx).run()
