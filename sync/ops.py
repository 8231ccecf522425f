"""The operation: the unit of record on the edge and the unit of sync to the cloud.

Every stock change or auditable event is one op. The set of kinds is closed: each kind has one typed
payload model, selected by the ``kind`` field (a pydantic discriminated union), so edge, cloud and any
outside system agree on the exact shape. Quantities are integers in the SKU's base unit; measured
values (temperatures) are ``Decimal`` so that the canonical encoding never depends on float printing.
"""

from __future__ import annotations

import os
import secrets
import threading
import time
import uuid
from datetime import UTC, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import (
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    ModelWrapValidatorHandler,
    field_validator,
    model_validator,
)

from sync.codes import Code

Qty = Annotated[int, Field(gt=0, le=10**12)]
"""A positive quantity in the SKU's base unit."""

SignedQty = Annotated[int, Field(ge=-(10**12), le=10**12)]


class StockStatus(StrEnum):
    """Where a quantity stands. Frozen stock is qc_hold plus damaged; reserved is held against available."""

    AVAILABLE = "available"
    RESERVED = "reserved"
    QC_HOLD = "qc_hold"
    DAMAGED = "damaged"


class OpKind(StrEnum):
    RECEIVE = "receive"
    PUTAWAY = "putaway"
    MOVE = "move"
    QC_HOLD = "qc_hold"
    QC_RELEASE = "qc_release"
    RESERVE = "reserve"
    UNRESERVE = "unreserve"
    PICK = "pick"
    PACK = "pack"
    SHIP = "ship"
    TRANSFER_OUT = "transfer_out"
    TRANSFER_IN = "transfer_in"
    ADJUST = "adjust"
    COUNT = "count"
    TEMP_ALARM = "temp_alarm"
    WORK_ORDER = "work_order"
    COMMAND_APPLIED = "command_applied"
    SESSION = "session"
    EXCEPTION = "exception"
    TASK = "task"
    RULE_FIRED = "rule_fired"


class _Payload(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class _StockRef(_Payload):
    sku: Code
    lot: str = Field(default="", max_length=64, description="Batch/lot; empty when the SKU is not lot-tracked.")


class ReceivePayload(_StockRef):
    """Goods arrive at a location, normally against an inbound order (ASN) line."""

    kind: Literal[OpKind.RECEIVE] = OpKind.RECEIVE
    location: Code
    qty: Qty
    status: Literal[StockStatus.AVAILABLE, StockStatus.QC_HOLD] = StockStatus.AVAILABLE
    asn_id: Code | None = None
    asn_line: int | None = Field(default=None, ge=1)
    sscc: str | None = Field(default=None, pattern=r"^\d{18}$")
    serials: list[str] = Field(default_factory=list, max_length=10_000)
    expiry: str | None = Field(default=None, pattern=r"^\d{4}-\d{2}-\d{2}$")


class MovePayload(_StockRef):
    """Stock changes location, keeping its status (``putaway`` is the same shape after receiving)."""

    kind: Literal[OpKind.MOVE] = OpKind.MOVE
    from_location: Code
    to_location: Code
    qty: Qty
    status: StockStatus = StockStatus.AVAILABLE
    handling_unit: str | None = Field(default=None, max_length=64)
    task_id: str | None = Field(default=None, max_length=64)

    @model_validator(mode="after")
    def _distinct_locations(self) -> MovePayload:
        if self.from_location == self.to_location:
            raise ValueError("from_location and to_location must differ")
        return self


class PutawayPayload(MovePayload):
    kind: Literal[OpKind.PUTAWAY] = OpKind.PUTAWAY  # type: ignore[assignment]


class QcHoldPayload(_StockRef):
    """Freeze available stock (inbound QC, temperature excursion, suspected damage)."""

    kind: Literal[OpKind.QC_HOLD] = OpKind.QC_HOLD
    location: Code
    qty: Qty
    reason: str = Field(min_length=1, max_length=200)
    alarm_op_id: uuid.UUID | None = None


class QcReleasePayload(_StockRef):
    """A person's decision on frozen stock: back to available, or written to damaged."""

    kind: Literal[OpKind.QC_RELEASE] = OpKind.QC_RELEASE
    location: Code
    qty: Qty
    to_status: Literal[StockStatus.AVAILABLE, StockStatus.DAMAGED] = StockStatus.AVAILABLE
    note: str = Field(default="", max_length=500)


class ReservePayload(_StockRef):
    """Hold available stock for an outbound order."""

    kind: Literal[OpKind.RESERVE] = OpKind.RESERVE
    location: Code
    qty: Qty
    order_id: Code


class UnreservePayload(ReservePayload):
    kind: Literal[OpKind.UNRESERVE] = OpKind.UNRESERVE  # type: ignore[assignment]


class PickPayload(_StockRef):
    """Take stock from a slot to a staging location for an order; it stays reserved for that order."""

    kind: Literal[OpKind.PICK] = OpKind.PICK
    from_location: Code
    to_location: Code
    qty: Qty
    order_id: Code
    from_status: Literal[StockStatus.AVAILABLE, StockStatus.RESERVED] = StockStatus.RESERVED


class PackLine(_StockRef):
    qty: Qty


class PackPayload(_Payload):
    """Lines of an order packed into a handling unit; records the SSCC, moves no stock."""

    kind: Literal[OpKind.PACK] = OpKind.PACK
    order_id: Code
    location: Code
    sscc: str | None = Field(default=None, pattern=r"^\d{18}$")
    lines: list[PackLine] = Field(min_length=1, max_length=1000)


class ShipPayload(_StockRef):
    """Staged (reserved) stock leaves the site to a carrier."""

    kind: Literal[OpKind.SHIP] = OpKind.SHIP
    location: Code
    qty: Qty
    order_id: Code
    carrier: str = Field(default="", max_length=64)
    sscc: str | None = Field(default=None, pattern=r"^\d{18}$")


class TransferOutPayload(_StockRef):
    """Stock leaves for another warehouse; it is in transit under the transfer until received there."""

    kind: Literal[OpKind.TRANSFER_OUT] = OpKind.TRANSFER_OUT
    transfer_id: Code
    to_warehouse: Code
    location: Code
    qty: Qty


class TransferInPayload(_StockRef):
    """Stock of a transfer arrives; a short or over receipt is a discrepancy in the cloud, not a fix."""

    kind: Literal[OpKind.TRANSFER_IN] = OpKind.TRANSFER_IN
    transfer_id: Code
    from_warehouse: Code
    location: Code
    qty: Qty
    status: Literal[StockStatus.AVAILABLE, StockStatus.QC_HOLD] = StockStatus.AVAILABLE


class AdjustPayload(_StockRef):
    """A signed correction with a reason code (loss, found, scrap, data fix)."""

    kind: Literal[OpKind.ADJUST] = OpKind.ADJUST
    location: Code
    status: StockStatus = StockStatus.AVAILABLE
    qty_delta: SignedQty
    reason: str = Field(min_length=1, max_length=200)

    @field_validator("qty_delta")
    @classmethod
    def _nonzero(cls, v: int) -> int:
        if v == 0:
            raise ValueError("qty_delta must not be zero")
        return v


class CountPayload(_StockRef):
    """A cycle count: the counted quantity and the delta against the book, both fixed on the edge."""

    kind: Literal[OpKind.COUNT] = OpKind.COUNT
    location: Code
    counted_qty: Annotated[int, Field(ge=0, le=10**12)]
    book_qty: Annotated[int, Field(ge=-(10**12), le=10**12)]
    delta: SignedQty
    count_id: str | None = Field(default=None, max_length=64)

    @model_validator(mode="after")
    def _delta_matches(self) -> CountPayload:
        if self.delta != self.counted_qty - self.book_qty:
            raise ValueError(f"delta {self.delta} != counted_qty {self.counted_qty} - book_qty {self.book_qty}")
        return self


class AlarmState(StrEnum):
    RAISED = "raised"
    CLEARED = "cleared"


class TempAlarmPayload(_Payload):
    """A threshold crossing or a silent sensor. Never thinned, unlike the readings behind it."""

    kind: Literal[OpKind.TEMP_ALARM] = OpKind.TEMP_ALARM
    zone: Code
    sensor_id: Code
    alarm: Literal["temp_high", "temp_low", "humidity_high", "humidity_low", "stale"]
    state: AlarmState
    value: Decimal | None = None
    limit: Decimal | None = None
    since: datetime | None = None
    joins_excursion: bool | None = Field(
        default=None,
        description="Raised while the zone's excursion is open already (another sensor or limit opened it): "
        "the site's rules hold stock and open a work order on the alarm that opens an excursion, not on this one "
        "(absent on every other alarm).",
    )


class WorkOrderPayload(_Payload):
    """An exception for a person: opened by rules or the cloud, closed by who did the work.

    The gateway's own exception work orders (``edge.floor.workorders``) also carry the fact they
    answer (``fact_key``: one work order per fact), the SLA's due time, the escalation ``level``
    (0 the responsible role, 1 the supervisor, 2 the admin) and, on ``close``, the ``reason``. Those
    fields are optional and left out when empty, so ops written before them parse and hash as they did.
    """

    kind: Literal[OpKind.WORK_ORDER] = OpKind.WORK_ORDER
    work_order_id: Code
    action: Literal["open", "assign", "escalate", "close"]
    wo_type: str = Field(min_length=1, max_length=64)
    zone: Code | None = None
    location: Code | None = None
    assignee_role: str = Field(default="supervisor", max_length=32)
    assignee: str | None = Field(default=None, max_length=64)
    description: str = Field(default="", max_length=1000)
    ref_op_id: uuid.UUID | None = None
    fact_key: str | None = Field(default=None, min_length=1, max_length=200, description="The fact it answers.")
    sla_due: AwareDatetime | None = Field(default=None, description="When it escalates if still open.")
    level: int | None = Field(default=None, ge=0, le=2, description="0 responsible role, 1 supervisor, 2 admin.")
    reason: str | None = Field(default=None, max_length=1000, description="Why it was closed (on close).")
    photo: str | None = Field(
        default=None, pattern=r"^[0-9a-f]{64}$", description="SHA-256 of a photo the gateway keeps (handheld)."
    )
    ref: str | None = Field(default=None, max_length=200, description="What it is about: a task, order, ASN.")


class TaskKind(StrEnum):
    """What a floor task asks for (``edge.floor.tasks``)."""

    RECEIVE = "receive"
    QC = "qc"
    PUTAWAY = "putaway"
    REPLENISH = "replenish"
    PICK = "pick"
    PACK = "pack"
    CHECK = "check"
    COUNT = "count"
    MOVE = "move"
    TRANSPORT = "transport"


class TaskState(StrEnum):
    """Where a floor task stands; done, cancelled and failed are final."""

    OPEN = "open"
    ASSIGNED = "assigned"
    IN_PROGRESS = "in_progress"
    DONE = "done"
    CANCELLED = "cancelled"
    FAILED = "failed"


TaskTransition = Literal["create", "assign", "release", "start", "done", "cancel", "fail"]
"""A step of a task's life (``edge.floor.tasks.TRANSITIONS`` says which are legal from where)."""

FLEET = "fleet"
"""The assignee of a task given to the AGV fleet rather than to a person."""


class TaskPayload(_Payload):
    """One step of a floor task: the transition, the state it leads to, and the whole task as it then is.

    Every op carries the task in full (not only what changed), so the gateway's projection, the cloud
    and anyone reading the journal can know a task from its last op alone. Only the gateway writes
    these (``POST /v1/ops`` refuses them): the state machine is checked where the task lives.
    """

    kind: Literal[OpKind.TASK] = OpKind.TASK
    task_id: Code
    task_kind: TaskKind
    transition: TaskTransition
    state: TaskState
    assignee: str | None = Field(default=None, max_length=64, description="Operator id, or 'fleet' for the AGVs.")
    role: str = Field(default="operator", min_length=1, max_length=32, description="Who may take it.")
    zone: Code | None = None
    sku: Code | None = None
    lot: str = Field(default="", max_length=64)
    qty: Qty | None = None
    from_location: Code | None = None
    to_location: Code | None = None
    ref: str | None = Field(default=None, max_length=200, description="What it is for: an order, an ASN, a rule.")
    priority: int = Field(default=5, ge=1, le=9, description="1 most urgent.")
    note: str = Field(default="", max_length=500)
    reason: str | None = Field(default=None, max_length=500, description="Why it was cancelled or failed.")


class CommandAppliedPayload(_Payload):
    """The edge applied (or refused) a cloud command; the cursor makes re-delivery idempotent."""

    kind: Literal[OpKind.COMMAND_APPLIED] = OpKind.COMMAND_APPLIED
    command_id: Code
    cursor: int = Field(ge=0)
    command_type: str = Field(min_length=1, max_length=64)
    result: Literal["applied", "rejected"]
    reason: str = Field(default="", max_length=500)


class SessionPayload(_Payload):
    """An operator logging in or out at a station (badge or handheld)."""

    kind: Literal[OpKind.SESSION] = OpKind.SESSION
    event: Literal["login", "logout", "timeout", "refused"]
    operator_id: str | None = Field(default=None, max_length=64)
    station: Code
    card_uid: str | None = Field(default=None, max_length=64)


class ExceptionPayload(_Payload):
    """Something on the floor that needs a trace: a rejected scan, an unknown tag, a device fault."""

    kind: Literal[OpKind.EXCEPTION] = OpKind.EXCEPTION
    code: str = Field(min_length=1, max_length=64)
    detail: str = Field(default="", max_length=1000)
    location: Code | None = None
    ref: str | None = Field(default=None, max_length=200)
    count: int | None = Field(
        default=None,
        ge=2,
        le=10**12,
        description="How many identical exceptions from the device this op stands for (a flood collapsed "
        "into one op); absent for one.",
    )


class RuleFiredPayload(_Payload):
    """A site rule fired on an op or a floor event: which rule, which rule set, and what it asked for.

    Recorded before its actions run, under an op id derived from (rule, subject), so a gateway that
    crashed between the firing and its actions finds the firing at restart and finishes those actions
    (each idempotent) instead of firing again: the actions are the ones recorded here, not those of a
    rule set reloaded since.
    """

    kind: Literal[OpKind.RULE_FIRED] = OpKind.RULE_FIRED
    rule_id: Code
    ruleset_hash: str = Field(pattern=r"^[0-9a-f]{64}$", description="SHA-256 of the rule set in force.")
    on: str = Field(min_length=1, max_length=64, description="The op kind or event it fired on.")
    subject: str = Field(min_length=1, max_length=200, description="op:<op_id> or event:<name>:<digest>.")
    subject_op_id: uuid.UUID | None = None
    actions: list[dict[str, Any]] = Field(default_factory=list, max_length=20)


Payload = Annotated[
    ReceivePayload
    | PutawayPayload
    | MovePayload
    | QcHoldPayload
    | QcReleasePayload
    | ReservePayload
    | UnreservePayload
    | PickPayload
    | PackPayload
    | ShipPayload
    | TransferOutPayload
    | TransferInPayload
    | AdjustPayload
    | CountPayload
    | TempAlarmPayload
    | WorkOrderPayload
    | CommandAppliedPayload
    | SessionPayload
    | ExceptionPayload
    | TaskPayload
    | RuleFiredPayload,
    Field(discriminator="kind"),
]


_uuid7_lock = threading.Lock()
_uuid7_last = 0  # the last (milliseconds << 12 | sub-millisecond fraction) handed out


def _uuid7_after_fork() -> None:
    global _uuid7_lock
    _uuid7_lock = threading.Lock()  # a fork while another thread held it must not deadlock the child


os.register_at_fork(after_in_child=_uuid7_after_fork)


def uuid7() -> uuid.UUID:
    """A new UUIDv7 (RFC 9562): 48 bits of Unix milliseconds, 12 bits of sub-millisecond time, then
    62 random bits; ordered by time.

    Written here rather than taken from the ``uuid6`` package for two reasons. It returns a plain
    ``uuid.UUID``, not a subclass: orjson encodes a plain UUID in C, and a journal append encodes
    every op_id (a subclass costs a Python call each). And it fills the 12 bits after the
    milliseconds with the time's fraction of a millisecond (RFC 9562, section 6.2, method 3), so ids
    made in a burst stay ordered without running ahead of the clock (``uuid6`` adds a whole
    millisecond per id made within the same millisecond: 200,000 ids made in a second end up 200 s in
    the future). Within one process the value never goes backwards, so ids made one after another
    sort in that order, which keeps op_id index inserts at the end of the index.
    """
    global _uuid7_last
    ns = time.time_ns()
    stamp = (ns // 1_000_000) << 12 | (ns % 1_000_000) * 4096 // 1_000_000
    with _uuid7_lock:
        if stamp <= _uuid7_last:
            stamp = _uuid7_last + 1
        _uuid7_last = stamp
    ms, fraction = stamp >> 12, stamp & 0xFFF
    return uuid.UUID(int=(ms & 0xFFFF_FFFF_FFFF) << 80 | 0x7 << 76 | fraction << 64 | 0b10 << 62 | secrets.randbits(62))


def utc_now() -> datetime:
    """Wall clock in UTC, for the edges of the system (a script, a test); components take a clock instead."""
    return datetime.now(UTC)


def _require_utc(v: datetime) -> datetime:
    if v.tzinfo is None:
        raise ValueError("timestamp must carry a timezone (UTC)")
    return v.astimezone(UTC)


class OpDraft(BaseModel):
    """What a caller hands to the journal: everything but the parts the journal assigns.

    ``occurred_at`` has no default: the caller says when the op happened, from the clock it was given
    (a gateway's injected clock, a device's event time), so simulated time never meets the wall clock.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    op_id: uuid.UUID = Field(default_factory=uuid7)
    payload: Payload
    actor: str = Field(min_length=1, max_length=64, description="Operator id, or device:<id>, or system.")
    device_id: str | None = Field(default=None, max_length=64)
    occurred_at: datetime

    @field_validator("occurred_at")
    @classmethod
    def _utc(cls, v: datetime) -> datetime:
        return _require_utc(v)

    @property
    def kind(self) -> OpKind:
        return self.payload.kind


GENESIS_HASH = "0" * 64
"""prev_hash of a gateway's first op."""


class Op(BaseModel):
    """A journaled op: a draft plus its place in the gateway's chain.

    Validation is on the cloud's hot path (every op of every batch), so the checks that need Python run
    in one call (``_finish``) and everything else is pydantic-core's: timestamps must carry a timezone
    (``AwareDatetime``) and are then converted to UTC; ``kind`` must equal the payload's kind.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    op_id: uuid.UUID
    gateway_id: Code
    seq: int = Field(ge=1)
    kind: OpKind
    payload: Payload
    actor: str = Field(min_length=1, max_length=64)
    device_id: str | None = Field(default=None, max_length=64)
    occurred_at: AwareDatetime
    recorded_at: AwareDatetime
    prev_hash: str = Field(pattern=r"^[0-9a-f]{64}$")
    hash: str = Field(pattern=r"^[0-9a-f]{64}$")

    @model_validator(mode="wrap")
    @classmethod
    def _finish(cls, data: Any, handler: ModelWrapValidatorHandler[Op]) -> Op:
        """After the schema: kind against payload, timestamps to UTC (one Python call for all three)."""
        op = handler(data)
        if type(data) is not cls:  # an Op instance is passed through as is: already checked and converted
            fields = op.__dict__
            if fields["kind"] != fields["payload"].kind:
                raise ValueError(f"kind {op.kind!s} does not match payload kind {op.payload.kind!s}")
            raw = data if type(data) is dict else _NO_RAW
            fields["occurred_at"] = _as_utc(raw.get("occurred_at"), fields["occurred_at"])
            fields["recorded_at"] = _as_utc(raw.get("recorded_at"), fields["recorded_at"])
        return op


_NO_RAW: dict[str, Any] = {}
_fromisoformat = datetime.fromisoformat


def _as_utc(sent: Any, parsed: datetime) -> datetime:
    """``parsed.astimezone(UTC)``, a third of the cost for the one wire form (``iso_utc``).

    ``sent`` is the value as received and ``parsed`` what the schema made of it (so ``sent`` is valid).
    For ``YYYY-MM-DDTHH:MM:SS.ffffffZ`` Python's own parser gives the same instant with ``UTC`` as its
    tzinfo directly, where pydantic-core's ``TzInfo(UTC)`` would need converting. Anything else, or a
    value Python's parser refuses that pydantic-core took (a leap second), is converted as always.
    """
    if type(sent) is str and len(sent) == 27 and sent[26] == "Z" and sent[19] == "." and sent[10] == "T":
        try:
            return _fromisoformat(sent)
        except ValueError:
            pass
    return parsed.astimezone(UTC)
