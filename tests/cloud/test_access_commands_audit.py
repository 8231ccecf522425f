"""Roles (cost prices), commands with long-poll, the audit chain, and the CLI."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import sqlalchemy as sa
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from cloud.app import create_app
from cloud.cli import app as cli
from cloud.db.engine import make_engine
from cloud.db.schema import audit_log
from cloud.settings import CloudSettings
from sync.ops import ReceivePayload
from tests.cloud.conftest import PASSWORD, Cloud
from tests.cloud.helpers import auth, chain, push

SKU = {
    "code": "W-1",
    "name": "Widget",
    "gtin": "00000000000017",
    "base_unit": "EA",
    "currency": "USD",
    "category": "tools",
    "cost_price": "12.5000",
    "supplier": "ACME Ltd",
}


def test_operator_does_not_see_cost_prices_or_suppliers(cloud: Cloud) -> None:
    r = cloud.client.put("/v1/skus/W-1", json=SKU, headers=cloud.h("planner"))
    assert r.status_code == 200, r.text
    assert r.json()["cost_price"] == "12.5000" and r.json()["supplier"] == "ACME Ltd"
    for role in ("operator", "supervisor", "auditor"):
        got = cloud.client.get("/v1/skus/W-1", headers=cloud.h(role)).json()
        assert got["cost_price"] is None and got["supplier"] is None, role
        assert (got["name"], got["gtin"], got["base_unit"], got["currency"]) == (
            "Widget",
            "00000000000017",
            "EA",
            "USD",
        )
        listed = cloud.client.get("/v1/skus", headers=cloud.h(role)).json()["items"]
        assert listed and all(s["cost_price"] is None and s["supplier"] is None for s in listed)
    for role in ("admin", "planner"):
        got = cloud.client.get("/v1/skus/W-1", headers=cloud.h(role)).json()
        assert got["cost_price"] == "12.5000" and got["supplier"] == "ACME Ltd"
    assert cloud.client.put("/v1/skus/W-1", json=SKU, headers=cloud.h("operator")).status_code == 403
    assert cloud.client.get("/v1/skus/W-1", headers=cloud.h("GW-A")).status_code == 403
    assert cloud.client.get("/v1/skus/NOPE", headers=cloud.h("admin")).status_code == 404


def test_login_rules(cloud: Cloud) -> None:
    assert cloud.client.post("/v1/auth/login", json={"username": "operator", "password": "wrong"}).status_code == 401
    assert cloud.client.post("/v1/auth/login", json={"username": "ghost", "password": PASSWORD}).status_code == 401
    me = cloud.client.get("/v1/me", headers=cloud.h("supervisor")).json()
    assert me == {"kind": "user", "name": "supervisor", "role": "supervisor", "warehouse": "WH-A"}
    r = cloud.client.post(
        "/v1/users", json={"username": "p2", "role": "planner", "password": "pw-long-enough"}, headers=cloud.h("admin")
    )
    assert r.status_code == 201
    assert (
        cloud.client.post(
            "/v1/users",
            json={"username": "p3", "role": "admin", "password": "pw-long-enough"},
            headers=cloud.h("planner"),
        ).status_code
        == 403
    )


RULES = {"rules": [{"id": "r1", "on": "receive", "when": "qty > 100", "then": [{"do": "notify", "to": "sup"}]}]}
"""A rule set, as the ``rule`` command carries it."""


def test_commands_cursor_isolation_and_idempotency(cloud: Cloud) -> None:
    post = {
        "gateway_id": "GW-A",
        "type": "transfer_order",
        "command_id": "CMD-1",
        "body": {
            "transfer_id": "TR-9",
            "from_warehouse": "WH-A",
            "to_warehouse": "WH-B",
            "lines": [{"line": 1, "sku": "S", "qty": 3}],
        },
    }
    other_body = {**post["body"], "lines": [{"line": 1, "sku": "S", "qty": 4}]}
    r = cloud.client.post("/v1/commands", json=post, headers=cloud.h("planner"))
    assert r.status_code == 201, r.text
    again = cloud.client.post("/v1/commands", json=post, headers=cloud.h("planner"))
    assert again.status_code == 201 and again.json()["cursor"] == r.json()["cursor"]
    clash = cloud.client.post("/v1/commands", json={**post, "body": other_body}, headers=cloud.h("planner"))
    assert clash.status_code == 409
    assert cloud.client.post("/v1/commands", json=post, headers=cloud.h("operator")).status_code == 403
    unknown = cloud.client.post(
        "/v1/commands", json={**post, "gateway_id": "GW-Z", "command_id": "C2"}, headers=cloud.h("planner")
    )
    assert unknown.status_code == 404

    page = cloud.client.get("/v1/gateways/GW-A/commands", params={"after": 0}, headers=cloud.h("GW-A")).json()
    assert [c["command_id"] for c in page["items"]] == ["CMD-1"]
    assert page["items"][0]["body"]["transfer_id"] == "TR-9"
    nxt = cloud.client.get(
        "/v1/gateways/GW-A/commands", params={"after": page["next_after"]}, headers=cloud.h("GW-A")
    ).json()
    assert nxt == {"items": [], "next_after": page["next_after"]}
    # another gateway reads neither GW-A's queue nor sees its commands in its own
    assert cloud.client.get("/v1/gateways/GW-A/commands", headers=cloud.h("GW-B")).status_code == 403
    assert cloud.client.get("/v1/gateways/GW-B/commands", headers=cloud.h("GW-B")).json()["items"] == []


def test_long_poll_wakes_when_a_command_arrives(cloud: Cloud) -> None:
    result: dict[str, object] = {}

    def poll() -> None:
        r = cloud.client.get("/v1/gateways/GW-B/commands", params={"after": 0, "wait": 20}, headers=cloud.h("GW-B"))
        result["returned"] = time.monotonic()
        result["body"] = r.json()

    t = threading.Thread(target=poll)
    t.start()
    time.sleep(0.5)
    r = cloud.client.post(
        "/v1/commands", json={"gateway_id": "GW-B", "type": "rule", "body": RULES}, headers=cloud.h("admin")
    )
    assert r.status_code == 201
    posted = time.monotonic()
    t.join(10)
    assert not t.is_alive()
    assert "returned" in result, "the poll returned before the command existed"
    # it was held open until the command came, and woke well before its 20 s wait ran out
    assert float(result["returned"]) - posted < 5  # type: ignore[arg-type]
    assert [c["type"] for c in result["body"]["items"]] == ["rule"]  # type: ignore[index]


def test_audit_log_chains_every_write_and_detects_tampering(cloud: Cloud) -> None:
    push(cloud.client, "GW-A", cloud.gw["GW-A"], chain("GW-A", [ReceivePayload(sku="S", location="A", qty=1)]))
    cloud.client.put("/v1/skus/W-1", json=SKU, headers=cloud.h("admin"))
    entries = cloud.client.get("/v1/audit", params={"limit": 1000}, headers=cloud.h("auditor")).json()["items"]
    actions = [e["action"] for e in entries]
    assert {"gateway.add", "user.add", "auth.login", "ops.ingest", "masterdata.write"} <= set(actions)
    assert cloud.client.get("/v1/audit", headers=cloud.h("operator")).status_code == 403
    assert cloud.client.get("/v1/audit/verify", headers=cloud.h("auditor")).json()["ok"] is True

    runner = CliRunner()
    ok = runner.invoke(cli, ["audit", "verify"], env={"WIMS_DATABASE_URL": cloud.url})
    assert ok.exit_code == 0 and "OK" in ok.output

    engine = make_engine(cloud.url, pool_size=1)
    with engine.begin() as conn:
        target = conn.execute(sa.select(audit_log.c.id).where(audit_log.c.action == "masterdata.write")).scalar_one()
        conn.execute(audit_log.update().where(audit_log.c.id == target).values(actor="user:someone-else"))
    engine.dispose()
    verdict = cloud.client.get("/v1/audit/verify", headers=cloud.h("admin")).json()
    assert verdict["ok"] is False and verdict["bad_id"] == target
    bad = runner.invoke(cli, ["audit", "verify"], env={"WIMS_DATABASE_URL": cloud.url})
    assert bad.exit_code == 1 and "broken" in bad.output


def test_cli_registers_gateway_and_user(cloud: Cloud) -> None:
    runner = CliRunner()
    env = {"WIMS_DATABASE_URL": cloud.url, "WIMS_PASSWORD": "a-long-password"}
    out = runner.invoke(cli, ["gateway", "add", "GW-C", "--warehouse", "WH-C"], env=env)
    assert out.exit_code == 0, out.output
    token = out.output.strip().splitlines()[-1]
    assert token.startswith("wgw_")
    res = push(cloud.client, "GW-C", token, chain("GW-C", [ReceivePayload(sku="S", location="C-1", qty=3)]))
    assert res["acked_seq"] == 1
    assert runner.invoke(cli, ["gateway", "add", "GW-C", "--warehouse", "WH-C"], env=env).exit_code == 1
    out = runner.invoke(cli, ["user", "add", "carol", "--role", "auditor"], env=env)
    assert out.exit_code == 0, out.output
    r = cloud.client.post("/v1/auth/login", json={"username": "carol", "password": "a-long-password"})
    assert r.status_code == 200 and r.json()["role"] == "auditor"
    assert cloud.client.get("/v1/audit/verify", headers=auth(r.json()["access_token"])).json()["ok"] is True


def test_unreachable_database_is_a_503(tmp_path: Path) -> None:
    for url in ("postgresql://postgres@127.0.0.1:1/nowhere", f"sqlite:///{tmp_path}/missing/dir/x.sqlite"):
        app = create_app(CloudSettings(database_url=url))
        with TestClient(app) as client:
            r = client.get("/v1/stock", headers=auth("wus_whatever"))
            assert r.status_code == 503, (url, r.text)
            assert r.headers["retry-after"] == "5"


def test_a_bad_command_body_is_refused_naming_the_field(cloud: Cloud) -> None:
    bad = {
        "gateway_id": "GW-A",
        "type": "master_data",
        "body": {"skus": [{"code": "S-1", "gtin": "00000000000018"}]},  # check digit should be 7
    }
    r = cloud.client.post("/v1/commands", json=bad, headers=cloud.h("planner"))
    assert r.status_code == 422
    (err,) = r.json()["errors"]
    assert err["loc"][-4:] == ["body", "skus", 0, "gtin"] and "check digit" in err["msg"]
    unknown = cloud.client.post(
        "/v1/commands", json={**bad, "type": "teleport", "body": {}}, headers=cloud.h("planner")
    )
    assert unknown.status_code == 422 and "type" in unknown.text
    page = cloud.client.get("/v1/gateways/GW-A/commands", headers=cloud.h("GW-A")).json()
    assert page["items"] == []  # nothing of either reached the gateway's queue
