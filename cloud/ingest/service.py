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

from cloud.audit.log import append as audit_append
from cloud.db.engine import dialect_insert
from cloud.db.schema import gateways, ops, quarantine
from cloud.events.hub import EventBus
from cloud.ingest.batch import IngestResult, Parsed, Quarantined, Sorter, low_seqs, parse_batch, parse_one
from cloud.ingest.ledger import Deltas, apply_deltas, record_discrepancies, sum_effects
from sync.ops import Op

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
        gw = conn.execute(
            sa.select(gateways.c.warehouse, gateways.c.head_seq, gateways.c.head_hash)
            .where(gateways.c.gateway_id == gateway_id)
            .with_for_update()
        ).first()
        if gw is None:
            raise UnknownGateway(gateway_id)
        warehouse: str = gw.warehouse
        span = low_seqs(bodies, gw.head_seq)
        by_seq = self._stored_by_seq(conn, gateway_id, span) if span else {}
        streaming = conn.dialect.name == "postgresql" and not thorough
        if streaming:
            sorter = Sorter(gateway_id, gw.head_seq, gw.head_hash, by_seq, {})
            deltas = self._stream(conn, gateway_id, warehouse, bodies, sorter, now)
        else:
            parsed = parse_batch(bodies, gateway_id)
            ids = [p.op_id for p in parsed if p.op is not None] if thorough else []
            sorter = Sorter(gateway_id, gw.head_seq, gw.head_hash, by_seq, self._stored_by_op_id(conn, ids))
            for p in parsed:
                sorter.take(p)
            deltas = self._insert(conn, gateway_id, warehouse, sorter.new, now)
        new, bad = sorter.new, sorter.bad
        result = IngestResult(acked_seq=sorter.head_seq, accepted=len(new), duplicates=sorter.duplicates)
        if new:
            conn.execute(
                gateways.update()
                .where(gateways.c.gateway_id == gateway_id)
                .values(head_seq=sorter.head_seq, head_hash=sorter.head_hash)
            )
            self._resolve_quarantine(conn, gateway_id, new)
            applied = apply_deltas(conn, deltas)
            result.discrepancies = record_discrepancies(conn, applied.discrepancies, now)
            self._emit(conn, gateway_id, warehouse, result, applied.balances, applied.transfers)
        if bad:
            result.quarantined = self._quarantine(conn, gateway_id, bad, now)
        if new or result.quarantined:
            audit_append(
                conn,
                now=now,
                actor=f"gateway:{gateway_id}",
                action="ops.ingest",
                target=f"gateway/{gateway_id}",
                detail={
                    "accepted": result.accepted,
                    "first_seq": new[0].op.seq if new and new[0].op else None,
                    "acked_seq": result.acked_seq,
                    "duplicates": result.duplicates,
                    "quarantined": [q.seq for q in result.quarantined],
                },
            )
        return result

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

    @staticmethod
    def _quarantine(
        conn: Connection, gateway_id: str, bad: list[tuple[Parsed, str]], now: datetime
    ) -> list[Quarantined]:
        rows = []
        out = []
        for p, reason in bad:
            op_id = str(p.op.op_id) if p.op else p.body.get("op_id")
            op_id = op_id[:64] if isinstance(op_id, str) else None
            rows.append(
                {
                    "gateway_id": gateway_id,
                    "seq": p.seq,
                    "op_id": op_id,
                    "raw_hash": p.raw_hash,
                    "reason": reason,
                    "body": p.canonical if p.op else repr(p.body)[:100_000],
                    "received_at": now,
                    "resolved": False,
                }
            )
            out.append(Quarantined(p.seq, op_id, reason))
        conn.execute(dialect_insert(conn, quarantine).on_conflict_do_nothing(), rows)
        return out

    def _emit(
        self,
        conn: Connection,
        gateway_id: str,
        warehouse: str,
        result: IngestResult,
        balances: dict[tuple[str, str, str, str, str], tuple[int, int]],
        transfers: list[dict[str, Any]],
    ) -> None:
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
        self.bus.emit(
            conn,
            {
                "type": "stock",
                "gateway_id": gateway_id,
                "warehouse": warehouse,
                "acked_seq": result.acked_seq,
                "accepted": result.accepted,
                "changes": changes,
                "changed_lines": len(balances),
                "truncated": len(balances) > len(changes),
                "transfers": [t["transfer_id"] for t in transfers][:20],
                "discrepancies": [d["id"] for d in result.discrepancies][:50],
            },
        )


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
