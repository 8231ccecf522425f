"""Bus and sensor options, validated once at start so a bad site config names the bad key.

One bus is one physical line: an RS-485 port (RTU, several sensors in turn) or one Modbus TCP
endpoint (a sensor, or a gateway that fans out to unit ids). The register map is per sensor.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from drivers.modbus.errors import ModbusConfigError
from drivers.modbus.registers import PointSpec

XY_MD02: tuple[PointSpec, ...] = (
    PointSpec(name="temperature", function=4, address=1, data_type="int16", scale=0.1),
    PointSpec(name="humidity", function=4, address=2, data_type="uint16", scale=0.1),
)
"""The common SHT20 RS-485 sensor: input registers 1 (C x10, signed) and 2 (%RH x10)."""


class SensorOptions(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(min_length=1, max_length=64, description="The sensor's name in readings and logs.")
    unit: int = Field(ge=0, le=247, description="Modbus device id (slave address).")
    zone: str | None = None
    points: tuple[PointSpec, ...] = XY_MD02


class BusOptions(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    transport: Literal["rtu", "tcp"]
    port: str | None = Field(default=None, description="RTU: serial device, or socket://host:port.")
    baudrate: int = Field(default=9600, gt=0)
    parity: Literal["N", "E", "O"] = "N"
    stopbits: Literal[1, 2] = 1
    bytesize: Literal[7, 8] = 8
    host: str | None = Field(default=None, description="TCP: address of the sensor or gateway.")
    tcp_port: int = Field(default=502, ge=1, le=65535)
    timeout_s: float = Field(default=0.5, gt=0, le=30)
    retries: int = Field(default=1, ge=0, le=5, description="Re-asks before a poll counts as failed.")
    poll_interval_s: float = Field(default=10.0, gt=0)
    inter_request_delay_s: float = Field(
        default=0.005, ge=0, description="Quiet time between frames on RTU, above the 3.5-character gap."
    )
    backoff_initial_s: float = Field(default=1.0, gt=0)
    backoff_max_s: float = Field(default=60.0, gt=0)
    sensors: tuple[SensorOptions, ...] = Field(min_length=1)

    @model_validator(mode="after")
    def _endpoint(self) -> BusOptions:
        if self.transport == "rtu" and not self.port:
            raise ValueError("an rtu bus needs 'port'")
        if self.transport == "tcp" and not self.host:
            raise ValueError("a tcp bus needs 'host'")
        seen: set[tuple[int, str]] = set()
        for s in self.sensors:
            if (s.unit, s.id) in seen:
                raise ValueError(f"sensor {s.id!r} listed twice")
            seen.add((s.unit, s.id))
        units = [s.unit for s in self.sensors]
        if len(set(units)) != len(units):
            raise ValueError("two sensors share one unit id on this bus")
        if self.backoff_max_s < self.backoff_initial_s:
            raise ValueError("backoff_max_s must be >= backoff_initial_s")
        return self

    @property
    def target(self) -> str:
        return f"{self.host}:{self.tcp_port}" if self.transport == "tcp" else str(self.port)


def parse_bus_options(options: dict[str, Any], prefix: str = "options") -> BusOptions:
    """Validate a device's options; the error names the first bad key as ``prefix.path``."""
    try:
        return BusOptions.model_validate(options)
    except ValidationError as exc:
        err = exc.errors()[0]
        where = ".".join(str(p) for p in (prefix, *err["loc"]))
        raise ModbusConfigError(where, err["msg"].removeprefix("Value error, ")) from None
