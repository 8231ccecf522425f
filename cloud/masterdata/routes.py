"""Master data over HTTP: SKUs (``sync.masterdata.Sku``, every field), a warehouse's catalogue, and the
import a gateway makes of its site's records at its first sync.

Cost prices and suppliers are written and read only by admins and planners (others get them as null).
A change reaches the gateways that need it as a ``master_data`` command (``cloud.masterdata.store``).
"""

from __future__ import annotations

from typing import Annotated, Any

import sqlalchemy as sa
from fastapi import APIRouter, Depends, HTTPException, Path, Query, status
from pydantic import BaseModel, ConfigDict, Field

from cloud.auth.deps import Caller, Principal, require
from cloud.auth.scope import Reader
from cloud.db.schema import skus
from cloud.ingest.routes import GatewayId
from cloud.masterdata import store
from cloud.services import Svc
from sync.codes import CODE_MAX_LENGTH, CODE_PATTERN, Code
from sync.commands import MasterDataCommand
from sync.http.openapi import error_responses
from sync.masterdata import Sku
from sync.roles import COST_ROLES, Role

router = APIRouter(tags=["master data"])
SkuCode = Annotated[str, Path(min_length=1, max_length=CODE_MAX_LENGTH, pattern=CODE_PATTERN)]


class SkuPage(BaseModel):
    model_config = ConfigDict(json_schema_serialization_defaults_required=True)

    items: list[Sku]
    next_after: int | None = Field(description="Pass as `after` for the next page; null at the end.")


class ImportOut(BaseModel):
    model_config = ConfigDict(json_schema_serialization_defaults_required=True)

    added: int
    updated: int
    unchanged: int
    kept: list[str] = Field(description="Records where the cloud kept its own version (kind/code).")
    commands_queued: int = Field(description="master_data commands queued for gateways.")


def _visible(sku: Sku, caller: Principal) -> Sku:
    if caller.role in COST_ROLES:
        return sku
    return sku.model_copy(update=dict.fromkeys(store.COST_FIELDS))


@router.put("/v1/skus/{code}", response_model=Sku, responses=error_responses(422))
def put_sku(
    code: SkuCode,
    req: Sku,
    svc: Svc,
    caller: Annotated[Principal, Depends(require(Role.ADMIN, Role.PLANNER))],
) -> Sku:
    """Create or replace a SKU (every field of ``sync.masterdata.Sku``); every gateway gets the change."""
    if req.code != code:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, f"body code {req.code!r} differs from path {code!r}")
    now = svc.clock.now()
    with svc.engine.begin() as conn:
        before = store.read_skus(conn, [code]).get(code)
        if before != req:
            body = MasterDataCommand(skus=[req])
            store.write(conn, None, body, now=now, actor=caller.audit_name)
            store.distribute(conn, svc.bus, body, None, now=now, actor=caller.audit_name)
    return req


@router.get("/v1/skus/{code}", response_model=Sku, responses=error_responses(404))
def get_sku(code: SkuCode, svc: Svc, scope: Reader) -> Sku:
    with svc.engine.connect() as conn:
        found = store.read_skus(conn, [code]).get(code)
    if found is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "unknown SKU")
    return _visible(found, scope.principal)


@router.get("/v1/skus", response_model=SkuPage)
def list_skus(
    svc: Svc,
    scope: Reader,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    after: Annotated[int, Query(ge=0, le=10**9, description="An offset, from `next_after`.")] = 0,
) -> SkuPage:
    with svc.engine.connect() as conn:
        rows = conn.execute(sa.select(skus).order_by(skus.c.code).limit(limit + 1).offset(after)).all()
    items = [_visible(store.sku_from_row(r), scope.principal) for r in rows[:limit]]
    return SkuPage(items=items, next_after=after + limit if len(rows) > limit else None)


@router.get("/v1/masterdata", response_model=MasterDataCommand)
def get_catalogue(
    svc: Svc, scope: Reader, warehouse: Annotated[Code | None, Query(description="Its own records too.")] = None
) -> MasterDataCommand:
    """The catalogue as a gateway of ``warehouse`` gets it: every SKU, and the warehouse's own records."""
    wh = scope.warehouse(warehouse)
    with svc.engine.connect() as conn:
        body = store.export(conn, wh)
    if scope.principal.role not in COST_ROLES:
        body = body.model_copy(update={"skus": [_visible(s, scope.principal) for s in body.skus]})
    return body


@router.post(
    "/v1/gateways/{gateway_id}/masterdata",
    response_model=ImportOut,
    responses=error_responses(404, 409),
)
def import_from_gateway(gateway_id: GatewayId, req: MasterDataCommand, svc: Svc, caller: Caller) -> Any:
    """A gateway's site records, sent at its first sync (and whenever its site file changes): what the
    cloud does not know is added and sent on to the other gateways that need it; where the cloud has its
    own version, the cloud keeps it and sends it back to this gateway (the cloud is the master)."""
    if caller.role is not Role.GATEWAY or caller.name != gateway_id:
        raise HTTPException(status.HTTP_403_FORBIDDEN, "only the gateway itself imports its site's records")
    now = svc.clock.now()
    actor = caller.audit_name
    assert caller.warehouse is not None
    with svc.engine.begin() as conn:
        result = store.import_catalogue(conn, caller.warehouse, req, mode="seed", now=now, actor=actor)
        queued = store.distribute(
            conn, svc.bus, result.changed, caller.warehouse, now=now, actor=actor, except_gateway=gateway_id
        )
        queued += store.distribute(
            conn, svc.bus, result.cloud_versions, caller.warehouse, now=now, actor=actor, only_gateway=gateway_id
        )
    return ImportOut(
        added=result.added, updated=result.updated, unchanged=result.unchanged, kept=result.kept, commands_queued=queued
    )
