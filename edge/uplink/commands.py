"""Commands from the cloud, applied on the gateway: each exactly once, each leaving a ``command_applied`` op.

A command whose id is already in the journal (a re-delivery after a crash between the op and the
cursor) is acknowledged without being applied again. A body is validated against its type's model
(``sync.commands``) before anything changes; a bad one is rejected, and the rejection is the op's result.

An ``outbound_order`` is kept as the floor's order (``edge.floor.outbound.store_order``); ASNs come as
``master_data`` (``inbound_orders``). A ``transfer_order`` from this warehouse is kept as an order under
the transfer's id and ships as ``transfer_out`` ops (``edge.floor.outbound.store_transfer``).

``transport_task`` is accepted into the gateway's record of AGV transport tasks (``edge.floor.transport``,
keyed by its task id, so a re-delivery after a crash before the ``command_applied`` op is the same task);
``rule`` replaces the site's rule set in force (``edge.rules.runner``), refused whole, naming the rule
and the key, if any rule has an error. A gateway without the part a command needs rejects it, saying so.
"""

from __future__ import annotations

import sqlite3
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from edge.floor.flow import FloorError
from edge.floor.outbound import store_order, store_transfer
from edge.store import sync_state
from edge.store.journal import Journal
from edge.store.masterdata import save_cloud_records
from sync.commands import (
    MasterDataCommand,
    OutboundOrderCommand,
    RuleSetCommand,
    TransferOrderCommand,
    TransportTaskCommand,
    UnknownCommandType,
    parse_command_body,
)
from sync.ops import CommandAppliedPayload, OpDraft

if TYPE_CHECKING:
    from edge.context import EdgeContext


async def apply_command(journal: Journal, command: dict[str, Any], ctx: EdgeContext | None = None) -> tuple[str, str]:
    """Apply one command idempotently and record ``command_applied``; returns (result, reason).

    ``ctx`` gives the parts some commands need (the transport record, the rules runner)."""
    command_id = str(command["command_id"])
    if journal.read(sync_state.command_applied, command_id):
        return "applied", "already applied (re-delivered)"
    ctype = str(command.get("type", ""))
    try:
        body = parse_command_body(ctype, command.get("body") or {})
        if isinstance(body, MasterDataCommand):
            reason = await apply_master_data(journal, body)
            result = "applied"
        elif isinstance(body, OutboundOrderCommand):  # kept for the floor: reserve, wave, pick, ship
            _, reason = await store_order(journal, body, "cloud")
            result = "applied"
        elif isinstance(body, TransferOrderCommand):  # picked and shipped by the floor as transfer_out
            _, reason = await store_transfer(journal, body)
            result = "applied"
        elif isinstance(body, TransportTaskCommand):
            result, reason = await apply_transport_task(ctx, body, command_id)
        elif isinstance(body, RuleSetCommand):
            result, reason = await apply_rules(ctx, body, command_id)
        else:
            result, reason = "rejected", f"this gateway has no handler for {ctype!r} commands"
    except FloorError as exc:
        result, reason = "rejected", f"{ctype} command refused: {exc.message}"[:500]
    except UnknownCommandType as exc:
        result, reason = "rejected", str(exc)[:500]
    except (ValidationError, ValueError) as exc:
        result, reason = "rejected", f"invalid {ctype} command: {exc}"[:500]
    await journal.append(
        OpDraft(
            payload=CommandAppliedPayload(
                command_id=command_id,
                cursor=int(command.get("cursor", 0)),
                command_type=ctype or "unknown",
                result=result,
                reason=reason[:500],
            ),
            actor="system:sync",
            device_id="cloud",
            occurred_at=journal.clock.now(),
        )
    )
    return result, reason


async def apply_master_data(journal: Journal, body: MasterDataCommand) -> str:
    """Upsert the body's records into the gateway's master data, keep them as the cloud's (they win over
    the site file at the next start) and store the catalogue."""
    records = {name: list(getattr(body, name)) for name in type(body).model_fields if getattr(body, name)}
    master = journal.master
    for kind, items in records.items():
        master.upsert(kind, items)

    def store(conn: sqlite3.Connection) -> None:
        master.save(conn)
        conn.execute("BEGIN IMMEDIATE")
        try:
            save_cloud_records(conn, records)
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise

    await journal.write(store)
    return f"{body.record_count} master data records upserted"


async def apply_transport_task(ctx: EdgeContext | None, body: TransportTaskCommand, command_id: str) -> tuple[str, str]:
    """Accept the task into the transport record (the same task on a re-delivery) and hand it to the fleet."""
    from edge.floor.transport import TransportRefused

    if ctx is None or ctx.transport is None:
        return "rejected", "this gateway has no AGV fleet ([fleet] missing): transport task not accepted"
    try:
        row = await ctx.transport.from_command(body, command_id)
    except TransportRefused as exc:
        return "rejected", f"transport task {body.task_id} refused: {exc}"
    return "applied", f"transport task {row.task_id} accepted ({row.state})"


async def apply_rules(ctx: EdgeContext | None, body: RuleSetCommand, command_id: str) -> tuple[str, str]:
    """Put the cloud's rule set in force (kept across restarts); one with any error is refused whole."""
    from edge.rules.engine import RulesError

    if ctx is None or ctx.rules is None:
        return "rejected", "this gateway runs no rules runner: rule set not applied"
    try:
        ruleset = await ctx.rules.apply_cloud(body, command_id)
    except RulesError as exc:
        return "rejected", str(exc)[:500]
    return "applied", f"{len(ruleset.rules)} rules in force, hash {ruleset.hash}"
