"""Exception work orders: one per fact, routed to the role that answers it, escalated when its SLA runs out.

A short pick, damaged goods, a wrong item, a QC reject, a temperature excursion, a failed carrier
hand-off: whoever notices it calls ``open`` with a ``fact_key`` naming the fact (``short_pick:SO-1:3``).
The first call opens the work order (a ``work_order`` op, ``open``); any later call for the same fact
returns that work order and journals nothing, so a handheld that reports twice, a rule that fires
again or a flow that retries never makes a second one. The fact key is unique in the projection
(``floor_work_orders``), which is written in the op's own transaction, and ``open`` runs under a lock.

Each work order has an SLA (a due time on the injected clock). ``run`` (a part of the gateway) wakes
when the earliest SLA runs out and escalates what is overdue: to the supervisor, then to the admin
(``escalate`` ops, level 1 and 2), each with a new due time of the same length. Closing needs a reason,
and a person holding the role the work order is routed to, or a supervisor or admin.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine, Iterable
from datetime import datetime, timedelta
from typing import Any

import structlog
from prometheus_client import CollectorRegistry, Counter

from edge.store.floor import (
    WorkOrderRow,
    due_work_orders,
    get_work_order,
    next_sla_due,
    query_work_orders,
    work_order_for_fact,
)
from edge.store.journal import Journal
from sync.clock import Clock
from sync.ops import Op, OpDraft, WorkOrderPayload, uuid7
from sync.roles import Role

SYSTEM = "system"
log = structlog.stdlib.get_logger("wims.edge.floor")

ESCALATION: tuple[str, ...] = (Role.SUPERVISOR.value, Role.ADMIN.value)
"""Who a work order goes to when its SLA runs out, level 1 then level 2 (level 0 is its own role)."""

CLOSING_ROLES = frozenset({Role.SUPERVISOR.value, Role.ADMIN.value})
"""Roles that may close any work order (besides the role it is routed to)."""

ROUTES: dict[str, tuple[str, timedelta]] = {
    "short_pick": (Role.OPERATOR.value, timedelta(minutes=30)),  # a recount or re-pick by the floor
    "wrong_item": (Role.OPERATOR.value, timedelta(minutes=30)),
    "damaged_goods": (Role.SUPERVISOR.value, timedelta(hours=1)),
    "qc_reject": (Role.SUPERVISOR.value, timedelta(hours=2)),
    "temp_excursion": (Role.SUPERVISOR.value, timedelta(minutes=30)),
    "failed_handoff": (Role.PLANNER.value, timedelta(hours=1)),
    "handoff_failed": (Role.PLANNER.value, timedelta(hours=1)),  # the carrier outbox's name for it
}
"""Work order type -> the role it goes to and its SLA, when the caller does not say."""

DEFAULT_ROUTE = (Role.SUPERVISOR.value, timedelta(hours=1))

MAX_NAP_SECONDS = 300.0
"""The escalation runner looks again at least this often, whatever it expects."""


OpListener = Callable[[Op], Coroutine[Any, Any, None]]
"""Called with every task or work order op the floor journals (after it is durable)."""


class OpListeners:
    """Who hears of the floor's ops (say, the rules runner turning a task op or an escalation into a
    floor event). Each call runs as a task of its own, after the step's lock is released: a listener
    may call back into the floor without a deadlock, and one that fails is logged, never undoing the
    step (its op is durable already)."""

    def __init__(self) -> None:
        self._listeners: list[OpListener] = []
        self._running: set[asyncio.Task[None]] = set()

    def add(self, listener: OpListener) -> None:
        self._listeners.append(listener)

    def remove(self, listener: OpListener) -> None:
        self._listeners.remove(listener)

    def notify(self, op: Op) -> None:
        for listener in self._listeners:
            task = asyncio.create_task(listener(op), name=f"floor-listener:{op.kind}")
            self._running.add(task)
            task.add_done_callback(self._done)

    def _done(self, task: asyncio.Task[None]) -> None:
        self._running.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("floor.listener_failed", listener=task.get_name(), exc_info=task.exception())

    async def settle(self) -> None:
        """Wait for the listeners running now (tests, shutdown)."""
        while self._running:
            await asyncio.gather(*list(self._running), return_exceptions=True)


class FloorMetrics:
    """The floor's counters on ``/metrics``: task steps by transition, work order steps by action."""

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        registry = registry or CollectorRegistry()
        self.task_steps = Counter(
            "wims_floor_task_steps", "Task steps journaled, by transition", ["transition"], registry=registry
        )
        self.work_order_steps = Counter(
            "wims_floor_work_order_steps",
            "Work order steps journaled, by action (escalate: an SLA ran out)",
            ["action"],
            registry=registry,
        )


class WorkOrderError(ValueError):
    """A work order step that cannot be taken; ``code`` is the API's error code."""

    code = "work_order_invalid"
    status = 422

    def __init__(self, work_order_id: str, message: str) -> None:
        super().__init__(message)
        self.work_order_id = work_order_id
        self.message = message


class UnknownWorkOrder(WorkOrderError):
    code = "unknown_work_order"
    status = 404

    def __init__(self, work_order_id: str) -> None:
        super().__init__(work_order_id, f"no work order {work_order_id!r}")


class CloseNotAllowed(WorkOrderError):
    code = "not_allowed"
    status = 403


class AlreadyClosed(WorkOrderError):
    code = "already_closed"
    status = 409


def new_work_order_id() -> str:
    return f"WO-{uuid7()}"


def escalation_role(level: int) -> str:
    """The role a work order goes to at ``level`` >= 1."""
    return ESCALATION[min(level, len(ESCALATION)) - 1]


class WorkOrders:
    """Open (once per fact), escalate and close exception work orders over the gateway's journal."""

    def __init__(
        self,
        journal: Journal,
        clock: Clock,
        listeners: OpListeners | None = None,
        metrics: FloorMetrics | None = None,
    ) -> None:
        self.journal = journal
        self.clock = clock
        self.listeners = listeners or OpListeners()
        self.metrics = metrics or FloorMetrics()
        self._lock = asyncio.Lock()
        self._changed = asyncio.Event()
        self.escalated = 0
        """How many escalations ``run`` has journaled (tools and tests wait on it)."""
        self._progress = asyncio.Condition()

    # ---- reading -----------------------------------------------------------------------------

    def get(self, work_order_id: str) -> WorkOrderRow | None:
        return self.journal.read(get_work_order, work_order_id)

    def for_fact(self, fact_key: str) -> WorkOrderRow | None:
        return self.journal.read(work_order_for_fact, fact_key)

    def query(
        self,
        *,
        states: Iterable[str] | None = None,
        role: str | None = None,
        wo_type: str | None = None,
        after_seq: int = 0,
        limit: int = 100,
    ) -> list[WorkOrderRow]:
        return self.journal.read(
            query_work_orders,
            states=None if states is None else list(states),
            role=role,
            wo_type=wo_type,
            after_seq=after_seq,
            limit=limit,
        )

    # ---- steps -------------------------------------------------------------------------------

    async def open(
        self,
        fact_key: str,
        wo_type: str,
        *,
        role: str | None = None,
        sla: timedelta | float | None = None,
        actor: str = SYSTEM,
        device_id: str | None = None,
        description: str = "",
        zone: str | None = None,
        location: str | None = None,
        ref: str | None = None,
        photo: str | None = None,
        ref_op_id: Any = None,
        assignee: str | None = None,
    ) -> tuple[WorkOrderRow, bool]:
        """The work order for ``fact_key``, opened now if the fact has none yet; the flag says whether
        this call opened it. ``role`` and ``sla`` (a timedelta or seconds) default by type (``ROUTES``)."""
        default_role, default_sla = ROUTES.get(wo_type, DEFAULT_ROUTE)
        sla_delta = default_sla if sla is None else sla if isinstance(sla, timedelta) else timedelta(seconds=sla)
        if sla_delta <= timedelta(0):
            raise WorkOrderError("-", f"work order for {fact_key}: the SLA must be positive, got {sla_delta}")
        async with self._lock:
            existing = self.for_fact(fact_key)
            if existing is not None:
                return existing, False
            now = self.clock.now()
            payload = WorkOrderPayload(
                work_order_id=new_work_order_id(),
                action="open",
                wo_type=wo_type,
                zone=zone,
                location=location,
                assignee_role=role or default_role,
                assignee=assignee,
                description=description,
                ref_op_id=ref_op_id,
                fact_key=fact_key,
                sla_due=now + sla_delta,
                level=0,
                photo=photo,
                ref=ref,
            )
            await self._journal(payload, actor, device_id, now)
            row = self.get(payload.work_order_id)
            assert row is not None
        self._changed.set()  # the runner may now have an earlier SLA to wake for
        return row, True

    async def close(
        self,
        work_order_id: str,
        reason: str,
        *,
        actor: str,
        roles: Iterable[str],
        device_id: str | None = None,
    ) -> WorkOrderRow:
        """Close with a ``reason``, by ``actor`` holding ``roles``: the work order's role, or supervisor/admin."""
        if not reason or not reason.strip():
            raise WorkOrderError(work_order_id, f"work order {work_order_id}: closing needs a reason")
        held = {str(r) for r in roles}
        async with self._lock:
            row = self.get(work_order_id)
            if row is None:
                raise UnknownWorkOrder(work_order_id)
            if row.state == "closed":
                raise AlreadyClosed(work_order_id, f"work order {work_order_id} is closed already")
            allowed = CLOSING_ROLES | {row.role}
            if not held & allowed:
                raise CloseNotAllowed(
                    work_order_id,
                    f"{actor} may not close work order {work_order_id}: it is routed to {row.role};"
                    f" closing needs role {' or '.join(sorted(allowed))}",
                )
            payload = self._next(row, action="close", reason=reason.strip(), assignee=actor)
            await self._journal(payload, actor, device_id, self.clock.now())
            closed = self.get(work_order_id)
            assert closed is not None
        self._changed.set()
        return closed

    async def escalate_due(self) -> list[WorkOrderRow]:
        """Escalate every work order whose SLA has run out (one level each); returns them as escalated."""
        out: list[WorkOrderRow] = []
        async with self._lock:
            now = self.clock.now()
            for row in self.journal.read(due_work_orders, now):
                level = row.level + 1
                role = escalation_role(level)
                if level == 1 and row.role == role:  # routed to the supervisor already: straight to the admin
                    level, role = 2, escalation_role(2)
                span = _sla_span(row, row.sla_due or now)
                payload = self._next(row, action="escalate", assignee_role=role, level=level, sla_due=now + span)
                await self._journal(payload, SYSTEM, None, now)
                again = self.get(row.work_order_id)
                assert again is not None
                out.append(again)
        if out:
            async with self._progress:
                self.escalated += len(out)
                self._progress.notify_all()
        return out

    async def run(self) -> None:
        """Escalate overdue work orders for ever, waking when the earliest SLA runs out (on the injected
        clock) or when a work order is opened or closed."""
        while True:
            self._changed.clear()
            await self.escalate_due()
            due = self.journal.read(next_sla_due)
            nap = MAX_NAP_SECONDS
            if due is not None:
                nap = min(nap, max(0.001, (due - self.clock.now()).total_seconds()))
            sleeper = asyncio.ensure_future(self.clock.sleep(nap))
            waker = asyncio.ensure_future(self._changed.wait())
            try:
                await asyncio.wait({sleeper, waker}, return_when=asyncio.FIRST_COMPLETED)
            finally:
                sleeper.cancel()
                waker.cancel()

    async def wait_escalated(self, n: int, timeout: float = 10.0) -> None:
        """Wait until ``run`` has journaled ``n`` escalations in all (tools and tests)."""
        async with self._progress:
            await asyncio.wait_for(self._progress.wait_for(lambda: self.escalated >= n), timeout)

    # ---- inside ------------------------------------------------------------------------------

    @staticmethod
    def _next(row: WorkOrderRow, **update: Any) -> WorkOrderPayload:
        """The next op's payload: the work order as it stands (its last body) with ``update``."""
        body = {k: v for k, v in row.body.items() if k not in ("reason",)}
        body.update(update)
        return WorkOrderPayload.model_validate(body)

    async def _journal(self, payload: WorkOrderPayload, actor: str, device_id: str | None, now: datetime) -> None:
        op = await self.journal.append(OpDraft(payload=payload, actor=actor, device_id=device_id, occurred_at=now))
        self.metrics.work_order_steps.labels(payload.action).inc()
        self.listeners.notify(op)


def _sla_span(row: WorkOrderRow, due: datetime) -> timedelta:
    """The length of the work order's SLA: from when it was opened (or last escalated) to its due time."""
    started = datetime.fromisoformat(row.updated_at)
    span = due - started
    return span if span > timedelta(0) else DEFAULT_ROUTE[1]
