"""The gateway's journal seen as the sync agent's outbox (``sync.agent.outbox.Outbox``).

The agent lives in ``sync`` and must not import ``edge``; this adapter hands it the journal's ops in
their wire form, the durable state it keeps beside them, the telemetry aggregates to send, and the
commands it receives (applied by ``edge.uplink.commands``). Every statement is a store function
(``edge.store.sync_state``, ``edge.store.telemetry``), run on the journal's reader or writer.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from edge.store import sync_state, telemetry
from edge.store.journal import Journal
from edge.uplink.commands import apply_command

if TYPE_CHECKING:
    from edge.context import EdgeContext


class JournalOutbox:
    def __init__(self, journal: Journal, ctx: EdgeContext | None = None) -> None:
        self.journal = journal
        self.ctx = ctx  # the parts some commands need (AGV transports, rules)

    def head_seq(self) -> int:
        return self.journal.head()[0]

    def first_held_seq(self) -> int:
        return self.journal.read(sync_state.first_held_seq, self.head_seq())

    def read_wire(self, after: int, max_ops: int, max_bytes: int) -> list[tuple[int, bytes]]:
        return self.journal.read(sync_state.read_wire, after, max_ops, max_bytes)

    def backlog(self, acked_seq: int) -> sync_state.Backlog:
        return self.journal.read(sync_state.read_backlog, acked_seq, self.head_seq())

    async def wait_for_head(self, after: int, timeout: float) -> int:
        return await self.journal.wait_for_head(after, timeout)

    async def get_state(self, key: str) -> str | None:
        return self.journal.read(sync_state.read_state, key)

    async def set_state(self, key: str, value: str) -> None:
        await self.journal.write(sync_state.write_state, key, value)

    async def unsynced_telemetry(self, limit: int) -> list[dict[str, Any]]:
        return await self.journal.write(telemetry.read_unsynced, limit)

    async def mark_telemetry_synced(self, aggregates: list[dict[str, Any]]) -> None:
        await self.journal.write(telemetry.mark_synced, aggregates)

    async def apply_command(self, command: dict[str, Any]) -> tuple[str, str]:
        return await apply_command(self.journal, command, self.ctx)
