"""Inbound: receive against the ASN, QC, then putaway to a suggested location.

- **Receive** (scan or RFID read at the dock): the scanned item must be the ASN line's SKU (by code or
  GTIN), the lot the line's lot when it names one, and the quantity within what the line still expects.
  Goods are received on ``qc_hold`` at the dock: nothing is available before QC says so. A refused scan
  is an ``exception`` op and a 422 with a code the handheld beeps on.
- **QC**: ``pass`` releases the stock to available and creates the putaway tasks; ``hold`` keeps it
  frozen with a reason code (QC may pass or reject it later); ``reject`` writes it to ``damaged`` with a
  reason code and opens one work order for the receipt.
- **Putaway**: the engine (``edge.floor.putaway``) scores every storage location, counting stock on hand
  and every putaway suggested but not done, and splits the receipt over several locations when one does
  not take it all (one putaway task each). The operator confirms by scanning the location; a different
  one needs a reason code, must pass the same hard checks (temperature, hazmat, capacity, mixing), and is
  recorded as a ``putaway_override`` exception op beside the putaway op. On a goods-to-person site a
  putaway is handed to the AGV fleet as a transport task instead (``FloorFlow.transport``).

ASNs come from master data (the site file, or the cloud's ``master_data`` command) or from the local
API (``register_asn``, kept as a floor document).
"""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from edge.floor.flow import FloorError, FloorFlow
from edge.rules.events import QcResult, WrongItem
from sync.codes import Code
from sync.commands import TransportTaskCommand
from sync.masterdata import InboundOrder, OrderLine
from sync.ops import (
    FLEET,
    ExceptionPayload,
    PutawayPayload,
    QcReleasePayload,
    Qty,
    ReceivePayload,
    StockStatus,
)

ACTOR = "Who acts, when the call has no operator session (a session's operator always wins)."


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ReceiveIn(_In):
    """One scan (or RFID read) of goods against an ASN line."""

    asn_id: Code
    line: int = Field(ge=1, le=1_000_000)
    qty: Qty
    item: str | None = Field(
        default=None, min_length=1, max_length=64, description="What was scanned: the SKU's GTIN or code."
    )
    lot: str = Field(default="", max_length=64)
    expiry: str | None = Field(default=None, pattern=r"^\d{4}-\d{2}-\d{2}$", description="Best before (YYYY-MM-DD).")
    sscc: str | None = Field(default=None, pattern=r"^\d{18}$", description="The pallet's SSCC, when labelled.")
    location: Code | None = Field(default=None, description="Where it is received (default: the ASN's dock).")
    source: Literal["scan", "rfid", "manual"] = "scan"
    device_id: str | None = Field(default=None, max_length=64)
    actor: str = Field(default="", max_length=64, description=ACTOR)
    request_id: uuid.UUID | None = Field(
        default=None,
        description="Idempotency key: a retry with it is answered as the first time, its ops recorded once.",
    )

    @field_validator("expiry")
    @classmethod
    def _real_date(cls, v: str | None) -> str | None:
        if v is not None:
            date.fromisoformat(v)
        return v


class QcIn(_In):
    result: Literal["pass", "hold", "reject"]
    reason: str | None = Field(default=None, max_length=64, description="Reason code; needed to hold or reject.")
    note: str = Field(default="", max_length=500)
    actor: str = Field(default="", max_length=64, description=ACTOR)


class PutawayConfirmIn(_In):
    """The operator scanned ``location`` with the goods: the suggested one, or another with a reason."""

    location: Code
    qty: Qty | None = Field(default=None, description="Default: all of the task's quantity.")
    reason: str | None = Field(default=None, max_length=64, description="Reason code for another location.")
    actor: str = Field(default="", max_length=64, description=ACTOR)
    request_id: uuid.UUID | None = Field(
        default=None,
        description="Idempotency key: a retry with it is answered as the first time, its ops recorded once.",
    )


def find_asn(flow: FloorFlow, asn_id: str) -> InboundOrder:
    asn = flow.ctx.master.inbound_orders.get(asn_id)
    if asn is not None:
        return asn
    doc = flow.doc("asn", asn_id)
    if doc is None:
        raise FloorError(404, "unknown_asn", f"no ASN {asn_id!r}", "asn_id")
    return InboundOrder.model_validate(doc[1])


async def register_asn(flow: FloorFlow, asn: InboundOrder) -> dict[str, Any]:
    """An ASN posted to the local API (the cloud's come as master data)."""
    master = flow.ctx.master
    for i, line in enumerate(asn.lines):
        if line.sku not in master.skus:
            raise FloorError(422, "unknown_sku", f"unknown SKU {line.sku!r}", f"lines.{i}.sku")
    if asn.dock is not None and asn.dock not in master.locations:
        raise FloorError(422, "unknown_location", f"unknown location {asn.dock!r}", "dock")
    async with flow.lock:
        known = master.inbound_orders.get(asn.id) or (
            InboundOrder.model_validate(d[1]) if (d := flow.doc("asn", asn.id)) else None
        )
        if known is not None and known != asn:
            raise FloorError(409, "asn_conflict", f"ASN {asn.id!r} exists with other lines", "id")
        if known is None:
            await flow.save(("asn", asn.id, "open", asn.model_dump(mode="json")))
    return asn_view(flow, asn)


def asn_view(flow: FloorFlow, asn: InboundOrder) -> dict[str, Any]:
    received = _received(flow, asn.id)
    return {
        **asn.model_dump(mode="json"),
        "received": [{"line": ln.line, "qty": received.get(ln.line, 0), "expected": ln.qty} for ln in asn.lines],
    }


def _received(flow: FloorFlow, asn_id: str) -> dict[int, int]:
    out: dict[int, int] = {}
    for _, _, doc in flow.docs("receipt"):
        if doc["asn_id"] == asn_id:
            out[doc["line"]] = out.get(doc["line"], 0) + int(doc["qty"])
    return out


async def receive(flow: FloorFlow, req: ReceiveIn) -> dict[str, Any]:
    """Receive one scan against its ASN line, onto qc_hold at the dock; returns the receipt."""
    ctx = flow.ctx
    asn = find_asn(flow, req.asn_id)
    line: OrderLine | None = next((ln for ln in asn.lines if ln.line == req.line), None)
    if line is None:
        raise FloorError(422, "unknown_line", f"ASN {asn.id} has no line {req.line}", "line")
    ref = f"{asn.id}/{line.line}"
    async with flow.lock:
        if (done := flow.replay(req.request_id)) is not None:
            return done
        location = req.location or asn.dock or flow.location_of_type(ctx.config.floor.receiving_location, "dock")
        if location not in ctx.master.locations:
            raise await flow.refused(
                "unknown_location", f"unknown location {location!r}", actor=req.actor, location=None, ref=ref
            )
        if req.item is not None:
            sku = flow.sku_for_scan(req.item)
            if sku is None:
                raise await flow.refused(
                    "unknown_item", f"{req.item!r} is no known item", actor=req.actor, location=location, ref=ref
                )
            if sku.code != line.sku:
                await flow.fire(
                    WrongItem(expected=line.sku, scanned=sku.code, location=location, check="item", actor=req.actor)
                )
                raise await flow.refused(
                    "wrong_item",
                    f"scanned {sku.code}, ASN line {ref} is {line.sku}",
                    actor=req.actor,
                    location=location,
                    ref=ref,
                )
        sku = ctx.master.skus[line.sku]
        if line.lot and req.lot and req.lot != line.lot:
            raise await flow.refused(
                "wrong_lot",
                f"lot {req.lot}, ASN line {ref} is lot {line.lot}",
                actor=req.actor,
                location=location,
                ref=ref,
            )
        lot = req.lot or line.lot
        if sku.lot_tracked and not lot:
            raise FloorError(422, "lot_required", f"{sku.code} is lot-tracked: scan the lot", "lot")
        already = _received(flow, asn.id).get(line.line, 0)
        if already + req.qty > line.qty:
            raise await flow.refused(
                "over_receipt",
                f"ASN line {ref} expects {line.qty}, {already} received, {req.qty} more is too many",
                actor=req.actor,
                location=location,
                ref=ref,
            )
        op = await flow.record(
            ReceivePayload(
                sku=sku.code,
                lot=lot,
                location=location,
                qty=req.qty,
                status=StockStatus.QC_HOLD,
                asn_id=asn.id,
                asn_line=line.line,
                sscc=req.sscc,
                expiry=req.expiry,
            ),
            req.actor,
            device_id=req.device_id,
            fact=flow.fact(req.request_id, "receive"),
        )
        receipt_id = await flow.new_id("RCV")
        receipt = {
            "id": receipt_id,
            "asn_id": asn.id,
            "line": line.line,
            "sku": sku.code,
            "lot": lot,
            "qty": req.qty,
            "location": location,
            "expiry": req.expiry,
            "sscc": req.sscc,
            "source": req.source,
            "receive_op": str(op.op_id),
            "received_at": op.occurred_at.isoformat(),
            "putaways": [],
        }
        docs: list[tuple[str, str, str, dict[str, Any]]] = [("receipt", receipt_id, "awaiting_qc", receipt)]
        lot_key = f"{sku.code}|{lot}"
        if flow.doc("lot", lot_key) is None:  # first receipt of the lot: FIFO and FEFO order from here
            docs.append(
                ("lot", lot_key, "known", {"sku": sku.code, "lot": lot, "expiry": req.expiry, "first_seq": op.seq})
            )
        answer = {**receipt, "status": "awaiting_qc"}
        await flow.save(*docs, *flow.answered(req.request_id, answer))
        await flow.open_task(
            f"QC-{receipt_id}",
            "qc",
            actor=req.actor,
            role="supervisor",
            zone=ctx.master.locations[location].zone,
            sku=sku.code,
            lot=lot,
            qty=req.qty,
            from_location=location,
            ref=receipt_id,
        )
    return answer


def receipt(flow: FloorFlow, receipt_id: str) -> tuple[str, dict[str, Any]]:
    found = flow.doc("receipt", receipt_id)
    if found is None:
        raise FloorError(404, "not_found", f"no receipt {receipt_id!r}")
    return found


async def qc(flow: FloorFlow, receipt_id: str, req: QcIn) -> dict[str, Any]:
    """Decide QC on a receipt: pass (-> available, putaway tasks), hold, or reject (-> damaged, work order)."""
    ctx = flow.ctx
    async with flow.lock:
        status, doc = receipt(flow, receipt_id)
        if status not in ("awaiting_qc", "held"):
            raise FloorError(409, "qc_decided", f"receipt {receipt_id} is {status} already")
        reasons = ctx.config.floor.qc_reject_reasons
        if req.result != "pass" and req.reason not in reasons:
            raise FloorError(
                422, "reason_required", f"to {req.result}, give a reason code: one of {', '.join(reasons)}", "reason"
            )
        sku, lot, loc, qty = doc["sku"], doc["lot"], doc["location"], int(doc["qty"])
        doc["qc"] = {"result": req.result, "reason": req.reason, "note": req.note, "by": req.actor}
        await flow.fire(
            QcResult(
                sku=sku,
                lot=lot,
                location=loc,
                qty=qty,
                result=req.result,
                reason_code=req.reason or "",
                asn_id=doc["asn_id"],
                actor=req.actor,
            )
        )
        if req.result != "hold":
            await flow.finish_task(f"QC-{receipt_id}", req.actor)
        if req.result == "hold":
            await flow.record(
                ExceptionPayload(
                    code="qc_hold", detail=f"{req.reason}: {req.note}"[:1000], location=loc, ref=receipt_id
                ),
                req.actor,
            )
            await flow.save(("receipt", receipt_id, "held", doc))
            return {**doc, "status": "held"}
        to = StockStatus.AVAILABLE if req.result == "pass" else StockStatus.DAMAGED
        note = f"QC {req.result}" + (f": {req.reason}" if req.reason else "") + (f" - {req.note}" if req.note else "")
        await flow.record(
            QcReleasePayload(sku=sku, lot=lot, location=loc, qty=qty, to_status=to, note=note[:500]),
            req.actor,
        )
        if req.result == "reject":
            by_rules = flow.rules_open_work_orders("qc_result")
            doc["work_order_id"] = (
                None
                if by_rules
                else await flow.open_work_order(
                    f"qc_reject:{receipt_id}",
                    "qc_reject",
                    f"QC rejected {qty} x {sku} lot {lot or '-'} of ASN {doc['asn_id']} line {doc['line']}:"
                    f" {req.reason}",
                    actor=req.actor,
                    location=loc,
                )
            )
            await flow.save(("receipt", receipt_id, "rejected", doc))
            return {**doc, "status": "rejected"}
        tasks = await _make_putaways(flow, receipt_id, doc, req.actor)
        doc["putaways"] = [t["id"] for t in tasks]
        await flow.save(("receipt", receipt_id, "passed", doc), *(("putaway", t["id"], "open", t) for t in tasks))
    return {**doc, "status": "passed", "putaway_tasks": tasks}


async def _make_putaways(flow: FloorFlow, receipt_id: str, doc: dict[str, Any], actor: str) -> list[dict[str, Any]]:
    """Suggest locations (counting every open putaway) and hold them: one task per allocation."""
    from edge.floor.suggestion import Receipt

    engine = flow.putaway()
    suggestion = engine.suggest(Receipt(receipt_id, doc["sku"], int(doc["qty"]), doc["lot"]))
    mode = "agv" if flow.ctx.config.floor.goods_to_person else "person"
    tasks = []
    for n, alloc in enumerate(suggestion.allocations, 1):
        task_id = f"PA-{receipt_id}-{n}"
        engine.expect(task_id, alloc.location, doc["sku"], doc["lot"], alloc.qty)
        tasks.append(
            {
                "id": task_id,
                "receipt_id": receipt_id,
                "sku": doc["sku"],
                "lot": doc["lot"],
                "qty": alloc.qty,
                "done_qty": 0,
                "from_location": doc["location"],
                "location": alloc.location,
                "score": alloc.score,
                "reasons": list(alloc.reasons),
                "alternatives": [c.location for c in suggestion.alternatives if c.location != alloc.location][:4],
                "mode": mode,
            }
        )
    if suggestion.unplaced:
        doc["unplaced"] = suggestion.unplaced
        await flow.open_work_order(
            f"putaway_no_space:{receipt_id}",
            "putaway_no_space",
            f"no storage location takes {suggestion.unplaced} of {doc['qty']} x {doc['sku']} (receipt {receipt_id})",
            actor=actor,
            location=doc["location"],
        )
    for task in tasks:
        await flow.open_task(
            task["id"],
            "putaway",
            actor=actor,
            assignee=FLEET if mode == "agv" else None,
            zone=flow.ctx.master.locations[task["location"]].zone,
            sku=task["sku"],
            lot=task["lot"],
            qty=task["qty"],
            from_location=task["from_location"],
            to_location=task["location"],
            ref=receipt_id,
        )
        if mode == "agv":
            await _to_fleet(flow, task)
    return tasks


async def _to_fleet(flow: FloorFlow, task: dict[str, Any]) -> None:
    """Goods-to-person: the putaway becomes an AGV transport task (when the fleet's hook is installed)."""
    command = TransportTaskCommand(
        task_id=task["id"],
        handling_unit=task["id"],
        sku=task["sku"],
        qty=task["qty"],
        lot=task["lot"],
        from_location=task["from_location"],
        to_location=task["location"],
    )
    if flow.transport is None:
        task["transport"] = "waiting_for_fleet"  # picked up by the transport runner when the site has one
        return
    await flow.transport(command, task)
    task["transport"] = "submitted"


def suggest(flow: FloorFlow, sku: str, qty: int, lot: str = "") -> dict[str, Any]:
    """A suggestion without a hold, for a putaway the handheld records itself."""
    from edge.floor.suggestion import Receipt

    if sku not in flow.ctx.master.skus:
        raise FloorError(422, "unknown_sku", f"unknown SKU {sku!r}", "sku")
    suggestion = flow.putaway().suggest(Receipt("handheld", sku, qty, lot))
    ranked = [
        {"location": c.location, "fits": c.fits, "score": c.score, "reasons": list(c.reasons)}
        for c in suggestion.alternatives
    ]
    best = suggestion.allocations[0].location if suggestion.allocations else None
    return {"location": best, "suggestions": ranked, "unplaced": suggestion.unplaced}


def putaway_task(flow: FloorFlow, task_id: str) -> tuple[str, dict[str, Any]]:
    found = flow.doc("putaway", task_id)
    if found is None:
        raise FloorError(404, "not_found", f"no putaway task {task_id!r}")
    return found


async def confirm_putaway(flow: FloorFlow, task_id: str, req: PutawayConfirmIn) -> dict[str, Any]:
    """The operator put the goods at ``req.location``: a putaway op, and the override recorded if it is
    not the suggested location."""
    from edge.floor.suggestion import Receipt

    ctx = flow.ctx
    async with flow.lock:
        if (done := flow.replay(req.request_id)) is not None:
            return done
        status, task = putaway_task(flow, task_id)
        if status != "open":
            raise FloorError(409, "task_done", f"putaway {task_id} is {status}")
        left = int(task["qty"]) - int(task["done_qty"])
        qty = req.qty or left
        if qty > left:
            raise FloorError(422, "over_putaway", f"putaway {task_id} has {left} left, not {qty}", "qty")
        location = req.location
        if location not in ctx.master.locations:
            raise await flow.refused(
                "unknown_location", f"unknown location {location!r}", actor=req.actor, location=None, ref=task_id
            )
        override = location != task["location"]
        if override:
            reasons = ctx.config.floor.putaway_reasons
            if req.reason not in reasons:
                raise FloorError(
                    422,
                    "reason_required",
                    f"{location} is not the suggested {task['location']}: give a reason code ({', '.join(reasons)})",
                    "reason",
                )
            engine = flow.putaway()
            if location not in engine.index:
                raise await flow.refused(
                    "not_storage",
                    f"{location} is not a storage location",
                    actor=req.actor,
                    location=location,
                    ref=task_id,
                )
            problems = engine.check(Receipt(task_id, task["sku"], qty, task["lot"]), location, qty=qty)
            if problems:
                raise await flow.refused(
                    "putaway_refused",
                    f"{location}: {'; '.join(problems)}",
                    actor=req.actor,
                    location=location,
                    ref=task_id,
                )
        was_empty = ctx.journal.book_qty(task["sku"], location, task["lot"]) <= 0
        op = await flow.record(
            PutawayPayload(
                sku=task["sku"],
                lot=task["lot"],
                from_location=task["from_location"],
                to_location=location,
                qty=qty,
                task_id=task_id,
            ),
            req.actor,
            fact=flow.fact(req.request_id, "putaway"),
        )
        if override:
            await flow.record(
                ExceptionPayload(
                    code="putaway_override",
                    detail=f"suggested {task['location']}, put at {location}: {req.reason}",
                    location=location,
                    ref=task_id,
                ),
                req.actor,
                fact=flow.fact(req.request_id, "override"),
            )
            task.setdefault("overrides", []).append({"location": location, "qty": qty, "reason": req.reason})
        engine = flow.putaway()
        if engine.held(task_id):
            engine.done(task_id, location, qty)
        task["done_qty"] = int(task["done_qty"]) + qty
        docs: list[tuple[str, str, str, dict[str, Any]]] = []
        if was_empty:  # the stock at this slot is as old as this putaway (FIFO between slots of one lot)
            slot = f"{task['sku']}|{task['lot']}|{location}"
            docs.append(("slot_age", slot, "known", {"seq": op.seq, "at": op.occurred_at.isoformat()}))
        task.setdefault("ops", []).append(str(op.op_id))
        status = "done" if task["done_qty"] >= int(task["qty"]) else "open"
        if status == "done" and engine.held(task_id):
            engine.release(task_id)
        answer = {**task, "status": status}
        await flow.save(("putaway", task_id, status, task), *docs, *flow.answered(req.request_id, answer))
        if status == "done":
            await flow.finish_task(task_id, req.actor)
    return answer
