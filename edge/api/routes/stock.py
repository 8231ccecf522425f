"""The gateway's local stock (non-zero lines of the journal's projection)."""

from __future__ import annotations

from fastapi import APIRouter

from edge.api.deps import Ctx
from edge.store.journal import StockLine
from sync.ops import StockStatus

router = APIRouter(tags=["stock"])


@router.get("/stock")
async def get_stock(
    ctx: Ctx,
    sku: str | None = None,
    lot: str | None = None,
    location: str | None = None,
    status: StockStatus | None = None,
) -> list[StockLine]:
    return ctx.journal.stock(sku=sku, lot=lot, location=location, status=status.value if status else None)
