"""The order as the cloud takes it in (API body, import row) and as it answers with its routing."""

from __future__ import annotations

from datetime import date

from pydantic import BaseModel, ConfigDict, Field

from sync.codes import Code
from sync.masterdata import OrderLine
from sync.times import UtcDateTime


class OrderIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    order_id: Code
    region: Code = Field(description="The customer's delivery region (carrier service lanes serve regions).")
    customer: str = Field(default="", max_length=200)
    lines: list[OrderLine] = Field(min_length=1, max_length=1000)


class OrderBatchIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    orders: list[OrderIn] = Field(min_length=1, max_length=1000)


class ShipmentOut(BaseModel):
    model_config = ConfigDict(json_schema_serialization_defaults_required=True)

    warehouse: str
    gateway_id: str | None = Field(description="The gateway the outbound_order command went to.")
    command_id: str | None
    carrier: str
    lines: list[OrderLine]
    ship_date: date
    delivery_date: date
    cost: float


class OrderOut(BaseModel):
    model_config = ConfigDict(json_schema_serialization_defaults_required=True)

    order_id: str
    region: str
    customer: str
    lines: list[OrderLine]
    status: str = Field(description="routed (one warehouse), split, partial (some back-ordered), unroutable.")
    reason_code: str
    reason: str
    reason_zh: str
    backorder: list[OrderLine]
    shipments: list[ShipmentOut]
    source: str
    created_at: UtcDateTime
    created_by: str


class OrderPage(BaseModel):
    model_config = ConfigDict(json_schema_serialization_defaults_required=True)

    items: list[OrderOut]
    next_after: int | None = Field(description="Pass as `after` for the next page; null at the end.")
