"""Demand history: daily shipped quantity per SKU x warehouse, from ship ops and from imported past sales.

Two sources, two columns, so neither can double-count the other: ``shipped`` grows with every ship op
that reaches the cloud (ingest, a batch at a time, summed per SKU and *local* day in the warehouse's
time zone: a parcel shipped at 23:30 in Los Angeles is that day's demand there, not the next UTC day's);
``imported`` is what ``wims plan import-history`` last set for the day (importing the same file again
changes nothing). Demand of a day is their sum.

The import reads a CSV with a header ``sku,warehouse,date,qty`` (``day`` and ``quantity`` are accepted
too). A bad row is refused whole with its line and column named (``line 7, column qty: 'x' is not a
whole number``): a half-imported history would bias every forecast made from it.
"""

from __future__ import annotations

import csv
import io
import re
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from cloud.db.engine import dialect_insert
from cloud.db.schema import demand_history, warehouses
from sync.codes import CODE_MAX_LENGTH, CODE_PATTERN
from sync.ops import Op, ShipPayload

MAX_QTY = 10**12
_ALIASES = {"sku": "sku", "warehouse": "warehouse", "date": "day", "day": "day", "qty": "qty", "quantity": "qty"}
_CODE = re.compile(CODE_PATTERN)


class HistoryImportError(ValueError):
    """A CSV row that cannot be imported: where (line, column) and why."""

    def __init__(self, line: int, column: str, message: str) -> None:
        super().__init__(f"line {line}, column {column}: {message}")
        self.line = line
        self.column = column
        self.message = message


@dataclass(frozen=True)
class HistoryRow:
    sku: str
    warehouse: str
    day: date
    qty: int


def parse_history_csv(text: str, *, known_warehouses: Iterable[str] | None = None) -> list[HistoryRow]:
    """Every row of the CSV ``text``, checked; the first bad one raises ``HistoryImportError``.

    ``known_warehouses``: when given, a warehouse outside it is refused (the network must know it).
    """
    known = set(known_warehouses) if known_warehouses is not None else None
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = next(reader)
    except StopIteration:
        raise HistoryImportError(1, "header", "the file is empty; expected a header sku,warehouse,date,qty") from None
    except csv.Error as exc:
        raise HistoryImportError(1, "header", f"not CSV: {exc}") from None
    columns: dict[str, int] = {}
    for i, name in enumerate(header):
        key = _ALIASES.get(name.strip().lower().lstrip("\ufeff"))
        if key is None:
            raise HistoryImportError(1, name.strip() or f"#{i + 1}", "unknown column; expected sku,warehouse,date,qty")
        if key in columns:
            raise HistoryImportError(1, name.strip(), "column given twice")
        columns[key] = i
    for need in ("sku", "warehouse", "day", "qty"):
        if need not in columns:
            raise HistoryImportError(1, "date" if need == "day" else need, "missing column")
    names = {key: header[i].strip().lower().lstrip("\ufeff") for key, i in columns.items()}  # as the file says
    rows: list[HistoryRow] = []
    while True:
        try:
            record = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            raise HistoryImportError(reader.line_num, "row", f"not CSV: {exc}") from None
        line = reader.line_num
        if not record or all(not cell.strip() for cell in record):
            continue  # a blank line
        if len(record) != len(header):
            raise HistoryImportError(line, "row", f"{len(record)} fields, the header has {len(header)}")
        cell = {k: record[i].strip() for k, i in columns.items()}
        for key in ("sku", "warehouse"):
            v = cell[key]
            if not v or len(v) > CODE_MAX_LENGTH or not _CODE.fullmatch(v):
                raise HistoryImportError(line, names[key], f"{v!r} is not a code (letters, digits, . _ - /, 1-64)")
        if known is not None and cell["warehouse"] not in known:
            raise HistoryImportError(
                line, names["warehouse"], f"unknown warehouse {cell['warehouse']!r} (add it first)"
            )
        try:
            day = date.fromisoformat(cell["day"])
            if len(cell["day"]) != 10:
                raise ValueError
        except ValueError:
            raise HistoryImportError(line, names["day"], f"{cell['day']!r} is not a date YYYY-MM-DD") from None
        raw = cell["qty"]
        if not raw.isdigit() or not raw.isascii():
            raise HistoryImportError(line, names["qty"], f"{raw!r} is not a whole number of units >= 0")
        qty = int(raw)
        if qty > MAX_QTY:
            raise HistoryImportError(line, names["qty"], f"{raw} is above {MAX_QTY}")
        rows.append(HistoryRow(cell["sku"], cell["warehouse"], day, qty))
    return rows


def import_history(conn: Connection, rows: Iterable[HistoryRow]) -> int:
    """Set the imported demand of each (sku, warehouse, day) named (rows of one day are summed); returns
    the number of days written."""
    summed: Counter[tuple[str, str, date]] = Counter()
    for r in rows:
        summed[(r.sku, r.warehouse, r.day)] += r.qty
    items = [
        {"sku": k[0], "warehouse": k[1], "day": k[2], "shipped": 0, "imported": q} for k, q in sorted(summed.items())
    ]
    for i in range(0, len(items), 5000):
        ins = dialect_insert(conn, demand_history)
        conn.execute(
            ins.on_conflict_do_update(
                index_elements=["sku", "warehouse", "day"], set_={"imported": ins.excluded.imported}
            ),
            items[i : i + 5000],
        )
    return len(items)


def local_day(at: datetime, zone: ZoneInfo) -> date:
    return at.astimezone(zone).date()


_PG_SHIPPED_UPSERT = (
    "INSERT INTO demand_history (sku, warehouse, day, shipped, imported) "
    "SELECT s.sku, %(wh)s::text, (s.at AT TIME ZONE COALESCE("
    "(SELECT timezone FROM warehouses WHERE code = %(wh)s::text), 'UTC'))::date AS day, sum(s.qty), 0 "
    "FROM unnest(%(skus)s::text[], %(ats)s::timestamptz[], %(qtys)s::bigint[]) AS s(sku, at, qty) "
    "GROUP BY s.sku, day ORDER BY s.sku, day "
    "ON CONFLICT (sku, warehouse, day) DO UPDATE SET shipped = demand_history.shipped + EXCLUDED.shipped"
)
"""One statement a batch on PostgreSQL: the local day computed by the server from the warehouse's zone,
summed per SKU and day, rows in key order (concurrent batches lock them in the same order)."""


def record_shipments(conn: Connection, warehouse: str, new_ops: Iterable[Op]) -> int:
    """Add the batch's ship ops to the warehouse's daily shipped quantities (its local days)."""
    ships = [(op.payload, op.occurred_at) for op in new_ops if isinstance(op.payload, ShipPayload)]
    if not ships:
        return 0
    if conn.dialect.name == "postgresql":
        params = {
            "wh": warehouse,
            "skus": [p.sku for p, _ in ships],
            "ats": [at for _, at in ships],
            "qtys": [p.qty for p, _ in ships],
        }
        return int(conn.exec_driver_sql(_PG_SHIPPED_UPSERT, params).rowcount)
    tz = conn.execute(sa.select(warehouses.c.timezone).where(warehouses.c.code == warehouse)).scalar()
    zone = ZoneInfo(tz or "UTC")
    summed: Counter[tuple[str, date]] = Counter()
    for payload, at in ships:
        summed[(payload.sku, local_day(at, zone))] += payload.qty
    items = [
        {"sku": sku, "warehouse": warehouse, "day": day, "shipped": q, "imported": 0}
        for (sku, day), q in sorted(summed.items())
    ]
    ins = dialect_insert(conn, demand_history)
    conn.execute(
        ins.on_conflict_do_update(
            index_elements=["sku", "warehouse", "day"],
            set_={"shipped": demand_history.c.shipped + ins.excluded.shipped},
        ),
        items,
    )
    return len(items)


def read_history(
    conn: Connection, start: date, end: date, warehouses: Iterable[str] | None = None
) -> Iterator[tuple[str, str, date, float]]:
    """``(sku, warehouse, day, qty)`` of the days ``[start, end)`` (of ``warehouses`` if given), streamed
    in chunks from the server: the input of ``demand.build_panel``, which takes them one by one (two years
    of a large network are millions of rows, never a list in memory)."""
    d = demand_history.c
    q = sa.select(d.sku, d.warehouse, d.day, (d.shipped + d.imported).label("qty")).where(d.day >= start, d.day < end)
    if warehouses is not None:
        q = q.where(d.warehouse.in_(list(warehouses)))
    for r in conn.execution_options(yield_per=20_000).execute(q):
        yield (r[0], r[1], r[2], float(r[3]))


def first_days(conn: Connection) -> dict[tuple[str, str], date]:
    """Each series' first day of history: its listing day for the panel."""
    d = demand_history.c
    q = sa.select(d.sku, d.warehouse, sa.func.min(d.day)).group_by(d.sku, d.warehouse)
    return {(r[0], r[1]): r[2] for r in conn.execute(q)}
