"""The app's shell: ``/app`` (the page), ``/app/sw.js`` (the service worker, scoped to ``/app``),
``/app/manifest.webmanifest`` and ``/app/static/...``. None of it holds data, so it is served without
the API token; the data it shows comes from ``/v1`` with the token the handheld was paired with."""

from __future__ import annotations

import json
from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles
from starlette.types import Receive, Scope, Send

from edge.api.deps import Ctx
from edge.api.handheld.messages import catalogs
from sync.web.i18n import LANGUAGE_NAMES, negotiate
from sync.web.templating import STATIC_DIR, Pages

HERE = Path(__file__).resolve().parent
router = APIRouter(include_in_schema=False)
_pages: Pages | None = None
_catalogs_json: str | None = None


def pages() -> Pages:
    global _pages, _catalogs_json
    if _pages is None:
        _pages = Pages([HERE / "templates"])
        _catalogs_json = json.dumps(catalogs(), ensure_ascii=False, separators=(",", ":"))
    return _pages


@router.get("/app")
def app_redirect() -> RedirectResponse:
    return RedirectResponse("/app/", status_code=308)


@router.get("/app/", response_class=HTMLResponse)
def app_page(request: Request, ctx: Ctx) -> HTMLResponse:
    locale = negotiate(request.query_params.get("lang"), accept_language=request.headers.get("accept-language"))
    p = pages()
    html = p.render(
        "app.html",
        locale,
        site={"warehouse": ctx.warehouse, "gateway_id": ctx.gateway_id, "name": ctx.config.site.name},
        messages_json=_catalogs_json,
        language_names=LANGUAGE_NAMES,
        needs_token=ctx.config.api.resolved_token() is not None,
    )
    return HTMLResponse(html, headers={"Cache-Control": "no-cache"})


@router.get("/app/sw.js")
def service_worker() -> FileResponse:
    return FileResponse(
        HERE / "static" / "sw.js",
        media_type="text/javascript",
        headers={"Cache-Control": "no-cache", "Service-Worker-Allowed": "/app/"},
    )


@router.get("/app/manifest.webmanifest")
def manifest(ctx: Ctx) -> JSONResponse:
    return JSONResponse(
        {
            "name": f"WIMS {ctx.warehouse}",
            "short_name": "WIMS",
            "start_url": "/app/",
            "scope": "/app/",
            "display": "standalone",
            "orientation": "portrait",
            "background_color": "#15202e",
            "theme_color": "#15202e",
            "icons": [
                {"src": "/app/static/icon.svg", "sizes": "any", "type": "image/svg+xml", "purpose": "any"},
                {"src": "/app/static/icon-192.png", "sizes": "192x192", "type": "image/png"},
                {"src": "/app/static/icon-512.png", "sizes": "512x512", "type": "image/png"},
            ],
        },
        media_type="application/manifest+json",
    )


class _TwoFolders:
    """``/app/static``: the app's own files, then the shared ones (``vendor/zxing-wasm`` for the camera)."""

    def __init__(self) -> None:
        self.own = StaticFiles(directory=HERE / "static")
        self.shared = StaticFiles(directory=STATIC_DIR)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = str(scope.get("path", ""))
        target = self.shared if "/static/vendor/" in path else self.own
        await target(scope, receive, send)


def static_files() -> _TwoFolders:
    return _TwoFolders()
