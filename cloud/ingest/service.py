"""Ingest: a gateway's batch of ops, verified against its stored chain head and applied exactly once.

One transaction per batch: lock the gateway row (batches of one gateway serialise, any worker may take
any gateway), parse and sort each op into duplicate / new / quarantined against the head while the new
ones stream into a COPY (PostgreSQL), apply their summed deltas, record discrepancies and quarantine,
append one audit entry and emit one event.
"""

from __future__ import annotations

import contextlib
import itertools
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from cloud.audit.log import PG_HEAD_SQL, PG_INSERT_SQL, PG_LOCK_SQL
from cloud.audit.log import append as audit_append
from cloud.audit.log import entry as audit_entry
from cloud.db.engine import dialect_insert
from cloud.db.schema import gateways, ops, quarantine
from cloud.events.hub import PG_NOTIFY_SQL, EventBus
from cloud.ingest import outcomes
from cloud.ingest.batch import IngestResult, Parsed, Quarantined, Sorter, low_seqs, parse_batch, parse_one
from cloud.ingest.ledger import (
    PG_OPEN_NEGATIVE_SQL,
    PG_STOCK_UPSERT,
    Applied,
    Deltas,
    Discrepancy,
    apply_deltas,
    apply_rare,
    pg_stock_params,
    record_discrepancies,
    sum_effects,
    take_balances,
    take_recovered,
)
from cloud.planning.history import record_shipments
from cloud.transfers.machine import on_ops as transfer_ops
from sync.ops import GENESIS_HASH, Op, OpKind

_FACT_KINDS = outcomes.KINDS | {OpKind.SHIP, OpKind.TRANSFER_OUT, OpKind.TRANSFER_IN}
"""Kinds that matter beyond stock: command outcomes, work orders, shipments (demand), transfers."""

_OPS_COLUMNS = (
    "gateway_id",
    "seq",
    "op_id",
    "kind",
    "actor",
    "occurred_at",
    "prev_hash",
    "hash",
    "body",
    "received_at",
)


_PG_LOCK_GATEWAY = "SELECT warehouse, head_seq, head_hash FROM gateways WHERE gateway_id = %s FOR UPDATE"
_PG_SET_HEAD = "UPDATE gateways SET head_seq = %s, head_hash = %s WHERE gateway_id = %s"
_PG_PENDING_QUARANTINE = "SELECT 1 FROM quarantine WHERE gateway_id = %s AND NOT resolved LIMIT 1"
_PG_RESOLVE_QUARANTINE = "UPDATE quarantine SET resolved = true WHERE gateway_id = %s AND raw_hash = ANY(%s::text[])"
_PG_QUARANTINE_INSERT = (
    "INSERT INTO quarantine (gateway_id, seq, op_id, raw_hash, reason, body, received_at, resolved) "
    "VALUES (%s, %s, %s, %s, %s, %s, %s, %s) ON CONFLICT DO NOTHING"
)

_COPY_SQL = f"COPY ops ({', '.join(_OPS_COLUMNS)}) FROM STDIN"
_COPY_CHUNK = 50  # ops per write into the COPY stream: small enough for the server to start early

_EVENT_CHANGES = 60
"""Stock lines listed in one event (NOTIFY payloads are small); a viewer re-reads the rest from /v1/stock."""


class UnknownGateway(LookupError):
    pass


class Ingestor:
    """Stateless apart from its collaborators: any worker can ingest any gateway's batch."""

    def __init__(self, bus: EventBus) -> None:
        self.bus = bus

    def ingest(
        self, conn: Connection, gateway_id: str, bodies: list[dict[str, Any]], now: datetime, *, thorough: bool = False
    ) -> IngestResult:
        """Run inside the caller's transaction (``engine.begin()``).

        On PostgreSQL the ops are parsed and sorted one by one while the ones already sorted as new
        stream into a COPY, so the server stores them while Python validates the next: parsing is the
        largest cost per op, and this hides the COPY behind it. Duplicates are found by seq (the stored
        ops at the seqs the batch repeats). A new op reusing a stored op_id breaks the unique key: the
        caller then retries with ``thorough``, which looks op_ids up first and quarantines that op.
        """
        pg = conn.dialect.name == "postgresql"
        if pg:
            raw: Any = conn.connection.dbapi_connection
            with raw.pipeline():  # BEGIN and the lock in one round trip
                gw = raw.execute(_PG_LOCK_GATEWAY, (gateway_id,)).fetchone()
        else:
            gw = conn.execute(
                sa.select(gateways.c.warehouse, gateways.c.head_seq, gateways.c.head_hash)
                .where(gateways.c.gateway_id == gateway_id)
                .with_for_update()
            ).first()
        if gw is None:
            raise UnknownGateway(gateway_id)
        warehouse: str = gw[0]
        head_seq: int = gw[1]
        head_hash: str = gw[2]
        span = low_seqs(bodies, head_seq)
        by_seq = self._stored_by_seq(conn, gateway_id, span) if span else {}
        if pg and not thorough:
            sorter = Sorter(gateway_id, head_seq, head_hash, by_seq, {})
            deltas = self._stream(conn, gateway_id, warehouse, bodies, sorter, now)
        else:
            parsed = parse_batch(bodies, gateway_id)
            ids = [p.op_id for p in parsed if p.op is not None] if thorough else []
            sorter = Sorter(gateway_id, head_seq, head_hash, by_seq, self._stored_by_op_id(conn, ids))
            for p in parsed:
                sorter.take(p)
            deltas = self._insert(conn, gateway_id, warehouse, sorter.new, now)
        new, bad = sorter.new, sorter.bad
        result = IngestResult(acked_seq=sorter.head_seq, accepted=len(new), duplicates=sorter.duplicates)
        if pg:
            self._finish_pg(conn, gateway_id, warehouse, sorter, deltas, result, now)
            return result
        if new:
            conn.execute(
                gateways.update()
                .where(gateways.c.gateway_id == gateway_id)
                .values(head_seq=sorter.head_seq, head_hash=sorter.head_hash)
            )
            self._resolve_quarantine(conn, gateway_id, new)
            applied = apply_deltas(conn, deltas)
            alerts = self._gateway_facts(conn, gateway_id, warehouse, new, now)
            result.discrepancies = record_discrepancies(conn, applied.discrepancies + alerts, now)
            self._emit(conn, gateway_id, warehouse, result, applied.balances, applied.transfers)
        if bad:
            result.quarantined = self._quarantine(conn, gateway_id, bad, now)
        if new or result.quarantined:
            audit_append(conn, now=now, **_audit_fields(gateway_id, new, result))
        return result

    def _finish_pg(
        self,
        conn: Connection,
        gateway_id: str,
        warehouse: str,
        sorter: Sorter,
        deltas: Deltas,
        result: IngestResult,
        now: datetime,
    ) -> None:
        """The rest of the transaction on PostgreSQL, as the SQLite path does it but in three round trips
        instead of nine: the statements that do not wait for one another go out together (psycopg's
        pipeline mode; each still runs on its own, in order, with its own snapshot).

        1. new head, "anything quarantined pending?", the stock upsert, the open negative-stock records;
        2. (transit, serials and new discrepancies, when there are any, through SQLAlchemy as before)
           quarantine resolved and added, NOTIFY, the audit lock, then the audit head (a later
           statement than the lock, so it sees the entry of whoever held the lock before);
        3. the audit entry.
        Locks are taken in the same order as before (the audit lock last), so no new deadlock can arise.
        """
        raw: Any = conn.connection.dbapi_connection
        new, bad = sorter.new, sorter.bad
        applied = Applied()
        pending = False
        if new:
            params = pg_stock_params(deltas.stock)
            with raw.pipeline():
                raw.execute(_PG_SET_HEAD, (sorter.head_seq, sorter.head_hash, gateway_id))
                c_pending = raw.execute(_PG_PENDING_QUARANTINE, (gateway_id,))
                c_stock = raw.execute(PG_STOCK_UPSERT, params) if params else None
                lifts = params is not None and any(q > 0 for q in params[5])
                c_open = raw.execute(PG_OPEN_NEGATIVE_SQL, (warehouse,)) if lifts else None
                pending = c_pending.fetchone() is not None
                if c_stock is not None:
                    take_balances(c_stock.fetchall(), deltas.stock, applied)
                open_negative = [r[0] for r in c_open.fetchall()] if c_open is not None else []
            if deltas.ends or deltas.serials:
                apply_rare(conn, deltas, applied)
            if applied.recovered:
                take_recovered(open_negative, warehouse, applied)
            alerts = self._gateway_facts(conn, gateway_id, warehouse, new, now)
            result.discrepancies = record_discrepancies(conn, applied.discrepancies + alerts, now)
        rows, result.quarantined = self._quarantine_rows(gateway_id, bad, now)
        audit = bool(new or result.quarantined)
        with raw.pipeline():
            if pending:
                raw.execute(_PG_RESOLVE_QUARANTINE, (gateway_id, [p.raw_hash for p in new]))
            if rows:
                with raw.cursor() as cur:
                    cur.executemany(_PG_QUARANTINE_INSERT, rows)
            if new:
                raw.execute(PG_NOTIFY_SQL, self.bus.notify_params(self._event(gateway_id, warehouse, result, applied)))
            if audit:
                raw.execute(PG_LOCK_SQL)
                head = raw.execute(PG_HEAD_SQL).fetchone()
        if audit:
            prev_hash = head[0] if head is not None else GENESIS_HASH
            row = audit_entry(now=now, prev_hash=prev_hash, **_audit_fields(gateway_id, new, result))
            raw.execute(PG_INSERT_SQL, row)

    def _gateway_facts(
        self, conn: Connection, gateway_id: str, warehouse: str, new: list[Parsed], now: datetime
    ) -> list[Discrepancy]:
        """Command outcomes and the gateway's work orders (``cloud.ingest.outcomes``), shipped demand and transfer
        states; looked for in one pass over the batch's kinds."""
        rare = [p.op for p in new if p.op is not None and p.op.kind in _FACT_KINDS]
        if not rare:
            return []
        alerts, events = outcomes.gateway_facts(conn, gateway_id, warehouse, rare, now)
        for event in events:
            self.bus.emit(conn, event)
        # demand history (ship ops, per local day) and the transfer orders that transfer ops move
        record_shipments(conn, warehouse, rare)
        alerts += transfer_ops(conn, rare, now)
        return alerts

    @staticmethod
    def _stored_by_seq(conn: Connection, gateway_id: str, span: tuple[int, int]) -> dict[int, tuple[str, str]]:
        c = ops.c
        rows = conn.execute(
            sa.select(c.seq, c.op_id, c.hash).where(c.gateway_id == gateway_id, c.seq.between(span[0], span[1]))
        )
        return {r.seq: (r.op_id, r.hash) for r in rows}

    @staticmethod
    def _stream(
        conn: Connection, gateway_id: str, warehouse: str, bodies: list[dict[str, Any]], sorter: Sorter, now: datetime
    ) -> Deltas:
        """Parse, sort and COPY in one pass (PostgreSQL); the COPY opens at the first new op."""
        raw: Any = conn.connection.dbapi_connection
        with raw.cursor() as cur, contextlib.ExitStack() as stack:
            copy: Any = None
            pending: list[Parsed] = []
            for body in bodies:
                p = parse_one(body, gateway_id)
                if not sorter.take(p):
                    continue
                pending.append(p)
                if len(pending) >= _COPY_CHUNK:
                    copy = copy or stack.enter_context(cur.copy(_COPY_SQL))
                    copy.write(ops_copy_lines(gateway_id, pending, now).encode())
                    pending = []
            if pending:
                copy = copy or stack.enter_context(cur.copy(_COPY_SQL))
                copy.write(ops_copy_lines(gateway_id, pending, now).encode())
            # summed while the server finishes the last rows; the COPY ends when the stack closes
            return sum_effects([p.op for p in sorter.new if p.op is not None], warehouse)

    @staticmethod
    def _insert(conn: Connection, gateway_id: str, warehouse: str, new: list[Parsed], now: datetime) -> Deltas:
        """Store the new ops with one executemany (SQLite, and PostgreSQL's thorough retry)."""
        rows = []
        for p in new:
            op = p.op
            assert op is not None
            rows.append(
                {
                    "gateway_id": gateway_id,
                    "seq": op.seq,
                    "op_id": p.op_id,
                    "kind": op.kind.value,
                    "actor": op.actor,
                    "occurred_at": op.occurred_at,
                    "prev_hash": op.prev_hash,
                    "hash": op.hash,
                    "body": p.canonical,
                    "received_at": now,
                }
            )
        if rows:
            conn.execute(ops.insert(), rows)
        return sum_effects([p.op for p in new if p.op is not None], warehouse)

    @staticmethod
    def _stored_by_op_id(conn: Connection, ids: list[str]) -> dict[str, tuple[str, int, str]]:
        found: dict[str, tuple[str, int, str]] = {}
        if not ids:
            return found
        if conn.dialect.name == "postgresql":
            rows: Any = conn.exec_driver_sql(
                "SELECT op_id, gateway_id, seq, hash FROM ops WHERE op_id = ANY(%s::text[])", (ids,)
            )
            return {r[0]: (r[1], r[2], r[3]) for r in rows}
        for i in range(0, len(ids), 500):
            c = ops.c
            for r in conn.execute(sa.select(c.op_id, c.gateway_id, c.seq, c.hash).where(c.op_id.in_(ids[i : i + 500]))):
                found[r.op_id] = (r.gateway_id, r.seq, r.hash)
        return found

    @staticmethod
    def _resolve_quarantine(conn: Connection, gateway_id: str, new: list[Parsed]) -> None:
        """Ops parked earlier (say, after a gap) that have now been stored are no longer outstanding."""
        pending = conn.execute(
            sa.select(quarantine.c.id).where(quarantine.c.gateway_id == gateway_id, ~quarantine.c.resolved).limit(1)
        ).first()
        if pending is None:
            return
        raw_hashes = [p.raw_hash for p in new]
        for i in range(0, len(raw_hashes), 1000):
            conn.execute(
                quarantine.update()
                .where(quarantine.c.gateway_id == gateway_id, quarantine.c.raw_hash.in_(raw_hashes[i : i + 1000]))
                .values(resolved=True)
            )

    @classmethod
    def _quarantine(
        cls, conn: Connection, gateway_id: str, bad: list[tuple[Parsed, str]], now: datetime
    ) -> list[Quarantined]:
        rows, out = cls._quarantine_rows(gateway_id, bad, now)
        names = ("gateway_id", "seq", "op_id", "raw_hash", "reason", "body", "received_at", "resolved")
        conn.execute(
            dialect_insert(conn, quarantine).on_conflict_do_nothing(),
            [dict(zip(names, r, strict=True)) for r in rows],
        )
        return out

    @staticmethod
    def _quarantine_rows(
        gateway_id: str, bad: list[tuple[Parsed, str]], now: datetime
    ) -> tuple[list[tuple[Any, ...]], list[Quarantined]]:
        """Quarantine rows (in ``_PG_QUARANTINE_INSERT``'s column order) and what the answer reports."""
        rows = []
        out = []
        for p, reason in bad:
            op_id = str(p.op.op_id) if p.op else p.body.get("op_id")
            op_id = op_id[:64] if isinstance(op_id, str) else None
            body = p.canonical if p.op else repr(p.body)[:100_000]
            rows.append((gateway_id, p.seq, op_id, p.raw_hash, reason, body, now, False))
            out.append(Quarantined(p.seq, op_id, reason))
        return rows, out

    def _emit(
        self,
        conn: Connection,
        gateway_id: str,
        warehouse: str,
        result: IngestResult,
        balances: dict[tuple[str, str, str, str, str], tuple[int, int]],
        transfers: list[dict[str, Any]],
    ) -> None:
        applied = Applied(balances=balances, transfers=transfers)
        self.bus.emit(conn, self._event(gateway_id, warehouse, result, applied))

    @staticmethod
    def _event(gateway_id: str, warehouse: str, result: IngestResult, applied: Applied) -> dict[str, Any]:
        balances = applied.balances
        changes = [
            {
                "warehouse": k[0],
                "sku": k[1],
                "lot": k[2],
                "location": k[3],
                "status": k[4],
                "delta": d,
                "qty": q,
            }
            for k, (d, q) in itertools.islice(balances.items(), _EVENT_CHANGES)
        ]
        return {
            "type": "stock",
            "gateway_id": gateway_id,
            "warehouse": warehouse,
            "acked_seq": result.acked_seq,
            "accepted": result.accepted,
            "changes": changes,
            "changed_lines": len(balances),
            "truncated": len(balances) > len(changes),
            "transfers": [t["transfer_id"] for t in applied.transfers][:20],
            "discrepancies": [d["id"] for d in result.discrepancies][:50],
        }


def _audit_fields(gateway_id: str, new: list[Parsed], result: IngestResult) -> dict[str, Any]:
    return {
        "actor": f"gateway:{gateway_id}",
        "action": "ops.ingest",
        "target": f"gateway/{gateway_id}",
        "detail": {
            "accepted": result.accepted,
            "first_seq": new[0].op.seq if new and new[0].op else None,
            "acked_seq": result.acked_seq,
            "duplicates": result.duplicates,
            "quarantined": [q.seq for q in result.quarantined],
        },
    }


_COPY_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


def _wire_time(sent: Any, op: Op) -> str:
    """``occurred_at`` for COPY: the wire text itself when it has the one wire form (``iso_utc``, which
    PostgreSQL reads as is), else the parsed value formatted."""
    if isinstance(sent, str) and len(sent) == 27 and sent[10] == "T" and sent[26] == "Z":
        return sent
    return op.occurred_at.isoformat()


def _esc(text: str) -> str:
    # most texts have nothing to escape, and ``in`` is far cheaper than ``translate``
    if "\\" in text or "\t" in text or "\n" in text or "\r" in text:
        return text.translate(_COPY_ESCAPES)
    return text


def ops_copy_lines(gateway_id: str, new: list[Parsed], now: datetime) -> str:
    """The ops as COPY text, built in one pass: cheaper per row than the driver's generic row adapter.

    Only free text needs escaping: ``actor`` and the canonical body (JSON escapes control characters,
    but not its own backslashes, which COPY would read as escapes).
    """
    received = now.isoformat()
    lines = []
    for p in new:
        op = p.op
        assert op is not None
        lines.append(
            f"{gateway_id}\t{op.seq}\t{p.op_id}\t{op.kind.value}\t{_esc(op.actor)}\t"
            f"{_wire_time(p.body.get('occurred_at'), op)}\t{op.prev_hash}\t{op.hash}\t{_esc(p.canonical)}\t"
            f"{received}\n"
        )
    return "".join(lines)
