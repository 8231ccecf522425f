"""The gateway API's errors in the caller's language, over real HTTP: ``Accept-Language`` changes the
words (``detail``, each field's ``msg``) and ``Content-Language``, never ``code``, ``loc`` or ``type``."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from edge.config import parse_config
from edge.daemon import Gateway
from tests.support.edge import site_dict

ZH = {"Accept-Language": "zh-CN,zh;q=0.9,en;q=0.5"}
CHINESE = re.compile(r"[\u4e00-\u9fff]")


@pytest.fixture
async def api(tmp_path: Path) -> AsyncIterator[httpx.AsyncClient]:
    data = site_dict(tmp_path)
    data["api"] = {"port": 0, "max_body_bytes": 64 * 1024}
    data["skus"].append({"code": "LOTTED", "gtin": "00000000000994", "lot_tracked": True})
    async with Gateway(parse_config(data)) as gw:
        stop = asyncio.Event()
        task = asyncio.create_task(gw.run(stop))
        await gw.api_ready.wait()
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{gw.api_port}", timeout=30) as client:
            yield client
        stop.set()
        await task


def _op(**payload: Any) -> dict[str, Any]:
    return {"payload": {"kind": "receive", "location": "DOCK", "qty": 1, **payload}, "actor": "op1"}


def _machine(body: dict[str, Any]) -> tuple[Any, ...]:
    """What a program reads from an error: the same in every language."""
    return body["code"], [(e["loc"], e["type"], e["input"]) for e in body["errors"]]


async def _both(api: httpx.AsyncClient, method: str, url: str, **kw: Any) -> tuple[httpx.Response, httpx.Response]:
    en = await api.request(method, url, **kw)
    zh = await api.request(method, url, **{**kw, "headers": {**kw.get("headers", {}), **ZH}})
    return en, zh


async def test_a_journal_refusal_in_chinese_keeps_its_code_and_field(api: httpx.AsyncClient) -> None:
    en, zh = await _both(api, "POST", "/v1/ops", json=_op(sku="GHOST"))
    assert en.status_code == zh.status_code == 422
    assert en.json()["detail"] == "unknown SKU 'GHOST'"  # English as before, and said to be English
    assert en.headers["content-language"] == "en" and "Accept-Language" in en.headers["vary"]
    assert zh.headers["content-language"] == "zh-Hans"
    assert _machine(en.json()) == _machine(zh.json())
    assert zh.json()["detail"] == "未知 SKU 'GHOST'"
    assert zh.json()["errors"][0]["msg"] == "未知 SKU 'GHOST'"
    assert int(zh.headers["content-length"]) == len(zh.content)

    en, zh = await _both(api, "POST", "/v1/ops", json=_op(sku="LOTTED"))
    assert _machine(en.json()) == _machine(zh.json()) and zh.json()["code"] == "lot_required"
    assert zh.json()["detail"] == "SKU 'LOTTED' 按批次管理：操作必须注明批次号"

    en, zh = await _both(
        api,
        "POST",
        "/v1/ops",
        json={
            "payload": {
                "kind": "pick",
                "sku": "SKU-0",
                "from_location": "A-01",
                "to_location": "STAGE",
                "qty": 5,
                "order_id": "SO-1",
            },
            "actor": "op1",
        },
    )
    assert en.status_code == zh.status_code == 409 and _machine(en.json()) == _machine(zh.json())
    assert "库存为 0，本操作需扣减 5" in zh.json()["detail"], zh.json()


async def test_validation_errors_are_translated_by_type_and_keep_their_location(api: httpx.AsyncClient) -> None:
    bad = {"payload": {"kind": "receive", "sku": "SKU-0", "location": "DOCK", "qty": 0, "extra": 1}, "actor": "op1"}
    en, zh = await _both(api, "POST", "/v1/ops", json=bad)
    assert en.status_code == zh.status_code == 422 and _machine(en.json()) == _machine(zh.json())
    assert en.json()["detail"].startswith("invalid body.payload.receive.qty: Input should be greater than 0")
    by_type = {e["type"]: e["msg"] for e in zh.json()["errors"]}
    assert by_type["greater_than"] == "输入应大于 0"
    assert by_type["extra_forbidden"] == "不允许额外的字段"
    assert zh.json()["detail"] == "body.payload.receive.qty 无效：输入应大于 0（另有 1 处错误）"

    en, zh = await _both(api, "POST", "/v1/ops", json={"payload": {"kind": "teleport"}, "actor": "op1"})
    assert _machine(en.json()) == _machine(zh.json()) and zh.json()["errors"][0]["type"] == "union_tag_invalid"
    assert zh.json()["errors"][0]["msg"].startswith("未知的 kind：'teleport'；可用值：adjust, command_applied")

    en, zh = await _both(api, "GET", "/v1/ops", params={"after": 2**63})
    assert en.status_code == zh.status_code == 422 and _machine(en.json()) == _machine(zh.json())
    assert zh.json()["errors"][0]["msg"] == f"输入应小于或等于 {2**63 - 1}"

    en, zh = await _both(api, "POST", "/v1/ops", content=b"{not json", headers={"content-type": "application/json"})
    assert _machine(en.json()) == _machine(zh.json()) and zh.json()["errors"][0]["msg"] == "JSON 解析错误"


async def test_limits_and_unknown_paths_answer_in_chinese_too(api: httpx.AsyncClient) -> None:
    big = b'{"payload": "' + b"Z" * (100 * 1024) + b'"}'
    en, zh = await _both(api, "POST", "/v1/ops", content=big, headers={"content-type": "application/json"})
    assert en.status_code == zh.status_code == 413 and _machine(en.json()) == _machine(zh.json())
    assert zh.json()["detail"] == "请求体超过上限 64 KiB" and zh.headers["content-language"] == "zh-Hans"

    en, zh = await _both(api, "GET", "/v1/stock", params={"sku": "A\x00B"})
    assert en.status_code == zh.status_code == 422 and _machine(en.json()) == _machine(zh.json())
    assert zh.json()["detail"] == "query.sku 无效：不允许包含 NUL 字节"

    en, zh = await _both(api, "GET", "/v1/ops/999")
    assert en.status_code == zh.status_code == 404 and zh.json()["detail"] == "没有序号为 999 的操作"
    en, zh = await _both(api, "GET", "/v1/tasks/T-NOPE")
    assert en.status_code == zh.status_code == 404 and zh.json()["detail"] == "没有任务 'T-NOPE'"
    en, zh = await _both(api, "GET", "/v1/no-such-thing")
    assert en.status_code == zh.status_code == 404 and zh.json() == {**en.json(), "detail": "未找到"}


async def test_language_negotiation_and_success_untouched(api: httpx.AsyncClient) -> None:
    for header, lang in [
        ("zh", "zh-Hans"),
        ("zh-Hans-CN", "zh-Hans"),
        ("en-GB,zh;q=0.8", "en"),
        ("fr-FR, zh;q=0.3", "zh-Hans"),
        ("zh-TW", "en"),  # traditional Chinese is not spoken: English
        ("de", "en"),
        ("", "en"),
    ]:
        r = await api.get("/v1/ops/999", headers={"Accept-Language": header})
        assert r.headers["content-language"] == lang, header
    ok = await api.get("/v1/ops", headers=ZH)
    assert ok.status_code == 200 and "content-language" not in ok.headers and "vary" not in ok.headers
