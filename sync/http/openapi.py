"""The parts of an API's OpenAPI document that every route shares, filled in once for the whole app.

``finish_openapi(app)`` wraps FastAPI's generator so that every operation documents what the shared
plumbing makes it answer: 422 (a parameter or body; the shared ``ErrorBody`` instead of FastAPI's own
validation shape), 413 (a body; ``RequestGuard``), 401 and 403 (a secured route), and a ``default``
answer in the same shape for anything else (503 when the database is unavailable). A route adds what only
it answers (404, 409) with ``responses=error_responses(404, 409)``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import FastAPI
from pydantic.json_schema import models_json_schema

from sync.http.errors import STATUS_TEXT, ErrorBody

_REF = "#/components/schemas/ErrorBody"
_METHODS = ("get", "put", "post", "delete", "patch", "head", "options")


def error_responses(*statuses: int, **descriptions: str) -> dict[int | str, dict[str, Any]]:
    """``responses=`` for a route: each status answered with ``ErrorBody`` (``descriptions``: ``_404="..."``)."""
    out: dict[int | str, dict[str, Any]] = {}
    for status in statuses:
        text = descriptions.get(f"_{status}") or STATUS_TEXT.get(status, "Error.")
        out[status] = {"model": ErrorBody, "description": text}
    return out


def _error_content() -> dict[str, Any]:
    return {"application/json": {"schema": {"$ref": _REF}}}


def _ensure(responses: dict[str, Any], status: int) -> None:
    key = str(status)
    entry = responses.setdefault(key, {})
    if entry.get("description") in (None, "Validation Error"):
        entry["description"] = STATUS_TEXT.get(status, "Error.")
    entry["content"] = _error_content()


def finish(schema: dict[str, Any]) -> dict[str, Any]:
    """``schema`` with the shared error answers filled in (see the module docstring)."""
    components = schema.setdefault("components", {})
    schemas = components.setdefault("schemas", {})
    _, defs = models_json_schema([(ErrorBody, "serialization")], ref_template="#/components/schemas/{model}")
    schemas.update(defs.get("$defs", {}))
    for path_item in schema.get("paths", {}).values():
        for method in _METHODS:
            op = path_item.get(method)
            if op is None:
                continue
            responses: dict[str, Any] = op.setdefault("responses", {})
            if op.get("requestBody") is not None:
                _ensure(responses, 413)
                _ensure(responses, 422)
            if op.get("parameters"):
                _ensure(responses, 422)
            if op.get("security"):
                _ensure(responses, 401)
                _ensure(responses, 403)
            for key, entry in responses.items():
                if key[:1] in ("4", "5"):
                    entry["content"] = _error_content()
            responses["default"] = {
                "description": "Any other error, in the same shape (503: a dependency is unavailable; retry).",
                "content": _error_content(),
            }
    for name in ("HTTPValidationError", "ValidationError"):
        schemas.pop(name, None)
    return schema


def finish_openapi(app: FastAPI, *, extra: Callable[[dict[str, Any]], None] | None = None) -> None:
    """Have ``app.openapi()`` return the finished document (``extra`` may adjust it further)."""
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:  # FastAPI's generator caches the raw document there; finish it once
            schema = finish(generate())
            if extra is not None:
                extra(schema)
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
