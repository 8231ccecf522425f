"""``GET /v1/catalog``: what the handheld needs to resolve scans offline (no cost prices, no suppliers).

SKUs with their GTINs, locations with zone and type, open inbound and outbound order lines, the
staging location picks go to. The app caches it in IndexedDB and refreshes it when it can.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from edge.api.deps import Ctx

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
    }
