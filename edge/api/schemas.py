"""Bodies the gateway API takes and gives, and the wire form of a journaled op."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from sync.canonical import body_from_stored, iso_utc, seal_canonical
from sync.ops import Op, OpDraft, Payload, uuid7


class OpIn(BaseModel):
    """An op as a caller posts it: ``occurred_at`` defaults to the gateway's clock when left out."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    op_id: uuid.UUID = Field(default_factory=uuid7, description="Idempotency key; generated when left out.")
    payload: Payload
    actor: str = Field(min_length=1, max_length=64, description="Operator id, or device:<id>, or system.")
    device_id: str | None = Field(default=None, max_length=64)
    occurred_at: datetime | None = Field(default=None, description="When it happened (UTC); default: now.")

    def draft(self, now: datetime) -> OpDraft:
        """The journal's draft, stamped with ``now`` unless the caller said when it happened."""
        return OpDraft(
            op_id=self.op_id,
            payload=self.payload,
            actor=self.actor,
            device_id=self.device_id,
            occurred_at=self.occurred_at or now,
        )


class ZoneRelease(BaseModel):
    """A supervisor's decision on a zone's held stock (after a temperature excursion)."""

    actor: str = Field(min_length=1, max_length=64, description="The supervisor deciding, by operator id.")
    to_status: Literal["available", "damaged"] = "available"
    note: str = Field(default="", max_length=500)
    work_order_id: str | None = Field(default=None, max_length=64, description="The work order this closes.")


class OpsPage(BaseModel):
    """A page of the journal. Like every list of the WIMS APIs: ``items``, and ``next_after`` to pass as
    ``after`` for what follows (for the journal, a stream, it is never null: the seq to resume from)."""

    model_config = ConfigDict(json_schema_serialization_defaults_required=True)

    items: list[dict[str, Any]]
    head_seq: int
    next_after: int


def op_body(op: Op) -> dict[str, Any]:
    """The wire body of a journaled op, rebuilt from its fields (same bytes as stored)."""
    draft = OpDraft(
        op_id=op.op_id, payload=op.payload, actor=op.actor, device_id=op.device_id, occurred_at=op.occurred_at
    )
    text, hash_ = seal_canonical(
        draft, gateway_id=op.gateway_id, seq=op.seq, prev_hash=op.prev_hash, recorded_at=iso_utc(op.recorded_at)
    )
    return body_from_stored(text, hash_)
