"""The gateway API's input limits, over real HTTP: body size, integer bounds, NUL bytes, short errors."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from edge.config import parse_config
from edge.daemon import Gateway
from sync.ops import OpKind
from tests.support.edge import site_dict

LIMIT = 64 * 1024


@pytest.fixture
async def api(tmp_path: Path) -> AsyncIterator[httpx.AsyncClient]:
    data = site_dict(tmp_path)
    data["api"] = {"port": 0, "max_body_bytes": LIMIT}
    data["skus"].append({"code": "LOTTED", "gtin": "00000000000994", "lot_tracked": True})
    async with Gateway(parse_config(data)) as gw:
        stop = asyncio.Event()
        task = asyncio.create_task(gw.run(stop))
        await gw.api_ready.wait()
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{gw.api_port}", timeout=30) as client:
            yield client
        stop.set()
        await task


def _receive(**extra: object) -> dict[str, object]:
    return {"payload": {"kind": "receive", "sku": "SKU-0", "location": "DOCK", "qty": 1, **extra}, "actor": "op1"}


async def test_an_oversize_body_gets_413_naming_the_limit_and_no_echo(api: httpx.AsyncClient) -> None:
    marker = "Z" * 1000
    big = b'{"payload": {"kind": "' + marker.encode() * (50 * 1024) + b'"}}'  # 50 MB, invalid as well
    r = await api.post("/v1/ops", content=big, headers={"content-type": "application/json"})
    assert r.status_code == 413 and r.json()["code"] == "too_large"
    assert "64 KiB" in r.json()["detail"] and len(r.content) < 300 and marker not in r.text

    async def chunks() -> AsyncIterator[bytes]:  # no Content-Length: the limit is counted as it streams
        for _ in range(200):
            yield b" " * 1024

    r = await api.post("/v1/ops", content=chunks(), headers={"content-type": "application/json"})
    assert r.status_code == 413 and "64 KiB" in r.json()["detail"]
    assert (await api.get("/v1/ops")).json()["head_seq"] == 0


async def test_an_invalid_body_under_the_limit_is_echoed_only_as_an_excerpt(api: httpx.AsyncClient) -> None:
    r = await api.post("/v1/ops", json={"payload": {"kind": "receive", "sku": "S" * 60_000}, "actor": "op1"})
    assert r.status_code == 422 and len(r.content) < 3000, len(r.content)
    assert all(len(e["input"] or "") <= 80 for e in r.json()["errors"])


async def test_an_unknown_op_kind_gets_a_short_error_listing_the_kinds(api: httpx.AsyncClient) -> None:
    r = await api.post("/v1/ops", json={"payload": {"kind": "teleport", "sku": "SKU-0"}, "actor": "op1"})
    assert r.status_code == 422 and len(r.content) < 700, r.text
    (err,) = r.json()["errors"]
    assert err["loc"] == ["body", "payload"] and "teleport" in err["msg"]
    assert all(k.value in err["msg"] for k in OpKind)


@pytest.mark.parametrize(
    "path",
    [f"/v1/ops?after={2**63}", f"/v1/ops/{2**63}", "/v1/ops/0", f"/v1/ops?after={-1}", f"/v1/ops?limit={2**64}"],
)
async def test_boundary_integers_get_422_in_the_error_shape(api: httpx.AsyncClient, path: str) -> None:
    r = await api.get(path)
    assert r.status_code == 422, r.text
    assert set(r.json()) == {"detail", "code", "errors"} and r.json()["code"] == "validation_error"


async def test_the_largest_seq_is_a_plain_404(api: httpx.AsyncClient) -> None:
    assert (await api.get(f"/v1/ops/{2**63 - 1}")).status_code == 404
    assert (await api.get(f"/v1/ops?after={2**63 - 1}")).json()["items"] == []


async def test_nul_bytes_get_422(api: httpx.AsyncClient) -> None:
    for path in ("/v1/stock?sku=A%00B", "/v1/zones/Z%00/release"):
        r = await (api.get(path) if "stock" in path else api.post(path, json={"actor": "sup1"}))
        assert r.status_code == 422, (path, r.text)
        assert r.json()["code"] == "validation_error" and "NUL" in r.json()["detail"]


async def test_a_lot_tracked_sku_received_without_a_lot_is_refused(api: httpx.AsyncClient) -> None:
    base = {"kind": "receive", "sku": "LOTTED", "location": "DOCK", "qty": 5}
    r = await api.post("/v1/ops", json={"payload": base, "actor": "op1"})
    assert r.status_code == 422 and r.json()["code"] == "lot_required", r.text
    assert r.json()["errors"][0]["loc"] == ["body", "payload", "lot"]
    r = await api.post("/v1/ops", json={"payload": {**base, "lot": "L1"}, "actor": "op1"})
    assert r.status_code == 201
    adjust = {"kind": "adjust", "sku": "LOTTED", "location": "DOCK", "qty_delta": 3, "reason": "found"}
    assert (await api.post("/v1/ops", json={"payload": adjust, "actor": "op1"})).json()["code"] == "lot_required"
