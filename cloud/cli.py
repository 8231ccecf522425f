"""``wims cloud ...``: serve, migrate, register gateways and users, verify the audit log."""

from __future__ import annotations

import getpass
import math
import os
from typing import Annotated

import typer
from rich.console import Console

from cloud.audit.log import verify
from cloud.auth.users import UserExists, add_user
from cloud.db.engine import is_postgres, make_engine
from cloud.db.migrate import upgrade
from cloud.ingest.gateways import GatewayExists, add_gateway
from cloud.settings import CloudSettings
from sync.clock import SystemClock
from sync.roles import Role

app = typer.Typer(help="The central cloud service.", no_args_is_help=True)
gateway_app = typer.Typer(help="Edge gateways.", no_args_is_help=True)
user_app = typer.Typer(help="Users and roles.", no_args_is_help=True)
audit_app = typer.Typer(help="The hash-chained audit log.", no_args_is_help=True)
app.add_typer(gateway_app, name="gateway")
app.add_typer(user_app, name="user")
app.add_typer(audit_app, name="audit")
console = Console()
_ACTOR = "cli:" + (os.environ.get("USER") or "unknown")


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Interface to bind.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port.")] = 8080,
    workers: Annotated[int, typer.Option(min=1, help="Worker processes (PostgreSQL for more than one).")] = 1,
) -> None:
    """Run the API under uvicorn; each worker builds its own app from the WIMS_* environment."""
    import uvicorn

    settings = CloudSettings()
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
    settings = CloudSettings()
    upgrade(settings.database_url, revision)
    console.print(f"database at revision {revision}")


@gateway_app.command("add")
def gateway_add(
    gateway_id: Annotated[str, typer.Argument(help="Gateway id, as in its site config.")],
    warehouse: Annotated[str, typer.Option(help="Warehouse code the gateway belongs to.")],
) -> None:
    """Register a gateway and print its token: it is shown this once and stored only hashed."""
    engine = make_engine(CloudSettings().database_url)
    try:
        token = add_gateway(engine, gateway_id, warehouse, now=SystemClock().now(), actor=_ACTOR)
    except GatewayExists:
        console.print(f"[red]gateway {gateway_id} already exists[/red]")
        raise typer.Exit(1) from None
    finally:
        engine.dispose()
    typer.echo(token)


@user_app.command("add")
def user_add(
    name: Annotated[str, typer.Argument(help="Login name.")],
    role: Annotated[Role, typer.Option(help="admin, planner, supervisor, operator or auditor.")],
    warehouse: Annotated[str | None, typer.Option(help="Home warehouse (supervisors, operators).")] = None,
    password: Annotated[str | None, typer.Option(help="Taken from WIMS_PASSWORD or a prompt if absent.")] = None,
) -> None:
    """Create a user who can log in at /v1/auth/login."""
    pw = password or os.environ.get("WIMS_PASSWORD") or getpass.getpass("password: ")
    if len(pw) < 8:
        console.print("[red]password must have at least 8 characters[/red]")
        raise typer.Exit(2)
    settings = CloudSettings()
    engine = make_engine(settings.database_url)
    try:
        add_user(
            engine,
            name,
            role,
            pw,
            warehouse=warehouse,
            now=SystemClock().now(),
            actor=_ACTOR,
            passwords=settings.passwords(),
        )
    except (UserExists, ValueError) as exc:
        console.print(f"[red]cannot add user: {exc}[/red]")
        raise typer.Exit(1) from None
    finally:
        engine.dispose()
    console.print(f"user {name} ({role.value}) added")


@audit_app.command("verify")
def audit_verify() -> None:
    """Recompute the audit log's hash chain; exit 1 at the first bad entry."""
    engine = make_engine(CloudSettings().database_url)
    try:
        with engine.connect() as conn:
            v = verify(conn)
    finally:
        engine.dispose()
    if v.ok:
        console.print(f"audit log OK: {v.entries} entries")
        return
    console.print(f"[red]audit log broken at entry {v.bad_id}: {v.reason}[/red] ({v.entries} good before it)")
    raise typer.Exit(1)
