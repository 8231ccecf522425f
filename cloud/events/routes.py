"""``GET /v1/events``: server-sent events of stock changes and discrepancies, from any worker's writes."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import StreamingResponse

from cloud.auth.scope import Reader
from cloud.events.hub import Event
from cloud.services import Svc

router = APIRouter(tags=["events"])
_STREAMED = frozenset({"stock", "alert"})


@router.get(
    "/v1/events",
    response_class=StreamingResponse,
    responses={
        200: {
            "content": {"text/event-stream": {}},
            "description": "A stream of `stock` and `alert` events (a command a gateway rejected).",
        }
    },
)
async def events(
    request: Request,
    svc: Svc,
    scope: Reader,
    warehouse: Annotated[str | None, Query(min_length=1, max_length=64)] = None,
) -> StreamingResponse:
    """Live events; a user bound to a warehouse gets only that warehouse's."""
    warehouse = scope.warehouse(warehouse)

    def accept(e: Event) -> bool:
        return e.get("type") in _STREAMED and (warehouse is None or e.get("warehouse") == warehouse)

    sub = svc.hub.subscribe(accept)
    keepalive = svc.settings.sse_keepalive_s

    async def stream() -> AsyncIterator[str]:
        try:
            yield ": connected\n\n"
            while not await request.is_disconnected():
                event = await sub.get(timeout=keepalive)
                if sub.closed:  # the worker is shutting down: end the stream (clients reconnect)
                    yield "event: shutdown\ndata: {}\n\n"
                    return
                if event is None:
                    yield ": keepalive\n\n"
                    continue
                if sub.lost:
                    yield f"event: lost\ndata: {json.dumps({'lost': sub.lost})}\n\n"
                    sub.lost = 0
                yield f"event: {event['type']}\ndata: {json.dumps(event, separators=(',', ':'))}\n\n"
        finally:
            sub.close()

    return StreamingResponse(stream(), media_type="text/event-stream", headers={"Cache-Control": "no-store"})
