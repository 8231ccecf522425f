"""The shared error handlers' language, on a small app of their own: an unexpected error (answered outside
every middleware), a message no template covers (its code's sentence, then the English), a bare
``{"detail"}`` body, and what must not change (success, non-JSON errors, ``code``)."""

from __future__ import annotations

from fastapi import FastAPI, HTTPException
from fastapi.responses import JSONResponse, PlainTextResponse
from fastapi.testclient import TestClient

from sync.http.errors import ApiError, install_errors
from sync.http.language import negotiate

ZH = {"Accept-Language": "zh-Hans"}


def _app() -> FastAPI:
    app = FastAPI()
    install_errors(app)

    @app.get("/boom")
    def boom() -> None:
        raise RuntimeError("a bug")

    @app.get("/new")
    def new() -> None:
        raise ApiError(409, "pallet P-7 is already on a truck", code="conflict", field="pallet")

    @app.get("/bare")
    def bare() -> JSONResponse:
        return JSONResponse({"detail": "log in first"}, status_code=401, headers={"Vary": "Cookie"})

    @app.get("/text")
    def text() -> PlainTextResponse:
        return PlainTextResponse("no such thing", status_code=404)

    @app.get("/ok")
    def ok() -> dict[str, str]:
        return {"detail": "unknown token"}

    return app


def test_an_unexpected_error_is_said_in_chinese_too() -> None:
    with TestClient(_app(), raise_server_exceptions=False) as client:
        en, zh = client.get("/boom"), client.get("/boom", headers=ZH)
    assert en.status_code == zh.status_code == 500
    assert en.json() == {"detail": "internal error; it has been logged", "code": "internal_error", "errors": []}
    assert zh.json() == {"detail": "内部错误，已记录日志", "code": "internal_error", "errors": []}
    assert (en.headers["content-language"], zh.headers["content-language"]) == ("en", "zh-Hans")


def test_a_message_without_template_keeps_its_english_after_its_codes_sentence() -> None:
    with TestClient(_app()) as client:
        zh = client.get("/new", headers=ZH).json()
        assert zh["detail"] == "与已存数据冲突：pallet P-7 is already on a truck" and zh["code"] == "conflict"
        assert zh["errors"][0]["loc"] == ["body", "pallet"]
        assert zh["errors"][0]["msg"] == "值无效：pallet P-7 is already on a truck"
        bare = client.get("/bare", headers=ZH)
        assert bare.json() == {"detail": "请先登录"} and bare.headers["vary"] == "Cookie, Accept-Language"
        plain = client.get("/text", headers=ZH)
        assert plain.text == "no such thing" and "content-language" not in plain.headers
        ok = client.get("/ok", headers=ZH)
        assert ok.json() == {"detail": "unknown token"} and "content-language" not in ok.headers


def test_accept_language_is_weighed() -> None:
    assert negotiate("zh-CN,zh;q=0.9,en;q=0.8") == "zh_Hans"
    assert negotiate("en-US,zh;q=0.5") == "en"
    assert negotiate("fr;q=1, zh;q=0.2, en;q=0.1") == "zh_Hans"
    assert negotiate("zh;q=0, en") == "en"
    assert negotiate("zh-Hant, zh-TW") == "en"
    assert negotiate("*") == "en" and negotiate(None) == "en" and negotiate("zh;q=abc") == "en"


def test_http_exception_with_a_mapping_detail() -> None:
    app = _app()

    @app.get("/mapped")
    def mapped() -> None:
        raise HTTPException(422, {"message": "unknown zone 'Q'", "code": "invalid", "field": "zone"})

    with TestClient(app) as client:
        zh = client.get("/mapped", headers=ZH).json()
    assert zh == {
        "detail": "未知库区 'Q'",
        "code": "invalid",
        "errors": [{"loc": ["body", "zone"], "msg": "未知库区 'Q'", "type": "invalid", "input": None}],
    }
