"""The one set of filters every panel of a page applies: a warehouse and a time window (or dates).

Parsed once per request from the query string, so the page, each panel's refresh and each JSON twin
read the same thing; a bad value is a 422 naming the parameter, never a silent default.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from urllib.parse import urlencode

from fastapi import HTTPException, Request

from sync.web.i18n import N_

WINDOWS: dict[str, tuple[timedelta, str]] = {
    "1h": (timedelta(hours=1), N_("Last hour")),
    "24h": (timedelta(hours=24), N_("Last 24 hours")),
    "7d": (timedelta(days=7), N_("Last 7 days")),
    "30d": (timedelta(days=30), N_("Last 30 days")),
}
DEFAULT_WINDOW = "24h"
_CODE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:/-]{0,63}$")
MAX_REPORT_DAYS = 800


def _bad(param: str, why: str) -> HTTPException:
    return HTTPException(422, f"query parameter {param!r}: {why}")


@dataclass(frozen=True)
class Filters:
    warehouse: str | None
    window: str
    start: date
    end: date
    """Report dates, both inclusive."""
    big: bool = False

    def since(self, now: datetime) -> datetime:
        return now - WINDOWS[self.window][0]

    @property
    def start_at(self) -> datetime:
        return datetime.combine(self.start, time.min, UTC)

    @property
    def end_at(self) -> datetime:
        """The end of the last day (exclusive bound)."""
        return datetime.combine(self.end + timedelta(days=1), time.min, UTC)

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    def query(self, **override: str | None) -> str:
        """The query string that reproduces these filters (with ``override`` applied)."""
        params: dict[str, str | None] = {
            "warehouse": self.warehouse,
            "window": self.window,
            "from": self.start.isoformat(),
            "to": self.end.isoformat(),
            "screen": "big" if self.big else None,
        }
        params.update(override)
        return urlencode({k: v for k, v in params.items() if v})


def parse_filters(request: Request, today: date) -> Filters:
    q = request.query_params
    warehouse = q.get("warehouse") or None
    if warehouse is not None and not _CODE.match(warehouse):
        raise _bad("warehouse", "not a warehouse code")
    window = q.get("window") or DEFAULT_WINDOW
    if window not in WINDOWS:
        raise _bad("window", f"one of {', '.join(WINDOWS)}")
    try:
        end = date.fromisoformat(q["to"]) if q.get("to") else today
        start = date.fromisoformat(q["from"]) if q.get("from") else end - timedelta(days=29)
    except ValueError as exc:
        raise _bad("from/to", f"a date as YYYY-MM-DD ({exc})") from None
    if start > end:
        raise _bad("from", "after 'to'")
    if (end - start).days >= MAX_REPORT_DAYS:
        raise _bad("from", f"at most {MAX_REPORT_DAYS} days from 'to'")
    return Filters(warehouse, window, start, end, big=q.get("screen") == "big")
