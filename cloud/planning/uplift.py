"""Holiday and promotion factors learnt from past events, applied as multipliers.

Each tagged day (see ``calendar``) is compared with the demand the series would have had without the
event: a baseline made of the untagged days around it (a centred moving average of the
deseasonalised series, put back on the day's weekday). The factor of a tag for a series is the ratio
of what it shipped on those days to that baseline, over every past occurrence.

Most series see each event once or twice in two years, and a slow mover sells almost nothing on
those days, so its own ratio is noise. Each factor is therefore shrunk toward the pooled factor of
its warehouse (all series' units over all series' baseline) with a prior worth ``prior_units``
baseline units: a fast mover's 11.11 factor is mostly its own, a slow mover's is its site's. A tag
never seen in the history (a new promotion) gets factor 1.

Why multipliers and not regressors: the same factors serve every model family (Croston-type models
take no regressors, AutoETS none in statsforecast) and cost one pass over the history, where
exogenous ARIMA would multiply the fitting time. The models see the history with events divided out
and the forecast gets them multiplied back in.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np

from cloud.planning.seasonality import day_factors, deseasonalise

_MIN_FACTOR, _MAX_FACTOR = 0.02, 25.0


@dataclass(frozen=True)
class Uplift:
    """``factors[i, k]``: the multiplier of tag ``k`` for series ``i`` (column 0, no tag, is 1)."""

    factors: np.ndarray
    pooled: np.ndarray
    """(warehouse group, tag) pooled factors, 1 where a tag was never seen."""

    def on(self, tag_ids: np.ndarray) -> np.ndarray:
        """(series, days) multipliers for a (series, days) array of tag ids."""
        return np.take_along_axis(self.factors, tag_ids.astype(np.int64), axis=1)


def _moving_mean(x: np.ndarray, half: int) -> np.ndarray:
    """Centred NaN-ignoring mean over ``2 * half + 1`` days, per row (NaN where the window has nothing)."""
    ok = ~np.isnan(x)
    pad = ((0, 0), (half + 1, half))
    csum = np.cumsum(np.pad(np.where(ok, x, 0.0), pad), axis=1)
    ccnt = np.cumsum(np.pad(ok.astype(np.float64), pad), axis=1)
    width = 2 * half + 1
    s = csum[:, width:] - csum[:, :-width]
    c = ccnt[:, width:] - ccnt[:, :-width]
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(c > 0, s / np.maximum(c, 1), np.nan)


def baseline(values: np.ndarray, tag_ids: np.ndarray, profiles: np.ndarray, start: date) -> np.ndarray:
    """Demand each day would have had without events: local level of untagged days times the weekday factor."""
    days = values.shape[1]
    weekday = day_factors(profiles, start, 0, days)
    clean = deseasonalise(np.where(tag_ids == 0, values, np.nan), weekday)
    clean = np.where((tag_ids == 0) & ~np.isnan(values), clean, np.nan)
    level = _moving_mean(clean, 14)
    wide = _moving_mean(clean, 45)  # long events (Spring Festival: four weeks tagged) need a wider look
    level = np.where(np.isnan(level), wide, level)
    return np.asarray(level * weekday)


def learn_uplift(
    values: np.ndarray,
    tag_ids: np.ndarray,
    profiles: np.ndarray,
    start: date,
    group: np.ndarray,
    n_tags: int,
    prior_units: float = 20.0,
) -> Uplift:
    """Factors per (series, tag) from ``values`` (series, days) and the tag of each of its days."""
    n = values.shape[0]
    base = baseline(values, tag_ids, profiles, start)
    usable = (tag_ids > 0) & ~np.isnan(values) & np.isfinite(base)
    flat = (np.arange(n)[:, None] * n_tags + tag_ids).ravel()
    w = usable.ravel()
    y_sum = np.bincount(flat[w], weights=values.ravel()[w], minlength=n * n_tags).reshape(n, n_tags)
    b_sum = np.bincount(flat[w], weights=base.ravel()[w], minlength=n * n_tags).reshape(n, n_tags)
    groups = int(group.max()) + 1 if n else 0
    gy = np.zeros((groups, n_tags))
    gb = np.zeros((groups, n_tags))
    np.add.at(gy, group, y_sum)
    np.add.at(gb, group, b_sum)
    with np.errstate(invalid="ignore", divide="ignore"):
        pooled = np.where(gb > 0, gy / np.where(gb > 0, gb, 1.0), 1.0)
    pooled = np.clip(pooled, _MIN_FACTOR, _MAX_FACTOR)
    prior = pooled[group]
    factors = (y_sum + prior_units * prior) / (b_sum + prior_units)
    factors = np.clip(factors, _MIN_FACTOR, _MAX_FACTOR)
    factors[:, 0] = 1.0
    pooled[:, 0] = 1.0
    return Uplift(factors=factors, pooled=pooled)
