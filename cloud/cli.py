"""``wims cloud ...``: serve, migrate, register gateways and users, verify the audit log."""

from __future__ import annotations

import math
from typing import Annotated

import typer
from rich.markup import escape

from cloud.admin.db import database, err, settings_or_exit
from cloud.admin.gateways import app as gateway_app
from cloud.admin.masterdata import app as masterdata_app
from cloud.admin.users import app as user_app
from cloud.audit.log import verify
from cloud.db.engine import is_postgres
from cloud.db.migrate import upgrade
from cloud.network.cli import lane_app, warehouse_app
from cloud.planning.config import DispatchConfigError, load_dispatch_config
from sync.i18n.console import LocalConsole

app = typer.Typer(help="The central cloud service.", no_args_is_help=True)
audit_app = typer.Typer(help="The hash-chained audit log.", no_args_is_help=True)
app.add_typer(gateway_app, name="gateway")
app.add_typer(user_app, name="user")
app.add_typer(masterdata_app, name="masterdata")
app.add_typer(audit_app, name="audit")
app.add_typer(warehouse_app, name="warehouse")
app.add_typer(lane_app, name="lane")
console = LocalConsole()


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Interface to bind.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port.")] = 8080,
    workers: Annotated[int, typer.Option(min=1, help="Worker processes (PostgreSQL for more than one).")] = 1,
) -> None:
    """Run the API under uvicorn; each worker builds its own app from the WIMS_* environment."""
    import uvicorn

    settings = settings_or_exit()
    try:  # a bad planning file is one line naming the file and key, not a traceback from every worker
        load_dispatch_config(settings.planning_file)
    except DispatchConfigError as exc:
        err.print(f"[red]{escape(str(exc))}[/red]")
        raise typer.Exit(2) from None
    if workers > 1 and not is_postgres(settings.database_url):
        console.print(
            "[yellow]several workers on SQLite: live events reach only the subscribers of the worker that "
            "wrote; use PostgreSQL (LISTEN/NOTIFY) for more than one worker[/yellow]"
        )
    uvicorn.run(
        "cloud.app:app_from_env",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_level="info",
        timeout_graceful_shutdown=math.ceil(settings.shutdown_grace_s),
    )


@app.command()
def migrate(revision: Annotated[str, typer.Argument()] = "head") -> None:
    """Create or upgrade the database schema (Alembic)."""
    with database() as (_engine, settings):
        upgrade(settings.database_url, revision)
    console.print(f"database at revision {revision}")


@audit_app.command("verify")
def audit_verify() -> None:
    """Recompute the audit log's hash chain; exit 1 at the first bad entry."""
    with database() as (engine, _), engine.connect() as conn:
        v = verify(conn)
    if v.ok:
        console.print(f"audit log OK: {v.entries} entries")
        return
    console.print(f"[red]audit log broken at entry {v.bad_id}: {v.reason}[/red] ({v.entries} good before it)")
    raise typer.Exit(1)
