"""Forecast accuracy and speed on a seeded multi-warehouse history, against seasonal naive in the same run.

The history is ``cloud.planning.synthetic`` (ten warehouses in China, the US and Germany; weekly and
yearly seasonality, trends, Chinese and US holidays, Spring Festival, 618, 11.11, Black Friday and a
site's own sale, launches, phase-outs, at least 30% intermittent series). For two forecast origins
the whole planning forecast (``cloud.planning.forecast.forecast_demand``: classification, event
factors, weekday profiles, rolling-origin backtests of every candidate, the final fits, intervals)
runs on every series for 28 days, and its forecast is scored on the 28 days that follow, next to
seasonal naive (the last week repeated), the baseline:

- *peak*: the 28 days from 5 November 2025 (11.11 in China, Black Friday to Cyber Monday in the US);
- *quiet*: the 28 days from 18 August 2025 (no event but the LA site's own sale's tail).

MASE is the mean absolute error over the horizon divided by the series' in-sample seasonal-naive
error (lag 7), averaged over series (those with any demand in their history); bias is
(forecast - actual) / actual over all series and days. The intermittent subset is the series our
classifier calls intermittent or lumpy. Time is wall clock for ``forecast_demand`` on the peak origin,
which runs first in a process that has not yet imported statsforecast, so it includes the import and
any first-call compilation (statsforecast >= 2.1 compiles nothing at run time; the cold start of a
separate process is reported too). CPU seconds (this process and its workers) are given beside the
wall clock because the machine may be shared. The full run also times the peak origin with
``final_refit = false`` (the backtest's fit rolled forward to the end instead of a last fit of
the chosen model, conformal intervals for every series): about a third less CPU.

    python -m bench.forecast [--quick] [--json] [--series N] [--models AutoETS,AutoTheta,...] [--dask ADDRESS]
"""

from __future__ import annotations

import os
import resource
import subprocess
import sys
import time
import warnings
from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np

from bench._common import emit_json, parser, rss_mb, table
from cloud.planning.calendar import build_tags
from cloud.planning.classify import DemandClass
from cloud.planning.demand import DemandPanel
from cloud.planning.engine import Engine, make_engine
from cloud.planning.settings import ForecastSettings, PlanningSettings
from cloud.planning.synthetic import SyntheticHistory, SyntheticSpec, generate

HORIZON = 28
ORIGINS = {"peak": date(2025, 11, 5), "quiet": date(2025, 8, 18)}
START = date(2023, 9, 1)


@dataclass
class Scored:
    origin: str
    series: int
    mase: float
    mase_naive: float
    bias: float
    bias_naive: float
    intermittent_mase: float
    intermittent_mase_naive: float
    intermittent_bias: float
    intermittent_share: float
    coverage_80: float
    coverage_95: float
    wall_s: float
    cpu_s: float
    models: dict[str, int]


def _cpu() -> float:
    t = os.times()
    return t.user + t.system + t.children_user + t.children_system


def _observed(history: SyntheticHistory) -> np.ndarray:
    values = history.demand.astype(np.float64)
    values[np.arange(values.shape[1])[None, :] < history.listed_from[:, None]] = np.nan
    return values


def _mase(actual: np.ndarray, fcst: np.ndarray, scale: np.ndarray) -> np.ndarray:
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.asarray(np.abs(actual - fcst).mean(axis=1) / scale)


def _score(name: str, history: SyntheticHistory, origin: date, settings: ForecastSettings, engine: Engine) -> Scored:
    from cloud.planning.forecast import forecast_demand

    values = _observed(history)
    cut = (origin - history.start).days
    panel = DemandPanel(history.keys, history.start, values[:, :cut])
    tags = build_tags(history.network.warehouses, history.start, cut + HORIZON, history.site_events)
    actual = values[:, cut : cut + HORIZON]
    c0, t0 = _cpu(), time.perf_counter()
    result = forecast_demand(panel, tags, settings, engine)
    wall, cpu = time.perf_counter() - t0, _cpu() - c0
    hist = panel.values
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # series listed too late to have a lag-7 difference
        scale = np.nanmean(np.abs(hist[:, 7:] - hist[:, :-7]), axis=1)
    naive = np.tile(np.nan_to_num(hist[:, -7:]), HORIZON // 7)
    ok = (scale > 0) & ~np.isnan(actual).any(axis=1)
    inter = result.classification.mask(DemandClass.INTERMITTENT, DemandClass.LUMPY)
    ours, base = _mase(actual, result.mean, scale), _mase(actual, naive, scale)

    def bias(f: np.ndarray, rows: np.ndarray) -> float:
        return float((f[rows].sum() - actual[rows].sum()) / actual[rows].sum())

    def cover(level: int) -> float:
        inside = (actual >= result.lower[level] - 1e-9) & (actual <= result.upper[level] + 1e-9)
        return float(inside[ok].mean())

    listed = ~np.isnan(actual).any(axis=1)
    return Scored(
        origin=name,
        series=len(history.keys),
        mase=float(ours[ok].mean()),
        mase_naive=float(base[ok].mean()),
        bias=bias(result.mean, listed),
        bias_naive=bias(naive, listed),
        intermittent_mase=float(ours[ok & inter].mean()),
        intermittent_mase_naive=float(base[ok & inter].mean()),
        intermittent_bias=bias(result.mean, listed & inter),
        intermittent_share=float(inter.mean()),
        coverage_80=cover(80),
        coverage_95=cover(95),
        wall_s=wall,
        cpu_s=cpu,
        models={m: result.model.count(m) for m in sorted(set(result.model))},
    )


def _cold_start() -> float:
    """Seconds for a fresh interpreter to import statsforecast and fit each candidate once."""
    code = (
        "import time, numpy as np; t = time.perf_counter()\n"
        "from cloud.planning.models import make_models\n"
        "from cloud.planning.settings import SMOOTH_MODELS, INTERMITTENT_MODELS\n"
        "y = np.abs(np.random.default_rng(0).normal(10, 3, 120))\n"
        "[m.forecast(y=y, h=7) for m in make_models(SMOOTH_MODELS + INTERMITTENT_MODELS)]\n"
        "print(time.perf_counter() - t)\n"
    )
    out = subprocess.run([sys.executable, "-W", "ignore", "-c", code], capture_output=True, text=True, check=True)
    return float(out.stdout.strip().splitlines()[-1])


def main() -> None:
    p = parser(__doc__ or "")
    p.add_argument("--series", type=int, default=0, help="SKU x warehouse series (default 10,000; --quick 600)")
    p.add_argument("--models", default="", help="smooth candidates, comma-separated (default: the settings')")
    p.add_argument("--dask", default="", help="run on the Dask scheduler at this address")
    args = p.parse_args()
    n_series = args.series or (600 if args.quick else 10_000)
    skus = max(1, n_series // 10)
    settings = ForecastSettings(horizon=HORIZON)
    if args.models:
        settings = settings.model_copy(update={"smooth_models": tuple(args.models.split(","))})
        settings = ForecastSettings.model_validate(settings.model_dump())
    planning = PlanningSettings(engine="dask", dask_scheduler=args.dask) if args.dask else PlanningSettings()
    engine: Engine = make_engine(planning)  # sets the compile cache up, as the cloud does
    last = max(ORIGINS.values()) + timedelta(days=HORIZON)
    history = generate(SyntheticSpec(skus=skus, warehouses=10, start=START, days=(last - START).days))
    assert "statsforecast" not in sys.modules  # the first forecast pays the import: 'compile included'
    scored = [_score(name, history, origin, settings, engine) for name, origin in ORIGINS.items()]
    rolled = None
    if not args.quick:  # the faster setting: the backtest fit rolled forward, conformal intervals
        fast = settings.model_copy(update={"final_refit": False})
        rolled = _score("peak", history, ORIGINS["peak"], fast, engine)
    cold = _cold_start()
    peak = scored[0]

    def pct(a: float, b: float) -> float:
        return 100 * (1 - a / b)

    rows: list[list[object]] = []
    for s in scored:
        rows.append(
            [
                s.origin,
                "ours",
                f"{s.mase:.3f}",
                f"{s.intermittent_mase:.3f}",
                f"{100 * s.bias:+.1f}%",
                s.wall_s,
                s.cpu_s,
            ]
        )
        rows.append(
            [
                s.origin,
                "seasonal naive",
                f"{s.mase_naive:.3f}",
                f"{s.intermittent_mase_naive:.3f}",
                f"{100 * s.bias_naive:+.1f}%",
                "",
                "",
            ]
        )
    if rolled is not None:
        rows.insert(
            1,
            [
                "peak",
                "ours, final_refit=false",
                f"{rolled.mase:.3f}",
                f"{rolled.intermittent_mase:.3f}",
                f"{100 * rolled.bias:+.1f}%",
                rolled.wall_s,
                rolled.cpu_s,
            ],
        )
    table(
        f"forecast {HORIZON} days ahead, {n_series:,} SKU x warehouse series ({100 * peak.intermittent_share:.0f}%"
        " intermittent); MASE lower is better; time = forecast_demand wall s (first run includes the import)",
        ["origin", "model", "MASE", "MASE intermittent", "bias", "fit+predict s", "CPU s"],
        rows,
    )
    mase = float(np.mean([s.mase for s in scored]))
    mase_naive = float(np.mean([s.mase_naive for s in scored]))
    i_mase = float(np.mean([s.intermittent_mase for s in scored]))
    i_naive = float(np.mean([s.intermittent_mase_naive for s in scored]))
    print(
        f"\nboth origins: MASE {mase:.3f} vs seasonal naive {mase_naive:.3f} ({pct(mase, mase_naive):.1f}% lower); "
        f"intermittent {i_mase:.3f} vs {i_naive:.3f} ({pct(i_mase, i_naive):.1f}% lower)"
    )
    print(f"interval coverage (peak): 80% -> {peak.coverage_80:.3f}, 95% -> {peak.coverage_95:.3f}")
    print(f"models chosen (peak): {peak.models}")
    print(f"cold start of a fresh process (import + one fit of each candidate): {cold:.1f} s")
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print(f"peak RSS: {rss_mb():.0f} MB (workers: {children:.0f} MB)")
    figures: dict[str, object] = {
        "series": n_series,
        "horizon_days": HORIZON,
        "mase": round(mase, 4),
        "mase_naive": round(mase_naive, 4),
        "mase_gain_pct": round(pct(mase, mase_naive), 1),
        "bias": round(float(np.mean([s.bias for s in scored])), 4),
        "bias_naive": round(float(np.mean([s.bias_naive for s in scored])), 4),
        "intermittent_mase": round(i_mase, 4),
        "intermittent_mase_naive": round(i_naive, 4),
        "intermittent_mase_gain_pct": round(pct(i_mase, i_naive), 1),
        "intermittent_bias": round(float(np.mean([s.intermittent_bias for s in scored])), 4),
        "intermittent_share": round(peak.intermittent_share, 3),
        "coverage_80": round(peak.coverage_80, 3),
        "coverage_95": round(peak.coverage_95, 3),
        "by_origin": {
            s.origin: {
                "mase": round(s.mase, 4),
                "mase_naive": round(s.mase_naive, 4),
                "mase_gain_pct": round(pct(s.mase, s.mase_naive), 1),
                "intermittent_mase": round(s.intermittent_mase, 4),
                "intermittent_mase_naive": round(s.intermittent_mase_naive, 4),
                "bias": round(s.bias, 4),
                "fit_predict_s": round(s.wall_s, 1),
                "cpu_s": round(s.cpu_s, 1),
            }
            for s in scored
        },
        "fit_predict_s": round(peak.wall_s, 1),
        "fit_predict_cpu_s": round(peak.cpu_s, 1),
        "cold_start_s": round(cold, 1),
        "cores": os.cpu_count(),
        "rss_mb": round(rss_mb(), 1),
        "goal": {"mase_gain_pct": 15, "fit_predict_10k_s": 60},
    }
    if rolled is not None:
        figures["final_refit_false"] = {
            "mase": round(rolled.mase, 4),
            "mase_naive": round(rolled.mase_naive, 4),
            "coverage_80": round(rolled.coverage_80, 3),
            "coverage_95": round(rolled.coverage_95, 3),
            "fit_predict_s": round(rolled.wall_s, 1),
            "cpu_s": round(rolled.cpu_s, 1),
        }
    if n_series == 10_000:
        figures["fit_predict_10k_s"] = round(peak.wall_s, 1)
        if rolled is not None:
            figures["fit_predict_10k_s_final_refit_false"] = round(rolled.wall_s, 1)
    if args.json:
        emit_json(figures)


if __name__ == "__main__":
    main()
