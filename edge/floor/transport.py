"""AGV transport tasks: accepted durably, handed to the fleet master, resumed or failed after a restart.

Tasks come from the site's rules (``agv_transport``), from putaway at goods-to-person sites
(``request``), and from the cloud (``transport_task`` commands). Each is first a row of
``transport_tasks`` in the journal's database (the accepted record, keyed by its task id, so a repeated
request or a re-delivered command is the same task), then a ``TransportTask`` submitted to the fleet
master (``edge.fleet``). While the master works on it, its state (assigned to which AGV, with which
pick and drop action ids, picked) is copied to the row.

A gateway that restarts with tasks in flight never sends them again blindly, which could move a load
twice. It listens to the AGVs' first reports after the start (their loads and the states of the
actions they ran) and, for each task not finished:

- its drop action finished: it was delivered; the ``move`` op is recorded (once) and the task is done;
- its handling unit is aboard an AGV: it fails, with an ``agv_load_stranded`` exception op (the new
  master stops that AGV's old order, and a person takes the load off);
- its pick finished but the load is neither aboard nor dropped, or its AGV does not report, or the
  fleet cannot be reached: it fails explicitly, with an ``agv_task_failed`` exception op;
- otherwise nothing has moved (no AGV carries or delivered it): it is submitted again.

Every way a task ends leaves an op: a delivery its ``move`` (by the master, or here after a restart),
a failure an ``exception`` (a route the layout cannot give, a load stranded, a task refused by the
master, a state unknown after a restart). An op the master recorded before the crash is found, not
recorded twice.
"""

from __future__ import annotations

import asyncio
import sqlite3
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, Literal

import orjson

from edge.fleet.tasks import TaskStatus, TransportTask
from edge.floor.tasks import TaskError
from edge.rules.actions import AgvTransport
from edge.rules.runner import NAMESPACE, ActionRefused, FiringContext
from edge.store.errors import OpRejected
from sync.commands import TransportTaskCommand
from sync.ops import FLEET, ExceptionPayload, OpDraft, TaskKind, TaskState

if TYPE_CHECKING:
    from edge.context import EdgeContext
    from edge.fleet.master import FleetMaster

State = Literal["accepted", "submitted", "assigned", "picked", "done", "failed"]
OPEN_STATES = ("accepted", "submitted", "assigned", "picked")
_FROM_FLEET: dict[TaskStatus, State] = {
    TaskStatus.WAITING: "submitted",
    TaskStatus.ASSIGNED: "assigned",
    TaskStatus.PICKED: "picked",
    TaskStatus.DONE: "done",
    TaskStatus.FAILED: "failed",
}
_COLUMNS = (
    "task_id, source, ref, handling_unit, sku, lot, qty, from_location, to_location, priority, state, vehicle,"
    " pick_action, drop_action, attempts, reason, accepted_at, updated_at"
)


class TransportRefused(ValueError):
    """The task cannot be accepted (no fleet, an unknown place, nothing to carry); nothing was recorded."""


@dataclass(frozen=True, slots=True)
class TransportRow:
    task_id: str
    source: str
    ref: str
    handling_unit: str
    sku: str
    lot: str
    qty: int
    from_location: str
    to_location: str
    priority: int
    state: str
    vehicle: str | None
    pick_action: str | None
    drop_action: str | None
    attempts: int
    reason: str
    accepted_at: str
    updated_at: str

    @property
    def open(self) -> bool:
        return self.state in OPEN_STATES

    def task(self) -> TransportTask:
        return TransportTask(
            task_id=self.task_id,
            handling_unit=self.handling_unit,
            sku=self.sku,
            qty=self.qty,
            from_location=self.from_location,
            to_location=self.to_location,
            lot=self.lot,
        )

    def as_dict(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in self.__slots__}


def _rows(conn: sqlite3.Connection, where: str = "", args: tuple[Any, ...] = ()) -> list[TransportRow]:
    sql = f"SELECT {_COLUMNS} FROM transport_tasks {where} ORDER BY accepted_at, task_id"
    return [TransportRow(*r) for r in conn.execute(sql, args)]


def _insert(conn: sqlite3.Connection, row: TransportRow) -> bool:
    conn.execute("BEGIN IMMEDIATE")
    try:
        cur = conn.execute(
            f"INSERT OR IGNORE INTO transport_tasks ({_COLUMNS}) VALUES ({', '.join('?' * 18)})",
            tuple(row.as_dict().values()),
        )
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    return bool(cur.rowcount)


def _update(conn: sqlite3.Connection, changes: list[tuple[str, dict[str, Any]]]) -> None:
    conn.execute("BEGIN IMMEDIATE")
    try:
        for task_id, fields in changes:
            sets = ", ".join(f"{k} = ?" for k in fields)
            conn.execute(f"UPDATE transport_tasks SET {sets} WHERE task_id = ?", (*fields.values(), task_id))
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise


def _ending_op(conn: sqlite3.Connection, task_id: str) -> str | None:
    """The kind of an op already recorded for how this task ended (a move, or a failure), if any."""
    row = conn.execute(
        "SELECT kind FROM journal WHERE (kind = 'move' AND json_extract(body, '$.payload.task_id') = ?)"
        " OR (kind = 'exception' AND json_extract(body, '$.payload.code') IN ('agv_task_failed', 'agv_load_stranded')"
        " AND substr(json_extract(body, '$.payload.detail'), 1, ?) = ?) LIMIT 1",
        (task_id, len(task_id) + 6, f"task {task_id}:"),
    ).fetchone()
    return None if row is None else str(row[0])


@dataclass
class _Seen:
    """What one AGV reported since the start: its loads (last report) and every action status seen."""

    loads: set[str]
    actions: dict[str, str]


class TransportService:
    """The accepted transport tasks of a gateway and their way through the fleet master."""

    def __init__(
        self,
        ctx: EdgeContext,
        master: FleetMaster | None = None,
        *,
        sync_seconds: float = 0.5,
        resume_timeout_s: float = 30.0,
        settle_s: float = 3.0,
        op_grace_s: float = 60.0,
    ) -> None:
        self.ctx = ctx
        self.master = master
        self.sync_seconds = sync_seconds
        self.resume_timeout_s = resume_timeout_s
        self.settle_s = settle_s
        self.log = ctx.log.bind(component="transport")
        self.resumed = asyncio.Event()
        self._live: dict[str, TransportTask] = {}
        self._seen: dict[str, _Seen] | None = {}  # None once resumed: the tap costs nothing after
        self._lock = asyncio.Lock()
        self._unrecorded: dict[str, float] = {}
        self.op_grace_s = op_grace_s

    # ---- what the master hears ----------------------------------------------------------------------

    def observe(self, direction: str, topic: str, payload: bytes) -> None:
        """The master's tap: until the resume is done, keep what every AGV reports (loads, actions)."""
        seen = self._seen
        if seen is None or direction != "in" or not topic.endswith("/state"):
            return
        try:
            body = orjson.loads(payload)
            serial = str(body["serialNumber"])
            loads = {str(x.get("loadId")) for x in body.get("loads") or [] if isinstance(x, dict)}
            actions = {str(a["actionId"]): str(a["actionStatus"]) for a in body.get("actionStates") or []}
        except (orjson.JSONDecodeError, KeyError, TypeError, AttributeError):
            return  # the master counts and logs bad messages
        entry = seen.setdefault(serial, _Seen(set(), {}))
        entry.loads = loads
        entry.actions.update(actions)

    # ---- accepting --------------------------------------------------------------------------------

    def get(self, task_id: str) -> TransportRow | None:
        rows = self.ctx.journal.read(_rows, "WHERE task_id = ?", (task_id,))
        return rows[0] if rows else None

    def rows(self, state: str | None = None) -> list[TransportRow]:
        if state is None:
            return self.ctx.journal.read(_rows)
        return self.ctx.journal.read(_rows, "WHERE state = ?", (state,))

    async def request(
        self,
        *,
        task_id: str,
        source: str,
        ref: str,
        sku: str,
        qty: int,
        from_location: str,
        to_location: str,
        lot: str = "",
        handling_unit: str = "",
        priority: int = 5,
    ) -> TransportRow:
        """Accept a task (once per ``task_id``: a repeat answers with the stored one) and submit it."""
        if self.master is None:
            raise TransportRefused("no AGV fleet on this gateway ([fleet] missing)")
        stations = self.master.graph.stations
        for name, loc in (("from_location", from_location), ("to_location", to_location)):
            if loc not in stations:
                raise TransportRefused(f"{name} {loc!r} is not a station on the AGV layout")
        if from_location == to_location:
            raise TransportRefused("from_location and to_location must differ")
        if sku not in self.ctx.master.skus or qty <= 0:
            raise TransportRefused(f"nothing known to carry: sku {sku!r}, qty {qty}")
        now = self.ctx.clock.now().isoformat()
        row = TransportRow(
            task_id, source, ref, handling_unit or task_id, sku, lot, qty, from_location, to_location, priority,
            "accepted", None, None, None, 0, "", now, now,
        )  # fmt: skip
        async with self._lock:
            if not await self.ctx.journal.write(_insert, row):
                stored = self.get(task_id)
                assert stored is not None
                return stored  # accepted before (a repeated request): the same task, not a second
            self.log.info("transport.accepted", task_id=task_id, source=source, ref=ref)
            await self._mirror_created(row)
            await self._submit(row)
        stored = self.get(task_id)
        assert stored is not None
        return stored

    async def request_from_rule(
        self, key: str, action: AgvTransport, fired: FiringContext, line: dict[str, Any] | None = None
    ) -> str:
        """A rule's ``agv_transport``: the load is the subject's stock line, or the one line at the source."""
        if line is None or line.get("location") != action.from_location:
            lines = [s for s in self.ctx.journal.stock(location=action.from_location, status="available") if s.qty > 0]
            if len(lines) != 1:
                raise ActionRefused(
                    f"cannot tell what to carry from {action.from_location!r}: {len(lines)} stock lines there"
                )
            line = {"sku": lines[0].sku, "lot": lines[0].lot, "qty": lines[0].qty}
        task_id = f"TR-{uuid.uuid5(NAMESPACE, f'transport|{key}').hex[:16]}"
        try:
            row = await self.request(
                task_id=task_id,
                source="rule",
                ref=key,
                sku=str(line["sku"]),
                lot=str(line.get("lot", "")),
                qty=int(line["qty"]),
                from_location=action.from_location,
                to_location=action.to_location,
                handling_unit=action.load,
                priority=action.priority,
            )
        except TransportRefused as exc:
            raise ActionRefused(str(exc)) from None
        return row.task_id

    async def from_command(self, body: TransportTaskCommand, command_id: str) -> TransportRow:
        return await self.request(
            task_id=body.task_id,
            source="cloud",
            ref=command_id,
            sku=body.sku,
            lot=body.lot,
            qty=body.qty,
            from_location=body.from_location,
            to_location=body.to_location,
            handling_unit=body.handling_unit,
            priority=body.priority,
        )

    async def _submit(self, row: TransportRow) -> None:
        """Hand the task to the master; a task it refuses fails here, with its op."""
        assert self.master is not None
        task = row.task()
        try:
            self.master.submit(task)
        except ValueError as exc:
            await self._end(row, "failed", f"refused by the fleet master: {exc}", self._failed_op(row, str(exc)))
            return
        self._live[row.task_id] = task
        await self.ctx.journal.write(_update, [(row.task_id, {"state": "submitted", "updated_at": self._now()})])

    # ---- goods-to-person putaways (floor-flow's transport hook) -------------------------------------

    async def from_putaway(self, command: TransportTaskCommand, task: dict[str, Any]) -> None:
        """``FloorFlow.transport``: a goods-to-person putaway becomes a transport under its task id. It
        never raises (the putaway's documents are being saved around it): a refusal is a failed task with
        its op."""
        try:
            await self.request(
                task_id=command.task_id,
                source="putaway",
                ref=str(task.get("receipt_id") or command.task_id),
                sku=command.sku,
                lot=command.lot,
                qty=command.qty,
                from_location=command.from_location,
                to_location=command.to_location,
                handling_unit=command.handling_unit,
                priority=command.priority,
            )
        except TransportRefused as exc:
            await self._refused(command, "putaway", str(task.get("receipt_id") or command.task_id), str(exc))

    async def adopt_waiting_putaways(self) -> int:
        """Putaways made while no fleet took them (``waiting_for_fleet``) become transports now."""
        from edge.floor.flow import floor_flow

        flow = floor_flow(self.ctx)
        adopted = 0
        for task_id, status, task in flow.docs("putaway", status="open"):
            if task.get("mode") != "agv" or task.get("transport") != "waiting_for_fleet":
                continue
            command = TransportTaskCommand(
                task_id=task_id,
                handling_unit=task_id,
                sku=task["sku"],
                qty=int(task["qty"]),
                lot=task.get("lot", ""),
                from_location=task["from_location"],
                to_location=task["location"],
            )
            await self.from_putaway(command, task)
            await flow.save(("putaway", task_id, status, {**task, "transport": "submitted"}))
            adopted += 1
        return adopted

    async def _refused(self, command: TransportTaskCommand, source: str, ref: str, reason: str) -> None:
        """A request that could not be accepted, kept as a failed task with its op (once per task id)."""
        now = self._now()
        row = TransportRow(
            command.task_id, source, ref, command.handling_unit, command.sku, command.lot, command.qty,
            command.from_location, command.to_location, command.priority, "failed", None, None, None, 0,
            f"refused: {reason}"[:500], now, now,
        )  # fmt: skip
        if await self.ctx.journal.write(_insert, row):
            await self.ctx.journal.append(self._failed_op(row, f"refused: {reason}"))
            self.log.warning("transport.refused", task_id=row.task_id, source=source, reason=reason)

    # ---- following the master ---------------------------------------------------------------------

    async def run(self) -> None:
        """Resume what a previous run left in flight, then copy the master's progress to the rows."""
        if not self.resumed.is_set():  # once per process: a part restarted by its supervisor goes on
            await self.resume()
            await self.adopt_waiting_putaways()
        while True:
            await self.sync()
            await self.ctx.clock.sleep(self.sync_seconds)

    async def sync(self) -> None:
        """Copy every live task's state (AGV, action ids, picked, ended) to its row."""
        async with self._lock:
            changes: list[tuple[str, dict[str, Any]]] = []
            rows = {
                r.task_id: r for r in self.ctx.journal.read(_rows, "WHERE state IN ('submitted', 'assigned', 'picked')")
            }
            for task_id, task in list(self._live.items()):
                row = rows.get(task_id)
                if row is None:
                    self._live.pop(task_id)
                    continue
                fields: dict[str, Any] = {}
                state = _FROM_FLEET[task.status]
                for name, value in (
                    ("state", state),
                    ("vehicle", task.vehicle or row.vehicle),
                    ("pick_action", task.pick_action or row.pick_action),
                    ("drop_action", task.drop_action or row.drop_action),
                    ("attempts", task.attempts),
                ):
                    if getattr(row, name) != value:
                        fields[name] = value
                if task.finished:
                    if not await self._ended_with_op(row, task):
                        fields.pop("state", None)  # not ended here until its op is journaled
                    else:
                        fields["reason"] = (task.history[-1][1] if task.history else state)[:500]
                        self._live.pop(task_id)
                        self._unrecorded.pop(task_id, None)
                        self.log.info("transport.ended", task_id=task_id, state=state, vehicle=task.vehicle)
                if fields:
                    fields["updated_at"] = self._now()
                    changes.append((task_id, fields))
            if changes:
                await self.ctx.journal.write(_update, changes)
                for task_id, fields in changes:
                    if "state" in fields:
                        await self._mirror(task_id, fields["state"], fields.get("reason", ""))
        await self._bridge_fleet_tasks()  # outside the lock: request takes it

    async def _ended_with_op(self, row: TransportRow, task: TransportTask) -> bool:
        """Whether the op of how the task ended is in the journal; the master records it just after
        publishing, so it may lag a sync. One that never comes (the journal refused it) is recorded here
        after ``op_grace_s``: a row is never marked ended without its op."""
        if self.ctx.journal.read(_ending_op, row.task_id) is not None:
            return True
        first = self._unrecorded.setdefault(row.task_id, self.ctx.clock.monotonic())
        if self.ctx.clock.monotonic() - first < self.op_grace_s:
            return False
        serial = task.vehicle or row.vehicle or "system"
        if task.status == TaskStatus.DONE:
            draft = task.move_op(serial, self.ctx.clock.now())
            draft = draft.model_copy(update={"op_id": uuid.uuid5(NAMESPACE, f"transport-done|{row.task_id}")})
        else:
            draft = self._failed_op(row, task.history[-1][1] if task.history else "failed", serial)
        try:
            await self.ctx.journal.append(draft)
        except OpRejected as exc:
            await self.ctx.journal.append(self._failed_op(row, f"its end was not recorded: {exc.message}", serial))
        return True

    async def resume(self) -> None:
        """Decide, from the AGVs' reports, what happens to each task a previous run left in flight."""
        try:
            pending = [r for r in self.ctx.journal.read(_rows) if r.open and r.task_id not in self._live]
            if not pending:
                return
            self.log.info("transport.resuming", tasks=len(pending))
            reached = await self._wait_for_reports(pending)
            seen = self._seen or {}
            for row in pending:
                await self._resume_one(row, seen, reached)
        finally:
            self._seen = None
            self.resumed.set()

    async def _wait_for_reports(self, pending: list[TransportRow]) -> bool:
        """Wait for the broker, then ``settle_s`` of reports, and for every task's own AGV (bounded)."""
        clock, waited = self.ctx.clock, 0.0
        if self.master is None:
            return False
        while not self.master.connected.is_set() and waited < self.resume_timeout_s:
            await clock.sleep(0.1)
            waited += 0.1
        if not self.master.connected.is_set():
            return False
        await clock.sleep(self.settle_s)
        waited += self.settle_s
        wanted = {r.vehicle for r in pending if r.vehicle}
        while wanted - set(self._seen or {}) and waited < self.resume_timeout_s:
            await clock.sleep(0.1)
            waited += 0.1
        return True

    async def _resume_one(self, row: TransportRow, seen: dict[str, _Seen], reached: bool) -> None:
        already = self.ctx.journal.read(_ending_op, row.task_id)
        if already is not None:  # the master recorded how it ended just before the crash
            ended: State = "done" if already == "move" else "failed"
            await self._end(row, ended, f"ended before the restart ({already} op found)", None)
            return
        dropped = next(
            (s for s, e in seen.items() if row.drop_action and e.actions.get(row.drop_action) == "FINISHED"), None
        )
        aboard = next((s for s, e in seen.items() if row.handling_unit in e.loads), None)
        picked = next(
            (s for s, e in seen.items() if row.pick_action and e.actions.get(row.pick_action) == "FINISHED"), None
        )
        if dropped is not None:
            draft = row.task().move_op(dropped, self.ctx.clock.now())
            draft = draft.model_copy(update={"op_id": uuid.uuid5(NAMESPACE, f"transport-done|{row.task_id}")})
            await self._end(row, "done", f"delivered by {dropped} before the restart (its drop finished)", draft)
        elif aboard is not None:
            reason = f"handling unit aboard {aboard} after the gateway restarted; its old order is stopped"
            draft = row.task().stranded_op(aboard, self.ctx.clock.now(), reason)
            draft = draft.model_copy(update={"op_id": uuid.uuid5(NAMESPACE, f"transport-fail|{row.task_id}")})
            await self._end(row, "failed", reason, draft)
        elif picked is not None:
            reason = f"picked by {picked} before the restart, now neither aboard nor dropped: load unaccounted for"
            await self._end(row, "failed", reason, self._failed_op(row, reason, picked))
        elif not reached:
            reason = f"the AGV fleet did not answer within {self.resume_timeout_s:g} s of the restart: state unknown"
            await self._end(row, "failed", reason, self._failed_op(row, reason))
        elif row.vehicle and row.vehicle not in seen:
            reason = f"{row.vehicle} did not report within {self.resume_timeout_s:g} s of the restart: state unknown"
            await self._end(row, "failed", reason, self._failed_op(row, reason, row.vehicle))
        else:  # no AGV carries it or delivered it: the load is where it was, and it is safe to send again
            self.log.info("transport.resubmitted", task_id=row.task_id, was=row.state, vehicle=row.vehicle)
            await self.ctx.journal.write(
                _update,
                [(row.task_id, {"reason": f"resumed after a restart (was {row.state}, nothing moved)"})],
            )
            async with self._lock:
                await self._submit(row)

    # ---- the floor's task list ------------------------------------------------------------------------

    async def _mirror_created(self, row: TransportRow) -> None:
        """The transport as a floor task (``transport``, assigned to the fleet), so it shows in the task
        list; a floor task that asked for it (the same id) is kept as it is."""
        try:
            await self.ctx.floor.create_task(
                TaskKind.TRANSPORT,
                task_id=row.task_id,
                assignee=FLEET,
                sku=row.sku,
                lot=row.lot,
                qty=row.qty,
                from_location=row.from_location,
                to_location=row.to_location,
                ref=f"{row.source}:{row.ref}"[:200],
                priority=min(9, max(1, row.priority)),
                note=f"AGV transport of {row.handling_unit}"[:500],
            )
        except (TaskError, OpRejected) as exc:  # the record stands; the list misses it, and the log says why
            self.log.warning("transport.task_not_mirrored", task_id=row.task_id, error=str(exc))

    async def _mirror(self, task_id: str, state: str, reason: str) -> None:
        """Move the floor task along: started once an AGV has it, done or failed when the transport ends."""
        floor = self.ctx.floor
        current = floor.task(task_id)
        if current is None or current.task.state in (TaskState.DONE, TaskState.CANCELLED, TaskState.FAILED):
            return
        try:
            if state in ("assigned", "picked") and current.task.state == TaskState.ASSIGNED:
                await floor.start(task_id)
            elif state == "done":
                await floor.complete(task_id, note=reason[:500] or None)
            elif state == "failed":
                await floor.fail(task_id, reason or "AGV transport failed")
        except (TaskError, OpRejected) as exc:
            self.log.warning("transport.task_not_moved", task_id=task_id, state=state, error=str(exc))

    async def _bridge_fleet_tasks(self) -> None:
        """Floor tasks given to the fleet (``assign`` to ``fleet``) become transports under their own id."""
        for t in self.ctx.floor.tasks(states=[TaskState.ASSIGNED], kind=TaskKind.TRANSPORT, assignee=FLEET):
            task = t.task
            if self.get(task.task_id) is not None:
                continue
            try:
                if not (task.sku and task.qty and task.from_location and task.to_location):
                    raise TransportRefused("a fleet task needs sku, qty, from_location and to_location")
                await self.request(
                    task_id=task.task_id,
                    source="floor",
                    ref=task.ref or task.task_id,
                    sku=task.sku,
                    lot=task.lot,
                    qty=task.qty,
                    from_location=task.from_location,
                    to_location=task.to_location,
                    priority=task.priority,
                )
            except TransportRefused as exc:
                try:
                    await self.ctx.floor.fail(task.task_id, f"the AGV fleet cannot take it: {exc}")
                except (TaskError, OpRejected) as err:
                    self.log.warning("transport.task_not_moved", task_id=task.task_id, error=str(err))

    # ---- ending -----------------------------------------------------------------------------------

    def _failed_op(self, row: TransportRow, reason: str, serial: str | None = None) -> OpDraft:
        return OpDraft(
            op_id=uuid.uuid5(NAMESPACE, f"transport-fail|{row.task_id}"),
            payload=ExceptionPayload(
                code="agv_task_failed",
                detail=f"task {row.task_id}: {reason}"[:1000],
                location=row.from_location,
                ref=row.handling_unit,
            ),
            actor=f"device:{serial}" if serial else "system",
            device_id=serial,
            occurred_at=self.ctx.clock.now(),
        )

    async def _end(self, row: TransportRow, state: State, reason: str, op: OpDraft | None) -> None:
        if op is not None:
            try:
                await self.ctx.journal.append(op)
            except OpRejected as exc:  # a delivery the journal refuses (the stock moved since): say so
                self.log.error("transport.end_op_refused", task_id=row.task_id, code=exc.code, error=exc.message)
                await self.ctx.journal.append(self._failed_op(row, f"{reason}; its op was refused: {exc.message}"))
                state = "failed"
        await self.ctx.journal.write(
            _update, [(row.task_id, {"state": state, "reason": reason[:500], "updated_at": self._now()})]
        )
        await self._mirror(row.task_id, state, reason)
        self.log.info("transport.ended", task_id=row.task_id, state=state, reason=reason)

    def _now(self) -> str:
        now: datetime = self.ctx.clock.now()
        return now.isoformat()
