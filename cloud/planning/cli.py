"""``wims plan ...``: planning on demand and the imports planners make.

- ``wims plan run``: one planning run now (forecasts, safety stock, rebalancing recommendations,
  anomalies), stored like the scheduled ones;
- ``wims plan import-history FILE.csv``: past sales as demand history (``sku,warehouse,date,qty``);
- ``wims plan import-orders FILE.csv|.json``: customer orders, routed like ``POST /v1/orders``.

A bad file is refused whole, naming its line and column (exit 2); nothing of it is written.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from cloud.admin.db import database, err
from sync.i18n.console import LocalConsole, cli_locale

app = typer.Typer(help="Planning: forecasts, safety stock, rebalancing, order routing.", no_args_is_help=True)
out = LocalConsole(soft_wrap=True)  # one line a message, in the command line's language
ACTOR = "cli:" + (os.environ.get("USER") or "unknown")


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8-sig")
    except OSError as exc:
        err.print(f"[red]{path}: cannot read: {exc.strerror}[/red]")
        raise typer.Exit(2) from None
    except UnicodeDecodeError as exc:
        err.print(f"[red]{path}: not UTF-8 text (byte {exc.start})[/red]")
        raise typer.Exit(2) from None


@app.command("import-history")
def import_history_cmd(
    file: Annotated[Path, typer.Argument(help="CSV with a header sku,warehouse,date,qty (one row a day).")],
    allow_unknown_warehouses: Annotated[
        bool, typer.Option(help="Accept warehouses the network does not list (yet).")
    ] = False,
) -> None:
    """Import past sales as demand history; re-importing a day replaces its imported quantity."""
    from cloud.network.store import list_warehouses
    from cloud.planning.history import HistoryImportError, import_history, parse_history_csv

    text = _read(file)
    with database() as (engine, _):
        with engine.connect() as conn:
            known = None if allow_unknown_warehouses else [w.code for w in list_warehouses(conn)]
        try:
            rows = parse_history_csv(text, known_warehouses=known)
        except HistoryImportError as exc:
            err.print(f"[red]{file}: {escape(str(exc))}[/red]; nothing imported")
            raise typer.Exit(2) from None
        with engine.begin() as conn:
            days = import_history(conn, rows)
    out.print(f"{file}: {len(rows)} rows, {days} SKU-warehouse-days imported")


@app.command("import-orders")
def import_orders_cmd(
    file: Annotated[Path, typer.Argument(help="Orders as CSV (order_id,region,sku,qty[,customer,lot]) or JSON.")],
) -> None:
    """Route customer orders (marketplace-style JSON or CSV) and send each to its warehouses' gateways."""
    from cloud.events.hub import EventBus, EventHub
    from cloud.orders.imports import OrderImportError, parse_orders
    from cloud.orders.service import route_and_store
    from cloud.planning.config import load_dispatch_config
    from sync.clock import SystemClock

    text = _read(file)
    try:
        orders = parse_orders(text, json_format=file.suffix.lower() == ".json")
    except OrderImportError as exc:
        err.print(f"[red]{file}: {escape(str(exc))}[/red]; nothing imported")
        raise typer.Exit(2) from None
    with database() as (engine, settings):
        bus = EventBus(engine, EventHub(), settings.events_channel)
        cfg = load_dispatch_config(settings.planning_file)
        results = route_and_store(
            engine,
            bus,
            orders,
            now=SystemClock().now(),
            actor=ACTOR,
            source="import",
            max_split=cfg.transfers.max_split,
        )
    zh = cli_locale() != "en"  # the router gives its reason in both languages
    for r in results:
        out.print(escape(f"order {r['order_id']} {r['status']}: ") + escape(r["reason_zh"] if zh else r["reason"]))


@app.command("run")
def run_cmd() -> None:
    """Plan now: forecasts, safety stock, rebalancing recommendations and anomalies, stored as a run."""
    from cloud.planning.config import DispatchConfigError, load_dispatch_config
    from cloud.planning.runner import plan_run
    from sync.clock import SystemClock

    with database() as (engine, settings):
        try:
            cfg = load_dispatch_config(settings.planning_file)
        except DispatchConfigError as exc:
            err.print(f"[red]{escape(str(exc))}[/red]")
            raise typer.Exit(2) from None
        run = plan_run(engine, cfg, SystemClock(), trigger="cli", actor=ACTOR)
    if run["status"] != "done":
        err.print(f"[red]planning run {run['id']} {run['status']}: {escape(str(run['error']))}[/red]")
        raise typer.Exit(1)
    out.print(
        f"planning run {run['id']}: {run['series']} series forecast, {run['recommendations']} recommendations, "
        f"{run['detail'].get('anomalies', 0)} anomalies flagged, {run['detail'].get('seconds', 0):.1f} s"
    )
