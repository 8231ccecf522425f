"""Runs the sync agent inside the gateway and shows its state in health and metrics."""

from __future__ import annotations

import asyncio
import hashlib
from datetime import timedelta
from typing import Any

from prometheus_client import Counter, Gauge

from edge.context import EdgeContext
from edge.health import Status
from edge.store import sync_state
from edge.uplink.journal_outbox import JournalOutbox
from edge.uplink.site_report import SiteReporter
from edge.uplink.status import backlog_facts
from sync.agent.agent import Backoff, SyncAgent, SyncStatus
from sync.agent.client import CloudClient, SyncError
from sync.canonical import canonical_bytes, iso_utc
from sync.times import iso_z

SEED_KEY = "masterdata_seed_hash"
"""sync_state key: the hash of the site-file master data the cloud last imported."""


class SyncRunner:
    """Owns the agent, its cloud client, and the bridge from its status to health and metrics."""

    def __init__(self, ctx: EdgeContext) -> None:
        self.ctx = ctx
        cfg = ctx.config.sync
        assert cfg.url is not None
        self.outbox = JournalOutbox(ctx.journal, ctx)
        self.cloud = CloudClient(
            cfg.url,
            ctx.gateway_id,
            cfg.resolved_token(),
            ca_file=cfg.ca_file,
            timeout=cfg.timeout_seconds,
            compress=cfg.gzip,
        )
        self.agent = SyncAgent(
            self.outbox,
            self.cloud,
            clock=ctx.clock,
            max_batch_ops=cfg.batch_max_ops,
            max_batch_bytes=cfg.batch_max_bytes,
            poll_wait=cfg.poll_wait_seconds,
            backoff=Backoff(cap=cfg.backoff_max_seconds),
            on_change=self._changed,
            idle_head_check=cfg.head_check_seconds,
        )
        reg = ctx.registry
        self._g_backlog = Gauge(
            "wims_sync_backlog_ops", "Ops journaled but not acknowledged by the cloud", registry=reg
        )
        self._g_bytes = Gauge("wims_sync_backlog_bytes", "Approximate bytes of the unacknowledged ops", registry=reg)
        self._g_age = Gauge("wims_sync_oldest_unacked_seconds", "Age of the oldest unacknowledged op", registry=reg)
        self._g_acked = Gauge("wims_sync_acked_seq", "Highest seq the cloud acknowledged", registry=reg)
        self._g_success = Gauge("wims_sync_last_success_timestamp", "Unix time of the last accepted push", registry=reg)
        self._c_errors = Counter("wims_sync_errors", "Failed exchanges with the cloud", registry=reg)
        self._g_regress = Gauge(
            "wims_sync_cloud_regressions", "Times the cloud's high-water mark went back", registry=reg
        )
        self._g_lost = Gauge("wims_sync_lost_ops", "Ops the cloud lost that this gateway no longer holds", registry=reg)
        self._errors_seen = 0
        self.reporter = SiteReporter(ctx, self.cloud, self.snapshot)

    async def run(self) -> None:
        self.ctx.health.refresh_with("sync", lambda: self._changed(self.agent.status))
        try:
            async with self.cloud, asyncio.TaskGroup() as tg:
                tg.create_task(self.agent.run(), name="sync-agent-loops")
                tg.create_task(self._compact_loop(), name="sync-compaction")
                tg.create_task(self.seed_cloud(), name="sync-masterdata-seed")
                tg.create_task(self.reporter.run(), name="sync-site-report")
        finally:
            self.ctx.health.refresh_with("sync", None)

    def site_catalogue(self) -> dict[str, Any]:
        """The site file's master data, as a ``master_data`` command body (what seeds the cloud)."""
        cfg = self.ctx.config
        return {
            kind: [r.model_dump(mode="json") for r in getattr(cfg, kind)]
            for kind in ("skus", "zones", "locations", "operators", "inbound_orders", "outbound_orders")
        }

    async def seed_cloud(self) -> dict[str, Any] | None:
        """Send the site file's master data to the cloud once, at the first sync and again whenever the
        file's records change; retried with backoff until the cloud has it. The cloud adds what it does
        not know and answers with the records where it keeps its own version (they come back as a
        ``master_data`` command). Returns the cloud's answer, ``None`` when there was nothing new to send."""
        catalogue = self.site_catalogue()
        digest = hashlib.sha256(canonical_bytes(catalogue)).hexdigest()
        if await self.outbox.get_state(SEED_KEY) == digest:
            return None
        backoff = Backoff(cap=self.ctx.config.sync.backoff_max_seconds)
        while True:
            try:
                result = await self.cloud.push_masterdata(catalogue)
                break
            except SyncError as exc:
                self.ctx.log.warning("sync.masterdata_seed_failed", error=str(exc))
                await self.ctx.clock.sleep(backoff.next_delay())
        await self.outbox.set_state(SEED_KEY, digest)
        self.ctx.log.info("sync.masterdata_seeded", **{k: result.get(k) for k in ("added", "unchanged", "kept")})
        if result.get("kept"):
            self.ctx.log.warning(
                "sync.masterdata_cloud_wins",
                detail="the cloud keeps its own version of these site-file records; change them in the cloud",
                records=result["kept"][:50],
            )
        return result

    async def _compact_loop(self) -> None:
        cfg = self.ctx.config.sync
        while True:
            await self.ctx.clock.sleep(cfg.compact_every_seconds)
            await self.compact_now()

    async def compact_now(self) -> int:
        """Compact ops that the cloud acknowledged and that are older than the retention period."""
        cutoff = self.ctx.clock.now() - timedelta(days=self.ctx.config.sync.retention_days)
        up_to = self.ctx.journal.read(sync_state.compactable_seq, self.agent.status.acked_seq, iso_utc(cutoff))
        if up_to is None:
            return 0
        removed = await self.ctx.journal.compact(up_to)
        self.ctx.log.info("sync.compacted", up_to_seq=up_to, removed=removed)
        return removed

    def snapshot(self) -> dict[str, object]:
        st = self.agent.status
        backlog = self.outbox.backlog(st.acked_seq)
        st.head_seq = backlog.head_seq
        return {
            **backlog_facts(backlog, self.ctx.clock.now()),
            "last_success_at": iso_z(st.last_success_at),
            "last_error": st.last_error,
            "last_error_at": iso_z(st.last_error_at),
            "consecutive_errors": st.consecutive_errors,
            "duplicates_reported_by_cloud": st.duplicate_ops,
            "quarantined_by_cloud": st.quarantined,
            "cloud_regressions": st.regressions,
            "lost_ranges": st.lost_ranges,
            "command_cursor": st.command_cursor,
            "commands_applied": st.commands_applied,
            "telemetry_aggregates_sent": st.telemetry_sent,
        }

    def _changed(self, st: SyncStatus) -> None:
        snap = self.snapshot()
        self._g_backlog.set(st.backlog_ops)
        self._g_bytes.set(float(str(snap["backlog_bytes"])))
        self._g_age.set(float(str(snap["oldest_unacked_age_s"])))
        self._g_acked.set(st.acked_seq)
        if st.last_success_at:
            self._g_success.set(st.last_success_at.timestamp())
        errors = st.consecutive_errors
        if errors > self._errors_seen:
            self._c_errors.inc(errors - self._errors_seen)
        self._errors_seen = errors
        self._g_regress.set(st.regressions)
        self._g_lost.set(sum(b - a + 1 for a, b in st.lost_ranges))
        status: Status
        if st.lost_ranges:
            status, detail = "down", f"cloud lost ops this gateway no longer holds: {st.lost_ranges}"
        elif st.consecutive_errors:
            status, detail = "degraded", f"{st.consecutive_errors} failed attempts: {st.last_error}"
        else:
            status, detail = "ok", f"acked {st.acked_seq}/{st.head_seq}"
        self.ctx.health.set("sync", status, detail, self.ctx.clock.now(), **snap)
