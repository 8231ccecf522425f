"""The simulator's room model and fault switches, on its own time source."""

from __future__ import annotations

from firmware_sim.modbus import RoomModel, SimSensor


def test_door_spike_rises_then_decays() -> None:
    room = RoomModel(setpoint=4.0, noise_c=0.0, door_spike_c=4.0, door_tau_s=60)
    room.open_door(at=100, seconds=60)
    assert room.temperature(50) == 4.0
    assert room.temperature(130) == 6.0  # half-way through the opening
    assert room.temperature(160) == 8.0
    assert 4.0 < room.temperature(400) < 4.1  # closed for four time constants


def test_compressor_failure_warms_towards_ambient() -> None:
    room = RoomModel(setpoint=4.0, ambient=24.0, tau_s=600, noise_c=0.0)
    room.fail_compressor(at=0)
    temps = [room.temperature(t) for t in (0, 300, 600, 3600)]
    assert temps == sorted(temps) and temps[0] == 4.0 and 23.9 < temps[-1] < 24.0
    room.repair_compressor()
    assert room.temperature(3600) == 4.0


def test_fault_switches() -> None:
    now = [0.0]
    room = RoomModel(setpoint=4.0, drift_c_per_h=3.6, noise_c=0.0)
    sensor = SimSensor(unit=1, model=room, time_fn=lambda: now[0])
    assert sensor.registers()[0] == 40
    sensor.set_fault("stuck")
    now[0] = 1000.0  # +1 C of drift, but the value is frozen
    assert sensor.registers()[0] == 40
    sensor.clear_faults()
    assert sensor.registers()[0] == 50
    sensor.set_fault("out_of_range")
    assert sensor.registers() == (0x7FFF, 0x7FFF)
    sensor.clear_faults()
    sensor.force(temperature=-20.5)
    assert sensor.registers()[0] == 0xFF33
