"""Demand forecasts per SKU x warehouse, 7-30 days ahead, each series with the model that backtests best.

The steps, all array work on the whole panel except the model fitting:

1. classify every series (Syntetos-Boylan, ``classify``);
2. learn weekday profiles and event factors (``seasonality``, ``uplift``) and divide them out;
3. for each family (smooth and erratic; intermittent and lumpy), backtest every candidate with one
   statsforecast ``cross_validation`` over ``backtest_windows`` rolling origins ``horizon`` days
   apart. Smooth models are fitted once, at the first origin, and rolled forward through the later
   ones (``refit=False``), and no intervals are asked for: both would only repeat work;
4. multiply weekday and event factors back in, score each candidate on the backtest (RMSE by
   default: it rewards unbiased forecasts, which safety stock needs; MAE rewards forecasting zero
   for intermittent series), keep the best, and fit it once more on the latest history for the
   forecast, with the model's own intervals where it has them (ETS, Theta, ARIMA) and conformal ones
   from its backtest errors otherwise (the Croston family, CES);
5. series too new to backtest get their recent deseasonalised mean and pooled conformal intervals;
   inactive ones (no demand in the classification window) get zero.

Measured on this project's 2-core VM (``bench/forecast.py``): the candidates cost 3-4 ms of CPU a
series each (AutoETS "AZN" and DynamicOptimizedTheta on 84 days), the final fit with intervals
another 4; AutoTheta's four-variant search costs three times DOTM's for no better accuracy,
AutoCES's simulated intervals 25 times its fit, and a small AutoARIMA about 100 ms, which is why
they are options and not defaults.

The backtest errors of the chosen model are kept: safety stock reads its lead-time error from them.
"""

from __future__ import annotations

import time
import warnings
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import numpy as np
import pandas as pd

from cloud.planning.calendar import DayTags
from cloud.planning.classify import CLASSES, Classification, DemandClass, classify
from cloud.planning.demand import DemandPanel, SeriesKey
from cloud.planning.engine import CrossValidation, Engine, LocalEngine
from cloud.planning.intervals import apply_bounds, conformal_bounds, relative_scores
from cloud.planning.seasonality import day_factors, deseasonalise, weekly_profiles
from cloud.planning.settings import ForecastSettings
from cloud.planning.uplift import Uplift, learn_uplift

NEW_MODEL = "RecentMean"
ZERO_MODEL = "Zero"
_RECENT_DAYS = 28


class ForecastError(ValueError):
    """The inputs cannot be forecast (calendar too short, unknown warehouse, ...)."""


@dataclass(frozen=True)
class ForecastResult:
    """Forecasts of ``keys`` for the days ``start .. start + horizon - 1``.

    ``mean``, ``lower[level]`` and ``upper[level]`` are (series, horizon). ``residuals`` (series,
    windows, horizon) are the chosen model's backtest errors, actual minus forecast (NaN for new and
    inactive series). ``backtest_mae``/``_rmse``/``_bias`` summarise them per series.
    """

    keys: tuple[SeriesKey, ...]
    start: date
    horizon: int
    classification: Classification
    model: tuple[str, ...]
    interval_method: tuple[str, ...]
    mean: np.ndarray
    lower: dict[int, np.ndarray]
    upper: dict[int, np.ndarray]
    residuals: np.ndarray
    backtest_mae: np.ndarray
    backtest_rmse: np.ndarray
    backtest_bias: np.ndarray
    timings: dict[str, float] = field(default_factory=dict)

    @property
    def days(self) -> list[date]:
        return [self.start + timedelta(days=k) for k in range(self.horizon)]

    def series_frame(self) -> pd.DataFrame:
        """One row per series: class, ADI, CV^2, chosen model, interval method and backtest errors."""
        return pd.DataFrame(
            {
                "sku": [k[0] for k in self.keys],
                "warehouse": [k[1] for k in self.keys],
                "demand_class": [str(c) for c in self.classification.classes()],
                "adi": self.classification.adi,
                "cv2": self.classification.cv2,
                "model": self.model,
                "interval_method": self.interval_method,
                "backtest_mae": self.backtest_mae,
                "backtest_rmse": self.backtest_rmse,
                "backtest_bias": self.backtest_bias,
            }
        )

    def frame(self) -> pd.DataFrame:
        """One row per series and day: ``sku, warehouse, day, mean, lo-80, hi-80, ...``."""
        n, h = self.mean.shape
        out: dict[str, Any] = {
            "sku": np.repeat([k[0] for k in self.keys], h),
            "warehouse": np.repeat([k[1] for k in self.keys], h),
            "day": np.tile(np.array(self.days, dtype="datetime64[D]"), n),
            "mean": self.mean.ravel(),
        }
        for level in sorted(self.lower):
            out[f"lo-{level}"] = self.lower[level].ravel()
            out[f"hi-{level}"] = self.upper[level].ravel()
        return pd.DataFrame(out)


@dataclass
class _Prepared:
    values: np.ndarray
    model_input_smooth: np.ndarray
    model_input_intermittent: np.ndarray
    factor: np.ndarray
    """(series, days + horizon): model scale -> demand (weekday profile x event factor)."""
    classification: Classification
    uplift: Uplift


def _tag_rows(panel: DemandPanel, tags: DayTags, horizon: int) -> np.ndarray:
    offset = (panel.start - tags.start).days
    if offset < 0 or offset + panel.days + horizon > tags.days:
        raise ForecastError(
            f"the calendar covers {tags.start} + {tags.days} days; the forecast needs {panel.start} to "
            f"{panel.end + timedelta(days=horizon - 1)}"
        )
    missing = [w for w in panel.warehouses if w not in tags.codes]
    if missing:
        raise ForecastError(f"no calendar for warehouse {missing[0]!r}")
    order = np.array([tags.codes.index(w) for w in panel.warehouses])
    return np.asarray(tags.ids[order][panel.warehouse_index][:, offset : offset + panel.days + horizon])


def _prepare(panel: DemandPanel, tags: DayTags, s: ForecastSettings) -> _Prepared:
    values, T, h = panel.values, panel.days, s.horizon
    need = max(s.min_history_days, s.backtest_windows * h + 28)
    classification = classify(values, window=s.classify_days, min_days=need)
    tag_all = _tag_rows(panel, tags, h)
    tag_hist = tag_all[:, :T]
    group = panel.warehouse_index
    profiles = weekly_profiles(values, panel.start, group, tag_hist, s.profile_weeks, s.profile_prior_units)
    uplift = learn_uplift(values, tag_hist, profiles, panel.start, group, len(tags.names), s.uplift_prior_units)
    events = uplift.on(tag_all)
    weekday = day_factors(profiles, panel.start, 0, T + h)
    clean = values / events[:, :T]
    return _Prepared(
        values=values,
        model_input_smooth=deseasonalise(clean, weekday[:, :T]),
        model_input_intermittent=clean,
        factor=weekday * events,
        classification=classification,
        uplift=uplift,
    )


def _long_frame(x: np.ndarray, keep_days: int, h: int) -> pd.DataFrame:
    """Rows ``unique_id, ds, y``: the last ``keep_days`` known days of each row, then ``h`` empty days."""
    n, T = x.shape
    cut = min(keep_days, T)
    block = np.concatenate([x[:, T - cut :], np.full((n, h), np.nan)], axis=1)
    ds = np.arange(T - cut, T + h)
    keep = ~np.isnan(block) | (ds >= T)[None, :]
    flat = keep.ravel()
    return pd.DataFrame(
        {
            "unique_id": np.repeat(np.arange(n), cut + h)[flat],
            "ds": np.tile(ds, n)[flat],
            "y": block.ravel()[flat],
        }
    )


def _run(engine: Engine, job: CrossValidation, frame: pd.DataFrame, n: int) -> pd.DataFrame:
    got = engine.run(job, frame).sort_values(["unique_id", "cutoff", "ds"], kind="stable")
    if len(got) != n * job.windows * job.h:
        names = ", ".join(repr(m) for m in job.models)
        raise ForecastError(f"{names}: cross-validation returned {len(got)} rows, expected {n * job.windows * job.h}")
    return got.reset_index(drop=True)


def _cube(frame: pd.DataFrame, column: str, n: int, windows: int, h: int) -> np.ndarray:
    return np.asarray(frame[column].to_numpy(dtype=np.float64)).reshape(n, windows, h)


@dataclass
class _Family:
    rows: np.ndarray
    models: tuple[str, ...]
    model_input: np.ndarray
    fit_days: int
    refit: bool


def _run_family(
    fam: _Family, prep: _Prepared, s: ForecastSettings, engine: Engine, T: int
) -> dict[str, np.ndarray | list[str]]:
    """Backtest every candidate, keep the best per series, then fit it once more on the whole history.

    The backtest asks for no intervals (they would be computed in every window, and doubled the
    cost of ETS and tripled Theta's); the final fit of the chosen model gives the forecast from
    parameters estimated on the latest data, with the model's own intervals where it has them.
    """
    from cloud.planning.models import NATIVE_INTERVALS, make_models

    h, W = s.horizon, s.backtest_windows
    n = len(fam.rows)
    x = fam.model_input[fam.rows]
    # rolled forward (refit=False) the candidates can forecast the future in the same call: an extra
    # window over `h` empty days; otherwise the chosen model is fitted again below
    roll = not s.final_refit and not fam.refit
    extra = 1 if roll else 0
    history = _long_frame(x, fam.fit_days + W * h, h * extra)
    bt_days = np.arange(T - W * h, T)
    bt_factor = prep.factor[fam.rows][:, bt_days].reshape(n, W, h)
    actual = prep.values[fam.rows][:, T - W * h : T].reshape(n, W, h)
    fcst = np.empty((len(fam.models), n, W, h))
    job = CrossValidation(make_models(fam.models), h, W + extra, fam.fit_days, fam.refit, None)
    cv = _run(engine, job, history, n)
    rolled = {}
    for m_i, name in enumerate(fam.models):
        cube = _cube(cv, name, n, W + extra, h)
        fcst[m_i] = np.maximum(cube[:, :W] * bt_factor, 0.0)
        if roll:
            rolled[name] = cube[:, W]
    err = actual[None] - fcst
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        if s.selection_metric == "rmse":
            score = np.sqrt(np.nanmean(err**2, axis=(2, 3)))
        else:
            score = np.nanmean(np.abs(err), axis=(2, 3))
    best = np.argmin(np.where(np.isnan(score), np.inf, score), axis=0)
    pick = np.arange(n)
    scores = relative_scores(actual, fcst[best, pick]).reshape(n, W * h)
    future = prep.factor[fam.rows][:, T : T + h]
    mean = np.zeros((n, h))
    lower = {lv: np.zeros((n, h)) for lv in s.levels}
    upper = {lv: np.zeros((n, h)) for lv in s.levels}
    native = np.zeros(n, dtype=bool)
    # final fits: one call per model with its own intervals (on the series that chose it), one call
    # for all the others together (the Croston family is cheap enough to fit every member)
    with_pi = [m for m in fam.models if m in NATIVE_INTERVALS and not roll]
    rest = tuple(m for m in fam.models if m not in with_pi)
    calls: list[tuple[tuple[str, ...], np.ndarray]] = [((m,), best == fam.models.index(m)) for m in with_pi]
    if rest:
        calls.append((rest, np.isin(best, [fam.models.index(m) for m in rest])))
    if roll:
        calls = []
        for m_i, name in enumerate(fam.models):
            mine = best == m_i
            mean[mine] = np.maximum(rolled[name][mine] * future[mine], 0.0)
    for names, chose in calls:
        rows = np.flatnonzero(chose)
        if len(rows) == 0:
            continue
        has_pi = names[0] in NATIVE_INTERVALS
        job = CrossValidation(make_models(names), h, 1, fam.fit_days, True, list(s.levels) if has_pi else None)
        got = _run(engine, job, _long_frame(x[rows], fam.fit_days, h), len(rows))
        fac = future[rows]
        picked = np.empty((len(rows), h))
        for m in names:
            mine = best[rows] == fam.models.index(m)
            picked[mine] = _cube(got, m, len(rows), 1, h)[mine, 0]
        mean[rows] = np.maximum(picked * fac, 0.0)
        if has_pi:
            name = names[0]
            native[rows] = True
            for lv in s.levels:
                lo = np.maximum(_cube(got, f"{name}-lo-{lv}", len(rows), 1, h)[:, 0] * fac, 0.0)
                lower[lv][rows] = lo
                upper[lv][rows] = np.maximum(_cube(got, f"{name}-hi-{lv}", len(rows), 1, h)[:, 0] * fac, lo)
    conformal = ~native
    for lv in s.levels:
        if conformal.any():
            q_lo, q_hi = conformal_bounds(scores[conformal], lv / 100)
            lower[lv][conformal], upper[lv][conformal] = apply_bounds(mean[conformal], q_lo, q_hi)
    out: dict[str, np.ndarray | list[str]] = {
        "mean": mean,
        "residuals": err[best, pick],
        "scores": scores,
        "model": [fam.models[b] for b in best],
        "interval_method": ["model" if nat else "conformal" for nat in native],
    }
    for lv in s.levels:
        out[f"lo-{lv}"], out[f"hi-{lv}"] = lower[lv], upper[lv]
    return out


def forecast_demand(
    panel: DemandPanel,
    tags: DayTags,
    settings: ForecastSettings | None = None,
    engine: Engine | None = None,
) -> ForecastResult:
    """Forecast every series of ``panel`` for ``settings.horizon`` days after its last day.

    ``tags`` must cover the history and the horizon for every warehouse of the panel
    (``calendar.build_tags``). ``engine`` defaults to in-process statsforecast on every core.
    """
    s = settings or ForecastSettings()
    engine = engine or LocalEngine()
    h, W, T, n = s.horizon, s.backtest_windows, panel.days, len(panel.keys)
    timings: dict[str, float] = {}
    t0 = time.perf_counter()
    prep = _prepare(panel, tags, s)
    timings["prepare_s"] = time.perf_counter() - t0
    cls = prep.classification
    codes = np.array(cls.code)
    smooth = cls.mask(DemandClass.SMOOTH, DemandClass.ERRATIC)
    intermittent = cls.mask(DemandClass.INTERMITTENT, DemandClass.LUMPY)
    mean = np.zeros((n, h))
    lower = {lv: np.zeros((n, h)) for lv in s.levels}
    upper = {lv: np.zeros((n, h)) for lv in s.levels}
    residuals = np.full((n, W, h), np.nan)
    scores = np.full((n, W * h), np.nan)
    model = [ZERO_MODEL] * n
    method = ["none"] * n
    families = [
        ("smooth", _Family(np.flatnonzero(smooth), s.smooth_models, prep.model_input_smooth, s.fit_days, False)),
        (
            "intermittent",
            _Family(
                np.flatnonzero(intermittent),
                s.intermittent_models,
                prep.model_input_intermittent,
                s.intermittent_fit_days,
                True,
            ),
        ),
    ]
    for label, fam in families:
        if len(fam.rows) == 0:
            continue
        t1 = time.perf_counter()
        got = _run_family(fam, prep, s, engine, T)
        timings[f"{label}_s"] = time.perf_counter() - t1
        mean[fam.rows] = got["mean"]
        residuals[fam.rows] = got["residuals"]
        scores[fam.rows] = got["scores"]
        for lv in s.levels:
            lower[lv][fam.rows] = got[f"lo-{lv}"]
            upper[lv][fam.rows] = got[f"hi-{lv}"]
        for r, m, im in zip(fam.rows, got["model"], got["interval_method"], strict=True):
            model[r] = m
            method[r] = im
    new = np.flatnonzero(codes == CLASSES.index(DemandClass.NEW))
    if len(new):
        _recent_mean(new, prep, s, T, scores, smooth | intermittent, mean, lower, upper)
        for r in new:
            model[r] = NEW_MODEL
            method[r] = "pooled-conformal"
    broken = ~np.isfinite(mean).all(axis=1)
    if broken.any():  # a model that failed on a degenerate series: forecast nothing rather than NaN
        for r in np.flatnonzero(broken):
            model[r], method[r] = ZERO_MODEL, "none"
        mean[broken] = 0.0
        for lv in s.levels:
            lower[lv][broken] = upper[lv][broken] = 0.0
    for lv in s.levels:
        lower[lv] = np.nan_to_num(lower[lv])
        upper[lv] = np.maximum(np.nan_to_num(upper[lv]), mean)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # new and inactive series have no backtest
        mae = np.nanmean(np.abs(residuals), axis=(1, 2))
        rmse = np.sqrt(np.nanmean(residuals**2, axis=(1, 2)))
        bias = np.nanmean(-residuals, axis=(1, 2))
    timings["total_s"] = time.perf_counter() - t0
    return ForecastResult(
        keys=panel.keys,
        start=panel.end,
        horizon=h,
        classification=cls,
        model=tuple(model),
        interval_method=tuple(method),
        mean=mean,
        lower=lower,
        upper=upper,
        residuals=residuals,
        backtest_mae=mae,
        backtest_rmse=rmse,
        backtest_bias=bias,
        timings=timings,
    )


def _recent_mean(
    rows: np.ndarray,
    prep: _Prepared,
    s: ForecastSettings,
    T: int,
    scores: np.ndarray,
    backtested: np.ndarray,
    mean: np.ndarray,
    lower: dict[int, np.ndarray],
    upper: dict[int, np.ndarray],
) -> None:
    """New series: the mean of their last four deseasonalised weeks, intervals from everyone's scores.

    The pooled scores are those of the backtested series of the same family (by the new series' own
    ADI so far), so a new slow mover gets a slow mover's spread.
    """
    recent = prep.model_input_smooth[rows, T - _RECENT_DAYS : T]
    with np.errstate(invalid="ignore"):
        level = np.nan_to_num(np.nanmean(recent, axis=1))
    mean[rows] = level[:, None] * prep.factor[rows, T:]
    adi = prep.classification.adi[rows]
    codes = prep.classification.code
    steady_pool = backtested & np.isin(codes, [CLASSES.index(DemandClass.SMOOTH), CLASSES.index(DemandClass.ERRATIC)])
    for is_steady in (True, False):
        pick = rows[(adi < 1.32) == is_steady]
        if len(pick) == 0:
            continue
        pool = scores[steady_pool if is_steady else backtested & ~steady_pool].ravel()
        pool = pool[~np.isnan(pool)][:200_000]
        for level_pct in s.levels:
            if len(pool) == 0:
                lower[level_pct][pick] = 0.0
                upper[level_pct][pick] = mean[pick] * 2
                continue
            q_lo, q_hi = conformal_bounds(pool[None, :], level_pct / 100)
            lo, hi = apply_bounds(mean[pick], np.repeat(q_lo, len(pick)), np.repeat(q_hi, len(pick)))
            lower[level_pct][pick], upper[level_pct][pick] = lo, hi
