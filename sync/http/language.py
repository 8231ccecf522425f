"""Error answers in the caller's language: ``Accept-Language`` picks English (the default) or Simplified
Chinese for the human words of the shared error body, ``detail`` and each field's ``msg``.

``code``, ``type`` and ``loc`` stay as they are (programs read those), and so does every successful
answer. The translation happens here, on the way out, for every error whoever produced it (a route's
``HTTPException``, the journal's refusal, ``RequestGuard``'s 413, the cloud's gzip middleware), so
routes keep raising English and need no language of their own. An error answer says its language in
``Content-Language`` (and ``Vary: Accept-Language``); only a non-English error body is read and
rewritten, so the English path costs one header.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Mapping, MutableMapping
from typing import Any, Final

from sync.i18n import DEFAULT, Messages, has_chinese, messages, normalise, word

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

CONTENT_LANGUAGE: Final = {"en": "en", "zh_Hans": "zh-Hans"}
MAX_REWRITE_BYTES: Final = 256 << 10
"""An error body larger than this is passed on as it is (ours are a few hundred bytes)."""


def negotiate(accept_language: str | None) -> str:
    """English or Simplified Chinese from an ``Accept-Language`` header, by quality then order."""
    if not accept_language:
        return DEFAULT
    weighted = []
    for i, part in enumerate(accept_language.split(",")[:20]):
        tag, _, q = part.strip().partition(";q=")
        try:
            weight = float(q) if q else 1.0
        except ValueError:
            weight = 0.0
        if weight > 0:
            weighted.append((-weight, i, tag.strip()))
    for _w, _i, tag in sorted(weighted):
        got = normalise(tag) if tag != "*" else DEFAULT
        if got:
            return got
    return DEFAULT


def field_message(msg: str, kind: str | None, locale: str, book: Messages | None = None) -> str:
    """One field's ``msg`` in ``locale``: by pydantic's error type first, then by any template; a message
    no template covers keeps its English after a translated 'invalid value'."""
    if locale == DEFAULT:
        return msg
    book = book or messages()
    typed = book.by_type.get(kind or "")
    if typed:
        found = book.find(msg, typed)
        if found is not None:
            return book.render(found[0], found[1], locale)
    got = book.translate(msg, locale, nested=True)
    if got is not None and has_chinese(got):
        return got
    return f"{word('Invalid value', locale)}：{msg}"


def detail_message(detail: str, code: str | None, locale: str, book: Messages | None = None) -> str:
    """The ``detail`` sentence in ``locale``; one no template covers is said after its code's sentence."""
    if locale == DEFAULT:
        return detail
    book = book or messages()
    got = book.translate(detail, locale)
    if got is not None:
        return got
    from sync.i18n.catalog import CODES

    lead = word(CODES.get(code or "", CODES["error"]), locale)
    return f"{lead}：{detail}"


def localize_body(body: Mapping[str, Any], locale: str) -> dict[str, Any]:
    """An error body (the shared shape, or a bare ``{"detail": ...}``) with its human words in ``locale``."""
    out = dict(body)
    if locale == DEFAULT:
        return out
    book = messages()
    detail = body.get("detail")
    code = body.get("code") if isinstance(body.get("code"), str) else None
    if isinstance(detail, str):
        out["detail"] = detail_message(detail, code, locale, book)
    errors = body.get("errors")
    if isinstance(errors, list):
        fields = []
        for e in errors:
            if isinstance(e, dict) and isinstance(e.get("msg"), str):
                e = {**e, "msg": field_message(e["msg"], e.get("type"), locale, book)}
            fields.append(e)
        out["errors"] = fields
    return out


def _header(scope: Scope, name: bytes) -> str | None:
    for k, v in scope.get("headers", ()):
        if k.lower() == name:
            return bytes(v).decode("latin-1")
    return None


def request_locale(scope: Scope) -> str:
    return negotiate(_header(scope, b"accept-language"))


def with_language(headers: list[tuple[bytes, bytes]], locale: str) -> list[tuple[bytes, bytes]]:
    """``headers`` saying the answer's language: ``Content-Language``, and ``Accept-Language`` in ``Vary``."""
    out: list[tuple[bytes, bytes]] = []
    vary: list[bytes] = []
    for k, v in headers:
        name = bytes(k).lower()
        if name == b"vary":
            vary.append(bytes(v))
        elif name != b"content-language":
            out.append((k, v))
    if not any(b"accept-language" in v.lower() for v in vary):
        vary.append(b"Accept-Language")
    return [*out, (b"content-language", CONTENT_LANGUAGE[locale].encode()), (b"vary", b", ".join(vary))]


class LocalizedErrors:
    """Pure ASGI middleware: every JSON error answer in the request's language (see the module)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        locale = DEFAULT
        start: Message | None = None
        chunks: list[bytes] = []

        async def localizing_send(message: Message) -> None:
            nonlocal start, locale
            if message["type"] == "http.response.start":
                status = int(message.get("status", 200))
                headers = list(message.get("headers", ()))
                ctype = next((bytes(v) for k, v in headers if bytes(k).lower() == b"content-type"), b"")
                if status < 400 or not ctype.startswith(b"application/json"):
                    await send(message)
                    return
                locale = request_locale(scope)  # only an error answer needs it
                message = {**message, "headers": with_language(headers, locale)}
                if locale == DEFAULT:
                    await send(message)
                    return
                start = message  # held until the body is complete: its length changes
                return
            if start is None or message["type"] != "http.response.body":
                await send(message)
                return
            chunks.append(bytes(message.get("body", b"")))
            if message.get("more_body", False) and sum(map(len, chunks)) <= MAX_REWRITE_BYTES:
                return
            body = b"".join(chunks)
            more = bool(message.get("more_body", False))
            headers = list(start["headers"])
            if not more:  # complete: translated, with its new length (a larger one goes on as it is)
                body = _rewrite(body, locale)
                headers = [(k, v) for k, v in headers if bytes(k).lower() != b"content-length"]
                headers.append((b"content-length", str(len(body)).encode()))
            await send({**start, "headers": headers})
            start = None
            await send({"type": "http.response.body", "body": body, "more_body": more})

        await self.app(scope, receive, localizing_send)


def _rewrite(body: bytes, locale: str) -> bytes:
    try:
        doc = json.loads(body)
    except ValueError:
        return body
    if not isinstance(doc, dict) or not isinstance(doc.get("detail"), str):
        return body
    return json.dumps(localize_body(doc, locale), ensure_ascii=False, separators=(",", ":")).encode()
