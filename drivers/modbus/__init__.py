"""Modbus RTU/TCP temperature and humidity sensors (pymodbus 3.x client).

Knows nothing of warehouses: it turns register maps into typed readings and reports line trouble.
"""

from drivers.modbus.bus import ModbusBus
from drivers.modbus.errors import BusClosed, BusUnavailable, DecodeError, ModbusConfigError, ModbusDriverError
from drivers.modbus.events import BusEvent, BusState, CycleDone, PollFailed, Reading, SensorStats
from drivers.modbus.options import XY_MD02, BusOptions, SensorOptions, parse_bus_options
from drivers.modbus.registers import PointSpec, decode, read_blocks

__all__ = [
    "XY_MD02",
    "BusClosed",
    "BusEvent",
    "BusOptions",
    "BusState",
    "BusUnavailable",
    "CycleDone",
    "DecodeError",
    "ModbusBus",
    "ModbusConfigError",
    "ModbusDriverError",
    "PointSpec",
    "PollFailed",
    "Reading",
    "SensorOptions",
    "SensorStats",
    "decode",
    "parse_bus_options",
    "read_blocks",
]
