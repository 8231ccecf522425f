"""The gateway's local stock (non-zero lines of the journal's projection), paged like every list."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BaseModel, ConfigDict, Field

from edge.api.deps import Ctx
from edge.store.journal import StockLine
from sync.ops import StockStatus

router = APIRouter(tags=["stock"])
Text = Annotated[str | None, Query(min_length=1, max_length=64)]


class StockPage(BaseModel):
    model_config = ConfigDict(json_schema_serialization_defaults_required=True)

    items: list[StockLine]
    next_after: int | None = Field(description="Pass as `after` for the next page; null when this one is the last.")


@router.get("/stock", response_model=StockPage)
async def get_stock(
    ctx: Ctx,
    sku: Text = None,
    lot: Annotated[str | None, Query(max_length=64)] = None,
    location: Text = None,
    status: StockStatus | None = None,
    limit: Annotated[int, Query(ge=1, le=10_000)] = 1000,
    after: Annotated[int, Query(ge=0, le=10**9, description="An offset, from `next_after`.")] = 0,
) -> StockPage:
    lines = ctx.journal.stock(sku=sku, lot=lot, location=location, status=status.value if status else None)
    page = lines[after : after + limit]
    return StockPage(items=page, next_after=after + limit if len(lines) > after + limit else None)
