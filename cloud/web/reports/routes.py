"""``/reports``: each report as a page, and as ``.json``, ``.csv`` and ``.xlsx`` from the same query.

Reports are computed in PostgreSQL; on SQLite the page says so and the data paths answer 501 (the
dashboard works on both). Before reading, a report rolls up whatever ops arrived since the last
background tick, so its figures include the latest op the cloud holds.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response

from cloud.services import Services, Svc
from cloud.web.filters import Filters
from cloud.web.reports.registry import REPORTS, Report
from cloud.web.reports.rollup import catch_up
from cloud.web.routes import base_context, pages_of, scoped_filters, warehouses
from cloud.web.table import Table
from cloud.web.viewer import Viewer, current_viewer
from sync.web.i18n import gettext_for

router = APIRouter(include_in_schema=False)
NEEDS_PG = "reports are computed in PostgreSQL: set WIMS_DATABASE_URL to a postgresql:// database"


def _report(name: str) -> Report:
    report = REPORTS.get(name)
    if report is None:
        raise HTTPException(404, f"no report {name!r}")
    return report


def _by(request: Request, report: Report) -> str:
    if not report.options:
        return ""
    by = request.query_params.get("by") or report.options[0][0]
    if by not in {k for k, _ in report.options}:
        raise HTTPException(422, f"query parameter 'by': one of {', '.join(k for k, _ in report.options)}")
    return by


def run_report(svc: Services, report: Report, f: Filters, by: str, viewer: Viewer) -> Table:
    catch_up(svc.engine)
    with svc.engine.connect() as conn:
        return report.query(conn, f, by).for_viewer(viewer.sees_costs)


def _postgres(svc: Services) -> bool:
    return svc.engine.dialect.name == "postgresql"


@router.get("/reports")
def reports_index(request: Request) -> Response:
    q = request.url.query
    return RedirectResponse("/reports/turnover" + (f"?{q}" if q else ""), status_code=303)


@router.get("/reports/{name}.{fmt}")
def report_data(name: str, fmt: str, request: Request, svc: Svc) -> Response:
    viewer = current_viewer(request, svc)
    report = _report(name)
    if fmt not in ("json", "csv", "xlsx"):
        raise HTTPException(404, f"no format {fmt!r}: json, csv or xlsx")
    if not _postgres(svc):
        raise HTTPException(501, NEEDS_PG)
    f = scoped_filters(request, svc, viewer)
    by = _by(request, report)
    table = run_report(svc, report, f, by, viewer)
    t = gettext_for(viewer.locale).gettext
    if fmt == "json":
        return JSONResponse(
            {"report": name, "by": by or None, "filters": _filters(f), "generated_at": _now(svc), **table.as_json(t)}
        )
    stem = f"wims-{name}{'-' + by if by else ''}-{f.start.isoformat()}-{f.end.isoformat()}"
    disposition = {"Content-Disposition": f'attachment; filename="{stem}.{fmt}"'}
    if fmt == "csv":
        return Response(table.as_csv(t), media_type="text/csv; charset=utf-8", headers=disposition)
    return Response(
        table.as_xlsx(t, t(report.title)),
        media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        headers=disposition,
    )


def _filters(f: Filters) -> dict[str, Any]:
    return {"warehouse": f.warehouse, "from": f.start.isoformat(), "to": f.end.isoformat()}


def _now(svc: Services) -> str:
    now: datetime = svc.clock.now()
    return now.isoformat()


@router.get("/reports/{name}", response_class=HTMLResponse)
def report_page(name: str, request: Request, svc: Svc) -> HTMLResponse:
    viewer = current_viewer(request, svc)
    report = _report(name)
    f = scoped_filters(request, svc, viewer)
    by = _by(request, report)
    table = run_report(svc, report, f, by, viewer) if _postgres(svc) else None
    html = pages_of(request).render(
        "report.html",
        viewer.locale,
        **base_context(request, svc, viewer, f),
        reports=REPORTS,
        report=report,
        table=table,
        by=by,
        warehouses=warehouses(svc, viewer),
        needs_pg=not _postgres(svc),
    )
    return HTMLResponse(html)
