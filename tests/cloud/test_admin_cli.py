"""``wims cloud gateway ...`` and ``wims cloud user ...``: the admin commands, their duplicates, and one clear
line for a missing or unreachable database."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from cloud.cli import app as cli
from sync.ops import ReceivePayload
from tests.cloud.conftest import Cloud
from tests.cloud.helpers import auth, chain, push


def test_gateway_admin_commands(cloud: Cloud) -> None:
    run = CliRunner()
    env = {"WIMS_DATABASE_URL": cloud.url}
    first = run.invoke(cli, ["gateway", "add", "GW-C", "--warehouse", "WH-C"], env=env)
    assert first.exit_code == 0, first.output
    token = first.output.strip().splitlines()[-1]
    again = run.invoke(cli, ["gateway", "add", "GW-C", "--warehouse", "WH-X"], env=env)
    assert again.exit_code == 1 and "gateway 'GW-C' already exists (warehouse WH-C)" in again.output
    listed = run.invoke(cli, ["gateway", "list", "--json"], env=env)
    assert '"gateway_id": "GW-C"' in listed.output and '"warehouse": "WH-C"' in listed.output
    push(cloud.client, "GW-C", token, chain("GW-C", [ReceivePayload(sku="S", location="C-1", qty=3)]))
    # revoke: the token stops working; rotate-token: a new one works, the old one does not
    assert run.invoke(cli, ["gateway", "revoke", "GW-C"], env=env).exit_code == 0
    assert cloud.client.get("/v1/gateways/GW-C/head", headers=auth(token)).status_code == 401
    rotated = run.invoke(cli, ["gateway", "rotate-token", "GW-C"], env=env)
    new = rotated.output.strip().splitlines()[-1]
    assert rotated.exit_code == 0 and new != token
    assert cloud.client.get("/v1/gateways/GW-C/head", headers=auth(new)).json()["acked_seq"] == 1
    assert cloud.client.get("/v1/gateways/GW-C/head", headers=auth(token)).status_code == 401
    # remove: refused while it has ops, unless forced; its ops stay in the ledger
    refused = run.invoke(cli, ["gateway", "remove", "GW-C"], env=env)
    assert refused.exit_code == 1 and "has sent 1 ops" in refused.output
    gone = run.invoke(cli, ["gateway", "remove", "GW-C", "--force"], env=env)
    assert gone.exit_code == 0 and "1 ops stay" in gone.output
    assert "GW-C" not in run.invoke(cli, ["gateway", "list"], env=env).output
    missing = run.invoke(cli, ["gateway", "revoke", "GW-NOPE"], env=env)
    assert missing.exit_code == 1 and "no gateway 'GW-NOPE'" in missing.output


def test_user_admin_commands(cloud: Cloud) -> None:
    run = CliRunner()
    env = {"WIMS_DATABASE_URL": cloud.url, "WIMS_PASSWORD": "first-password", "WIMS_PASSWORD_TIME_COST": "1"}
    assert (
        run.invoke(cli, ["user", "add", "ann", "--role", "planner", "--warehouse", "SH-COLD"], env=env).exit_code == 0
    )
    dup = run.invoke(cli, ["user", "add", "ann", "--role", "auditor"], env=env)
    assert dup.exit_code == 1 and "user 'ann' already exists (role planner, warehouse SH-COLD)" in dup.output
    login = cloud.client.post("/v1/auth/login", json={"username": "ann", "password": "first-password"})
    token = login.json()["access_token"]
    assert cloud.client.get("/v1/me", headers=auth(token)).json()["warehouse"] == "SH-COLD"
    assert run.invoke(cli, ["user", "set-role", "ann", "auditor", "--no-warehouse"], env=env).exit_code == 0
    me = cloud.client.get("/v1/me", headers=auth(token)).json()  # the current login has the new role at once
    assert (me["role"], me["warehouse"]) == ("auditor", None)
    reset = run.invoke(cli, ["user", "reset-password", "ann"], env={**env, "WIMS_PASSWORD": "second-password"})
    assert reset.exit_code == 0
    assert cloud.client.get("/v1/me", headers=auth(token)).status_code == 401  # logins ended
    old = cloud.client.post("/v1/auth/login", json={"username": "ann", "password": "first-password"})
    assert old.status_code == 401
    new = cloud.client.post("/v1/auth/login", json={"username": "ann", "password": "second-password"})
    assert new.status_code == 200
    assert run.invoke(cli, ["user", "disable", "ann"], env=env).exit_code == 0
    assert cloud.client.get("/v1/me", headers=auth(new.json()["access_token"])).status_code == 401
    refused = cloud.client.post("/v1/auth/login", json={"username": "ann", "password": "second-password"})
    assert refused.status_code == 401
    listed = run.invoke(cli, ["user", "list", "--json"], env=env).output
    assert '"username": "ann"' in listed and '"disabled_at": "20' in listed and 'Z"' in listed
    assert run.invoke(cli, ["user", "enable", "ann"], env=env).exit_code == 0
    back = cloud.client.post("/v1/auth/login", json={"username": "ann", "password": "second-password"})
    assert back.status_code == 200
    nobody = run.invoke(cli, ["user", "disable", "nobody"], env=env)
    assert nobody.exit_code == 1 and "no user 'nobody'" in nobody.output


def test_a_missing_or_unreachable_database_is_one_clear_line(tmp_path: Path) -> None:
    run = CliRunner()
    for args in (["gateway", "list"], ["user", "list"], ["migrate"], ["audit", "verify"]):
        r = run.invoke(cli, args, env={"WIMS_DATABASE_URL": ""})
        assert r.exit_code == 2 and "WIMS_DATABASE_URL is not set" in r.output, (args, r.output)
        assert "Traceback" not in r.output and len(r.output.strip().splitlines()) <= 2
    down = {"WIMS_DATABASE_URL": "postgresql://postgres@127.0.0.1:1/wims"}
    r = run.invoke(cli, ["gateway", "list"], env=down)
    assert r.exit_code == 2 and "cannot reach the database at postgresql" in r.output, r.output
    assert "Traceback" not in r.output and len(r.output.strip().splitlines()) <= 3
    empty = {"WIMS_DATABASE_URL": f"sqlite:///{tmp_path / 'empty.sqlite'}"}
    r = run.invoke(cli, ["user", "list"], env=empty)
    assert r.exit_code == 2 and "has no WIMS tables" in r.output and "wims cloud migrate" in r.output, r.output
