"""Why the journal refused an op. Raised at the boundary, carried to the API as a clear 4xx."""

from __future__ import annotations

from typing import Literal

RejectCode = Literal[
    "unknown_sku",
    "unknown_location",
    "insufficient_stock",
    "op_id_conflict",
    "lot_required",
    "invalid",
    "closed",
]


class StoreError(Exception):
    """Root of the edge store's errors."""


class OpRejected(StoreError):
    """The op breaks a domain rule; nothing of it was written."""

    def __init__(self, code: RejectCode, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.code: RejectCode = code
        self.message = message
        self.field = field

    def as_dict(self) -> dict[str, str | None]:
        return {"code": self.code, "message": self.message, "field": self.field}


class JournalClosed(StoreError):
    """The journal is shutting down and takes no more appends."""
