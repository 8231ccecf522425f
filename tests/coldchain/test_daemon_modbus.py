"""The gateway daemon starts a ``[[devices]]`` entry of kind ``modbus`` from a site TOML, on real time."""

from __future__ import annotations

import asyncio
import contextlib
import tomllib
from pathlib import Path

from edge.config import parse_config
from edge.daemon import Gateway
from firmware_sim.modbus import SensorLine, SimSensor
from sync.ops import OpDraft, OpKind, ReceivePayload

SITE = """
[site]
gateway_id = "gw-dm"
warehouse = "WH1"
[store]
path = "{db}"
[[zones]]
code = "CHILL"
temp_min_c = 2
temp_max_c = 8
supervisor = "sup1"
[[locations]]
code = "C-01"
zone = "CHILL"
[[skus]]
code = "MILK"
gtin = "00000000000017"
[[operators]]
id = "sup1"
roles = ["supervisor"]

[[devices]]
id = "modbus-tcp-1"
kind = "modbus"
zone = "CHILL"
[devices.options]
transport = "tcp"
host = "127.0.0.1"
tcp_port = {port}
poll_interval_s = 0.1
timeout_s = 0.3
[devices.options.rules]
min_duration_s = 0.3
[[devices.options.sensors]]
id = "T-CHILL-1"
unit = 1
points = [
  {{ name = "temperature", function = 4, address = 1, data_type = "int16", scale = 0.1 }},
  {{ name = "humidity", function = 4, address = 2, signed = false, scale = 0.1 }},
]
"""


async def test_daemon_runs_the_modbus_device_from_toml(tmp_path: Path) -> None:
    sensor = SimSensor(unit=1)
    sensor.force(temperature=5.0)
    line = await SensorLine([sensor]).start_tcp()
    cfg = parse_config(tomllib.loads(SITE.format(db=tmp_path / "edge.sqlite", port=line.port)))
    stop = asyncio.Event()
    try:
        async with Gateway(cfg, serve_api=False, telemetry_flush_seconds=0.1) as gw:
            run = asyncio.create_task(gw.run(stop))
            await gw.journal.append(
                OpDraft(
                    payload=ReceivePayload(sku="MILK", location="C-01", qty=12),
                    actor="sup1",
                    occurred_at=gw.clock.now(),
                )
            )
            await asyncio.sleep(0.5)
            health = gw.health.get("device:modbus-tcp-1")
            assert health is not None and health.status == "ok", health
            sensor.force(temperature=11.0)
            for _ in range(50):
                await asyncio.sleep(0.1)
                if gw.journal.entries(kind=OpKind.WORK_ORDER):
                    break
            stop.set()
            await run
            kinds = [e.op().kind for e in gw.journal.entries(after=1)]
            # the hold and the work order are the default rule's: its firing is recorded first
            assert OpKind.RULE_FIRED in kinds
            kinds = [k for k in kinds if k != OpKind.RULE_FIRED]
            assert kinds == [OpKind.TEMP_ALARM, OpKind.QC_HOLD, OpKind.WORK_ORDER]
            assert gw.journal.stock(status="qc_hold")[0].qty == 12
            assert gw.ctx is not None
            assert await gw.ctx.telemetry.raw_count() > 5  # readings reached the telemetry buffer on disk
    finally:
        with contextlib.suppress(Exception):
            await line.stop()
