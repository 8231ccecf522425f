"""The floor's one entry point (``ctx.floor``): create and move tasks, assign them by role and zone.

Everyone who makes floor work goes through here: the API's routes, the rules runner, the inbound and
outbound flows, cloud commands, the AGV bridge. Each step is checked against the state machine
(``edge.floor.tasks``) on the task's current state and journaled as one ``task`` op; the journal
updates the task projection in the same transaction. Steps are serialised by one lock, so two
handhelds claiming the same task cannot both get it: the second is refused with the state it found.
Task ops are rare next to stock ops, so one lock costs nothing that matters.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from datetime import timedelta
from typing import Any

from prometheus_client import CollectorRegistry

from edge.floor.tasks import (
    ACTIVE,
    NotAllowed,
    TaskError,
    UnknownTask,
    check_can_take,
    create,
    effective_roles,
    step,
)
from edge.floor.workorders import FloorMetrics, OpListeners, WorkOrders
from edge.store.floor import TaskRow, WorkOrderRow, get_task, next_open_tasks, query_tasks
from edge.store.journal import Journal
from sync.clock import Clock
from sync.masterdata import Operator
from sync.ops import FLEET, OpDraft, TaskKind, TaskPayload, TaskState, TaskTransition, uuid7
from sync.roles import USER_ROLES

SYSTEM = "system"
STAND_IN_ROLES = frozenset({"supervisor", "admin"})
TASK_ROLES = frozenset({*(r.value for r in USER_ROLES), FLEET})
"""Roles a task may be for: one a person can hold, or the AGV fleet."""
"""Roles that may take any step of anyone's task."""
"""The actor of steps the gateway takes on its own (rules, flows, escalation)."""


class UnknownOperator(TaskError):
    code = "unknown_operator"

    def __init__(self, task_id: str, operator_id: str) -> None:
        super().__init__(task_id, f"task {task_id}: no operator {operator_id!r} in this site's master data")


def new_task_id() -> str:
    """A fresh task id: ``T-`` and a UUIDv7 (time-ordered, unique without asking the database)."""
    return f"T-{uuid7()}"


class FloorService:
    """Tasks (and, from ``edge.floor.workorders``, exception work orders) over the gateway's journal."""

    def __init__(self, journal: Journal, clock: Clock, registry: CollectorRegistry | None = None) -> None:
        self.journal = journal
        self.clock = clock
        self._lock = asyncio.Lock()
        self.metrics = FloorMetrics(registry)
        self.listeners = OpListeners()
        """``listeners.add(fn)``: ``await fn(op)`` for every task and work order op journaled here."""
        self.work_orders = WorkOrders(journal, clock, self.listeners, self.metrics)
        """Exception work orders (``edge.floor.workorders``); ``open_work_order`` and ``close_work_order``
        below are the short way in."""

    # ---- exception work orders ---------------------------------------------------------------

    async def open_work_order(
        self,
        fact_key: str,
        kind: str,
        role: str | None = None,
        sla: timedelta | float | None = None,
        **fields: Any,
    ) -> WorkOrderRow:
        """The one work order for ``fact_key`` (opened now if the fact has none): ``kind`` is its type
        (short_pick, damaged_goods, wrong_item, qc_reject, temp_excursion, failed_handoff, ...),
        ``role`` who answers it and ``sla`` how long they have (a timedelta or seconds; both default by
        type). ``fields``: actor, device_id, description, zone, location, ref, photo, ref_op_id."""
        row, _ = await self.work_orders.open(fact_key, kind, role=role, sla=sla, **fields)
        return row

    async def close_work_order(
        self, work_order_id: str, reason: str, *, actor: str, roles: Iterable[str], device_id: str | None = None
    ) -> WorkOrderRow:
        """Close with a reason, by someone holding the work order's role, or a supervisor or admin."""
        return await self.work_orders.close(work_order_id, reason, actor=actor, roles=roles, device_id=device_id)

    # ---- reading -----------------------------------------------------------------------------

    def task(self, task_id: str) -> TaskRow | None:
        return self.journal.read(get_task, task_id)

    def tasks(
        self,
        *,
        states: Iterable[TaskState | str] | None = None,
        kind: TaskKind | str | None = None,
        assignee: str | None = None,
        role: str | None = None,
        zone: str | None = None,
        after_seq: int = 0,
        limit: int = 100,
    ) -> list[TaskRow]:
        """Tasks in the order they were created, filtered by any of the arguments."""
        return self.journal.read(
            query_tasks,
            states=None if states is None else [str(s) for s in states],
            kind=None if kind is None else str(kind),
            assignee=assignee,
            role=role,
            zone=zone,
            after_seq=after_seq,
            limit=limit,
        )

    def mine(self, operator_id: str, *, limit: int = 100) -> list[TaskRow]:
        """A handheld's task list: the operator's own assigned and in-progress tasks, then the open ones
        they may take (their role and zones), most urgent first."""
        own = self.tasks(states=(TaskState.ASSIGNED, TaskState.IN_PROGRESS), assignee=operator_id, limit=limit)
        operator = self.operator(operator_id)
        if operator is None or len(own) >= limit:
            return own
        open_ = self.journal.read(
            next_open_tasks,
            roles=effective_roles(operator.roles),
            zones=operator.zones or None,
            limit=limit - len(own),
        )
        return own + open_

    def operator(self, operator_id: str) -> Operator | None:
        return self.journal.master.operators.get(operator_id)

    # ---- steps -------------------------------------------------------------------------------

    async def create_task(
        self,
        task_kind: TaskKind | str,
        *,
        actor: str = SYSTEM,
        task_id: str | None = None,
        assignee: str | None = None,
        device_id: str | None = None,
        **fields: Any,
    ) -> TaskRow:
        """Create a task (open), and assign it at once when ``assignee`` is given (an operator or ``fleet``).

        ``fields`` are ``TaskPayload``'s: role, zone, sku, lot, qty, from_location, to_location, ref,
        priority, note. A caller that names its own ``task_id`` (a rule firing, an order line) makes
        creation idempotent: a task id that exists already returns that task and journals nothing.
        """
        task_id = task_id or new_task_id()
        async with self._lock:
            existing = self.task(task_id)
            if existing is None:
                payload = create(task_id, TaskKind(task_kind), **fields)
                self._check_new(payload)
                await self._journal(payload, actor, device_id)
            elif assignee is None:
                return existing
        if assignee is not None:
            row = self.task(task_id)
            assert row is not None
            if row.task.state is TaskState.OPEN:
                return await self.assign(task_id, assignee, actor=actor, device_id=device_id)
            return row
        row = self.task(task_id)
        assert row is not None
        return row

    async def assign(
        self, task_id: str, assignee: str, *, actor: str = SYSTEM, device_id: str | None = None, check: bool = True
    ) -> TaskRow:
        """Give a task to an operator (who must hold its role and work its zone, unless ``check`` is off:
        a supervisor's override) or to the AGV fleet (``"fleet"``)."""
        async with self._lock:
            task = self._current(task_id)
            if assignee != FLEET:
                operator = self.operator(assignee)
                if operator is None:
                    raise UnknownOperator(task_id, assignee)
                if check:
                    check_can_take(task, assignee, operator.roles, operator.zones)
            return await self._step(task, "assign", actor, device_id, assignee=assignee)

    async def release(self, task_id: str, *, actor: str = SYSTEM, device_id: str | None = None) -> TaskRow:
        """Give an assigned task back: open again, for anyone who fits."""
        return await self.transition(task_id, "release", actor=actor, device_id=device_id)

    async def start(self, task_id: str, *, actor: str = SYSTEM, device_id: str | None = None) -> TaskRow:
        return await self.transition(task_id, "start", actor=actor, device_id=device_id)

    async def complete(
        self, task_id: str, *, actor: str = SYSTEM, device_id: str | None = None, note: str | None = None
    ) -> TaskRow:
        return await self.transition(task_id, "done", actor=actor, device_id=device_id, note=note)

    async def cancel(self, task_id: str, reason: str, *, actor: str = SYSTEM, device_id: str | None = None) -> TaskRow:
        return await self.transition(task_id, "cancel", actor=actor, device_id=device_id, reason=reason)

    async def fail(self, task_id: str, reason: str, *, actor: str = SYSTEM, device_id: str | None = None) -> TaskRow:
        return await self.transition(task_id, "fail", actor=actor, device_id=device_id, reason=reason)

    async def transition(
        self,
        task_id: str,
        transition: TaskTransition,
        *,
        actor: str = SYSTEM,
        device_id: str | None = None,
        reason: str | None = None,
        note: str | None = None,
        assignee: str | None = None,
        by: str | None = None,
    ) -> TaskRow:
        """Any step by name (``assign`` goes through ``assign`` for its checks).

        ``by`` names the person taking the step when the caller knows for sure (an operator session):
        they must then be the task's assignee, or a supervisor or admin (who stand in for anyone).
        """
        if transition == "assign":
            if assignee is None:
                raise TaskError(task_id, f"task {task_id}: assign needs an assignee")
            return await self.assign(task_id, assignee, actor=actor, device_id=device_id)
        async with self._lock:
            task = self._current(task_id)
            if by is not None:
                self._check_owner(task, transition, by)
            return await self._step(task, transition, actor, device_id, reason=reason, note=note)

    def _check_new(self, task: TaskPayload) -> None:
        """What the journal does not check of a new task: its zone, and a role someone can hold."""
        if task.zone is not None and task.zone not in self.journal.master.zones:
            raise TaskError(task.task_id, f"task {task.task_id}: unknown zone {task.zone!r}")
        if task.role not in TASK_ROLES:
            raise TaskError(
                task.task_id,
                f"task {task.task_id}: role {task.role!r} is not one a person holds nor {FLEET!r}"
                f" (one of {', '.join(sorted(TASK_ROLES))})",
            )

    def _check_owner(self, task: TaskPayload, transition: str, by: str) -> None:
        if task.assignee == by:
            return
        operator = self.operator(by)
        if operator is not None and STAND_IN_ROLES & {str(r) for r in operator.roles}:
            return
        whose = f"assigned to {task.assignee}" if task.assignee else "not assigned to anyone"
        raise NotAllowed(
            task.task_id, f"{by} may not {transition} task {task.task_id}: it is {whose} (a supervisor may)"
        )

    async def claim_next(
        self, operator_id: str, *, actor: str | None = None, device_id: str | None = None
    ) -> TaskRow | None:
        """Assign the most urgent open task that fits ``operator_id`` (role, zones) to them; ``None`` if
        there is none. Under the lock, so two claims never get the same task."""
        operator = self.operator(operator_id)
        if operator is None:
            raise UnknownOperator("-", operator_id)
        async with self._lock:
            rows = self.journal.read(
                next_open_tasks, roles=effective_roles(operator.roles), zones=operator.zones or None, limit=1
            )
            if not rows:
                return None
            return await self._step(rows[0].task, "assign", actor or operator_id, device_id, assignee=operator_id)

    # ---- inside ------------------------------------------------------------------------------

    def _current(self, task_id: str) -> TaskPayload:
        row = self.task(task_id)
        if row is None:
            raise UnknownTask(task_id)
        return row.task

    async def _step(
        self,
        task: TaskPayload,
        transition: TaskTransition,
        actor: str,
        device_id: str | None,
        **changes: Any,
    ) -> TaskRow:
        payload = step(task, transition, **changes)
        await self._journal(payload, actor, device_id)
        row = self.task(task.task_id)
        assert row is not None
        return row

    async def _journal(self, payload: TaskPayload, actor: str, device_id: str | None) -> None:
        op = await self.journal.append(
            OpDraft(payload=payload, actor=actor, device_id=device_id, occurred_at=self.clock.now())
        )
        self.metrics.task_steps.labels(payload.transition).inc()
        self.listeners.notify(op)


__all__ = ["ACTIVE", "SYSTEM", "FloorService", "NotAllowed", "TaskError", "UnknownOperator", "new_task_id"]
