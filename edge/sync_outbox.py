"""The gateway's side of sync: the journal seen as an outbox, and cloud commands applied to the edge.

Ops go up exactly as stored: the wire JSON of an op is its stored canonical text with the hash added,
so nothing is re-serialised between the hash and the wire. Commands are applied idempotently: each
applied command leaves a ``command_applied`` op, and a command whose id is already in the journal (a
re-delivery after a crash between the op and the cursor) is acknowledged without being applied again.
"""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

from edge.config import InboundOrder, Location, Operator, OutboundOrder, Sku, Zone
from edge.store.journal import Journal
from sync.ops import CommandAppliedPayload, OpDraft

_MASTER_KINDS: dict[str, tuple[str, type[Any], str]] = {
    "skus": ("skus", Sku, "code"),
    "zones": ("zones", Zone, "code"),
    "locations": ("locations", Location, "code"),
    "operators": ("operators", Operator, "id"),
    "inbound_orders": ("inbound_orders", InboundOrder, "id"),
    "outbound_orders": ("outbound_orders", OutboundOrder, "id"),
}


class JournalOutbox:
    def __init__(self, journal: Journal) -> None:
        self.journal = journal

    def head_seq(self) -> int:
        return self.journal.head()[0]

    def first_held_seq(self) -> int:
        row = self.journal.read_one("SELECT min(seq) FROM journal")
        return int(row[0]) if row and row[0] is not None else self.head_seq() + 1

    def read_wire(self, after: int, max_ops: int, max_bytes: int) -> list[tuple[int, bytes]]:
        out: list[tuple[int, bytes]] = []
        size = 0
        for seq, text, hash_ in self.journal.read_all(
            "SELECT seq, body, hash FROM journal WHERE seq > ? ORDER BY seq LIMIT ?", (after, max_ops)
        ):
            wire = f'{text[:-1]},"hash":"{hash_}"}}'.encode()
            if out and size + len(wire) > max_bytes:
                break
            out.append((int(seq), wire))
            size += len(wire)
        return out

    def backlog_bytes(self, after: int) -> int:
        row = self.journal.read_one(
            "SELECT coalesce(sum(length(body)) + 80 * count(*), 0) FROM journal WHERE seq > ?", (after,)
        )
        return int(row[0]) if row else 0

    def oldest_unacked_recorded_at(self, after: int) -> str | None:
        row = self.journal.read_one("SELECT recorded_at FROM journal WHERE seq > ? ORDER BY seq LIMIT 1", (after,))
        return str(row[0]) if row else None

    async def wait_for_head(self, after: int, timeout: float) -> int:
        return await self.journal.wait_for_head(after, timeout)

    async def get_state(self, key: str) -> str | None:
        row = self.journal.read_one("SELECT value FROM sync_state WHERE key = ?", (key,))
        return str(row[0]) if row else None

    async def set_state(self, key: str, value: str) -> None:
        def write() -> None:
            conn = self.journal.write_connection
            conn.execute(
                "INSERT INTO sync_state(key, value) VALUES (?, ?) "
                "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                (key, value),
            )

        await self.journal.run_write(write)

    async def unsynced_telemetry(self, limit: int) -> list[dict[str, Any]]:
        def read() -> list[dict[str, Any]]:
            rows = self.journal.write_connection.execute(
                "SELECT sensor_id, minute, n, vmin, vmax, vsum FROM telemetry_agg WHERE synced = 0 "
                "ORDER BY minute, sensor_id LIMIT ?",
                (limit,),
            ).fetchall()
            return [
                {"sensor_id": s, "minute": m, "n": n, "vmin": lo, "vmax": hi, "vsum": total}
                for s, m, n, lo, hi, total in rows
            ]

        result: list[dict[str, Any]] = await self.journal.run_write(read)
        return result

    async def mark_telemetry_synced(self, aggregates: list[dict[str, Any]]) -> None:
        def write() -> None:
            conn = self.journal.write_connection
            conn.execute("BEGIN IMMEDIATE")
            conn.executemany(
                "UPDATE telemetry_agg SET synced = 1 WHERE sensor_id = ? AND minute = ? AND n = ?",
                [(a["sensor_id"], a["minute"], a["n"]) for a in aggregates],
            )
            conn.execute("COMMIT")

        await self.journal.run_write(write)

    async def apply_command(self, command: dict[str, Any]) -> tuple[str, str]:
        command_id = str(command["command_id"])
        row = self.journal.read_one(
            "SELECT body FROM journal WHERE kind = 'command_applied' "
            "AND json_extract(body, '$.payload.command_id') = ? LIMIT 1",
            (command_id,),
        )
        if row is not None:
            return "applied", "already applied (re-delivered)"
        ctype = str(command.get("type", ""))
        try:
            if ctype == "master_data":
                reason = await self._apply_master_data(command.get("body") or {})
                result = "applied"
            else:
                result, reason = "rejected", f"this gateway has no handler for {ctype!r} commands"
        except (ValidationError, ValueError, KeyError, TypeError) as exc:
            result, reason = "rejected", f"invalid {ctype} command: {exc}"[:500]
        await self.journal.append(
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
            )
        )
        return result, reason

    async def _apply_master_data(self, body: dict[str, Any]) -> str:
        """Upsert master data records; validated whole before anything changes."""
        master = self.journal.master
        staged: list[tuple[dict[str, Any], str, Any]] = []
        for key, items in body.items():
            if key not in _MASTER_KINDS:
                raise ValueError(f"unknown master data kind {key!r}")
            attr, model, id_field = _MASTER_KINDS[key]
            for item in items:
                rec = model.model_validate(item)
                staged.append((getattr(master, attr), getattr(rec, id_field), rec))
        for target, ident, rec in staged:
            target[ident] = rec
        await self.journal.run_write(master.save, self.journal.write_connection)
        return f"{len(staged)} master data records upserted"
