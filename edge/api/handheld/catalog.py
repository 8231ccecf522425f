"""``GET /v1/catalog``: what the handheld needs to resolve scans offline (no cost prices, no suppliers).

SKUs with their GTINs, locations with zone and type, open inbound and outbound order lines, the
staging location picks go to. The app caches it in IndexedDB and refreshes it when it can.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict

from edge.api.deps import Ctx
from edge.floor.flow import floor_flow

router = APIRouter(tags=["handheld"])


@router.get("/catalog")
async def get_catalog(ctx: Ctx) -> dict[str, Any]:
    cfg = ctx.config
    staging = next((loc.code for loc in cfg.locations if loc.type in ("staging", "pack_station")), None)
    docks = [loc.code for loc in cfg.locations if loc.type == "dock"]
    return {
        "warehouse": ctx.warehouse,
        "gateway_id": ctx.gateway_id,
        "skus": [{"code": s.code, "gtin": s.gtin, "name": s.name, "unit": s.base_unit} for s in cfg.skus],
        "locations": [{"code": loc.code, "zone": loc.zone, "type": loc.type} for loc in cfg.locations],
        "inbound_orders": [
            {"id": o.id, "dock": o.dock or (docks[0] if docks else None), "lines": [ln.model_dump() for ln in o.lines]}
            for o in cfg.inbound_orders
        ],
        "outbound_orders": [{"id": o.id, "lines": [ln.model_dump() for ln in o.lines]} for o in cfg.outbound_orders],
        "staging": staging,
        "docks": docks,
        "qc_reasons": list(cfg.floor.qc_reject_reasons),
        "putaway_reasons": list(cfg.floor.putaway_reasons),
    }


class QcReceipt(BaseModel):
    """A receipt on the dock that QC has still to pass, hold or reject (``held`` ones may be passed later)."""

    model_config = ConfigDict(json_schema_serialization_defaults_required=True)

    id: str
    status: str
    asn_id: str
    line: int
    sku: str
    lot: str
    qty: int
    location: str
    received_at: str


class QcReceiptPage(BaseModel):
    items: list[QcReceipt]


@router.get("/catalog/receipts", response_model=QcReceiptPage)
async def qc_receipts(ctx: Ctx) -> QcReceiptPage:
    """The handheld's QC screen: receipts awaiting QC, then held ones, oldest first (what
    ``POST /v1/inbound/receipts/{id}/qc`` takes)."""
    flow = floor_flow(ctx)
    items = [
        QcReceipt(
            id=rid,
            status=status,
            asn_id=str(doc.get("asn_id", "")),
            line=int(doc.get("line", 0)),
            sku=str(doc.get("sku", "")),
            lot=str(doc.get("lot") or ""),
            qty=int(doc.get("qty", 0)),
            location=str(doc.get("location", "")),
            received_at=str(doc.get("received_at", "")),
        )
        for status in ("awaiting_qc", "held")
        for rid, _, doc in flow.docs("receipt", status=status)
    ]
    return QcReceiptPage(items=items)
