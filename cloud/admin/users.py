"""``wims cloud user ...``: add, list, change the role of, reset the password of, disable and enable users."""

from __future__ import annotations

import getpass
import json
import os
from typing import Annotated

import typer
from rich.table import Table

from cloud.admin.db import database, err
from cloud.auth.users import UnknownUser, UserExists, add_user, list_users, reset_password, set_disabled, set_role
from sync.clock import SystemClock
from sync.i18n.console import LocalConsole, tr
from sync.roles import Role
from sync.times import iso_z

app = typer.Typer(help="Users and roles.", no_args_is_help=True)
out = LocalConsole()
ACTOR = "cli:" + (os.environ.get("USER") or "unknown")
NameArg = Annotated[str, typer.Argument(help="Login name.")]


def _password(given: str | None) -> str:
    pw = given or os.environ.get("WIMS_PASSWORD") or getpass.getpass(tr("password: "))
    if len(pw) < 8:
        err.print("[red]password must have at least 8 characters[/red]")
        raise typer.Exit(2)
    return pw


@app.command("add")
def user_add(
    name: NameArg,
    role: Annotated[Role, typer.Option(help="admin, planner, supervisor, operator or auditor.")],
    warehouse: Annotated[
        str | None, typer.Option(help="Bind the user to this warehouse: every read shows only it.")
    ] = None,
    password: Annotated[str | None, typer.Option(help="Taken from WIMS_PASSWORD or a prompt if absent.")] = None,
) -> None:
    """Create a user who can log in at POST /v1/auth/login."""
    pw = _password(password)
    with database() as (engine, settings):
        try:
            add_user(
                engine,
                name,
                role,
                pw,
                warehouse=warehouse,
                now=SystemClock().now(),
                actor=ACTOR,
                passwords=settings.passwords(),
            )
        except (UserExists, ValueError) as exc:
            err.print(f"[red]cannot add user: {exc}[/red]")
            raise typer.Exit(1) from None
    out.print(f"user {name} ({role.value}{', warehouse ' + warehouse if warehouse else ''}) added")


@app.command("list")
def user_list(as_json: Annotated[bool, typer.Option("--json", help="JSON lines.")] = False) -> None:
    """Every user: role, home warehouse, created, disabled."""
    with database() as (engine, _):
        rows = list_users(engine)
    if as_json:
        for r in rows:
            print(json.dumps({**r, "created_at": iso_z(r["created_at"]), "disabled_at": iso_z(r["disabled_at"])}))  # type: ignore[arg-type]
        return
    table = Table("user", "role", "warehouse", "created", "disabled")
    for r in rows:
        table.add_row(
            str(r["username"]),
            str(r["role"]),
            str(r["warehouse"] or ""),
            iso_z(r["created_at"]) or "",  # type: ignore[arg-type]
            iso_z(r["disabled_at"]) or "",  # type: ignore[arg-type]
        )
    out.print(table)


@app.command("set-role")
def user_set_role(
    name: NameArg,
    role: Annotated[Role, typer.Argument(help="admin, planner, supervisor, operator or auditor.")],
    warehouse: Annotated[str | None, typer.Option(help="Bind the user to this warehouse.")] = None,
    no_warehouse: Annotated[bool, typer.Option("--no-warehouse", help="Unbind the user (whole network).")] = False,
) -> None:
    """Change a user's role (and warehouse); it applies to the user's current logins at once."""
    keep = warehouse is None and not no_warehouse
    with database() as (engine, _):
        try:
            set_role(engine, name, role, warehouse=warehouse, keep_warehouse=keep, now=SystemClock().now(), actor=ACTOR)
        except (UnknownUser, ValueError) as exc:
            err.print(f"[red]{exc}[/red]")
            raise typer.Exit(1) from None
    out.print(f"user {name} is now {role.value}")


@app.command("reset-password")
def user_reset_password(
    name: NameArg,
    password: Annotated[str | None, typer.Option(help="Taken from WIMS_PASSWORD or a prompt if absent.")] = None,
) -> None:
    """Set a new password; the user's current logins end."""
    pw = _password(password)
    with database() as (engine, settings):
        try:
            reset_password(engine, name, pw, now=SystemClock().now(), actor=ACTOR, passwords=settings.passwords())
        except UnknownUser as exc:
            err.print(f"[red]{exc}[/red]")
            raise typer.Exit(1) from None
    out.print(f"password of {name} reset; their logins ended")


@app.command("disable")
def user_disable(name: NameArg) -> None:
    """No more logins for the user, and their current tokens stop working."""
    _set_disabled(name, True)


@app.command("enable")
def user_enable(name: NameArg) -> None:
    """Let a disabled user log in again."""
    _set_disabled(name, False)


def _set_disabled(name: str, disabled: bool) -> None:
    with database() as (engine, _):
        try:
            set_disabled(engine, name, disabled, now=SystemClock().now(), actor=ACTOR)
        except UnknownUser as exc:
            err.print(f"[red]{exc}[/red]")
            raise typer.Exit(1) from None
    out.print(f"user {name} {'disabled' if disabled else 'enabled'}")
