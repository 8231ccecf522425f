"""The handheld app on a real gateway: receive -> putaway -> pick by scans, offline scans stored once,
and both languages."""

from __future__ import annotations

import re
from typing import Any

import pytest

from sync.codes import gtin14
from tests.support.web import SCREENSHOTS, Network, untranslated

pytestmark = pytest.mark.postgres
MILK = gtin14(1)


@pytest.fixture
def app(browser: Any, network: Network) -> Any:
    ctx = browser.new_context(viewport={"width": 412, "height": 860}, locale="en-GB", has_touch=True, is_mobile=True)
    page = ctx.new_page()
    page.goto(network.gateways["WH-A"].url + "/app/")
    page.fill("#login-id", "op1")
    page.click("#login-go")
    page.wait_for_selector("#screen-home:not(.hidden)")
    yield page
    ctx.close()


def _scan(page: Any, code: str) -> None:
    page.fill("#scan", code)
    page.press("#scan", "Enter")


def _pending(page: Any) -> int:
    return int(re.sub(r"\D", "", page.inner_text("#pending-count")) or "0")


def _wait_sent(page: Any) -> None:
    page.wait_for_function("() => document.querySelector('#pending-count').textContent.trim() === '0'", timeout=15_000)


def _shot(page: Any, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


def test_receive_putaway_pick_by_scans(network: Network, app: Any) -> None:
    gw = network.gateways["WH-A"]
    _shot(app, "handheld-home-en")
    app.click("[data-nav=receive]")
    _scan(app, f"(01){MILK}(10)L261201(37)12")
    app.wait_for_selector("#qty")
    assert app.input_value("#qty") == "12"
    app.click("#flow-save")
    _wait_sent(app)
    app.click("#go-home")
    app.click("[data-nav=putaway]")
    _scan(app, MILK)
    app.fill("#qty", "12")
    app.click("#flow-save")
    app.wait_for_selector("#suggested")
    suggested = app.inner_text("#suggested")
    _shot(app, "handheld-putaway-en")
    _scan(app, suggested)
    _wait_sent(app)
    app.click("#go-home")
    app.click("[data-nav=pick]")
    app.click("[data-order=SO-1]")
    app.wait_for_selector("#goto")
    assert app.inner_text("#goto") == suggested
    _shot(app, "handheld-pick-en")
    _scan(app, "DOCK-IN-1")  # the wrong place: refused
    assert "Wrong location" in app.inner_text("#toast")
    _scan(app, suggested)
    _scan(app, gtin14(2))  # the wrong item: refused, and recorded as a pick error
    assert "Wrong item" in app.inner_text("#toast")
    _scan(app, MILK)
    app.click("#flow-save")
    _wait_sent(app)
    ops = [o for o in gw.ops() if o["actor"] == "op1"]
    kinds = [o["kind"] for o in ops]
    assert kinds[-4:] == ["receive", "putaway", "exception", "pick"], kinds
    receive, putaway, error, pick = (o["payload"] for o in ops[-4:])
    assert receive["asn_id"] == "ASN-1" and receive["lot"] == "L261201" and receive["qty"] == 12
    assert putaway["from_location"] == "DOCK-IN-1" and putaway["to_location"] == suggested
    assert error["code"] == "pick_mismatch"
    assert pick["from_location"] == suggested and pick["to_location"] == "STAGE-1" and pick["order_id"] == "SO-1"
    assert pick["qty"] == 6 and pick["lot"] == "L261201"


def test_offline_scans_queue_show_and_are_stored_exactly_once(network: Network, app: Any) -> None:
    gw = network.gateways["WH-A"]
    app.wait_for_function("() => navigator.serviceWorker.controller !== null", timeout=10_000)
    app.context.set_offline(True)
    app.click("[data-nav=receive]")
    for qty in ("1", "2", "3"):
        _scan(app, MILK)
        app.fill("#qty", qty)
        app.click("#flow-save")
        app.wait_for_selector("#scan")
    app.wait_for_function("() => document.querySelector('#pending-count').textContent.trim() === '3'")
    assert "Offline" in app.inner_text("#net")
    _shot(app, "handheld-offline-en")
    app.reload()  # the shell comes from the service worker; the outbox from IndexedDB
    app.wait_for_selector("#screen-home:not(.hidden)")
    assert _pending(app) == 3
    ids = app.evaluate(
        """() => new Promise(r => { const q = indexedDB.open('wims-handheld');
        q.onsuccess = () => { const g = q.result.transaction('outbox').objectStore('outbox').getAllKeys();
        g.onsuccess = () => r(g.result); }; })"""
    )
    assert len(ids) == 3
    app.context.set_offline(False)
    app.evaluate("() => Promise.all([window.wims.replay(), window.wims.replay()])")  # races are harmless
    _wait_sent(app)
    stored = [o["op_id"] for o in gw.ops()]
    for op_id in ids:
        assert stored.count(op_id) == 1


def test_the_handheld_speaks_chinese_everywhere(network: Network, app: Any) -> None:
    app.locator("#screen-home .lang[data-lang=zh_Hans]").click()
    assert app.locator("html").get_attribute("lang") == "zh-Hans"
    assert untranslated(app) == []
    _shot(app, "handheld-home-zh")
    app.click("[data-nav=pick]")
    app.click("[data-order=SO-1]")
    app.wait_for_selector("#goto")
    assert untranslated(app) == []
    _shot(app, "handheld-pick-zh")
    app.click("#go-home")
    app.click("[data-nav=putaway]")
    _scan(app, MILK)
    app.fill("#qty", "1")
    app.click("#flow-save")
    app.wait_for_selector("#suggest")
    assert untranslated(app) == []
    _shot(app, "handheld-putaway-zh")
    app.click("#go-home")
    # the gateway's refusal is said in the app's language (the app sends it as Accept-Language)
    app.click("[data-nav=putaway]")
    _scan(app, MILK)
    app.fill("#qty", "999")
    app.click("#flow-save")
    app.wait_for_selector("#suggested")
    _scan(app, app.inner_text("#suggested"))
    app.wait_for_function("() => document.querySelector('#toast').textContent.includes('未发送')", timeout=15_000)
    toast = app.inner_text("#toast")
    assert "库存" in toast and "stock of" not in toast and '"' not in toast, toast
    app.click("#go-home")
    # remembered for this operator on this handheld
    app.reload()
    app.wait_for_selector("#screen-home:not(.hidden)")
    assert app.locator("html").get_attribute("lang") == "zh-Hans"
