"""A real network for the browser tests and bench/web.py: a cloud process on PostgreSQL, gateway
processes (``wims edge run``) syncing to it, and Debian's chromium driven by Playwright.

Chromium is the Debian package (``/usr/bin/chromium``, installed by ``.ci/system-deps.sh``), never a
browser downloaded by ``playwright install``; the flags keep it off the network it cannot reach.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import psycopg
from argon2 import PasswordHasher

from cloud.devserver import CloudProcess, free_port
from sync.codes import gtin14

CHROMIUM = os.environ.get("WIMS_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
PG_ADMIN = os.environ.get("WIMS_TEST_PG", "postgresql://postgres@127.0.0.1:5432/test")
PASSWORD = "correct-horse-battery"
SCREENSHOTS = Path(os.environ.get("WIMS_SCREENSHOTS", "var/screenshots"))


def launch_chromium(playwright: Any) -> Any:
    return playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)


def new_database() -> str:
    name = f"wims_web_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    base = psycopg.conninfo.conninfo_to_dict(PG_ADMIN)
    return (
        f"postgresql://{base.get('user', 'postgres')}@{base.get('host', '127.0.0.1')}:{base.get('port', 5432)}/{name}"
    )


def drop_database(url: str) -> None:
    name = url.rsplit("/", 1)[1]
    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


SKUS = [
    ("MILK-1L", "Fresh milk 1 L", "dairy", "6.20", "Bright Dairy"),
    ("YOG-500", "Yoghurt 500 g", "dairy", "8.90", "Bright Dairy"),
    ("FISH-FZ", "Frozen cod 1 kg", "frozen", "42.00", "Ocean Best"),
    ("DUMP-FZ", "Dumplings 1 kg", "frozen", "18.50", "Wan Chai"),
]


PIN = "2468"
"""op1's PIN on the test sites (the handheld's PIN login)."""
# argon2id of PIN with cheap parameters (a test site); the gateway verifies with the hash's own ones
PIN_HASH = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1).hash(PIN)


def site_toml(tmp: Path, gateway_id: str, warehouse: str, cloud_url: str | None, token: str | None, port: int) -> Path:
    """A small cold-chain site: docks, racks with capacities, a pick face, staging; orders to work."""
    skus = "\n".join(
        f'[[skus]]\ncode = "{code}"\ngtin = "{gtin14(i + 1)}"\nname = "{name}"\n'
        for i, (code, name, *_r) in enumerate(SKUS)
    )
    sync = f'[sync]\nurl = "{cloud_url}"\ntoken = "{token}"\nstatus_seconds = 2\n' if cloud_url else ""
    text = f"""
[site]
gateway_id = "{gateway_id}"
warehouse = "{warehouse}"
name = "Test site {warehouse}"

[store]
path = "{tmp / (gateway_id + ".sqlite")}"

[api]
host = "127.0.0.1"
port = {port}

[log]
level = "WARNING"

{sync}
[[zones]]
code = "DOCK"
name = "Docks"
[[zones]]
code = "CHL"
name = "Chilled"
temperature_class = "chilled"
[[zones]]
code = "FRZ"
name = "Frozen"
temperature_class = "frozen"
[[zones]]
code = "PACK"
name = "Pack"

[[locations]]
code = "DOCK-IN-1"
zone = "DOCK"
type = "dock"
[[locations]]
code = "CHL-A01"
zone = "CHL"
type = "rack"
capacity = 1000
[[locations]]
code = "CHL-A02"
zone = "CHL"
type = "rack"
capacity = 1000
[[locations]]
code = "FRZ-B01"
zone = "FRZ"
type = "rack"
capacity = 800
[[locations]]
code = "STAGE-1"
zone = "PACK"
type = "staging"

{skus}
[[operators]]
id = "op1"
name = "Zhang Wei"
pin_hash = "{PIN_HASH}"

[[operators]]
id = "sup1"
name = "Li Na"
roles = ["supervisor", "operator"]

[[inbound_orders]]
id = "ASN-1"
supplier = "Bright Dairy"
dock = "DOCK-IN-1"
lines = [{{ line = 1, sku = "MILK-1L", qty = 48 }}, {{ line = 2, sku = "YOG-500", qty = 24 }}]

[[outbound_orders]]
id = "SO-1"
customer = "Fresh Mart"
lines = [{{ line = 1, sku = "MILK-1L", qty = 6 }}]
"""
    path = tmp / f"{gateway_id}.toml"
    path.write_text(text)
    return path


@dataclass
class GatewayProcess:
    """``wims edge run`` in a child process: the real daemon, its API on ``port``."""

    config: Path
    port: int
    proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 60) -> None:
        exe = Path(sys.executable).with_name("wims")
        self.proc = subprocess.Popen([str(exe), "edge", "run", "--config", str(self.config)], stdout=subprocess.DEVNULL)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"gateway exited with {self.proc.returncode}")
            try:
                if httpx.get(f"{self.url}/healthz", timeout=1).status_code == 200:
                    return
            except httpx.TransportError:
                time.sleep(0.1)
        self.stop()
        raise RuntimeError("gateway did not start")

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def post_op(self, payload: dict[str, Any], actor: str = "op1", op_id: str | None = None) -> dict[str, Any]:
        body: dict[str, Any] = {"payload": payload, "actor": actor}
        if op_id:
            body["op_id"] = op_id
        r = httpx.post(f"{self.url}/v1/ops", json=body, timeout=10)
        r.raise_for_status()
        out: dict[str, Any] = r.json()
        return out

    def ops(self) -> list[dict[str, Any]]:
        r = httpx.get(f"{self.url}/v1/ops", params={"limit": 5000}, timeout=10)
        r.raise_for_status()
        result: list[dict[str, Any]] = r.json()["items"]
        return result


@dataclass
class Network:
    cloud: CloudProcess
    gateways: dict[str, GatewayProcess]
    tokens: dict[str, str]

    def stop(self) -> None:
        for gw in self.gateways.values():
            gw.stop()
        self.cloud.stop()


def start_network(tmp: Path, db_url: str, warehouses: list[str]) -> Network:
    """A cloud with users of every role and the SKU master (costs, categories), and one gateway per
    warehouse syncing to it."""
    cloud = CloudProcess(db_url)
    for name, role, wh in (
        ("admin", "admin", None),
        ("planner", "planner", None),
        ("auditor", "auditor", None),
        ("supervisor", "supervisor", warehouses[0]),
        ("operator", "operator", warehouses[0]),
    ):
        _add_user(db_url, name, role, wh)
    tokens = {wh: cloud.register(f"gw-{wh.lower()}", wh) for wh in warehouses}
    cloud.start()
    admin = cloud.login("admin", PASSWORD)
    h = {"Authorization": f"Bearer {admin}"}
    for i, (code, name, category, cost, supplier) in enumerate(SKUS):
        body = {"code": code, "name": name, "category": category, "cost_price": cost, "supplier": supplier}
        body["gtin"] = gtin14(i + 1)  # as in the site file: the cloud's master data reaches the gateways
        httpx.put(f"{cloud.url}/v1/skus/{code}", json=body, headers=h, timeout=10).raise_for_status()
    for wh in warehouses:
        rates = {
            "currency": "CNY",
            "labour_per_hour": "38",
            "energy_kwh_per_day": "1200",
            "energy_price_per_kwh": "0.72",
        }
        httpx.put(f"{cloud.url}/v1/warehouses/{wh}/rates", json=rates, headers=h, timeout=10).raise_for_status()
    gateways = {}
    for wh in warehouses:
        port = free_port()
        gw = GatewayProcess(site_toml(tmp, f"gw-{wh.lower()}", wh, cloud.url, tokens[wh], port), port)
        gw.start()
        gateways[wh] = gw
    return Network(cloud, gateways, tokens)


def _add_user(db_url: str, name: str, role: str, warehouse: str | None) -> None:
    from datetime import UTC, datetime

    from cloud.auth.security import Passwords
    from cloud.auth.users import add_user
    from cloud.db.engine import make_engine
    from sync.roles import Role

    engine = make_engine(db_url, pool_size=1)
    try:
        add_user(
            engine,
            name,
            Role(role),
            PASSWORD,
            warehouse=warehouse,
            now=datetime.now(UTC),
            actor="test",
            passwords=Passwords(time_cost=1, memory_kib=1024),
        )
    finally:
        engine.dispose()


def login(page: Any, base: str, user: str) -> None:
    page.goto(f"{base}/login")
    page.fill("input[name=username]", user)
    page.fill("input[name=password]", PASSWORD)
    page.click("form.login button[type=submit]")
    page.wait_for_url(f"{base}/")


def untranslated(page: Any) -> list[str]:
    """Visible texts (and placeholders, titles) outside ``translate="no"`` that contain Latin words."""
    result: list[str] = page.evaluate(
        """() => {
        const allowed = new Set(["SKU", "CSV", "Excel", "JSON", "WIMS", "HTTPS", "kWh", "ID", "QC"]);
        const bad = [];
        // data shown as data elsewhere on the page (a chart's axis repeats the table's codes)
        const data = new Set([...document.querySelectorAll('[translate="no"]')].map(e => e.textContent.trim()));
        const check = (text, where) => {
          if (text.trim().split(" / ").every(part => data.has(part))) return;
          // codes (WH-A, SKU-1) are data, not words; a chart's axis shows them as SVG text
          const words = (text.match(/[A-Za-z][A-Za-z0-9_-]+/g) || [])
            .filter(w => !allowed.has(w) && !/^[A-Z0-9]+(-[A-Z0-9]+)+$/.test(w));
          if (words.length) bad.push(where + ": " + text.trim().slice(0, 80));
        };
        const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
        for (let n = walker.nextNode(); n; n = walker.nextNode()) {
          const el = n.parentElement;
          if (!el || el.closest('[translate="no"], script, style, .hidden')) continue;
          if (!el.getClientRects().length || getComputedStyle(el).visibility === "hidden") continue;
          if (n.textContent.trim()) check(n.textContent, el.tagName);
        }
        document.querySelectorAll("input[placeholder]").forEach(i => check(i.placeholder, "placeholder"));
        check(document.title, "title");
        return bad;
    }"""
    )
    return result
