"""One owner for master data, and command outcomes, between a real cloud process and two gateways.

A site's records reach the cloud at the gateway's first sync; what one site knows reaches the other as a
``master_data`` command; a change made in the cloud reaches every gateway, and survives a restart. A
command a gateway rejects shows as rejected in the cloud, with its reason and an alert; the gateway's own
work orders show in the cloud's list beside the cloud's.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

from edge.config import SiteConfig, parse_config
from edge.daemon import Gateway
from sync.ops import OpDraft, ReceivePayload, WorkOrderPayload
from tests.sync.harness import CloudProcess, running

PASSWORD = "correct-horse-battery"


def _site(tmp: Path, gateway_id: str, warehouse: str, url: str, token: str, skus: list[dict[str, Any]]) -> SiteConfig:
    return parse_config(
        {
            "site": {"gateway_id": gateway_id, "warehouse": warehouse},
            "store": {"path": str(tmp / f"{gateway_id}.sqlite")},
            "zones": [{"code": "Z"}],
            "locations": [{"code": "DOCK", "zone": "Z"}],
            "skus": skus,
            "sync": {"url": url, "token": token, "poll_wait_seconds": 1, "backoff_max_seconds": 0.5},
        }
    )


async def _until(check: Callable[[], bool], timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "timed out"
        await asyncio.sleep(0.1)


async def test_master_data_has_one_owner_and_command_outcomes_are_visible(tmp_path: Path) -> None:
    cloud = CloudProcess(f"sqlite:///{tmp_path / 'cloud.sqlite'}")
    t_sh, t_la = cloud.register("gw-sh", "SH"), cloud.register("gw-la", "LA")
    cloud.add_user("plan", "planner", PASSWORD)
    cloud.start()
    try:
        user = {"Authorization": f"Bearer {cloud.login('plan', PASSWORD)}"}
        sh_skus = [{"code": "MILK", "gtin": "00000000000017", "lot_tracked": True, "currency": "CNY"}]
        la_skus = [{"code": "SHOE", "gtin": "00000000000024", "base_unit": "PR", "currency": "USD"}]
        sh = _site(tmp_path, "gw-sh", "SH", cloud.url, t_sh, sh_skus)
        la = _site(tmp_path, "gw-la", "LA", cloud.url, t_la, la_skus)
        async with running(sh) as g_sh, running(la) as g_la, httpx.AsyncClient(base_url=cloud.url) as http:
            # each site's file reached the cloud, with every field; each gateway got the other's SKU
            await _until(lambda: "SHOE" in g_sh.journal.master.skus and "MILK" in g_la.journal.master.skus)
            shoe = (await http.get("/v1/skus/SHOE", headers=user)).json()
            assert (shoe["gtin"], shoe["base_unit"], shoe["currency"]) == ("00000000000024", "PR", "USD")
            assert g_la.journal.master.skus["MILK"].lot_tracked  # nothing dropped on the way
            # a change in the cloud reaches every gateway that needs it
            r = await http.put("/v1/skus/MILK", json={**sh_skus[0], "name": "Milk 1 L"}, headers=user)
            assert r.status_code == 200, r.text
            await _until(
                lambda: all(g.journal.master.skus["MILK"].name == "Milk 1 L" for g in (g_sh, g_la)), timeout=30
            )
            # a command the gateway cannot apply: rejected there, visible here, and an alert
            body = {"transfer_id": "T-1", "from_warehouse": "SH", "to_warehouse": "LA"}  # sent to LA by mistake
            body["lines"] = [{"line": 1, "sku": "SHOE", "qty": 2}]  # type: ignore[assignment]
            cmd = {"gateway_id": "gw-la", "type": "transfer_order", "command_id": "CMD-T1", "body": body}
            assert (await http.post("/v1/commands", json=cmd, headers=user)).status_code == 201

            async def outcome() -> dict[str, Any]:
                got: dict[str, Any] = (await http.get("/v1/commands/CMD-T1", headers=user)).json()
                return got

            deadline = time.monotonic() + 30
            while (seen := await outcome())["status"] == "pending":
                assert time.monotonic() < deadline
                await asyncio.sleep(0.2)
            assert seen["status"] == "rejected" and "not this warehouse" in seen["reason"] and seen["applied_at"]
            alerts = (await http.get("/v1/discrepancies", params={"kind": "command_rejected"}, headers=user)).json()
            assert [a["detail"]["command_id"] for a in alerts["items"]] == ["CMD-T1"]
            # the gateway's own work order, in the cloud's list, with its state
            wo = WorkOrderPayload(work_order_id="WO-7", action="open", wo_type="stale_sensor", zone="Z")
            await g_sh.journal.append(OpDraft(payload=wo, actor="system", occurred_at=g_sh.clock.now()))
            closed = wo.model_copy(update={"action": "close"})

            async def gateway_orders() -> list[dict[str, Any]]:
                r = await http.get("/v1/work-orders", params={"source": "gateway"}, headers=user)
                items: list[dict[str, Any]] = r.json()["items"]
                return items

            deadline = time.monotonic() + 30
            while not (orders := await gateway_orders()):
                assert time.monotonic() < deadline
                await asyncio.sleep(0.2)
            assert [(o["external_id"], o["gateway_id"], o["status"]) for o in orders] == [("WO-7", "gw-sh", "open")]
            await g_sh.journal.append(OpDraft(payload=closed, actor="sup1", occurred_at=g_sh.clock.now()))
            while (await gateway_orders())[0]["status"] != "closed":
                assert time.monotonic() < deadline
                await asyncio.sleep(0.2)
        # the cloud's version survives a restart of the gateway (the site file says otherwise)
        async with Gateway(la, serve_api=False) as again:
            assert again.journal.master.skus["MILK"].name == "Milk 1 L"
            receive = ReceivePayload(sku="MILK", lot="L1", location="DOCK", qty=1)
            await again.journal.append(OpDraft(payload=receive, actor="op", occurred_at=again.clock.now()))
    finally:
        cloud.stop()
