"""Outbound on the Shanghai example site through the gateway's API: order, FEFO reservation, wave, scanned
picks (refusals and a short pick), pack, outbound check, ship, and the carrier webhook."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from edge.config import parse_config
from edge.rules.runner import FloorTasks, RulesRunner
from edge.uplink.commands import apply_command
from sync.clock import ManualClock
from sync.ops import OpKind
from tests.floor.floor_site import MILK_GTIN, SITE, YOG_GTIN, Floor, floor, site_config
from tests.floor.webhook_receiver import SECRET, Receiver, wait_until
from tests.support.edge import site_dict

ASN_T = {
    "id": "ASN-T",
    "supplier": "Bright Dairy",
    "lines": [
        {"line": 1, "sku": "MILK-1L", "qty": 200, "lot": "L-LATE"},
        {"line": 2, "sku": "MILK-1L", "qty": 200, "lot": "L-EARLY"},
        {"line": 3, "sku": "YOG-200G", "qty": 100, "lot": "Y1"},
        {"line": 4, "sku": "MILK-1L", "qty": 100, "lot": "L-EARLY"},
    ],
}
STOCK = [  # (line, expiry, where it is put away): the late lot is received first
    (1, "2027-01-10", "CHL-A01-01"),
    (2, "2026-12-15", "CHL-A02-02"),
    (3, "2026-12-18", "CHL-A02-01"),
    (4, "2026-12-15", "CHL-A01-03"),
]


async def stock_up(f: Floor) -> None:
    await f.post("/v1/inbound/asns", ASN_T, 201)
    for line, expiry, location in STOCK:
        spec = ASN_T["lines"][line - 1]
        assert isinstance(spec, dict)
        gtin = MILK_GTIN if spec["sku"] == "MILK-1L" else YOG_GTIN
        rcv = await f.post(
            "/v1/inbound/receipts",
            {
                "asn_id": "ASN-T",
                "line": line,
                "qty": spec["qty"],
                "item": gtin,
                "lot": spec["lot"],
                "expiry": expiry,
                "actor": "op-zhang",
            },
            201,
        )
        qc = await f.post(f"/v1/inbound/receipts/{rcv['id']}/qc", {"result": "pass", "actor": "sup-li"})
        for task in qc["putaway_tasks"]:
            await f.post(
                f"/v1/inbound/putaways/{task['id']}/confirm",
                {"location": location, "reason": "supervisor_decision", "actor": "op-zhang"},
            )


def next_pick(order: dict[str, Any]) -> dict[str, Any]:
    return min((p for p in order["picks"] if p["status"] == "open"), key=lambda p: p["seq"])


async def test_order_to_ship_with_refused_scans_and_a_short_pick(tmp_path: Path) -> None:
    receiver = Receiver()
    secret = tmp_path / "tms.secret"
    secret.write_text(SECRET)
    handoff = {"url": receiver.url, "secret_file": str(secret), "backoff_base_seconds": 1}
    clock = ManualClock(datetime.now(UTC))
    await receiver.start()
    try:
        async with floor(site_config(tmp_path, handoff=handoff), clock) as f:
            outbox = f.ctx.open_webhooks()
            assert outbox is not None
            sender = asyncio.create_task(outbox.run())
            try:
                await _order_to_ship(f)
                await wait_until(lambda: sum(receiver.accepted.values()) == 1)
            finally:
                sender.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await sender
    finally:
        await receiver.stop()
    [seen] = [s for s in receiver.seen if s.verified]
    assert seen.body is not None and seen.body["type"] == "shipment.dispatched"
    shipment = seen.body["data"]
    assert shipment["order_id"] == "SO-T1" and shipment["carrier"] == "SF Cold Chain"
    [carton] = shipment["cartons"]
    assert len(carton["sscc"]) == 18 and carton["sscc"].startswith("00690123") and carton["weight_g"] == 271_000


async def _order_to_ship(f: Floor) -> None:
    await stock_up(f)
    order = {
        "id": "SO-T1",
        "customer": "Hema Fresh Pudong",
        "carrier": "SF Cold Chain",
        "cut_off": "2026-12-02T10:00:00Z",
        "lines": [{"line": 1, "sku": "MILK-1L", "qty": 250}, {"line": 2, "sku": "YOG-200G", "qty": 30}],
    }
    await f.post("/v1/orders", order, 201)
    reserved = await f.post("/v1/orders/SO-T1/reserve", {"actor": "op-zhang"})
    assert reserved["status"] == "reserved"
    milk = [r for r in reserved["reservations"] if r["sku"] == "MILK-1L"]
    # FEFO: the lot that expires first, although it was received after the other
    assert {r["lot"] for r in milk} == {"L-EARLY"} and sum(r["qty"] for r in milk) == 250
    # within the lot, the slot put away first (FIFO between slots of one lot)
    assert [(r["location"], r["qty"]) for r in milk] == [("CHL-A02-02", 200), ("CHL-A01-03", 50)]
    assert sum(p["qty"] for p in f.kinds(OpKind.RESERVE)) == 280

    [wave] = await f.post("/v1/waves", {"actor": "sup-li"}, 201)
    assert wave["carrier"] == "SF Cold Chain" and wave["cut_off"] == "2026-12-02T10:00:00.000000Z"
    [batch] = wave["batches"]
    assert batch["orders"] == ["SO-T1"] and batch["route"]["planner"] == "optimal"
    assert batch["route"]["length_m"] > 0
    assert set(batch["route"]["locations"]) == {"CHL-A01-03", "CHL-A02-02", "CHL-A02-01"}

    got = (await f.http.get("/v1/orders/SO-T1")).json()
    assert got["status"] == "released"
    pick_task = f.ctx.floor.task("PICK-SO-T1")
    assert pick_task is not None and pick_task.task.state == "open" and pick_task.task.ref == "SO-T1"
    pick = next_pick(got)
    assert pick["location"] == batch["route"]["locations"][0]
    base = {"qty": pick["qty"], "actor": "op-chen"}
    wrong = "CHL-A01-01" if pick["location"] != "CHL-A01-01" else "CHL-A01-02"
    for body, code in (
        ({**base, "location": wrong, "item": MILK_GTIN, "lot": pick["lot"]}, "wrong_location"),
        ({**base, "location": pick["location"], "item": "06934567890122", "lot": pick["lot"]}, "wrong_item"),
        ({**base, "location": pick["location"], "item": pick["sku"], "lot": "NOT-THIS"}, "wrong_lot"),
    ):
        if code == "wrong_lot" and not pick["lot"]:
            continue
        r = await f.http.post("/v1/orders/SO-T1/picks", json=body)
        assert r.status_code == 422 and r.json()["code"] == code, r.text
    refused = [e["code"] for e in f.kinds(OpKind.EXCEPTION)]
    assert {"wrong_location", "wrong_item", "wrong_lot"} <= set(refused)
    assert f.kinds(OpKind.PICK) == []

    # walk the route; the pick at CHL-A01-03 is short: 20 of 50 there, the rest comes from another lot
    short_seen = False
    for _ in range(10):
        got = (await f.http.get("/v1/orders/SO-T1")).json()
        if got["status"] == "picked":
            break
        pick = next_pick(got)
        gtin = MILK_GTIN if pick["sku"] == "MILK-1L" else YOG_GTIN
        scan: dict[str, Any] = {"location": pick["location"], "item": gtin, "lot": pick["lot"], "actor": "op-chen"}
        if pick["location"] == "CHL-A01-03" and not short_seen:
            short_seen = True
            res = await f.post("/v1/orders/SO-T1/picks", {**scan, "qty": 20, "short": True})
            assert res["result"]["work_order_id"] and res["result"]["replanned"] == ["CHL-A01-01"]
            assert res["result"]["still_missing"] == 0
        else:
            await f.post("/v1/orders/SO-T1/picks", {**scan, "qty": pick["qty"] - pick["picked"]})
    assert got["status"] == "picked" and short_seen
    assert f.ctx.floor.task("PICK-SO-T1").task.state == "done"  # type: ignore[union-attr]
    assert f.ctx.floor.task("PACK-SO-T1").task.state == "open"  # type: ignore[union-attr]
    [wo] = f.kinds(OpKind.WORK_ORDER)
    assert wo["wo_type"] == "short_pick" and wo["location"] == "CHL-A01-03"
    [unreserve] = f.kinds(OpKind.UNRESERVE)
    assert unreserve["qty"] == 30 and unreserve["location"] == "CHL-A01-03"
    picked: Counter[tuple[str, str]] = Counter()
    for p in f.kinds(OpKind.PICK):
        picked[(p["sku"], p["lot"])] += p["qty"]
        assert p["to_location"] == "STAGE-OUT-1"
    assert picked == {("MILK-1L", "L-EARLY"): 220, ("MILK-1L", "L-LATE"): 30, ("YOG-200G", "Y1"): 30}

    lines = [
        {"sku": "MILK-1L", "lot": "L-EARLY", "qty": 220},
        {"sku": "MILK-1L", "lot": "L-LATE", "qty": 30},
        {"sku": "YOG-200G", "lot": "Y1", "qty": 30},
    ]
    r = await f.http.post(
        "/v1/orders/SO-T1/pack", json={"cartons": [{"weight_g": 1, "lines": lines[:1]}], "actor": "op-chen"}
    )
    assert r.status_code == 422 and r.json()["code"] == "pack_mismatch"
    packed = await f.post(
        "/v1/orders/SO-T1/pack", {"cartons": [{"weight_g": 271_000, "lines": lines}], "actor": "op-chen"}
    )
    assert packed["status"] == "packed"
    [pack] = f.kinds(OpKind.PACK)
    assert pack["sscc"] == packed["cartons"][0]["sscc"]

    units = [{"item": MILK_GTIN, "lot": "L-EARLY"}] * 220 + [{"item": MILK_GTIN, "lot": "L-LATE"}] * 30
    units += [{"item": YOG_GTIN, "lot": "Y1"}] * 29  # one yoghurt missing
    r = await f.http.post("/v1/orders/SO-T1/check", json={"units": units, "actor": "sup-li"})
    assert r.status_code == 409 and r.json()["code"] == "check_mismatch" and "YOG-200G" in r.json()["detail"]
    r = await f.http.post("/v1/orders/SO-T1/ship", json={"actor": "sup-li"})
    assert r.status_code == 409 and r.json()["code"] == "check_failed"  # a mismatch blocks shipping
    assert f.kinds(OpKind.SHIP) == []
    checked = await f.post("/v1/orders/SO-T1/check", {"units": [*units, {"item": "YOG-200G"}], "actor": "sup-li"})
    assert checked["status"] == "checked"
    states = {t: f.ctx.floor.task(f"{t}-SO-T1").task.state for t in ("PICK", "PACK", "CHECK")}  # type: ignore[union-attr]
    assert states == {"PICK": "done", "PACK": "done", "CHECK": "done"}

    shipped = await f.post("/v1/orders/SO-T1/ship", {"actor": "sup-li"})
    assert shipped["status"] == "shipped" and shipped["webhook_id"].startswith("msg_")
    ships = f.kinds(OpKind.SHIP)
    assert sorted((s["sku"], s["qty"]) for s in ships) == [("MILK-1L", 30), ("MILK-1L", 220), ("YOG-200G", 30)]
    assert all(s["sscc"] == pack["sscc"] and s["carrier"] == "SF Cold Chain" for s in ships)
    assert [s for s in f.ctx.journal.stock(location="STAGE-OUT-1") if s.qty] == []
    r = await f.http.post("/v1/orders/SO-T1/ship", json={"actor": "sup-li"})
    assert r.status_code == 409  # once only


async def test_orders_from_cloud_commands(tmp_path: Path) -> None:
    async with floor(site_config(tmp_path), ManualClock()) as f:
        body = {"id": "SO-C1", "carrier": "JD", "lines": [{"line": 1, "sku": "MILK-1L", "qty": 5}]}
        cmd = {"command_id": "c1", "cursor": 1, "type": "outbound_order", "body": body}
        assert (await apply_command(f.ctx.journal, cmd))[0] == "applied"
        assert (await apply_command(f.ctx.journal, cmd))[1] == "already applied (re-delivered)"
        clash = {
            **cmd,
            "command_id": "c2",
            "cursor": 2,
            "body": {**body, "lines": [{"line": 1, "sku": "MILK-1L", "qty": 6}]},
        }
        result, reason = await apply_command(f.ctx.journal, clash)
        assert result == "rejected" and "other content" in reason
        bad = {
            **cmd,
            "command_id": "c3",
            "cursor": 3,
            "body": {**body, "id": "SO-C2", "lines": [{"line": 1, "sku": "NOPE", "qty": 1}]},
        }
        assert (await apply_command(f.ctx.journal, bad))[0] == "rejected"
        order = (await f.http.get("/v1/orders/SO-C1")).json()
        assert order["source"] == "cloud" and order["status"] == "new"
        applied = [p["result"] for p in f.kinds(OpKind.COMMAND_APPLIED)]
        assert applied == ["applied", "rejected", "rejected"]
        # nothing in stock: the order stays short, and nothing was reserved
        short = await f.post("/v1/orders/SO-C1/reserve", {"actor": "op-zhang"})
        assert short["status"] == "short" and short["shortfall"] == [{"line": 1, "sku": "MILK-1L", "missing": 5}]


def ambient_site(tmp_path: Path, **floor_settings: Any) -> dict[str, Any]:
    """A small ambient site: goods not lot-tracked, so reservation is FIFO."""
    data = site_dict(tmp_path)
    data["zones"] = [{"code": "Z", "temperature_class": "ambient"}]
    data["locations"] = [
        {"code": "DOCK", "zone": "Z", "type": "dock"},
        {"code": "A-01", "zone": "Z", "capacity": 100},
        {"code": "A-02", "zone": "Z", "capacity": 100},
        {"code": "STAGE", "zone": "Z", "type": "staging"},
    ]
    data["floor"] = floor_settings
    return data


async def test_fifo_takes_the_slot_filled_first(tmp_path: Path) -> None:
    async with floor(parse_config(ambient_site(tmp_path)), ManualClock()) as f:
        asn = {"id": "ASN-A", "lines": [{"line": 1, "sku": "SKU-1", "qty": 20}]}
        await f.post("/v1/inbound/asns", asn, 201)
        for slot in ("A-02", "A-01"):  # the later code first: FIFO, not the alphabet, must decide
            rcv = await f.post(
                "/v1/inbound/receipts", {"asn_id": "ASN-A", "line": 1, "qty": 10, "item": "SKU-1", "actor": "op1"}, 201
            )
            qc = await f.post(f"/v1/inbound/receipts/{rcv['id']}/qc", {"result": "pass", "actor": "sup1"})
            [task] = qc["putaway_tasks"]
            await f.post(
                f"/v1/inbound/putaways/{task['id']}/confirm", {"location": slot, "reason": "other", "actor": "op1"}
            )
        await f.post("/v1/orders", {"id": "SO-A", "lines": [{"line": 1, "sku": "SKU-1", "qty": 15}]}, 201)
        reserved = await f.post("/v1/orders/SO-A/reserve", {"actor": "op1"})
        assert [(r["location"], r["qty"]) for r in reserved["reservations"]] == [("A-02", 10), ("A-01", 5)]
        [wave] = await f.post("/v1/waves", {"actor": "sup1"}, 201)
        assert wave["batches"][0]["route"]["planner"] == "none"  # no [layout] on this site: by code
        order = (await f.http.get("/v1/orders/SO-A")).json()
        pick = next_pick(order)
        scan = {
            "location": pick["location"],
            "item": "SKU-1",
            "qty": pick["qty"],
            "actor": "op1",
            "request_id": str(uuid.uuid4()),
        }
        first = await f.post("/v1/orders/SO-A/picks", scan)
        assert await f.post("/v1/orders/SO-A/picks", scan) == first  # a retried scan: answered once
        assert len(f.kinds(OpKind.PICK)) == 1


async def test_with_the_sites_rules_a_short_pick_opens_exactly_one_work_order(tmp_path: Path) -> None:
    """The Shanghai rules open the work order of a short pick (on the flow's ``short_pick`` event): the flow
    then opens none of its own, so the fact has one work order, from one mechanism."""
    rules = {"file": str(SITE.parent / "rules" / "shanghai-cold.toml")}
    async with floor(site_config(tmp_path, rules=rules), ManualClock()) as f:
        runner = RulesRunner(f.ctx, floor=FloorTasks(f.ctx))
        f.ctx.rules = runner
        task = asyncio.create_task(runner.run())
        try:
            await runner.start()
            await stock_up(f)
            await f.post(
                "/v1/orders", {"id": "SO-R", "carrier": "SF", "lines": [{"line": 1, "sku": "MILK-1L", "qty": 250}]}, 201
            )
            await f.post("/v1/orders/SO-R/reserve", {"actor": "op-zhang"})
            await f.post("/v1/waves", {"actor": "sup-li"}, 201)
            order = (await f.http.get("/v1/orders/SO-R")).json()
            pick = next_pick(order)
            scan = {"location": pick["location"], "item": MILK_GTIN, "lot": pick["lot"], "actor": "op-chen"}
            res = await f.post("/v1/orders/SO-R/picks", {**scan, "qty": 1, "short": True})
            assert res["result"]["work_order_id"] is None  # the site's rules open it
            await runner.settled()
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        [wo] = f.kinds(OpKind.WORK_ORDER)
        assert wo["wo_type"] == "short_pick" and wo["location"] == pick["location"]
        [fired] = [p for p in f.kinds(OpKind.RULE_FIRED) if p["rule_id"] == "short-pick"]
        assert fired["subject"].startswith("event:short_pick")


async def test_an_empty_slot_is_a_short_pick_of_nothing(tmp_path: Path) -> None:
    async with floor(parse_config(ambient_site(tmp_path)), ManualClock()) as f:
        await f.post("/v1/inbound/asns", {"id": "ASN-E", "lines": [{"line": 1, "sku": "SKU-1", "qty": 20}]}, 201)
        for slot in ("A-01", "A-02"):
            rcv = await f.post(
                "/v1/inbound/receipts", {"asn_id": "ASN-E", "line": 1, "qty": 10, "item": "SKU-1", "actor": "op1"}, 201
            )
            qc = await f.post(f"/v1/inbound/receipts/{rcv['id']}/qc", {"result": "pass", "actor": "sup1"})
            [task] = qc["putaway_tasks"]
            await f.post(
                f"/v1/inbound/putaways/{task['id']}/confirm", {"location": slot, "reason": "other", "actor": "op1"}
            )
        await f.post("/v1/orders", {"id": "SO-E", "lines": [{"line": 1, "sku": "SKU-1", "qty": 8}]}, 201)
        await f.post("/v1/orders/SO-E/reserve", {"actor": "op1"})
        await f.post("/v1/waves", {"actor": "sup1"}, 201)
        pick = next_pick((await f.http.get("/v1/orders/SO-E")).json())
        scan = {"location": pick["location"], "item": "SKU-1", "actor": "op1"}
        r = await f.http.post("/v1/orders/SO-E/picks", json={**scan, "qty": 0})
        assert r.status_code == 422  # nothing taken is only a short pick
        res = await f.post("/v1/orders/SO-E/picks", {**scan, "qty": 0, "short": True})
        other = "A-02" if pick["location"] == "A-01" else "A-01"
        assert res["result"]["replanned"] == [other] and res["result"]["work_order_id"]
        assert f.kinds(OpKind.PICK) == []
        nxt = next_pick(res)
        assert (nxt["location"], nxt["qty"]) == (other, 8)
        done = await f.post("/v1/orders/SO-E/picks", {**scan, "location": other, "qty": 8})
        assert done["status"] == "picked"


async def test_a_transfer_from_the_cloud_is_worked_as_an_order_and_ships_as_transfer_out(tmp_path: Path) -> None:
    async with floor(parse_config(ambient_site(tmp_path)), ManualClock()) as f:
        asn = {"id": "ASN-X", "lines": [{"line": 1, "sku": "SKU-1", "qty": 20}]}
        await f.post("/v1/inbound/asns", asn, 201)
        rcv = await f.post(
            "/v1/inbound/receipts", {"asn_id": "ASN-X", "line": 1, "qty": 20, "item": "SKU-1", "actor": "op1"}, 201
        )
        [task] = (await f.post(f"/v1/inbound/receipts/{rcv['id']}/qc", {"result": "pass", "actor": "sup1"}))[
            "putaway_tasks"
        ]
        await f.post(
            f"/v1/inbound/putaways/{task['id']}/confirm", {"location": "A-01", "reason": "other", "actor": "op1"}
        )
        body = {
            "transfer_id": "T-9",
            "from_warehouse": "WH-T",
            "to_warehouse": "WH-X",
            "lines": [{"line": 1, "sku": "SKU-1", "qty": 12}],
            "carrier": "COSCO",
            "eta": "2026-12-09T10:00:00Z",
        }
        cmd = {"command_id": "ct1", "cursor": 1, "type": "transfer_order", "body": body}
        result, reason = await apply_command(f.ctx.journal, cmd)
        assert result == "applied" and "T-9" in reason
        again = {**cmd, "command_id": "ct2", "cursor": 2}  # the same transfer sent again: nothing new
        assert await apply_command(f.ctx.journal, again) == ("applied", "transfer T-9 is known already")
        elsewhere = {
            **cmd,
            "command_id": "ct3",
            "cursor": 3,
            "body": {**body, "transfer_id": "T-10", "from_warehouse": "WH-Y"},
        }
        result, reason = await apply_command(f.ctx.journal, elsewhere)
        assert result == "rejected" and "not this warehouse" in reason
        order = (await f.http.get("/v1/orders/T-9")).json()
        assert order["customer"] == "WH-X" and order["transfer"]["to_warehouse"] == "WH-X" and order["status"] == "new"
        # the floor works it as any order: reserve, a wave's pick task, a scanned pick, pack, check, ship
        assert (await f.post("/v1/orders/T-9/reserve", {"actor": "op1"}))["status"] == "reserved"
        await f.post("/v1/waves", {"actor": "sup1"}, 201)
        assert f.ctx.floor.task("PICK-T-9").task.state == "open"  # type: ignore[union-attr]
        pick = next_pick((await f.http.get("/v1/orders/T-9")).json())
        scan = {
            "location": pick["location"],
            "item": "SKU-1",
            "qty": 12,
            "actor": "op1",
            "request_id": str(uuid.uuid4()),
        }
        assert (await f.post("/v1/orders/T-9/picks", scan))["status"] == "picked"
        lines = [{"sku": "SKU-1", "lot": "", "qty": 12}]
        await f.post("/v1/orders/T-9/pack", {"cartons": [{"weight_g": 9_000, "lines": lines}], "actor": "op1"})
        await f.post("/v1/orders/T-9/check", {"units": [{"item": "SKU-1"}] * 12, "actor": "sup1"})
        shipped = await f.post("/v1/orders/T-9/ship", {"actor": "sup1"})
        assert shipped["status"] == "shipped" and shipped["shipment"]["transfer_id"] == "T-9"
        assert f.kinds(OpKind.SHIP) == []  # not sold: on the road to the other warehouse
        [out] = f.kinds(OpKind.TRANSFER_OUT)
        assert (out["transfer_id"], out["to_warehouse"], out["location"], out["qty"]) == ("T-9", "WH-X", "STAGE", 12)
        assert [(u["order_id"], u["location"], u["qty"]) for u in f.kinds(OpKind.UNRESERVE)] == [("T-9", "STAGE", 12)]
        assert [(s.location, s.status, s.qty) for s in f.ctx.journal.stock(sku="SKU-1") if s.qty] == [
            ("A-01", "available", 8)
        ]
