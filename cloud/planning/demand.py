"""Daily demand per SKU x warehouse as one dense array: the input of every planning step.

Forecasting 10,000 series is array work (classification, event factors, weekly profiles and errors
are all computed for every series at once), so the history is one ``float64`` matrix, a row per
(SKU, warehouse) and a column per day, built once from the daily shipped quantities. A day with no
shipment is a zero, but only from the day the SKU was listed at the warehouse: before that it is
NaN, so a new SKU's short history is not read as months of zero demand.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from functools import cached_property

import numpy as np

SeriesKey = tuple[str, str]
"""(SKU code, warehouse code)."""


class DemandError(ValueError):
    """A demand record that cannot be used; the message names the record."""


@dataclass(frozen=True)
class DemandPanel:
    """``values[i, d]``: units of ``keys[i]`` shipped on ``start + d``; NaN before the series was listed."""

    keys: tuple[SeriesKey, ...]
    start: date
    values: np.ndarray

    def __post_init__(self) -> None:
        if self.values.ndim != 2 or self.values.shape[0] != len(self.keys):
            raise DemandError(f"values must be (series, days) with one row per key, got {self.values.shape}")

    @property
    def days(self) -> int:
        return int(self.values.shape[1])

    @property
    def end(self) -> date:
        """The day after the last day of history: the first forecast day."""
        return self.start + timedelta(days=self.days)

    @cached_property
    def warehouses(self) -> tuple[str, ...]:
        """The distinct warehouse codes, in first-seen order."""
        return tuple(dict.fromkeys(w for _, w in self.keys))

    @cached_property
    def warehouse_index(self) -> np.ndarray:
        """For each row, the index of its warehouse in ``warehouses``."""
        pos = {w: i for i, w in enumerate(self.warehouses)}
        return np.array([pos[w] for _, w in self.keys], dtype=np.int64)

    @cached_property
    def first_day(self) -> np.ndarray:
        """For each row, the first day with a value (the listing day); ``days`` when it has none."""
        known = ~np.isnan(self.values)
        return np.where(known.any(axis=1), known.argmax(axis=1), self.days)

    def head(self, days: int) -> DemandPanel:
        """The first ``days`` days: the history as it stood at an earlier origin (for backtests)."""
        return DemandPanel(self.keys, self.start, self.values[:, :days])

    def rows(self, index: np.ndarray) -> DemandPanel:
        return DemandPanel(tuple(self.keys[i] for i in index), self.start, self.values[index])


def build_panel(
    shipped: Iterable[tuple[str, str, date, float]],
    start: date,
    end: date,
    listed: Mapping[SeriesKey, date] | None = None,
) -> DemandPanel:
    """Daily demand from ``(sku, warehouse, day, quantity)`` records for the days ``[start, end)``.

    Records of the same series and day are summed; records outside the window are ignored (history
    is cut to the window asked for). A series counts from its ``listed`` day if given, else from its
    first shipment. A negative or non-finite quantity is refused: returns are not negative demand.
    """
    days = (end - start).days
    if days <= 0:
        raise DemandError(f"end {end} must be after start {start}")
    index: dict[SeriesKey, int] = {}
    rows: list[int] = []
    cols: list[int] = []
    qtys: list[float] = []
    for n, (sku, warehouse, day, qty) in enumerate(shipped):
        if not np.isfinite(qty) or qty < 0:
            raise DemandError(f"record {n} ({sku}, {warehouse}, {day}): quantity {qty!r} is not a non-negative number")
        d = (day - start).days
        if not 0 <= d < days:
            continue
        key = (sku, warehouse)
        rows.append(index.setdefault(key, len(index)))
        cols.append(d)
        qtys.append(float(qty))
    for key in listed or {}:
        index.setdefault(key, len(index))
    values = np.zeros((len(index), days))
    np.add.at(values, (np.array(rows, dtype=np.int64), np.array(cols, dtype=np.int64)), np.array(qtys))
    keys = tuple(index)
    first = np.full(len(keys), days, dtype=np.int64)
    if rows:
        np.minimum.at(first, np.array(rows), np.array(cols))
    for key, day in (listed or {}).items():
        first[index[key]] = min(first[index[key]], max((day - start).days, 0))
    values[np.arange(days)[None, :] < first[:, None]] = np.nan
    return DemandPanel(keys, start, values)
