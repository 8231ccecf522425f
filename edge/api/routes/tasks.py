"""Floor tasks over HTTP: the handheld's task list (``GET /v1/tasks?mine=1``), claiming the next task,
and each step of a task (assign, start, done, cancel, fail), every one journaled as a ``task`` op.

Who acts is the caller (``edge.api.deps.Caller``): the operator of the session token when one is sent,
else (``[api] operator_sessions = "optional"``) the ``actor`` of the body.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Path, Query, Response
from pydantic import BaseModel, ConfigDict, Field

from edge.api.deps import CallerDep, Ctx
from edge.floor.tasks import ACTIVE
from edge.store.floor import TaskRow
from sync.codes import CODE_MAX_LENGTH, CODE_PATTERN, Code
from sync.http.openapi import error_responses
from sync.ops import Qty, TaskKind, TaskState, TaskTransition
from sync.roles import Role

router = APIRouter(tags=["tasks"])
TaskId = Annotated[str, Path(min_length=1, max_length=CODE_MAX_LENGTH, pattern=CODE_PATTERN)]
OVERRIDE_ROLES = frozenset({Role.SUPERVISOR, Role.ADMIN})
"""Roles that may assign a task to someone whose role or zone does not fit (an override)."""


class TaskOut(BaseModel):
    """A task as it stands: its fields, its state and the step that led there, who made and last moved it."""

    model_config = ConfigDict(json_schema_serialization_defaults_required=True)

    task_id: str
    task_kind: TaskKind
    state: TaskState
    last_transition: TaskTransition
    assignee: str | None = Field(description="Operator id, or 'fleet' for the AGVs; null while open.")
    role: str
    zone: str | None
    sku: str | None
    lot: str
    qty: int | None
    from_location: str | None
    to_location: str | None
    ref: str | None
    priority: int
    note: str
    reason: str | None
    created_at: str
    created_by: str
    updated_at: str
    updated_by: str
    updated_seq: int = Field(description="The seq of the op of its last step.")

    @classmethod
    def of(cls, row: TaskRow) -> TaskOut:
        t = row.task
        return cls(
            task_id=t.task_id,
            task_kind=t.task_kind,
            state=t.state,
            last_transition=t.transition,
            assignee=t.assignee,
            role=t.role,
            zone=t.zone,
            sku=t.sku,
            lot=t.lot,
            qty=t.qty,
            from_location=t.from_location,
            to_location=t.to_location,
            ref=t.ref,
            priority=t.priority,
            note=t.note,
            reason=t.reason,
            created_at=row.created_at,
            created_by=row.created_by,
            updated_at=row.updated_at,
            updated_by=row.updated_by,
            updated_seq=row.updated_seq,
        )


class TaskPage(BaseModel):
    model_config = ConfigDict(json_schema_serialization_defaults_required=True)

    items: list[TaskOut]
    next_after: int | None = Field(description="Pass as `after` for the next page; null when this one is the last.")


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    actor: str | None = Field(
        default=None,
        min_length=1,
        max_length=64,
        description="Who acts, for callers without a session token; ignored when a session is sent.",
    )
    device_id: str | None = Field(default=None, max_length=64)


class TaskCreate(_Body):
    task_kind: TaskKind
    task_id: Code | None = Field(default=None, description="Your own id makes creation idempotent; else one is made.")
    role: str = Field(default="operator", min_length=1, max_length=32, description="Who may take it.")
    zone: Code | None = None
    sku: Code | None = None
    lot: str = Field(default="", max_length=64)
    qty: Qty | None = None
    from_location: Code | None = None
    to_location: Code | None = None
    ref: str | None = Field(default=None, max_length=200, description="What it is for: an order, an ASN.")
    priority: int = Field(default=5, ge=1, le=9, description="1 most urgent.")
    note: str = Field(default="", max_length=500)
    assignee: str | None = Field(default=None, max_length=64, description="Assign at once: an operator or 'fleet'.")


class TaskAssign(_Body):
    assignee: str = Field(min_length=1, max_length=64, description="An operator id, or 'fleet'.")
    override: bool = Field(
        default=False, description="Assign even if role or zone do not fit: a supervisor's or admin's decision."
    )


class TaskStep(_Body):
    note: str | None = Field(default=None, max_length=500)


class TaskEnd(_Body):
    reason: str = Field(min_length=1, max_length=500, description="Why: what a supervisor reads later.")


class TaskClaim(_Body):
    operator: Code | None = Field(
        default=None, description="Whose next task, for callers without a session (default: the session's operator)."
    )


_ERRORS = error_responses(403, 404, 409)


@router.get("/tasks", response_model=TaskPage)
async def list_tasks(
    ctx: Ctx,
    caller: CallerDep,
    state: Annotated[list[TaskState] | None, Query(description="One or more states.")] = None,
    kind: TaskKind | None = None,
    mine: Annotated[
        bool,
        Query(
            description="The handheld's list: the session's operator's assigned and in-progress tasks, then the"
            " open tasks of their role and zones, most urgent first."
        ),
    ] = False,
    operator: Annotated[
        str | None, Query(max_length=64, description="With `mine`, for callers without a session: whose list.")
    ] = None,
    assignee: Annotated[str | None, Query(max_length=64)] = None,
    zone: Annotated[str | None, Query(max_length=64)] = None,
    role: Annotated[str | None, Query(max_length=32)] = None,
    active: Annotated[bool, Query(description="Only open, assigned and in-progress tasks.")] = False,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    after: Annotated[int, Query(ge=0, le=2**63 - 1, description="From `next_after`.")] = 0,
) -> TaskPage:
    if mine:
        who = caller.operator_id or operator
        if who is None:
            raise HTTPException(422, "mine=1 needs a session (or, without one, operator=<id>)")
        rows = [r for r in ctx.floor.mine(who, limit=limit) if kind is None or r.task.task_kind is kind]
        return TaskPage(items=[TaskOut.of(r) for r in rows], next_after=None)
    states: list[TaskState] | None = list(state) if state else None
    if active:
        states = [s for s in (states or list(ACTIVE)) if s in ACTIVE]
    rows = ctx.floor.tasks(
        states=states, kind=kind, assignee=assignee, zone=zone, role=role, after_seq=after, limit=limit + 1
    )
    more = len(rows) > limit
    rows = rows[:limit]
    return TaskPage(items=[TaskOut.of(r) for r in rows], next_after=rows[-1].created_seq if more else None)


@router.get("/tasks/{task_id}", response_model=TaskOut, responses=error_responses(404))
async def get_task(task_id: TaskId, ctx: Ctx) -> TaskOut:
    row = ctx.floor.task(task_id)
    if row is None:
        raise HTTPException(404, f"no task {task_id!r}")
    return TaskOut.of(row)


@router.post("/tasks", status_code=201, response_model=TaskOut, responses=_ERRORS)
async def create_task(req: TaskCreate, ctx: Ctx, caller: CallerDep) -> TaskOut:
    """Create a task (open; assigned at once with `assignee`). The same `task_id` again returns that task."""
    fields: dict[str, Any] = req.model_dump(exclude={"actor", "device_id", "task_kind", "task_id", "assignee"})
    row = await ctx.floor.create_task(
        req.task_kind,
        task_id=req.task_id,
        assignee=req.assignee,
        actor=caller.actor(req.actor),
        device_id=req.device_id,
        **fields,
    )
    return TaskOut.of(row)


@router.post("/tasks/next", response_model=TaskOut, responses={204: {"description": "No open task fits."}, **_ERRORS})
async def claim_next(req: TaskClaim, ctx: Ctx, caller: CallerDep) -> TaskOut | Response:
    """Claim the most urgent open task of my role and zones: it is assigned to me (204 when none fits)."""
    who = caller.operator_id or req.operator
    if who is None:
        raise HTTPException(422, "claiming a task needs a session (or, without one, operator in the body)")
    row = await ctx.floor.claim_next(who, actor=caller.actor(req.actor or who), device_id=req.device_id)
    if row is None:
        return Response(status_code=204)
    return TaskOut.of(row)


@router.post("/tasks/{task_id}/assign", response_model=TaskOut, responses=_ERRORS)
async def assign(task_id: TaskId, req: TaskAssign, ctx: Ctx, caller: CallerDep) -> TaskOut:
    """Assign to an operator (who must hold its role and work its zone) or to the fleet; `override`
    skips the role and zone check and needs a supervisor or admin."""
    if req.override:
        caller.require(OVERRIDE_ROLES, "override a task's role or zone", req.actor)
    row = await ctx.floor.assign(
        task_id, req.assignee, actor=caller.actor(req.actor), device_id=req.device_id, check=not req.override
    )
    return TaskOut.of(row)


@router.post("/tasks/{task_id}/start", response_model=TaskOut, responses=_ERRORS)
async def start(task_id: TaskId, req: TaskStep, ctx: Ctx, caller: CallerDep) -> TaskOut:
    row = await ctx.floor.transition(
        task_id, "start", actor=caller.actor(req.actor), device_id=req.device_id, note=req.note, by=caller.operator_id
    )
    return TaskOut.of(row)


@router.post("/tasks/{task_id}/release", response_model=TaskOut, responses=_ERRORS)
async def release(task_id: TaskId, req: TaskStep, ctx: Ctx, caller: CallerDep) -> TaskOut:
    """Give an assigned task back (open again)."""
    row = await ctx.floor.transition(
        task_id, "release", actor=caller.actor(req.actor), device_id=req.device_id, note=req.note, by=caller.operator_id
    )
    return TaskOut.of(row)


@router.post("/tasks/{task_id}/done", response_model=TaskOut, responses=_ERRORS)
async def done(task_id: TaskId, req: TaskStep, ctx: Ctx, caller: CallerDep) -> TaskOut:
    row = await ctx.floor.transition(
        task_id, "done", actor=caller.actor(req.actor), device_id=req.device_id, note=req.note, by=caller.operator_id
    )
    return TaskOut.of(row)


@router.post("/tasks/{task_id}/cancel", response_model=TaskOut, responses=_ERRORS)
async def cancel(task_id: TaskId, req: TaskEnd, ctx: Ctx, caller: CallerDep) -> TaskOut:
    row = await ctx.floor.transition(
        task_id,
        "cancel",
        actor=caller.actor(req.actor),
        device_id=req.device_id,
        reason=req.reason,
        by=caller.operator_id,
    )
    return TaskOut.of(row)


@router.post("/tasks/{task_id}/fail", response_model=TaskOut, responses=_ERRORS)
async def fail(task_id: TaskId, req: TaskEnd, ctx: Ctx, caller: CallerDep) -> TaskOut:
    row = await ctx.floor.transition(
        task_id,
        "fail",
        actor=caller.actor(req.actor),
        device_id=req.device_id,
        reason=req.reason,
        by=caller.operator_id,
    )
    return TaskOut.of(row)
