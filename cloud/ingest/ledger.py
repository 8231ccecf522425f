"""Applying ops' effects to the cloud ledger, set-based, and spotting discrepancies as they appear.

Deltas of a whole batch are summed per key first (they commute), then written with one multi-row
``INSERT .. ON CONFLICT DO UPDATE .. RETURNING`` per table, so a batch of 500 ops costs a handful of
statements whatever its size. The returned balances tell us which keys went negative and which
transfers no longer balance, without a second read.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from cloud.db.engine import dialect_insert
from cloud.db.schema import discrepancies, serials, stock_balance, transit, work_orders
from sync.ledger import TRANSIT_KINDS, effect_of, stock_legs
from sync.ops import Op, ReceivePayload

StockKeyT = tuple[str, str, str, str, str]  # warehouse, sku, lot, location, status
TransitKeyT = tuple[str, str, str]  # transfer_id, sku, lot


@dataclass
class Discrepancy:
    dkey: str
    kind: str
    warehouse: str
    sku: str | None
    detail: dict[str, Any]
    resolved: bool = False


@dataclass
class Applied:
    """What a batch did to the ledger: new balances of touched keys and the discrepancies seen."""

    balances: dict[StockKeyT, tuple[int, int]] = field(default_factory=dict)  # key -> (delta, new qty)
    transfers: list[dict[str, Any]] = field(default_factory=list)
    discrepancies: list[Discrepancy] = field(default_factory=list)
    recovered: set[str] = field(default_factory=set)  # negative-stock keys back at zero or above


@dataclass
class Deltas:
    """A batch's effects summed per key: pure Python, computed while the database stores the ops."""

    warehouse: str
    stock: Counter[StockKeyT] = field(default_factory=Counter)
    out_qty: Counter[TransitKeyT] = field(default_factory=Counter)
    in_qty: Counter[TransitKeyT] = field(default_factory=Counter)
    ends: dict[TransitKeyT, tuple[str, str]] = field(default_factory=dict)
    serials: dict[str, str] = field(default_factory=dict)


def sum_effects(new_ops: list[Op], warehouse: str) -> Deltas:
    """Sum a batch's deltas per key. Stock legs come as plain tuples (``stock_legs``, the hot part);
    transit, rarer, from ``effect_of``."""
    deltas = Deltas(warehouse)
    stock, out_qty, in_qty, ends = deltas.stock, deltas.out_qty, deltas.in_qty, deltas.ends
    for op in new_ops:
        payload = op.payload
        legs = stock_legs(payload)
        if legs:
            sku: str = payload.sku  # type: ignore[union-attr,assignment]  # every payload with legs has a SKU
            lot: str = payload.lot  # type: ignore[union-attr]
            for location, status, qty in legs:
                stock[(warehouse, sku, lot, location, status)] += qty
        if isinstance(payload, TRANSIT_KINDS):
            for t in effect_of(payload, warehouse).transit:
                tk = (t.transfer_id, t.sku, t.lot)
                ends.setdefault(tk, (t.from_warehouse, t.to_warehouse))
                if t.qty > 0:
                    out_qty[tk] += t.qty
                else:
                    in_qty[tk] -= t.qty
        elif isinstance(payload, ReceivePayload):
            for s in payload.serials:
                deltas.serials.setdefault(s, str(op.op_id))
    return deltas


def apply_deltas(conn: Connection, deltas: Deltas) -> Applied:
    """Write summed deltas with one upsert per table and collect the discrepancies they reveal."""
    applied = Applied()
    _apply_stock(conn, deltas.stock, applied)
    _apply_transit(conn, deltas.out_qty, deltas.in_qty, deltas.ends, applied)
    if deltas.serials:
        _check_serials(conn, deltas.serials, deltas.warehouse, applied)
    if applied.recovered:
        _close_recovered(conn, deltas.warehouse, applied)
    return applied


def apply_ops(conn: Connection, new_ops: list[Op], warehouse: str) -> Applied:
    return apply_deltas(conn, sum_effects(new_ops, warehouse))


def _close_recovered(conn: Connection, warehouse: str, applied: Applied) -> None:
    """Open negative-stock records whose balance is back: few per warehouse, so read them all."""
    d = discrepancies.c
    open_keys = conn.execute(
        sa.select(d.dkey).where(d.warehouse == warehouse, d.kind == "negative_stock", d.status == "open")
    ).scalars()
    take_recovered(open_keys, warehouse, applied)


def take_recovered(open_keys: Iterable[str], warehouse: str, applied: Applied) -> None:
    """Close, of the open negative-stock records ``open_keys``, those whose balance this batch brought back."""
    for dkey in open_keys:
        if dkey in applied.recovered:
            applied.discrepancies.append(Discrepancy(dkey, "negative_stock", warehouse, None, {}, resolved=True))


PG_OPEN_NEGATIVE_SQL = (
    "SELECT dkey FROM discrepancies WHERE warehouse = %s AND kind = 'negative_stock' AND status = 'open'"
)
"""``_close_recovered``'s read, for ingest's pipeline (sent with the upsert whenever a delta is positive:
only a positive delta can bring a balance back)."""

PG_STOCK_UPSERT = (
    "INSERT INTO stock_balance (warehouse, sku, lot, location, status, qty) "
    "SELECT * FROM unnest(%s::text[], %s::text[], %s::text[], %s::text[], %s::text[], %s::bigint[]) "
    "ON CONFLICT (warehouse, sku, lot, location, status) DO UPDATE SET qty = stock_balance.qty + EXCLUDED.qty "
    "RETURNING warehouse, sku, lot, location, status, qty"
)


def pg_stock_params(stock: Counter[StockKeyT]) -> tuple[list[Any], ...] | None:
    """``PG_STOCK_UPSERT``'s six array parameters (None when nothing changes), keys sorted: concurrent
    transactions touching the same rows then lock them in the same order (no deadlock)."""
    items = sorted((k, q) for k, q in stock.items() if q != 0)
    if not items:
        return None
    return (*([k[i] for k, _ in items] for i in range(5)), [q for _, q in items])


def _apply_stock(conn: Connection, stock: Counter[StockKeyT], applied: Applied) -> None:
    if conn.dialect.name == "postgresql":
        # one statement, six array parameters: no per-row SQL text for the driver to build or parse
        params = pg_stock_params(stock)
        if params is None:
            return
        result: Any = conn.exec_driver_sql(PG_STOCK_UPSERT, params)
    else:
        items = sorted((k, q) for k, q in stock.items() if q != 0)
        if not items:
            return
        ins = dialect_insert(conn, stock_balance)
        stmt = ins.on_conflict_do_update(
            index_elements=[c.name for c in stock_balance.primary_key],
            set_={"qty": stock_balance.c.qty + ins.excluded.qty},
        ).returning(*stock_balance.c)
        rows = [
            {"warehouse": k[0], "sku": k[1], "lot": k[2], "location": k[3], "status": k[4], "qty": q} for k, q in items
        ]
        result = conn.execute(stmt, rows)
    take_balances(result, stock, applied)


def take_balances(rows: Iterable[Sequence[Any]], stock: Counter[StockKeyT], applied: Applied) -> None:
    """Read the upsert's new balances: which keys went negative, which came back."""
    for warehouse, sku, lot, location, status, qty in rows:
        key = (warehouse, sku, lot, location, status)
        applied.balances[key] = (stock[key], qty)
        if qty < 0:
            applied.discrepancies.append(
                Discrepancy(
                    dkey=f"negative|{'|'.join(key)}",
                    kind="negative_stock",
                    warehouse=warehouse,
                    sku=sku,
                    detail={"lot": lot, "location": location, "status": status, "qty": qty},
                )
            )
        elif stock[key] > 0:
            applied.recovered.add(f"negative|{'|'.join(key)}")


def apply_rare(conn: Connection, deltas: Deltas, applied: Applied) -> None:
    """``apply_deltas``'s transit and serial parts (few batches have any)."""
    _apply_transit(conn, deltas.out_qty, deltas.in_qty, deltas.ends, applied)
    if deltas.serials:
        _check_serials(conn, deltas.serials, deltas.warehouse, applied)


def _apply_transit(
    conn: Connection,
    out_qty: Counter[TransitKeyT],
    in_qty: Counter[TransitKeyT],
    ends: dict[TransitKeyT, tuple[str, str]],
    applied: Applied,
) -> None:
    if not ends:
        return
    rows = [
        {
            "transfer_id": k[0],
            "sku": k[1],
            "lot": k[2],
            "from_warehouse": ends[k][0],
            "to_warehouse": ends[k][1],
            "out_qty": out_qty[k],
            "in_qty": in_qty[k],
        }
        for k in sorted(ends)
    ]
    ins = dialect_insert(conn, transit)
    stmt = ins.on_conflict_do_update(
        index_elements=[c.name for c in transit.primary_key],
        set_={
            "out_qty": transit.c.out_qty + ins.excluded.out_qty,
            "in_qty": transit.c.in_qty + ins.excluded.in_qty,
        },
    ).returning(*transit.c)
    for r in conn.execute(stmt, rows):
        row = dict(r._mapping)
        applied.transfers.append(row)
        if r.out_qty == 0 or r.in_qty == 0:
            continue  # only one side is in yet: nothing to compare
        dkey = f"transfer|{r.transfer_id}|{r.sku}|{r.lot}"
        if r.in_qty == r.out_qty:
            applied.discrepancies.append(Discrepancy(dkey, "transfer_short", r.to_warehouse, r.sku, {}, True))
            continue
        kind = "transfer_short" if r.in_qty < r.out_qty else "transfer_over"
        applied.discrepancies.append(
            Discrepancy(
                dkey,
                kind,
                r.to_warehouse,
                r.sku,
                {
                    "transfer_id": r.transfer_id,
                    "lot": r.lot,
                    "from_warehouse": r.from_warehouse,
                    "shipped": r.out_qty,
                    "received": r.in_qty,
                    "difference": r.in_qty - r.out_qty,
                },
            )
        )


def _check_serials(conn: Connection, seen: dict[str, str], warehouse: str, applied: Applied) -> None:
    rows = [{"serial": s, "warehouse": warehouse, "op_id": op_id} for s, op_id in sorted(seen.items())]
    conn.execute(dialect_insert(conn, serials).on_conflict_do_nothing(), rows)
    names = list(seen)
    for i in range(0, len(names), 500):
        clash = conn.execute(
            sa.select(serials).where(serials.c.serial.in_(names[i : i + 500]), serials.c.warehouse != warehouse)
        ).all()
        for r in clash:
            applied.discrepancies.append(
                Discrepancy(
                    dkey=f"serial|{r.serial}|{warehouse}",
                    kind="serial_in_two_warehouses",
                    warehouse=warehouse,
                    sku=None,
                    detail={
                        "serial": r.serial,
                        "first_warehouse": r.warehouse,
                        "first_op_id": r.op_id,
                        "op_id": seen[r.serial],
                    },
                )
            )


@dataclass(frozen=True, slots=True)
class _Known:
    id: int
    status: str


def record_discrepancies(conn: Connection, found: list[Discrepancy], now: datetime) -> list[dict[str, Any]]:
    """Upsert discrepancy records and open one supervisor work order for each new open one."""
    opened: list[dict[str, Any]] = []
    keys = list({d.dkey for d in found})
    known: dict[str, tuple[int, str]] = {}
    for i in range(0, len(keys), 500):
        for r in conn.execute(
            sa.select(discrepancies.c.dkey, discrepancies.c.id, discrepancies.c.status).where(
                discrepancies.c.dkey.in_(keys[i : i + 500])
            )
        ):
            known[r.dkey] = (r.id, r.status)
    for d in found:
        hit = known.get(d.dkey)
        existing = None if hit is None else _Known(*hit)
        if d.resolved:
            if existing is not None and existing.status == "open":
                conn.execute(
                    discrepancies.update()
                    .where(discrepancies.c.id == existing.id)
                    .values(status="resolved", updated_at=now)
                )
            continue
        detail = json.dumps(d.detail, sort_keys=True)
        if existing is not None:
            conn.execute(
                discrepancies.update()
                .where(discrepancies.c.id == existing.id)
                .values(detail=detail, status="open", kind=d.kind, updated_at=now)
            )
            continue
        did = conn.execute(
            discrepancies.insert()
            .values(
                dkey=d.dkey,
                kind=d.kind,
                warehouse=d.warehouse,
                sku=d.sku,
                detail=detail,
                status="open",
                created_at=now,
                updated_at=now,
            )
            .returning(discrepancies.c.id)
        ).scalar_one()
        conn.execute(
            work_orders.insert().values(
                discrepancy_id=did,
                warehouse=d.warehouse,
                assignee_role="supervisor",
                status="open",
                description=f"{d.kind.replace('_', ' ')}: {detail}",
                created_at=now,
            )
        )
        known[d.dkey] = (did, "open")
        opened.append({"id": did, "kind": d.kind, "warehouse": d.warehouse, "sku": d.sku, "detail": d.detail})
    return opened
