"""Orders from a file: our own CSV, or a marketplace-style JSON export.

CSV: a header with ``order_id,region,sku,qty`` (and optionally ``customer``, ``lot``), one row per
line; rows of one order are grouped in file order. JSON: a list of orders, or ``{"orders": [...]}``;
each order's id is ``order_id``, ``order_sn`` (marketplaces) or ``id``; its region ``region`` or
``shipping_address.region`` (or ``.province``, ``.state``); its lines ``lines`` or ``items``, each with
``sku`` (or ``seller_sku``) and ``qty`` (or ``quantity``). A bad field is refused naming the line and
column (CSV) or the JSON path (``orders[3].items[0].quantity``); nothing of the file is routed.
"""

from __future__ import annotations

import csv
import io
import json
from typing import Any

from pydantic import ValidationError

from cloud.orders.models import OrderIn


class OrderImportError(ValueError):
    pass


_CSV_COLUMNS = {"order_id", "region", "sku", "qty", "customer", "lot"}


def _first(d: dict[str, Any], *names: str) -> Any:
    for n in names:
        if n in d and d[n] not in (None, ""):
            return d[n]
    return None


def _validated(body: dict[str, Any], where: str) -> OrderIn:
    try:
        return OrderIn.model_validate(body)
    except ValidationError as exc:
        e = exc.errors()[0]
        path = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in e["loc"])
        raise OrderImportError(f"{where}{path}: {e['msg']}") from None


def parse_orders(text: str, *, json_format: bool) -> list[OrderIn]:
    return _parse_json(text) if json_format else _parse_csv(text)


def _parse_json(text: str) -> list[OrderIn]:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise OrderImportError(f"line {exc.lineno}, column {exc.colno}: not JSON: {exc.msg}") from None
    items = data.get("orders") if isinstance(data, dict) else data
    if not isinstance(items, list):
        raise OrderImportError('expected a list of orders or {"orders": [...]}')
    out = []
    for i, o in enumerate(items):
        where = f"orders[{i}]"
        if not isinstance(o, dict):
            raise OrderImportError(f"{where}: an order is an object")
        raw_address = o.get("shipping_address")
        address: dict[str, Any] = raw_address if isinstance(raw_address, dict) else {}
        raw_lines = _first(o, "lines", "items")
        if not isinstance(raw_lines, list):
            raise OrderImportError(f"{where}.lines: missing (lines or items, a list)")
        lines = []
        for j, ln in enumerate(raw_lines):
            if not isinstance(ln, dict):
                raise OrderImportError(f"{where}.lines[{j}]: a line is an object")
            lines.append(
                {
                    "line": ln.get("line", j + 1),
                    "sku": _first(ln, "sku", "seller_sku", "item_sku"),
                    "qty": _first(ln, "qty", "quantity"),
                    "lot": ln.get("lot", ""),
                }
            )
        body = {
            "order_id": _first(o, "order_id", "order_sn", "id"),
            "region": _first(o, "region") or _first(address, "region", "province", "state"),
            "customer": str(_first(o, "customer", "buyer_username", "buyer") or "")[:200],
            "lines": lines,
        }
        out.append(_validated(body, where))
    _unique(out)
    return out


def _parse_csv(text: str) -> list[OrderIn]:
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = [h.strip().lower().lstrip("\ufeff") for h in next(reader)]
    except StopIteration:
        raise OrderImportError("line 1: the file is empty; expected a header order_id,region,sku,qty") from None
    for h in header:
        if h not in _CSV_COLUMNS:
            raise OrderImportError(f"line 1, column {h or '?'}: unknown column; expected {sorted(_CSV_COLUMNS)}")
    for need in ("order_id", "region", "sku", "qty"):
        if need not in header:
            raise OrderImportError(f"line 1, column {need}: missing column")
    grouped: dict[str, dict[str, Any]] = {}
    first_line: dict[str, int] = {}
    for record in reader:
        line = reader.line_num
        if not record or all(not c.strip() for c in record):
            continue
        if len(record) != len(header):
            raise OrderImportError(f"line {line}: {len(record)} fields, the header has {len(header)}")
        cell = dict(zip(header, (c.strip() for c in record), strict=True))
        if not cell["qty"].isdigit():
            raise OrderImportError(f"line {line}, column qty: {cell['qty']!r} is not a whole number")
        o = grouped.setdefault(
            cell["order_id"],
            {"order_id": cell["order_id"], "region": cell["region"], "customer": cell.get("customer", ""), "lines": []},
        )
        first_line.setdefault(cell["order_id"], line)
        if o["region"] != cell["region"]:
            raise OrderImportError(f"line {line}, column region: order {cell['order_id']} has region {o['region']!r}")
        o["lines"].append(
            {"line": len(o["lines"]) + 1, "sku": cell["sku"], "qty": int(cell["qty"]), "lot": cell.get("lot", "")}
        )
        try:
            OrderIn.model_validate(o)
        except ValidationError as exc:
            e = exc.errors()[0]
            column = next((str(p) for p in reversed(e["loc"]) if isinstance(p, str)), "row")
            raise OrderImportError(f"line {line}, column {column}: {e['msg']}") from None
    return [OrderIn.model_validate(o) for o in grouped.values()]


def _unique(orders: list[OrderIn]) -> None:
    seen: set[str] = set()
    for i, o in enumerate(orders):
        if o.order_id in seen:
            raise OrderImportError(f"orders[{i}].order_id: {o.order_id!r} appears twice")
        seen.add(o.order_id)
