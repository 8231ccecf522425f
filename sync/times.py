"""The one timestamp form of every WIMS API and tool: ISO 8601 in UTC with a ``Z``
(``2026-11-24T08:00:00.000000Z``, ``sync.canonical.iso_utc``).

``UtcDateTime`` is the type for a timestamp in a response model: whatever the database hands back (an
aware value, or SQLite's naive one, which is UTC by construction) is written in that form.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from pydantic import AfterValidator, PlainSerializer, WithJsonSchema

from sync.canonical import iso_utc


def as_utc(value: datetime) -> datetime:
    """``value`` in UTC; a naive value is taken to be UTC already (SQLite keeps no offset)."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def iso_z(value: datetime | None) -> str | None:
    """``iso_utc`` of ``value`` (naive taken as UTC), ``None`` for ``None``."""
    return None if value is None else iso_utc(as_utc(value))


UtcDateTime = Annotated[
    datetime,
    AfterValidator(as_utc),
    PlainSerializer(iso_utc, return_type=str, when_used="json"),
    WithJsonSchema({"type": "string", "format": "date-time", "example": "2026-11-24T08:00:00.000000Z"}),
]
