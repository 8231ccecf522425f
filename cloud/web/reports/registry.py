"""The reports: each a query function over the facts and a template; exports follow from the ``Table``."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy.engine import Connection

from cloud.web.filters import Filters
from cloud.web.reports import queries
from cloud.web.table import Table
from sync.web.i18n import N_


@dataclass(frozen=True)
class Report:
    name: str
    title: str
    query: Callable[[Connection, Filters, str], Table]
    note: str
    chart: str | None = None
    """Which column the page charts (per the first column), if any."""
    options: tuple[tuple[str, str], ...] = ()
    """Values of the ``by`` parameter and their labels (English message ids)."""


REPORTS: dict[str, Report] = {
    r.name: r
    for r in (
        Report(
            "turnover",
            N_("Turnover and days of inventory"),
            lambda conn, f, by: queries.turnover(conn, f, by),
            N_(
                "Outbound over the dates divided by the average stock on hand; days of inventory is how long "
                "the average stock lasts at the average outbound rate."
            ),
            chart="turnover",
            options=(("category", N_("By category")), ("warehouse", N_("By warehouse")), ("season", N_("By season"))),
        ),
        Report(
            "utilisation",
            N_("Space utilisation per zone"),
            lambda conn, f, _by: queries.utilisation(conn, f),
            N_("Now: stock in locations with a capacity against that capacity (the dates do not apply)."),
            chart="utilisation",
        ),
        Report(
            "operators",
            N_("Operator performance"),
            lambda conn, f, _by: queries.operators(conn, f),
            N_(
                "Pick accuracy is the share of pick scans with the right item; active time counts the gaps "
                "between a person's tasks shorter than ten minutes."
            ),
            chart="lines_per_hour",
        ),
        Report(
            "costs",
            N_("Cost breakdown"),
            lambda conn, f, _by: queries.costs(conn, f),
            N_(
                "Labour from active hours at the warehouse's rate, energy from its daily consumption, loss "
                "from stock written off in adjustments and counts."
            ),
            chart=None,
        ),
    )
}
