"""The gateway's local API over real HTTP (uvicorn on a free port)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from edge.config import ConfigError, SiteConfig, parse_config
from edge.daemon import Gateway
from tests.support.edge import site_dict
from wims.cli import app


@pytest.fixture
async def api(site: SiteConfig) -> AsyncIterator[httpx.AsyncClient]:
    async with Gateway(site) as gw:
        stop = asyncio.Event()
        task = asyncio.create_task(gw.run(stop))
        await gw.api_ready.wait()
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{gw.api_port}") as client:
            yield client
        stop.set()
        await task


def body(**payload: object) -> dict[str, object]:
    return {"payload": payload, "actor": "op1", "device_id": "hh-1"}


async def test_append_list_and_stock(api: httpx.AsyncClient) -> None:
    r = await api.post("/v1/ops", json=body(kind="receive", sku="SKU-0", location="DOCK", qty=12))
    assert r.status_code == 201
    op = r.json()
    assert op["seq"] == 1 and op["kind"] == "receive" and len(op["hash"]) == 64
    again = await api.post(
        "/v1/ops", json={**body(kind="receive", sku="SKU-0", location="DOCK", qty=12), "op_id": op["op_id"]}
    )
    assert again.status_code == 201 and again.json()["seq"] == 1  # a handheld's retry is harmless
    await api.post("/v1/ops", json=body(kind="putaway", sku="SKU-0", from_location="DOCK", to_location="A-01", qty=5))
    page = (await api.get("/v1/ops", params={"after": 0})).json()
    assert [o["seq"] for o in page["items"]] == [1, 2] and page["head_seq"] == 2
    assert page["items"][0] == op  # what the POST returned is exactly what is stored
    stock = (await api.get("/v1/stock", params={"sku": "SKU-0"})).json()["items"]
    assert {(s["location"], s["qty"]) for s in stock} == {("DOCK", 7), ("A-01", 5)}
    assert (await api.get("/v1/ops/2")).json()["kind"] == "putaway"
    assert (await api.get("/v1/ops/99")).status_code == 404


async def test_bad_bodies_get_422_naming_the_field(api: httpx.AsyncClient) -> None:
    r = await api.post("/v1/ops", json=body(kind="receive", sku="SKU-0", location="DOCK", qty=-1))
    assert r.status_code == 422
    assert r.json()["errors"][0]["loc"] == ["body", "payload", "receive", "qty"]
    assert r.json()["code"] == "validation_error" and "qty" in r.json()["detail"]
    r = await api.post("/v1/ops", json={"payload": {"kind": "receive"}})
    assert r.status_code == 422
    missing = {tuple(e["loc"]) for e in r.json()["errors"]}
    assert ("body", "actor") in missing and ("body", "payload", "receive", "sku") in missing
    r = await api.post("/v1/ops", content=b"{not json", headers={"content-type": "application/json"})
    assert r.status_code == 422
    r = await api.post("/v1/ops", json=body(kind="receive", sku="GHOST", location="DOCK", qty=1))
    assert r.status_code == 422 and r.json() == {
        "detail": "unknown SKU 'GHOST'",
        "code": "unknown_sku",
        "errors": [
            {"loc": ["body", "payload", "sku"], "msg": "unknown SKU 'GHOST'", "type": "unknown_sku", "input": None}
        ],
    }
    r = await api.post("/v1/ops", json=body(kind="ship", sku="SKU-0", location="STAGE", qty=1, order_id="O"))
    assert r.status_code == 409 and r.json()["code"] == "insufficient_stock"
    assert (await api.get("/v1/ops")).json()["head_seq"] == 0  # nothing of it was kept
    assert (await api.get("/v1/stock", params={"status": "frozen"})).status_code == 422


async def test_health_and_metrics(api: httpx.AsyncClient) -> None:
    await api.post("/v1/ops", json=body(kind="receive", sku="SKU-1", location="DOCK", qty=1))
    health = (await api.get("/healthz")).json()
    assert health["status"] == "ok" and health["journal"]["head_seq"] == 1
    assert health["components"]["journal"]["status"] == "ok"
    metrics = (await api.get("/metrics")).text
    assert 'wims_journal_ops_appended_total{kind="receive"} 1.0' in metrics
    assert "wims_journal_batch_size_bucket" in metrics


async def test_zone_release_needs_a_supervisor(api: httpx.AsyncClient) -> None:
    await api.post("/v1/ops", json=body(kind="receive", sku="SKU-2", location="A-01", qty=8))
    await api.post("/v1/ops", json=body(kind="qc_hold", sku="SKU-2", location="A-01", qty=8, reason="excursion"))
    r = await api.post("/v1/zones/Z/release", json={"actor": "op1"})
    assert r.status_code == 403 and "not a supervisor" in r.json()["detail"]
    r = await api.post(
        "/v1/zones/Z/release", json={"actor": "sup1", "note": "probe fault, product fine", "work_order_id": "WO-1"}
    )
    assert r.status_code == 200
    assert [o["kind"] for o in r.json()] == ["qc_release", "work_order"]
    assert all(o["actor"] == "sup1" for o in r.json())
    stock = (await api.get("/v1/stock", params={"sku": "SKU-2"})).json()["items"]
    assert [(s["status"], s["qty"]) for s in stock] == [("available", 8)]
    assert (await api.post("/v1/zones/NOPE/release", json={"actor": "sup1"})).status_code == 404


TOKEN = "s3cret-token-for-the-floor"


async def test_a_token_guards_v1_and_leaves_health_and_metrics_open(tmp_path: Path) -> None:
    """A gateway listening beyond loopback must have a token; then /v1/* needs it and monitoring does not."""
    (tmp_path / "api-token").write_text(TOKEN + "\n")
    cfg = parse_config(
        {**site_dict(tmp_path), "api": {"host": "0.0.0.0", "port": 0, "token_file": str(tmp_path / "api-token")}}
    )
    async with Gateway(cfg) as gw:
        stop = asyncio.Event()
        task = asyncio.create_task(gw.run(stop))
        await gw.api_ready.wait()
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{gw.api_port}") as client:
            receive = body(kind="receive", sku="SKU-0", location="DOCK", qty=3)
            for headers in ({}, {"Authorization": "Bearer wrong-token-of-some-length"}, {"Authorization": TOKEN}):
                r = await client.post("/v1/ops", json=receive, headers=headers)
                assert r.status_code == 401 and r.headers["www-authenticate"] == "Bearer", r.text
                assert "token" in r.json()["detail"]
            assert (await client.get("/v1/stock")).status_code == 401
            assert gw.journal is not None and gw.journal.head()[0] == 0  # nothing got in
            auth = {"Authorization": f"Bearer {TOKEN}"}
            assert (await client.post("/v1/ops", json=receive, headers=auth)).status_code == 201
            assert (await client.get("/v1/stock", headers=auth)).json()["items"][0]["qty"] == 3
            assert (await client.get("/healthz")).status_code == 200
            assert (await client.get("/metrics")).status_code == 200
        stop.set()
        await task


def test_listening_beyond_loopback_without_a_token_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as exc:
        parse_config({**site_dict(tmp_path), "api": {"host": "0.0.0.0"}})
    assert "api: host '0.0.0.0' is reachable from the network" in str(exc.value)
    assert "api.token_file" in str(exc.value)
    for host in ("127.0.0.1", "localhost", "::1", "127.0.0.2"):
        assert parse_config({**site_dict(tmp_path), "api": {"host": host}}).api.resolved_token() is None
    with pytest.raises(ConfigError, match=r"api\.token: String should have at least 16 characters"):
        parse_config({**site_dict(tmp_path), "api": {"token": "short"}})


def test_an_unreadable_or_short_token_file_stops_the_start(tmp_path: Path) -> None:
    missing = parse_config({**site_dict(tmp_path), "api": {"host": "0.0.0.0", "token_file": str(tmp_path / "none")}})
    with pytest.raises(ValueError, match="cannot read"):
        missing.api.resolved_token()
    (tmp_path / "short").write_text("abc\n")
    short = parse_config({**site_dict(tmp_path), "api": {"host": "0.0.0.0", "token_file": str(tmp_path / "short")}})
    with pytest.raises(ValueError, match="at least 16 characters"):
        short.api.resolved_token()
    toml = tmp_path / "site.toml"
    toml.write_text(
        f'[site]\ngateway_id = "gw-t"\nwarehouse = "WH-T"\n[store]\npath = "{tmp_path / "e.sqlite"}"\n'
        f'[api]\nhost = "0.0.0.0"\ntoken_file = "{tmp_path / "none"}"\n'
    )
    result = CliRunner().invoke(app, ["edge", "run", "--config", str(toml)])
    said = " ".join(result.output.split())  # rich wraps lines to the terminal
    assert result.exit_code == 2 and "api.token_file" in said and "cannot read" in said, said
