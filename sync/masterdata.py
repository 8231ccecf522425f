"""Master data: the catalogue a site works against (zones, locations, SKUs, operators, orders).

One model per record, used by the gateway's site config, by the ``master_data`` command the cloud sends
and by the edge store that keeps it. Records are strict (unknown keys are refused) and frozen.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from sync.codes import Code, gtin_check_digit
from sync.roles import PersonRole, Role


class Record(BaseModel):
    """Base of every master-data record: unknown keys are an error, values never change in place."""

    # as a response every field is present, so the document marks them required (inputs keep their defaults)
    model_config = ConfigDict(extra="forbid", frozen=True, json_schema_serialization_defaults_required=True)


TemperatureClass = Literal["ambient", "chilled", "frozen", "controlled"]


class Zone(Record):
    code: Code
    name: str = Field(default="", max_length=200)
    temperature_class: TemperatureClass = "ambient"
    temp_min_c: Decimal | None = None
    temp_max_c: Decimal | None = None
    humidity_max_pct: Decimal | None = None
    supervisor: str | None = Field(default=None, max_length=64)

    @model_validator(mode="after")
    def _limits_ordered(self) -> Zone:
        if self.temp_min_c is not None and self.temp_max_c is not None and self.temp_min_c >= self.temp_max_c:
            raise ValueError("temp_min_c must be below temp_max_c")
        return self


LocationType = Literal["dock", "staging", "rack", "floor", "pick_face", "pack_station", "qc", "charger"]


class Location(Record):
    code: Code
    zone: Code
    type: LocationType = "rack"
    capacity: int = Field(default=0, ge=0, le=10**12, description="Base units it holds; 0 means unlimited.")
    x: float = Field(default=0.0, allow_inf_nan=False, ge=-1e6, le=1e6)
    y: float = Field(default=0.0, allow_inf_nan=False, ge=-1e6, le=1e6)


class Sku(Record):
    code: Code
    gtin: str | None = Field(
        default=None,
        pattern=r"^\d{14}$",
        description="GTIN-14 (pad GTIN-13/12/8 with leading zeros); none for an item without a barcode.",
    )
    name: str = Field(default="", max_length=200)
    base_unit: str = Field(default="EA", min_length=1, max_length=16)
    length_mm: int = Field(default=0, ge=0, le=10**9)
    width_mm: int = Field(default=0, ge=0, le=10**9)
    height_mm: int = Field(default=0, ge=0, le=10**9)
    weight_g: int = Field(default=0, ge=0, le=10**12)
    temperature_class: TemperatureClass = "ambient"
    hazmat_class: str | None = Field(default=None, max_length=32)
    lot_tracked: bool = False
    category: str | None = Field(default=None, max_length=64)
    cost_price: Decimal | None = Field(
        default=None, ge=0, le=Decimal("1e12"), decimal_places=4, description="Visible to admin and planner roles only."
    )
    currency: str = Field(default="CNY", pattern=r"^[A-Z]{3}$", description="ISO 4217 code of cost_price.")
    supplier: str | None = Field(default=None, max_length=200, description="Visible to admin and planner roles only.")

    @field_validator("gtin")
    @classmethod
    def _check_digit(cls, v: str | None) -> str | None:
        if v is None:
            return v
        expected = gtin_check_digit(v[:13])
        if v[13] != expected:
            raise ValueError(f"GTIN {v} has a bad check digit (it should end in {expected})")
        return v


class Operator(Record):
    id: Code
    name: str = Field(default="", max_length=200)
    badge_uid: str | None = Field(default=None, pattern=r"^[0-9A-F]{8,20}$")
    roles: list[PersonRole] = Field(default_factory=lambda: [Role.OPERATOR])
    zones: list[Code] = Field(
        default_factory=list, max_length=1000, description="Zones whose tasks they take; empty means every zone."
    )
    pin_hash: str | None = Field(
        default=None,
        max_length=512,
        pattern=r"^\$argon2(id|i|d)\$",
        description="Argon2 hash of the handheld PIN (`wims edge operator pin-hash`); never the PIN itself.",
    )


class OrderLine(Record):
    line: int = Field(ge=1, le=1_000_000)
    sku: Code
    qty: int = Field(gt=0, le=10**12)
    lot: str = Field(default="", max_length=64)


class InboundOrder(Record):
    id: Code
    supplier: str = Field(default="", max_length=200)
    dock: Code | None = None
    lines: list[OrderLine] = Field(min_length=1)


class OutboundOrder(Record):
    id: Code
    customer: str = Field(default="", max_length=200)
    carrier: str = Field(default="", max_length=64)
    lines: list[OrderLine] = Field(min_length=1)
