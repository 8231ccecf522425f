"""The rules runner: the active rule set evaluated on every committed op and floor event, and its actions done.

The journal is the runner's queue. It follows committed ops from a durable cursor (``meta``
``rules_cursor``, the way the sync agent follows the journal with ``wait_for_head``):

1. an op (or a floor event handed to ``fire``) is evaluated against the rule set in force; every
   firing becomes a ``rule_fired`` op naming the rule id, the rule set's hash and the actions with
   their templates filled. Its op id is derived from (rule id, subject), so the same rule on the same
   op fires once, whatever happens: a second attempt finds the first in the journal and adds nothing;
2. when the runner reaches a ``rule_fired`` op in the journal, it does its actions, each under a key
   derived from the firing (``<firing op id>/<action index>``): stock holds and releases are ops with
   op ids derived from that key, tasks and work orders are created with it as their idempotency key,
   transport tasks are accepted under an id derived from it, and notifications carry it;
3. the cursor moves past a ``rule_fired`` op only once its actions are done. Past ops that fired
   nothing it is saved at most every ``save_every`` ops (and when the runner stops): saving it after
   each op was a second fsync'd commit for every op the gateway journals (the 72-hour offline test ran
   at half speed), and the ops a crash makes it see again fire nothing new, by 1.

A crash anywhere in between restarts from the cursor: the subject is evaluated again (its firing is
found, not made again) and the firing's actions are done again, each of them idempotent, so nothing
is done twice and nothing is lost. The actions done are the ones the firing recorded, not those of a
rule set reloaded since.

An action whose part of the gateway is missing (no task model, no webhook outbox, no AGV fleet) is
refused, never dropped silently: an ``exception`` op (``rule_action_refused``) says which firing and
action, a log line and the ``wims_rules_actions_total{result="refused"}`` counter count it.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import hashlib
import uuid
import weakref
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import orjson
from prometheus_client import CollectorRegistry, Counter, Gauge
from pydantic import TypeAdapter

from edge.rules.actions import Action, AgvTransport, CreateTask, HoldStock, Notify, OpenWorkOrder, ReleaseStock
from edge.rules.coldchain import HoldLine
from edge.rules.engine import ActiveRules, Firing, RulesError, RuleSet, evaluate_all, load_rules, parse_rules
from edge.rules.events import Event
from edge.store.errors import JournalClosed, OpRejected
from edge.store.journal import StockLine
from edge.store.masterdata import MasterData
from sync.canonical import body_from_stored
from sync.commands import RuleSetCommand
from sync.ops import (
    ExceptionPayload,
    Op,
    OpDraft,
    OpKind,
    QcHoldPayload,
    QcReleasePayload,
    RuleFiredPayload,
    StockStatus,
    WorkOrderPayload,
)

if TYPE_CHECKING:
    import sqlite3

    from edge.context import EdgeContext

DEFAULT_RULES = Path(__file__).with_name("default.toml")
"""The built-in rule set, used when the site file names none (``[rules] file``)."""

NAMESPACE = uuid.UUID("6b3a43a4-5f0e-4c5e-9a53-3f3f6e0a7c11")
"""uuid5 namespace of the op ids the runner derives (firings, holds, releases, refusals)."""

CURSOR_KEY = "rules_cursor"
SYSTEM_ACTOR = "system"
MAX_CHAIN = 4
"""How many rules may fire one after another on ops made by rules (a rule on qc_hold that holds...)."""

_ACTION: TypeAdapter[Action] = TypeAdapter(Action)


@dataclass(frozen=True, slots=True)
class FiringContext:
    """What an action is done for: the firing op, its payload, and the key its effects are made under."""

    firing: Op | OpDraft
    payload: RuleFiredPayload
    index: int

    @property
    def key(self) -> str:
        return f"{self.firing.op_id}/{self.index}"

    @property
    def rule_id(self) -> str:
        return self.payload.rule_id


class FloorActions(Protocol):
    """Tasks and exception work orders (``edge.floor``): each call idempotent per ``key``."""

    async def create_task(self, key: str, action: CreateTask, fired: FiringContext) -> str:
        """Create (once per ``key``) the task the action asks for; returns the task id."""
        ...

    async def open_work_order(self, key: str, action: OpenWorkOrder, fired: FiringContext) -> str:
        """Open (once per ``key``) the work order the action asks for; returns the work order id."""
        ...


class Notifier(Protocol):
    """A durable webhook outbox: ``notify`` returns once the event is stored for delivery."""

    async def notify(self, event_type: str, payload: dict[str, Any]) -> None: ...


class TransportRequests(Protocol):
    """The record of accepted AGV transport tasks (``edge.floor.transport``)."""

    async def request_from_rule(
        self, key: str, action: AgvTransport, fired: FiringContext, line: dict[str, Any] | None = None
    ) -> str:
        """Accept (once per ``key``) a transport task carrying ``line`` (the subject's stock, if it has
        one); returns its task id."""
        ...


class ActionRefused(Exception):
    """The gateway cannot do this action (a part missing, a target unknown); recorded, not dropped."""


class _Metrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        self.firings = Counter("wims_rules_firings", "Rules fired (rule_fired ops made)", ["rule"], registry=registry)
        self.actions = Counter(
            "wims_rules_actions", "Rule actions done, by result", ["action", "result"], registry=registry
        )
        self.failures = Counter(
            "wims_rules_condition_failures", "Conditions that could not be evaluated", ["rule"], registry=registry
        )
        self.reloads = Counter("wims_rules_reloads", "Rule set reloads, by result", ["result"], registry=registry)
        self.lag = Gauge("wims_rules_lag_ops", "Committed ops the rules runner has not handled yet", registry=registry)


_METRICS: weakref.WeakKeyDictionary[CollectorRegistry, _Metrics] = weakref.WeakKeyDictionary()


def metrics_for(registry: CollectorRegistry) -> _Metrics:
    """One set of metrics per registry (a restarted runner in the same process reuses it)."""
    m = _METRICS.get(registry)
    if m is None:
        m = _METRICS[registry] = _Metrics(registry)
    return m


def subject_key(subject: Op | OpDraft | Event) -> str:
    """What a firing is per: ``op:<op_id>``, or an event's name and the digest of its fields."""
    if isinstance(subject, Event):
        digest = hashlib.sha256(subject.model_dump_json().encode()).hexdigest()[:32]
        return f"event:{subject.name}:{digest}"
    return f"op:{subject.op_id}"


def firing_op_id(rule_id: str, key: str) -> uuid.UUID:
    return uuid.uuid5(NAMESPACE, f"rule_fired|{rule_id}|{key}")


def _stock_line(subject: Op | OpDraft | Event) -> dict[str, Any] | None:
    """The subject's own stock line (sku, lot, location, qty), for actions of scope ``op``."""
    src: Any = subject if isinstance(subject, Event) else subject.payload
    sku, qty = getattr(src, "sku", None), getattr(src, "qty", None)
    location = getattr(src, "location", None) or getattr(src, "to_location", None)
    if not isinstance(sku, str) or not isinstance(location, str) or not isinstance(qty, int) or qty <= 0:
        return None
    return {"sku": sku, "lot": str(getattr(src, "lot", "") or ""), "location": location, "qty": qty}


def firing_draft(firing: Firing, subject: Op | OpDraft | Event, occurred_at: datetime) -> OpDraft:
    """The ``rule_fired`` op of a firing (its op id derived from the rule and the subject)."""
    key = subject_key(subject)
    actions = [a.model_dump(mode="json", exclude_none=True) for a in firing.actions]
    line = _stock_line(subject)
    if line is not None:
        actions = [
            {**a, "_line": line} if a["action"] in ("hold_stock", "release_stock", "agv_transport") else a
            for a in actions
        ]
    payload = RuleFiredPayload(
        rule_id=firing.rule_id,
        ruleset_hash=firing.ruleset_hash,
        on=firing.on,
        subject=key,
        subject_op_id=None if isinstance(subject, Event) else subject.op_id,
        actions=actions,
    )
    device = None if isinstance(subject, Event) else subject.device_id
    return OpDraft(
        op_id=firing_op_id(firing.rule_id, key),
        payload=payload,
        actor=SYSTEM_ACTOR,
        device_id=device,
        occurred_at=occurred_at,
    )


def _find_op(conn: sqlite3.Connection, op_id: uuid.UUID) -> Op | None:
    row = conn.execute("SELECT body, hash FROM journal WHERE op_id = ?", (str(op_id),)).fetchone()
    return None if row is None else Op.model_validate(body_from_stored(row[0], row[1]))


def _read_cursor(conn: sqlite3.Connection) -> int | None:
    row = conn.execute("SELECT value FROM meta WHERE key = ?", (CURSOR_KEY,)).fetchone()
    return None if row is None else int(row[0])


def _write_cursor(conn: sqlite3.Connection, seq: int) -> None:
    conn.execute("INSERT OR REPLACE INTO meta(key, value) VALUES (?, ?)", (CURSOR_KEY, str(seq)))


CLOUD_RULES_KEY = "rules_cloud"


def _read_cloud_rules(conn: sqlite3.Connection) -> str | None:
    row = conn.execute("SELECT value FROM meta WHERE key = ?", (CLOUD_RULES_KEY,)).fetchone()
    return None if row is None else str(row[0])


def _store_cloud_rules(conn: sqlite3.Connection, text: str) -> None:
    conn.execute("INSERT OR REPLACE INTO meta(key, value) VALUES (?, ?)", (CLOUD_RULES_KEY, text))


def _forget_cloud_rules(conn: sqlite3.Connection) -> None:
    conn.execute("DELETE FROM meta WHERE key = ?", (CLOUD_RULES_KEY,))


def cloud_rules_table(body: RuleSetCommand) -> dict[str, Any]:
    """A cloud ``rule`` command as a rules table: its actions name themselves with ``do``, the file's
    with ``action``; everything else is the same."""
    rules = []
    for spec in body.rules:
        rule = spec.model_dump(mode="json", exclude={"then"})
        then = []
        for a in spec.then:
            action = a.model_dump(mode="json")
            action["action"] = action.pop("do")
            then.append(action)
        rules.append({**rule, "then": then})
    return {"rules": rules}


class RulesRunner:
    """Runs the rule set in force on the gateway. ``await runner.run()`` until cancelled.

    ``floor``, ``notifier`` and ``transport`` are the parts that do tasks and work orders, webhooks and
    AGV transports; any left ``None`` makes its actions refused (recorded), not dropped.
    """

    def __init__(
        self,
        ctx: EdgeContext,
        *,
        path: Path | None = None,
        rules: ActiveRules | None = None,
        floor: FloorActions | None = None,
        notifier: Notifier | None = None,
        transport: TransportRequests | None = None,
        batch: int = 500,
        save_every: int = 1000,
    ) -> None:
        self.ctx = ctx
        self.path = path or ctx.config.rules.file or DEFAULT_RULES
        self.rules = rules or ActiveRules()
        self.floor = floor
        self.notifier = notifier
        self.transport = transport
        self.batch = batch
        self.save_every = save_every
        self._saved = 0  # the cursor as last written to the database
        self.metrics = metrics_for(ctx.registry)
        self.log = ctx.log.bind(component="rules")
        self.cursor = 0
        self._started = False
        self._depth: collections.OrderedDict[uuid.UUID, int] = collections.OrderedDict()
        self._lock = asyncio.Lock()
        self._moved = asyncio.Event()
        self.source = str(self.path)
        """Where the rule set in force came from: the rules file, or a cloud command."""
        if rules is None:
            self.rules.reload(self.path)  # a bad file at start-up is the operator's to fix: raises RulesError
            self._restore_cloud_rules()

    @property
    def current(self) -> RuleSet:
        return self.rules.current

    async def reload(self) -> RuleSet:
        """Load the rules file again; on any error the set in force stays (``RulesError`` raised).

        A rule set the cloud sent is replaced by the file's, here and at the next start: a reload is the
        site's own decision."""
        try:
            new = load_rules(self.path)
        except Exception as exc:
            self.metrics.reloads.labels("refused").inc()
            self.log.error("rules.reload_refused", file=str(self.path), error=str(exc), kept=self.current.hash)
            raise
        if self.source != str(self.path):
            await self.ctx.journal.write(_forget_cloud_rules)
            self.log.warning("rules.cloud_set_replaced", was=self.source, file=str(self.path))
        self.rules.current, self.source = new, str(self.path)
        self.metrics.reloads.labels("ok").inc()
        self.log.info("rules.reloaded", file=str(self.path), hash=new.hash, rules=len(new.rules))
        self._report()
        return new

    async def apply_cloud(self, body: RuleSetCommand, command_id: str) -> RuleSet:
        """Put a rule set the cloud sent in force, and keep it (it is the set in force after a restart,
        until a reload of the file); one with any error is refused whole (``RulesError``)."""
        table = cloud_rules_table(body)
        source = f"cloud command {command_id}"
        try:
            new = parse_rules(table, source)
        except RulesError:
            self.metrics.reloads.labels("refused").inc()
            raise
        stored = orjson.dumps({"source": source, **table}).decode()
        await self.ctx.journal.write(_store_cloud_rules, stored)
        self.rules.current, self.source = new, source
        self.metrics.reloads.labels("ok").inc()
        self.log.info("rules.cloud_set_applied", source=source, hash=new.hash, rules=len(new.rules))
        self._report()
        return new

    def _report(self) -> None:
        """The rule set in force, in the gateway's health."""
        self.ctx.health.set(
            "rules",
            "ok",
            f"{len(self.current.rules)} rules from {self.source}, hash {self.current.hash[:12]}",
            self.ctx.clock.now(),
            hash=self.current.hash,
        )

    def _restore_cloud_rules(self) -> None:
        stored = self.ctx.journal.read(_read_cloud_rules)
        if stored is None:
            return
        data = orjson.loads(stored)
        source = str(data.pop("source", "cloud"))
        try:
            self.rules.current = parse_rules(data, source)
        except RulesError as exc:  # written by another version: the file's set stays, and the log says why
            self.log.error("rules.cloud_set_unreadable", source=source, error=str(exc))
            return
        self.source = source

    # ---- the stream --------------------------------------------------------------------------------

    async def start(self) -> None:
        """Read the durable cursor; a journal the runner never saw starts at its head (no history fires)."""
        if self._started:
            return
        stored = self.ctx.journal.read(_read_cursor)
        if stored is None:
            stored = self.ctx.journal.head()[0]
            await self.ctx.journal.write(_write_cursor, stored)
        self.cursor = self._saved = stored
        self._started = True

    async def run(self) -> None:
        await self.start()
        self._report()
        try:
            while True:
                await self.catch_up()
                await self.ctx.journal.wait_for_head(self.cursor, timeout=5.0)
        finally:
            if self.cursor != self._saved:  # stopping: keep the place, so a restart reads nothing again
                with contextlib.suppress(Exception):
                    await asyncio.shield(self._save())

    async def _save(self) -> None:
        await self.ctx.journal.write(_write_cursor, self.cursor)
        self._saved = self.cursor

    async def catch_up(self) -> int:
        """Handle every committed op after the cursor; returns how many were handled."""
        await self.start()
        handled = 0
        async with self._lock:
            while entries := self.ctx.journal.entries(after=self.cursor, limit=self.batch):
                for entry in entries:
                    kind = entry.body.get("kind")
                    # only ops some rule is on are parsed: on a busy journal most are not
                    wrote = False
                    if kind == OpKind.RULE_FIRED.value or kind in self.current.by_on:
                        wrote = await self._handle(entry.op())
                    self.cursor = entry.seq
                    if wrote:  # a firing's actions are done: never do them again after a crash
                        await self._save()
                    handled += 1
                if self.cursor - self._saved >= self.save_every:
                    await self._save()
                self.metrics.lag.set(max(0, self.ctx.journal.head()[0] - self.cursor))
        self._moved.set()
        return handled

    async def settled(self, timeout: float = 10.0) -> None:
        """Wait until every op committed before the call is handled (actions included): tests, tools."""
        target = self.ctx.journal.head()[0]
        async with asyncio.timeout(timeout):
            while self.cursor < target:
                self._moved.clear()
                if self.cursor >= target:
                    break
                await self._moved.wait()

    async def _handle(self, op: Op) -> bool:
        """One committed op: a firing is done, anything else is evaluated. True if actions were done."""
        if isinstance(op.payload, RuleFiredPayload):
            await self._do_actions(op, op.payload)
            return True
        depth = self._depth.pop(op.op_id, 0)
        if depth >= MAX_CHAIN:
            self.log.warning("rules.chain_too_long", op_id=str(op.op_id), kind=op.kind.value, depth=depth)
            return False
        await self._evaluate(op, depth)
        return False

    async def _evaluate(self, subject: Op | Event, depth: int = 0) -> list[Op]:
        result = evaluate_all(self.current, subject)
        for failure in result.failures:
            self.metrics.failures.labels(failure.rule_id).inc()
            self.log.warning("rules.condition_failed", rule=failure.rule_id, error=failure.error)
        fired: list[Op] = []
        for firing in result.firings:
            draft = firing_draft(firing, subject, self.ctx.clock.now())
            existing = self.ctx.journal.read(_find_op, draft.op_id)
            if existing is not None:
                fired.append(existing)  # fired before a restart: its actions are done from the journal
                continue
            op = await self.ctx.journal.append(draft)
            self._remember(op.op_id, depth)
            self.metrics.firings.labels(firing.rule_id).inc()
            self.log.info("rules.fired", rule=firing.rule_id, on=firing.on, subject=draft.payload.subject)  # type: ignore[union-attr]
            fired.append(op)
        return fired

    async def fire(self, event: Event) -> list[Op]:
        """A floor event: evaluate it now and record its firings; their actions follow from the journal."""
        await self.start()  # the cursor first: a firing recorded before it is read must not be skipped
        return await self._evaluate(event)

    def _remember(self, op_id: uuid.UUID, depth: int) -> None:
        self._depth[op_id] = depth
        while len(self._depth) > 10_000:
            self._depth.popitem(last=False)

    # ---- actions -----------------------------------------------------------------------------------

    async def _do_actions(self, firing: Op, payload: RuleFiredPayload) -> None:
        depth = self._depth.pop(firing.op_id, 0) + 1
        for i, raw in enumerate(payload.actions):
            fc = FiringContext(firing, payload, i)
            body = {k: v for k, v in raw.items() if not k.startswith("_")}
            name = str(raw.get("action", "?"))
            try:
                action = _ACTION.validate_python(body)
                made = await self._do(action, fc, raw.get("_line"))
            except ActionRefused as exc:
                await self._refused(fc, name, str(exc))
                continue
            except OpRejected as exc:
                if exc.code == "op_id_conflict":  # done before a restart, with other quantities then
                    self.metrics.actions.labels(name, "done_before").inc()
                    continue
                self.metrics.actions.labels(name, "rejected").inc()
                self.log.warning(
                    "rules.action_rejected", rule=payload.rule_id, action=name, code=exc.code, error=exc.message
                )
                await self._refused(fc, name, f"refused by the journal: {exc.message}", count=False)
                continue
            except (asyncio.CancelledError, JournalClosed):
                raise
            except Exception as exc:
                self.metrics.actions.labels(name, "failed").inc()
                self.log.exception("rules.action_failed", rule=payload.rule_id, action=name)
                await self._refused(fc, name, f"failed: {type(exc).__name__}: {exc}", count=False)
                continue
            for op in made:
                self._remember(op.op_id, depth)
            self.metrics.actions.labels(name, "done").inc()

    async def _refused(self, fc: FiringContext, action: str, reason: str, *, count: bool = True) -> None:
        if count:
            self.metrics.actions.labels(action, "refused").inc()
            self.log.warning(
                "rules.action_refused", rule=fc.rule_id, action=action, reason=reason, firing=str(fc.firing.op_id)
            )
        draft = OpDraft(
            op_id=uuid.uuid5(NAMESPACE, f"refused|{fc.key}"),
            payload=ExceptionPayload(
                code="rule_action_refused",
                detail=f"rule {fc.rule_id!r} action {fc.index} ({action}): {reason}"[:1000],
                ref=str(fc.firing.op_id),
            ),
            actor=SYSTEM_ACTOR,
            device_id=fc.firing.device_id,
            occurred_at=self.ctx.clock.now(),
        )
        try:
            await self.ctx.journal.append(draft)
        except OpRejected:
            pass  # recorded before a restart with another reason: one record per action is enough

    async def _do(self, action: Action, fc: FiringContext, line: dict[str, Any] | None) -> Sequence[Op]:
        if isinstance(action, HoldStock):
            return await self._hold(action, fc, line)
        if isinstance(action, ReleaseStock):
            return await self._release(action, fc, line)
        if isinstance(action, CreateTask):
            if self.floor is None:
                raise ActionRefused("no task model on this gateway (edge.floor tasks are not running)")
            task_id = await self.floor.create_task(fc.key, action, fc)
            self.log.info("rules.task_created", rule=fc.rule_id, task_id=task_id)
            return []
        if isinstance(action, OpenWorkOrder):
            if self.floor is None:
                raise ActionRefused("no work orders on this gateway (edge.floor work orders are not running)")
            wo_id = await self.floor.open_work_order(fc.key, action, fc)
            self.log.info("rules.work_order_opened", rule=fc.rule_id, work_order_id=wo_id)
            return []
        if isinstance(action, Notify):
            notifier = self.notifier or self.ctx.webhooks  # the site's webhook outbox ([handoff]), if any
            if notifier is None:
                raise ActionRefused(f"no webhook outbox on this gateway: {action.webhook!r} not notified")
            await notifier.notify(action.event, self._notification(action, fc))
            return []
        if isinstance(action, AgvTransport):
            if self.transport is None:
                raise ActionRefused("no AGV fleet on this gateway ([fleet] missing or not running)")
            task_id = await self.transport.request_from_rule(fc.key, action, fc, line)
            self.log.info("rules.transport_requested", rule=fc.rule_id, task_id=task_id)
            return []
        raise ActionRefused(f"unknown action {type(action).__name__}")  # pragma: no cover - the union is closed

    def _notification(self, action: Notify, fc: FiringContext) -> dict[str, Any]:
        return {
            "id": str(uuid.uuid5(NAMESPACE, f"notify|{fc.key}")),  # the same on a redo: the outbox dedupes
            "webhook": action.webhook,
            "event": action.event,
            "message": action.message,
            "rule_id": fc.rule_id,
            "ruleset_hash": fc.payload.ruleset_hash,
            "on": fc.payload.on,
            "subject": fc.payload.subject,
            "gateway_id": self.ctx.gateway_id,
            "warehouse": self.ctx.warehouse,
            "occurred_at": fc.firing.occurred_at.isoformat(),
        }

    async def _append_all(self, drafts: list[OpDraft]) -> list[Op]:
        """Appended together (one group commit as a rule), each idempotent by its derived op id."""
        results = await asyncio.gather(*(self.ctx.journal.append(d) for d in drafts), return_exceptions=True)
        ops: list[Op] = []
        for r in results:
            if isinstance(r, Op):
                ops.append(r)
            elif isinstance(r, OpRejected) and r.code == "op_id_conflict":
                continue  # held or released before a restart (the line has changed since)
            elif isinstance(r, BaseException):
                raise r
        return ops

    async def _hold(self, action: HoldStock, fc: FiringContext, line: dict[str, Any] | None) -> list[Op]:
        view = JournalStock(self.ctx)
        lines = view.lines(action.scope, action.zone, action.location, line, StockStatus.AVAILABLE)
        return await self._append_all(hold_drafts(action, fc, lines, self.ctx.clock.now()))

    async def _release(self, action: ReleaseStock, fc: FiringContext, line: dict[str, Any] | None) -> list[Op]:
        view = JournalStock(self.ctx)
        lines = view.lines(action.scope, action.zone, action.location, line, StockStatus.QC_HOLD)
        return await self._append_all(release_drafts(action, fc, lines, self.ctx.clock.now()))


# ---- what actions record: pure, shared by the runner and the offline preview -------------------------


class StockView(Protocol):
    """Where stock lines come from: the journal, or a test's or a preview's table."""

    def lines(
        self, scope: str, zone: str | None, location: str | None, line: dict[str, Any] | None, status: StockStatus
    ) -> list[HoldLine]: ...


class SiteStock:
    """A site's master data and a stock reader (the journal's projection, live or read-only), as a
    ``StockView``: the gateway's runner and ``wims edge rules test`` read stock the same way."""

    def __init__(self, master: MasterData, read: Callable[[str, str], list[StockLine]]) -> None:
        self.master = master
        self.read = read  # (location, status) -> stock lines

    def lines(
        self, scope: str, zone: str | None, location: str | None, line: dict[str, Any] | None, status: StockStatus
    ) -> list[HoldLine]:
        """The stock lines an action of ``scope`` acts on, in ``status``."""
        if scope == "op":
            if line is None:
                raise ActionRefused("scope 'op' needs a subject with a stock line (sku, location, qty)")
            have = sum(
                s.qty for s in self.read(line["location"], status.value) if (s.sku, s.lot) == (line["sku"], line["lot"])
            )
            qty = min(int(line["qty"]), have)
            return [HoldLine(line["sku"], line["lot"], line["location"], qty)] if qty > 0 else []
        if scope == "zone":
            if not zone or zone not in self.master.zones:
                raise ActionRefused(f"unknown zone {zone!r}")
            locations = [loc.code for loc in self.master.locations_in_zone(zone)]
        else:
            if not location or location not in self.master.locations:
                raise ActionRefused(f"unknown location {location!r}")
            locations = [location]
        return [
            HoldLine(s.sku, s.lot, s.location, s.qty)
            for loc in locations
            for s in self.read(loc, status.value)
            if s.qty > 0
        ]


def JournalStock(ctx: EdgeContext) -> SiteStock:
    """The running gateway's stock view."""
    return SiteStock(
        ctx.master, lambda loc, status: ctx.journal.stock(warehouse=ctx.warehouse, location=loc, status=status)
    )


def effect_id(fc: FiringContext, what: str, *parts: str) -> uuid.UUID:
    """The op id of an effect of a firing's action: the same on a redo after a restart."""
    return uuid.uuid5(NAMESPACE, "|".join((what, fc.key, *parts)))


def hold_drafts(action: HoldStock, fc: FiringContext, lines: list[HoldLine], now: datetime) -> list[OpDraft]:
    """One ``qc_hold`` per line; after a temperature alarm each names the alarm (``alarm_op_id``)."""
    alarm = fc.payload.subject_op_id if fc.payload.on == OpKind.TEMP_ALARM.value else None
    return [
        OpDraft(
            op_id=effect_id(fc, "hold", h.sku, h.lot, h.location),
            payload=QcHoldPayload(
                sku=h.sku, lot=h.lot, location=h.location, qty=h.qty, reason=action.reason[:200], alarm_op_id=alarm
            ),
            actor=SYSTEM_ACTOR,
            device_id=fc.firing.device_id,
            occurred_at=now,
        )
        for h in lines
    ]


def release_drafts(action: ReleaseStock, fc: FiringContext, lines: list[HoldLine], now: datetime) -> list[OpDraft]:
    note = action.note or f"released by rule {fc.rule_id}"
    return [
        OpDraft(
            op_id=effect_id(fc, "release", h.sku, h.lot, h.location),
            payload=QcReleasePayload(
                sku=h.sku,
                lot=h.lot,
                location=h.location,
                qty=h.qty,
                to_status=StockStatus(action.to_status),
                note=note[:500],
            ),
            actor=SYSTEM_ACTOR,
            device_id=fc.firing.device_id,
            occurred_at=now,
        )
        for h in lines
    ]


def fact_key(fc: FiringContext) -> str:
    """The fact a rule's work order answers: this rule's action on this subject (one work order each)."""
    return f"rule:{fc.rule_id}:{fc.payload.subject}:{fc.index}"[:200]


def task_id_for(fc: FiringContext) -> str:
    """The id of the task a rule's action creates: the same on a redo, so it is created once."""
    return f"T-R-{effect_id(fc, 'task').hex[:24]}"


def work_order_draft(action: OpenWorkOrder, fc: FiringContext, now: datetime) -> OpDraft:
    """The ``work_order`` op a rule's ``open_work_order`` records (the preview's; the gateway opens it
    through ``ctx.floor``, which names it and keeps one per fact): routed to its role, due in its SLA."""
    return OpDraft(
        op_id=effect_id(fc, "work_order"),
        payload=WorkOrderPayload(
            work_order_id=f"WO-{effect_id(fc, 'work_order_id').hex[:20]}",
            action="open",
            wo_type=action.wo_type,
            zone=action.zone or None,
            location=action.location or None,
            assignee_role=action.role,
            description=action.description,
            ref_op_id=fc.payload.subject_op_id,
            fact_key=fact_key(fc),
            sla_due=now + timedelta(minutes=action.sla_minutes),
            level=0,
            ref=f"rule {fc.rule_id}",
        ),
        actor=SYSTEM_ACTOR,
        device_id=fc.firing.device_id,
        occurred_at=now,
    )


class FloorTasks:
    """The floor's task model and exception work orders (``ctx.floor``, ``edge.floor.service``) as the
    rules' ``FloorActions``: a task under an id derived from the firing, a work order per fact."""

    def __init__(self, ctx: EdgeContext) -> None:
        self.ctx = ctx

    async def create_task(self, key: str, action: CreateTask, fired: FiringContext) -> str:
        ctx = self.ctx
        zone = action.zone or None
        if zone is None and action.location and action.location in ctx.master.locations:
            zone = ctx.master.locations[action.location].zone
        row = await ctx.floor.create_task(
            action.task,
            task_id=task_id_for(fired),
            actor=SYSTEM_ACTOR,
            device_id=fired.firing.device_id,
            role=action.role,
            zone=zone,
            from_location=action.location or None,
            ref=f"rule {fired.rule_id}",
            priority=action.priority,
            note=action.note,
        )
        return row.task.task_id

    async def open_work_order(self, key: str, action: OpenWorkOrder, fired: FiringContext) -> str:
        zones, zone = self.ctx.master.zones, action.zone or None
        # one routed to the supervisor names the zone's supervisor, as the cold chain always did
        supervisor = zones[zone].supervisor if zone in zones and action.role == "supervisor" else None
        row = await self.ctx.floor.open_work_order(
            fact_key(fired),
            action.wo_type,
            role=action.role,
            sla=timedelta(minutes=action.sla_minutes),
            actor=SYSTEM_ACTOR,
            device_id=fired.firing.device_id,
            description=action.description,
            zone=action.zone or None,
            location=action.location or None,
            ref=f"rule {fired.rule_id}",
            ref_op_id=fired.payload.subject_op_id,
            assignee=supervisor,
        )
        return row.work_order_id


@dataclass(frozen=True, slots=True)
class Preview:
    """What one firing would record: its ``rule_fired`` op, the ops of its actions, and the rest in words."""

    firing: Firing
    op: OpDraft
    effects: list[OpDraft]
    notes: list[str]


def preview(ruleset: RuleSet, subject: Op | OpDraft | Event, stock: StockView, now: datetime) -> list[Preview]:
    """Offline: which rules fire on ``subject`` and what they would do, without a gateway.

    Holds, releases and work orders become the op drafts the runner would record (stock from
    ``stock``); tasks, notifications and transports are described. ``wims edge rules test`` prints it.
    """
    out: list[Preview] = []
    for firing in evaluate_all(ruleset, subject).firings:
        draft = firing_draft(firing, subject, now)
        payload = draft.payload
        assert isinstance(payload, RuleFiredPayload)
        op = draft
        effects: list[OpDraft] = []
        notes: list[str] = []
        for i, raw in enumerate(payload.actions):
            fc = FiringContext(op, payload, i)
            action = _ACTION.validate_python({k: v for k, v in raw.items() if not k.startswith("_")})
            line = raw.get("_line")
            try:
                if isinstance(action, HoldStock):
                    lines = stock.lines(action.scope, action.zone, action.location, line, StockStatus.AVAILABLE)
                    effects += hold_drafts(action, fc, lines, now)
                elif isinstance(action, ReleaseStock):
                    lines = stock.lines(action.scope, action.zone, action.location, line, StockStatus.QC_HOLD)
                    effects += release_drafts(action, fc, lines, now)
                elif isinstance(action, OpenWorkOrder):
                    effects.append(work_order_draft(action, fc, now))
                else:
                    notes.append(describe(action))
            except ActionRefused as exc:
                notes.append(f"{describe(action)}: refused: {exc}")
        out.append(Preview(firing, draft, effects, notes))
    return out


def describe(action: Action) -> str:
    """One line saying what an action would do (``wims edge rules test``)."""
    body = action.model_dump(mode="json", exclude_none=True, exclude_defaults=False)
    name = body.pop("action")
    return f"{name} " + orjson.dumps(body, option=orjson.OPT_SORT_KEYS).decode()
