"""The dashboard's panels: each is a query function, a template partial and the events that refresh it.

Adding a panel (forecast against actuals, order fulfilment, once their tables exist) is one query
function returning a ``Table``, one partial under ``templates/panels/`` and one entry here; the page,
its refresh over SSE and the JSON twin at ``/panels/<name>.json`` follow from the entry.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy.engine import Connection

from cloud.web import dashboard
from cloud.web.dashboard import QueryContext
from cloud.web.filters import Filters
from cloud.web.table import Table
from sync.web.i18n import N_

Query = Callable[[Connection, Filters, QueryContext], Table]


@dataclass(frozen=True)
class Panel:
    name: str
    title: str
    """English message id."""
    query: Query
    template: str
    live: tuple[str, ...]
    """Server-sent event types that make an open page re-fetch this panel."""
    every_s: int | None = None
    """Also re-fetched on this period: for what changes by absence (a site going quiet is offline)."""
    wide: bool = False
    note: str = ""
    """How the time window applies to this panel (English message id)."""


PANELS: dict[str, Panel] = {
    p.name: p
    for p in (
        Panel(
            "stock",
            N_("Stock per warehouse"),
            dashboard.stock,
            "panels/stock.html",
            ("stock",),
            wide=True,
            note=N_("Now, in base units"),
        ),
        Panel(
            "sites",
            N_("Sites"),
            dashboard.sites,
            "panels/table.html",
            ("site", "stock"),
            every_s=10,
            note=N_("Now"),
        ),
        Panel(
            "alerts",
            N_("Alerts"),
            dashboard.alerts,
            "panels/table.html",
            ("stock", "site"),
            every_s=30,
            note=N_("Open now"),
        ),
        Panel(
            "activity",
            N_("Operations per hour"),
            dashboard.activity,
            "panels/activity.html",
            ("stock",),
            every_s=60,
            wide=True,
            note=N_("Over the time window"),
        ),
        Panel(
            "orders",
            N_("Order fulfilment"),
            dashboard.order_fulfilment,
            "panels/orders.html",
            ("stock",),
            every_s=60,
            note=N_("Orders routed in the time window"),
        ),
        Panel(
            "transfer_orders",
            N_("Transfers in flight"),
            dashboard.transfer_orders_in_flight,
            "panels/transfer_orders.html",
            ("stock",),
            every_s=60,
            note=N_("Open now"),
        ),
        Panel(
            "forecasts",
            N_("Forecast against actual demand"),
            dashboard.forecasts_vs_actuals,
            "panels/forecasts.html",
            (),  # a planning run's output and daily demand: no need to re-read it on every stock change
            every_s=300,
            wide=True,
            note=N_("Latest planning run; actuals over the time window (a week at least)"),
        ),
        Panel(
            "transfers",
            N_("Stock on the road"),
            dashboard.transfers,
            "panels/table.html",
            ("stock",),
            wide=True,
            note=N_("Open now"),
        ),
    )
}
