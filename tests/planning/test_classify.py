"""Syntetos-Boylan classification: the cut-offs 1.32 (ADI) and 0.49 (CV^2), and our two extra classes."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cloud.planning.classify import ADI_CUTOFF, CV2_CUTOFF, DemandClass, classify, sb_class


def _series(pattern: list[float], repeat: int) -> np.ndarray:
    return np.array([pattern * repeat], dtype=float)


@pytest.mark.parametrize(
    "adi, cv2, want",
    [
        (1.0, 0.0, DemandClass.SMOOTH),
        (1.3199, 0.4899, DemandClass.SMOOTH),
        (1.3199, 0.49, DemandClass.ERRATIC),
        (1.32, 0.4899, DemandClass.INTERMITTENT),
        (1.32, 0.49, DemandClass.LUMPY),
        (7.0, 2.0, DemandClass.LUMPY),
    ],
)
def test_cutoffs(adi: float, cv2: float, want: DemandClass) -> None:
    assert sb_class(adi, cv2) is want
    assert (ADI_CUTOFF, CV2_CUTOFF) == (1.32, 0.49)


def test_adi_and_cv2_of_known_series() -> None:
    # demand every day, sizes 10 and 20 alternately: ADI 1, CV^2 = (5/15)^2
    c = classify(_series([10, 20], 60), window=120, min_days=28)
    assert c.adi[0] == pytest.approx(1.0) and c.cv2[0] == pytest.approx((5 / 15) ** 2)
    assert c.classes() == [DemandClass.SMOOTH]
    # one demand in four days, always 3: ADI 4, CV^2 0 -> intermittent
    c = classify(_series([0, 0, 0, 3], 30), window=120, min_days=28)
    assert c.adi[0] == pytest.approx(4.0) and c.cv2[0] == pytest.approx(0.0)
    assert c.classes() == [DemandClass.INTERMITTENT]
    # one in four, sizes 1 and 9: CV^2 0.64 -> lumpy
    c = classify(_series([0, 0, 0, 1, 0, 0, 0, 9], 15), window=120, min_days=28)
    assert c.classes() == [DemandClass.LUMPY]
    # every day, sizes 1 and 9 -> erratic
    c = classify(_series([1, 9], 60), window=120, min_days=28)
    assert c.classes() == [DemandClass.ERRATIC]


def test_new_inactive_and_unlisted_days() -> None:
    values = np.zeros((3, 100))
    values[0, :90] = np.nan  # listed ten days ago
    values[0, 90:] = 5
    values[2, ::2] = 4  # every other day, but only the known (listed) days count
    values[2, :50] = np.nan
    c = classify(values, window=100, min_days=28)
    assert c.classes() == [DemandClass.NEW, DemandClass.INACTIVE, DemandClass.INTERMITTENT]
    assert c.adi[2] == pytest.approx(2.0)
    assert np.isnan(c.adi[1]) and np.isnan(c.cv2[1])


@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(min_value=0, max_value=30), min_size=60, max_size=200))
def test_class_agrees_with_its_own_measures(days: list[int]) -> None:
    c = classify(np.array([days], dtype=float), window=len(days), min_days=28)
    got = c.classes()[0]
    if sum(days) == 0:
        assert got is DemandClass.INACTIVE
    else:
        assert got is sb_class(float(c.adi[0]), float(c.cv2[0]))
        sizes = np.array([d for d in days if d > 0], dtype=float)
        assert c.adi[0] == pytest.approx(len(days) / len(sizes))
        assert c.cv2[0] == pytest.approx(sizes.var() / sizes.mean() ** 2)
