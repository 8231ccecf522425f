"""Simulated XY-MD02-style sensors on one line, served by pymodbus' own server (not our driver).

Register map (as the common SHT20 RS-485 sensor): input registers (fn 04) 1 = temperature x10 signed,
2 = %RH x10; holding (fn 03) 0x0101 = address, 0x0102 = baud code. The same values are mirrored at
holding 1 and 2 for clones read with fn 03.

Faults on command, per sensor: ``stuck`` (the value freezes), ``out_of_range`` (the register reads
0x7FFF, what many sensors send on a broken probe), ``no_reply`` (silent, like a dead RS-485 slave),
``crc`` (the reply goes out with a broken CRC; on TCP, with a broken length).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

from pymodbus.constants import ExcCodes
from pymodbus.simulator import DataType, SimData, SimDevice

from firmware_sim.modbus.model import Forced, RoomModel, clock_fn

Fault = Literal["stuck", "out_of_range", "no_reply", "crc"]


def _to_reg(value: float) -> int:
    raw = round(value * 10)
    raw = max(-32768, min(32767, raw))
    return raw & 0xFFFF


@dataclass
class SimSensor:
    unit: int
    model: RoomModel = field(default_factory=RoomModel)
    time_fn: Callable[[], float] | None = None
    faults: set[Fault] = field(default_factory=set)
    forced: Forced = field(default_factory=Forced)
    requests: int = 0
    _stuck: tuple[int, int] | None = None

    def __post_init__(self) -> None:
        self._now = clock_fn(self.time_fn)

    def set_fault(self, fault: Fault, on: bool = True) -> None:
        if on:
            if fault == "stuck":
                self._stuck = self.registers()
            self.faults.add(fault)
        else:
            self.faults.discard(fault)

    def clear_faults(self) -> None:
        self.faults.clear()
        self._stuck = None

    def force(self, temperature: float | None = None, humidity: float | None = None) -> None:
        self.forced = Forced(temperature, humidity)

    def registers(self) -> tuple[int, int]:
        """The (temperature, humidity) registers as the device would answer now."""
        if "stuck" in self.faults and self._stuck is not None:
            return self._stuck
        if "out_of_range" in self.faults:
            return 0x7FFF, 0x7FFF
        t = self._now()
        temp = self.forced.temperature if self.forced.temperature is not None else self.model.temperature(t)
        hum = self.forced.humidity if self.forced.humidity is not None else self.model.humidity(t)
        return _to_reg(temp), _to_reg(max(0.0, min(100.0, hum)))

    async def _action(
        self,
        function_code: int,
        start_address: int,
        address: int,
        count: int,
        current_registers: list[int],
        set_values: list[int] | list[bool] | None,
    ) -> ExcCodes | None:
        """Refresh the measured registers just before pymodbus reads them."""
        self.requests += 1
        temp, hum = self.registers()
        if start_address <= 1 and start_address + len(current_registers) > 2:
            current_registers[1 - start_address] = temp
            current_registers[2 - start_address] = hum
        return None

    def device(self) -> SimDevice:
        return SimDevice(
            id=self.unit,
            simdata=(
                [SimData(0, count=16, values=False, datatype=DataType.BITS)],
                [SimData(0, count=16, values=False, datatype=DataType.BITS)],
                [
                    SimData(0, count=8, values=0, datatype=DataType.REGISTERS),
                    SimData(0x0100, count=4, values=[0, self.unit, 3, 0], datatype=DataType.REGISTERS),
                ],
                [SimData(0, count=8, values=0, datatype=DataType.REGISTERS)],
            ),
            action=self._action,
        )
