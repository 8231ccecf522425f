"""One error body for every error either API answers: ``{"detail": ..., "code": ..., "errors": [...]}``.

``detail`` is one sentence for a person, ``code`` a stable word for a program (``validation_error``,
``not_found``, ``insufficient_stock``...), ``errors`` the fields at fault (422), each with where it is
(``loc``), what is wrong (``msg``) and at most a short excerpt of what was sent (``input``): an error never
echoes a request body back, however large it was.

``install_errors(app)`` routes FastAPI's own errors (validation, ``HTTPException``), values the database
cannot hold (an integer beyond 64 bits, a NUL byte in text) and anything unexpected through this shape,
and answers each in the caller's language (``Accept-Language``: ``sync.http.language``); ``code``,
``type`` and ``loc`` never change with the language.
"""

from __future__ import annotations

import logging
import math
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from fastapi import FastAPI, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import compile_path

from sync.http.language import LocalizedErrors, localize_body, request_locale, with_language

log = logging.getLogger("wims.http")

EXCERPT_CHARS = 80
"""The most of a sent value an error repeats."""

MAX_FIELD_ERRORS = 20
"""The most field errors one answer lists (the count of the rest is said in ``detail``)."""


class FieldError(BaseModel):
    model_config = ConfigDict(json_schema_serialization_defaults_required=True)

    loc: list[str | int] = Field(description="Where: `body`, `query`, `path` or `header`, then the field path.")
    msg: str = Field(description="What is wrong with it.")
    type: str = Field(description="A stable name for the kind of error (pydantic's error types).")
    input: str | None = Field(default=None, description=f"At most {EXCERPT_CHARS} characters of what was sent.")


class ErrorBody(BaseModel):
    """The body of every 4xx and 5xx answer of the WIMS APIs."""

    model_config = ConfigDict(json_schema_serialization_defaults_required=True)

    detail: str = Field(description="What went wrong, in one sentence.")
    code: str = Field(description="A stable machine-readable reason, e.g. validation_error, not_found, conflict.")
    errors: list[FieldError] = Field(default_factory=list, description="The fields at fault (422 answers).")


STATUS_CODES: dict[int, str] = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    406: "not_acceptable",
    409: "conflict",
    410: "gone",
    413: "too_large",
    415: "unsupported_media_type",
    422: "validation_error",
    429: "too_many_requests",
    500: "internal_error",
    503: "unavailable",
}

STATUS_TEXT: dict[int, str] = {
    400: "The request cannot be read.",
    401: "No valid bearer token (send `Authorization: Bearer <token>`).",
    403: "The caller may not do this (role, or another warehouse).",
    404: "Not found.",
    409: "Conflicts with what is stored.",
    413: "The request body is larger than the configured limit.",
    422: "A value is invalid: `errors` names each field.",
    503: "A dependency (the database, the journal) is unavailable; retry later.",
}


def code_for(status: int) -> str:
    return STATUS_CODES.get(status, "error" if status >= 400 else "ok")


def excerpt(value: Any, limit: int = EXCERPT_CHARS) -> str:
    """A short, printable rendering of ``value``: at most ``limit`` characters, marked when cut."""
    if isinstance(value, bytes | bytearray):
        text = bytes(value[: limit * 4]).decode("utf-8", "replace")
    elif isinstance(value, str):
        text = value[: limit * 4]
    elif isinstance(value, float) and not math.isfinite(value):
        text = str(value)
    else:
        text = repr(value) if not isinstance(value, Mapping | Sequence) else _short_repr(value, limit)
    text = "".join(ch if ch.isprintable() else f"\\x{ord(ch):02x}" for ch in text)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _short_repr(value: Mapping[Any, Any] | Sequence[Any], limit: int) -> str:
    """``repr`` of a container, built only as far as ``limit`` needs (a 50 MB list is never rendered whole)."""
    if isinstance(value, Mapping):
        parts = (f"{k!r}: {_item(v, limit)}" for k, v in value.items())
        left, right = "{", "}"
    else:
        parts = (_item(v, limit) for v in value)
        left, right = "[", "]"
    out = left
    for part in parts:
        out += ("" if out == left else ", ") + part
        if len(out) > limit:
            return out
    return out + right


def _item(value: Any, limit: int) -> str:
    return excerpt(repr(value[:limit]), limit) if isinstance(value, str) else excerpt(value, limit)


_QUOTED = re.compile(r"'([^']*)'")


def _message(err: Mapping[str, Any]) -> str:
    """pydantic's message, shortened where it would list a whole union (an unknown op kind)."""
    ctx = err.get("ctx") or {}
    if err.get("type") == "union_tag_invalid":
        expected = sorted(set(_QUOTED.findall(str(ctx.get("expected_tags", "")))))
        name = str(ctx.get("discriminator", "tag")).strip("'")
        return f"unknown {name} {excerpt(repr(ctx.get('tag')), 40)}; valid: {', '.join(expected)}"
    msg = str(err.get("msg", "invalid value"))
    return msg.removeprefix("Value error, ")[:300]


def field_errors(errors: Iterable[Mapping[str, Any]]) -> tuple[list[FieldError], int]:
    """The first ``MAX_FIELD_ERRORS`` errors in the shared shape, and how many there were in all."""
    out: list[FieldError] = []
    total = 0
    for err in errors:
        total += 1
        if len(out) >= MAX_FIELD_ERRORS:
            continue
        loc = [p if isinstance(p, int) else str(p)[:64] for p in err.get("loc", ())]
        sent = err.get("input")
        missing = err.get("type") == "missing"
        out.append(
            FieldError(
                loc=loc,
                msg=_message(err),
                type=str(err.get("type", "value_error")),
                input=None if missing or sent is None else excerpt(sent),
            )
        )
    return out, total


def error_response(
    status: int,
    detail: str,
    *,
    code: str | None = None,
    errors: list[FieldError] | None = None,
    headers: Mapping[str, str] | None = None,
) -> JSONResponse:
    body = ErrorBody(detail=detail[:500], code=code or code_for(status), errors=errors or [])
    return JSONResponse(status_code=status, content=body.model_dump(mode="json"), headers=dict(headers or {}))


def validation_response(errors: Iterable[Mapping[str, Any]], *, status: int = 422) -> JSONResponse:
    fields, total = field_errors(errors)
    if fields:
        first = fields[0]
        where = ".".join(str(p) for p in first.loc) or "request"
        detail = f"invalid {where}: {first.msg.partition('; valid:')[0]}"
        if total > 1:
            detail += f" (and {total - 1} more)"
    else:
        detail = "invalid request"
    return error_response(status, detail, errors=fields)


def http_exception_response(exc: StarletteHTTPException) -> JSONResponse:
    """An ``HTTPException`` in the shared shape. A ``detail`` that is a mapping may carry ``code``,
    ``message`` and ``field`` (as the gateway's journal refusals do)."""
    detail: Any = exc.detail
    code = None
    errors: list[FieldError] = []
    if isinstance(detail, Mapping):
        code = str(detail.get("code")) if detail.get("code") else None
        field = detail.get("field")
        text = str(detail.get("message") or detail.get("detail") or code or "error")
        if field:
            errors = [FieldError(loc=["body", *str(field).split(".")], msg=text, type=code or "value_error")]
        detail = text
    return error_response(exc.status_code, str(detail), code=code, errors=errors, headers=getattr(exc, "headers", None))


def _allowed_methods(app: FastAPI, scope: Any) -> list[str]:
    """Every method the app documents for the request's path (FastAPI has a route per method, and nests
    included routers, so the route table alone does not say)."""
    methods: set[str] = set()
    path = scope.get("path", "")
    for template, item in app.openapi().get("paths", {}).items():
        if compile_path(template)[0].match(path):
            methods |= {m.upper() for m in item if m in ("get", "put", "post", "delete", "patch")}
    return sorted(methods)


class ApiError(HTTPException):
    """An ``HTTPException`` with a stable ``code`` (and optionally the field at fault)."""

    def __init__(
        self, status: int, detail: str, *, code: str | None = None, field: str | None = None, headers: Any = None
    ) -> None:
        body: dict[str, Any] = {"message": detail, "code": code or code_for(status)}
        if field:
            body["field"] = field
        super().__init__(status, body, headers=headers)


def install_errors(app: FastAPI, *, extra: Mapping[type[Exception], tuple[int, str | None]] | None = None) -> None:
    """Answer every error of ``app`` in the shared shape, an unexpected one included (500, logged).

    ``extra`` maps further exception types to a status and a fixed detail (the cloud's database errors,
    say); with no fixed detail, the first line of the exception's message, cut short, is the detail.
    """

    # outermost of the app's own middleware: it sees the answers of RequestGuard and the routes alike
    app.add_middleware(LocalizedErrors)

    @app.exception_handler(RequestValidationError)
    async def _invalid(_request: Request, exc: RequestValidationError) -> JSONResponse:
        return validation_response(exc.errors())

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        if exc.status_code == 405:  # Allow: every method of the path, not only those of the route that matched
            allowed = _allowed_methods(app, request.scope)
            if allowed:
                exc.headers = {**(exc.headers or {}), "Allow": ", ".join(allowed)}
        return http_exception_response(exc)

    @app.exception_handler(OverflowError)
    async def _overflow(_request: Request, exc: OverflowError) -> JSONResponse:
        # SQLite's and the drivers' answer to an integer beyond 64 bits that slipped past a bound
        return error_response(422, f"a number is out of range: {excerpt(str(exc), 120)}", code="out_of_range")

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.error("unhandled error on %s %s: %r", request.method, request.url.path, exc)
        # answered outside every middleware (Starlette's outermost layer), so in the caller's language here
        locale = request_locale(request.scope)
        body = localize_body(
            ErrorBody(detail="internal error; it has been logged", code="internal_error").model_dump(), locale
        )
        resp = JSONResponse(status_code=500, content=body)
        for k, v in with_language([], locale):
            resp.headers.append(k.decode(), v.decode())
        return resp

    for exc_type, (status, fixed) in (extra or {}).items():

        async def _mapped(
            _request: Request, exc: Exception, status: int = status, fixed: str | None = fixed
        ) -> JSONResponse:
            orig = getattr(exc, "orig", None) or exc
            first = (str(orig).splitlines() or [type(orig).__name__])[0]
            headers = {"Retry-After": "5"} if status == 503 else None
            code = "invalid_value" if status == 422 else None
            return error_response(status, fixed or excerpt(first, 200), code=code, headers=headers)

        app.add_exception_handler(exc_type, _mapped)
