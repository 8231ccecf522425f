"""The ``[planning]`` settings: one validated object passed to every planning step.

Defaults are the figures the benchmarks were measured with (``bench/forecast.py``,
``bench/rebalance.py``); README's Planning section documents each key.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

SMOOTH_MODELS = ("AutoETS", "AutoTheta", "DynamicOptimizedTheta", "AutoCES", "AutoARIMA")
INTERMITTENT_MODELS = ("CrostonSBA", "TSB", "ADIDA", "IMAPA")


class _Settings(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ForecastSettings(_Settings):
    horizon: int = Field(default=28, ge=7, le=30, description="Days forecast ahead.")
    levels: tuple[int, ...] = Field(default=(80, 95), description="Prediction interval levels, percent.")
    backtest_windows: int = Field(
        default=2, ge=1, le=8, description="Rolling-origin windows of `horizon` days that choose each series' model."
    )
    fit_days: int = Field(default=84, ge=28, le=1096, description="History the smooth models are fitted on.")
    intermittent_fit_days: int = Field(default=364, ge=28, le=1096, description="History of the Croston-type models.")
    classify_days: int = Field(default=182, ge=28, description="Window of the Syntetos-Boylan classification.")
    min_history_days: int = Field(
        default=56, ge=14, description="Below this a series is `new` and gets its recent mean, not a fitted model."
    )
    profile_weeks: int = Field(default=26, ge=4, description="Weeks of history behind the weekday profiles.")
    profile_prior_units: float = Field(default=200.0, ge=0, description="Shrinkage of weekday profiles, in units.")
    uplift_prior_units: float = Field(default=20.0, ge=0, description="Shrinkage of event factors, in units.")
    smooth_models: tuple[str, ...] = Field(
        default=("AutoETS", "DynamicOptimizedTheta"),
        min_length=1,
        description="Candidates for smooth and erratic series; also AutoTheta, AutoCES, AutoARIMA.",
    )
    intermittent_models: tuple[str, ...] = Field(default=INTERMITTENT_MODELS, min_length=1)
    final_refit: bool = Field(
        default=True,
        description="Fit the chosen model again on the latest data (its own intervals); false: roll the "
        "backtest fit forward, conformal intervals, about a third less CPU.",
    )
    selection_metric: Literal["rmse", "mae"] = Field(
        default="rmse", description="Backtest error that picks the model (rmse keeps forecasts unbiased)."
    )

    @field_validator("levels")
    @classmethod
    def _levels(cls, value: tuple[int, ...]) -> tuple[int, ...]:
        if not value or any(not 50 <= v < 100 for v in value):
            raise ValueError("levels are percentages from 50 to 99")
        return tuple(sorted(set(value)))

    @field_validator("smooth_models")
    @classmethod
    def _smooth(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        return _known(value, SMOOTH_MODELS)

    @field_validator("intermittent_models")
    @classmethod
    def _intermittent(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        return _known(value, INTERMITTENT_MODELS)


def _known(value: tuple[str, ...], allowed: tuple[str, ...]) -> tuple[str, ...]:
    unknown = [m for m in value if m not in allowed]
    if unknown:
        raise ValueError(f"unknown model {unknown[0]!r}; choose from {', '.join(allowed)}")
    return tuple(dict.fromkeys(value))


class RebalanceSettings(_Settings):
    """Arguments of ``rebalance.rebalance`` (see its docstring for the economics)."""

    projection_days: int = Field(default=21, ge=1, le=90, description="Days projected; lanes slower are unused.")
    stockout_cost: float = Field(default=50.0, ge=0, description="Cost of a unit projected short of zero.")
    buffer_cost: float = Field(default=0.25, ge=0, description="Cost of a unit short of safety stock only.")
    give_cost: float = Field(default=10.0, ge=0, description="Cost of a unit an origin gives from its safety stock.")
    give_safety_stock: bool = Field(default=True, description="false: an origin gives only its surplus.")
    late_penalty: float = Field(default=5.0, ge=0, description="Cost a unit a day it lands after a stock-out starts.")
    trigger: float = Field(default=0.5, ge=0, le=1, description="Ask for stock below this share of safety stock.")
    tiers: tuple[Annotated[int, Field(ge=0, le=90)], ...] = Field(
        default=(0, 2, 4, 7),
        max_length=30,
        description="Days after the first lane lands: stock-outs served by them in turn.",
    )
    lost_sales: bool = Field(default=True, description="A stock-out before a lane lands is lost, not shipped for.")
    max_rounds: int = Field(default=20, ge=1, description="Re-solves after closing under-filled lanes.")

    def arguments(self) -> dict[str, Any]:
        args = self.model_dump(exclude={"projection_days", "give_safety_stock"})
        if not self.give_safety_stock:
            args["give_cost"] = None
        return args


class PlanningSettings(_Settings):
    engine: Literal["local", "dask"] = Field(
        default="local", description="`local`: in this process (one worker process a core); `dask`: a Dask cluster."
    )
    dask_scheduler: str | None = Field(default=None, description="Scheduler address, e.g. tcp://10.0.0.5:8786.")
    dask_partitions: int = Field(default=0, ge=0, description="Partitions of the series; 0: two per Dask worker.")
    n_jobs: int = Field(default=0, ge=0, description="Local worker processes; 0: one a core.")
    numba_cache_dir: Path = Field(
        default=Path("var/numba-cache"), description="Where compiled numba functions are cached (NUMBA_CACHE_DIR)."
    )
    forecast: ForecastSettings = ForecastSettings()
    rebalance: RebalanceSettings = RebalanceSettings()
    anomaly_threshold: float = Field(default=3.5, gt=0, description="Robust z-score above which a rate is flagged.")
    service_levels: dict[str, float] = Field(
        default={"A": 0.98, "B": 0.95, "C": 0.90}, description="Cycle service level per SKU class."
    )
    abc_shares: tuple[float, float] = Field(
        default=(0.8, 0.95), description="Cumulative volume shares that end classes A and B."
    )
    schedule: str = Field(
        default="",
        description='When the cloud service plans by itself: "HH:MM" (daily, UTC), "every 6h", "every 30m"; '
        '"" (default): only on demand.',
    )
    history_days: int = Field(
        default=730, ge=28, le=3660, description="Days of demand history a planning run reads (up to yesterday)."
    )

    @field_validator("service_levels")
    @classmethod
    def _levels(cls, value: dict[str, float]) -> dict[str, float]:
        for k, v in value.items():
            if not 0.5 <= v < 1:
                raise ValueError(f"service level of class {k!r} must be in [0.5, 1), got {v}")
        return value

    @field_validator("schedule")
    @classmethod
    def _schedule(cls, value: str) -> str:
        if not re.fullmatch(r"|([01]\d|2[0-3]):[0-5]\d|every [1-9]\d{0,3}[mh]", value):
            raise ValueError(f'{value!r}: give "HH:MM" (daily, UTC), "every Nh" or "every Nm", or "" (on demand only)')
        return value

    @model_validator(mode="after")
    def _dask(self) -> PlanningSettings:
        if self.engine == "dask" and not self.dask_scheduler:
            raise ValueError('engine = "dask" needs dask_scheduler (the scheduler address)')
        return self
