"""The dashboard's dispatch panels in a real browser, on a real cloud with real gateways: a transfer
order released and shipped shows in flight with its ETA, a planning run's forecast is drawn against the
demand that happened, routed orders show their fulfilment, and none of it leaves an English word on
the Chinese page."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.support.web import PASSWORD, SCREENSHOTS, Network, login, untranslated

pytestmark = pytest.mark.postgres


def _shot(page: Any, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


@pytest.fixture
def page(browser: Any) -> Any:
    ctx = browser.new_context(viewport={"width": 1440, "height": 1000}, locale="en-GB")
    p = ctx.new_page()
    yield p
    ctx.close()


def _h(network: Network, user: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {network.cloud.login(user, PASSWORD)}"}


def _network_and_history(network: Network, tmp: Path) -> None:
    """The two warehouses and their lanes (admin), and 60 days of demand imported with ``wims plan``."""
    base, admin = network.cloud.url, _h(network, "admin")
    for code, tz in (("WH-A", "Asia/Shanghai"), ("WH-B", "Asia/Shanghai")):
        body = {"code": code, "name": code, "country": "CN", "timezone": tz, "lead_time_days": 10}
        httpx.put(f"{base}/v1/network/warehouses/{code}", json=body, headers=admin, timeout=10).raise_for_status()
    for a, b in (("WH-A", "WH-B"), ("WH-B", "WH-A")):
        lane = {"origin": a, "destination": b, "transit_days": 3, "cost_per_unit": 0.5, "cost_per_shipment": 20}
        httpx.put(f"{base}/v1/network/lanes", json=lane, headers=admin, timeout=10).raise_for_status()
    for wh in ("WH-A", "WH-B"):
        svc = {"warehouse": wh, "region": "EAST", "carrier": "SF", "transit_days": 2}
        httpx.put(f"{base}/v1/network/service-lanes", json=svc, headers=admin, timeout=10).raise_for_status()
    today = datetime.now(UTC).date()
    lines = ["sku,warehouse,date,qty"]
    for d in range(60, 0, -1):
        day = today - timedelta(days=d)
        weekly = 8 if day.weekday() >= 5 else 0
        lines.append(f"MILK-1L,WH-A,{day.isoformat()},{20 + weekly + d % 3}")
        lines.append(f"YOG-500,WH-A,{day.isoformat()},{6 + d % 4}")
        lines.append(f"MILK-1L,WH-B,{day.isoformat()},{9 + d % 2}")
    csv = tmp / "history.csv"
    csv.write_text("\n".join(lines) + "\n")
    env = {**os.environ, "WIMS_DATABASE_URL": network.cloud.db_url, "WIMS_LANG": "en"}
    wims = Path(sys.executable).with_name("wims")
    done = subprocess.run([str(wims), "plan", "import-history", str(csv)], env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr


def _planning_run(network: Network) -> int:
    base, planner = network.cloud.url, _h(network, "planner")
    r = httpx.post(f"{base}/v1/planning/runs", headers=planner, timeout=30)
    assert r.status_code in (200, 201, 202), r.text
    run_id = int(r.json()["id"])
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        run = httpx.get(f"{base}/v1/planning/runs/{run_id}", headers=planner, timeout=10).json()
        if run["status"] != "running":
            assert run["status"] == "done", run
            return run_id
        time.sleep(0.5)
    raise AssertionError("the planning run did not finish in 3 minutes")


def test_transfers_in_flight_forecasts_and_orders_on_the_dashboard(network: Network, page: Any, tmp_path: Path) -> None:
    base = network.cloud.url
    gw_a, gw_b = network.gateways["WH-A"], network.gateways["WH-B"]
    gw_a.post_op({"kind": "receive", "sku": "MILK-1L", "location": "CHL-A01", "qty": 200})
    gw_b.post_op({"kind": "receive", "sku": "MILK-1L", "location": "CHL-A01", "qty": 50})
    _network_and_history(network, tmp_path)
    planner = _h(network, "planner")
    # a transfer order: approved by the planner, released to WH-A, then shipped there (transfer_out)
    body = {
        "transfer_id": "TO-WEB-1",
        "from_warehouse": "WH-A",
        "to_warehouse": "WH-B",
        "lines": [{"line": 1, "sku": "MILK-1L", "qty": 40}],
    }
    r = httpx.post(f"{base}/v1/transfers", json=body, headers=planner, timeout=10)
    assert r.status_code == 201, r.text
    if r.json()["status"] == "draft":
        httpx.post(f"{base}/v1/transfers/TO-WEB-1/approve", headers=planner, timeout=10).raise_for_status()
    gw_a.post_op(
        {
            "kind": "transfer_out",
            "sku": "MILK-1L",
            "location": "CHL-A01",
            "qty": 40,
            "transfer_id": "TO-WEB-1",
            "to_warehouse": "WH-B",
        }
    )
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        t = httpx.get(f"{base}/v1/transfers/TO-WEB-1", headers=planner, timeout=10).json()
        if t["status"] == "in_transit":
            break
        time.sleep(0.3)
    assert t["status"] == "in_transit", t
    # an order routed by the cloud, then picked at WH-A
    order = {
        "order_id": "SO-WEB-1",
        "region": "EAST",
        "customer": "Fresh Mart",
        "lines": [{"line": 1, "sku": "MILK-1L", "qty": 5}],
    }
    r = httpx.post(f"{base}/v1/orders", json=order, headers=planner, timeout=10)
    assert r.status_code in (200, 201), r.text
    run_id = _planning_run(network)

    login(page, base, "planner")
    panel = page.locator("#panel-transfer_orders")
    panel.locator("td[data-key=transfer_id]", has_text="TO-WEB-1").wait_for()
    row = panel.locator("tr", has=page.locator("td", has_text="TO-WEB-1"))
    assert "In transit" in row.inner_text()
    assert row.locator("td[data-key=in_transit]").inner_text().strip() == "40"
    assert row.locator("td[data-key=eta] time").count() == 1  # the ETA, shown as "in 3 days"
    data = page.request.get(f"{base}/panels/transfer_orders.json?warehouse=WH-B").json()
    assert [r["transfer_id"] for r in data["rows"]] == ["TO-WEB-1"]
    assert data["rows"][0]["eta"] is not None
    # the forecast: a chart with the interval and the series table
    forecast = page.locator("#panel-forecasts")
    forecast.locator(".chart svg").wait_for()
    assert f"{run_id}" in forecast.inner_text()
    spec = page.request.get(f"{base}/panels/forecasts.json?warehouse=WH-A").json()
    assert spec["facts"]["run"] == run_id
    assert {r["sku"] for r in spec["rows"]} == {"MILK-1L", "YOG-500"}
    ahead = [v for v in spec["facts"]["forecast"] if v is not None]
    low = [v for v in spec["facts"]["low"] if v is not None]
    high = [v for v in spec["facts"]["high"] if v is not None]
    assert ahead and all(lo <= m <= hi for lo, m, hi in zip(low, ahead, high, strict=True))
    assert sum(v or 0 for v in spec["facts"]["actual"]) > 0
    # order fulfilment: the routed order waits at its warehouse
    orders = page.request.get(f"{base}/panels/orders.json").json()
    assert sum(r["orders"] for r in orders["rows"]) == 1
    assert page.locator("#panel-orders [data-kpi=orders]").inner_text().strip() == "1"
    page.locator("#panel-forecasts").scroll_into_view_if_needed()
    _shot(page, "dashboard-dispatch-en")
    # the filter applies to the new panels: WH-B sees the transfer (its destination), not WH-A's order
    page.goto(f"{base}/?warehouse=WH-B&window=7d")
    page.locator("#panel-transfer_orders td", has_text="TO-WEB-1").wait_for()
    assert page.locator("#panel-orders [data-kpi=orders]").inner_text().strip() in ("0", "1")
    # Chinese: no English left on the new panels
    page.goto(f"{base}/")
    page.locator(".lang button[value=zh_Hans], .lang [data-lang=zh_Hans]").first.click()
    page.wait_for_function("() => document.documentElement.lang.startsWith('zh')")
    page.locator("#panel-forecasts .chart svg").wait_for()
    assert untranslated(page) == []
    assert "在途" in page.inner_text("#panel-transfer_orders")
    _shot(page, "dashboard-dispatch-zh")
    page.goto(f"{base}/?screen=big")
    page.locator("#panel-forecasts .chart svg").wait_for()
    _shot(page, "dashboard-dispatch-big-zh")
