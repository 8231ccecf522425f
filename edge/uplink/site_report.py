"""Tells the cloud how this site is: journal head, sync backlog and each part's health, every few seconds.

The dashboard's site panel shows what this sends (online is "reported recently"). The body also
carries the hash of the site's layout (zones, locations and capacities); when the cloud answers with a
different hash, the next report includes the layout itself, so space utilisation in the cloud uses the
capacities the gateway works with. A failed report is simply retried at the next tick: the state it
carries is a snapshot, and only the latest one matters.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from edge.context import EdgeContext
from sync.agent.client import CloudClient, SyncError


def layout(ctx: EdgeContext) -> dict[str, Any]:
    """The site's zones and locations as the cloud stores them, with a hash over their canonical JSON."""
    cfg = ctx.config
    zones = [{"code": z.code, "name": z.name, "temperature_class": z.temperature_class} for z in cfg.zones]
    locations = [
        {"code": loc.code, "zone": loc.zone, "type": loc.type, "capacity": loc.capacity} for loc in cfg.locations
    ]
    text = json.dumps({"zones": zones, "locations": locations}, sort_keys=True, separators=(",", ":"))
    return {"hash": hashlib.sha256(text.encode()).hexdigest(), "zones": zones, "locations": locations}


def status_body(
    ctx: EdgeContext, sync_facts: dict[str, Any], site: dict[str, Any], *, send_site: bool
) -> dict[str, Any]:
    """The report: figures from the sync runner's snapshot, health from the board (sync itself left out:
    its figures are the backlog fields)."""
    health = ctx.health.snapshot()
    parts = {
        name: {"status": p["status"], "detail": str(p.get("detail", ""))[:500], "since": p.get("since")}
        for name, p in health["components"].items()
    }
    body: dict[str, Any] = {
        "head_seq": int(sync_facts.get("head_seq", 0)),
        "acked_seq": int(sync_facts.get("acked_seq", 0)),
        "backlog_ops": int(sync_facts.get("backlog_ops", 0)),
        "backlog_bytes": int(sync_facts.get("backlog_bytes", 0)),
        "oldest_unacked_age_s": sync_facts.get("oldest_unacked_age_s"),
        "overall": health["status"],
        "parts": parts,
        "site_hash": site["hash"],
    }
    if send_site:
        body["site"] = site
    return body


class SiteReporter:
    """The loop that sends the report; owned by the sync runner, in its task group."""

    def __init__(self, ctx: EdgeContext, cloud: CloudClient, facts: Any) -> None:
        self.ctx = ctx
        self.cloud = cloud
        self.facts = facts  # () -> the sync runner's snapshot
        self.site = layout(ctx)
        self.cloud_site_hash: str | None = None
        self.sent = 0

    async def report_once(self) -> bool:
        send_site = self.cloud_site_hash != self.site["hash"] and self.sent > 0
        body = status_body(self.ctx, self.facts(), self.site, send_site=send_site)
        try:
            answer = await self.cloud.put_status(body)
        except SyncError as exc:
            self.ctx.log.debug("site_report.failed", error=str(exc))
            return False
        self.cloud_site_hash = answer.get("site_hash")
        self.sent += 1
        if self.cloud_site_hash != self.site["hash"] and not send_site:
            return await self.report_once()  # the cloud lacks our layout: send it now, not a tick later
        return True

    async def run(self) -> None:
        every = self.ctx.config.sync.status_seconds
        while True:
            await self.report_once()
            await self.ctx.clock.sleep(every)
