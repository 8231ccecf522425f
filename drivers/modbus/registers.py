"""Register maps: where a value lives on a device and how its 16-bit words become a number.

Pure functions only, so the decoding can be fuzzed without a bus. Clones of the same sensor differ in
function code, address, scaling and word order, which is why all of it is data, never code.
"""

from __future__ import annotations

import math
import struct
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from drivers.modbus.errors import DecodeError

DataType = Literal["int16", "uint16", "int32", "uint32", "float32"]

_WORDS: dict[str, int] = {"int16": 1, "uint16": 1, "int32": 2, "uint32": 2, "float32": 2}
_FORMATS: dict[str, str] = {"int16": ">h", "uint16": ">H", "int32": ">i", "uint32": ">I", "float32": ">f"}


class PointSpec(BaseModel):
    """One measured quantity of a sensor: its register, type and scaling (value = raw * scale + offset)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(min_length=1, max_length=32, description="e.g. temperature, humidity")
    function: Literal[3, 4] = Field(default=4, description="3 = holding registers, 4 = input registers")
    address: int = Field(ge=0, le=0xFFFF)
    data_type: DataType = "int16"
    signed: bool | None = Field(default=None, description="Shorthand: false turns int16 into uint16.")
    scale: float = 0.1
    offset: float = 0.0
    word_order: Literal["big", "little"] = "big"

    @model_validator(mode="after")
    def _signedness(self) -> PointSpec:
        if self.signed is False and self.data_type in ("int16", "int32"):
            object.__setattr__(self, "data_type", "u" + self.data_type)
        elif self.signed is True and self.data_type in ("uint16", "uint32"):
            object.__setattr__(self, "data_type", self.data_type[1:])
        return self

    @property
    def count(self) -> int:
        return _WORDS[self.data_type]


def decode(spec: PointSpec, registers: list[int]) -> float:
    """Turn the registers read for ``spec`` into an engineering value; raises ``DecodeError``."""
    if len(registers) != spec.count:
        raise DecodeError(f"{spec.name}: expected {spec.count} registers, got {len(registers)}")
    if any(not 0 <= r <= 0xFFFF for r in registers):
        raise DecodeError(f"{spec.name}: register out of 16-bit range: {registers}")
    words = registers if spec.word_order == "big" else list(reversed(registers))
    raw_bytes = b"".join(w.to_bytes(2, "big") for w in words)
    (raw,) = struct.unpack(_FORMATS[spec.data_type], raw_bytes)
    value = round(float(raw) * spec.scale + spec.offset, 9)  # 0.1 steps without float dust
    if not math.isfinite(value):
        raise DecodeError(f"{spec.name}: not a finite number ({raw!r})")
    return value


def read_blocks(points: list[PointSpec], max_gap: int = 4) -> list[tuple[int, int, int, list[PointSpec]]]:
    """Group points into as few reads as possible: (function, start, count, points) per request.

    Neighbouring registers of one function are read together (an XY-MD02 gives temperature and
    humidity in one request), which halves the bus time per sensor.
    """
    blocks: list[tuple[int, int, int, list[PointSpec]]] = []
    for fn in (3, 4):
        pts = sorted((p for p in points if p.function == fn), key=lambda p: p.address)
        for p in pts:
            if blocks and blocks[-1][0] == fn:
                f, start, count, members = blocks[-1]
                end = p.address + p.count
                if p.address <= start + count + max_gap and end - start <= 125:
                    blocks[-1] = (f, start, max(count, end - start), [*members, p])
                    continue
            blocks.append((fn, p.address, p.count, [p]))
    return blocks
