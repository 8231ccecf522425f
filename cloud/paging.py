"""How every list of the cloud API pages, one way: ``?limit=&after=`` in, ``{"items": [...],
"next_after": ...}`` out. Pass ``next_after`` back as ``after`` for the next page; it is null when the
page reached the end. ``after`` is a position the API hands out: a row id for a log (audit, quarantine,
discrepancies, work orders, commands), an offset for a computed view (stock); clients need not care
which. A gateway's command queue is a stream: there ``next_after`` is never null (the cursor to resume
from, for the long-poll).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Annotated, Any, Generic, TypeVar

from fastapi import Query
from pydantic import BaseModel, ConfigDict, Field

T = TypeVar("T")

After = Annotated[
    int, Query(ge=0, le=2**62, description="Where this page starts: `next_after` of the previous one (0: the start).")
]
Limit = Annotated[int, Query(ge=1, le=1000, description="Most items in the page.")]


class Page(BaseModel, Generic[T]):
    model_config = ConfigDict(json_schema_serialization_defaults_required=True)

    items: list[T]
    next_after: int | None = Field(description="Pass as `after` for the next page; null when this one is the last.")


def by_offset(rows: Sequence[Any], limit: int, after: int) -> tuple[list[Any], int | None]:
    """``rows`` were read with ``LIMIT limit + 1 OFFSET after``."""
    return list(rows[:limit]), (after + limit if len(rows) > limit else None)


def by_key(rows: Sequence[Any], limit: int, key: Callable[[Any], int]) -> tuple[list[Any], int | None]:
    """``rows`` were read with ``WHERE key > after ORDER BY key LIMIT limit + 1``."""
    items = list(rows[:limit])
    return items, (key(items[-1]) if len(rows) > limit else None)
