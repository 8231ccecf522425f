"""Anomaly scores: a planted outlier is flagged, a chronic one by its peers, small numbers are not alarms."""

from __future__ import annotations

import numpy as np

from cloud.planning.anomaly import score_rates


def test_a_planted_outlier_is_flagged_and_nobody_else() -> None:
    rng = np.random.default_rng(5)
    ops = [f"op-{i:02d}" for i in range(30)]
    picks = rng.integers(800, 1200, (30, 12)).astype(float)
    errors = rng.binomial(picks.astype(int), 0.01).astype(float)
    errors[7, -1] = picks[7, -1] * 0.05  # op-07 errs five times as often this week
    report = score_rates(ops, errors, picks)
    assert report[0].entity == "op-07" and report[0].flagged
    assert report[0].z_own > 3.5 and report[0].z_peer > 3.5
    assert [a.entity for a in report if a.flagged] == ["op-07"]
    assert "against its own usual" in report[0].reason()


def test_one_that_always_loses_more_is_flagged_by_its_peers_only() -> None:
    handled = np.full((10, 8), 10_000.0)
    lost = np.full((10, 8), 20.0)
    lost[3] = 200.0  # warehouse 3 always loses 2%, the others 0.2%
    report = {a.entity: a for a in score_rates([f"W{i}" for i in range(10)], lost, handled)}
    assert report["W3"].flagged and report["W3"].z_peer > 3.5 and abs(report["W3"].z_own) < 1
    assert not any(a.flagged for e, a in report.items() if e != "W3")


def test_small_numbers_are_not_alarms() -> None:
    handled = np.full((10, 6), 1000.0)
    lost = np.full((10, 6), 2.0)
    handled[0, -1], lost[0, -1] = 10.0, 1.0  # one lost in ten handled: 10%, but from ten units
    report = {a.entity: a for a in score_rates([f"S{i}" for i in range(10)], lost, handled)}
    assert not report["S0"].flagged
