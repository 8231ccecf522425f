"""What inbound and outbound share on a running gateway: documents, the putaway engine, the layout, errors.

Stock only ever changes through ops in the journal; the floor's working state (receipts, putaway tasks,
orders, waves) is kept as documents in ``floor_docs`` (``edge.store.webhooks``), so it survives a
restart. Every change goes through one lock: a handheld's scan and a cloud command never interleave a
read-modify-write of the same order.

The putaway engine and the pick layout's geometry need numpy; they are built on first use, so a gateway
that does not receive or pick pays nothing for them (the start-up budget of tests/test_architecture.py).
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from edge.context import EdgeContext
from edge.floor.layout import PickGrid, parse_layout
from edge.floor.tasks import ACTIVE, TaskError
from edge.identity.current import actor_or
from edge.rules.events import Event
from edge.store import webhooks as store
from sync.canonical import iso_utc
from sync.codes import gtin_check_digit
from sync.commands import TransportTaskCommand
from sync.masterdata import Sku
from sync.ops import ExceptionPayload, Op, OpDraft, OpKind, Payload, TaskState, uuid7

if TYPE_CHECKING:
    from edge.floor.putaway import Putaway

_NAMESPACE = uuid.UUID("0d9b5c1e-51c4-4a8e-b7e5-2a3c6f9e8d70")
"""uuid5 namespace of ops recorded once per fact (a work order per short pick, per QC reject)."""


TransportHook = Callable[[TransportTaskCommand, dict[str, Any]], Awaitable[None]]
"""Hands a goods-to-person putaway to the AGV fleet as a transport task (the fleet's transport runner
installs it as ``FloorFlow.transport``); without one, the task waits as ``waiting_for_fleet``."""


class FloorError(Exception):
    """A floor request refused: ``status`` and a stable ``code`` (the handheld beeps on it), a sentence,
    and the body field it is about. The API answers it in the shared error shape."""

    def __init__(self, status: int, code: str, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.field = field

    def detail(self) -> dict[str, Any]:
        return {"code": self.code, "message": self.message, "field": self.field}


class FloorFlow:
    """The gateway's inbound and outbound state; one per gateway (``floor_flow(ctx)``)."""

    def __init__(self, ctx: EdgeContext) -> None:
        self.ctx = ctx
        self.lock = asyncio.Lock()
        self._grid: PickGrid | None = None
        self._putaway: Putaway | None = None
        self._putaway_shape = (0, 0)
        self.transport: TransportHook | None = None
        layout = ctx.config.layout
        self.layout = parse_layout(layout) if layout is not None else None

    # ---- documents -------------------------------------------------------------------------------

    def doc(self, kind: str, doc_id: str) -> tuple[str, dict[str, Any]] | None:
        return self.ctx.journal.read(store.get_doc, kind, doc_id)

    def docs(self, kind: str, status: str | None = None) -> list[tuple[str, str, dict[str, Any]]]:
        return self.ctx.journal.read(store.list_docs, kind, status=status, limit=100_000)

    async def save(self, *docs: tuple[str, str, str, dict[str, Any]]) -> None:
        await self.ctx.journal.write(store.put_docs, list(docs), iso_utc(self.ctx.clock.now()))

    def replay(self, request_id: uuid.UUID | None) -> dict[str, Any] | None:
        """The answer already given to a request with this idempotency key (``None``: not seen)."""
        if request_id is None:
            return None
        found = self.doc("request", str(request_id))
        return found[1]["response"] if found else None

    @staticmethod
    def answered(request_id: uuid.UUID | None, response: dict[str, Any]) -> list[tuple[str, str, str, dict[str, Any]]]:
        """The document that remembers a request's answer (saved with the request's other documents)."""
        return [] if request_id is None else [("request", str(request_id), "done", {"response": response})]

    @staticmethod
    def fact(request_id: uuid.UUID | None, role: str) -> str | None:
        """The once-only fact of one op of a request: a request retried after a crash (its op journaled,
        its documents not yet saved) records the same op again, which the journal answers with the
        stored one."""
        return None if request_id is None else f"req:{request_id}:{role}"

    async def next_serial(self, name: str) -> int:
        return int(await self.ctx.journal.write(store.next_serial, name, iso_utc(self.ctx.clock.now())))

    async def new_id(self, prefix: str) -> str:
        return f"{prefix}-{await self.next_serial(prefix):06d}"

    # ---- ops -------------------------------------------------------------------------------------

    async def record(
        self, payload: Payload, actor: str, *, device_id: str | None = None, fact: str | None = None
    ) -> Op:
        """Append one op; ``fact`` makes it once-only (its op id derives from it, so a replay answers
        with the stored op). Made through the API with an operator session, its actor is the session's
        operator, whatever ``actor`` the request named (``edge.identity.current``)."""
        draft = OpDraft(
            op_id=uuid.uuid5(_NAMESPACE, fact) if fact else uuid7(),
            payload=payload,
            actor=actor_or(actor),
            device_id=device_id,
            occurred_at=self.ctx.clock.now(),
        )
        return await self.ctx.journal.append(draft)

    async def refused(self, code: str, detail: str, *, actor: str, location: str | None, ref: str) -> FloorError:
        """Record a refused scan as an ``exception`` op and return the 422 to raise."""
        await self.record(ExceptionPayload(code=code, detail=detail[:1000], location=location, ref=ref[:200]), actor)
        return FloorError(422, code, detail)

    async def open_work_order(
        self, fact_key: str, wo_type: str, description: str, *, actor: str, location: str | None = None, ref: str = ""
    ) -> str:
        """One work order per fact (a short pick at a location, a QC reject), routed by its type to a role
        with an SLA (``ctx.floor``, ``edge.floor.workorders``); a second call for the fact changes nothing."""
        master = self.ctx.master
        zone = master.locations[location].zone if location in master.locations else None
        row = await self.ctx.floor.open_work_order(
            fact_key,
            wo_type,
            actor=actor,
            description=description[:1000],
            zone=zone,
            location=location,
            ref=(ref or fact_key)[:200],
        )
        return row.work_order_id

    # ---- tasks and rules ---------------------------------------------------------------------------

    async def open_task(
        self, task_id: str, kind: str, *, actor: str, assignee: str | None = None, **fields: Any
    ) -> None:
        """The floor task for a piece of this flow's work (``ctx.floor``: the handheld's task list), created
        once per ``task_id``. A refused step is logged, never the request's failure: the work itself is
        recorded by its ops."""
        try:
            await self.ctx.floor.create_task(kind, task_id=task_id, actor=actor, assignee=assignee, **fields)
        except TaskError as exc:
            self.ctx.log.warning("floor.task_refused", task_id=task_id, error=exc.message)

    async def finish_task(self, task_id: str, actor: str) -> None:
        """The work of a task was done (by ``actor``, through this flow): the task is done, assigned to the
        actor first if nobody had taken it."""
        floor = self.ctx.floor
        row = floor.task(task_id)
        if row is None or row.task.state not in ACTIVE:
            return
        try:
            if row.task.state is TaskState.OPEN:
                if actor not in self.ctx.master.operators:
                    await floor.cancel(task_id, f"done by {actor} outside the task list"[:500], actor=actor)
                    return
                await floor.assign(task_id, actor, actor=actor, check=False)
            await floor.complete(task_id, actor=actor)
        except TaskError as exc:
            self.ctx.log.warning("floor.task_refused", task_id=task_id, error=exc.message)

    def rules_open_work_orders(self, event: str) -> bool:
        """Whether the site's rules in force open a work order on ``event`` (``short_pick``, ``qc_result``,
        ``handoff_failed``): then the flow leaves the work order to them, so each fact gets exactly one,
        from one mechanism; a site without such a rule still gets one, from the flow."""
        runner = self.ctx.rules
        if runner is None:
            return False
        return any(
            rule.enabled and rule.on == event and any(getattr(a, "action", "") == "open_work_order" for a in rule.then)
            for rule in runner.rules.current.rules
        )

    async def fire(self, event: Event) -> None:
        """Hand a floor event to the rules runner (short pick, wrong item, QC result, failed hand-off)."""
        runner = self.ctx.rules
        if runner is None:
            return
        try:
            await runner.fire(event)
        except Exception:  # the floor's own ops stand; a rule that cannot fire is the rules' problem
            self.ctx.log.exception("floor.rules_fire_failed", floor_event=event.name)

    # ---- master data -----------------------------------------------------------------------------

    def sku_for_scan(self, item: str) -> Sku | None:
        """The SKU a scanned item names: its code, or a GTIN (8 to 14 digits)."""
        master = self.ctx.master
        if item in master.skus:
            return master.skus[item]
        if item.isdigit() and 8 <= len(item) <= 14:
            return master.sku_by_gtin(item)
        return None

    def location_of_type(self, configured: str | None, kind: str) -> str:
        if configured is not None:
            return configured
        for loc in self.ctx.master.locations.values():
            if loc.type == kind:
                return loc.code
        raise FloorError(409, "no_location", f"the site has no {kind} location (set it under [floor])")

    @property
    def staging(self) -> str:
        return self.location_of_type(self.ctx.config.floor.staging_location, "staging")

    def sscc(self, serial: int) -> str:
        """An SSCC for a carton packed here: extension 0, the site's GS1 company prefix, a serial."""
        prefix = self.ctx.config.floor.sscc_prefix
        body = f"0{prefix}{serial:0{16 - len(prefix)}d}"[:17]
        return body + gtin_check_digit(body)

    # ---- layout and putaway (numpy, built on first use) ------------------------------------------

    @property
    def grid(self) -> PickGrid | None:
        if self._grid is None and self.layout is not None:
            self._grid = PickGrid(self.layout)
        return self._grid

    def putaway(self) -> Putaway:
        """The putaway engine with what is on hand now and every open putaway counted as on its way."""
        from edge.floor.putaway import Putaway
        from edge.floor.storage import PutawaySku, storage_locations
        from edge.floor.velocity import velocity_classes

        master = self.ctx.master
        shape = (len(master.zones), len(master.locations))
        if self._putaway is None or shape != self._putaway_shape:  # built, or locations came from the cloud
            self._putaway_shape = shape
            picks = [str(e.body["payload"]["sku"]) for e in self.ctx.journal.entries(limit=100_000, kind=OpKind.PICK)]
            self._putaway = Putaway(
                storage_locations(master.zones.values(), master.locations.values(), grid=self.grid),
                [PutawaySku.from_sku(s) for s in master.skus.values()],
                velocity=velocity_classes(picks) if picks else None,
            )
            for doc_id, _, doc in self.docs("putaway", status="open"):
                left = int(doc["qty"]) - int(doc["done_qty"])
                if doc["location"] in self._putaway.index and left > 0:
                    self._putaway.expect(doc_id, doc["location"], doc["sku"], doc["lot"], left)
        engine = self._putaway
        for sku in master.skus.values():
            if sku.code not in engine.skus:
                engine.add_sku(PutawaySku.from_sku(sku))
        engine.set_stock(
            (line.location, line.sku, line.lot, line.qty)
            for line in self.ctx.journal.stock(warehouse=self.ctx.warehouse)
            if line.qty > 0 and line.location in engine.index
        )
        return engine


def floor_flow(ctx: EdgeContext) -> FloorFlow:
    """The gateway's ``FloorFlow`` (one per context, made on first use)."""
    if ctx.flow is None:
        ctx.flow = FloorFlow(ctx)
    flow: FloorFlow = ctx.flow
    return flow
