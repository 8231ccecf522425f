"""Outbound: orders, reservation, scanned picks, pack, outbound check and ship (then the carrier webhook).

- **Orders** come from the local API or the cloud's ``outbound_order`` command (``store_order``; the same
  order again is a no-op, another body under its id a conflict), or from the site file's
  ``[[outbound_orders]]``.
- **Reservation** holds available stock in storage locations as ``reserve`` ops: FEFO (earliest expiry
  first) for lot-tracked chilled and frozen goods, FIFO otherwise (the lot received first, then, within
  a lot, the slot whose stock was put away first; stock that came by other ops than this flow's
  putaways comes after, by location code). A line
  that cannot be covered leaves the order ``short`` (reserve again when stock arrives).
- **Waves** (``edge.floor.waves``) release reserved orders in batches with sequenced pick lists.
- **Pick confirmation**: the picker scans the location, then the item (GTIN or code) and its lot. The
  scan must match the order's next pick (in route order): a wrong location, item or lot is refused with a
  422 whose ``code`` the handheld beeps on (``wrong_location``, ``wrong_item``, ``wrong_lot``) and is
  recorded as an ``exception`` op. A pick moves reserved stock to the staging location (``pick`` op). A
  short pick (``short: true``) picks what was there, unreserves the rest at that location, opens one
  work order for it, and reserves the rest from other locations, re-planning the order's remaining picks.
- **Pack** records cartons (``pack`` ops; an SSCC from the site's GS1 prefix when the carton has none).
- **Outbound check**: every unit is scanned against the order; any difference blocks shipping
  (``check_mismatch``, recorded) until a check matches.
- **Ship**: ``ship`` ops per carton line, then the shipment goes to the carrier through the webhook
  outbox (``edge.floor.handoff``), delivered even across outages and restarts.
- **Transfers** to another warehouse come as the cloud's ``transfer_order`` command (``store_transfer``):
  kept as an order under the transfer's id (the destination as its customer) and worked like any other,
  reserve, wave, pick, pack, check; shipping it records, per carton line, ``unreserve`` at staging then
  ``transfer_out`` to the destination, so the stock is in transit under the transfer (the cloud's
  transfer moves to in transit when those ops sync).
"""

from __future__ import annotations

import uuid
from collections import Counter
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from edge.floor.flow import FloorError, FloorFlow
from edge.floor.storage import STORAGE_TYPES
from edge.floor.waves import order_picks
from edge.rules.events import ShortPick, WrongItem
from edge.store import webhooks as store
from edge.store.errors import OpRejected
from edge.store.journal import Journal
from sync.canonical import iso_utc
from sync.codes import Code
from sync.commands import OutboundOrderCommand, TransferOrderCommand
from sync.ops import (
    ExceptionPayload,
    PackLine,
    PackPayload,
    PickPayload,
    ReservePayload,
    ShipPayload,
    StockStatus,
    TransferOutPayload,
    UnreservePayload,
)

FEFO_CLASSES = frozenset({"chilled", "frozen"})


ACTOR = "Who acts, when the call has no operator session (a session's operator always wins)."


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ActorIn(_In):
    actor: str = Field(default="", max_length=64, description=ACTOR)


class PickIn(_In):
    """One pick confirmation: the location scanned, then the item and its lot."""

    location: Code = Field(description="The location label scanned first.")
    item: str = Field(min_length=1, max_length=64, description="The item scanned: GTIN or SKU code.")
    lot: str = Field(default="", max_length=64)
    qty: int = Field(ge=0, le=10**12, description="Units taken; 0 only with short (the slot was empty).")
    short: bool = Field(default=False, description="Fewer than expected were there: pick qty, find the rest.")
    device_id: str | None = Field(default=None, max_length=64)
    actor: str = Field(default="", max_length=64, description=ACTOR)
    request_id: uuid.UUID | None = Field(
        default=None,
        description="Idempotency key: a retry with it is answered as the first time, its ops recorded once.",
    )

    @model_validator(mode="after")
    def _something_or_short(self) -> PickIn:
        if self.qty == 0 and not self.short:
            raise ValueError("qty 0 is a short pick: set short")
        return self


class CartonIn(_In):
    sscc: str | None = Field(default=None, pattern=r"^\d{18}$", description="Default: a new SSCC of this site.")
    weight_g: int = Field(ge=0, le=10**9)
    lines: list[PackLine] = Field(min_length=1, max_length=1000)


class PackIn(_In):
    cartons: list[CartonIn] = Field(min_length=1, max_length=1000)
    actor: str = Field(default="", max_length=64, description=ACTOR)


class CheckUnit(_In):
    item: str = Field(min_length=1, max_length=64, description="GTIN or SKU code of one unit.")
    lot: str = Field(default="", max_length=64)


class CheckIn(_In):
    units: list[CheckUnit] = Field(max_length=100_000, description="Every unit scanned, one entry each.")
    actor: str = Field(default="", max_length=64, description=ACTOR)


class WaveIn(_In):
    carrier: str | None = Field(default=None, max_length=64)
    cut_off_before: datetime | None = None
    actor: str = Field(default="", max_length=64, description=ACTOR)


# ---- orders ----------------------------------------------------------------------------------------


def _order_doc(order: OutboundOrderCommand, source: str, transfer: dict[str, Any] | None = None) -> dict[str, Any]:
    return {
        **({"transfer": transfer} if transfer else {}),
        "id": order.id,
        "customer": order.customer,
        "carrier": order.carrier,
        "cut_off": iso_utc(order.cut_off) if order.cut_off else None,
        "lines": [ln.model_dump(mode="json") for ln in order.lines],
        "source": source,
        "reservations": [],
        "picks": [],
        "cartons": [],
    }


def _same_order(doc: dict[str, Any], order: OutboundOrderCommand, transfer: dict[str, Any] | None) -> bool:
    new = _order_doc(order, doc["source"], transfer)
    return all(doc.get(k) == new.get(k) for k in ("customer", "carrier", "cut_off", "lines", "transfer"))


async def store_transfer(journal: Journal, body: TransferOrderCommand) -> tuple[bool, str]:
    """Keep a transfer from this warehouse as an order under the transfer's id; (stored, reason)."""
    if body.from_warehouse != journal.warehouse:
        raise FloorError(
            422,
            "wrong_warehouse",
            f"transfer {body.transfer_id} leaves from {body.from_warehouse}, not this warehouse",
            "from_warehouse",
        )
    order = OutboundOrderCommand(
        id=body.transfer_id, customer=body.to_warehouse, carrier=body.carrier, lines=body.lines
    )
    transfer = {
        "transfer_id": body.transfer_id,
        "to_warehouse": body.to_warehouse,
        "eta": iso_utc(body.eta) if body.eta else None,
    }
    stored, reason = await store_order(journal, order, "cloud", transfer)
    return stored, reason.replace("order", "transfer", 1)


async def store_order(
    journal: Journal, order: OutboundOrderCommand, source: str, transfer: dict[str, Any] | None = None
) -> tuple[bool, str]:
    """Keep an order (from the API or a cloud command); (stored, reason). The same order again is a
    no-op; another body under a known id is refused (the cloud changes an order by cancelling it).
    ``transfer`` marks an order that is a transfer to another warehouse (``store_transfer``)."""
    for i, line in enumerate(order.lines):
        if line.sku not in journal.master.skus:
            raise FloorError(422, "unknown_sku", f"unknown SKU {line.sku!r}", f"lines.{i}.sku")
    found = journal.read(store.get_doc, "order", order.id)
    if found is not None:
        if _same_order(found[1], order, transfer):
            return False, f"order {order.id} is known already"
        raise FloorError(409, "order_conflict", f"order {order.id} exists with other content", "id")
    await journal.write(
        store.put_doc, "order", order.id, "new", _order_doc(order, source, transfer), iso_utc(journal.clock.now())
    )
    return True, f"order {order.id} with {len(order.lines)} lines stored"


def find_order(flow: FloorFlow, order_id: str) -> tuple[str, dict[str, Any]]:
    found = flow.doc("order", order_id)
    if found is not None:
        return found
    site = flow.ctx.master.outbound_orders.get(order_id)  # an order from the site file, seen the first time
    if site is not None:
        return "new", _order_doc(OutboundOrderCommand.model_validate(site.model_dump()), "site")
    raise FloorError(404, "not_found", f"no order {order_id!r}")


def view(status: str, order: dict[str, Any]) -> dict[str, Any]:
    return {**order, "status": status}


# ---- reservation -----------------------------------------------------------------------------------


def _candidates(flow: FloorFlow, sku: str, lot: str, exclude: set[str]) -> list[tuple[str, str, int]]:
    """Available (location, lot, qty) of ``sku`` in storage, in FEFO or FIFO order."""
    ctx = flow.ctx
    master = ctx.master
    lines = [
        s
        for s in ctx.journal.stock(warehouse=ctx.warehouse, sku=sku, status=StockStatus.AVAILABLE.value)
        if s.qty > 0
        and (not lot or s.lot == lot)
        and s.location not in exclude
        and s.location in master.locations
        and master.locations[s.location].type in STORAGE_TYPES
    ]
    lots = {s.lot: (flow.doc("lot", f"{sku}|{s.lot}") or ("", {}))[1] for s in lines}
    item = master.skus[sku]
    fefo = item.lot_tracked and item.temperature_class in FEFO_CLASSES

    def key(s: Any) -> tuple[str, int, int, str]:
        info = lots.get(s.lot, {})
        first = int(info.get("first_seq") or 10**18)
        expiry = str(info.get("expiry") or "9999-12-31") if fefo else ""
        slot = flow.doc("slot_age", f"{sku}|{s.lot}|{s.location}")
        age = int(slot[1]["seq"]) if slot else 10**18
        return (expiry, first, age, s.location)

    return [(s.location, s.lot, s.qty) for s in sorted(lines, key=key)]


async def _reserve_line(
    flow: FloorFlow,
    order: dict[str, Any],
    line: dict[str, Any],
    qty: int,
    actor: str,
    exclude: set[str],
    request_id: uuid.UUID | None = None,
) -> list[dict[str, Any]]:
    made = []
    for location, lot, available in _candidates(flow, line["sku"], line.get("lot", ""), exclude):
        if qty <= 0:
            break
        take = min(qty, available)
        try:
            await flow.record(
                ReservePayload(sku=line["sku"], lot=lot, location=location, qty=take, order_id=order["id"]),
                actor,
                fact=flow.fact(request_id, f"reserve:{line['line']}:{location}:{lot}"),
            )
        except OpRejected as exc:  # taken meanwhile by an op from elsewhere: the next location, and what is
            if exc.code != "insufficient_stock":  # reserved so far stays on the order's record
                raise
            continue
        made.append({"line": line["line"], "sku": line["sku"], "lot": lot, "location": location, "qty": take})
        qty -= take
    return made


async def reserve(flow: FloorFlow, order_id: str, actor: str) -> dict[str, Any]:
    """Reserve what every line still lacks; the order is ``reserved`` when all is covered, else ``short``."""
    async with flow.lock:
        status, order = find_order(flow, order_id)
        if status not in ("new", "short"):
            raise FloorError(409, "order_state", f"order {order_id} is {status}: nothing to reserve")
        shortfall = []
        for line in order["lines"]:
            have = sum(r["qty"] for r in order["reservations"] if r["line"] == line["line"])
            need = int(line["qty"]) - have
            if need > 0:
                made = await _reserve_line(flow, order, line, need, actor, set())
                order["reservations"] += made
                got = sum(r["qty"] for r in made)
                if got < need:
                    shortfall.append({"line": line["line"], "sku": line["sku"], "missing": need - got})
        order["shortfall"] = shortfall
        status = "short" if shortfall else "reserved"
        await flow.save(("order", order_id, status, order))
    return view(status, order)


# ---- picking ---------------------------------------------------------------------------------------


async def confirm_pick(flow: FloorFlow, order_id: str, req: PickIn) -> dict[str, Any]:
    """Check the scans against the order's next pick and record it (see the module's notes)."""
    ctx = flow.ctx
    async with flow.lock:
        if (done := flow.replay(req.request_id)) is not None:
            return done
        status, order = find_order(flow, order_id)
        if status != "released":
            raise FloorError(409, "order_state", f"order {order_id} is {status}, not released for picking")
        open_picks = sorted((p for p in order["picks"] if p["status"] == "open"), key=lambda p: p["seq"])
        if not open_picks:
            raise FloorError(409, "nothing_to_pick", f"order {order_id} has no open picks")
        pick = open_picks[0]
        ref = f"{order_id}/{pick['id']}"
        if req.location != pick["location"]:
            await flow.fire(
                WrongItem(
                    order_id=order_id,
                    expected=pick["location"],
                    scanned=req.location,
                    location=pick["location"],
                    check="location",
                    actor=req.actor,
                )
            )
            raise await flow.refused(
                "wrong_location",
                f"scanned {req.location}, the next pick of {order_id} is at {pick['location']}",
                actor=req.actor,
                location=req.location if req.location in ctx.master.locations else None,
                ref=ref,
            )
        sku = flow.sku_for_scan(req.item)
        if sku is None or sku.code != pick["sku"]:
            await flow.fire(
                WrongItem(
                    order_id=order_id,
                    expected=pick["sku"],
                    scanned=req.item,
                    location=pick["location"],
                    check="item",
                    actor=req.actor,
                )
            )
            raise await flow.refused(
                "wrong_item",
                f"scanned {req.item}, {pick['location']} should give {pick['sku']}",
                actor=req.actor,
                location=pick["location"],
                ref=ref,
            )
        if pick["lot"] and req.lot != pick["lot"]:
            await flow.fire(
                WrongItem(
                    order_id=order_id,
                    expected=pick["lot"],
                    scanned=req.lot or "-",
                    location=pick["location"],
                    check="lot",
                    actor=req.actor,
                )
            )
            raise await flow.refused(
                "wrong_lot",
                f"scanned lot {req.lot or '(none)'}, the pick is lot {pick['lot']}",
                actor=req.actor,
                location=pick["location"],
                ref=ref,
            )
        left = int(pick["qty"]) - int(pick["picked"])
        if req.qty > left:
            raise FloorError(422, "over_pick", f"pick {pick['id']} has {left} left, not {req.qty}", "qty")
        staging = flow.staging
        if req.qty:
            await flow.record(
                PickPayload(
                    sku=pick["sku"],
                    lot=pick["lot"],
                    from_location=pick["location"],
                    to_location=staging,
                    qty=req.qty,
                    order_id=order_id,
                ),
                req.actor,
                device_id=req.device_id,
                fact=flow.fact(req.request_id, "pick"),
            )
        pick["picked"] = int(pick["picked"]) + req.qty
        result: dict[str, Any] = {"pick": pick["id"], "picked": req.qty}
        if pick["picked"] >= int(pick["qty"]):
            pick["status"] = "done"
        elif req.short:
            await _short(flow, order, pick, req.actor, result, req.request_id)
        if not any(p["status"] == "open" for p in order["picks"]):
            status = "picked"
        answer = {**view(status, order), "result": result}
        await flow.save(("order", order_id, status, order), *flow.answered(req.request_id, answer))
        if status == "picked":
            await flow.finish_task(f"PICK-{order_id}", req.actor)
            await flow.open_task(
                f"PACK-{order_id}", "pack", actor=req.actor, ref=order_id, from_location=staging, note="pack and label"
            )
    return answer


async def _short(
    flow: FloorFlow,
    order: dict[str, Any],
    pick: dict[str, Any],
    actor: str,
    out: dict[str, Any],
    request_id: uuid.UUID | None,
) -> None:
    """A short pick: unreserve what is not there, one work order, and the rest reserved elsewhere."""
    missing = int(pick["qty"]) - int(pick["picked"])
    await flow.record(
        UnreservePayload(
            sku=pick["sku"], lot=pick["lot"], location=pick["location"], qty=missing, order_id=order["id"]
        ),
        actor,
        fact=flow.fact(request_id, "unreserve"),
    )
    pick["status"] = "short"
    await flow.fire(
        ShortPick(
            order_id=order["id"],
            sku=pick["sku"],
            lot=pick["lot"],
            location=pick["location"],
            wanted=int(pick["qty"]),
            picked=int(pick["picked"]),
            actor=actor,
        )
    )
    out["work_order_id"] = (
        None
        if flow.rules_open_work_orders("short_pick")
        else await flow.open_work_order(
            f"short_pick:{order['id']}:{pick['id']}",
            "short_pick",
            f"short pick: {missing} x {pick['sku']} lot {pick['lot'] or '-'} not at {pick['location']}"
            f" (order {order['id']})",
            actor=actor,
            location=pick["location"],
        )
    )
    line = next(ln for ln in order["lines"] if ln["line"] == pick["line"])
    tried = {p["location"] for p in order["picks"] if p["status"] == "short"}
    made = await _reserve_line(flow, order, {**line, "lot": line.get("lot", "")}, missing, actor, tried, request_id)
    order["reservations"] += made
    n = len(order["picks"])
    for i, r in enumerate(made, 1):
        order["picks"].append({**r, "id": f"{order['id']}-P{n + i}", "picked": 0, "status": "open", "seq": 0})
    got = sum(r["qty"] for r in made)
    if got < missing:
        order.setdefault("shortfall", []).append({"line": line["line"], "sku": line["sku"], "missing": missing - got})
    order_picks(flow, order)  # re-plan the remaining picks along the layout
    out["replanned"] = [r["location"] for r in made]
    out["still_missing"] = missing - got


# ---- pack, check, ship -----------------------------------------------------------------------------


def _picked(order: dict[str, Any]) -> Counter[tuple[str, str]]:
    picked: Counter[tuple[str, str]] = Counter()
    for p in order["picks"]:
        if p["picked"]:
            picked[(p["sku"], p["lot"])] += int(p["picked"])
    return picked


async def pack(flow: FloorFlow, order_id: str, req: PackIn) -> dict[str, Any]:
    """Pack the picked goods into cartons: every picked unit in exactly one carton."""
    async with flow.lock:
        status, order = find_order(flow, order_id)
        if status != "picked":
            raise FloorError(409, "order_state", f"order {order_id} is {status}, not picked")
        packed: Counter[tuple[str, str]] = Counter()
        for carton in req.cartons:
            for line in carton.lines:
                packed[(line.sku, line.lot)] += line.qty
        picked = _picked(order)
        if packed != picked:
            diff = _diff(picked, packed)
            raise FloorError(422, "pack_mismatch", f"cartons differ from what was picked: {diff}", "cartons")
        cartons = []
        for carton in req.cartons:
            sscc = carton.sscc or flow.sscc(await flow.next_serial("sscc"))
            await flow.record(
                PackPayload(order_id=order_id, location=flow.staging, sscc=sscc, lines=list(carton.lines)), req.actor
            )
            cartons.append(
                {
                    "sscc": sscc,
                    "weight_g": carton.weight_g,
                    "lines": [ln.model_dump(mode="json") for ln in carton.lines],
                }
            )
        order["cartons"] = cartons
        await flow.save(("order", order_id, "packed", order))
        await flow.finish_task(f"PACK-{order_id}", req.actor)
        await flow.open_task(
            f"CHECK-{order_id}",
            "check",
            actor=req.actor,
            ref=order_id,
            from_location=flow.staging,
            note="scan every unit",
        )
    return view("packed", order)


def _diff(want: Counter[tuple[str, str]], got: Counter[tuple[str, str]]) -> str:
    parts = []
    for key in sorted(set(want) | set(got)):
        if want[key] != got[key]:
            parts.append(f"{key[0]} lot {key[1] or '-'}: expected {want[key]}, got {got[key]}")
    return "; ".join(parts)


async def check(flow: FloorFlow, order_id: str, req: CheckIn) -> dict[str, Any]:
    """Outbound check: the units scanned must be exactly what was picked; a difference blocks shipping."""
    async with flow.lock:
        status, order = find_order(flow, order_id)
        if status not in ("packed", "check_failed", "checked"):
            raise FloorError(409, "order_state", f"order {order_id} is {status}, not packed")
        picked = _picked(order)
        lots_of: dict[str, set[str]] = {}
        for code, lot in picked:
            lots_of.setdefault(code, set()).add(lot)
        scanned: Counter[tuple[str, str]] = Counter()
        for unit in req.units:
            item = flow.sku_for_scan(unit.item)
            code = item.code if item is not None else f"?{unit.item}"
            lots = lots_of.get(code, set())
            lot = unit.lot if unit.lot or len(lots) != 1 else next(iter(lots))
            scanned[(code, lot)] += 1
        diff = _diff(picked, scanned)
        order["check"] = {"by": req.actor, "units": len(req.units), "ok": not diff, "diff": diff}
        if diff:
            await flow.record(
                ExceptionPayload(code="check_mismatch", detail=diff[:1000], location=flow.staging, ref=order_id),
                req.actor,
            )
            await flow.save(("order", order_id, "check_failed", order))
            raise FloorError(409, "check_mismatch", f"order {order_id} does not match its scan: {diff}", "units")
        await flow.save(("order", order_id, "checked", order))
        await flow.finish_task(f"CHECK-{order_id}", req.actor)
    return view("checked", order)


def _leaving(
    order_id: str, order: dict[str, Any], sscc: str, line: dict[str, Any], staging: str
) -> list[tuple[str, ShipPayload | UnreservePayload | TransferOutPayload]]:
    """The ops (each with its fact key) by which one carton line leaves: ``ship`` to the customer, or
    for a transfer, out of the order's reservation and then on the road (``transfer_out``)."""
    key = f"{order_id}:{sscc}:{line['sku']}:{line['lot']}"
    stock = {"sku": line["sku"], "lot": line["lot"], "location": staging, "qty": line["qty"]}
    transfer = order.get("transfer")
    if not transfer:
        ship = ShipPayload(**stock, order_id=order_id, carrier=order["carrier"], sscc=sscc)
        return [(f"ship:{key}", ship)]
    out = TransferOutPayload(**stock, transfer_id=transfer["transfer_id"], to_warehouse=transfer["to_warehouse"])
    return [(f"unreserve:{key}", UnreservePayload(**stock, order_id=order_id)), (f"transfer_out:{key}", out)]


async def ship(flow: FloorFlow, order_id: str, actor: str) -> dict[str, Any]:
    """Ship a checked order: ``ship`` ops for every carton line, then the carrier's webhook."""
    ctx = flow.ctx
    async with flow.lock:
        status, order = find_order(flow, order_id)
        if status == "check_failed":
            raise FloorError(409, "check_failed", f"order {order_id} failed its outbound check: check it again")
        if status != "checked":
            raise FloorError(409, "not_checked", f"order {order_id} is {status}: only a checked order ships")
        staging = flow.staging
        ops = []
        transfer = order.get("transfer")
        for carton in order["cartons"]:
            for line in carton["lines"]:
                for fact, payload in _leaving(order_id, order, carton["sscc"], line, staging):
                    try:
                        op = await flow.record(payload, actor, fact=fact)
                        ops.append(str(op.op_id))
                    except OpRejected as exc:  # shipped before a crash, the order not yet marked: keep going
                        if exc.code != "op_id_conflict":
                            raise
        shipped_at = iso_utc(ctx.clock.now())
        shipment = {
            "order_id": order_id,
            "warehouse": ctx.warehouse,
            "gateway_id": ctx.gateway_id,
            "customer": order["customer"],
            "carrier": order["carrier"],
            "shipped_at": shipped_at,
            "cartons": order["cartons"],
            "total_weight_g": sum(int(c["weight_g"]) for c in order["cartons"]),
            "ship_ops": ops,
            **({"transfer_id": transfer["transfer_id"], "to_warehouse": transfer["to_warehouse"]} if transfer else {}),
        }
        order["shipment"] = shipment
        if ctx.webhooks is not None:
            order["webhook_id"] = await ctx.webhooks.enqueue("shipment.dispatched", shipment, key=order_id)
        await flow.save(("order", order_id, "shipped", order))
    return view("shipped", order)


OrderStatus = Literal["new", "short", "reserved", "released", "picked", "packed", "check_failed", "checked", "shipped"]
