"""Accept gzip-compressed request bodies (``Content-Encoding: gzip``), as the sync agent sends them.

Starlette's GZipMiddleware compresses responses only. This pure-ASGI middleware inflates request bodies
with a hard cap on the inflated size, so a small "zip bomb" cannot exhaust a worker's memory: past the
cap the request gets 413, a body that is not gzip gets 400.
"""

from __future__ import annotations

import zlib
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from sync.http.errors import ErrorBody, code_for
from sync.http.limits import human_bytes

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


class GzipRequestMiddleware:
    def __init__(self, app: ASGIApp, max_inflated: int = 256 << 20) -> None:
        self.app = app
        self.max_inflated = max_inflated

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = [(k, v) for k, v in scope["headers"] if k != b"content-encoding"]
        encoding = dict(scope["headers"]).get(b"content-encoding", b"").lower()
        if encoding != b"gzip":
            await self.app(scope, receive, send)
            return
        inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
        body = bytearray()
        more = True
        try:
            while more:
                message = await receive()
                if message["type"] == "http.disconnect":
                    return
                body += inflater.decompress(message.get("body", b""), self.max_inflated + 1 - len(body))
                if len(body) > self.max_inflated or inflater.unconsumed_tail:
                    await _error(
                        send, 413, f"inflated request body larger than the limit of {human_bytes(self.max_inflated)}"
                    )
                    return
                more = message.get("more_body", False)
            body += inflater.flush()
        except zlib.error as exc:
            await _error(send, 400, f"request body is not valid gzip: {exc}")
            return
        headers = [(k, v) for k, v in headers if k != b"content-length"]
        headers.append((b"content-length", str(len(body)).encode()))
        scope = dict(scope, headers=headers)
        sent = False

        async def inflated_receive() -> Message:
            nonlocal sent
            if not sent:
                sent = True
                return {"type": "http.request", "body": bytes(body), "more_body": False}
            return await receive()

        await self.app(scope, inflated_receive, send)


async def _error(send: Send, status: int, detail: str) -> None:
    code = "too_large" if status == 413 else code_for(status)
    payload = ErrorBody(detail=detail, code=code).model_dump_json().encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(payload)).encode())],
        }
    )
    await send({"type": "http.response.body", "body": payload})
