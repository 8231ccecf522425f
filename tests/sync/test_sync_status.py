"""``wims edge sync status`` tells the same backlog whether the gateway is running or stopped."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

from typer.testing import CliRunner

from edge.config import SiteConfig
from edge.daemon import Gateway
from firmware_sim.ports import free_port
from sync.ops import OpDraft, ReceivePayload
from tests.sync.harness import LOCS, SKUS, CloudProcess, site, wait_synced
from wims.cli import app

FIGURES = ("acked_seq", "head_seq", "backlog_ops", "backlog_bytes", "oldest_unacked_recorded_at")


def _status(cfg_file: Path) -> dict[str, object]:
    r = CliRunner().invoke(app, ["edge", "sync", "status", "-c", str(cfg_file), "--json"])
    assert r.exit_code == 0, r.output
    facts: dict[str, object] = json.loads(r.stdout)
    return facts


async def _append(gw: Gateway, n: int) -> None:
    for i in range(n):
        payload = ReceivePayload(sku=SKUS[i % len(SKUS)], location=LOCS[i % len(LOCS)], qty=1 + i % 3)
        await gw.journal.append(OpDraft(payload=payload, actor="op1", occurred_at=gw.clock.now()))


async def test_the_same_figures_running_and_stopped(tmp_path: Path) -> None:
    cloud = CloudProcess(f"sqlite:///{tmp_path / 'cloud.sqlite'}")
    token = cloud.register("gw-s", "WH-S")
    cloud.start()
    base = site(tmp_path, "gw-s", "WH-S", cloud.url, token, backoff_max_seconds=0.5)
    cfg = SiteConfig.model_validate({**base.model_dump(), "api": {"port": free_port()}})
    cfg_file = tmp_path / "site.toml"
    cfg_file.write_text(
        f'[site]\ngateway_id = "gw-s"\nwarehouse = "WH-S"\n[store]\npath = "{cfg.store.path}"\n'
        f'[api]\nport = {cfg.api.port}\n[sync]\nurl = "{cloud.url}"\ntoken = "{token}"\n'
    )
    try:
        async with Gateway(cfg) as gw:
            stop = asyncio.Event()
            task = asyncio.create_task(gw.run(stop))
            await gw.api_ready.wait()
            await _append(gw, 40)
            await wait_synced(gw, 60)  # 40 acknowledged by the cloud ...
            cloud.stop()
            await _append(gw, 25)  # ... and 25 waiting for it
            running = await asyncio.to_thread(_status, cfg_file)
            stop.set()
            await task
    finally:
        cloud.stop()
    stopped = _status(cfg_file)
    assert running["acked_seq"] == 40 and running["backlog_ops"] == 25, running
    assert int(str(running["backlog_bytes"])) > 0
    assert {k: running[k] for k in FIGURES} == {k: stopped[k] for k in FIGURES}
    assert stopped["status"] == "not running"
