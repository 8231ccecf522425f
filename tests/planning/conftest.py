"""A small seeded network history shared by the planning tests, and one forecast of it.

The forecast is made once per session (module imports and fits cost seconds) at an origin whose
28-day horizon holds 11.11, so the event factors matter to the numbers the tests check.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np
import pytest

from cloud.planning.calendar import DayTags, build_tags
from cloud.planning.demand import DemandPanel
from cloud.planning.forecast import ForecastResult, forecast_demand
from cloud.planning.settings import ForecastSettings
from cloud.planning.synthetic import SyntheticHistory, SyntheticSpec, generate

ORIGIN = date(2025, 10, 20)
HORIZON = 28


@dataclass(frozen=True)
class Case:
    history: SyntheticHistory
    panel: DemandPanel
    tags: DayTags
    actual: np.ndarray
    settings: ForecastSettings


def observed(history: SyntheticHistory) -> np.ndarray:
    """The drawn demand with NaN before each series was listed."""
    values = history.demand.astype(np.float64)
    values[np.arange(values.shape[1])[None, :] < history.listed_from[:, None]] = np.nan
    return values


@pytest.fixture(scope="session")
def case() -> Case:
    history = generate(SyntheticSpec(skus=40, warehouses=4, seed=3))
    values = observed(history)
    cut = (ORIGIN - history.start).days
    panel = DemandPanel(history.keys, history.start, values[:, :cut])
    tags = build_tags(history.network.warehouses, history.start, cut + HORIZON, history.site_events)
    return Case(history, panel, tags, values[:, cut : cut + HORIZON], ForecastSettings(horizon=HORIZON))


@pytest.fixture(scope="session")
def forecast(case: Case) -> ForecastResult:
    return forecast_demand(case.panel, case.tags, case.settings)
