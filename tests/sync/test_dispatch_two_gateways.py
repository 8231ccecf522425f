"""The dispatch engine end to end on PostgreSQL, with a real cloud process and two real gateways syncing.

Shanghai and Los Angeles each receive stock on their own journal. An order that neither can serve alone
is split and reaches both gateways as ``outbound_order`` commands. A planner's transfer order from
Shanghai to Los Angeles is refused to an operator and approved by the planner, which releases it to the
Shanghai gateway; Shanghai's ``transfer_out`` puts the stock in transit network-wide (out of Shanghai's
available stock, with an ETA), Los Angeles receives one unit short, and the cloud opens a discrepancy
with a work order. Transport hears of each step through signed webhooks. A history CSV with a bad row
is refused naming its line.
"""

from __future__ import annotations

import asyncio
import base64
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest
from standardwebhooks import Webhook
from typer.testing import CliRunner

from cloud.planning.cli import app as plan_cli
from edge.daemon import Gateway
from sync.ops import OpDraft, ReceivePayload, TransferInPayload, TransferOutPayload
from tests.support.pg import temporary_database
from tests.sync.harness import CloudProcess, running, site, wait_synced

pytestmark = pytest.mark.postgres
PASSWORD = "correct-horse-battery"
SECRET = "whsec_" + base64.b64encode(b"transport-shared-secret-32-bytes").decode()


class Transport:
    """A carrier's webhook endpoint: verifies each signature and keeps what it got."""

    def __init__(self) -> None:
        self.events: list[dict[str, Any]] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["content-length"]))
                try:
                    outer.events.append(Webhook(SECRET).verify(body, {k.lower(): v for k, v in self.headers.items()}))
                    self.send_response(204)
                except Exception:
                    self.send_response(401)
                self.end_headers()

            def log_message(self, *_: Any) -> None:
                return

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/transport"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


async def _until(check: Callable[[], Any], what: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while True:
        got = check()
        if asyncio.iscoroutine(got):
            got = await got
        if got:
            return
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        await asyncio.sleep(0.2)


async def _op(gw: Gateway, payload: Any, actor: str = "op-1") -> None:
    await gw.journal.append(OpDraft(payload=payload, actor=actor, occurred_at=gw.journal.clock.now()))


async def test_split_order_transfer_lifecycle_and_short_receipt_with_two_gateways(tmp_path: Path) -> None:
    transport = Transport()
    planning = tmp_path / "planning.toml"
    planning.write_text(f'[webhooks]\nurl = "{transport.url}"\nsecret = "{SECRET}"\npoll_s = 0.2\n')
    with temporary_database() as url:
        cloud = CloudProcess(url, env={"WIMS_PLANNING_FILE": str(planning)})
        t_sh, t_la = cloud.register("gw-sh", "SH"), cloud.register("gw-la", "LA")
        for name, role in (("admin", "admin"), ("plan", "planner"), ("op", "operator")):
            cloud.add_user(name, role, PASSWORD)
        cloud.start()
        try:
            h = {u: {"Authorization": f"Bearer {cloud.login(u, PASSWORD)}"} for u in ("admin", "plan", "op")}
            fast = {"poll_wait_seconds": 1, "backoff_max_seconds": 0.5}
            sh_cfg = site(tmp_path, "gw-sh", "SH", cloud.url, t_sh, **fast)
            la_cfg = site(tmp_path, "gw-la", "LA", cloud.url, t_la, **fast)
            async with (
                httpx.AsyncClient(base_url=cloud.url, timeout=30) as http,
                running(sh_cfg) as sh,
                running(la_cfg) as la,
            ):
                # the network, as an admin keeps it
                for code, country, tz in (("SH", "CN", "Asia/Shanghai"), ("LA", "US", "America/Los_Angeles")):
                    body = {"code": code, "country": country, "timezone": tz}
                    assert (await http.put(f"/v1/network/warehouses/{code}", json=body, headers=h["admin"])).is_success
                    svc = {
                        "warehouse": code,
                        "region": "WEST",
                        "carrier": "UPS",
                        "transit_days": 1 if code == "LA" else 5,
                    }
                    assert (await http.put("/v1/network/service-lanes", json=svc, headers=h["admin"])).is_success
                lane = {"origin": "SH", "destination": "LA", "transit_days": 12, "cost_per_unit": 0.4}
                assert (await http.put("/v1/network/lanes", json=lane, headers=h["admin"])).is_success

                # stock on each floor, synced
                await _op(sh, ReceivePayload(sku="SKU-1", location="L-0", qty=10))
                await _op(sh, ReceivePayload(sku="SKU-2", location="L-0", qty=30))
                await _op(la, ReceivePayload(sku="SKU-1", location="L-0", qty=8))
                await wait_synced(sh, 30)
                await wait_synced(la, 30)

                # an order neither warehouse can serve alone: split, one outbound_order command each
                order = {"order_id": "WEB-1", "region": "WEST", "lines": [{"line": 1, "sku": "SKU-1", "qty": 15}]}
                r = await http.post("/v1/orders", json=order, headers=h["plan"])
                assert r.status_code == 201, r.text
                routed = r.json()
                assert routed["status"] == "split" and "no single warehouse" in routed["reason"]
                parcels = {s["warehouse"]: s for s in routed["shipments"]}
                assert set(parcels) == {"SH", "LA"} and parcels["LA"]["lines"][0]["qty"] == 8
                assert parcels["SH"]["lines"][0]["qty"] == 7 and parcels["SH"]["gateway_id"] == "gw-sh"

                async def reached(command_id: str) -> bool:  # the gateway answered it (a command_applied op)
                    got = (await http.get(f"/v1/commands/{command_id}", headers=h["plan"])).json()
                    return bool(got["status"] != "pending")

                for s in routed["shipments"]:
                    await _until(lambda s=s: reached(s["command_id"]), f"outbound_order at {s['warehouse']}")
                    got = (await http.get(f"/v1/commands/{s['command_id']}", headers=h["plan"])).json()
                    assert got["status"] == "applied", got  # each floor took its parcel as an order to ship

                # a transfer order: an operator may not approve it, a planner does, and it is released to SH
                body = {
                    "transfer_id": "T-SH-LA-1",
                    "from_warehouse": "SH",
                    "to_warehouse": "LA",
                    "lines": [{"line": 1, "sku": "SKU-2", "qty": 12}],
                    "carrier": "COSCO",
                }
                r = await http.post("/v1/transfers", json=body, headers=h["plan"])
                assert r.status_code == 201 and r.json()["status"] == "draft", r.text
                assert (await http.post("/v1/transfers/T-SH-LA-1/approve", headers=h["op"])).status_code == 403
                r = await http.post("/v1/transfers/T-SH-LA-1/approve", headers=h["plan"])
                assert r.status_code == 200 and r.json()["status"] == "released", r.text
                eta = r.json()["eta"]
                await _until(lambda: reached("TO-T-SH-LA-1"), "the transfer_order command at gw-sh")
                got = (await http.get("/v1/commands/TO-T-SH-LA-1", headers=h["plan"])).json()
                assert got["status"] == "applied", got  # SH's floor keeps it as an order to pick and ship

                # SH picks and ships it: in transit network-wide, no longer available at SH, with its ETA
                await _op(
                    sh,
                    TransferOutPayload(sku="SKU-2", transfer_id="T-SH-LA-1", to_warehouse="LA", location="L-0", qty=12),
                )
                await wait_synced(sh, 30)
                t = (await http.get("/v1/transfers/T-SH-LA-1", headers=h["plan"])).json()
                assert t["status"] == "in_transit" and t["shipped_at"] is not None
                line = (
                    await http.get("/v1/stock/transit", params={"transfer_id": "T-SH-LA-1"}, headers=h["op"])
                ).json()
                assert [(i["in_transit"], i["eta"]) for i in line["items"]] == [(12, eta)]
                summary = {
                    (i["warehouse"], i["sku"]): i
                    for i in (await http.get("/v1/stock/summary", params={"sku": "SKU-2"}, headers=h["op"])).json()[
                        "items"
                    ]
                }
                assert summary[("SH", "SKU-2")]["available"] == 18 and summary[("SH", "SKU-2")]["in_transit_out"] == 12
                assert summary[("LA", "SKU-2")]["in_transit_in"] == 12
                network = (await http.get("/v1/stock/network", params={"sku": "SKU-2"}, headers=h["op"])).json()[
                    "items"
                ]
                assert [(i["available"], i["in_transit"]) for i in network] == [(18, 12)]

                # LA receives 11 of 12: received, a short-receipt discrepancy and its work order
                await _op(
                    la,
                    TransferInPayload(
                        sku="SKU-2", transfer_id="T-SH-LA-1", from_warehouse="SH", location="L-1", qty=11
                    ),
                )
                await wait_synced(la, 30)
                t = (await http.get("/v1/transfers/T-SH-LA-1", headers=h["plan"])).json()
                assert t["status"] == "received"
                assert t["transit"] == [{"sku": "SKU-2", "lot": "", "shipped": 12, "received": 11, "in_transit": 1}]
                disc = (await http.get("/v1/discrepancies", params={"warehouse": "LA"}, headers=h["plan"])).json()[
                    "items"
                ]
                short = [d for d in disc if d["kind"] == "transfer_short"]
                assert len(short) == 1 and short[0]["detail"]["difference"] == -1
                orders = (await http.get("/v1/work-orders", params={"warehouse": "LA"}, headers=h["plan"])).json()[
                    "items"
                ]
                assert any(w["discrepancy_id"] == short[0]["id"] and w["status"] == "open" for w in orders)
                assert la.journal.book_qty("SKU-2", "L-1") == 11

                # transport heard of each step, every message signed
                want = ["transfer.released", "transfer.shipped", "transfer.received"]
                await _until(lambda: [e["type"] for e in transport.events] == want, "the transport webhooks")
                assert all(e["data"]["transfer_id"] == "T-SH-LA-1" for e in transport.events)

            # a bad history row is refused naming its line; nothing of the file is imported
            bad = tmp_path / "history.csv"
            bad.write_text("sku,warehouse,date,qty\nSKU-1,SH,2026-01-02,4\nSKU-1,LA,2026-01-02,4.5\n")
            r = CliRunner().invoke(plan_cli, ["import-history", str(bad)], env={"WIMS_DATABASE_URL": url})
            assert r.exit_code == 2 and "line 3, column qty: '4.5'" in r.output, r.output
            assert cloud.query("SELECT count(*) FROM demand_history WHERE imported > 0")[0][0] == 0
        finally:
            cloud.stop()
            transport.server.shutdown()
            transport.server.server_close()


async def test_a_transfer_made_while_the_cloud_is_unreachable_lands_when_the_gateways_sync(tmp_path: Path) -> None:
    """Both steps happen on the floors while the cloud is down; when it is back, each gateway's backlog
    syncs, in whatever order, and the transfer ends closed (an exact receipt) with nothing lost."""
    with temporary_database() as url:
        cloud = CloudProcess(url)
        t_sh, t_la = cloud.register("gw-sh", "SH"), cloud.register("gw-la", "LA")
        cloud.add_user("plan", "planner", PASSWORD)
        cloud.add_user("admin", "admin", PASSWORD)
        cloud.start()
        try:
            h = {u: {"Authorization": f"Bearer {cloud.login(u, PASSWORD)}"} for u in ("admin", "plan")}
            fast = {"poll_wait_seconds": 1, "backoff_max_seconds": 0.5}
            async with (
                httpx.AsyncClient(base_url=cloud.url, timeout=30) as http,
                running(site(tmp_path, "gw-sh", "SH", cloud.url, t_sh, **fast)) as sh,
                running(site(tmp_path, "gw-la", "LA", cloud.url, t_la, **fast)) as la,
            ):
                for code in ("SH", "LA"):
                    body = {"code": code, "country": "CN"}
                    assert (await http.put(f"/v1/network/warehouses/{code}", json=body, headers=h["admin"])).is_success
                lane = {"origin": "SH", "destination": "LA", "transit_days": 3}
                assert (await http.put("/v1/network/lanes", json=lane, headers=h["admin"])).is_success
                await _op(sh, ReceivePayload(sku="SKU-3", location="L-0", qty=40))
                await wait_synced(sh, 30)
                body = {"transfer_id": "T-OFF", "from_warehouse": "SH", "to_warehouse": "LA"}
                body["lines"] = [{"line": 1, "sku": "SKU-3", "qty": 25}]  # type: ignore[assignment]
                assert (await http.post("/v1/transfers", json=body, headers=h["plan"])).status_code == 201
                r = await http.post("/v1/transfers/T-OFF/approve", headers=h["plan"])
                assert r.json()["status"] == "released", r.text

                cloud.stop()  # the cloud is away while both floors work
                await _op(
                    sh, TransferOutPayload(sku="SKU-3", transfer_id="T-OFF", to_warehouse="LA", location="L-0", qty=25)
                )
                await _op(
                    la, TransferInPayload(sku="SKU-3", transfer_id="T-OFF", from_warehouse="SH", location="L-2", qty=25)
                )
                await asyncio.sleep(1)
                cloud.start()
                await wait_synced(la, 60)
                await wait_synced(sh, 60)
                t = (await http.get("/v1/transfers/T-OFF", headers=h["plan"])).json()
                assert t["status"] == "closed", t
                assert t["transit"] == [{"sku": "SKU-3", "lot": "", "shipped": 25, "received": 25, "in_transit": 0}]
                assert t["shipped_at"] is not None and t["received_at"] is not None
                disc = (await http.get("/v1/discrepancies", headers=h["plan"])).json()["items"]
                assert not [d for d in disc if d["kind"].startswith("transfer") and d["status"] == "open"]
        finally:
            cloud.stop()
