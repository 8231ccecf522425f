"""Commands from the cloud, applied on the gateway: each exactly once, each leaving a ``command_applied`` op.

A command whose id is already in the journal (a re-delivery after a crash between the op and the
cursor) is acknowledged without being applied again. A body is validated against its type's model
(``sync.commands``) before anything changes; a bad one is rejected, and the rejection is the op's result.
"""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

from edge.store import sync_state
from edge.store.journal import Journal
from sync.commands import MasterDataCommand, UnknownCommandType, parse_command_body
from sync.ops import CommandAppliedPayload, OpDraft


async def apply_command(journal: Journal, command: dict[str, Any]) -> tuple[str, str]:
    """Apply one command idempotently and record ``command_applied``; returns (result, reason)."""
    command_id = str(command["command_id"])
    if journal.read(sync_state.command_applied, command_id):
        return "applied", "already applied (re-delivered)"
    ctype = str(command.get("type", ""))
    try:
        body = parse_command_body(ctype, command.get("body") or {})
        if isinstance(body, MasterDataCommand):
            reason = await apply_master_data(journal, body)
            result = "applied"
        else:
            result, reason = "rejected", f"this gateway has no handler for {ctype!r} commands"
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
    """Upsert the body's records into the gateway's master data and store the catalogue."""
    master = journal.master
    for name in type(body).model_fields:
        target = getattr(master, name)
        for record in getattr(body, name):
            target[getattr(record, "code", None) or record.id] = record
    await journal.write(master.save)
    return f"{body.record_count} master data records upserted"
