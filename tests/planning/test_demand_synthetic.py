"""Demand panels from daily records; the seeded synthetic history keeps its promises."""

from __future__ import annotations

from datetime import date

import numpy as np
import pytest

from cloud.planning.classify import classify
from cloud.planning.demand import DemandError, build_panel
from cloud.planning.synthetic import SyntheticSpec, generate


def test_build_panel_sums_days_and_respects_listing() -> None:
    rows = [("A", "SH", date(2025, 1, 3), 2), ("A", "SH", date(2025, 1, 3), 3), ("B", "LA", date(2025, 1, 5), 1)]
    panel = build_panel(rows, date(2025, 1, 1), date(2025, 1, 8), listed={("A", "SH"): date(2025, 1, 2)})
    assert panel.keys == (("A", "SH"), ("B", "LA"))
    assert panel.values[0].tolist()[1:] == [0, 5, 0, 0, 0, 0] and np.isnan(panel.values[0, 0])
    assert np.isnan(panel.values[1, :4]).all() and panel.values[1, 4:].tolist() == [1, 0, 0]
    assert panel.first_day.tolist() == [1, 4]
    with pytest.raises(DemandError, match=r"record 1 \(A, SH, 2025-01-03\)"):
        build_panel([rows[0], ("A", "SH", date(2025, 1, 3), -1)], date(2025, 1, 1), date(2025, 1, 8))


def test_synthetic_history_is_seeded_and_varied() -> None:
    spec = SyntheticSpec(skus=60, warehouses=10, seed=11)
    a, b = generate(spec), generate(spec)
    np.testing.assert_array_equal(a.demand, b.demand)
    assert not np.array_equal(a.demand, generate(SyntheticSpec(skus=60, warehouses=10, seed=12)).demand)
    values = a.demand.astype(float)
    values[np.arange(values.shape[1])[None, :] < a.listed_from[:, None]] = np.nan
    c = classify(values)
    assert c.mask(*[x for x in type(c.classes()[0]) if x.intermittent]).mean() >= 0.30
    assert (a.listed_from > 0).any()  # new SKUs
    late = a.rates[:, -30:].sum(axis=1) < 0.05 * a.rates[:, -200:-170].sum(axis=1)
    assert late.any()  # dying SKUs
    sh = np.array([w == "SH" for _, w in a.keys])
    d1111 = (date(2024, 11, 11) - a.start).days
    assert a.rates[sh, d1111].sum() > 2.5 * a.rates[sh, d1111 - 14].sum()
