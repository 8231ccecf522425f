"""What the sync agent needs from the gateway's store, and nothing more.

The agent lives in ``sync`` (the protocol between edge and cloud) and must not import ``edge``; the
edge hands it an object with this shape (``edge.uplink.journal_outbox.JournalOutbox``). Everything the agent
must remember across a restart (the cloud's acknowledged seq, the command cursor) is kept through
``get_state``/``set_state`` in the same database as the journal, so it resumes from the journal alone.
"""

from __future__ import annotations

from typing import Any, Protocol


class Outbox(Protocol):
    def head_seq(self) -> int:
        """Highest seq journaled."""
        ...

    def first_held_seq(self) -> int:
        """Lowest seq still held (1 unless acknowledged ops were compacted away)."""
        ...

    def read_wire(self, after: int, max_ops: int, max_bytes: int) -> list[tuple[int, bytes]]:
        """Ops after ``after`` in seq order as (seq, wire JSON), stopping at either limit (at least one op)."""
        ...

    async def wait_for_head(self, after: int, timeout: float) -> int:
        """Return when an op beyond ``after`` exists, or after ``timeout`` seconds."""
        ...

    async def get_state(self, key: str) -> str | None: ...

    async def set_state(self, key: str, value: str) -> None: ...

    async def unsynced_telemetry(self, limit: int) -> list[dict[str, Any]]:
        """1-minute aggregates not yet acknowledged by the cloud, oldest first."""
        ...

    async def mark_telemetry_synced(self, aggregates: list[dict[str, Any]]) -> None:
        """Mark exactly these aggregates synced (a minute that grew since it was read stays unsynced)."""
        ...

    async def apply_command(self, command: dict[str, Any]) -> tuple[str, str]:
        """Apply a cloud command idempotently and record ``command_applied``; returns (result, reason)."""
        ...
