"""The gateway's local HTTP API: handhelds, scripts and the sync agent's local view.

It keeps working with the cloud unreachable: it speaks only to this gateway's journal. A body that
does not parse gets FastAPI's 422 naming the field; an op that breaks a domain rule gets 422 (unknown
SKU or location) or 409 (not enough stock, op_id reused), with the journal's own reason. Routes live
one module per resource in ``edge.api.routes``; ``/v1/*`` is guarded by the API token when one is set.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.responses import JSONResponse

from edge.api.deps import get_caller, token_check
from edge.api.handheld import catalog, photos
from edge.api.handheld import routes as handheld
from edge.api.routes import handoff, health, inbound, ops, orders, rules, sessions, stock, tasks, work_orders, zones
from edge.api.routes.ops import KindNotAllowed
from edge.context import EdgeContext
from edge.floor.flow import FloorError
from edge.floor.tasks import TaskError
from edge.floor.workorders import WorkOrderError
from edge.identity.sessions import LoginRefused
from edge.store.errors import JournalClosed, OpRejected
from sync.http.errors import FieldError, error_response, install_errors
from sync.http.limits import RequestGuard
from sync.http.openapi import finish_openapi

_STATUS_OF = {
    "unknown_sku": 422,
    "unknown_location": 422,
    "invalid": 422,
    "insufficient_stock": 409,
    "op_id_conflict": 409,
    "lot_required": 422,
    "closed": 503,
}

_TASK_STATUS = {"unknown_task": 404, "illegal_transition": 409, "not_allowed": 403}
"""Status of a refused task step by its code (``edge.floor.tasks``); anything else is 422."""


def create_app(ctx: EdgeContext) -> FastAPI:
    app = FastAPI(
        title=f"WIMS edge gateway {ctx.gateway_id}",
        version="0.1.0",
        description="The gateway's local API: the journal of one warehouse, its stock and floor decisions.",
    )
    app.state.ctx = ctx
    app.add_middleware(RequestGuard, max_body_bytes=ctx.config.api.max_body_bytes)
    install_errors(app)

    @app.exception_handler(OpRejected)
    async def _rejected(_: Request, exc: OpRejected) -> JSONResponse:
        return error_response(_STATUS_OF.get(exc.code, 422), exc.message, code=exc.code, errors=rejected_fields(exc))

    @app.exception_handler(TaskError)
    async def _task_refused(_: Request, exc: TaskError) -> JSONResponse:
        return error_response(_TASK_STATUS.get(exc.code, 422), exc.message, code=exc.code)

    @app.exception_handler(WorkOrderError)
    async def _work_order_refused(_: Request, exc: WorkOrderError) -> JSONResponse:
        return error_response(exc.status, exc.message, code=exc.code)

    @app.exception_handler(KindNotAllowed)
    async def _kind_not_allowed(_: Request, exc: KindNotAllowed) -> JSONResponse:
        field = FieldError(loc=["body", "payload", "kind"], msg=str(exc.detail), type="kind_not_allowed")
        return error_response(422, str(exc.detail), code="kind_not_allowed", errors=[field])

    @app.exception_handler(LoginRefused)
    async def _login_refused(_: Request, exc: LoginRefused) -> JSONResponse:
        return error_response(exc.status, exc.message, code=exc.code)

    @app.exception_handler(FloorError)
    async def _floor(_: Request, exc: FloorError) -> JSONResponse:
        errors = [FieldError(loc=["body", *exc.field.split(".")], msg=exc.message, type=exc.code)] if exc.field else []
        return error_response(exc.status, exc.message, code=exc.code, errors=errors)

    @app.exception_handler(JournalClosed)
    async def _closed(_: Request, exc: JournalClosed) -> JSONResponse:
        return error_response(503, str(exc), code="closed")

    app.include_router(health.router)
    guarded = APIRouter(
        prefix="/v1", dependencies=[Depends(token_check(ctx.config.api.resolved_token())), Depends(get_caller)]
    )
    for module in (ops, stock, zones, tasks, work_orders, sessions, rules, inbound, orders, handoff, catalog, photos):
        guarded.include_router(module.router)
    app.include_router(guarded)
    app.include_router(handheld.router)
    app.mount("/app/static", handheld.static_files(), name="handheld-static")
    finish_openapi(app)
    return app


def rejected_fields(exc: OpRejected) -> list[FieldError]:
    """The field a journal refusal names, as the shared error body lists fields."""
    if not exc.field:
        return []
    return [FieldError(loc=["body", *exc.field.split(".")], msg=exc.message, type=exc.code)]
