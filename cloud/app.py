"""``create_app(settings)``: one stateless worker of the cloud service.

Nothing here is shared between workers except the database: live events cross workers through
PostgreSQL LISTEN/NOTIFY (started in the lifespan), and every other piece of state is a row.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
from collections.abc import AsyncIterator
from typing import Any

import orjson
import psycopg
from fastapi import FastAPI
from fastapi.responses import PlainTextResponse
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from sqlalchemy import exc as sa_exc

from cloud.audit.routes import router as audit_router
from cloud.auth.routes import router as auth_router
from cloud.commands.routes import router as commands_router
from cloud.db.engine import make_engine
from cloud.events.hub import EventBus, EventHub, listen
from cloud.events.routes import router as events_router
from cloud.gzip_request import GzipRequestMiddleware
from cloud.ingest.routes import router as ingest_router
from cloud.lifecycle import on_stop_signal
from cloud.masterdata.routes import router as masterdata_router
from cloud.metrics import CloudMetrics
from cloud.network.routes import router as network_router
from cloud.orders.routes import router as orders_router
from cloud.planning.background import dispatch_background
from cloud.planning.config import load_dispatch_config
from cloud.planning.routes import router as planning_router
from cloud.planning.schedule import Planner
from cloud.services import Services
from cloud.settings import CloudSettings
from cloud.sites.routes import router as sites_router
from cloud.stock.routes import router as stock_router
from cloud.telemetry.routes import router as telemetry_router
from cloud.transfers.routes import router as transfers_router
from cloud.web.mount import install_web, web_background
from sync.clock import Clock, SystemClock
from sync.http.errors import install_errors
from sync.http.limits import RequestGuard
from sync.http.openapi import finish_openapi

API_VERSION = "0.1.0"


def create_app(
    settings: CloudSettings | None = None, *, clock: Clock | None = None, registry: CollectorRegistry | None = None
) -> FastAPI:
    settings = settings or CloudSettings()
    engine = make_engine(settings.database_url, pool_size=settings.pool_size)
    hub = EventHub()
    services = Services(
        settings=settings,
        engine=engine,
        hub=hub,
        bus=EventBus(engine, hub, settings.events_channel),
        clock=clock or SystemClock(),
        passwords=settings.passwords(),
        metrics=CloudMetrics(registry or CollectorRegistry()),
        dispatch=load_dispatch_config(settings.planning_file),
    )
    services.planner = Planner(engine, services.dispatch, services.clock, database_url=settings.database_url)

    @contextlib.asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        with on_stop_signal(hub.close):  # streams and long-polls end as soon as the worker is told to stop
            async with _running(services):
                yield

    @contextlib.asynccontextmanager
    async def _running(services: Services) -> AsyncIterator[None]:
        hub.bind(asyncio.get_running_loop())
        listener: asyncio.Task[None] | None = None
        if services.bus.postgres:
            ready = asyncio.Event()
            listener = asyncio.create_task(listen(engine, hub, settings.events_channel, ready), name="pg-listen")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(ready.wait(), 10)
        try:
            async with web_background(services), dispatch_background(services):
                yield
        finally:
            hub.close()
            if listener is not None:
                listener.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await listener
            engine.dispose()

    app = FastAPI(
        title="WIMS cloud",
        version=API_VERSION,
        description="Central reconciliation service: gateway ops in, network stock views and commands out.",
        lifespan=lifespan,
    )
    app.state.services = services
    # the sync agent sends its batches gzip-compressed; the inflated body has the same limit as any other
    app.add_middleware(GzipRequestMiddleware, max_inflated=settings.max_body_bytes)
    app.add_middleware(RequestGuard, max_body_bytes=settings.max_body_bytes)  # outermost: before any reading
    for router in (
        ingest_router,
        commands_router,
        stock_router,
        masterdata_router,
        auth_router,
        audit_router,
        events_router,
        telemetry_router,
        sites_router,
        network_router,
        orders_router,
        planning_router,
        transfers_router,
    ):
        app.include_router(router)
    install_web(app, services)

    db_down = (503, "database unavailable; retry later")
    install_errors(
        app,
        extra={
            # the database is unreachable or refusing work: say so (retryable) rather than a bare 500
            sa_exc.OperationalError: db_down,
            psycopg.OperationalError: db_down,
            # a value the database cannot store or compare (a NUL byte in text, a number out of range)
            sa_exc.DataError: (422, None),
            psycopg.DataError: (422, None),
            # a body value that JSON cannot carry on (an integer beyond 64 bits deep in a rule's action)
            orjson.JSONEncodeError: (422, "a number in the body is out of range (integers are at most 64 bits)"),
        },
    )

    def document_limits(schema: dict[str, Any]) -> None:
        # the batch limit is a setting: the document says the one in force, not the model's ceiling
        body = schema["paths"]["/v1/gateways/{gateway_id}/ops"]["post"]["requestBody"]
        body["content"]["application/json"]["schema"]["properties"]["ops"]["maxItems"] = settings.max_batch

    finish_openapi(app, extra=document_limits)

    @app.get("/healthz", tags=["ops"])
    def healthz() -> dict[str, str]:
        return {"status": "ok", "database": engine.dialect.name}

    @app.get(
        "/metrics",
        tags=["ops"],
        response_class=PlainTextResponse,
        responses={200: {"content": {"text/plain": {"schema": {"type": "string"}}}, "description": "Prometheus text."}},
    )
    def metrics() -> PlainTextResponse:
        return PlainTextResponse(generate_latest(services.metrics.registry).decode(), media_type=CONTENT_TYPE_LATEST)

    return app


def app_from_env() -> FastAPI:
    """Factory for ``uvicorn --factory cloud.app:app_from_env`` (each worker reads the environment).

    A worker's start-up heap (modules, models, routes) lives as long as the process; ``gc.freeze`` takes it
    out of the cyclic collector's scans, which otherwise walk it again and again while a 500-op batch
    allocates its objects (measured: about a third less CPU per ingested op). A 500-op batch makes some
    ten thousand container objects (ops, payloads, dicts), nearly all freed by reference counting when
    the request ends; the default young-generation threshold (700) would scan them a dozen times per
    batch, so it is raised (``_GC_THRESHOLDS``): cycles are still collected, just in larger steps.
    """
    app = create_app(CloudSettings())
    gc.collect()
    gc.freeze()
    gc.set_threshold(*_GC_THRESHOLDS)
    return app


_GC_THRESHOLDS = (10_000, 10, 10)
"""Young generation every 10,000 net allocations (default 700); the older ones after ten of the younger,
as by default. Measured on the ingest parse path (parse, COPY text, deltas): about 0.8 µs less CPU per
op, of about 8.8."""
