"""Floor events a rule can be ``on`` besides op kinds: facts that are not (yet) stock changes.

Each event is a small typed record; its fields are the symbols a rule's ``when`` and templates may
use, checked when the rules are loaded. The runners that see these facts (pick confirmation, QC, the
cold-chain poller, the webhook outbox, the work-order clock) build them; the engine only reads them.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field

from sync.codes import Code


def _now() -> datetime:
    return datetime.now(UTC)


class Event(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: ClassVar[str]
    occurred_at: datetime = Field(default_factory=_now)
    actor: str = "system"


class TempReading(Event):
    """One reading of a zone's sensor (the cold-chain thresholds are rules on these)."""

    name: ClassVar[str] = "temp_reading"
    zone: Code
    sensor_id: Code
    temperature_c: Decimal | None = None
    humidity_pct: Decimal | None = None
    temp_min_c: Decimal | None = None
    temp_max_c: Decimal | None = None


class ShortPick(Event):
    name: ClassVar[str] = "short_pick"
    order_id: Code
    sku: Code
    lot: str = ""
    location: Code
    wanted: int = Field(gt=0)
    picked: int = Field(ge=0)


class WrongItem(Event):
    """A scan refused at pick confirmation or outbound check (wrong location, item or lot)."""

    name: ClassVar[str] = "wrong_item"
    order_id: Code | None = None
    expected: str
    scanned: str
    location: Code | None = None
    check: Literal["location", "item", "lot", "outbound"]


class DamagedGoods(Event):
    name: ClassVar[str] = "damaged_goods"
    sku: Code
    lot: str = ""
    location: Code
    qty: int = Field(gt=0)
    note: str = ""


class QcResult(Event):
    name: ClassVar[str] = "qc_result"
    sku: Code
    lot: str = ""
    location: Code
    qty: int = Field(gt=0)
    result: Literal["pass", "hold", "reject"]
    reason_code: str = ""
    asn_id: Code | None = None


class HandoffFailed(Event):
    """A carrier webhook refused for good (4xx other than 408/429, or retries exhausted)."""

    name: ClassVar[str] = "handoff_failed"
    order_id: Code
    endpoint: str
    attempts: int = Field(ge=1)
    status: int | None = None


class TaskChanged(Event):
    name: ClassVar[str] = "task_changed"
    task_id: Code
    task_type: str
    state: Literal["open", "assigned", "in_progress", "done", "cancelled", "failed"]
    zone: Code | None = None
    location: Code | None = None
    assignee: str | None = None


class WorkOrderDue(Event):
    """A work order's SLA ran out (the work-order clock raises one per escalation level)."""

    name: ClassVar[str] = "work_order_due"
    work_order_id: Code
    wo_type: str
    assignee_role: str
    overdue_minutes: int = Field(ge=0)
    level: int = Field(ge=1)
    zone: Code | None = None


EVENTS: dict[str, type[Event]] = {
    e.name: e
    for e in (TempReading, ShortPick, WrongItem, DamagedGoods, QcResult, HandoffFailed, TaskChanged, WorkOrderDue)
}
