"""The handheld on the floor's own routes, on a real gateway: PIN login (a session token sent on every
call, ended by logout), a task from the list taken and done, the next task claimed, QC of a receipt
with the site's reason codes, an exception reported with a photo as a work order; and the new screens
in Chinese with no English left."""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from sync.codes import gtin14
from tests.support.web import PIN, SCREENSHOTS, GatewayProcess, Network, untranslated

pytestmark = pytest.mark.postgres
PHOTO = Path(__file__).resolve().parents[2] / "edge" / "api" / "handheld" / "static" / "icon-192.png"


def _shot(page: Any, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


def _post(gw: GatewayProcess, path: str, body: dict[str, Any]) -> dict[str, Any]:
    r = httpx.post(f"{gw.url}{path}", json=body, timeout=10)
    assert r.status_code in (200, 201), r.text
    out: dict[str, Any] = r.json()
    return out


def _get(gw: GatewayProcess, path: str) -> dict[str, Any]:
    r = httpx.get(f"{gw.url}{path}", timeout=10)
    r.raise_for_status()
    out: dict[str, Any] = r.json()
    return out


def _until(check: Any, what: str, timeout: float = 15) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        got = check()
        if got:
            return got
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.fixture
def hh(browser: Any, network: Network) -> Any:
    ctx = browser.new_context(viewport={"width": 412, "height": 860}, locale="en-GB", has_touch=True, is_mobile=True)
    page = ctx.new_page()
    throttle = float(os.environ.get("WIMS_TEST_CPU_THROTTLE", "1"))  # e.g. 12: a slow handheld, to bring races out
    if throttle > 1:
        ctx.new_cdp_session(page).send("Emulation.setCPUThrottlingRate", {"rate": throttle})
    page.goto(network.gateways["WH-A"].url + "/app/")
    page.wait_for_selector("#screen-login:not(.hidden)")
    yield page
    ctx.close()


def _login(page: Any, pin: str = PIN) -> None:
    page.wait_for_selector("#login-pin-row:not(.hidden)")  # the gateway offers sessions
    page.fill("#login-id", "op1")
    page.fill("#login-pin", pin)
    page.click("#login-go")


def test_pin_login_then_a_task_from_the_list_is_done(network: Network, hh: Any) -> None:
    gw = network.gateways["WH-A"]
    _post(
        gw,
        "/v1/tasks",
        {
            "task_kind": "count",
            "task_id": "T-COUNT-1",
            "sku": "MILK-1L",
            "from_location": "CHL-A01",
            "zone": "CHL",
            "priority": 3,
            "actor": "sup1",
        },
    )
    _shot(hh, "handheld-login-en")
    _login(hh, "9999")  # a wrong PIN is refused, with its reason
    hh.wait_for_function("() => document.querySelector('#toast').textContent.includes('PIN')")
    assert hh.locator("#screen-login:not(.hidden)").count() == 1
    _login(hh)
    hh.wait_for_selector("#screen-home:not(.hidden)")
    assert "Zhang Wei" in hh.inner_text("#who")
    token = hh.evaluate("() => localStorage.getItem('wims.session')")
    assert (
        token
        and httpx.get(f"{gw.url}/v1/sessions/current", headers={"X-WIMS-Session": token}).json()["operator_id"] == "op1"
    )
    hh.click("#tile-tasks")
    card = hh.locator("[data-task-card=T-COUNT-1]")
    card.wait_for()
    _shot(hh, "handheld-tasks-en")
    card.locator("[data-step=take]").click()
    # the count task opens the count screen at its location and item; saving the count finishes the task
    hh.locator("[data-task-card=T-COUNT-1] [data-step=count]").click()
    hh.wait_for_selector("#qty")
    assert "CHL-A01" in hh.inner_text("#flow-facts") and "MILK-1L" in hh.inner_text("#flow-facts")
    _shot(hh, "handheld-count-task-en")
    hh.fill("#qty", "7")
    hh.click("#flow-save")
    done = _until(lambda: (t := _get(gw, "/v1/tasks/T-COUNT-1"))["state"] == "done" and t, "the task to be done")
    assert done["assignee"] == "op1" and done["updated_by"] == "op1"  # the session's operator, not a body's name
    count = _until(
        lambda: [o for o in gw.ops() if o["kind"] == "count" and o["payload"]["location"] == "CHL-A01"], "the count"
    )
    assert count[-1]["payload"]["counted_qty"] == 7 and count[-1]["actor"] == "op1"
    # claim the next one: the most urgent open task of my role
    _post(
        gw,
        "/v1/tasks",
        {
            "task_kind": "move",
            "task_id": "T-MOVE-1",
            "sku": "YOG-500",
            "from_location": "DOCK-IN-1",
            "to_location": "CHL-A02",
            "priority": 1,
            "actor": "sup1",
        },
    )
    hh.click("#claim-next")
    hh.locator("[data-task-card=T-MOVE-1] .st-assigned").wait_for()
    assert _get(gw, "/v1/tasks/T-MOVE-1")["assignee"] == "op1"
    # logout ends the session on the gateway
    hh.click("#go-home")
    hh.click("#logout")
    hh.wait_for_selector("#screen-login:not(.hidden)")
    assert httpx.get(f"{gw.url}/v1/sessions/current", headers={"X-WIMS-Session": token}).status_code == 401


def test_qc_with_reason_codes_and_an_exception_with_a_photo(network: Network, hh: Any) -> None:
    gw = network.gateways["WH-A"]
    receipt = _post(
        gw, "/v1/inbound/receipts", {"asn_id": "ASN-1", "line": 2, "qty": 4, "item": "YOG-500", "actor": "op1"}
    )
    rid = receipt["id"]
    _login(hh)
    hh.wait_for_selector("#screen-home:not(.hidden)")
    hh.click("[data-nav=qc]")
    hh.locator(f"[data-receipt='{rid}']").wait_for()
    _shot(hh, "handheld-qc-en")
    hh.click(f"[data-receipt='{rid}']")
    hh.click("[data-qc-result=reject]")
    hh.locator("[data-qc-reason=damaged]").wait_for()
    _shot(hh, "handheld-qc-reasons-en")
    hh.click("[data-qc-reason=damaged]")
    _until(lambda: _get(gw, f"/v1/inbound/receipts/{rid}")["status"] == "rejected", "the receipt to be rejected")
    # an exception, with a photo: a work order on the gateway
    hh.click("#go-home")
    hh.click("[data-nav=exception]")
    hh.fill("#scan", "DOCK-IN-1")
    hh.press("#scan", "Enter")
    hh.click("[data-reason=damaged]")
    hh.set_input_files("#photo", str(PHOTO))
    hh.click("#flow-save")

    def mine() -> list[dict[str, Any]]:
        orders = _get(gw, "/v1/work-orders?wo_type=damaged_goods")["items"]
        return [w for w in orders if w["opened_by"] == "op1" and w["location"] == "DOCK-IN-1"]

    # the outbox count reads 0 before the save has queued anything: wait for the gateway's answer instead
    _until(mine, "the exception's work order on the gateway")
    hh.wait_for_function("() => document.querySelector('#pending-count').textContent.trim() === '0'", timeout=15_000)
    orders = mine()
    assert len(orders) == 1 and orders[0]["photo"], orders
    assert httpx.get(f"{gw.url}/v1/photos/{orders[0]['photo']}", timeout=10).content == PHOTO.read_bytes()


def test_the_new_screens_speak_chinese(network: Network, hh: Any) -> None:
    gw = network.gateways["WH-A"]
    _post(
        gw,
        "/v1/tasks",
        {
            "task_kind": "putaway",
            "task_id": "T-PUT-ZH",
            "sku": "MILK-1L",
            "from_location": "DOCK-IN-1",
            "to_location": "CHL-A01",
            "qty": 6,
            "priority": 2,
            "actor": "sup1",
        },
    )
    _post(gw, "/v1/inbound/receipts", {"asn_id": "ASN-1", "line": 1, "qty": 3, "item": "MILK-1L", "actor": "op1"})
    hh.locator("#screen-login .lang[data-lang=zh_Hans]").click()
    assert untranslated(hh) == []
    _shot(hh, "handheld-login-zh")
    _login(hh)
    hh.wait_for_selector("#screen-home:not(.hidden)")
    hh.click("#tile-tasks")
    hh.locator("[data-task-card=T-PUT-ZH]").wait_for()
    assert untranslated(hh) == []
    assert "待领取" in hh.inner_text("[data-task-card=T-PUT-ZH]")
    _shot(hh, "handheld-tasks-zh")
    hh.click("#go-home")
    hh.click("[data-nav=qc]")
    first = hh.locator("[data-receipt]").first
    first.wait_for()
    assert untranslated(hh) == []
    _shot(hh, "handheld-qc-zh")
    first.click()
    hh.click("[data-qc-result=hold]")
    hh.locator("[data-qc-reason]").first.wait_for()
    assert untranslated(hh) == []
    _shot(hh, "handheld-qc-reasons-zh")
    hh.click("#go-home")
    hh.click("[data-nav=pick]")
    hh.locator("#screen-work:not(.hidden)").wait_for()
    assert untranslated(hh) == []
    _shot(hh, "handheld-pick-orders-zh")


def test_pick_a_released_order_scanning_location_then_item(network: Network, hh: Any) -> None:
    gw = network.gateways["WH-A"]
    gw.post_op({"kind": "receive", "sku": "DUMP-FZ", "location": "FRZ-B01", "qty": 10})
    order = {"id": "SO-PICK-1", "customer": "Fresh Mart", "lines": [{"line": 1, "sku": "DUMP-FZ", "qty": 4}]}
    _post(gw, "/v1/orders", order)
    _post(gw, "/v1/orders/SO-PICK-1/reserve", {"actor": "sup1"})
    _post(gw, "/v1/waves", {"actor": "sup1"})
    assert _get(gw, "/v1/orders/SO-PICK-1")["status"] == "released"
    hh.fill("#login-id", "op1")  # an ID alone where sessions are optional
    hh.click("#login-go")
    hh.wait_for_selector("#screen-home:not(.hidden)")
    # the wave put a pick task on the list: take it, and it opens the order's pick screen
    hh.click("#tile-tasks")
    hh.locator("[data-task-card=PICK-SO-PICK-1] [data-step=take]").click()
    hh.locator("[data-task-card=PICK-SO-PICK-1] [data-step=gopick]").click()
    hh.wait_for_selector("#goto")
    assert hh.inner_text("#goto") == "FRZ-B01"
    _shot(hh, "handheld-pick-floor-en")
    hh.fill("#work-scan", "CHL-A01")  # the wrong place: refused on the handheld
    hh.press("#work-scan", "Enter")
    assert "FRZ-B01" in hh.inner_text("#toast")
    hh.fill("#work-scan", "FRZ-B01")
    hh.press("#work-scan", "Enter")
    hh.wait_for_selector(".goto.ok")
    hh.fill("#work-scan", gtin14(1))  # milk, not dumplings: the gateway refuses it and says why
    hh.press("#work-scan", "Enter")
    hh.wait_for_function("() => document.querySelector('#toast').textContent.includes('DUMP-FZ')", timeout=15_000)
    assert hh.locator("#failed.hidden").count() == 1  # said at once, not left in the failed list
    _shot(hh, "handheld-pick-refused-en")
    hh.fill("#work-scan", gtin14(4))
    hh.press("#work-scan", "Enter")
    _until(lambda: _get(gw, "/v1/orders/SO-PICK-1")["status"] == "picked", "the order to be picked")
    ops = [o for o in gw.ops() if o["kind"] in ("pick", "exception") and "SO-PICK-1" in str(o["payload"])]
    assert [o["kind"] for o in ops] == ["exception", "pick"], ops
    assert ops[1]["payload"]["qty"] == 4 and ops[1]["payload"]["from_location"] == "FRZ-B01"
    assert ops[1]["actor"] == "op1"
    assert _until(lambda: _get(gw, "/v1/tasks/PICK-SO-PICK-1")["state"] == "done", "the pick task to be done")


def test_offline_pick_scans_wait_in_the_outbox_and_are_stored_once(network: Network, hh: Any) -> None:
    gw = network.gateways["WH-A"]
    gw.post_op({"kind": "receive", "sku": "FISH-FZ", "location": "FRZ-B01", "qty": 10})
    order = {"id": "SO-OFF-1", "customer": "Fresh Mart", "lines": [{"line": 1, "sku": "FISH-FZ", "qty": 2}]}
    _post(gw, "/v1/orders", order)
    _post(gw, "/v1/orders/SO-OFF-1/reserve", {"actor": "sup1"})
    _post(gw, "/v1/waves", {"actor": "sup1"})
    hh.fill("#login-id", "op1")
    hh.click("#login-go")
    hh.wait_for_selector("#screen-home:not(.hidden)")
    hh.click("[data-nav=pick]")
    hh.click("[data-forder=SO-OFF-1]")
    hh.wait_for_selector("#goto")
    hh.context.set_offline(True)  # the handheld's Wi-Fi drops in the aisle
    hh.fill("#work-scan", "FRZ-B01")
    hh.press("#work-scan", "Enter")
    hh.fill("#work-scan", gtin14(3))
    hh.press("#work-scan", "Enter")
    hh.wait_for_function("() => document.querySelector('#pending-count').textContent.trim() === '1'")
    _shot(hh, "handheld-pick-offline-en")
    entry = hh.evaluate(
        """() => new Promise(r => { const q = indexedDB.open('wims-handheld');
        q.onsuccess = () => { const g = q.result.transaction('outbox').objectStore('outbox').getAll();
        g.onsuccess = () => r(g.result[0]); }; })"""
    )
    assert entry["path"] == "/v1/orders/SO-OFF-1/picks" and entry["body"]["request_id"] == entry["op_id"]
    assert _get(gw, "/v1/orders/SO-OFF-1")["status"] == "released"  # nothing reached the gateway
    hh.context.set_offline(False)
    hh.evaluate("() => Promise.all([window.wims.replay(), window.wims.replay()])")
    hh.wait_for_function("() => document.querySelector('#pending-count').textContent.trim() === '0'", timeout=15_000)
    assert _get(gw, "/v1/orders/SO-OFF-1")["status"] == "picked"
    # the answer was lost, say, and the handheld sends it again: the same answer, nothing recorded twice
    again = httpx.post(f"{gw.url}{entry['path']}", json=entry["body"], timeout=10)
    assert again.status_code == 200 and again.json()["status"] == "picked"
    picks = [o for o in gw.ops() if o["kind"] == "pick" and o["payload"].get("order_id") == "SO-OFF-1"]
    assert len(picks) == 1 and picks[0]["payload"]["qty"] == 2
