"""Cold chain end to end over a real pty and real TCP: simulated sensors, the real bus, the real journal.

Time is a ManualClock: the simulator's room model and the bus schedule both follow it, so ten minutes
of a failing compressor take a second. The Modbus traffic itself is real.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any

import pytest

from edge.capture.modbus import ColdChainRunner
from edge.config import Device
from edge.context import EdgeContext
from edge.floor.holds import ReleaseRefused, release_zone
from edge.rules.runner import FloorTasks, RulesRunner
from firmware_sim.modbus import PtyNullModem, RoomModel, SensorLine, SimSensor
from sync.clock import ManualClock
from sync.ops import Op, OpKind, QcHoldPayload, TempAlarmPayload, WorkOrderPayload


def ops(ctx: EdgeContext, kind: OpKind) -> list[Op]:
    return [e.op() for e in ctx.journal.entries(kind=kind, limit=10_000)]


def stock(ctx: EdgeContext, status: str) -> dict[tuple[str, str, str], int]:
    return {(s.sku, s.lot, s.location): s.qty for s in ctx.journal.stock(status=status)}


@contextlib.asynccontextmanager
async def running(runner: ColdChainRunner) -> AsyncIterator[ColdChainRunner]:
    # what follows an alarm is the site's rules' doing: the gateway's rules runner runs beside the bus
    rules = RulesRunner(runner.ctx, floor=FloorTasks(runner.ctx))
    await rules.start()
    tasks = [asyncio.create_task(runner.run()), asyncio.create_task(rules.run())]
    try:
        await runner.wait_cycles(1)
        yield runner
        await rules.settled()
    finally:
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task


async def advance(clock: ManualClock, runner: ColdChainRunner, seconds: int, step: int = 10) -> None:
    for _ in range(seconds // step):
        target = runner.cycles + 1
        await clock.advance(step)
        await runner.wait_cycles(target)


def bus_device(options: dict[str, Any]) -> Device:
    return Device(id="rs485-cold", kind="modbus", zone="CHILL-A", options=options)


async def test_compressor_failure_holds_exactly_that_zone_and_flapping_raises_nothing(ctx: EdgeContext) -> None:
    clock = ctx.clock
    assert isinstance(clock, ManualClock)
    room_a = RoomModel(setpoint=4.0, ambient=25.0, tau_s=600, noise_c=0.0)
    room_a.fail_compressor(at=60)  # crosses 8 C about two minutes later, and keeps warming
    failing = SimSensor(unit=1, model=room_a, time_fn=clock.monotonic)
    flapping = SimSensor(unit=2, time_fn=clock.monotonic)
    async with PtyNullModem() as cable:
        line = await SensorLine([failing, flapping]).start_rtu(cable.device_path)
        try:
            device = bus_device(
                {
                    "transport": "rtu",
                    "port": cable.host_path,
                    "poll_interval_s": 10,
                    "timeout_s": 0.3,
                    "rules": {"min_duration_s": 300, "hysteresis_c": 0.5},
                    "sensors": [{"id": "TA1", "unit": 1}, {"id": "TB1", "unit": 2, "zone": "CHILL-B"}],
                }
            )
            runner = ColdChainRunner(device, ctx)
            async with running(runner):
                for i in range(60):  # ten minutes; zone B's sensor flaps across its 8 C limit every poll
                    flapping.force(temperature=8.1 if i % 2 else 7.9)
                    await advance(clock, runner, 10)
            # the gateway restarts mid-excursion: the alarm comes back from the journal, not a second time
            runner = ColdChainRunner(device, ctx)
            assert runner.rules.active_alarms() == [("TA1", "temp_high")]
            async with running(runner):
                for i in range(40):
                    flapping.force(temperature=8.1 if i % 2 else 7.9)
                    await advance(clock, runner, 10)
        finally:
            await line.stop()

    alarms = ops(ctx, OpKind.TEMP_ALARM)
    assert [
        (a.payload.sensor_id, a.payload.alarm, a.payload.state.value)
        for a in alarms  # type: ignore[union-attr]
    ] == [("TA1", "temp_high", "raised")]
    holds = ops(ctx, OpKind.QC_HOLD)
    assert {(h.payload.location, h.payload.qty) for h in holds} == {("A-01", 40), ("A-02", 25)}  # type: ignore[union-attr]
    assert all(isinstance(h.payload, QcHoldPayload) and h.payload.alarm_op_id == alarms[0].op_id for h in holds)
    assert stock(ctx, "available") == {("MILK", "L2", "B-01"): 30}  # zone B untouched
    assert stock(ctx, "qc_hold") == {("MILK", "L1", "A-01"): 40, ("YOGH", "", "A-02"): 25}
    (wo,) = ops(ctx, OpKind.WORK_ORDER)
    # the work order is the floor's (ctx.floor): routed to the supervisor role with an SLA, one per fact;
    # it names no person at opening (the old cold-chain code named the zone's supervisor, sup1)
    assert isinstance(wo.payload, WorkOrderPayload) and wo.payload.assignee_role == "supervisor"
    assert wo.payload.wo_type == "temp_excursion" and wo.payload.zone == "CHILL-A"
    assert all(a.actor == "system" and a.device_id == "rs485-cold" for a in [*alarms, *holds, wo])
    assert ctx.telemetry.pending >= 2 * 60  # every reading went to the telemetry buffer
    assert await ctx.telemetry.flush() >= 120

    # release needs a person with the supervisor role, and is recorded under that person
    with pytest.raises(ReleaseRefused):
        await release_zone(ctx, "CHILL-A", actor="op1")
    released = await release_zone(
        ctx, "CHILL-A", actor="sup1", note="probe checked, product ok", work_order_id=wo.payload.work_order_id
    )
    assert [op.kind for op in released] == [OpKind.QC_RELEASE, OpKind.QC_RELEASE, OpKind.WORK_ORDER]
    assert all(op.actor == "sup1" for op in released)
    assert stock(ctx, "qc_hold") == {}


async def test_dead_sensor_raises_stale_and_degrades_health(ctx: EdgeContext) -> None:
    clock = ctx.clock
    assert isinstance(clock, ManualClock)
    alive, dying = SimSensor(unit=1, time_fn=clock.monotonic), SimSensor(unit=2, time_fn=clock.monotonic)
    line = await SensorLine([alive, dying]).start_tcp()
    try:
        runner = ColdChainRunner(
            bus_device(
                {
                    "transport": "tcp",
                    "host": "127.0.0.1",
                    "tcp_port": line.port,
                    "poll_interval_s": 10,
                    "timeout_s": 0.1,
                    "retries": 0,
                    "rules": {"stale_after_s": 60},
                    "sensors": [{"id": "TA1", "unit": 1}, {"id": "TA2", "unit": 2}],
                }
            ),
            ctx,
        )
        async with running(runner):
            await advance(clock, runner, 30)
            dying.set_fault("no_reply")
            await advance(clock, runner, 90)
            health = ctx.health.get("device:rs485-cold")
            assert health is not None and health.status == "degraded" and "TA2" in health.detail
            assert health.facts["sensors"]["TA2"]["timeouts"] >= 3
            dying.clear_faults()
            await advance(clock, runner, 20)
    finally:
        await line.stop()
    alarms = [a.payload for a in ops(ctx, OpKind.TEMP_ALARM)]
    assert all(isinstance(a, TempAlarmPayload) for a in alarms)
    assert [(a.sensor_id, a.alarm, a.state.value) for a in alarms] == [  # type: ignore[union-attr]
        ("TA2", "stale", "raised"),
        ("TA2", "stale", "cleared"),
    ]
    (wo,) = ops(ctx, OpKind.WORK_ORDER)
    assert isinstance(wo.payload, WorkOrderPayload) and wo.payload.wo_type == "sensor_stale"
    assert ops(ctx, OpKind.QC_HOLD) == []


async def test_out_of_range_probe_is_an_exception_op_not_an_excursion(ctx: EdgeContext) -> None:
    clock = ctx.clock
    assert isinstance(clock, ManualClock)
    sensor = SimSensor(unit=1, time_fn=clock.monotonic)
    sensor.set_fault("out_of_range")
    line = await SensorLine([sensor]).start_tcp()
    try:
        runner = ColdChainRunner(
            bus_device(
                {
                    "transport": "tcp",
                    "host": "127.0.0.1",
                    "tcp_port": line.port,
                    "poll_interval_s": 10,
                    "rules": {"min_duration_s": 0, "stale_after_s": 600},
                    "sensors": [{"id": "TA1", "unit": 1}],
                }
            ),
            ctx,
        )
        async with running(runner):
            await advance(clock, runner, 60)
    finally:
        await line.stop()
    assert [op.payload.code for op in ops(ctx, OpKind.EXCEPTION)] == ["sensor_out_of_range"] * 2  # type: ignore[union-attr]
    assert ops(ctx, OpKind.TEMP_ALARM) == [] and ops(ctx, OpKind.QC_HOLD) == []
