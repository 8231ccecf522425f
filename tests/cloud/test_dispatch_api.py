"""The dispatch engine over the cloud API (SQLite and PostgreSQL): the network as data, demand history
from ship ops in each warehouse's time zone, order routing with its reason and commands, the transfer
order's state machine driven by synced ops, planners' decisions (and an operator refused), and a
planning run storing forecasts and recommendations."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from typing import Any

import sqlalchemy as sa

from cloud.db.engine import make_engine
from cloud.db.schema import demand_history, recommendations
from cloud.planning.config import DispatchConfig, TransferSettings
from sync.canonical import iso_utc, seal
from sync.ops import GENESIS_HASH, OpDraft, Payload, ReceivePayload, ShipPayload, TransferInPayload, TransferOutPayload
from tests.cloud.conftest import Cloud
from tests.cloud.helpers import push


def _ops(
    gateway_id: str, payloads: list[tuple[Payload, datetime]], start: int = 1, prev: str = GENESIS_HASH
) -> list[dict[str, Any]]:
    out = []
    for i, (p, at) in enumerate(payloads):
        body = seal(
            OpDraft(payload=p, actor="op-1", occurred_at=at),
            gateway_id=gateway_id,
            seq=start + i,
            prev_hash=prev,
            recorded_at=iso_utc(at),
        )
        prev = body["hash"]
        out.append(body)
    return out


def _network(cloud: Cloud) -> None:
    c, admin = cloud.client, cloud.h("admin")
    for code, country, tz in (("WH-A", "US", "America/Los_Angeles"), ("WH-B", "CN", "Asia/Shanghai")):
        body = {"code": code, "name": code, "country": country, "timezone": tz, "lead_time_days": 10}
        r = c.put(f"/v1/network/warehouses/{code}", json=body, headers=admin)
        assert r.status_code == 200, r.text
    for a, b in (("WH-A", "WH-B"), ("WH-B", "WH-A")):
        lane = {"origin": a, "destination": b, "transit_days": 3, "cost_per_unit": 0.5, "cost_per_shipment": 20}
        assert c.put("/v1/network/lanes", json=lane, headers=admin).status_code == 200
    for wh in ("WH-A", "WH-B"):
        svc = {"warehouse": wh, "region": "EAST", "carrier": "UPS", "transit_days": 2 if wh == "WH-A" else 4}
        assert c.put("/v1/network/service-lanes", json=svc, headers=admin).status_code == 200


def test_network_records_admin_only_and_checked(cloud: Cloud) -> None:
    _network(cloud)
    c = cloud.client
    got = c.get("/v1/network/warehouses", headers=cloud.h("planner")).json()["items"]
    assert [(w["code"], w["timezone"]) for w in got] == [("WH-A", "America/Los_Angeles"), ("WH-B", "Asia/Shanghai")]
    assert len(c.get("/v1/network/lanes", headers=cloud.h("planner")).json()["items"]) == 2
    bad = {"origin": "WH-A", "destination": "WH-Z", "transit_days": 1}
    r = c.put("/v1/network/lanes", json=bad, headers=cloud.h("admin"))
    assert r.status_code == 422 and "destination: unknown warehouse 'WH-Z'" in r.text
    r = c.put(
        "/v1/network/warehouses/WH-C",
        json={"code": "WH-C", "country": "US", "timezone": "Mars/Base"},
        headers=cloud.h("admin"),
    )
    assert r.status_code == 422 and "timezone" in r.text
    r = c.put("/v1/network/warehouses/WH-C", json={"code": "WH-C", "country": "US"}, headers=cloud.h("planner"))
    assert r.status_code == 403


def test_ship_ops_become_demand_history_on_the_warehouse_local_day(cloud: Cloud) -> None:
    _network(cloud)
    late_evening_la = datetime(2026, 1, 5, 3, 30, tzinfo=UTC)  # 19:30 on 4 January in Los Angeles
    ops = _ops(
        "GW-A",
        [
            (ReceivePayload(sku="S1", location="L1", qty=50), late_evening_la),
            (ShipPayload(sku="S1", location="L1", qty=4, order_id="O1"), late_evening_la),
            (ShipPayload(sku="S1", location="L1", qty=6, order_id="O2"), late_evening_la + timedelta(hours=10)),
        ],
    )
    push(cloud.client, "GW-A", cloud.gw["GW-A"], ops)
    engine = make_engine(cloud.url, pool_size=1)
    with engine.connect() as conn:
        rows = conn.execute(sa.select(demand_history.c.day, demand_history.c.shipped).order_by("day")).all()
    engine.dispose()
    assert [(r[0], r[1]) for r in rows] == [(date(2026, 1, 4), 4), (date(2026, 1, 5), 6)]


def _stock(cloud: Cloud, gw: str, lines: dict[str, int], start: int = 1) -> None:
    at = datetime(2026, 1, 5, 8, 0, tzinfo=UTC)
    ops = _ops(gw, [(ReceivePayload(sku=s, location="L1", qty=q), at) for s, q in lines.items()], start=start)
    push(cloud.client, gw, cloud.gw[gw], ops)


def test_an_order_no_single_warehouse_can_serve_is_split_and_sent_to_both_gateways(cloud: Cloud) -> None:
    _network(cloud)
    _stock(cloud, "GW-A", {"S1": 5})
    _stock(cloud, "GW-B", {"S1": 10, "S2": 3})
    c, planner = cloud.client, cloud.h("planner")
    # WH-B holds everything: one parcel from it (WH-A is faster but short)
    r = c.post(
        "/v1/orders",
        json={"order_id": "O-1", "region": "EAST", "lines": [{"line": 1, "sku": "S2", "qty": 2}]},
        headers=planner,
    )
    assert r.status_code == 201, r.text
    one = r.json()
    assert one["status"] == "routed" and [s["warehouse"] for s in one["shipments"]] == ["WH-B"]
    # S1 x12: neither holds 12 (WH-B has 10); split over both, with the reason stored
    order = {"order_id": "O-2", "region": "EAST", "customer": "Ann", "lines": [{"line": 1, "sku": "S1", "qty": 12}]}
    r = c.post("/v1/orders", json=order, headers=planner)
    assert r.status_code == 201, r.text
    split = r.json()
    assert split["status"] == "split", split
    assert sorted(s["warehouse"] for s in split["shipments"]) == ["WH-A", "WH-B"]
    assert sum(s["lines"][0]["qty"] for s in split["shipments"]) == 12
    assert "no single warehouse" in split["reason"] and "拆分" in split["reason_zh"]
    cmds = c.get("/v1/commands", params={"limit": 100}, headers=planner).json()["items"]
    outbound = {(x["gateway_id"], x["body"]["id"]) for x in cmds if x["type"] == "outbound_order"}
    assert outbound == {("GW-B", "O-1"), ("GW-A", "O-2-WH-A"), ("GW-B", "O-2-WH-B")}
    # posting the same order again returns the stored decision (no second command)
    again = c.post("/v1/orders", json=order, headers=planner).json()
    assert again["shipments"] == split["shipments"]
    assert len(c.get("/v1/commands", params={"limit": 100}, headers=planner).json()["items"]) == 3
    assert c.post("/v1/orders", json=order, headers=cloud.h("operator")).status_code == 403
    listed = c.get("/v1/orders", params={"warehouse": "WH-A"}, headers=cloud.h("operator")).json()["items"]
    assert [o["order_id"] for o in listed] == ["O-2"]


def _set_transfers(cloud: Cloud, **kw: Any) -> None:
    svc = cloud.client.app.state.services  # type: ignore[attr-defined]
    svc.dispatch = DispatchConfig(transfers=TransferSettings(**kw))
    svc.planner.cfg = svc.dispatch


def test_transfer_lifecycle_driven_by_ops_with_a_short_receipt(cloud: Cloud) -> None:
    _network(cloud)
    _stock(cloud, "GW-A", {"S1": 20})
    c, planner = cloud.client, cloud.h("planner")
    body = {
        "transfer_id": "T-1",
        "from_warehouse": "WH-A",
        "to_warehouse": "WH-B",
        "lines": [{"line": 1, "sku": "S1", "qty": 8}],
    }
    r = c.post("/v1/transfers", json=body, headers=planner)
    assert r.status_code == 201, r.text
    assert r.json()["status"] == "draft"  # no auto-approval configured
    assert c.post("/v1/transfers/T-1/approve", headers=cloud.h("operator")).status_code == 403
    r = c.post("/v1/transfers/T-1/approve", headers=planner)
    assert r.status_code == 200, r.text
    t = r.json()
    assert t["status"] == "released" and t["eta"] is not None and t["command_id"] == "TO-T-1"
    cmd = c.get("/v1/commands/TO-T-1", headers=planner).json()
    assert cmd["gateway_id"] == "GW-A" and cmd["type"] == "transfer_order" and cmd["body"]["lines"][0]["qty"] == 8
    # the destination's receipt syncs first (the source was offline): received, nothing to compare yet
    at = datetime(2026, 1, 6, 8, 0, tzinfo=UTC)
    push(
        c,
        "GW-B",
        cloud.gw["GW-B"],
        _ops(
            "GW-B", [(TransferInPayload(sku="S1", transfer_id="T-1", from_warehouse="WH-A", location="L1", qty=7), at)]
        ),
    )
    assert c.get("/v1/transfers/T-1", headers=planner).json()["status"] == "received"
    # then the source's shipment: in transit 1 (8 shipped, 7 received), a short receipt and its work order
    src_prev = c.get("/v1/gateways/GW-A/head", headers=cloud.h("GW-A")).json()
    push(
        c,
        "GW-A",
        cloud.gw["GW-A"],
        _ops(
            "GW-A",
            [(TransferOutPayload(sku="S1", transfer_id="T-1", to_warehouse="WH-B", location="L1", qty=8), at)],
            start=2,
            prev=src_prev["head_hash"],
        ),
    )
    t = c.get("/v1/transfers/T-1", headers=planner).json()
    assert t["status"] == "received" and t["transit"] == [
        {"sku": "S1", "lot": "", "shipped": 8, "received": 7, "in_transit": 1}
    ]
    line = c.get("/v1/stock/transit", params={"transfer_id": "T-1"}, headers=planner).json()["items"][0]
    assert line["in_transit"] == 1 and line["eta"] is not None and line["transfer_status"] == "received"
    summary = {(i["warehouse"], i["sku"]): i for i in c.get("/v1/stock/summary", headers=planner).json()["items"]}
    assert summary[("WH-A", "S1")]["available"] == 12  # no longer available at the source
    disc = c.get("/v1/discrepancies", headers=planner).json()["items"]
    short = [d for d in disc if d["kind"] == "transfer_short"]
    assert len(short) == 1 and short[0]["status"] == "open"
    wos = c.get("/v1/work-orders", headers=planner).json()["items"]
    assert any(w["discrepancy_id"] == short[0]["id"] for w in wos)
    # a planner closes it once dealt with; transport heard of every step (outbox)
    r = c.post("/v1/transfers/T-1/close", json={"note": "1 unit damaged in transit"}, headers=planner)
    assert r.status_code == 200 and r.json()["status"] == "closed"
    events = [w["event_type"] for w in r.json()["webhooks"]]
    assert events == ["transfer.released", "transfer.received", "transfer.shipped", "transfer.closed"]


def test_an_exact_receipt_closes_and_a_cheap_transfer_is_approved_by_itself(cloud: Cloud) -> None:
    _network(cloud)
    _stock(cloud, "GW-A", {"S1": 20})
    _set_transfers(cloud, auto_approve_below=1000)
    c, planner = cloud.client, cloud.h("planner")
    body = {
        "transfer_id": "T-2",
        "from_warehouse": "WH-A",
        "to_warehouse": "WH-B",
        "lines": [{"line": 1, "sku": "S1", "qty": 5}],
    }
    t = c.post("/v1/transfers", json=body, headers=planner).json()
    assert t["status"] == "released" and t["approved_by"] == "system:auto-approve"
    at = datetime(2026, 1, 6, 8, 0, tzinfo=UTC)
    head = c.get("/v1/gateways/GW-A/head", headers=cloud.h("GW-A")).json()
    push(
        c,
        "GW-A",
        cloud.gw["GW-A"],
        _ops(
            "GW-A",
            [(TransferOutPayload(sku="S1", transfer_id="T-2", to_warehouse="WH-B", location="L1", qty=5), at)],
            start=2,
            prev=head["head_hash"],
        ),
    )
    assert c.get("/v1/transfers/T-2", headers=planner).json()["status"] == "in_transit"
    push(
        c,
        "GW-B",
        cloud.gw["GW-B"],
        _ops(
            "GW-B",
            [
                (
                    TransferInPayload(
                        sku="S1", lot="L-OTHER", transfer_id="T-2", from_warehouse="WH-A", location="L1", qty=5
                    ),
                    at,
                )
            ],
        ),
    )
    t = c.get("/v1/transfers/T-2", headers=planner).json()
    assert t["status"] == "received"  # a lot that was never shipped: not closed
    kinds = {d["kind"] for d in c.get("/v1/discrepancies", headers=planner).json()["items"]}
    assert "transfer_wrong_lot" in kinds


def test_a_planner_decides_recommendations_and_an_operator_cannot(cloud: Cloud) -> None:
    _network(cloud)
    _stock(cloud, "GW-A", {"S1": 100})
    engine = make_engine(cloud.url, pool_size=1)
    now = datetime.now(UTC)
    with engine.begin() as conn:
        run_id = conn.execute(
            sa.text(
                "INSERT INTO planning_runs (trigger, actor, status, started_at, series, recommendations, detail) "
                "VALUES ('api', 'test', 'done', :now, 0, 2, '{}') RETURNING id"
            ),
            {"now": now},
        ).scalar_one()
        why = json.dumps({"destination_shortfall": 30.0, "origin_surplus": 60.0})
        ids = [
            conn.execute(
                recommendations.insert()
                .values(
                    run_id=run_id,
                    kind=k,
                    sku="S1",
                    origin=o,
                    warehouse="WH-B",
                    qty=30,
                    cost=15.0,
                    why=why,
                    status="open",
                    created_at=now,
                )
                .returning(recommendations.c.id)
            ).scalar_one()
            for k, o in (("transfer", "WH-A"), ("purchase", None))
        ]
    engine.dispose()
    c = cloud.client
    listed = c.get("/v1/recommendations", headers=cloud.h("operator")).json()["items"]
    assert [x["why"]["destination_shortfall"] for x in listed] == [30.0, 30.0]
    assert c.post(f"/v1/recommendations/{ids[0]}/approve", json={}, headers=cloud.h("operator")).status_code == 403
    assert c.post(f"/v1/recommendations/{ids[0]}/approve", json={}, headers=cloud.h("supervisor")).status_code == 403
    r = c.post(f"/v1/recommendations/{ids[0]}/approve", json={"note": "go"}, headers=cloud.h("planner"))
    assert r.status_code == 200, r.text
    got = r.json()
    assert got["recommendation"]["status"] == "approved" and got["transfer"]["status"] == "released"
    assert got["transfer"]["lines"][0]["qty"] == 30 and got["transfer"]["recommendation_id"] == ids[0]
    r = c.post(f"/v1/recommendations/{ids[1]}/reject", json={"note": "supplier closed"}, headers=cloud.h("admin"))
    assert r.status_code == 200 and r.json()["recommendation"]["decided_by"] == "user:admin"
    assert c.post(f"/v1/recommendations/{ids[1]}/approve", json={}, headers=cloud.h("planner")).status_code == 409
    audit = c.get("/v1/audit", params={"limit": 1000}, headers=cloud.h("auditor")).json()["items"]
    actions = [(e["action"], e["actor"]) for e in audit if e["action"].startswith("recommendation.")]
    assert actions == [("recommendation.approve", "user:planner"), ("recommendation.reject", "user:admin")]


def test_operator_may_not_start_a_planning_run(cloud: Cloud) -> None:
    assert cloud.client.post("/v1/planning/runs", headers=cloud.h("operator")).status_code == 403
    assert cloud.client.get("/v1/planning/runs", headers=cloud.h("operator")).json()["items"] == []


def test_goods_moved_under_a_cancelled_transfer_open_a_discrepancy(cloud: Cloud) -> None:
    _network(cloud)
    _stock(cloud, "GW-A", {"S1": 20})
    c, planner = cloud.client, cloud.h("planner")
    lines = [{"line": 1, "sku": "S1", "qty": 5}]
    body = {"transfer_id": "T-X", "from_warehouse": "WH-A", "to_warehouse": "WH-B", "lines": lines}
    assert c.post("/v1/transfers", json=body, headers=planner).status_code == 201
    r = c.post("/v1/transfers/T-X/cancel", json={"note": "not needed"}, headers=planner)
    assert r.status_code == 200 and r.json()["status"] == "cancelled"
    assert c.post("/v1/transfers/T-X/approve", headers=planner).status_code == 409
    at = datetime(2026, 1, 6, 8, 0, tzinfo=UTC)
    head = c.get("/v1/gateways/GW-A/head", headers=cloud.h("GW-A")).json()
    out = TransferOutPayload(sku="S1", transfer_id="T-X", to_warehouse="WH-B", location="L1", qty=5)
    push(c, "GW-A", cloud.gw["GW-A"], _ops("GW-A", [(out, at)], start=2, prev=head["head_hash"]))
    assert c.get("/v1/transfers/T-X", headers=planner).json()["status"] == "cancelled"
    kinds = [d["kind"] for d in c.get("/v1/discrepancies", headers=planner).json()["items"]]
    assert "transfer_after_cancel" in kinds
