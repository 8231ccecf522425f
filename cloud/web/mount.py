"""Puts the pages on the cloud app: templates, static files, the session's error handling, background work."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response
from fastapi.staticfiles import StaticFiles

from cloud.services import Services
from cloud.web import charts
from cloud.web.reports.rates import router as rates_router
from cloud.web.reports.routes import router as reports_router
from cloud.web.routes import login_redirect
from cloud.web.routes import router as dashboard_router
from cloud.web.viewer import LoginRequired, OutOfScope
from sync.web.labels import ROLES
from sync.web.templating import STATIC_DIR, Pages

HERE = Path(__file__).resolve().parent


def install_web(app: FastAPI, services: Services) -> None:
    app.state.web_pages = Pages(
        [HERE / "templates"], tz=services.settings.display_tz, globals_={**charts.GLOBALS, "role_labels": ROLES}
    )
    app.mount("/static/shared", StaticFiles(directory=STATIC_DIR), name="static-shared")
    app.mount("/static/cloud", StaticFiles(directory=HERE / "static"), name="static-cloud")
    app.include_router(dashboard_router)
    app.include_router(reports_router)
    app.include_router(rates_router)

    @app.exception_handler(LoginRequired)
    async def _login(request: Request, _exc: LoginRequired) -> Response:
        return login_redirect(request)

    @app.exception_handler(OutOfScope)
    async def _scope(_request: Request, exc: OutOfScope) -> Response:
        return JSONResponse({"detail": f"warehouse {exc.warehouse!r} is outside your scope"}, status_code=403)


@contextlib.asynccontextmanager
async def web_background(services: Services) -> AsyncIterator[None]:
    """The report rollup loop (PostgreSQL only), for as long as the worker runs."""
    from cloud.web.reports.rollup import rollup_loop

    if services.engine.dialect.name != "postgresql":
        yield
        return
    import asyncio

    task = asyncio.create_task(rollup_loop(services), name="report-rollup")
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
