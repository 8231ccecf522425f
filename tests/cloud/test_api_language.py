"""The cloud API's errors in the caller's language (``Accept-Language``), on SQLite and PostgreSQL: the
words change, ``code``, ``loc`` and ``type`` never do."""

from __future__ import annotations

import gzip
from typing import Any

import httpx

from cloud.settings import CloudSettings
from tests.cloud.conftest import Cloud

ZH = {"Accept-Language": "zh-CN"}


def _both(cloud: Cloud, method: str, url: str, **kw: Any) -> tuple[httpx.Response, httpx.Response]:
    headers = kw.pop("headers", {})
    en = cloud.client.request(method, url, headers=headers, **kw)
    zh = cloud.client.request(method, url, headers={**headers, **ZH}, **kw)
    assert en.status_code == zh.status_code and en.status_code >= 400
    assert en.json()["code"] == zh.json()["code"]
    assert [(e["loc"], e["type"]) for e in en.json()["errors"]] == [(e["loc"], e["type"]) for e in zh.json()["errors"]]
    assert en.headers["content-language"] == "en" and zh.headers["content-language"] == "zh-Hans"
    return en, zh


def test_a_duplicate_user_says_what_exists_in_chinese(cloud: Cloud) -> None:
    body = {"username": "supervisor", "role": "planner", "password": "correct horse battery"}
    en, zh = _both(cloud, "POST", "/v1/users", json=body, headers=cloud.h("admin"))
    assert en.status_code == 409
    assert en.json()["detail"] == "user 'supervisor' already exists (role supervisor, warehouse WH-A)"
    assert zh.json()["detail"] == "用户 'supervisor' 已存在（角色 supervisor，仓库 WH-A）"


def test_authentication_roles_and_scopes(cloud: Cloud) -> None:
    en, zh = _both(cloud, "GET", "/v1/stock", headers={"Authorization": "Bearer nope"})
    assert en.status_code == 401 and zh.json()["detail"] == "令牌无效"
    assert zh.headers["www-authenticate"] == "Bearer"
    en, zh = _both(cloud, "GET", "/v1/stock")
    assert en.status_code == 401 and zh.json()["detail"] == "缺少 Bearer 令牌", (en.json(), zh.json())
    en, zh = _both(
        cloud, "POST", "/v1/gateways", json={"gateway_id": "G", "warehouse": "W"}, headers=cloud.h("operator")
    )
    assert en.status_code == 403 and zh.json()["detail"] == "角色 operator 无权执行此操作"
    en, zh = _both(cloud, "GET", "/v1/stock", params={"warehouse": "WH-B"}, headers=cloud.h("supervisor"))
    assert en.status_code == 403 and zh.json()["detail"] == "user:supervisor 仅限仓库 WH-A，无权访问 WH-B"
    en, zh = _both(cloud, "GET", "/v1/gateways/NOPE/head", headers=cloud.h("admin"))
    assert en.status_code == 404 and zh.json()["detail"] == "未知网关"


def test_validation_and_limits(cloud: Cloud) -> None:
    en, zh = _both(cloud, "POST", "/v1/gateways", json={"gateway_id": "G" * 3000}, headers=cloud.h("admin"))
    assert en.status_code == 422
    by_type = {e["type"]: e["msg"] for e in zh.json()["errors"]}
    assert by_type["missing"] == "必填字段" and by_type["string_too_long"].startswith("字符串最多 ")
    assert zh.json()["detail"].startswith("body.gateway_id 无效：字符串最多") and "另有 1 处错误" in zh.json()["detail"]
    en, zh = _both(cloud, "GET", f"/v1/stock?limit={2**63}", headers=cloud.h("admin"))
    assert en.status_code == 422 and zh.json()["errors"][0]["msg"].startswith("输入应小于或等于 ")
    en, zh = _both(cloud, "GET", "/v1/stock?sku=A%00B", headers=cloud.h("admin"))
    assert en.status_code == 422 and zh.json()["detail"] == "query.sku 无效：不允许包含 NUL 字节"
    limit = CloudSettings().max_body_bytes
    bomb = gzip.compress(b" " * (limit + 1))
    en, zh = _both(
        cloud, "POST", "/v1/gateways/GW-A/ops", content=bomb, headers={**cloud.h("GW-A"), "content-encoding": "gzip"}
    )
    assert en.status_code == 413 and zh.json()["detail"] == "解压后的请求体超过上限 8 MiB"
    en, zh = _both(cloud, "POST", "/v1/gateways/GW-A/ops", content=b"[1]", headers=cloud.h("GW-A"))
    assert en.status_code == 422 and zh.json()["detail"] == '请求体必须为 {"ops": [op, ...]}'
