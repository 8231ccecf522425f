"""The gateway daemon starts a ``[[devices]]`` entry of kind ``badge`` from a site TOML."""

from __future__ import annotations

import asyncio
import tomllib
from pathlib import Path

from edge.capture.badge import sessions_of
from edge.config import parse_config
from edge.daemon import Gateway
from firmware_sim.badge import PcscdWithVpcd, VirtualBadge
from sync.ops import OpKind, SessionPayload

SITE = """
[site]
gateway_id = "gw-db"
warehouse = "WH1"
[store]
path = "{db}"
[[zones]]
code = "PACK"
[[locations]]
code = "PACK-1"
zone = "PACK"
type = "pack_station"
[[operators]]
id = "op7"
badge_uid = "04A1B2C3"

[[devices]]
id = "badge-pack-1"
kind = "badge"
location = "PACK-1"
[devices.options]
reader = "Virtual PCD 00 00"
idle_timeout_s = 900
"""


async def test_daemon_runs_the_badge_device_from_toml(pcscd: PcscdWithVpcd, tmp_path: Path) -> None:
    cfg = parse_config(tomllib.loads(SITE.format(db=tmp_path / "edge.sqlite")))
    stop = asyncio.Event()
    async with Gateway(cfg, serve_api=False) as gw:
        run = asyncio.create_task(gw.run(stop))
        card = VirtualBadge("04A1B2C3", port=pcscd.port)
        for _ in range(100):
            await asyncio.sleep(0.05)
            health = gw.health.get("device:badge-pack-1")
            if health is not None and health.status == "ok":
                break
        await card.insert()
        for _ in range(100):
            await asyncio.sleep(0.05)
            if gw.journal.entries(kind=OpKind.SESSION):
                break
        assert gw.ctx is not None and sessions_of(gw.ctx).actor_for("PACK-1") == "op7"
        await card.remove()
        for _ in range(100):
            await asyncio.sleep(0.05)
            if len(gw.journal.entries(kind=OpKind.SESSION)) == 2:
                break
        stop.set()
        await run
        events = [e.op().payload for e in gw.journal.entries(kind=OpKind.SESSION)]
    assert [(p.event, p.operator_id, p.station) for p in events if isinstance(p, SessionPayload)] == [
        ("login", "op7", "PACK-1"),
        ("logout", "op7", "PACK-1"),
    ]
