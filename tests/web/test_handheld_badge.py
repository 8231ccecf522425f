"""Badge login on the handheld, end to end: a real gateway process runs a badge reader (pcscd with
vsmartcard-vpcd, a virtual card), the operator taps their badge at the pack station, and the handheld
at that station takes over the session; taking the badge off ends it, and the handheld is back at login.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable, Coroutine, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from cloud.devserver import free_port
from firmware_sim.badge import PcscdWithVpcd, VirtualBadge
from tests.badge import conftest as badge_tests
from tests.support.web import SCREENSHOTS, GatewayProcess

pytestmark = pytest.mark.postgres  # with the other browser tests (it needs no database)
reader_daemon = badge_tests.pcscd  # the badge tests' fixture: pcscd with vsmartcard-vpcd, for this module

UID = "04A1B2C3"
SITE = """
[site]
gateway_id = "gw-badge"
warehouse = "WH-BADGE"
[store]
path = "{db}"
[api]
host = "127.0.0.1"
port = {port}
[log]
level = "WARNING"
[[zones]]
code = "PACK"
[[locations]]
code = "PACK-1"
zone = "PACK"
type = "pack_station"
[[operators]]
id = "op7"
name = "Wang Fang"
badge_uid = "{uid}"
[[devices]]
id = "badge-pack-1"
kind = "badge"
location = "PACK-1"
[devices.options]
reader = "Virtual PCD 00 00"
idle_timeout_s = 900
backoff_max_s = 1
"""


class CardHand:
    """Holds a virtual card in an event loop of its own (the card serves vpcd while it is on the reader;
    the browser test itself is synchronous)."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, name="card-hand", daemon=True)
        self.thread.start()

    def do(self, make: Callable[[], Coroutine[Any, Any, None]]) -> None:
        asyncio.run_coroutine_threadsafe(make(), self.loop).result(15)

    def close(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(5)
        self.loop.close()


@pytest.fixture
def gateway(reader_daemon: PcscdWithVpcd, tmp_path: Path) -> Iterator[GatewayProcess]:
    port = free_port()
    config = tmp_path / "badge-site.toml"
    config.write_text(SITE.format(db=tmp_path / "gw.sqlite", port=port, uid=UID))
    gw = GatewayProcess(config, port)
    gw.start()
    try:
        yield gw
    finally:
        gw.stop()


def _until(check: Callable[[], Any], what: str, timeout: float = 30) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if got := check():
            return got
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}; the badge part last: {getattr(_part, 'last', None)}")


def _part(gw: GatewayProcess, name: str) -> str | None:
    part = httpx.get(f"{gw.url}/healthz", timeout=10).json()["components"].get(name)
    _part.last = part  # type: ignore[attr-defined]  # said when the wait times out
    return part["status"] if part else None


def _session_ops(gw: GatewayProcess) -> list[tuple[str, str, str]]:
    r = httpx.get(f"{gw.url}/v1/ops", params={"kind": "session", "limit": 100}, timeout=10)
    r.raise_for_status()
    return [(o["payload"]["event"], o["payload"]["operator_id"], o["payload"]["station"]) for o in r.json()["items"]]


def test_a_badge_tapped_at_the_station_logs_the_handheld_in_and_taking_it_off_logs_out(
    reader_daemon: PcscdWithVpcd, gateway: GatewayProcess, browser: Any
) -> None:
    # pcscd may list the virtual reader a while after it starts: the gateway retries every second
    _until(lambda: _part(gateway, "device:badge-pack-1") == "ok", "the badge reader to be up", timeout=90)
    ctx = browser.new_context(viewport={"width": 412, "height": 860}, locale="en-GB", has_touch=True, is_mobile=True)
    page = ctx.new_page()
    hand = CardHand()
    card = VirtualBadge(UID, port=reader_daemon.port)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    try:
        page.goto(gateway.url + "/app/")
        page.wait_for_selector("#badge-row:not(.hidden)")  # the gateway offers sessions: badge login is shown
        page.fill("#login-station", "PACK-1")
        page.click("#login-badge")  # no badge on the reader yet: refused, and said so
        page.wait_for_function("() => document.querySelector('#toast').textContent.includes('badge')")
        assert page.locator("#screen-login:not(.hidden)").count() == 1
        page.screenshot(path=str(SCREENSHOTS / "handheld-badge-login-en.png"), full_page=True)
        hand.do(card.insert)
        _until(lambda: ("login", "op7", "PACK-1") in _session_ops(gateway), "the badge-in at PACK-1")
        page.click("#login-badge")
        page.wait_for_selector("#screen-home:not(.hidden)")
        assert page.inner_text("#who") == "op7 · Wang Fang"
        page.screenshot(path=str(SCREENSHOTS / "handheld-badge-home-en.png"), full_page=True)
        token = page.evaluate("() => localStorage.getItem('wims.session')")
        me = httpx.get(f"{gateway.url}/v1/sessions/current", headers={"X-WIMS-Session": token}, timeout=10)
        assert me.status_code == 200 and me.json()["operator_id"] == "op7" and me.json()["method"] == "badge"
        # the badge comes off the reader: the session ends with it, and the handheld's next call finds out
        hand.do(card.remove)
        _until(lambda: ("logout", "op7", "PACK-1") in _session_ops(gateway), "the badge-out at PACK-1")
        assert httpx.get(f"{gateway.url}/v1/sessions/current", headers={"X-WIMS-Session": token}).status_code == 401
        page.click("#tile-tasks")
        page.wait_for_selector("#screen-login:not(.hidden)")
        page.wait_for_function("() => document.querySelector('#toast').textContent.includes('log in again')")
    finally:
        if card.inserted:
            hand.do(card.remove)
        hand.close()
        ctx.close()
