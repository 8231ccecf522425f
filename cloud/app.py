"""``create_app(settings)``: one stateless worker of the cloud service.

Nothing here is shared between workers except the database: live events cross workers through
PostgreSQL LISTEN/NOTIFY (started in the lifespan), and every other piece of state is a row.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import math
from collections.abc import AsyncIterator
from typing import Any

import psycopg
from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, PlainTextResponse
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
from cloud.masterdata.routes import router as skus_router
from cloud.metrics import CloudMetrics
from cloud.services import Services
from cloud.settings import CloudSettings
from cloud.sites.routes import router as sites_router
from cloud.stock.routes import router as stock_router
from cloud.telemetry.routes import router as telemetry_router
from cloud.web.mount import install_web, web_background
from sync.clock import Clock, SystemClock

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
    )

    @contextlib.asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        hub.bind(asyncio.get_running_loop())
        listener: asyncio.Task[None] | None = None
        if services.bus.postgres:
            ready = asyncio.Event()
            listener = asyncio.create_task(listen(engine, hub, settings.events_channel, ready), name="pg-listen")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(ready.wait(), 10)
        try:
            async with web_background(services):
                yield
        finally:
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
    app.add_middleware(GzipRequestMiddleware)  # the sync agent sends its batches gzip-compressed
    for router in (
        ingest_router,
        commands_router,
        stock_router,
        skus_router,
        auth_router,
        audit_router,
        events_router,
        telemetry_router,
        sites_router,
    ):
        app.include_router(router)
    install_web(app, services)

    @app.exception_handler(RequestValidationError)
    async def _invalid(_request: Request, exc: RequestValidationError) -> JSONResponse:
        # FastAPI's own handler echoes the bad input, and a NaN or Infinity in it (which Python's JSON
        # parser accepts) cannot be encoded back: that would turn a 422 into a 500
        return JSONResponse(status_code=422, content={"detail": _finite(jsonable_encoder(exc.errors()))})

    @app.exception_handler(sa_exc.OperationalError)
    @app.exception_handler(psycopg.OperationalError)
    async def _db_down(_request: Request, _exc: Exception) -> JSONResponse:
        # the database is unreachable or refusing work: say so (retryable) rather than a bare 500
        return JSONResponse(
            status_code=503, content={"detail": "database unavailable; retry later"}, headers={"Retry-After": "5"}
        )

    @app.exception_handler(sa_exc.DataError)
    @app.exception_handler(psycopg.DataError)
    async def _bad_value(_request: Request, exc: Exception) -> JSONResponse:
        # a value the database cannot store or compare (a NUL byte in text, for one): the input is bad
        orig = getattr(exc, "orig", exc)
        return JSONResponse(status_code=422, content={"detail": f"invalid value: {str(orig).splitlines()[0]}"})

    @app.get("/healthz", tags=["ops"])
    def healthz() -> dict[str, str]:
        return {"status": "ok", "database": engine.dialect.name}

    @app.get("/metrics", tags=["ops"], response_class=PlainTextResponse)
    def metrics() -> PlainTextResponse:
        return PlainTextResponse(generate_latest(services.metrics.registry).decode(), media_type=CONTENT_TYPE_LATEST)

    return app


def _finite(value: Any) -> Any:
    """``value`` with every non-finite float replaced by its name, so that it encodes as JSON."""
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if isinstance(value, list):
        return [_finite(v) for v in value]
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    return value


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
