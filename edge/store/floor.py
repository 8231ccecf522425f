"""The floor's tables in the journal's database: tasks, exception work orders, operator sessions.

Tasks and work orders are projections of their ops (``task`` and ``work_order``): ``fold_floor`` is
called by the journal's writer inside the transaction that inserts the ops (``write_plan``), so the
projection can never disagree with the journal, whatever crash comes between. A restarted gateway
reads its tasks and work orders from here. Each row keeps the last op's payload (``body``), which
carries the whole task or work order, so reading a row is parsing one payload.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson

from sync.canonical import canonical_bytes, iso_utc, model_dict
from sync.ops import Op, OpKind, TaskPayload, TaskState, WorkOrderPayload

FLOOR_KINDS = frozenset({OpKind.TASK.value, OpKind.WORK_ORDER.value})
"""Op kinds (as text) that ``fold_floor`` projects."""


def _json(payload: TaskPayload | WorkOrderPayload) -> str:
    """A payload as JSON text, encoded the way ops are (so a row's body reads like the op's payload)."""
    return canonical_bytes(model_dict(payload)).decode()


def fold_floor(conn: sqlite3.Connection, ops: Iterable[Op]) -> None:
    """Project the ``task`` and ``work_order`` ops among ``ops`` (in seq order), in the caller's transaction."""
    for op in ops:
        p = op.payload
        if isinstance(p, TaskPayload):
            _fold_task(conn, op, p)
        elif isinstance(p, WorkOrderPayload):
            _fold_work_order(conn, op, p)


def _fold_task(conn: sqlite3.Connection, op: Op, p: TaskPayload) -> None:
    at = iso_utc(op.occurred_at)
    conn.execute(
        """INSERT INTO floor_tasks(task_id, task_kind, state, assignee, role, zone, priority, body, created_at,
               created_by, created_seq, updated_at, updated_by, updated_seq)
           VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)
           ON CONFLICT(task_id) DO UPDATE SET task_kind = excluded.task_kind, state = excluded.state,
               assignee = excluded.assignee, role = excluded.role, zone = excluded.zone,
               priority = excluded.priority, body = excluded.body, updated_at = excluded.updated_at,
               updated_by = excluded.updated_by, updated_seq = excluded.updated_seq""",
        (
            p.task_id,
            p.task_kind.value,
            p.state.value,
            p.assignee,
            p.role,
            p.zone,
            p.priority,
            _json(p),
            at,
            op.actor,
            op.seq,
            at,
            op.actor,
            op.seq,
        ),
    )


_WO_STATE = {"open": "open", "assign": "assigned", "escalate": None, "close": "closed"}


def _fold_work_order(conn: sqlite3.Connection, op: Op, p: WorkOrderPayload) -> None:
    """A work order op: an ``open`` inserts (cloud or rule work orders without a fact key alike); the
    others update. ``escalate`` keeps the state (open or assigned) and moves role and level."""
    at = iso_utc(op.occurred_at)
    due = iso_utc(p.sla_due) if p.sla_due is not None else None
    state = _WO_STATE[p.action]
    row = conn.execute(
        "SELECT body, state FROM floor_work_orders WHERE work_order_id = ?", (p.work_order_id,)
    ).fetchone()
    if row is None:
        conn.execute(
            """INSERT INTO floor_work_orders(work_order_id, fact_key, wo_type, state, role, level, sla_due, body,
                   opened_at, opened_by, opened_seq, updated_at, updated_by, updated_seq)
               VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)""",
            (
                p.work_order_id,
                p.fact_key,
                p.wo_type,
                state or "open",
                p.assignee_role,
                p.level or 0,
                due,
                _json(p),
                at,
                op.actor,
                op.seq,
                at,
                op.actor,
                op.seq,
            ),
        )
        return
    merged = {**orjson.loads(row[0]), **model_dict_json(p)}
    conn.execute(
        """UPDATE floor_work_orders SET state = ?, role = ?, level = COALESCE(?, level), sla_due = COALESCE(?, sla_due),
               body = ?, updated_at = ?, updated_by = ?, updated_seq = ? WHERE work_order_id = ?""",
        (
            state or row[1],
            p.assignee_role,
            p.level,
            due,
            orjson.dumps(merged, option=orjson.OPT_SORT_KEYS).decode(),
            at,
            op.actor,
            op.seq,
            p.work_order_id,
        ),
    )


def model_dict_json(p: WorkOrderPayload) -> dict[str, Any]:
    """A payload's fields as JSON values (``None`` left out)."""
    loaded: dict[str, Any] = orjson.loads(_json(p))
    return loaded


# ---- tasks ----------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class TaskRow:
    """A task as the projection holds it: its last op's payload, plus who made and last moved it, when."""

    task: TaskPayload
    created_at: str
    created_by: str
    created_seq: int
    updated_at: str
    updated_by: str
    updated_seq: int


_TASK_COLUMNS = "body, created_at, created_by, created_seq, updated_at, updated_by, updated_seq"


def _task_row(r: Sequence[Any]) -> TaskRow:
    return TaskRow(TaskPayload.model_validate_json(r[0]), r[1], r[2], int(r[3]), r[4], r[5], int(r[6]))


def get_task(conn: sqlite3.Connection, task_id: str) -> TaskRow | None:
    r = conn.execute(f"SELECT {_TASK_COLUMNS} FROM floor_tasks WHERE task_id = ?", (task_id,)).fetchone()
    return _task_row(r) if r else None


def query_tasks(
    conn: sqlite3.Connection,
    *,
    states: Iterable[str] | None = None,
    kind: str | None = None,
    assignee: str | None = None,
    role: str | None = None,
    zone: str | None = None,
    after_seq: int = 0,
    limit: int = 100,
) -> list[TaskRow]:
    """Tasks in creation order (``created_seq``), after ``after_seq``, filtered by any of the arguments."""
    where = ["created_seq > ?"]
    args: list[Any] = [after_seq]
    if states is not None:
        states = list(states)
        where.append(f"state IN ({','.join('?' * len(states))})")
        args += states
    for column, value in (("task_kind", kind), ("assignee", assignee), ("role", role), ("zone", zone)):
        if value is not None:
            where.append(f"{column} = ?")
            args.append(value)
    sql = f"SELECT {_TASK_COLUMNS} FROM floor_tasks WHERE {' AND '.join(where)} ORDER BY created_seq LIMIT ?"
    return [_task_row(r) for r in conn.execute(sql, [*args, limit])]


def next_open_tasks(
    conn: sqlite3.Connection, *, roles: Iterable[str] | None, zones: Iterable[str] | None, limit: int = 50
) -> list[TaskRow]:
    """Open tasks a person with ``roles`` (``None``: any) in ``zones`` (``None``: every zone) may take,
    most urgent first, then oldest first. A task without a zone suits every zone."""
    where = ["state = ?"]
    args: list[Any] = [TaskState.OPEN.value]
    if roles is not None:
        roles = list(roles)
        where.append(f"role IN ({','.join('?' * len(roles))})")
        args += roles
    if zones is not None:
        zones = list(zones)
        where.append(f"(zone IS NULL OR zone IN ({','.join('?' * len(zones))}))")
        args += zones
    sql = f"SELECT {_TASK_COLUMNS} FROM floor_tasks WHERE {' AND '.join(where)} ORDER BY priority, created_seq LIMIT ?"
    return [_task_row(r) for r in conn.execute(sql, [*args, limit])]


def count_tasks(conn: sqlite3.Connection) -> dict[str, int]:
    """Tasks per state (for health and metrics)."""
    return {str(s): int(n) for s, n in conn.execute("SELECT state, count(*) FROM floor_tasks GROUP BY state")}


# ---- work orders ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class WorkOrderRow:
    """A work order as the projection holds it: every field its ops set, the last value winning."""

    work_order_id: str
    fact_key: str | None
    wo_type: str
    state: str
    role: str
    level: int
    sla_due: datetime | None
    body: dict[str, Any]
    opened_at: str
    opened_by: str
    opened_seq: int
    updated_at: str
    updated_by: str
    updated_seq: int


_WO_COLUMNS = (
    "work_order_id, fact_key, wo_type, state, role, level, sla_due, body, opened_at, opened_by, opened_seq,"
    " updated_at, updated_by, updated_seq"
)


def _wo_row(r: Sequence[Any]) -> WorkOrderRow:
    due = datetime.fromisoformat(r[6]) if r[6] else None
    return WorkOrderRow(
        r[0],
        r[1],
        r[2],
        r[3],
        r[4],
        int(r[5]),
        due,
        orjson.loads(r[7]),
        r[8],
        r[9],
        int(r[10]),
        r[11],
        r[12],
        int(r[13]),
    )


def get_work_order(conn: sqlite3.Connection, work_order_id: str) -> WorkOrderRow | None:
    r = conn.execute(
        f"SELECT {_WO_COLUMNS} FROM floor_work_orders WHERE work_order_id = ?", (work_order_id,)
    ).fetchone()
    return _wo_row(r) if r else None


def work_order_for_fact(conn: sqlite3.Connection, fact_key: str) -> WorkOrderRow | None:
    r = conn.execute(f"SELECT {_WO_COLUMNS} FROM floor_work_orders WHERE fact_key = ?", (fact_key,)).fetchone()
    return _wo_row(r) if r else None


def query_work_orders(
    conn: sqlite3.Connection,
    *,
    states: Iterable[str] | None = None,
    role: str | None = None,
    wo_type: str | None = None,
    after_seq: int = 0,
    limit: int = 100,
) -> list[WorkOrderRow]:
    where = ["opened_seq > ?"]
    args: list[Any] = [after_seq]
    if states is not None:
        states = list(states)
        where.append(f"state IN ({','.join('?' * len(states))})")
        args += states
    for column, value in (("role", role), ("wo_type", wo_type)):
        if value is not None:
            where.append(f"{column} = ?")
            args.append(value)
    sql = f"SELECT {_WO_COLUMNS} FROM floor_work_orders WHERE {' AND '.join(where)} ORDER BY opened_seq LIMIT ?"
    return [_wo_row(r) for r in conn.execute(sql, [*args, limit])]


def due_work_orders(conn: sqlite3.Connection, now: datetime, limit: int = 100) -> list[WorkOrderRow]:
    """Open or assigned work orders whose SLA has run out at ``now`` and that can still escalate."""
    sql = (
        f"SELECT {_WO_COLUMNS} FROM floor_work_orders WHERE state IN ('open', 'assigned') AND sla_due IS NOT NULL"
        " AND sla_due <= ? AND level < 2 ORDER BY sla_due LIMIT ?"
    )
    return [_wo_row(r) for r in conn.execute(sql, (iso_utc(now), limit))]


def next_sla_due(conn: sqlite3.Connection) -> datetime | None:
    """The earliest SLA still to run out (of work orders that can escalate), if any."""
    r = conn.execute(
        "SELECT min(sla_due) FROM floor_work_orders WHERE state IN ('open', 'assigned') AND sla_due IS NOT NULL"
        " AND level < 2"
    ).fetchone()
    return datetime.fromisoformat(r[0]) if r and r[0] else None
