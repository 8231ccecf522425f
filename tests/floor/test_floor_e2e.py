"""The floor end to end on the Shanghai example site, through a real gateway process's HTTP API:
inbound -> QC -> putaway -> order -> reservation -> wave -> scanned pick -> pack -> check -> ship, and the
shipment webhook to a real receiver that is down for the first attempts. The gateway is stopped with the
delivery still pending and started again; the receiver, verifying every signature with
``standardwebhooks``, gets the shipment exactly once, and every attempt is on record.

The gateway runs on the real clock here (it is a process of its own): the backoff is set to fractions of
a second so the retries happen within the test.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

from tests.floor.floor_site import MILK_GTIN, SITE, YOG_GTIN
from tests.floor.webhook_receiver import SECRET, Receiver, free_port
from tests.support.web import GatewayProcess

ORDER = "SO-SH-88001"  # the site file's outbound order: 120 x MILK-1L lot L261120, 240 x YOG-200G lot Y261121
ASN = "ASN-SH-20261124-001"  # the site file's ASN: 480 x MILK-1L, 960 x YOG-200G


def site_toml(tmp_path: Path, receiver: Receiver, port: int) -> Path:
    """The example site as it is, but for its store, its API port, its devices (no simulators here) and the
    carrier hand-off to the test's receiver."""
    text = SITE.read_text()
    text = re.sub(r'(?m)^\[store\]\npath = ".*"$', f'[store]\npath = "{tmp_path / "edge.sqlite"}"', text)
    text = re.sub(r"(?m)^\[api\]\nhost = .*\nport = \d+$", f'[api]\nhost = "127.0.0.1"\nport = {port}', text)
    text = text.replace("[[devices]]\n", "[[devices]]\nenabled = false\n")
    rules = SITE.parent / "rules" / "shanghai-cold.toml"  # the site's rules, as the file names them
    text = text.replace('file = "rules/shanghai-cold.toml"', f'file = "{rules}"')
    secret = tmp_path / "tms.secret"
    secret.write_text(SECRET + "\n")
    text += f"""
[handoff]
url = "{receiver.url}"
secret_file = "{secret}"
timeout_seconds = 5
backoff_base_seconds = 0.3
backoff_max_seconds = 1.0
"""
    path = tmp_path / "sh-cold.toml"
    path.write_text(text)
    return path


def eventually(check: Callable[[], Any], timeout: float = 30.0) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError("timed out")
        time.sleep(0.05)


class Api:
    def __init__(self, url: str) -> None:
        self.http = httpx.Client(base_url=url, timeout=30)

    def post(self, path: str, body: dict[str, Any], expect: int = 200) -> Any:
        r = self.http.post(path, json=body)
        assert r.status_code == expect, (path, r.status_code, r.text)
        return r.json()

    def get(self, path: str) -> Any:
        r = self.http.get(path)
        assert r.status_code == 200, (path, r.text)
        return r.json()

    def ops(self) -> list[dict[str, Any]]:
        return self.get("/v1/ops?limit=5000")["items"]  # type: ignore[no-any-return]


def inbound(api: Api) -> None:
    for line, qty, gtin, lot, expiry in (
        (1, 480, MILK_GTIN, "L261120", "2026-12-10"),
        (2, 960, YOG_GTIN, "Y261121", "2026-12-12"),
    ):
        rcv = api.post(
            "/v1/inbound/receipts",
            {"asn_id": ASN, "line": line, "qty": qty, "item": gtin, "lot": lot, "expiry": expiry, "actor": "op-zhang"},
            201,
        )
        qc = api.post(f"/v1/inbound/receipts/{rcv['id']}/qc", {"result": "pass", "actor": "sup-li"})
        assert qc["putaway_tasks"], qc
        for task in qc["putaway_tasks"]:
            assert task["location"].startswith("CHL-"), task
            api.post(f"/v1/inbound/putaways/{task['id']}/confirm", {"location": task["location"], "actor": "op-zhang"})


def outbound(api: Api) -> str:
    reserved = api.post(f"/v1/orders/{ORDER}/reserve", {"actor": "op-zhang"})
    assert reserved["status"] == "reserved", reserved
    [wave] = api.post("/v1/waves", {"actor": "sup-li"}, 201)
    assert wave["carrier"] == "SF Cold Chain" and wave["batches"][0]["route"]["planner"] == "optimal"
    refused_once = False
    while (order := api.get(f"/v1/orders/{ORDER}"))["status"] == "released":
        pick = min((p for p in order["picks"] if p["status"] == "open"), key=lambda p: p["seq"])
        gtin = MILK_GTIN if pick["sku"] == "MILK-1L" else YOG_GTIN
        scan = {"location": pick["location"], "item": gtin, "lot": pick["lot"], "qty": pick["qty"], "actor": "op-chen"}
        if not refused_once:  # the picker scans the wrong slot first: a beep, and a record of it
            refused_once = True
            r = api.http.post(f"/v1/orders/{ORDER}/picks", json={**scan, "location": "FRZ-B01-01"})
            assert r.status_code == 422 and r.json()["code"] == "wrong_location"
        api.post(f"/v1/orders/{ORDER}/picks", scan)
    assert order["status"] == "picked"
    lines = [{"sku": "MILK-1L", "lot": "L261120", "qty": 120}, {"sku": "YOG-200G", "lot": "Y261121", "qty": 240}]
    packed = api.post(
        f"/v1/orders/{ORDER}/pack",
        {
            "cartons": [{"weight_g": 128_000, "lines": lines[:1]}, {"weight_g": 52_000, "lines": lines[1:]}],
            "actor": "op-chen",
        },
    )
    units = [{"item": MILK_GTIN, "lot": "L261120"}] * 120 + [{"item": YOG_GTIN, "lot": "Y261121"}] * 240
    api.post(f"/v1/orders/{ORDER}/check", {"units": units, "actor": "sup-li"})
    shipped = api.post(f"/v1/orders/{ORDER}/ship", {"actor": "sup-li"})
    assert shipped["status"] == "shipped"
    assert [c["sscc"] for c in shipped["shipment"]["cartons"]] == [c["sscc"] for c in packed["cartons"]]
    return str(shipped["webhook_id"])


def test_inbound_to_ship_and_the_signed_webhook_across_a_restart(tmp_path: Path) -> None:
    receiver = Receiver(fail_next=1)  # down (nothing listens), then up but answering 503 once, then 204
    port = free_port()
    gateway = GatewayProcess(site_toml(tmp_path, receiver, port), port)
    gateway.start()
    try:
        api = Api(gateway.url)
        inbound(api)
        msg_id = outbound(api)
        # the receiver is down: attempts fail and are recorded, with the backoff between them
        msg = eventually(lambda: (m := api.get(f"/v1/handoff/messages/{msg_id}"))["attempts"] >= 3 and m)
        assert msg["status"] == "pending" and {a["outcome"] for a in msg["attempt_log"]} == {"retry"}
        assert all(a["status_code"] is None for a in msg["attempt_log"])  # connection refused
        metrics = api.http.get("/metrics").text
        assert 'wims_webhook_attempts_total{event_type="shipment.dispatched",outcome="retry"}' in metrics
    finally:
        gateway.stop()
    before_restart = len(msg["attempt_log"])

    receiver.start_in_thread()
    try:
        gateway.start()  # the same journal: the pending delivery is picked up where it stood
        try:
            api = Api(gateway.url)
            msg = eventually(lambda: (m := api.get(f"/v1/handoff/messages/{msg_id}"))["status"] == "delivered" and m)
            time.sleep(1.5)  # nothing more is sent once delivered
            msg = api.get(f"/v1/handoff/messages/{msg_id}")
            ops = api.ops()
        finally:
            gateway.stop()
    finally:
        receiver.stop_thread()

    # delivered exactly once, verified by the reference implementation, every attempt on record
    assert receiver.accepted == {msg_id: 1}
    assert all(s.verified for s in receiver.seen) and {s.msg_id for s in receiver.seen} == {msg_id}
    assert [s.status for s in receiver.seen] == [503, 204]
    outcomes = [a["outcome"] for a in msg["attempt_log"]]
    assert outcomes == ["retry"] * (before_restart + 1) + ["delivered"]
    assert msg["attempt_log"][-2]["status_code"] == 503 and msg["attempt_log"][-1]["status_code"] == 204
    data = receiver.seen[-1].body["data"]  # type: ignore[index]
    assert data["order_id"] == ORDER and data["carrier"] == "SF Cold Chain" and data["total_weight_g"] == 180_000
    assert sorted(len(c["sscc"]) for c in data["cartons"]) == [18, 18]

    # and the floor's story is in the journal, op by op
    kinds = [op["kind"] for op in ops]
    for kind in ("receive", "qc_release", "putaway", "reserve", "pick", "pack", "ship"):
        assert kind in kinds, kind
    assert kinds.index("receive") < kinds.index("putaway") < kinds.index("reserve") < kinds.index("pick")
    assert kinds.index("pick") < kinds.index("pack") < kinds.index("ship")
    refused = [op["payload"] for op in ops if op["kind"] == "exception"]
    assert [e["code"] for e in refused] == ["wrong_location"]
    shipped = sum(op["payload"]["qty"] for op in ops if op["kind"] == "ship")
    assert shipped == 360
    assert data["ship_ops"] == [op["op_id"] for op in ops if op["kind"] == "ship"]
