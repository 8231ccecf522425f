"""What a rule may ask for: typed actions, with ``{symbol}`` templates filled from the op or event.

A string field marked as a template may name the subject's fields in braces (``"excursion in
{zone}"``); the names are checked when the rules load, and filled when a rule fires (a missing value
becomes an empty string). The engine only says what should happen; the floor runner turns each
firing's actions into ops (a task, a hold, a work order, a webhook, an AGV transport).
"""

from __future__ import annotations

from typing import Annotated, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field

TaskType = Literal["receive", "qc", "putaway", "replenish", "pick", "pack", "check", "count", "move", "transport"]
Scope = Literal["op", "zone", "location"]


class _Action(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    templates: ClassVar[tuple[str, ...]] = ()
    """The fields whose text may name the subject's symbols in braces."""


class CreateTask(_Action):
    action: Literal["create_task"]
    task: TaskType
    zone: str | None = Field(default=None, max_length=200)
    location: str | None = Field(default=None, max_length=200)
    role: str = Field(default="operator", max_length=32, description="Who may take it (operators by role and zone).")
    priority: int = Field(default=5, ge=1, le=9, description="1 most urgent.")
    note: str = Field(default="", max_length=500)
    templates: ClassVar[tuple[str, ...]] = ("zone", "location", "note")


class HoldStock(_Action):
    """Freeze available stock: the op's own lines, a whole zone or one location."""

    action: Literal["hold_stock"]
    scope: Scope = "op"
    zone: str | None = Field(default=None, max_length=200)
    location: str | None = Field(default=None, max_length=200)
    reason: str = Field(min_length=1, max_length=200)
    templates: ClassVar[tuple[str, ...]] = ("zone", "location", "reason")


class ReleaseStock(_Action):
    """Unfreeze held stock (only rules a site trusts should do this: a person's release is the norm)."""

    action: Literal["release_stock"]
    scope: Scope = "op"
    zone: str | None = Field(default=None, max_length=200)
    location: str | None = Field(default=None, max_length=200)
    to_status: Literal["available", "damaged"] = "available"
    note: str = Field(default="", max_length=500)
    templates: ClassVar[tuple[str, ...]] = ("zone", "location", "note")


class OpenWorkOrder(_Action):
    action: Literal["open_work_order"]
    wo_type: str = Field(min_length=1, max_length=64)
    role: str = Field(default="supervisor", max_length=32, description="The role it is routed to.")
    sla_minutes: int = Field(default=60, gt=0, le=7 * 24 * 60)
    zone: str | None = Field(default=None, max_length=200)
    location: str | None = Field(default=None, max_length=200)
    description: str = Field(default="", max_length=1000)
    templates: ClassVar[tuple[str, ...]] = ("zone", "location", "description")


class Notify(_Action):
    """A webhook through the gateway's durable outbox; ``webhook`` names a configured endpoint."""

    action: Literal["notify"]
    webhook: str = Field(min_length=1, max_length=64)
    event: str = Field(min_length=1, max_length=64, pattern=r"^[a-z0-9_.\-]+$")
    message: str = Field(default="", max_length=1000)
    templates: ClassVar[tuple[str, ...]] = ("message",)


class AgvTransport(_Action):
    action: Literal["agv_transport"]
    from_location: str = Field(min_length=1, max_length=200)
    to_location: str = Field(min_length=1, max_length=200)
    priority: int = Field(default=5, ge=1, le=9)
    load: str = Field(default="", max_length=200, description="Load id (a handling unit or SSCC).")
    templates: ClassVar[tuple[str, ...]] = ("from_location", "to_location", "load")


Action = Annotated[
    CreateTask | HoldStock | ReleaseStock | OpenWorkOrder | Notify | AgvTransport, Field(discriminator="action")
]
