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


async def test_no_stale_backlog_right_after_the_cloud_went_away(tmp_path: Path) -> None:
    """The cloud hangs (its port held, nothing answered: the agent waits on a push): the running
    gateway's status shows the new backlog at once, not the figures of the last exchange."""
    import signal

    cloud = CloudProcess(f"sqlite:///{tmp_path / 'cloud.sqlite'}")
    token = cloud.register("gw-h", "WH-H")
    cloud.start()
    base = site(tmp_path, "gw-h", "WH-H", cloud.url, token, backoff_max_seconds=0.5, timeout_seconds=30)
    cfg = SiteConfig.model_validate({**base.model_dump(), "api": {"port": free_port()}})
    cfg_file = tmp_path / "site.toml"
    cfg_file.write_text(
        f'[site]\ngateway_id = "gw-h"\nwarehouse = "WH-H"\n[store]\npath = "{cfg.store.path}"\n'
        f'[api]\nport = {cfg.api.port}\n[sync]\nurl = "{cloud.url}"\ntoken = "{token}"\n'
    )
    assert cloud.proc is not None
    try:
        async with Gateway(cfg) as gw:
            stop = asyncio.Event()
            task = asyncio.create_task(gw.run(stop))
            await gw.api_ready.wait()
            await _append(gw, 10)
            await wait_synced(gw, 60)
            cloud.proc.send_signal(signal.SIGSTOP)  # gone away, port held
            await _append(gw, 7)
            await asyncio.sleep(0.5)  # the agent is now waiting on the hung cloud
            running = await asyncio.to_thread(_status, cfg_file)
            cloud.proc.send_signal(signal.SIGCONT)
            stop.set()
            await task
    finally:
        if cloud.proc.poll() is None:
            cloud.proc.send_signal(signal.SIGCONT)
        cloud.stop()
    assert (running["acked_seq"], running["head_seq"], running["backlog_ops"]) == (10, 17, 7), running
    assert str(running["oldest_unacked_recorded_at"]).endswith("Z")
