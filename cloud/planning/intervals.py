"""Conformal prediction intervals from backtest errors, for models that give none.

Croston-type models forecast a rate and no distribution, so their intervals come from how wrong the
same model was on the rolling-origin backtest that chose it (split conformal prediction: the
backtest windows are the calibration set, never seen by the fit that produced them). The scores are
errors relative to the forecast, ``(actual - forecast) / forecast``, so one set of scores serves a
horizon whose forecast moves with the weekday and with events: the interval of an 11.11 day is as
wide, relatively, as any other day's. Intervals are asymmetric (demand spikes up, never below zero)
and use the finite-sample quantile levels that give split conformal its coverage guarantee.
"""

from __future__ import annotations

import warnings

import numpy as np


def relative_scores(actual: np.ndarray, forecast: np.ndarray) -> np.ndarray:
    """(actual - forecast) / forecast, with the forecast floored at a tenth of its row mean (and 1e-6)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # a row forecast at zero throughout
        row_mean = np.nanmean(
            np.where(forecast > 0, forecast, np.nan), axis=tuple(range(1, forecast.ndim)), keepdims=True
        )
    floor = np.maximum(np.nan_to_num(row_mean, nan=0.0) * 0.1, 1e-6)
    return np.asarray((actual - forecast) / np.maximum(forecast, floor))


def conformal_bounds(scores: np.ndarray, level: float) -> tuple[np.ndarray, np.ndarray]:
    """Per row, the lower and upper score quantiles of a central ``level`` (0-1) interval.

    ``scores`` is (series, n) with NaN for missing; rows without scores get NaN bounds. With ``n``
    scores the quantile levels are widened to ``ceil((n + 1) q) / n`` (split conformal).
    """
    n = np.sum(~np.isnan(scores), axis=1)
    alpha = 1 - level
    last = np.maximum(n - 1, 0)
    hi_i = np.clip(np.ceil((n + 1) * (1 - alpha / 2)).astype(np.int64) - 1, 0, last)
    lo_i = np.clip(np.floor((n + 1) * (alpha / 2)).astype(np.int64) - 1, 0, last)
    ordered = np.sort(np.where(np.isnan(scores), np.inf, scores), axis=1)
    rows = np.arange(scores.shape[0])
    lo = np.where(n > 0, ordered[rows, lo_i], np.nan)
    hi = np.where(n > 0, ordered[rows, hi_i], np.nan)
    return lo, hi


def apply_bounds(forecast: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The interval ``forecast * (1 + score)`` for each row's bounds, never below zero.

    The band always holds the forecast itself: for a series that sells on one day in twenty, the
    central 80% of daily demand is [0, 0], which is true but useless on a chart of the forecast.
    """
    lower = np.clip(forecast * (1 + lo[:, None]), 0.0, forecast)
    upper = np.maximum(forecast * (1 + hi[:, None]), forecast)
    return lower, upper
