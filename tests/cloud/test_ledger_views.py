"""Stock views and discrepancies: transfers in transit, short/over receipts, negative stock, serials."""

from __future__ import annotations

from typing import Any

from sync.ops import (
    AdjustPayload,
    PickPayload,
    QcHoldPayload,
    QcReleasePayload,
    ReceivePayload,
    ReservePayload,
    TransferInPayload,
    TransferOutPayload,
)
from tests.cloud.conftest import Cloud
from tests.cloud.helpers import chain, push


def _get(cloud: Cloud, path: str, who: str = "planner", **params: object) -> list[dict[str, Any]]:
    r = cloud.client.get(path, params=params, headers=cloud.h(who))
    assert r.status_code == 200, r.text
    body = r.json()
    items: list[dict[str, Any]] = body["items"] if isinstance(body, dict) else body
    return items


def test_transfer_in_transit_then_short_receipt_opens_discrepancy_and_work_order(cloud: Cloud) -> None:
    a = chain(
        "GW-A",
        [
            ReceivePayload(sku="SKU-9", location="A-01", qty=50),
            TransferOutPayload(sku="SKU-9", transfer_id="TR-1", to_warehouse="WH-B", location="A-01", qty=20),
        ],
    )
    push(cloud.client, "GW-A", cloud.gw["GW-A"], a)
    transit = _get(cloud, "/v1/stock/transit", transfer_id="TR-1")
    assert transit == [
        {
            "transfer_id": "TR-1",
            "sku": "SKU-9",
            "lot": "",
            "from_warehouse": "WH-A",
            "to_warehouse": "WH-B",
            "shipped": 20,
            "received": 0,
            "in_transit": 20,
            "eta": None,  # a transfer the cloud did not plan: no transfer order, no ETA
            "transfer_status": None,
        }
    ]
    summary = {(i["warehouse"], i["sku"]): i for i in _get(cloud, "/v1/stock/summary", sku="SKU-9")}
    assert summary[("WH-A", "SKU-9")]["available"] == 30
    assert summary[("WH-A", "SKU-9")]["in_transit_out"] == 20
    assert summary[("WH-B", "SKU-9")]["in_transit_in"] == 20
    assert summary[("WH-B", "SKU-9")]["projected"] == 20
    net = _get(cloud, "/v1/stock/network", sku="SKU-9")
    assert net == [
        {"sku": "SKU-9", "on_hand": 30, "available": 30, "reserved": 0, "frozen": 0, "in_transit": 20, "projected": 50}
    ]

    b = chain(
        "GW-B",
        [
            TransferInPayload(sku="SKU-9", transfer_id="TR-1", from_warehouse="WH-A", location="B-01", qty=18),
        ],
    )
    res = push(cloud.client, "GW-B", cloud.gw["GW-B"], b)
    assert res["discrepancies_opened"] == 1
    disc = _get(cloud, "/v1/discrepancies", who="admin", kind="transfer_short")
    assert len(disc) == 1 and disc[0]["warehouse"] == "WH-B"
    assert disc[0]["detail"] == {
        "transfer_id": "TR-1",
        "lot": "",
        "from_warehouse": "WH-A",
        "shipped": 20,
        "received": 18,
        "difference": -2,
    }
    orders = _get(cloud, "/v1/work-orders", who="admin", warehouse="WH-B")
    assert len(orders) == 1 and orders[0]["assignee_role"] == "supervisor"
    assert orders[0]["discrepancy_id"] == disc[0]["id"]
    net = _get(cloud, "/v1/stock/network", sku="SKU-9")
    assert net[0]["on_hand"] == 48 and net[0]["in_transit"] == 2


def test_over_receipt_is_a_discrepancy(cloud: Cloud) -> None:
    push(
        cloud.client,
        "GW-A",
        cloud.gw["GW-A"],
        chain(
            "GW-A",
            [
                ReceivePayload(sku="S", location="A-01", qty=5),
                TransferOutPayload(sku="S", transfer_id="TR-2", to_warehouse="WH-B", location="A-01", qty=5),
            ],
        ),
    )
    push(
        cloud.client,
        "GW-B",
        cloud.gw["GW-B"],
        chain(
            "GW-B",
            [
                TransferInPayload(sku="S", transfer_id="TR-2", from_warehouse="WH-A", location="B-01", qty=7),
            ],
        ),
    )
    disc = _get(cloud, "/v1/discrepancies", who="admin")
    assert [(d["kind"], d["detail"]["difference"]) for d in disc] == [("transfer_over", 2)]
    assert _get(cloud, "/v1/stock/transit", transfer_id="TR-2")[0]["in_transit"] == 0


def test_receipt_before_shipment_still_balances(cloud: Cloud) -> None:
    """Arrival order between gateways does not matter: the destination may sync first."""
    push(
        cloud.client,
        "GW-B",
        cloud.gw["GW-B"],
        chain(
            "GW-B",
            [
                TransferInPayload(sku="S", transfer_id="TR-3", from_warehouse="WH-A", location="B-01", qty=4),
            ],
        ),
    )
    push(
        cloud.client,
        "GW-A",
        cloud.gw["GW-A"],
        chain(
            "GW-A",
            [
                ReceivePayload(sku="S", location="A-01", qty=4),
                TransferOutPayload(sku="S", transfer_id="TR-3", to_warehouse="WH-B", location="A-01", qty=4),
            ],
        ),
    )
    assert _get(cloud, "/v1/discrepancies", who="admin") == []
    assert _get(cloud, "/v1/stock/transit", transfer_id="TR-3")[0]["in_transit"] == 0


def test_negative_stock_from_offline_edge_opens_discrepancy_and_resolves(cloud: Cloud) -> None:
    push(
        cloud.client,
        "GW-A",
        cloud.gw["GW-A"],
        chain(
            "GW-A",
            [
                ReceivePayload(sku="S", location="A-01", qty=2),
                ReservePayload(sku="S", location="A-01", qty=2, order_id="SO-1"),
                PickPayload(sku="S", from_location="A-01", to_location="PACK", qty=3, order_id="SO-1"),
            ],
        ),
    )
    disc = _get(cloud, "/v1/discrepancies", who="supervisor", status="open")
    assert len(disc) == 1 and disc[0]["kind"] == "negative_stock"
    assert disc[0]["detail"] == {"lot": "", "location": "A-01", "status": "reserved", "qty": -1}
    assert len(_get(cloud, "/v1/work-orders", who="supervisor")) == 1
    # the supervisor (of WH-A) does not see WH-B's records even when asking for them: refused
    r = cloud.client.get("/v1/discrepancies", params={"warehouse": "WH-B"}, headers=cloud.h("supervisor"))
    assert r.status_code == 403 and "bound to warehouse WH-A" in r.json()["detail"]
    push(
        cloud.client,
        "GW-A",
        cloud.gw["GW-A"],
        chain(
            "GW-A",
            [
                AdjustPayload(sku="S", location="A-01", status="reserved", qty_delta=1, reason="found"),
            ],
            start=4,
            prev=cloud.client.get("/v1/gateways/GW-A/head", headers=cloud.h("GW-A")).json()["head_hash"],
        ),
    )
    assert _get(cloud, "/v1/discrepancies", who="admin", status="open") == []
    assert len(_get(cloud, "/v1/discrepancies", who="admin", status="resolved")) == 1


def test_same_serial_in_two_warehouses(cloud: Cloud) -> None:
    push(
        cloud.client,
        "GW-A",
        cloud.gw["GW-A"],
        chain(
            "GW-A",
            [
                ReceivePayload(sku="S", location="A-01", qty=2, serials=["EPC-1", "EPC-2"]),
            ],
        ),
    )
    res = push(
        cloud.client,
        "GW-B",
        cloud.gw["GW-B"],
        chain(
            "GW-B",
            [
                ReceivePayload(sku="S", location="B-01", qty=1, serials=["EPC-2"]),
            ],
        ),
    )
    assert res["discrepancies_opened"] == 1
    disc = _get(cloud, "/v1/discrepancies", who="admin", kind="serial_in_two_warehouses")
    assert disc[0]["warehouse"] == "WH-B" and disc[0]["detail"]["first_warehouse"] == "WH-A"
    assert disc[0]["detail"]["serial"] == "EPC-2"


def test_frozen_is_qc_hold_plus_damaged_and_paging(cloud: Cloud) -> None:
    push(
        cloud.client,
        "GW-A",
        cloud.gw["GW-A"],
        chain(
            "GW-A",
            [
                ReceivePayload(sku="S", location="A-01", qty=10),
                QcHoldPayload(sku="S", location="A-01", qty=4, reason="inbound QC"),
                QcReleasePayload(sku="S", location="A-01", qty=1, to_status="damaged"),
                *[ReceivePayload(sku=f"P-{i}", location="A-02", qty=1) for i in range(5)],
            ],
        ),
    )
    line = _get(cloud, "/v1/stock", sku="S")[0]
    assert (line["on_hand"], line["available"], line["qc_hold"], line["damaged"], line["frozen"]) == (10, 6, 3, 1, 4)
    r1 = cloud.client.get("/v1/stock", params={"limit": 4}, headers=cloud.h("operator")).json()
    assert len(r1["items"]) == 4 and r1["next_after"] == 4
    r2 = cloud.client.get("/v1/stock", params={"limit": 4, "after": 4}, headers=cloud.h("operator")).json()
    assert len(r2["items"]) == 2 and r2["next_after"] is None
    assert {i["sku"] for i in r1["items"] + r2["items"]} == {"S", "P-0", "P-1", "P-2", "P-3", "P-4"}
    # gateways do not read the network's stock
    assert cloud.client.get("/v1/stock", headers=cloud.h("GW-A")).status_code == 403


def test_supervisor_closes_own_warehouse_work_orders_only(cloud: Cloud) -> None:
    for gw in ("GW-A", "GW-B"):
        push(
            cloud.client,
            gw,
            cloud.gw[gw],
            chain(
                gw,
                [
                    AdjustPayload(sku="S", location="X-1", qty_delta=-5, reason="loss"),
                ],
            ),
        )
    orders = {o["warehouse"]: o for o in _get(cloud, "/v1/work-orders", who="admin")}
    assert set(orders) == {"WH-A", "WH-B"}
    own = cloud.client.post(
        f"/v1/work-orders/{orders['WH-A']['id']}/close", json={"note": "recounted"}, headers=cloud.h("supervisor")
    )
    assert own.status_code == 200 and own.json()["status"] == "closed"
    other = cloud.client.post(f"/v1/work-orders/{orders['WH-B']['id']}/close", json={}, headers=cloud.h("supervisor"))
    assert other.status_code == 403
    assert (
        cloud.client.post(
            f"/v1/work-orders/{orders['WH-B']['id']}/close", json={}, headers=cloud.h("operator")
        ).status_code
        == 403
    )
    assert cloud.client.post("/v1/work-orders/999999/close", json={}, headers=cloud.h("admin")).status_code == 404
    actions = [
        e["action"]
        for e in cloud.client.get("/v1/audit", params={"limit": 1000}, headers=cloud.h("auditor")).json()["items"]
    ]
    assert actions.count("work_order.close") == 1
