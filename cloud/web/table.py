"""A panel's or report's result as data: typed columns (some for cost roles only) and rows.

The one place that decides what a viewer may see: ``for_viewer`` drops cost columns (and their values)
for everyone but admin and planner, before anything is rendered, serialised or exported, so the HTML,
JSON, CSV and XLSX of a table can never disagree about who sees a cost price.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Literal

from openpyxl import Workbook
from openpyxl.styles import Font

Kind = Literal["text", "code", "int", "num", "pct", "money", "datetime", "date", "duration", "label"]


@dataclass(frozen=True)
class Column:
    key: str
    label: str
    """An English message id, translated where shown."""
    kind: Kind = "text"
    cost: bool = False
    """Cost prices, suppliers and values derived from them: admin and planner only."""
    digits: int = 0
    labels: Mapping[str, str] | None = None
    """For ``label`` columns: code -> English message id (a code without one is shown as itself)."""


@dataclass
class Table:
    columns: list[Column]
    rows: list[dict[str, Any]]
    facts: dict[str, Any] = field(default_factory=dict)

    def for_viewer(self, sees_costs: bool) -> Table:
        if sees_costs:
            return self
        keep = [c for c in self.columns if not c.cost]
        hidden = {c.key for c in self.columns if c.cost}
        rows = [{k: v for k, v in r.items() if k not in hidden} for r in self.rows]
        facts = {k: v for k, v in self.facts.items() if k not in hidden}
        return Table(keep, rows, facts)

    def as_json(self, translate: Any) -> dict[str, Any]:
        return {
            "columns": [{"key": c.key, "label": translate(c.label), "kind": c.kind} for c in self.columns],
            "rows": [{k: _jsonable(v) for k, v in r.items()} for r in self.rows],
            "facts": {k: _jsonable(v) for k, v in self.facts.items()},
        }

    def as_csv(self, translate: Any) -> str:
        out = io.StringIO()
        w = csv.writer(out)
        w.writerow([translate(c.label) for c in self.columns])
        for r in self.rows:
            w.writerow([_plain(r.get(c.key)) for c in self.columns])
        return "\ufeff" + out.getvalue()  # a BOM, so that spreadsheet programs read UTF-8 (Chinese) correctly

    def as_xlsx(self, translate: Any, sheet: str) -> bytes:
        wb = Workbook(write_only=False)
        ws = wb.active
        assert ws is not None
        ws.title = sheet[:31]
        ws.append([translate(c.label) for c in self.columns])
        for cell in ws[1]:
            cell.font = Font(bold=True)
        for r in self.rows:
            ws.append([_cell(r.get(c.key)) for c in self.columns])
        for i, c in enumerate(self.columns, start=1):
            letter = ws.cell(row=1, column=i).column_letter
            ws.column_dimensions[letter].width = max(10, min(40, len(translate(c.label)) + 4))
            fmt = {"pct": "0.0%", "money": "#,##0.00", "num": "#,##0.00", "int": "#,##0"}.get(c.kind)
            if fmt:
                for row in ws.iter_rows(min_row=2, min_col=i, max_col=i):
                    row[0].number_format = fmt
        buf = io.BytesIO()
        wb.save(buf)
        return buf.getvalue()


def _jsonable(v: Any) -> Any:
    if isinstance(v, Decimal):
        return float(v)
    if isinstance(v, datetime | date):
        return v.isoformat()
    if isinstance(v, list | tuple):  # a chart's series in the facts
        return [_jsonable(x) for x in v]
    if isinstance(v, dict):
        return {k: _jsonable(x) for k, x in v.items()}
    return v


def _plain(v: Any) -> Any:
    if v is None:
        return ""
    return _jsonable(v)


def _cell(v: Any) -> Any:
    if isinstance(v, Decimal):
        return float(v)
    if isinstance(v, datetime) and v.tzinfo is not None:
        return v.replace(tzinfo=None)  # Excel has no time zones: UTC, as the header of the export says
    return v
