"""Warehouse scopes: a user bound to a warehouse walks every read route of the cloud and finds nothing of
another warehouse. The walk is over the app's own route table, so a new GET route that this test does
not know fails it: add the route here (and scope it with ``cloud.auth.scope``)."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from typing import Any

import httpx
import sqlalchemy as sa
from fastapi.testclient import TestClient

from cloud.auth.users import add_user
from cloud.db.engine import make_engine
from sync.clock import SystemClock
from sync.ops import ExceptionPayload, ReceivePayload, ShipPayload, TransferOutPayload, WorkOrderPayload
from sync.roles import Role
from tests.cloud.conftest import PASSWORD, PASSWORDS, Cloud, login
from tests.cloud.helpers import auth, chain, push

MINE, OTHER = "WH-A", "WH-B"
Call = Callable[[TestClient, dict[str, str]], list[httpx.Response]]


def _seed(cloud: Cloud) -> None:
    """Stock, transit, a discrepancy and its work order, telemetry, quarantine and commands in both."""
    c = cloud.client
    for gw, wh in (("GW-A", MINE), ("GW-B", OTHER)):
        ops = [
            ReceivePayload(sku=f"SKU-{wh}", location="DOCK", qty=10),
            ShipPayload(sku=f"SKU-{wh}", location="STAGE", qty=3, order_id="O-1"),  # negative: a discrepancy
            TransferOutPayload(sku=f"SKU-{wh}", location="DOCK", qty=2, transfer_id=f"T-{wh}", to_warehouse="WH-C"),
            ExceptionPayload(code="x"),
            WorkOrderPayload(work_order_id=f"WO-{wh}", action="open", wo_type="stale_sensor"),
        ]
        push(c, gw, cloud.gw[gw], chain(gw, ops))
        bad = chain(gw, [ExceptionPayload(code="gap")], start=9)  # a gap: quarantined
        push(c, gw, cloud.gw[gw], bad)
        agg = {"sensor_id": f"t-{wh}", "minute": 5, "n": 1, "vmin": 1.0, "vmax": 1.0, "vsum": 1.0}
        r = c.post(f"/v1/gateways/{gw}/telemetry", json={"aggregates": [agg]}, headers=cloud.h(gw))
        assert r.status_code == 200, r.text
        body = {"transfer_id": f"T9-{wh}", "from_warehouse": wh, "to_warehouse": "WH-C"}
        body["lines"] = [{"line": 1, "sku": "S", "qty": 1}]  # type: ignore[assignment]
        cmd = {"gateway_id": gw, "type": "transfer_order", "body": body, "command_id": f"CMD-{wh}"}
        assert c.post("/v1/commands", json=cmd, headers=cloud.h("planner")).status_code == 201
    rates = {"currency": "CNY", "labour_per_hour": "50", "energy_kwh_per_day": "100", "energy_price_per_kwh": "1"}
    for wh in (MINE, OTHER):
        assert c.put(f"/v1/warehouses/{wh}/rates", json=rates, headers=cloud.h("admin")).status_code == 200
    r = c.put("/v1/skus/SKU-1", json={"code": "SKU-1", "gtin": "00000000000017"}, headers=cloud.h("admin"))
    assert r.status_code == 200, r.text
    # the dispatch engine's records: the network, an order routed to each warehouse, a transfer, a run
    admin = cloud.h("admin")
    for wh in (MINE, OTHER):
        assert (
            c.put(f"/v1/network/warehouses/{wh}", json={"code": wh, "country": "US"}, headers=admin).status_code == 200
        )
        lane = {"warehouse": wh, "region": f"R-{wh}", "transit_days": 1}
        assert c.put("/v1/network/service-lanes", json=lane, headers=admin).status_code == 200
        order = {"order_id": f"O-{wh}", "region": f"R-{wh}", "lines": [{"line": 1, "sku": f"SKU-{wh}", "qty": 1}]}
        assert c.post("/v1/orders", json=order, headers=admin).json()["status"] == "routed"
    lane = {"origin": MINE, "destination": OTHER, "transit_days": 2}
    assert c.put("/v1/network/lanes", json=lane, headers=admin).status_code == 200
    t = {
        "transfer_id": "TR-MINE",
        "from_warehouse": MINE,
        "to_warehouse": OTHER,
        "lines": [{"line": 1, "sku": "S", "qty": 1}],
    }
    assert c.post("/v1/transfers", json=t, headers=admin).status_code == 201
    engine = make_engine(cloud.url, pool_size=1)
    with engine.begin() as conn:
        conn.execute(
            sa.text("INSERT INTO planning_runs (trigger, actor, status, started_at) VALUES ('api', 't', 'done', :n)"),
            {"n": SystemClock().now()},
        )
    engine.dispose()


def _fail(r: httpx.Response) -> bool:
    raise AssertionError(f"another warehouse's command answered {r.status_code}: {r.text}")


def _get(path: str, **params: Any) -> Call:
    return lambda c, h: [c.get(path, params=params, headers=h)]


def _gateway(path: str, mine: str = "GW-A", other: str = "GW-B", **params: Any) -> Call:
    """The bound user's own gateway (or warehouse) answers; the other warehouse's is refused."""

    def call(c: TestClient, h: dict[str, str]) -> list[httpx.Response]:
        ours = c.get(path.format(gateway_id=mine), params=params, headers=h)
        other_answer = c.get(path.format(gateway_id=other), params=params, headers=h)
        assert other_answer.status_code == 403, (path, other_answer.text)
        return [ours]

    return call


def _scoped(path: str) -> Call:
    """Filtered to the bound warehouse; asking for another one explicitly is refused."""

    def call(c: TestClient, h: dict[str, str]) -> list[httpx.Response]:
        other = c.get(path, params={"warehouse": OTHER}, headers=h)
        assert other.status_code == 403, (path, other.text)
        return [c.get(path, headers=h), c.get(path, params={"warehouse": MINE}, headers=h)]

    return call


WALK: dict[str, Call] = {
    "/v1/stock": _scoped("/v1/stock"),
    "/v1/stock/summary": _scoped("/v1/stock/summary"),
    "/v1/stock/transit": _scoped("/v1/stock/transit"),
    "/v1/stock/network": _get("/v1/stock/network"),
    "/v1/discrepancies": _scoped("/v1/discrepancies"),
    "/v1/work-orders": _scoped("/v1/work-orders"),
    "/v1/skus": _get("/v1/skus"),
    "/v1/skus/{code}": _get("/v1/skus/SKU-1"),
    "/v1/masterdata": _scoped("/v1/masterdata"),
    "/v1/me": _get("/v1/me"),
    "/v1/audit": _get("/v1/audit"),
    "/v1/audit/verify": _get("/v1/audit/verify"),
    "/v1/gateways/{gateway_id}/head": _gateway("/v1/gateways/{gateway_id}/head"),
    "/v1/gateways/{gateway_id}/quarantine": _gateway("/v1/gateways/{gateway_id}/quarantine"),
    "/v1/gateways/{gateway_id}/telemetry": _gateway("/v1/gateways/{gateway_id}/telemetry"),
    "/v1/gateways/{gateway_id}/commands": _gateway("/v1/gateways/{gateway_id}/commands"),
    "/v1/commands": _get("/v1/commands"),
    "/v1/commands/{command_id}": lambda c, h: (
        [c.get("/v1/commands/CMD-WH-A", headers=h)]
        + [r for r in [c.get("/v1/commands/CMD-WH-B", headers=h)] if r.status_code != 403 and bool(_fail(r))]
    ),
    "/v1/warehouses/{warehouse}/rates": _gateway("/v1/warehouses/{gateway_id}/rates", mine=MINE, other=OTHER),
    "/v1/events": lambda c, h: [],  # a stream: walked by test_the_event_stream_is_scoped below
    "/v1/network/warehouses": _get("/v1/network/warehouses"),
    "/v1/network/lanes": _get("/v1/network/lanes"),
    "/v1/network/service-lanes": _get("/v1/network/service-lanes"),
    "/v1/orders": _scoped("/v1/orders"),
    "/v1/orders/{order_id}": lambda c, h: (
        [c.get(f"/v1/orders/O-{MINE}", headers=h)]
        + [r for r in [c.get(f"/v1/orders/O-{OTHER}", headers=h)] if r.status_code != 404 and bool(_fail(r))]
    ),
    "/v1/transfers": _scoped("/v1/transfers"),
    "/v1/transfers/{transfer_id}": _get("/v1/transfers/TR-MINE"),
    "/v1/planning/runs": _get("/v1/planning/runs"),
    "/v1/planning/runs/{run_id}": _get("/v1/planning/runs/1"),
    "/v1/planning/anomalies": _scoped("/v1/planning/anomalies"),
    "/v1/forecasts": _scoped("/v1/forecasts"),
    "/v1/recommendations": _scoped("/v1/recommendations"),
}
"""Every GET route of the app, and how to read it as the bound user."""

OPEN = {"/healthz", "/metrics", "/openapi.json", "/docs", "/docs/oauth2-redirect", "/redoc"}


def _foreign(data: Any) -> list[str]:
    """Whatever in an answer belongs to another warehouse or its gateway."""
    found: list[str] = []
    if isinstance(data, dict):
        if "warehouse" in data and data["warehouse"] != MINE:
            found.append(f"warehouse {data['warehouse']}")
        if "from_warehouse" in data and MINE not in (data["from_warehouse"], data["to_warehouse"]):
            found.append(f"transfer {data}")
        if data.get("gateway_id") not in (None, "GW-A"):
            found.append(f"gateway {data['gateway_id']}")
        if "sku" in data and data["sku"] == f"SKU-{OTHER}":
            found.append(f"sku {data['sku']}")
        for value in data.values():
            found += _foreign(value)
    elif isinstance(data, list):
        for value in data:
            found += _foreign(value)
    return found


def _bound_user(cloud: Cloud, name: str, role: Role) -> dict[str, str]:
    engine = make_engine(cloud.url, pool_size=1)
    add_user(engine, name, role, PASSWORD, warehouse=MINE, now=SystemClock().now(), actor="test", passwords=PASSWORDS)
    engine.dispose()
    return auth(login(cloud.client, name))


def test_a_bound_user_walks_every_read_route_and_finds_nothing_of_another_warehouse(cloud: Cloud) -> None:
    _seed(cloud)
    # the app's read operations as its OpenAPI document lists them (included routers nest their routes)
    doc = cloud.client.app.openapi()  # type: ignore[attr-defined]
    gets = {path for path, item in doc["paths"].items() if "get" in item} - OPEN
    assert gets <= set(WALK), f"read routes the scope walk does not know: {sorted(gets - set(WALK))}"
    planner = _bound_user(cloud, "pl-a", Role.PLANNER)
    auditor = _bound_user(cloud, "au-a", Role.AUDITOR)
    seen_mine = 0
    for path, call in WALK.items():
        for response in call(cloud.client, planner):
            if path.startswith("/v1/audit"):
                assert response.status_code == 403, (path, response.text)  # network-wide: refused
                continue
            assert response.status_code == 200, (path, response.text)
            data = response.json()
            assert not _foreign(data), (path, _foreign(data))
            seen_mine += MINE in response.text or "GW-A" in response.text
    assert seen_mine >= 10  # the walk saw the bound warehouse's own data, not just empty pages
    assert cloud.client.get("/v1/audit", headers=auditor).status_code == 403
    network = cloud.client.get("/v1/stock/network", headers=planner).json()["items"]
    assert {i["sku"] for i in network} == {f"SKU-{MINE}"}  # the other warehouse's stock is not in its totals
    unbound = cloud.client.get("/v1/stock/network", headers=cloud.h("planner")).json()["items"]
    assert {i["sku"] for i in unbound} == {f"SKU-{MINE}", f"SKU-{OTHER}"}


def test_the_event_stream_is_scoped(cloud: Cloud) -> None:
    planner = _bound_user(cloud, "pl-a", Role.PLANNER)
    hub = cloud.client.app.state.services.hub  # type: ignore[attr-defined]
    before = hub.subscribers
    got: dict[str, str] = {}

    def stream() -> None:
        got["text"] = cloud.client.get("/v1/events", headers=planner).text

    reader = threading.Thread(target=stream)
    reader.start()
    deadline = time.monotonic() + 10
    while hub.subscribers == before and time.monotonic() < deadline:
        time.sleep(0.01)
    _seed(cloud)
    time.sleep(0.5)
    cloud.client.portal.call(hub.close)  # type: ignore[union-attr]  # ends the stream, as a shutdown does
    reader.join(10)
    events = [json.loads(line[6:]) for line in got["text"].splitlines() if line.startswith('data: {"')]
    assert any(e.get("warehouse") == MINE for e in events), got["text"][:500]
    assert all(e.get("warehouse") == MINE for e in events), events
    assert cloud.client.get("/v1/events", params={"warehouse": OTHER}, headers=planner).status_code == 403
