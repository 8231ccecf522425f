"""Which days are special at each warehouse: public holidays and promotion events, as day tags.

Demand around a holiday or a promotion moves far more than any weekly or yearly pattern (11.11 ships
several times a normal day; a Chinese warehouse is nearly idle in the Spring Festival week), and it
moves again the next year on a different date, so the forecast needs to know, day by day, which event
a day belongs to. This module answers with one small integer per (warehouse, day): a tag id into a
shared list of names. ``uplift`` learns a factor per tag from history and applies it to the forecast.

Holidays come from the ``holidays`` package for each warehouse's country and region. Consecutive
holiday days (and the weekend between them, as China's bridged holidays have) form one block named
after its main holiday, so "Day off (substituted ...)" days share the Spring Festival's tag instead of
getting one of their own. Promotions are the built-in events (Spring Festival, 618, 11.11, Black
Friday, whose dates follow fixed rules) and a site's own, each with optional pre and post windows
(the stock-up before, the lull after) tagged separately because they move demand the other way.
When a day is both, the event's main days win over a holiday, and a holiday over a pre/post window.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from functools import lru_cache

import holidays
import numpy as np
from pydantic import BaseModel, ConfigDict, Field, model_validator

from cloud.planning.network import Warehouse

BUILTIN_EVENTS = ("spring_festival", "618", "11.11", "black_friday")
"""Events whose dates follow a rule and need no configuration."""

_DEFAULT_EVENTS: dict[str, tuple[str, ...]] = {
    "CN": ("spring_festival", "618", "11.11"),
    "US": ("black_friday",),
}

_BLOCK_GAP_DAYS = 3
"""Holidays at most this many days apart are one block (a Friday holiday and a Monday day off)."""


def default_events(country: str) -> tuple[str, ...]:
    """The promotions a warehouse in ``country`` takes part in unless it says otherwise."""
    return _DEFAULT_EVENTS.get(country, ())


class DateWindow(BaseModel):
    """Days ``start`` to ``end``, both included."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    start: date
    end: date

    @model_validator(mode="after")
    def _ordered(self) -> DateWindow:
        if self.end < self.start:
            raise ValueError(f"end {self.end} is before start {self.start}")
        return self


class PromotionEvent(BaseModel):
    """A site's own promotion: its windows (``annual``: repeated every year on the same month and day)."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    name: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.\-]*$", max_length=40)
    windows: tuple[DateWindow, ...] = Field(min_length=1)
    annual: bool = False
    pre_days: int = Field(default=0, ge=0, le=60)
    post_days: int = Field(default=0, ge=0, le=60)


@dataclass(frozen=True)
class _Rule:
    pre_days: int
    post_days: int


_BUILTIN_RULES = {
    "spring_festival": _Rule(pre_days=14, post_days=7),
    "618": _Rule(pre_days=17, post_days=3),  # the 618 sales start on June 1
    "11.11": _Rule(pre_days=10, post_days=3),
    "black_friday": _Rule(pre_days=7, post_days=2),
}


@dataclass(frozen=True)
class DayTags:
    """``ids[w, d]`` is the tag of day ``start + d`` at warehouse ``codes[w]``; ``names[0]`` is "" (no tag)."""

    codes: tuple[str, ...]
    start: date
    names: tuple[str, ...]
    ids: np.ndarray

    @property
    def days(self) -> int:
        return int(self.ids.shape[1])

    def row(self, warehouse: str) -> np.ndarray:
        return np.asarray(self.ids[self.codes.index(warehouse)])

    def names_on(self, warehouse: str, day: date) -> str:
        return self.names[int(self.row(warehouse)[(day - self.start).days])]


def _label(name: str) -> str | None:
    """The holiday a day is named for; ``None`` for a substituted day off, which takes its block's."""
    first = name.split("; ")[0]
    if first.startswith("Day off") or "substituted" in first:
        return None
    return re.sub(r"\s*\((observed|estimated)\)", "", first).strip() or None


def _bridged(a: date, b: date) -> bool:
    """True when only a weekend (or nothing) lies between two holidays: they are one break."""
    gap = (b - a).days
    return gap <= 1 or (gap <= _BLOCK_GAP_DAYS and all((a + timedelta(days=k)).weekday() >= 5 for k in range(1, gap)))


@lru_cache(maxsize=256)
def holiday_blocks(country: str, region: str, first_year: int, last_year: int) -> tuple[tuple[str, date, date], ...]:
    """Public holidays of a country (and region) as runs ``(name, first day, last day)``.

    Each day keeps the name of its own holiday, so a tag means the same holiday every year; the
    substituted days off and the weekend inside a bridged break take the name of the holiday before
    them (or after, at the start of a break).
    """
    try:
        cal = holidays.country_holidays(country, subdiv=region or None, years=range(first_year, last_year + 1))
    except NotImplementedError as err:
        raise ValueError(f"holiday calendar for {country}{'-' + region if region else ''}: {err}") from err
    named = sorted(cal.items())
    breaks: list[list[tuple[date, str]]] = []
    for day, name in named:
        if breaks and _bridged(breaks[-1][-1][0], day):
            last = breaks[-1][-1][0]
            breaks[-1].extend((last + timedelta(days=k), "Day off") for k in range(1, (day - last).days))
            breaks[-1].append((day, name))
        else:
            breaks.append([(day, name)])
    runs: list[tuple[str, date, date]] = []
    for days in breaks:
        labels = [_label(n) for _, n in days]
        fallback = next((x for x in labels if x is not None), days[0][1])
        current = fallback
        for (day, _), label in zip(days, labels, strict=True):
            current = label or current
            if runs and runs[-1][0] == current and (day - runs[-1][2]).days == 1:
                runs[-1] = (current, runs[-1][1], day)
            else:
                runs.append((current, day, day))
    return tuple(runs)


def _thanksgiving(year: int) -> date:
    first = date(year, 11, 1)
    return first + timedelta(days=(3 - first.weekday()) % 7 + 21)


def builtin_windows(name: str, years: Iterable[int]) -> list[tuple[date, date]]:
    """The main days of a built-in event in each of ``years``."""
    out: list[tuple[date, date]] = []
    for y in years:
        if name == "618":
            out.append((date(y, 6, 18), date(y, 6, 18)))
        elif name == "11.11":
            out.append((date(y, 11, 11), date(y, 11, 11)))
        elif name == "black_friday":
            friday = _thanksgiving(y) + timedelta(days=1)
            out.append((friday, friday + timedelta(days=3)))  # through Cyber Monday
        elif name == "spring_festival":
            runs = [(a, b) for label, a, b in holiday_blocks("CN", "", y, y) if "Spring Festival" in label]
            if runs:
                out.append((runs[0][0], runs[-1][1]))
        else:
            raise ValueError(f"unknown built-in event {name!r}; built-in events are {', '.join(BUILTIN_EVENTS)}")
    return out


def _site_windows(event: PromotionEvent, years: Sequence[int]) -> list[tuple[date, date]]:
    if not event.annual:
        return [(w.start, w.end) for w in event.windows]
    out = []
    for y in years:
        for w in event.windows:
            span = (w.end - w.start).days
            try:
                start = w.start.replace(year=y)
            except ValueError:  # 29 February in a common year
                start = date(y, 3, 1)
            out.append((start, start + timedelta(days=span)))
    return out


def build_tags(
    warehouses: Sequence[Warehouse],
    start: date,
    days: int,
    site_events: Mapping[str, PromotionEvent] | None = None,
) -> DayTags:
    """Tag every day of ``[start, start + days)`` at each warehouse.

    ``site_events`` are the network's own promotions by name; a warehouse takes part in those named in
    its ``events`` (or the country's defaults when it names none).
    """
    site_events = dict(site_events or {})
    end = start + timedelta(days=days)
    years = list(range(start.year - 1, end.year + 2))
    names: list[str] = [""]
    index: dict[str, int] = {"": 0}

    def tag(name: str) -> int:
        if name not in index:
            index[name] = len(names)
            names.append(name)
        return index[name]

    ids = np.zeros((len(warehouses), days), dtype=np.int16)

    def paint(row: np.ndarray, a: date, b: date, tag_id: int) -> None:
        lo, hi = max((a - start).days, 0), min((b - start).days + 1, days)
        if lo < hi:
            row[lo:hi] = tag_id

    for w_i, wh in enumerate(warehouses):
        row = ids[w_i]
        events = wh.events if wh.events is not None else default_events(wh.country)
        mains: list[tuple[date, date, int]] = []
        for ev_name in events:
            if ev_name in _BUILTIN_RULES:
                rule = _BUILTIN_RULES[ev_name]
                windows = builtin_windows(ev_name, years)
                pre, post = rule.pre_days, rule.post_days
            elif ev_name in site_events:
                ev = site_events[ev_name]
                windows, pre, post = _site_windows(ev, years), ev.pre_days, ev.post_days
            else:
                raise ValueError(f"warehouse {wh.code}: unknown event {ev_name!r}")
            for a, b in windows:
                if pre:
                    paint(row, a - timedelta(days=pre), a - timedelta(days=1), tag(f"{ev_name}:pre"))
                if post:
                    paint(row, b + timedelta(days=1), b + timedelta(days=post), tag(f"{ev_name}:post"))
                mains.append((a, b, tag(ev_name)))
        for label, a, b in holiday_blocks(wh.country, wh.region, years[0], years[-1]):
            paint(row, a, b, tag(f"holiday:{label}"))
        for a, b, t in mains:
            paint(row, a, b, t)
    return DayTags(codes=tuple(w.code for w in warehouses), start=start, names=tuple(names), ids=ids)
