"""``wims cloud gateway ...``: register, list, rotate the token of, revoke and remove edge gateways."""

from __future__ import annotations

import os
from typing import Annotated

import typer
from rich.table import Table

from cloud.admin.db import database, err
from cloud.ingest.gateways import (
    GatewayExists,
    GatewayHasOps,
    UnknownGateway,
    add_gateway,
    list_gateways,
    remove,
    revoke,
    rotate_token,
)
from sync.clock import SystemClock
from sync.i18n.console import LocalConsole
from sync.times import iso_z

app = typer.Typer(help="Edge gateways.", no_args_is_help=True)
out = LocalConsole()
ACTOR = "cli:" + (os.environ.get("USER") or "unknown")
GatewayArg = Annotated[str, typer.Argument(help="Gateway id, as in its site config.")]


@app.command("add")
def gateway_add(
    gateway_id: GatewayArg,
    warehouse: Annotated[str, typer.Option(help="Warehouse code the gateway belongs to.")],
) -> None:
    """Register a gateway and print its token: it is shown this once and stored only hashed."""
    with database() as (engine, _):
        try:
            token = add_gateway(engine, gateway_id, warehouse, now=SystemClock().now(), actor=ACTOR)
        except GatewayExists as exc:
            err.print(f"[red]{exc}[/red]")
            raise typer.Exit(1) from None
    typer.echo(token)


@app.command("list")
def gateway_list(as_json: Annotated[bool, typer.Option("--json", help="JSON lines.")] = False) -> None:
    """Every gateway: warehouse, acknowledged seq, commands still pending, registered and revoked."""
    with database() as (engine, _):
        rows = list_gateways(engine)
    if as_json:
        import json

        for r in rows:
            print(json.dumps({**r, "created_at": iso_z(r["created_at"]), "revoked_at": iso_z(r["revoked_at"])}))  # type: ignore[arg-type]
        return
    table = Table("gateway", "warehouse", "acked seq", "pending commands", "registered", "revoked")
    for r in rows:
        table.add_row(
            str(r["gateway_id"]),
            str(r["warehouse"]),
            str(r["acked_seq"]),
            str(r["pending_commands"]),
            iso_z(r["created_at"]) or "",  # type: ignore[arg-type]
            iso_z(r["revoked_at"]) or "",  # type: ignore[arg-type]
        )
    out.print(table)


@app.command("rotate-token")
def gateway_rotate(gateway_id: GatewayArg) -> None:
    """Give the gateway a new token and print it once; the old one stops working now (a revoked gateway is
    restored). Put the new token in the gateway's [sync] token_file and restart it."""
    with database() as (engine, _):
        try:
            token = rotate_token(engine, gateway_id, now=SystemClock().now(), actor=ACTOR)
        except UnknownGateway as exc:
            err.print(f"[red]{exc}[/red]")
            raise typer.Exit(1) from None
    typer.echo(token)


@app.command("revoke")
def gateway_revoke(gateway_id: GatewayArg) -> None:
    """Stop the gateway's token from working (a stolen appliance); its ops stay. Undo with rotate-token."""
    with database() as (engine, _):
        try:
            revoke(engine, gateway_id, now=SystemClock().now(), actor=ACTOR)
        except UnknownGateway as exc:
            err.print(f"[red]{exc}[/red]")
            raise typer.Exit(1) from None
    out.print(f"gateway {gateway_id} revoked: its token no longer works")


@app.command("remove")
def gateway_remove(
    gateway_id: GatewayArg,
    force: Annotated[bool, typer.Option("--force", help="Remove even a gateway that has sent ops.")] = False,
) -> None:
    """Delete a gateway's registration and its queued commands; the ops it sent stay in the ledger."""
    with database() as (engine, _):
        try:
            kept = remove(engine, gateway_id, now=SystemClock().now(), actor=ACTOR, force=force)
        except (UnknownGateway, GatewayHasOps) as exc:
            err.print(f"[red]{exc}[/red]")
            raise typer.Exit(1) from None
    out.print(f"gateway {gateway_id} removed" + (f"; its {kept} ops stay in the ledger" if kept else ""))
