"""The sync agent: pushes the journal to the cloud and applies the cloud's commands, for ever.

Push: ops go up in seq order in batches bounded by count and bytes. An op counts as acknowledged only
when the cloud's answer says its highest contiguous stored seq covers it; that number is kept durably
beside the journal, so after any restart the agent resumes from the journal alone. Resending what the
cloud already holds is harmless (the cloud stores each op once), so every failure (refused connection,
cut response, timeout, 5xx) is handled the same way: back off with jitter and send again.

If the cloud's high-water mark goes *back* (its database was restored from an older backup), the agent
notices, says so loudly, and sends again from there what the journal still holds; a range it no longer
holds (compacted) is reported as lost in health, metrics and logs, never skipped silently.

Commands: long-polled by cursor, each applied idempotently by the edge (which records
``command_applied``), then the cursor is stored.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sync.agent.client import CloudClient, Refused, SyncError, Transient
from sync.agent.outbox import Outbox
from sync.clock import Clock, SystemClock

log = logging.getLogger("wims.sync.agent")

ACKED_KEY = "cloud_acked_seq"
CURSOR_KEY = "command_cursor"


@dataclass
class Backoff:
    """Full-jitter exponential backoff: a random wait in [0, min(cap, base * 2**attempt)]."""

    base: float = 0.5
    cap: float = 60.0
    attempt: int = 0
    rng: random.Random = field(default_factory=random.Random)

    def next_delay(self) -> float:
        delay = self.rng.uniform(0, min(self.cap, self.base * 2**self.attempt))
        self.attempt = min(self.attempt + 1, 30)
        return delay

    def reset(self) -> None:
        self.attempt = 0


@dataclass
class SyncStatus:
    """What ``/healthz``, ``/metrics`` and ``wims edge sync status`` show of the agent."""

    acked_seq: int = 0
    head_seq: int = 0
    backlog_bytes: int = 0
    oldest_unacked_at: datetime | None = None
    last_success_at: datetime | None = None
    last_error: str | None = None
    last_error_at: datetime | None = None
    consecutive_errors: int = 0
    pushed_ops: int = 0
    duplicate_ops: int = 0
    quarantined: list[dict[str, Any]] = field(default_factory=list)
    regressions: int = 0
    lost_ranges: list[tuple[int, int]] = field(default_factory=list)
    command_cursor: int = 0
    commands_applied: int = 0
    telemetry_sent: int = 0

    @property
    def backlog_ops(self) -> int:
        return max(0, self.head_seq - self.acked_seq)


class SyncAgent:
    """Run with ``await agent.run()`` inside the gateway's TaskGroup; cancel to stop."""

    def __init__(
        self,
        outbox: Outbox,
        cloud: CloudClient,
        *,
        clock: Clock | None = None,
        max_batch_ops: int = 500,
        max_batch_bytes: int = 1 << 20,
        poll_wait: float = 25.0,
        idle_head_check: float = 60.0,
        backoff: Backoff | None = None,
        on_change: Callable[[SyncStatus], None] | None = None,
        pull_commands: bool = True,
        telemetry_batch: int = 2000,
        telemetry_every_batches: int = 10,
        telemetry_max_wait: float = 30.0,
    ) -> None:
        self.outbox = outbox
        self.cloud = cloud
        self.clock = clock or SystemClock()
        self.max_batch_ops = max_batch_ops
        self.max_batch_bytes = max_batch_bytes
        self.poll_wait = poll_wait
        self.idle_head_check = idle_head_check
        self._push_backoff = backoff or Backoff()
        self._cmd_backoff = Backoff(rng=self._push_backoff.rng)
        self.status = SyncStatus()
        self._on_change = on_change
        self.pull_commands = pull_commands
        self.idle = asyncio.Event()  # set while everything journaled is acknowledged
        self.telemetry_batch = telemetry_batch
        self.telemetry_every_batches = telemetry_every_batches
        self.telemetry_max_wait = telemetry_max_wait
        self._batches_since_telemetry = 0
        self._last_telemetry = -1e18

    async def run(self) -> None:
        acked = await self.outbox.get_state(ACKED_KEY)
        self.status.acked_seq = int(acked) if acked else 0
        cursor = await self.outbox.get_state(CURSOR_KEY)
        self.status.command_cursor = int(cursor) if cursor else 0
        async with asyncio.TaskGroup() as tg:
            tg.create_task(self._push_loop(), name="sync-push")
            if self.pull_commands:
                tg.create_task(self._command_loop(), name="sync-commands")

    # ---- push ------------------------------------------------------------------------------------

    async def _push_loop(self) -> None:
        await self._check_cloud_head()
        while True:
            head = self.outbox.head_seq()
            self.status.head_seq = head
            if head <= self.status.acked_seq:
                if await self._maybe_push_telemetry(ops_idle=True):
                    continue
                self.idle.set()
                self._changed()
                seen = await self.outbox.wait_for_head(
                    self.status.acked_seq, min(self.idle_head_check, self.telemetry_max_wait)
                )
                if seen <= self.status.acked_seq:
                    await self._check_cloud_head()  # idle: make sure the cloud did not go back
                continue
            self.idle.clear()
            try:
                await self._push_once()
                self._push_backoff.reset()
                self._batches_since_telemetry += 1
                await self._maybe_push_telemetry(ops_idle=False)
            except SyncError as exc:
                self._error(exc)
                await self.clock.sleep(self._push_backoff.next_delay())

    async def _push_once(self) -> None:
        acked = self.status.acked_seq
        first = self.outbox.first_held_seq()
        if acked + 1 < first:
            # The cloud needs ops this gateway compacted after an acknowledgement the cloud has since
            # lost. Pushing past the hole would only be quarantined: stop here, loudly, and keep asking.
            self._lost(acked + 1, first - 1)
            raise Refused(410, f"the cloud needs seq {acked + 1}..{first - 1}, which this gateway no longer holds")
        batch = self.outbox.read_wire(acked, self.max_batch_ops, self.max_batch_bytes)
        if not batch:
            return
        result = await self.cloud.push([wire for _, wire in batch])
        self.status.duplicate_ops += result.duplicates
        if result.quarantined:
            self.status.quarantined = result.quarantined[-20:]
        last_sent = batch[-1][0]
        if result.acked_seq < acked:
            self._regressed(acked, result.acked_seq)
            await self._store_acked(result.acked_seq)
        elif result.acked_seq > acked:
            new = min(result.acked_seq, max(last_sent, result.acked_seq))
            self.status.pushed_ops += new - acked
            await self._store_acked(new)
        else:
            reason = result.quarantined[0]["reason"] if result.quarantined else "no progress"
            raise Refused(409, f"cloud stored nothing of seq {acked + 1}..{last_sent}: {reason}")
        self.status.last_success_at = self.clock.now()
        self.status.consecutive_errors = 0
        self._changed()

    async def _maybe_push_telemetry(self, *, ops_idle: bool) -> bool:
        """Telemetry rides below ops: it goes when ops are idle, and also after every
        ``telemetry_every_batches`` op batches or ``telemetry_max_wait`` seconds, so a backlog of ops
        never starves it for ever. Returns whether anything was sent."""
        due = (
            ops_idle
            or self._batches_since_telemetry >= self.telemetry_every_batches
            or self.clock.monotonic() - self._last_telemetry >= self.telemetry_max_wait
        )
        if not due:
            return False
        self._last_telemetry = self.clock.monotonic()
        self._batches_since_telemetry = 0
        batch = await self.outbox.unsynced_telemetry(self.telemetry_batch)
        if not batch:
            return False
        try:
            await self.cloud.push_telemetry(batch)
        except SyncError as exc:
            self._error(exc)
            return False
        await self.outbox.mark_telemetry_synced(batch)
        self.status.telemetry_sent += len(batch)
        if len(batch) == self.telemetry_batch:
            self._last_telemetry = -1e18  # a backlog: the next batch may go at once
        return True

    async def _check_cloud_head(self) -> None:
        try:
            cloud_head = await self.cloud.head()
        except SyncError as exc:
            self._error(exc)
            return
        if cloud_head < self.status.acked_seq:
            self._regressed(self.status.acked_seq, cloud_head)
            await self._store_acked(cloud_head)
            self.idle.clear()

    async def _store_acked(self, seq: int) -> None:
        await self.outbox.set_state(ACKED_KEY, str(seq))
        self.status.acked_seq = seq

    def _regressed(self, ours: int, theirs: int) -> None:
        self.status.regressions += 1
        log.error(
            "sync.cloud_went_back: the cloud acknowledged seq %d before but now holds only up to %d "
            "(restored from an older backup?); sending again from %d",
            ours,
            theirs,
            theirs + 1,
        )

    def _lost(self, first: int, last: int) -> None:
        if (first, last) in self.status.lost_ranges:
            return
        self.status.lost_ranges.append((first, last))
        log.critical(
            "sync.ops_lost: the cloud needs seq %d..%d, which this gateway no longer holds (compacted "
            "after an acknowledgement the cloud has since lost); they must be restored by hand",
            first,
            last,
        )

    def _error(self, exc: SyncError) -> None:
        self.status.last_error = str(exc)
        self.status.last_error_at = self.clock.now()
        self.status.consecutive_errors += 1
        level = logging.WARNING if isinstance(exc, Transient) else logging.ERROR
        log.log(level, "sync.error: %s", exc)
        self._changed()

    def _changed(self) -> None:
        if self._on_change is not None:
            self._on_change(self.status)

    # ---- commands --------------------------------------------------------------------------------

    async def _command_loop(self) -> None:
        while True:
            try:
                commands, nxt = await self.cloud.commands(self.status.command_cursor, self.poll_wait)
                for command in commands:
                    result, reason = await self.outbox.apply_command(command)
                    self.status.commands_applied += 1
                    log.info("sync.command %s %s %s %s", command.get("command_id"), command.get("type"), result, reason)
                    await self._store_cursor(int(command["cursor"]))
                if nxt > self.status.command_cursor:
                    await self._store_cursor(nxt)
                self._cmd_backoff.reset()
            except SyncError as exc:
                self._error(exc)
                await self.clock.sleep(self._cmd_backoff.next_delay())

    async def _store_cursor(self, cursor: int) -> None:
        await self.outbox.set_state(CURSOR_KEY, str(cursor))
        self.status.command_cursor = cursor
