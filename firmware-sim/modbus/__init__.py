"""Simulated Modbus temperature/humidity sensors (pymodbus server), for tests, demos and benchmarks."""

from firmware_sim.modbus.line import PtyNullModem, SensorLine, free_port
from firmware_sim.modbus.model import RoomModel
from firmware_sim.modbus.sensors import Fault, SimSensor

__all__ = ["Fault", "PtyNullModem", "RoomModel", "SensorLine", "SimSensor", "free_port"]
