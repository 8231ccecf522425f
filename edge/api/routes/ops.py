"""The journal over HTTP: append an op (answered once it is durable), list ops, read one."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Path, Query

from edge.api.deps import CallerDep, Ctx
from edge.api.schemas import OpIn, OpsPage, op_body
from sync.http.openapi import error_responses
from sync.ops import Op, OpKind
from sync.roles import RELEASE_ROLES, Role

router = APIRouter(tags=["ops"])

GATEWAY_ONLY_KINDS = frozenset({"task", "work_order", "session", "command_applied", "rule_fired"})
"""Op kinds only the gateway itself writes, each through the part that checks it (the task state
machine, work orders' one-per-fact rule, logins, the command applier, the rules runner)."""

ROLE_GATED_KINDS: dict[str, frozenset[Role]] = {OpKind.QC_RELEASE.value: RELEASE_ROLES}
"""Op kinds only some roles may record through the API."""


class KindNotAllowed(HTTPException):
    """A gateway-only kind posted to ``/v1/ops`` (answered 422 ``kind_not_allowed``)."""

    def __init__(self, kind: str) -> None:
        super().__init__(
            422,
            f"{kind} ops are written by the gateway itself, not posted: use its own routes"
            f" ({_ROUTE_OF.get(kind, 'none')})",
        )
        self.kind = kind


_ROUTE_OF = {
    "task": "/v1/tasks",
    "work_order": "/v1/work-orders",
    "session": "/v1/sessions",
    "command_applied": "the sync agent",
    "rule_fired": "the rules runner",
}
MAX_SEQ = 2**63 - 1
"""A seq is a SQLite INTEGER: 64 bits, signed."""


@router.post(
    "/ops",
    status_code=201,
    response_model=None,
    responses={201: {"model": Op, "description": "The stored op (wire form)."}, **error_responses(403, 409)},
)
async def post_op(op: OpIn, ctx: Ctx, caller: CallerDep) -> dict[str, Any]:
    """Append one op; answers once it is durable. Re-posting the same op_id returns the stored op.

    With an operator session the op is recorded under the session's operator, whatever ``actor`` the
    body names. Kinds only the gateway writes (tasks, work orders, sessions, command outcomes, rule
    firings) are refused with 422 ``kind_not_allowed``: they have their own routes. A ``qc_release``
    (releasing held stock) needs a supervisor or admin.
    """
    kind = str(op.payload.kind)
    if kind in GATEWAY_ONLY_KINDS:
        raise KindNotAllowed(kind)
    actor = caller.actor(op.actor)
    if kind in ROLE_GATED_KINDS:
        caller.require(ROLE_GATED_KINDS[kind], f"record a {kind} op", op.actor)
    draft = op.draft(ctx.clock.now())
    if actor != draft.actor:
        draft = draft.model_copy(update={"actor": actor})
    stored = await ctx.journal.append(draft)
    return op_body(stored)


@router.get("/ops")
async def get_ops(
    ctx: Ctx,
    after: Annotated[int, Query(ge=0, le=MAX_SEQ)] = 0,
    limit: Annotated[int, Query(ge=1, le=5000)] = 100,
    kind: OpKind | None = None,
) -> OpsPage:
    entries = ctx.journal.entries(after=after, limit=limit, kind=kind)
    nxt = entries[-1].seq if entries else after
    return OpsPage(items=[e.body for e in entries], head_seq=ctx.journal.head()[0], next_after=nxt)


@router.get(
    "/ops/{seq}",
    response_model=None,
    responses={200: {"model": Op, "description": "The op (wire form)."}, **error_responses(404)},
)
async def get_op(seq: Annotated[int, Path(ge=1, le=MAX_SEQ)], ctx: Ctx) -> dict[str, Any]:
    entries = ctx.journal.entries(after=seq - 1, limit=1)
    if not entries or entries[0].seq != seq:
        raise HTTPException(404, f"no op with seq {seq}")
    return entries[0].body
