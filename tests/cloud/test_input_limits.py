"""The cloud's input limits: body size (plain and gzip), integer bounds and NUL bytes, all answered in the
one documented error shape."""

from __future__ import annotations

import gzip
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from cloud.app import create_app
from cloud.settings import CloudSettings
from tests.cloud.conftest import FAST_HASH, Cloud

SHAPE = {"detail", "code", "errors"}


def test_an_oversize_body_gets_413_naming_the_limit(cloud: Cloud) -> None:
    limit = CloudSettings().max_body_bytes
    big = b'{"ops": [' + b'{"x": "' + b"Z" * (limit + 10) + b'"}]}'
    r = cloud.client.post("/v1/gateways/GW-A/ops", content=big, headers=cloud.h("GW-A"))
    assert r.status_code == 413 and set(r.json()) == SHAPE and r.json()["code"] == "too_large"
    assert "8 MiB" in r.json()["detail"] and b"ZZZZ" not in r.content
    bomb = gzip.compress(b" " * (limit + 1))  # small on the wire, too large inflated
    r = cloud.client.post(
        "/v1/gateways/GW-A/ops", content=bomb, headers={**cloud.h("GW-A"), "content-encoding": "gzip"}
    )
    assert r.status_code == 413 and r.json()["code"] == "too_large" and "8 MiB" in r.json()["detail"]


@pytest.fixture
def small_cloud(cloud: Cloud) -> Iterator[TestClient]:
    app = create_app(CloudSettings(database_url=cloud.url, max_body_bytes=4096, **FAST_HASH))
    with TestClient(app) as client:
        yield client


def test_the_limit_is_a_setting_and_no_error_echoes_the_body(cloud: Cloud, small_cloud: TestClient) -> None:
    r = small_cloud.post("/v1/commands", content=b"{" + b'"a": 1,' * 1000 + b"}", headers=cloud.h("planner"))
    assert r.status_code == 413 and "4 KiB" in r.json()["detail"]
    r = small_cloud.post("/v1/gateways", json={"gateway_id": "G" * 3000, "warehouse": "W"}, headers=cloud.h("admin"))
    assert r.status_code == 422 and len(r.content) < 1000 and set(r.json()) == SHAPE


@pytest.mark.parametrize(
    "path",
    [
        f"/v1/stock?limit={2**63}",
        f"/v1/stock?after={2**63}",
        f"/v1/gateways/GW-A/telemetry?since_minute={2**63}",
        f"/v1/audit?after={2**63}",
        f"/v1/work-orders/{2**63}/close",
        "/v1/stock?sku=A%00B",
        "/v1/discrepancies?kind=%00",
        "/v1/gateways/GW-A%00/head",
    ],
)
def test_boundary_integers_and_nul_bytes_get_422_in_the_error_shape(cloud: Cloud, path: str) -> None:
    call = cloud.client.post if path.endswith("/close") else cloud.client.get
    r = call(path, headers=cloud.h("admin"), **({"json": {}} if path.endswith("/close") else {}))
    assert r.status_code == 422, r.text
    assert set(r.json()) == SHAPE and r.json()["code"] == "validation_error" and r.json()["errors"]


def test_a_405_lists_every_method_of_its_path(cloud: Cloud) -> None:
    r = cloud.client.delete("/v1/skus/X", headers=cloud.h("admin"))
    assert r.status_code == 405 and r.headers["allow"] == "GET, PUT" and set(r.json()) == SHAPE
    assert cloud.client.delete("/v1/commands", headers=cloud.h("admin")).headers["allow"] == "GET, POST"
