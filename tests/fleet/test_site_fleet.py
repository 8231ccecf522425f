"""The gateway daemon runs the fleet master from a site's [fleet] section (the Los Angeles example)."""

from __future__ import annotations

import asyncio
from pathlib import Path

from edge.config import load_config
from edge.daemon import Gateway
from tests.fleet.conftest import SIM_COMMAND, Broker


async def test_daemon_starts_the_fleet_of_the_example_site(broker: Broker, tmp_path: Path) -> None:
    site = load_config("configs/los-angeles-xb.toml")
    assert site.fleet is not None
    cfg = site.model_copy(
        update={
            "store": site.store.model_copy(update={"path": tmp_path / "edge.sqlite"}),
            "api": site.api.model_copy(update={"port": 0}),
            "devices": [],
            "fleet": site.fleet.model_copy(update={"broker_port": broker.port}),
        }
    )
    agv = await asyncio.create_subprocess_exec(
        *SIM_COMMAND,
        "--port",
        str(broker.port),
        "--map-id",
        "la-g2p",
        "--agv",
        "AGV-LA1@W.CHG-1:-1.5:13.0",
        stdout=asyncio.subprocess.PIPE,
    )
    try:
        assert agv.stdout is not None
        assert (await asyncio.wait_for(agv.stdout.readline(), 20)).strip() == b"READY"
        async with Gateway(cfg) as gw:
            stop = asyncio.Event()
            runner = asyncio.create_task(gw.run(stop))
            try:
                for _ in range(200):
                    health = gw.health.get("fleet")
                    if health is not None and health.status == "ok" and health.detail.startswith("1 AGV"):
                        break
                    await asyncio.sleep(0.05)
                health = gw.health.get("fleet")
                assert health is not None and health.status == "ok", health
                assert health.detail == "1 AGVs known" and health.facts["broker"].endswith(str(broker.port))
            finally:
                stop.set()
                await runner
    finally:
        agv.kill()
        await agv.wait()
