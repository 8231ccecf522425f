"""Turning a group of drafts into the rows of one journal transaction: checks, seq, chain, stock deltas.

A plan needs three facts from the database: the chain head it builds on, which op_ids are already
stored, and the book quantity of the stock lines an op takes from. It reads them through a
``StoreView`` so that one planner serves two moments:

- ``TransactionView``: inside the write transaction (``BEGIN IMMEDIATE`` taken), the plain way;
- ``AheadView``: before that transaction, while the previous group's COMMIT (its fsync) is still
  running on the writer thread. It reads the committed database through a connection of its own and
  adds the predicted effect of the group in flight. The journal uses such a plan only if the chain
  head it was built on is still the head once the transaction begins (no other process appended
  meanwhile); otherwise it plans again inside the transaction. Planning ahead is what lets the
  Python work of one group overlap the disk work of the one before.

Stock lines are keyed here by plain tuples ``(sku, lot, location, status)`` (the journal holds one
warehouse): hashing a tuple is several times cheaper than hashing a dataclass, and this runs per op.
"""

from __future__ import annotations

import sqlite3
import typing
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from edge.store.errors import OpRejected
from edge.store.masterdata import MasterData
from sync.canonical import body_from_stored, iso_utc, iso_utc_many, seal_canonical, uuid_texts
from sync.ledger import stock_legs, stock_locations, stock_skus
from sync.ops import CountPayload, Op, OpDraft, OpKind, Payload, StockStatus

LineKey = tuple[str, str, str, str]
"""(sku, lot, location, status) of a stock line at the journal's warehouse."""

_SELECT_QTY = "SELECT qty FROM stock WHERE warehouse=? AND sku=? AND lot=? AND location=? AND status=?"
_AVAILABLE = StockStatus.AVAILABLE.value


def _one_sku_one_location() -> frozenset[type]:
    """Payload classes naming exactly one SKU (``sku``) and one location (``location``), both required:
    the planner checks those two fields directly instead of walking the generic field lists."""
    classes = typing.get_args(typing.get_args(Payload)[0])
    return frozenset(
        cls
        for cls in classes
        if all(name in cls.model_fields and cls.model_fields[name].is_required() for name in ("sku", "location"))
        and not {"from_location", "to_location"} & set(cls.model_fields)
    )


_ONE_SKU_ONE_LOCATION = _one_sku_one_location()
_KIND_TEXT = {k: k.value for k in OpKind}  # a dict lookup is cheaper than the enum's ``value`` property


JOURNAL_COLUMNS = (
    "seq",
    "op_id",
    "kind",
    "occurred_at",
    "recorded_at",
    "actor",
    "device_id",
    "body",
    "hash",
    "prev_hash",
    "flags",
)
STOCK_COLUMNS = ("warehouse", "sku", "lot", "location", "status", "qty")


@dataclass(slots=True)
class Plan:
    """One group's transaction, ready to write: the rows, the results to hand back, the new head."""

    base: tuple[int, str]  # the chain head (seq, hash) this plan follows
    head: tuple[int, str]  # the chain head after it
    values: list[Any] = field(default_factory=list)  # journal rows, flat: JOURNAL_COLUMNS after one another
    pending: dict[LineKey, int] = field(default_factory=dict)  # net stock deltas of the group
    results: list[Op | OpRejected] = field(default_factory=list)  # one per draft, in order
    new: dict[str, Op] = field(default_factory=dict)  # op_id text -> op, for ops this plan adds
    kinds: dict[str, int] = field(default_factory=dict)  # ops added per kind (metrics)
    flagged: int = 0  # ops kept with negative stock

    def stock_values(self, warehouse: str) -> list[Any]:
        """The stock deltas as flat rows of STOCK_COLUMNS (lines that net out to 0 left out)."""
        flat: list[Any] = []
        add = flat.extend
        for (sku, lot, location, status), qty in self.pending.items():
            if qty:
                add((warehouse, sku, lot, location, status, qty))
        return flat


class StoreView(Protocol):
    """What a plan reads from the database."""

    looks_up: bool
    """Whether ``stored`` looks in the database (else only in a group in flight; see ``TransactionView``)."""

    def stored(self, op_ids: list[str], *, always: bool = False) -> dict[str, Op]:
        """The ops among ``op_ids`` already journaled (an append retried); ``always`` looks in the
        database even in a view that does not otherwise."""
        ...

    def qty(self, key: LineKey) -> int:
        """The book quantity of a stock line before this plan."""
        ...


def _stored_ops(conn: sqlite3.Connection, op_ids: list[str]) -> dict[str, Op]:
    """Ops of ``op_ids`` already in the journal, found with one query per 500."""
    found: dict[str, Op] = {}
    for i in range(0, len(op_ids), 500):
        chunk = op_ids[i : i + 500]
        sql = f"SELECT op_id, body, hash FROM journal WHERE op_id IN ({','.join('?' * len(chunk))})"
        for op_id, text, hash_ in conn.execute(sql, chunk):
            found[op_id] = Op.model_validate(body_from_stored(text, hash_))
    return found


def read_qty(conn: sqlite3.Connection, warehouse: str, key: LineKey) -> int:
    """The book quantity of one stock line as ``conn`` sees it (0 for a line never stocked)."""
    row = conn.execute(_SELECT_QTY, (warehouse, *key)).fetchone()
    return int(row[0]) if row else 0


class TransactionView:
    """Reads inside the write transaction: exact, because nothing else can write until COMMIT.

    With ``look_up=False`` it takes every op_id to be new: for a writer that lets the unique index on
    op_id check that at insert, and plans again with ``look_up=True`` if it fails.
    """

    def __init__(self, conn: sqlite3.Connection, warehouse: str, *, look_up: bool = True) -> None:
        self._conn = conn
        self._warehouse = warehouse
        self.looks_up = look_up

    def stored(self, op_ids: list[str], *, always: bool = False) -> dict[str, Op]:
        return _stored_ops(self._conn, op_ids) if self.looks_up or always else {}

    def qty(self, key: LineKey) -> int:
        return read_qty(self._conn, self._warehouse, key)


class AheadView:
    """The committed database (read on its own connection) plus the group whose COMMIT is running.

    Whether that group is already visible depends on whether its COMMIT finished before the read, so
    stock is read in one read transaction together with the chain head, and the group's deltas are
    added only if the head shows it is not in yet. Use as a context manager: the read transaction
    must not outlive the plan (it would hold back WAL checkpoints). ``look_up`` as for
    ``TransactionView``; the group in flight is always looked in.
    """

    def __init__(
        self, reader: sqlite3.Connection, warehouse: str, inflight: Plan | None, *, look_up: bool = True
    ) -> None:
        self._reader = reader
        self._warehouse = warehouse
        self._inflight = inflight
        self.looks_up = look_up
        self._add_inflight: bool | None = None  # decided at the first stock read

    def __enter__(self) -> AheadView:
        return self

    def __exit__(self, *exc: object) -> None:
        if self._add_inflight is not None:
            self._reader.execute("COMMIT")

    def stored(self, op_ids: list[str], *, always: bool = False) -> dict[str, Op]:
        found: dict[str, Op] = {}
        rest = op_ids
        if self._inflight is not None and self._inflight.new:
            new = self._inflight.new
            found = {i: new[i] for i in op_ids if i in new}
            rest = [i for i in op_ids if i not in found]
        if self.looks_up or always:
            found.update(_stored_ops(self._reader, rest))
        return found

    def qty(self, key: LineKey) -> int:
        if self._add_inflight is None:
            self._reader.execute("BEGIN")
            row = self._reader.execute("SELECT seq FROM journal ORDER BY seq DESC LIMIT 1").fetchone()
            seen = int(row[0]) if row else 0
            self._add_inflight = self._inflight is not None and seen < self._inflight.head[0]
        q = read_qty(self._reader, self._warehouse, key)
        if self._add_inflight:
            assert self._inflight is not None
            q += self._inflight.pending.get(key, 0)
        return q


class Planner:
    """The domain rules of an append, applied to a group of drafts against a ``StoreView``."""

    def __init__(self, *, gateway_id: str, warehouse: str, master: MasterData, allow_negative_stock: bool) -> None:
        self.gateway_id = gateway_id
        self.warehouse = warehouse
        self.master = master
        self.allow_negative_stock = allow_negative_stock

    def plan(self, drafts: list[OpDraft], base: tuple[int, str], view: StoreView, recorded_at: datetime) -> Plan:
        """Check, number, seal and net out ``drafts`` after ``base``.

        Refused ops take no seq and leave no trace; a draft whose op_id is already journaled (or
        appears earlier in the group) with the same content answers with the stored op.
        """
        plan = Plan(base=base, head=base)
        recorded = iso_utc(recorded_at)
        op_ids = uuid_texts([d.op_id for d in drafts])
        occurred_texts = iso_utc_many([d.occurred_at for d in drafts])
        stored = view.stored(op_ids)
        seq, head = base
        values, results, new, kinds = plan.values, plan.results, plan.new, plan.kinds
        add_row, gateway_id, check = values.extend, self.gateway_id, self._check
        refused: dict[int, str] = {}  # draft index -> op_id, of drafts a rule refused
        for draft, op_id, occurred in zip(drafts, op_ids, occurred_texts, strict=True):
            dup = new.get(op_id) or stored.get(op_id)
            if dup is not None:
                results.append(_answer_retry(dup, draft, op_id))
                continue
            try:
                draft, flags = check(draft, plan.pending, view)
            except OpRejected as rej:
                refused[len(results)] = op_id
                results.append(rej)
                continue
            seq += 1
            prev = head
            text, head = seal_canonical(
                draft,
                gateway_id=gateway_id,
                seq=seq,
                prev_hash=prev,
                recorded_at=recorded,
                op_id=op_id,
                occurred_at=occurred,
            )
            kind = _KIND_TEXT[draft.payload.kind]
            add_row((seq, op_id, kind, occurred, recorded, draft.actor, draft.device_id, text, head, prev, flags))
            op = _trusted_op(draft, gateway_id, seq, recorded_at, prev, head)
            new[op_id] = op
            results.append(op)
            kinds[kind] = kinds.get(kind, 0) + 1
            if flags:
                plan.flagged += 1
        plan.head = (seq, head)
        if refused and not view.looks_up:
            # The unique index catches a retried op only if it is inserted again. A retry that a rule
            # now refuses (a pick whose stock its first attempt already took) is looked up here, so it
            # answers with the stored op (or op_id_conflict), as it would have with the lookup. Refused
            # drafts took no seq and no stock, so answering them differently changes nothing else.
            found = view.stored(list(refused.values()), always=True)
            for i, op_id in refused.items():
                if (dup := found.get(op_id)) is not None:
                    results[i] = _answer_retry(dup, drafts[i], op_id)
        return plan

    def _check(self, draft: OpDraft, pending: dict[LineKey, int], view: StoreView) -> tuple[OpDraft, str | None]:
        """Check one draft against master data and stock; fold its deltas into ``pending``."""
        payload = draft.payload
        if type(payload) in _ONE_SKU_ONE_LOCATION:  # the common shapes, without the generic walks below
            sku_code: str = payload.sku  # type: ignore[union-attr,assignment]
            location: str = payload.location  # type: ignore[union-attr,assignment]
            if sku_code not in self.master.skus:
                raise OpRejected("unknown_sku", f"unknown SKU {sku_code!r}", "payload.sku")
            if location not in self.master.locations:
                raise OpRejected("unknown_location", f"unknown location {location!r}", "payload.location")
        else:
            skus, locations = self.master.skus, self.master.locations
            for sku in stock_skus(payload):
                if sku not in skus:
                    raise OpRejected("unknown_sku", f"unknown SKU {sku!r}", "payload.sku")
            for loc in stock_locations(payload):
                if loc not in locations:
                    raise OpRejected("unknown_location", f"unknown location {loc!r}", "payload.location")
        if isinstance(payload, CountPayload):
            # The book is read at planning, against the database plus everything before this op, so the
            # delta is exact even if stock moved between the count and this commit.
            key = (payload.sku, payload.lot, payload.location, _AVAILABLE)
            book = view.qty(key) + pending.get(key, 0)
            if book != payload.book_qty:
                payload = payload.model_copy(update={"book_qty": book, "delta": payload.counted_qty - book})
                draft = draft.model_copy(update={"payload": payload})
        legs = stock_legs(payload)
        if not legs:
            return draft, None
        sku = payload.sku  # type: ignore[union-attr,assignment]  # every payload with legs has a SKU
        lot: str = payload.lot  # type: ignore[union-attr]
        if not lot and self.master.skus[sku].lot_tracked and any(qty > 0 for _, _, qty in legs):
            # stock of a lot-tracked SKU always carries its lot: a recall must be able to find every unit
            raise OpRejected("lot_required", f"SKU {sku!r} is lot-tracked: the op must name a lot", "payload.lot")
        keyed = [((sku, lot, loc, status), qty) for loc, status, qty in legs]
        flags: str | None = None
        for key, qty in keyed:
            if qty >= 0:  # adding stock needs no book: a receive reads nothing
                continue
            after = view.qty(key) + pending.get(key, 0) + qty
            if after < 0:
                if not self.allow_negative_stock:
                    raise OpRejected(
                        "insufficient_stock",
                        f"{key[3]} stock of {sku!r} lot {lot!r} at {key[2]!r} is {after - qty}, the op takes {-qty}",
                        "payload.qty",
                    )
                flags = "negative_stock"
        for key, qty in keyed:
            pending[key] = pending.get(key, 0) + qty
        return draft, flags


def _answer_retry(stored: Op, draft: OpDraft, op_id: str) -> Op | OpRejected:
    """What a draft whose op_id is journaled already gets: the stored op, if it is the same op."""
    if stored.payload != draft.payload:
        return OpRejected("op_id_conflict", f"op_id {op_id} was already used for another op", "op_id")
    return stored


_OP_FIELDS = frozenset(Op.model_fields)
_new_op = Op.__new__
_set = object.__setattr__


def _trusted_op(draft: OpDraft, gateway_id: str, seq: int, recorded_at: datetime, prev: str, head: str) -> Op:
    """Build the ``Op`` the journal just sealed without validating it again.

    Every field comes from an already validated draft or from the journal itself, and
    ``Op.model_construct`` costs a fifth of an append; this is the same construction without its
    defaults handling (every field is given).
    """
    fields = draft.__dict__
    payload = fields["payload"]
    op = _new_op(Op)
    _set(
        op,
        "__dict__",
        {
            "op_id": fields["op_id"],
            "gateway_id": gateway_id,
            "seq": seq,
            "kind": payload.kind,
            "payload": payload,
            "actor": fields["actor"],
            "device_id": fields["device_id"],
            "occurred_at": fields["occurred_at"],
            "recorded_at": recorded_at,
            "prev_hash": prev,
            "hash": head,
        },
    )
    _set(op, "__pydantic_fields_set__", _OP_FIELDS)
    _set(op, "__pydantic_extra__", None)
    _set(op, "__pydantic_private__", None)
    return op
