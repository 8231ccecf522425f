"""Rules reloaded without a restart (API, SIGHUP, CLI) on a real ``wims edge run``; checked and tested offline."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import httpx
from typer.testing import CliRunner

from firmware_sim.ports import free_port
from wims.cli import app

ROOT = Path(__file__).parents[2]
cli = CliRunner()

RULES = """
[[rules]]
id = "big-receipt-hold"
on = "receive"
when = "qty >= {threshold}"
then = [{{ action = "hold_stock", scope = "op", reason = "big receipt of {{sku}}" }}]

[[rules]]
id = "short-pick"
on = "short_pick"
then = [
  {{ action = "open_work_order", wo_type = "short_pick", location = "{{location}}", description = "{{order_id}}" }},
  {{ action = "create_task", task = "count", location = "{{location}}" }},
]
"""
BAD = RULES.format(threshold=100).replace('when = "qty >= 100"', 'when = "qtty >= 1"')


def site(tmp_path: Path, port: int = 0, rules: str = "rules.toml") -> Path:
    cfg = tmp_path / "site.toml"
    cfg.write_text(f"""
[site]
gateway_id = "gw-r"
warehouse = "WH-R"
[store]
path = "{tmp_path / "edge.sqlite"}"
[api]
port = {port}
[rules]
file = "{rules}"
[[zones]]
code = "Z"
supervisor = "sup1"
[[locations]]
code = "DOCK"
zone = "Z"
[[locations]]
code = "A-01"
zone = "Z"
[[skus]]
code = "S"
gtin = "00000000000017"
[[operators]]
id = "sup1"
roles = ["supervisor"]
""")
    (tmp_path / "rules.toml").write_text(RULES.format(threshold=100))
    return cfg


def _wims(*args: str) -> list[str]:
    return [sys.executable, "-c", "from wims.cli import main; main()", *args]


def test_check_names_the_file_rule_and_key(tmp_path: Path) -> None:
    cfg = site(tmp_path)
    r = cli.invoke(app, ["edge", "rules", "check", "-c", str(cfg), "--json"])
    assert r.exit_code == 0, r.output
    body = json.loads(r.stdout)
    assert body["rules"] == ["big-receipt-hold", "short-pick"] and len(body["hash"]) == 64
    assert body["file"] == str(tmp_path / "rules.toml")  # relative to the site file, not the working directory
    (tmp_path / "rules.toml").write_text(BAD)
    r = cli.invoke(app, ["edge", "rules", "check", "-c", str(cfg)])
    assert r.exit_code == 2
    assert str(tmp_path / "rules.toml") in r.stderr
    assert "rule 'big-receipt-hold' (rules[0]).when: unknown symbol 'qtty' (did you mean 'qty'?)" in r.stderr


def test_offline_test_says_which_rules_fire_and_what_they_would_do(tmp_path: Path) -> None:
    cfg = site(tmp_path)
    op = tmp_path / "op.json"
    big = {"payload": {"kind": "receive", "sku": "S", "location": "DOCK", "qty": 150}, "actor": "x"}
    op.write_text(json.dumps(big))
    r = cli.invoke(app, ["edge", "rules", "test", "-c", str(cfg), str(op), "--json"])
    assert r.exit_code == 0, r.output
    (fired,) = [json.loads(line) for line in r.stdout.splitlines()]
    assert fired["rule_id"] == "big-receipt-hold"
    assert fired["ops"] == []  # no journal yet: nothing in stock to hold
    ops = [{"payload": {"kind": "receive", "sku": "S", "location": "DOCK", "qty": 150}, "actor": "x"}]
    assert cli.invoke(app, ["edge", "append", "-c", str(cfg)], input=json.dumps(ops)).exit_code == 0
    r = cli.invoke(app, ["edge", "rules", "test", "-c", str(cfg), str(op), "--json"])
    (fired,) = [json.loads(line) for line in r.stdout.splitlines()]
    ((hold),) = fired["ops"]
    assert hold["payload"] == {
        "kind": "qc_hold",
        "sku": "S",
        "lot": "",
        "location": "DOCK",
        "qty": 150,
        "reason": "big receipt of S",
        "alarm_op_id": None,
    }
    r = cli.invoke(app, ["edge", "rules", "test", "-c", str(cfg), str(op)])
    assert "rule big-receipt-hold fires on this receive" in r.stdout and "records qc_hold" in r.stdout
    op.write_text(
        json.dumps(
            {"event": "short_pick", "order_id": "SO-1", "sku": "S", "location": "A-01", "wanted": 5, "picked": 2}
        )
    )
    r = cli.invoke(app, ["edge", "rules", "test", "-c", str(cfg), str(op)])
    assert r.exit_code == 0, r.output
    assert "rule short-pick fires on this short_pick" in r.stdout
    assert '"wo_type": "short_pick"' in r.stdout and "would create_task" in r.stdout
    small = tmp_path / "small.json"
    small.write_text(json.dumps({**big, "payload": {**big["payload"], "qty": 1}}))
    r = cli.invoke(app, ["edge", "rules", "test", "-c", str(cfg), str(small)])
    assert "no rule fires on this receive" in r.stdout
    op.write_text(json.dumps({"event": "teleport"}))
    r = cli.invoke(app, ["edge", "rules", "test", "-c", str(cfg), str(op)])
    assert r.exit_code == 2 and "unknown event 'teleport'" in r.stderr


def test_a_gateway_will_not_start_on_a_bad_rules_file(tmp_path: Path) -> None:
    cfg = site(tmp_path)
    (tmp_path / "rules.toml").write_text(BAD)
    r = subprocess.run(_wims("edge", "run", "--config", str(cfg)), cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert r.returncode == 2
    assert "rules.toml" in r.stderr and "(rules[0]).when: unknown symbol 'qtty'" in r.stderr.replace("\n", " ")


async def test_reload_by_api_sighup_and_cli_without_a_restart(tmp_path: Path) -> None:
    port = free_port()
    cfg = site(tmp_path, port)
    rules = tmp_path / "rules.toml"
    proc = subprocess.Popen(_wims("edge", "run", "--config", str(cfg)), cwd=ROOT, stderr=subprocess.DEVNULL)
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=10) as http:
            for _ in range(300):
                try:
                    if (await http.get("/healthz")).status_code == 200:
                        break
                except httpx.TransportError:
                    await asyncio.sleep(0.05)

            async def in_force() -> str:
                r = await http.get("/v1/rules")
                assert r.status_code == 200, r.text
                return str(r.json()["hash"])

            async def receive(qty: int) -> None:
                body = {"payload": {"kind": "receive", "sku": "S", "location": "DOCK", "qty": qty}, "actor": "op"}
                assert (await http.post("/v1/ops", json=body)).status_code == 201

            async def held() -> int:
                for _ in range(100):
                    lines = (await http.get("/v1/stock", params={"status": "qc_hold"})).json()["items"]
                    total = sum(x["qty"] for x in lines)
                    rules_view = (await http.get("/v1/rules")).json()
                    if rules_view["lag"] == 0:
                        return total
                    await asyncio.sleep(0.05)
                raise AssertionError("the rules runner did not catch up")

            first = await in_force()
            rules.write_text(BAD)
            r = await http.post("/v1/rules/reload")
            assert r.status_code == 422
            body = r.json()
            assert body["code"] == "rules_invalid" and str(rules) in body["detail"]
            assert [e["msg"] for e in body["errors"]] == [
                "rule 'big-receipt-hold' (rules[0]).when: unknown symbol 'qtty' (did you mean 'qty'?)"
            ]
            assert await in_force() == first  # the old rules keep running
            await receive(120)
            assert await held() == 120

            rules.write_text(RULES.format(threshold=10))
            os.kill(proc.pid, signal.SIGHUP)
            for _ in range(100):
                if await in_force() != first:
                    break
                await asyncio.sleep(0.05)
            second = await in_force()
            assert second != first
            await receive(20)  # fires under the new threshold, without a restart
            assert await held() == 140

            rules.write_text(RULES.format(threshold=1000))
            r = await asyncio.to_thread(
                subprocess.run,
                _wims("edge", "rules", "reload", "-c", str(cfg)),
                cwd=ROOT,
                capture_output=True,
                text=True,
                timeout=60,
            )
            assert r.returncode == 0, r.stderr
            assert "reloaded: 2 rules" in r.stdout
            third = await in_force()
            assert third not in (first, second)
            await receive(500)
            assert await held() == 140
            fired = (await http.get("/v1/ops", params={"kind": "rule_fired"})).json()["items"]
            assert [f["payload"]["ruleset_hash"] for f in fired] == [first, second]
    finally:
        proc.send_signal(signal.SIGTERM)
        await asyncio.to_thread(proc.wait, 30)
