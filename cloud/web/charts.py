"""ECharts options built from a panel's ``Table`` (the browser only draws what it is given).

Registered as template globals; they take the template's context to translate series names, so a
chart speaks the page's language like the rest of it.
"""

from __future__ import annotations

from typing import Any

import jinja2
from babel.dates import format_skeleton

from cloud.web.table import Table
from sync.web.labels import OP_KINDS


@jinja2.pass_context
def activity_chart(ctx: jinja2.runtime.Context, table: Table) -> dict[str, Any]:
    """Ops per hour, one stacked series per op kind."""
    fmt = ctx.resolve("fmt")

    def gettext(msg: str) -> str:
        return str(ctx.call(ctx.resolve("gettext"), msg))

    hours = sorted({r["hour"] for r in table.rows})
    index = {h: i for i, h in enumerate(hours)}
    kinds = sorted({r["kind"] for r in table.rows})
    series = []
    for k in kinds:
        data = [0] * len(hours)
        for r in table.rows:
            if r["kind"] == k:
                data[index[r["hour"]]] += r["ops"]
        series.append({"name": gettext(OP_KINDS[k]) if k in OP_KINDS else k, "data": data})
    return {
        "type": "stacked",
        "categories": [fmt.dt(h, "short") for h in hours],
        "series": series,
        "locale": ctx.resolve("html_lang"),
    }


GLOBALS: dict[str, Any] = {"activity_chart": activity_chart}


@jinja2.pass_context
def report_chart(ctx: jinja2.runtime.Context, table: Table, key: str) -> dict[str, Any]:
    """One bar per row of a report: the first column names it, ``key`` is its height."""

    def gettext(msg: str) -> str:
        return str(ctx.call(ctx.resolve("gettext"), msg))

    first = table.columns[0]
    column = next(c for c in table.columns if c.key == key)

    def name(row: dict[str, Any]) -> str:
        v = row.get(first.key)
        label = first.labels.get(str(v).split(" ")[0]) if first.labels else None
        if label:
            rest = str(v)[len(str(v).split(" ")[0]) :]
            return str(gettext(label)) + rest
        return " / ".join(str(row.get(c.key)) for c in table.columns[:2] if c.kind in ("code", "label")) or str(v)

    return {
        "type": "bars",
        "categories": [name(r) for r in table.rows],
        "series": [{"name": gettext(column.label), "data": [r.get(key) or 0 for r in table.rows]}],
        "locale": ctx.resolve("html_lang"),
    }


GLOBALS["report_chart"] = report_chart


@jinja2.pass_context
def forecast_chart(ctx: jinja2.runtime.Context, table: Table) -> dict[str, Any]:
    """Actual demand per day (bars), then the forecast's mean (a line) inside its 80 % interval (a band)."""
    fmt = ctx.resolve("fmt")

    def gettext(msg: str) -> str:
        return str(ctx.call(ctx.resolve("gettext"), msg))

    f = table.facts
    return {
        "type": "forecast",
        "categories": [format_skeleton("MMMd", d, locale=fmt.babel) for d in f["days"]],
        "actual": f["actual"],
        "forecast": [None if v is None else round(v, 1) for v in f["forecast"]],
        "low": [None if v is None else round(v, 1) for v in f["low"]],
        "high": [None if v is None else round(v, 1) for v in f["high"]],
        "names": {
            "actual": gettext("Actual demand"),
            "forecast": gettext("Forecast"),
            "band": gettext("Likely range") + " (80%)",
        },
        "locale": ctx.resolve("html_lang"),
    }


GLOBALS["forecast_chart"] = forecast_chart
