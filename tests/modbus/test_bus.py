"""The bus against the pymodbus-server simulator over a real pty pair (RTU) and real TCP sockets."""

from __future__ import annotations

import asyncio
import random
import time

from drivers.modbus import BusState, CycleDone, ModbusBus, PollFailed, Reading, parse_bus_options
from firmware_sim.modbus import PtyNullModem, SensorLine, SimSensor, free_port
from tests.modbus.helpers import collect, rtu_options


def _readings(events: list[object]) -> list[Reading]:
    return [e for e in events if isinstance(e, Reading)]


async def test_shared_rtu_bus_reads_every_sensor_without_collisions() -> None:
    """Five sensors on one line, polled in turn: every reply is whole and belongs to its sensor."""
    sensors = [SimSensor(unit=u) for u in range(1, 6)]
    for s in sensors:
        s.force(temperature=-20.5 + s.unit, humidity=40.0 + s.unit)
    async with PtyNullModem() as cable:
        line = await SensorLine(sensors).start_rtu(cable.device_path)
        try:
            opts = parse_bus_options(rtu_options(cable.host_path, [1, 2, 3, 4, 5]))
            async with ModbusBus("rs485-1", opts) as bus:
                events = await collect(bus, lambda ev: sum(isinstance(e, CycleDone) for e in ev) >= 3)
        finally:
            await line.stop()
    readings = _readings(events)
    assert len(readings) == 15
    for r in readings:
        assert r.values == {"temperature": -20.5 + r.unit, "humidity": 40.0 + r.unit}
    assert all(bus.stats[f"T{u}"].ok == 3 and bus.stats[f"T{u}"].consecutive_failures == 0 for u in range(1, 6))


async def test_silent_sensor_and_crc_errors_are_counted_not_fatal() -> None:
    good, silent, noisy = SimSensor(unit=1), SimSensor(unit=2), SimSensor(unit=3)
    silent.set_fault("no_reply")
    noisy.set_fault("crc")
    async with PtyNullModem() as cable:
        line = await SensorLine([good, silent, noisy]).start_rtu(cable.device_path)
        try:
            opts = parse_bus_options(rtu_options(cable.host_path, [1, 2, 3]))
            async with ModbusBus("rs485-1", opts) as bus:
                await collect(bus, lambda ev: sum(isinstance(e, CycleDone) for e in ev) >= 3)
                assert bus.stats["T1"].ok == 3
                assert bus.stats["T2"].timeouts == 3 and bus.stats["T2"].crc_errors == 0
                assert bus.stats["T3"].crc_errors == 3 and bus.stats["T3"].timeouts == 0
                assert line.replies_corrupted >= 3
                noisy.clear_faults()  # the line recovers: the same bus reads the sensor again
                events = await collect(bus, lambda ev: any(isinstance(e, Reading) and e.unit == 3 for e in ev))
                assert bus.connected
        finally:
            await line.stop()
    fails = [e for e in events if isinstance(e, PollFailed)]
    assert all(f.sensor_id == "T2" and f.kind == "timeout" for f in fails)


async def test_line_noise_between_frames_is_survived() -> None:
    sensor = SimSensor(unit=1)
    sensor.force(temperature=4.2)
    async with PtyNullModem() as cable:
        line = await SensorLine([sensor]).start_rtu(cable.device_path)
        try:
            async with ModbusBus("rs485-1", parse_bus_options(rtu_options(cable.host_path, [1]))) as bus:
                await collect(bus, lambda ev: len(_readings(ev)) >= 1)
                cable.inject_to_host(b"\x00\xff\x13\x37garbage")
                events = await collect(bus, lambda ev: len(_readings(ev)) >= 3)
        finally:
            await line.stop()
    assert _readings(events)[-1].values["temperature"] == 4.2


async def test_stuck_and_out_of_range_values_come_through_as_read() -> None:
    """The driver reports what the device says; judging plausibility is the rules' job."""
    sensor = SimSensor(unit=1)
    sensor.set_fault("out_of_range")
    line = await SensorLine([sensor]).start_tcp()
    try:
        opts = parse_bus_options(
            {
                "transport": "tcp",
                "host": "127.0.0.1",
                "tcp_port": line.port,
                "poll_interval_s": 0.05,
                "sensors": [{"id": "T1", "unit": 1}],
            }
        )
        async with ModbusBus("tcp-1", opts) as bus:
            events = await collect(bus, lambda ev: len(_readings(ev)) >= 1)
    finally:
        await line.stop()
    assert _readings(events)[0].values["temperature"] == 3276.7


async def test_tcp_device_lost_reconnects_with_doubling_backoff() -> None:
    port = free_port()
    sensor = SimSensor(unit=1)
    sensor.force(temperature=3.3)
    opts = parse_bus_options(
        {
            "transport": "tcp",
            "host": "127.0.0.1",
            "tcp_port": port,
            "poll_interval_s": 0.05,
            "timeout_s": 0.2,
            "retries": 0,
            "backoff_initial_s": 0.02,
            "backoff_max_s": 0.08,
            "sensors": [{"id": "T1", "unit": 1}],
        }
    )
    assert [ModbusBus("x", opts).backoff(n) for n in (1, 2, 3, 4, 5)] == [0.02, 0.04, 0.08, 0.08, 0.08]
    async with ModbusBus("tcp-1", opts) as bus:
        # nobody listens yet: the bus keeps retrying, reporting each attempt
        events = await collect(bus, lambda ev: sum(isinstance(e, BusState) for e in ev) >= 4)
        assert [e.attempt for e in events if isinstance(e, BusState)][:4] == [1, 2, 3, 4]
        line = await SensorLine([sensor]).start_tcp(port=port)
        try:
            await collect(bus, lambda ev: len(_readings(ev)) >= 2)
        finally:
            await line.stop()
        events = await collect(bus, lambda ev: any(isinstance(e, BusState) and not e.connected for e in ev))
        assert not bus.connected
        line = await SensorLine([sensor]).start_tcp(port=port)
        try:
            events = await collect(bus, lambda ev: len(_readings(ev)) >= 1)
        finally:
            await line.stop()
    assert bus.bus_stats.connects >= 2
    assert _readings(events)[0].values["temperature"] == 3.3


async def test_unplugged_serial_port_reconnects() -> None:
    """The USB-RS485 adapter is pulled: the port disappears, the bus retries until it is back."""
    sensor = SimSensor(unit=1)
    async with PtyNullModem() as cable:
        opts = parse_bus_options(rtu_options("/nonexistent/ttyUSB9", [1]))
        async with ModbusBus("rs485-1", opts) as bus:
            events = await collect(bus, lambda ev: sum(isinstance(e, BusState) for e in ev) >= 2)
            assert all(isinstance(e, BusState) and not e.connected for e in events)
        line = await SensorLine([sensor]).start_rtu(cable.device_path)
        try:
            async with ModbusBus("rs485-1", parse_bus_options(rtu_options(cable.host_path, [1]))) as bus:
                await collect(bus, lambda ev: len(_readings(ev)) >= 1)
        finally:
            await line.stop()
    await asyncio.sleep(0)


async def test_random_garbage_on_the_line_never_stops_the_bus() -> None:
    """Bursts of random bytes (a chattering transceiver, a wrong baud rate) between and into replies."""
    rng = random.Random(6)
    sensors = [SimSensor(unit=1), SimSensor(unit=2)]
    for s in sensors:
        s.force(temperature=1.5 * s.unit)
    async with PtyNullModem() as cable:
        line = await SensorLine(sensors).start_rtu(cable.device_path)
        try:
            opts = parse_bus_options(rtu_options(cable.host_path, [1, 2], poll_interval_s=0.05))
            async with ModbusBus("rs485-1", opts) as bus:
                for _ in range(25):
                    cable.inject_to_host(rng.randbytes(rng.randint(1, 40)))
                    await asyncio.sleep(rng.uniform(0, 0.03))
                quiet = time.monotonic()
                events = await collect(bus, lambda ev: {e.unit for e in _readings(ev) if e.monotonic > quiet} == {1, 2})
                assert bus.connected
        finally:
            await line.stop()
    assert {r.unit: r.values["temperature"] for r in _readings(events)} == {1: 1.5, 2: 3.0}


async def test_rtu_framing_over_a_socket() -> None:
    """RTU frames over TCP (``socket://``), as serial device servers (Moxa-style) expose RS-485 lines."""
    sensor = SimSensor(unit=4)
    sensor.force(temperature=6.6)
    port = free_port()
    line = await SensorLine([sensor]).start_rtu(f"socket://127.0.0.1:{port}")
    try:
        opts = parse_bus_options(rtu_options(f"socket://127.0.0.1:{port}", [4]))
        async with ModbusBus("rtu-over-tcp", opts) as bus:
            events = await collect(bus, lambda ev: len(_readings(ev)) >= 2)
    finally:
        await line.stop()
    assert [r.values["temperature"] for r in _readings(events)] == [6.6, 6.6]


async def test_tcp_device_that_accepts_but_never_answers_backs_off() -> None:
    """A hung TCP sensor keeps its socket open but answers nothing: reconnects slow down, doubling."""
    sensor = SimSensor(unit=1)
    sensor.set_fault("no_reply")
    line = await SensorLine([sensor]).start_tcp()
    try:
        opts = parse_bus_options(
            {
                "transport": "tcp",
                "host": "127.0.0.1",
                "tcp_port": line.port,
                "poll_interval_s": 0.02,
                "timeout_s": 0.03,
                "retries": 0,
                "backoff_initial_s": 0.02,
                "backoff_max_s": 0.08,
                "sensors": [{"id": "T1", "unit": 1}],
            }
        )
        async with ModbusBus("tcp-hung", opts) as bus:
            events = await collect(bus, lambda ev: sum(isinstance(e, BusState) and not e.connected for e in ev) >= 3)
            assert bus.stats["T1"].timeouts >= 3 and bus.stats["T1"].ok == 0
    finally:
        await line.stop()
    lost = [e.attempt for e in events if isinstance(e, BusState) and not e.connected]
    assert lost == [1, 2, 3]
