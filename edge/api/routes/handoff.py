"""The carrier hand-off's outbox over HTTP: what was sent, every attempt, and a retry after a failure."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query

from edge.api.deps import Ctx
from edge.floor.flow import FloorError
from edge.store import webhooks as store
from sync.http.openapi import error_responses

router = APIRouter(prefix="/handoff", tags=["handoff"])
MsgId = Annotated[str, Path(min_length=1, max_length=64, pattern=r"^msg_[0-9a-f]{1,60}$")]


def _message(msg: store.OutboxMessage) -> dict[str, Any]:
    return {
        "msg_id": msg.msg_id,
        "event_type": msg.event_type,
        "url": msg.url,
        "status": msg.status,
        "attempts": msg.attempts,
        "created_at": msg.created_at,
        "next_attempt_at": msg.next_attempt_at if msg.status == store.PENDING else None,
        "delivered_at": msg.delivered_at,
        "last_error": msg.last_error,
        "work_order_id": msg.work_order_id,
    }


@router.get("/messages", response_model=None, responses={200: {"description": "Outbox messages, oldest first."}})
async def list_messages(
    ctx: Ctx,
    status: Annotated[Literal["pending", "delivered", "failed"] | None, Query()] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> list[dict[str, Any]]:
    return [_message(m) for m in ctx.journal.read(store.list_messages, status=status, limit=limit)]


@router.get(
    "/messages/{msg_id}",
    response_model=None,
    responses={200: {"description": "A message with every attempt."}, **error_responses(404)},
)
async def get_message(msg_id: MsgId, ctx: Ctx) -> dict[str, Any]:
    msg = ctx.journal.read(store.get, msg_id)
    if msg is None:
        raise FloorError(404, "not_found", f"no webhook message {msg_id!r}")
    attempts = [
        {
            "attempt": a.attempt,
            "at": a.at,
            "status_code": a.status_code,
            "error": a.error,
            "outcome": a.outcome,
            "elapsed_ms": a.elapsed_ms,
        }
        for a in ctx.journal.read(store.attempts, msg_id)
    ]
    return {**_message(msg), "body": msg.body, "attempt_log": attempts}


@router.post(
    "/messages/{msg_id}/retry",
    response_model=None,
    responses={200: {"description": "Back in line."}, **error_responses(404, 409)},
)
async def retry(msg_id: MsgId, ctx: Ctx) -> dict[str, Any]:
    """Put a failed delivery back in line once the receiver is fixed (its work order stays for the record)."""
    if ctx.webhooks is None:
        raise FloorError(409, "no_handoff", "this gateway has no [handoff] configured")
    if not await ctx.webhooks.retry(msg_id):
        raise FloorError(404, "not_found", f"no undelivered webhook message {msg_id!r}")
    msg = ctx.journal.read(store.get, msg_id)
    assert msg is not None
    return _message(msg)
