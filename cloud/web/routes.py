"""The dashboard's HTTP face: the page, each panel (HTML and JSON), login, language, and the live stream.

Handlers are plain ``def`` (FastAPI runs them in its thread pool: the queries block); the live stream is
``async``. Every path checks the session first: pages redirect to ``/login``, data paths answer 401.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from typing import Annotated, Any
from urllib.parse import quote, urlparse

from fastapi import APIRouter, Form, HTTPException, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response, StreamingResponse

from cloud.auth.users import login
from cloud.events.hub import Event
from cloud.services import Services, Svc
from cloud.web.dashboard import QueryContext, known_warehouses
from cloud.web.filters import WINDOWS, Filters, parse_filters
from cloud.web.panels import PANELS, Panel
from cloud.web.table import Table
from cloud.web.viewer import (
    LANG_COOKIE,
    SESSION_COOKIE,
    Viewer,
    current_viewer,
    page_locale,
    same_origin,
    save_locale,
)
from sync.web.i18n import LOCALES, gettext_for, normalise
from sync.web.templating import Pages

router = APIRouter(include_in_schema=False)
YEAR_S = 365 * 24 * 3600


def pages_of(request: Request) -> Pages:
    pages: Pages = request.app.state.web_pages
    return pages


def query_context(svc: Services) -> QueryContext:
    return QueryContext(
        now=svc.clock.now(),
        offline_after_s=svc.settings.site_offline_after_s,
        work_order_sla_h=svc.settings.work_order_sla_h,
        postgres=svc.engine.dialect.name == "postgresql",
    )


def scoped_filters(request: Request, svc: Services, viewer: Viewer) -> Filters:
    f = parse_filters(request, svc.clock.now().date())
    scoped = viewer.scope(f.warehouse)
    return f if scoped == f.warehouse else Filters(scoped, f.window, f.start, f.end, f.big)


def warehouses(svc: Services, viewer: Viewer) -> list[str]:
    if viewer.bound_to:
        return [viewer.bound_to]
    with svc.engine.connect() as conn:
        return known_warehouses(conn)


def run_panel(svc: Services, panel: Panel, f: Filters, viewer: Viewer) -> Table:
    with svc.engine.connect() as conn:
        return panel.query(conn, f, query_context(svc)).for_viewer(viewer.sees_costs)


def base_context(request: Request, svc: Services, viewer: Viewer | None, f: Filters | None) -> dict[str, Any]:
    return {
        "viewer": viewer,
        "filters": f,
        "windows": WINDOWS,
        "now": svc.clock.now(),
        "path": request.url.path,
        "query": request.url.query,
        "locales": LOCALES,
    }


def _panel_html(request: Request, svc: Services, panel: Panel, f: Filters, viewer: Viewer, table: Table) -> str:
    return pages_of(request).render(
        panel.template,
        viewer.locale,
        **base_context(request, svc, viewer, f),
        panel=panel,
        table=table,
    )


@router.get("/", response_class=HTMLResponse)
def dashboard_page(request: Request, svc: Svc) -> HTMLResponse:
    viewer = current_viewer(request, svc)
    f = scoped_filters(request, svc, viewer)
    drawn_at = time.time()  # before the panels' queries: a change after it reaches the page's stream (see /live)
    rendered = {
        name: _panel_html(request, svc, p, f, viewer, run_panel(svc, p, f, viewer)) for name, p in PANELS.items()
    }
    html = pages_of(request).render(
        "dashboard.html",
        viewer.locale,
        **base_context(request, svc, viewer, f),
        panels=PANELS,
        rendered=rendered,
        drawn_at=f"{drawn_at:.3f}",
        warehouses=warehouses(svc, viewer),
    )
    return HTMLResponse(html)


@router.get("/dashboard.json")
def dashboard_json(request: Request, svc: Svc) -> JSONResponse:
    viewer = current_viewer(request, svc)
    f = scoped_filters(request, svc, viewer)
    t = gettext_for(viewer.locale).gettext
    body = {name: run_panel(svc, p, f, viewer).as_json(t) for name, p in PANELS.items()}
    return JSONResponse({"filters": _filters_json(f), "panels": body})


def _filters_json(f: Filters) -> dict[str, Any]:
    return {"warehouse": f.warehouse, "window": f.window, "from": f.start.isoformat(), "to": f.end.isoformat()}


@router.get("/panels/{name}.json")
def panel_json(name: str, request: Request, svc: Svc) -> JSONResponse:
    viewer = current_viewer(request, svc)
    panel = _panel(name)
    f = scoped_filters(request, svc, viewer)
    table = run_panel(svc, panel, f, viewer)
    return JSONResponse(
        {"panel": name, "filters": _filters_json(f), **table.as_json(gettext_for(viewer.locale).gettext)}
    )


@router.get("/panels/{name}", response_class=HTMLResponse)
def panel_html(name: str, request: Request, svc: Svc) -> HTMLResponse:
    viewer = current_viewer(request, svc)
    panel = _panel(name)
    f = scoped_filters(request, svc, viewer)
    return HTMLResponse(_panel_html(request, svc, panel, f, viewer, run_panel(svc, panel, f, viewer)))


def _panel(name: str) -> Panel:
    panel = PANELS.get(name)
    if panel is None:
        raise HTTPException(404, f"no panel {name!r}")
    return panel


# --- login, logout, language ----------------------------------------------------------------------------


def _safe_next(target: str | None) -> str:
    """Only a path on this site (never ``//evil`` or ``https://...``): no open redirect after login."""
    if not target or not target.startswith("/") or target.startswith("//") or urlparse(target).netloc:
        return "/"
    return target


@router.get("/login", response_class=HTMLResponse)
def login_page(request: Request, svc: Svc, error: str | None = None) -> HTMLResponse:
    locale = page_locale(request)
    html = pages_of(request).render(
        "login.html",
        locale,
        **base_context(request, svc, None, None),
        next=_safe_next(request.query_params.get("next")),
        error=error,
    )
    return HTMLResponse(html, status_code=401 if error else 200)


@router.post("/login")
def login_submit(
    request: Request,
    svc: Svc,
    username: Annotated[str, Form(max_length=64)],
    password: Annotated[str, Form(max_length=1024)],
    next: Annotated[str, Form(max_length=2000)] = "/",
) -> Response:
    if not same_origin(request):
        raise HTTPException(403, "cross-site form post refused")
    got = login(
        svc.engine,
        username,
        password,
        now=svc.clock.now(),
        ttl_s=svc.settings.token_ttl_s,
        passwords=svc.passwords,
    )
    if got is None:
        return login_page(request, svc, error="bad")
    token, _expires, _role = got
    resp = RedirectResponse(_safe_next(next), status_code=303)
    resp.set_cookie(
        SESSION_COOKIE,
        token,
        max_age=svc.settings.token_ttl_s,
        httponly=True,
        samesite="lax",
        secure=svc.settings.cookie_secure,
    )
    return resp


@router.post("/logout")
def logout(request: Request) -> Response:
    if not same_origin(request):
        raise HTTPException(403, "cross-site form post refused")
    resp = RedirectResponse("/login", status_code=303)
    resp.delete_cookie(SESSION_COOKIE)
    return resp


@router.post("/lang")
def set_language(
    request: Request,
    svc: Svc,
    lang: Annotated[str, Form(max_length=16)],
    next: Annotated[str, Form(max_length=2000)] = "/",
) -> Response:
    """Switch the language: remembered for the user (their preference) and in a cookie (the login page)."""
    if not same_origin(request):
        raise HTTPException(403, "cross-site form post refused")
    locale = normalise(lang)
    if locale is None:
        raise HTTPException(422, f"unknown language {lang!r}")
    try:
        viewer = current_viewer(request, svc)
        save_locale(svc, viewer.name, locale)
    except Exception:  # not logged in: the cookie alone remembers it
        pass
    resp = RedirectResponse(_safe_next(next), status_code=303)
    resp.set_cookie(LANG_COOKIE, locale, max_age=YEAR_S, samesite="lax", secure=svc.settings.cookie_secure)
    return resp


# --- live -----------------------------------------------------------------------------------------------

_LIVE_TYPES = frozenset({"stock", "site"})
DRAWN_MARGIN_S = 0.5
"""Events delivered this long before a page's ``drawn`` time are also sent on connect (clock steps
between worker processes; a spare re-fetch costs little, a missed change stays wrong on screen)."""


@router.get("/live")
async def live(request: Request, svc: Svc, drawn: float | None = None) -> StreamingResponse:
    """Server-sent events for the open pages: ``stock`` and ``site``, one line naming the warehouse.

    The page's panels re-fetch themselves on the events they list (htmx's SSE extension), so the
    event carries no figures of its own and cannot show a viewer what their role may not see.

    ``drawn`` is when the page's panels were queried (wall time, from the page): a change delivered
    between then and this stream's start would otherwise be missed until the next one, so the stream
    opens with one event of each kind delivered since (also after a reconnect: what happened while the
    stream was down is fetched).
    """
    viewer = await asyncio.to_thread(current_viewer, request, svc)
    f = parse_filters(request, svc.clock.now().date())
    scope = viewer.scope(f.warehouse)

    def accept(e: Event) -> bool:
        return e.get("type") in _LIVE_TYPES and (scope is None or e.get("warehouse") == scope)

    sub = svc.hub.subscribe(accept, maxsize=100)
    keepalive = svc.settings.sse_keepalive_s
    missed = svc.hub.delivered_since(drawn - DRAWN_MARGIN_S, accept) if drawn is not None else []

    async def stream() -> AsyncIterator[str]:
        try:
            yield "retry: 2000\n: connected\n\n"
            for old in missed:
                yield f"event: {old['type']}\ndata: {json.dumps({'warehouse': old.get('warehouse')})}\n\n"
            while not await request.is_disconnected():
                event = await sub.get(timeout=keepalive)
                if event is None:
                    yield ": keepalive\n\n"
                    continue
                data = json.dumps({"warehouse": event.get("warehouse")})
                yield f"event: {event['type']}\ndata: {data}\n\n"
        finally:
            sub.close()

    return StreamingResponse(stream(), media_type="text/event-stream", headers={"Cache-Control": "no-store"})


def login_redirect(request: Request) -> Response:
    path = request.url.path
    if path.endswith((".json", ".csv", ".xlsx")) or path.startswith(("/live", "/panels/")):
        return JSONResponse({"detail": "log in first"}, status_code=401)
    target = path + (f"?{request.url.query}" if request.url.query else "")
    return RedirectResponse(f"/login?next={quote(target)}", status_code=303)
