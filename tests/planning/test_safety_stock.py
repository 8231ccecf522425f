"""Safety stock: the lead-time error quantile, monotone in the service level; bootstrapped when intermittent."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from cloud.planning.classify import DemandClass
from cloud.planning.forecast import ForecastResult
from cloud.planning.safety_stock import (
    abc_classes,
    bootstrap_lead_time_demand,
    lead_time_errors,
    safety_stock,
    service_levels,
)
from tests.planning.conftest import Case


def test_lead_time_errors_are_sums_inside_each_window() -> None:
    res = np.arange(12, dtype=float).reshape(1, 2, 6)  # windows [0..5] and [6..11]
    got = lead_time_errors(res, 3)
    assert got.tolist() == [[3, 6, 9, 12, 21, 24, 27, 30]]
    assert lead_time_errors(res, 8).tolist() == [[28, 36, 44, 52, 60]]  # longer than a window: across windows
    assert lead_time_errors(res, 24).shape == (1, 1)


def test_abc_by_volume() -> None:
    classes = abc_classes(np.array([1.0, 80.0, 10.0, 5.0, 4.0]))
    assert classes.tolist() == ["C", "A", "B", "B", "C"]
    assert service_levels(classes, {"A": 0.98, "B": 0.95}, default=0.9).tolist() == [0.9, 0.98, 0.95, 0.95, 0.9]


@settings(max_examples=40, deadline=None)
@given(
    residuals=arrays(np.float64, (3, 2, 14), elements=st.floats(-50, 50, allow_nan=False)),
    history=arrays(np.float64, (3, 60), elements=st.floats(0, 40, allow_nan=False)),
    lead_time=st.integers(1, 20),
    levels=st.lists(st.floats(0.5, 0.999), min_size=2, max_size=2),
)
def test_monotone_in_service_level(
    residuals: np.ndarray, history: np.ndarray, lead_time: int, levels: list[float]
) -> None:
    low, high = sorted(levels)
    mean = np.full((3, 14), 5.0)
    inter = np.array([False, True, False])
    lt = np.full(3, lead_time)
    a = safety_stock(mean, residuals, history, inter, lt, np.full(3, low), draws=200, seed=1)
    b = safety_stock(mean, residuals, history, inter, lt, np.full(3, high), draws=200, seed=1)
    assert (a.safety_stock <= b.safety_stock + 1e-9).all()
    assert (a.safety_stock >= 0).all()
    np.testing.assert_allclose(b.reorder_point, b.lead_time_demand + b.safety_stock)
    assert a.method == ("empirical", "bootstrap", "empirical")


def test_bootstrap_draws_from_known_days_only() -> None:
    history = np.full((1, 100), np.nan)
    history[0, -10:] = [0, 0, 0, 5, 0, 0, 0, 0, 5, 0]
    draws = bootstrap_lead_time_demand(history, 7, 4000, seed=3)
    assert set(np.unique(draws)) <= {0.0, 5.0, 10.0, 15.0, 20.0, 25.0, 30.0, 35.0}
    assert draws.mean() == pytest.approx(7 * 1.0, rel=0.05)


def test_on_the_forecast(case: Case, forecast: ForecastResult) -> None:
    classes = forecast.classification.classes()
    inter = np.array([c.intermittent or c is DemandClass.NEW for c in classes])
    lt = np.full(len(classes), 7)
    ss = safety_stock(forecast.mean, forecast.residuals, case.panel.values, inter, lt, np.full(len(classes), 0.95))
    busy = forecast.mean.sum(axis=1) > 50
    assert (ss.safety_stock[busy] > 0).mean() > 0.9
    # a 95% lead-time quantile: above the mean demand, below five times it for almost every series
    assert (ss.reorder_point[busy] <= 5 * ss.lead_time_demand[busy] + 30).mean() > 0.95
