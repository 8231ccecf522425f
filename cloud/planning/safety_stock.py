"""Safety stock and reorder points per SKU x warehouse, from the forecast's own errors.

The textbook ``z * sigma * sqrt(L)`` assumes normal, independent daily errors; warehouse demand has
neither (errors are skewed, and a wrong level stays wrong for the whole lead time). So the safety
stock here is read off the errors the chosen model actually made in the rolling-origin backtest:
every run of ``L`` consecutive days inside a backtest window is one sample of "how far demand over a
lead time exceeded its forecast", and the safety stock is the quantile of those samples at the
series' cycle service level (the chance of not running out between an order and its arrival).

An intermittent series has too few non-zero days for its errors to say much about the tail, so its
lead-time demand is bootstrapped instead: ``L`` days drawn with replacement from its recent history,
many times (the draws are seeded, and the same for every service level, so a higher level never
gives a lower stock). The safety stock is then the quantile of that demand minus the forecast.

Service levels are set per SKU class (A/B/C by volume, ``abc_classes``), in ``[planning]
service_levels``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

_BOOTSTRAP_DAYS = 182


def abc_classes(volume: np.ndarray, shares: tuple[float, float] = (0.8, 0.95)) -> np.ndarray:
    """A, B or C per item: the items making the first ``shares[0]`` of volume are A, up to ``shares[1]`` B."""
    order = np.argsort(-volume, kind="stable")
    total = volume.sum()
    before = np.cumsum(volume[order]) - volume[order]  # volume of the items ranked above
    frac = before / total if total > 0 else np.ones_like(before, dtype=float)
    out = np.empty(len(volume), dtype="<U1")
    out[order] = np.where(frac < shares[0], "A", np.where(frac < shares[1], "B", "C"))
    return out


def service_levels(classes: np.ndarray, levels: Mapping[str, float], default: float = 0.95) -> np.ndarray:
    """The service level of each item from its class."""
    return np.array([levels.get(str(c), default) for c in classes], dtype=float)


def lead_time_errors(residuals: np.ndarray, lead_time: int) -> np.ndarray:
    """(series, samples): sums of ``lead_time`` consecutive errors inside each backtest window.

    ``residuals`` is (series, windows, horizon), actual minus forecast. A lead time longer than the
    horizon sums across consecutive windows (the forecast is remade every run, as in production).
    """
    n, windows, h = residuals.shape
    if lead_time <= 0:
        return np.zeros((n, 1))
    if lead_time <= h:
        c = np.concatenate([np.zeros((n, windows, 1)), np.cumsum(residuals, axis=2)], axis=2)
        return np.asarray(c[:, :, lead_time:] - c[:, :, :-lead_time]).reshape(n, -1)
    flat = residuals.reshape(n, windows * h)
    if lead_time > windows * h:  # not enough backtest: scale the whole-span sums like a random walk
        return np.asarray(flat.sum(axis=1, keepdims=True) * np.sqrt(lead_time / (windows * h)))
    c = np.concatenate([np.zeros((n, 1)), np.cumsum(flat, axis=1)], axis=1)
    return np.asarray(c[:, lead_time:] - c[:, :-lead_time])


def empirical_quantile(samples: np.ndarray, level: np.ndarray) -> np.ndarray:
    """Per row, the ``level`` quantile of the non-NaN samples (the 'higher' sample: never under-stocks)."""
    n_ok = np.sum(~np.isnan(samples), axis=1)
    ordered = np.sort(np.where(np.isnan(samples), np.inf, samples), axis=1)
    idx = np.clip(np.ceil(level * n_ok).astype(np.int64) - 1, 0, np.maximum(n_ok - 1, 0))
    out = ordered[np.arange(len(samples)), idx]
    return np.where(n_ok > 0, out, np.nan)


def bootstrap_lead_time_demand(history: np.ndarray, lead_time: int, draws: int, seed: int) -> np.ndarray:
    """(series, draws) samples of demand over ``lead_time`` days, resampled from each row's recent known days."""
    recent = history[:, -_BOOTSTRAP_DAYS:]
    n = len(recent)
    if lead_time <= 0 or n == 0:
        return np.zeros((n, draws))
    rng = np.random.default_rng(seed)
    known = ~np.isnan(recent)
    count = known.sum(axis=1)
    # move each row's known days to its front so that a draw is an index below its count
    order = np.argsort(~known, axis=1, kind="stable")
    packed = np.take_along_axis(np.nan_to_num(recent), order, axis=1)
    out = np.zeros((n, draws))
    for _ in range(lead_time):
        pick = (rng.random((n, draws)) * np.maximum(count, 1)[:, None]).astype(np.int64)
        out += np.take_along_axis(packed, pick, axis=1)
    return np.where(count[:, None] > 0, out, 0.0)


@dataclass(frozen=True)
class SafetyStock:
    """Per series: lead time (days), service level, forecast demand over the lead time, safety stock, reorder point."""

    lead_time: np.ndarray
    service_level: np.ndarray
    lead_time_demand: np.ndarray
    safety_stock: np.ndarray
    reorder_point: np.ndarray
    method: tuple[str, ...]


def safety_stock(
    forecast_mean: np.ndarray,
    residuals: np.ndarray,
    history: np.ndarray,
    intermittent: np.ndarray,
    lead_time: np.ndarray,
    service_level: np.ndarray,
    draws: int = 1000,
    seed: int = 0,
) -> SafetyStock:
    """Safety stock and reorder point of every series.

    ``forecast_mean`` (series, horizon) is the forecast; ``residuals`` (series, windows, horizon) its
    backtest errors; ``history`` (series, days) the demand, NaN before listing; ``intermittent``
    says which series are bootstrapped; ``lead_time`` (days) and ``service_level`` (0-1) per series.
    A series without backtest errors (new) is bootstrapped too. Units are the series' own; the
    results are not rounded.
    """
    n = forecast_mean.shape[0]
    lead_time = np.asarray(lead_time, dtype=np.int64)
    service_level = np.asarray(service_level, dtype=float)
    ltd = np.array([_demand_over(forecast_mean[i], int(lead_time[i])) for i in range(n)])
    ss = np.zeros(n)
    has_errors = ~np.all(np.isnan(residuals), axis=(1, 2))
    boot = intermittent | ~has_errors
    method = np.where(boot, "bootstrap", "empirical")
    for lt in np.unique(lead_time):
        rows = (lead_time == lt) & ~boot
        if rows.any():
            samples = lead_time_errors(residuals[rows], int(lt))
            ss[rows] = np.maximum(np.nan_to_num(empirical_quantile(samples, service_level[rows])), 0.0)
        rows = (lead_time == lt) & boot
        if rows.any():
            samples = bootstrap_lead_time_demand(history[rows], int(lt), draws, seed)
            q = empirical_quantile(samples, service_level[rows])
            ss[rows] = np.maximum(np.nan_to_num(q) - ltd[rows], 0.0)
    return SafetyStock(
        lead_time=lead_time,
        service_level=service_level,
        lead_time_demand=ltd,
        safety_stock=ss,
        reorder_point=ltd + ss,
        method=tuple(str(m) for m in method),
    )


def _demand_over(mean: np.ndarray, lead_time: int) -> float:
    """Forecast demand over ``lead_time`` days; past the horizon, the last week's average carries on."""
    h = len(mean)
    if lead_time <= h:
        return float(mean[:lead_time].sum())
    return float(mean.sum() + mean[-7:].mean() * (lead_time - h))
