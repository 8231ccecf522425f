"""The floor task's state machine: which step is legal from which state, and what a step makes of a task.

Pure: no database, no clock. The floor service (``edge.floor.service``) reads a task's current state
from the projection, asks ``step`` for the task after a transition, and journals that as a ``task`` op;
the projection is then updated in the same transaction as the op (``edge.store.floor``). Keeping the
rules here, apart from storage, lets every caller (API, rules, order flows, the AGV bridge) get the same
refusals with the same words.

::

    create -> open --assign--> assigned --start--> in_progress --done--> done
                   <--release--   |  \\---done---------------------^
              open|assigned|in_progress --cancel--> cancelled
              open|assigned|in_progress --fail----> failed

``assign`` on an assigned task re-assigns it; ``done`` from assigned covers the one-scan tasks that
have no separate start. done, cancelled and failed are final.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sync.ops import FLEET, TaskKind, TaskPayload, TaskState, TaskTransition

OPEN, ASSIGNED, IN_PROGRESS = TaskState.OPEN, TaskState.ASSIGNED, TaskState.IN_PROGRESS
DONE, CANCELLED, FAILED = TaskState.DONE, TaskState.CANCELLED, TaskState.FAILED

FINAL: frozenset[TaskState] = frozenset({DONE, CANCELLED, FAILED})
"""States a task never leaves."""

ACTIVE: frozenset[TaskState] = frozenset({OPEN, ASSIGNED, IN_PROGRESS})
"""States of a task still to be done."""

TRANSITIONS: dict[TaskTransition, tuple[frozenset[TaskState], TaskState]] = {
    "assign": (frozenset({OPEN, ASSIGNED}), ASSIGNED),
    "release": (frozenset({ASSIGNED}), OPEN),
    "start": (frozenset({ASSIGNED}), IN_PROGRESS),
    "done": (frozenset({ASSIGNED, IN_PROGRESS}), DONE),
    "cancel": (frozenset(ACTIVE), CANCELLED),
    "fail": (frozenset(ACTIVE), FAILED),
}
"""transition -> (the states it may start from, the state it leads to). ``create`` leads to open from nothing."""


class TaskError(ValueError):
    """A task step that cannot be taken; ``code`` is the API's error code, the message names the task."""

    code = "task_invalid"

    def __init__(self, task_id: str, message: str) -> None:
        super().__init__(message)
        self.task_id = task_id
        self.message = message


class IllegalTransition(TaskError):
    """The transition is not legal from the task's current state."""

    code = "illegal_transition"

    def __init__(self, task_id: str, state: TaskState, transition: str) -> None:
        allowed = TRANSITIONS.get(transition)  # type: ignore[call-overload]
        if allowed is None:
            why = f"unknown transition {transition!r} (one of {', '.join(TRANSITIONS)})"
        else:
            why = f"{transition} is allowed from {' or '.join(sorted(s.value for s in allowed[0]))} only"
        super().__init__(task_id, f"task {task_id} is {state.value}: cannot {transition} it ({why})")
        self.state = state
        self.transition = transition


class UnknownTask(TaskError):
    code = "unknown_task"

    def __init__(self, task_id: str) -> None:
        super().__init__(task_id, f"no task {task_id!r}")


def next_state(task_id: str, state: TaskState, transition: TaskTransition) -> TaskState:
    """The state ``transition`` leads to from ``state``; ``IllegalTransition`` if it is not legal there."""
    rule = TRANSITIONS.get(transition)
    if rule is None or state not in rule[0]:
        raise IllegalTransition(task_id, state, transition)
    return rule[1]


def create(task_id: str, task_kind: TaskKind, **fields: Any) -> TaskPayload:
    """A new task, open (the ``create`` op's payload). Fields as ``TaskPayload``'s."""
    for name in ("state", "transition", "kind", "assignee", "reason"):
        if name in fields:
            raise TaskError(task_id, f"task {task_id}: {name} is not set at creation")
    return TaskPayload(task_id=task_id, task_kind=task_kind, transition="create", state=OPEN, **fields)


def step(
    task: TaskPayload,
    transition: TaskTransition,
    *,
    assignee: str | None = None,
    reason: str | None = None,
    note: str | None = None,
) -> TaskPayload:
    """The task after ``transition`` (the op's payload): checked against the state machine.

    ``assign`` needs an ``assignee``; ``cancel`` and ``fail`` need a ``reason`` (it is what a
    supervisor reads later); ``release`` clears the assignee. Other fields stay as they were.
    """
    task_id = task.task_id
    state = next_state(task_id, task.state, transition)
    update: dict[str, Any] = {"transition": transition, "state": state}
    if transition == "assign":
        if not assignee:
            raise TaskError(task_id, f"task {task_id}: assign needs an assignee (an operator id or {FLEET!r})")
        update["assignee"] = assignee
    elif transition == "release":
        update["assignee"] = None
    elif transition in ("cancel", "fail"):
        if reason is None or not reason.strip():
            raise TaskError(task_id, f"task {task_id}: {transition} needs a reason")
        update["reason"] = reason.strip()
    if note is not None:
        update["note"] = note
    return TaskPayload.model_validate({**task.model_dump(), **update})


class NotAllowed(TaskError):
    """The person (or fleet) may not take or do this task: role or zone do not fit."""

    code = "not_allowed"


PERSON_ROLES_DOING_ALL = frozenset({"supervisor", "admin"})
"""Roles that may also do operator work (take an ``operator`` task) beside their own."""


def effective_roles(roles: Iterable[str]) -> frozenset[str]:
    """The task roles a person with ``roles`` may take: their own, and ``operator`` for a supervisor or
    admin (who stand in on the floor)."""
    own = frozenset(str(r) for r in roles)
    return own | {"operator"} if own & PERSON_ROLES_DOING_ALL else own


def check_can_take(task: TaskPayload, operator_id: str, roles: Iterable[str], zones: Iterable[str]) -> None:
    """``NotAllowed`` unless a person with ``roles`` working ``zones`` (empty: every zone) may take ``task``."""
    mine = effective_roles(roles)
    if task.role not in mine:
        raise NotAllowed(
            task.task_id,
            f"task {task.task_id} is for role {task.role!r}; operator {operator_id} has "
            f"{', '.join(sorted(mine)) or 'none'}",
        )
    zone_list = list(zones)
    if task.zone is not None and zone_list and task.zone not in zone_list:
        raise NotAllowed(
            task.task_id,
            f"task {task.task_id} is in zone {task.zone}; operator {operator_id} works {', '.join(zone_list)}",
        )
