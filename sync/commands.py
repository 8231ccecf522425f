"""Commands from the cloud to a gateway: one typed body per command type.

The cloud validates a body against its model when a planner posts it (a bad body is refused naming the
field) and the gateway validates it again before applying it, so both sides read the same shape. Each
type has one model here; a new command type is a new model and a new entry in ``COMMAND_BODIES``.
"""

from __future__ import annotations

from datetime import date
from typing import Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, model_validator

from sync.codes import Code
from sync.masterdata import InboundOrder, Location, Operator, OrderLine, OutboundOrder, Record, Sku, Zone
from sync.ops import Qty

CommandType = Literal["master_data", "transfer_order", "rule", "transport_task", "outbound_order"]


class MasterDataCommand(Record):
    """Records to upsert on the gateway, by their code (or id); what is not named stays as it is."""

    skus: list[Sku] = Field(default_factory=list, max_length=100_000)
    zones: list[Zone] = Field(default_factory=list, max_length=10_000)
    locations: list[Location] = Field(default_factory=list, max_length=100_000)
    operators: list[Operator] = Field(default_factory=list, max_length=10_000)
    inbound_orders: list[InboundOrder] = Field(default_factory=list, max_length=10_000)
    outbound_orders: list[OutboundOrder] = Field(default_factory=list, max_length=10_000)

    @property
    def record_count(self) -> int:
        return sum(len(getattr(self, name)) for name in type(self).model_fields)


class TransferOrderCommand(Record):
    """Move stock from one warehouse to another: sent to the source gateway, which picks and ships it."""

    transfer_id: Code
    from_warehouse: Code
    to_warehouse: Code
    lines: list[OrderLine] = Field(min_length=1, max_length=10_000)
    ship_by: date | None = None
    eta: AwareDatetime | None = Field(default=None, description="When the goods are due at the destination.")
    carrier: str = Field(default="", max_length=64)
    note: str = Field(default="", max_length=500)

    @model_validator(mode="after")
    def _two_warehouses(self) -> TransferOrderCommand:
        if self.from_warehouse == self.to_warehouse:
            raise ValueError("from_warehouse and to_warehouse must differ")
        return self


class RuleAction(BaseModel):
    """One action of a rule: ``do`` names it; the rules engine reads the rest of its keys."""

    model_config = ConfigDict(extra="allow", frozen=True)

    do: Code


class RuleSpec(Record):
    """A site rule: on an op kind or event, when a condition holds, do the actions."""

    id: Code
    on: str = Field(min_length=1, max_length=64, description="An op kind or an event name.")
    when: str = Field(default="true", max_length=4000, description="A condition in the rules' expression language.")
    then: list[RuleAction] = Field(min_length=1, max_length=50)
    enabled: bool = True


class RuleSetCommand(Record):
    """A rule set for the gateway's rules engine (the whole set: it replaces the one in force)."""

    rules: list[RuleSpec] = Field(max_length=10_000)


class TransportTaskCommand(Record):
    """Move a handling unit between two stations with an AGV."""

    task_id: Code
    handling_unit: Code
    sku: Code
    qty: Qty
    lot: str = Field(default="", max_length=64)
    from_location: Code
    to_location: Code
    priority: int = Field(default=5, ge=0, le=9, description="0 is the most urgent.")

    @model_validator(mode="after")
    def _two_places(self) -> TransportTaskCommand:
        if self.from_location == self.to_location:
            raise ValueError("from_location and to_location must differ")
        return self


class OutboundOrderCommand(OutboundOrder):
    """An order to ship from this gateway's warehouse (the cloud routed it here)."""

    cut_off: AwareDatetime | None = Field(default=None, description="The carrier's collection time for it.")


CommandBody = MasterDataCommand | TransferOrderCommand | RuleSetCommand | TransportTaskCommand | OutboundOrderCommand

COMMAND_BODIES: dict[str, type[Record]] = {
    "master_data": MasterDataCommand,
    "transfer_order": TransferOrderCommand,
    "rule": RuleSetCommand,
    "transport_task": TransportTaskCommand,
    "outbound_order": OutboundOrderCommand,
}
"""The body model of each command type."""


class UnknownCommandType(ValueError):
    """A command type this version does not know."""


def parse_command_body(command_type: str, body: Any) -> Record:
    """Validate ``body`` as the body of a ``command_type`` command (pydantic's ``ValidationError`` if bad)."""
    model = COMMAND_BODIES.get(command_type)
    if model is None:
        raise UnknownCommandType(f"unknown command type {command_type!r}; known: {', '.join(COMMAND_BODIES)}")
    return model.model_validate(body)
