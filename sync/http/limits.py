"""``RequestGuard``: what every request must respect before any route sees it.

- A body larger than the configured limit is refused with 413 naming the limit: at once when
  ``Content-Length`` says so, else as soon as the bytes read pass it (chunked uploads), so a 50 MB body
  is never held in memory.
- A NUL byte in the path or the query string is refused with 422 (no database stores one in text, and
  no code of ours means one), in the shared error shape, naming the parameter.

A refused body is read to its end and dropped (up to ``DRAIN_BYTES``) before the answer goes out: a
server that answers and closes while the client is still sending makes the client see a reset
connection instead of the 413. Past ``DRAIN_BYTES`` the connection is simply closed.

A pure ASGI middleware rather than a Starlette ``BaseHTTPMiddleware``: it must see the body as it
streams in, and must not buffer streamed responses (the cloud's event stream).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any
from urllib.parse import parse_qsl, unquote_to_bytes

from fastapi import HTTPException

from sync.http.errors import ErrorBody, FieldError, code_for

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


DRAIN_BYTES = 128 << 20
"""How much of a refused body is read and dropped so that the client gets to read the 413."""


def human_bytes(n: int) -> str:
    for unit, size in (("MiB", 1 << 20), ("KiB", 1 << 10)):
        if n >= size and n % size == 0:
            return f"{n // size} {unit}"
    return f"{n} bytes"


class BodyTooLarge(HTTPException):
    """Raised from ``receive`` once a streamed body passes the limit: an ``HTTPException`` (413), so the app's
    error handler answers it when a route was reading, and ``RequestGuard`` when a middleware was."""

    def __init__(self, limit: int) -> None:
        super().__init__(413, {"message": _too_large(limit), "code": "too_large"})


def _too_large(limit: int) -> str:
    return f"request body larger than the limit of {human_bytes(limit)}"


class RequestGuard:
    def __init__(self, app: ASGIApp, *, max_body_bytes: int) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        bad = _nul_param(scope)
        if bad is not None:
            await _answer(
                send,
                422,
                f"invalid {'.'.join(bad)}: a NUL byte is not allowed",
                errors=[FieldError(loc=list(bad), msg="a NUL byte is not allowed", type="string_nul")],
            )
            return
        limit = self.max_body_bytes
        declared = _content_length(scope)
        if declared is not None and declared > limit:
            if declared <= DRAIN_BYTES:
                await _drain(receive, DRAIN_BYTES)
            await _answer(send, 413, _too_large(limit), code="too_large")
            return
        seen = 0
        started = False

        async def guarded_receive() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:
                    if message.get("more_body", False):
                        await _drain(receive, DRAIN_BYTES - seen)
                    raise BodyTooLarge(limit)
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, guarded_receive, tracking_send)
        except BodyTooLarge:
            if not started:
                await _answer(send, 413, _too_large(limit), code="too_large")


async def _drain(receive: Receive, budget: int) -> None:
    """Read and drop the rest of a request body, at most ``budget`` bytes of it."""
    while budget > 0:
        message = await receive()
        if message["type"] != "http.request":
            return
        budget -= len(message.get("body", b""))
        if not message.get("more_body", False):
            return


def _content_length(scope: Scope) -> int | None:
    for key, value in scope.get("headers", ()):
        if key == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None


def _nul_param(scope: Scope) -> tuple[str, ...] | None:
    """Where a NUL byte is: ``("path",)`` or ``("query", name)``; ``None`` when there is none."""
    raw_path = scope.get("raw_path") or scope.get("path", "").encode()
    if b"\x00" in unquote_to_bytes(raw_path) or "\x00" in scope.get("path", ""):
        return ("path",)
    query: bytes = scope.get("query_string", b"")
    if b"%00" in query or b"\x00" in query:
        for name, value in parse_qsl(query.decode("latin-1"), keep_blank_values=True):
            if "\x00" in name or "\x00" in value:
                return ("query", name.replace("\x00", "\\x00")[:64])
        return ("query",)
    return None


async def _answer(
    send: Send, status: int, detail: str, *, code: str | None = None, errors: list[FieldError] | None = None
) -> None:
    payload = ErrorBody(detail=detail, code=code or code_for(status), errors=errors or []).model_dump_json().encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(payload)).encode()),
                (b"connection", b"close"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": payload})
