"""Transport tasks (move a handling unit from one station to another) and the ops a finished one implies.

A task is retried, not lost: when its AGV fails before the pick, it goes back to the queue with one more
attempt; after the pick the handling unit is on the vehicle, so the task fails explicitly and an
exception op says where the unit is. A delivered task records one ``move`` op.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from sync.ops import ExceptionPayload, MovePayload, OpDraft


class TaskStatus(StrEnum):
    WAITING = "waiting"
    ASSIGNED = "assigned"
    PICKED = "picked"
    DONE = "done"
    FAILED = "failed"


@dataclass
class TransportTask:
    task_id: str
    handling_unit: str
    sku: str
    qty: int
    from_location: str
    to_location: str
    lot: str = ""
    status: TaskStatus = TaskStatus.WAITING
    vehicle: str | None = None
    attempts: int = 0
    history: list[tuple[float, str]] = field(default_factory=list)
    created_at: float = 0.0
    """Simulated clock, for throughput."""
    created_perf: float = 0.0
    """Real time (perf_counter), only to measure the master's own latency to the order."""
    ordered_perf: float | None = None
    done_at: float | None = None
    pick_action: str = ""
    drop_action: str = ""

    def note(self, at: float, event: str) -> None:
        self.history.append((at, event))

    @property
    def finished(self) -> bool:
        return self.status in (TaskStatus.DONE, TaskStatus.FAILED)

    def move_op(self, serial: str, at: datetime) -> OpDraft:
        payload = MovePayload(
            sku=self.sku,
            lot=self.lot,
            from_location=self.from_location,
            to_location=self.to_location,
            qty=self.qty,
            handling_unit=self.handling_unit,
            task_id=self.task_id,
        )
        return OpDraft(payload=payload, actor=f"device:{serial}", device_id=serial, occurred_at=at)

    def stranded_op(self, serial: str, at: datetime, reason: str) -> OpDraft:
        payload = ExceptionPayload(
            code="agv_load_stranded",
            detail=f"task {self.task_id}: {reason}"[:1000],
            location=self.from_location,
            ref=self.handling_unit,
        )
        return OpDraft(payload=payload, actor=f"device:{serial}", device_id=serial, occurred_at=at)
