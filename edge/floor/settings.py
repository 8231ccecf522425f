"""The site TOML's floor settings: ``[handoff]`` (the carrier webhook) and ``[floor]`` (inbound/outbound).

Kept apart from the modules that use them so that reading a site config never loads httpx or numpy:
the gateway's start-up budget (tests/test_architecture.py) counts every import.
"""

from __future__ import annotations

import base64
import binascii
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from sync.codes import Code


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class HandoffSettings(_Strict):
    """Where shipments (and rule notifications) go: one receiver, signed per Standard Webhooks."""

    url: str = Field(pattern=r"^https?://", max_length=2000, description="The receiver (the carrier's TMS).")
    secret_file: Path | None = Field(
        default=None, description="File holding the signing secret, `whsec_` + base64 (as the receiver issued it)."
    )
    secret: str | None = Field(default=None, min_length=8, description="The secret inline (prefer secret_file).")
    timeout_seconds: float = Field(default=10.0, gt=0, le=300, description="One attempt's HTTP timeout.")
    backoff_base_seconds: float = Field(default=5.0, gt=0, le=3600, description="Delay before the 2nd attempt.")
    backoff_max_seconds: float = Field(default=900.0, gt=0, le=86_400, description="The delay stops doubling here.")
    max_attempts: int = Field(default=30, ge=1, le=1000, description="After this many, the delivery has failed.")
    max_age_hours: float = Field(default=72.0, gt=0, le=24 * 90, description="...or once a message is this old.")
    idle_poll_seconds: float = Field(default=60.0, gt=0, le=3600, description="Outbox check when nothing is due.")

    def resolved_secret(self) -> bytes:
        """The key bytes; a missing, unreadable or malformed secret raises ``ValueError`` naming the key."""
        key = "handoff.secret"
        text = self.secret
        if text is None:
            if self.secret_file is None:
                raise ValueError("handoff: set secret_file (or secret) to sign the webhooks")
            key = "handoff.secret_file"
            try:
                text = self.secret_file.read_text().strip()
            except OSError as exc:
                raise ValueError(f"{key} {str(self.secret_file)!r}: cannot read: {exc.strerror}") from None
        raw = text.removeprefix("whsec_")
        try:
            secret = base64.b64decode(raw + "==", validate=False)
        except (binascii.Error, ValueError):
            raise ValueError(f"{key}: not base64 (expected whsec_ followed by base64)") from None
        if len(secret) < 16:
            raise ValueError(f"{key}: the secret must hold at least 16 bytes (whsec_ + base64 of 16-64 bytes)")
        return secret


class FloorSettings(_Strict):
    """How inbound and outbound run on this site."""

    goods_to_person: bool = Field(
        default=False, description="Putaways go to the AGV fleet as transport tasks instead of to a person."
    )
    receiving_location: Code | None = Field(
        default=None, description="Where goods are received when the ASN names no dock (default: the first dock)."
    )
    staging_location: Code | None = Field(
        default=None, description="Where picks are staged for packing and shipping (default: the first staging)."
    )
    planner: Literal["auto", "optimal", "ortools", "s_shape", "largest_gap", "combined"] = Field(
        default="auto", description="The pick-path planner (see edge.floor.pickpath)."
    )
    batch_size: int = Field(default=4, ge=1, le=50, description="Orders a picker takes on one trip.")
    sscc_prefix: str = Field(
        default="0690000",
        pattern=r"^\d{7,10}$",
        description="GS1 company prefix for the SSCCs of cartons packed here (extension digit 0 is added).",
    )
    putaway_reasons: list[str] = Field(
        default_factory=lambda: ["slot_full", "slot_damaged", "consolidate", "supervisor_decision", "other"],
        description="Reason codes an operator may give for putting away elsewhere than suggested.",
    )
    qc_reject_reasons: list[str] = Field(
        default_factory=lambda: ["damaged", "temperature", "expired", "wrong_item", "contaminated", "other"],
        description="Reason codes for a QC hold or reject.",
    )


def check_handoff_secret(settings: HandoffSettings | None) -> list[str]:
    """Problems with the secret, for the site check (empty: fine or no hand-off)."""
    if settings is None:
        return []
    try:
        settings.resolved_secret()
    except ValueError as exc:
        return [str(exc)]
    return []


HandoffOutcome = Literal["delivered", "retry", "failed"]
