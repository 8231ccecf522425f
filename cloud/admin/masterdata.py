"""``wims cloud masterdata import``: a site's TOML into the cloud, the network's master for master data."""

from __future__ import annotations

import os
import tomllib
from pathlib import Path
from typing import Annotated

import typer
from pydantic import ValidationError

from cloud.admin.db import database, err
from cloud.events.hub import EventBus, EventHub
from cloud.masterdata import store
from sync.clock import SystemClock
from sync.i18n.console import LocalConsole

app = typer.Typer(help="Master data (SKUs, zones, locations, operators, orders).", no_args_is_help=True)
out = LocalConsole()
ACTOR = "cli:" + (os.environ.get("USER") or "unknown")


@app.command("import")
def masterdata_import(
    config: Annotated[Path, typer.Argument(help="A site TOML, e.g. configs/shanghai-cold.toml.")],
    warehouse: Annotated[str | None, typer.Option(help="Warehouse code (default: the file's site.warehouse).")] = None,
    keep_cloud: Annotated[
        bool, typer.Option("--keep-cloud", help="Only add what the cloud lacks; keep its own versions.")
    ] = False,
) -> None:
    """Import the file's master data (the other sections are the gateway's): its records replace the cloud's,
    and every gateway that needs a change gets it as a master_data command."""
    try:
        data = tomllib.loads(config.read_text())
        file_warehouse, body = store.catalogue_from_toml(data)
    except OSError as exc:
        err.print(f"[red]{config}: cannot read: {exc.strerror}[/red]")
        raise typer.Exit(2) from None
    except tomllib.TOMLDecodeError as exc:
        err.print(f"[red]{config}: not valid TOML: {exc}[/red]")
        raise typer.Exit(2) from None
    except ValidationError as exc:
        e = exc.errors()[0]
        where = ".".join(str(p) for p in e["loc"])
        err.print(
            f"[red]{config}: {where}: {e['msg']}[/red]"
            + (f" (and {exc.error_count() - 1} more)" if exc.error_count() > 1 else "")
        )
        raise typer.Exit(2) from None
    except ValueError as exc:
        err.print(f"[red]{config}: {exc}[/red]")
        raise typer.Exit(2) from None
    wh = warehouse or file_warehouse
    now = SystemClock().now()
    with database() as (engine, settings):
        bus = EventBus(engine, EventHub(), settings.events_channel)
        with engine.begin() as conn:
            mode: store.ImportMode = "seed" if keep_cloud else "upsert"
            result = store.import_catalogue(conn, wh, body, mode=mode, now=now, actor=ACTOR)
            queued = store.distribute(conn, bus, result.changed, wh, now=now, actor=ACTOR)
    out.print(
        f"{config} -> {wh}: {result.added} added, {result.updated} updated, {result.unchanged} unchanged"
        + (f", {len(result.kept)} kept as the cloud has them" if result.kept else "")
        + f"; {queued} master_data commands queued for gateways"
    )
