"""Unusual rates: loss and adjustments per SKU or warehouse, errors per operator, by robust z-scores.

Each entity (a SKU, a warehouse, an operator) has a rate per period: units lost or adjusted per unit
handled, picking errors per pick. Its latest rate is compared twice: with its own past periods
(a careful operator who suddenly errs) and with its peers in the same period (a warehouse that
always loses more than the others). Both comparisons use the median and the median absolute
deviation, which one past disaster or one terrible peer cannot drag along the way a mean and a
standard deviation would (Iglewicz and Hoaglin's modified z-score; 3.5 is their cut-off).

A rate from a small denominator is noisy: two errors in ten picks is not a crisis. So the spread
each comparison uses is never below the binomial noise of the entity's own rate at the reference
rate, ``sqrt(p (1 - p) / n)``, and the latest rate is shrunk toward the peers' median with a prior
worth ``prior_weight`` units. A flat history (MAD 0) therefore still gives finite, meaningful scores.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

MAD_TO_SIGMA = 1.4826
DEFAULT_THRESHOLD = 3.5


@dataclass(frozen=True)
class Anomaly:
    entity: str
    rate: float
    own_median: float
    peer_median: float
    z_own: float
    z_peer: float
    score: float
    flagged: bool
    threshold: float = DEFAULT_THRESHOLD

    def reason(self) -> str:
        parts = []
        if self.z_own >= self.threshold:
            parts.append(f"{self.rate:.2%} against its own usual {self.own_median:.2%} (z {self.z_own:.1f})")
        if self.z_peer >= self.threshold:
            parts.append(f"{self.rate:.2%} against peers' {self.peer_median:.2%} (z {self.z_peer:.1f})")
        return "; ".join(parts) or f"{self.rate:.2%}, within the usual range"


def robust_z(x: np.ndarray, center: float | np.ndarray, spread: float | np.ndarray) -> np.ndarray:
    """``(x - center) / spread`` with the spread floored at a tiny positive number."""
    return (x - center) / np.maximum(spread, 1e-12)


def score_rates(
    entities: list[str],
    numerators: np.ndarray,
    denominators: np.ndarray,
    threshold: float = DEFAULT_THRESHOLD,
    prior_weight: float = 50.0,
) -> list[Anomaly]:
    """Score the last period (last column) of each entity's rate; highest score first.

    ``numerators`` and ``denominators`` are (entities, periods): e.g. units adjusted and units
    handled per week. Only unusually *high* rates are flagged (a low loss rate is good news).
    """
    num = np.asarray(numerators, dtype=float)
    den = np.asarray(denominators, dtype=float)
    if num.shape != den.shape or num.ndim != 2 or num.shape[0] != len(entities):
        raise ValueError("numerators and denominators must both be (entities, periods), one row per entity")
    with np.errstate(invalid="ignore", divide="ignore"):
        rates = np.where(den > 0, num / den, np.nan)
    now_num, now_den = num[:, -1], den[:, -1]
    active = now_den > 0
    peer_median = float(np.nanmedian(rates[active, -1])) if active.any() else 0.0
    rate = (now_num + prior_weight * peer_median) / (now_den + prior_weight)
    past = rates[:, :-1]
    own_median = np.nanmedian(np.where(np.isnan(past).all(axis=1, keepdims=True), peer_median, past), axis=1)
    own_mad = np.nanmedian(np.abs(past - own_median[:, None]), axis=1) if past.shape[1] else np.zeros(len(rate))
    peers = rates[active, -1]
    peer_mad = float(np.nanmedian(np.abs(peers - peer_median))) if len(peers) else 0.0

    def noise(p: np.ndarray | float) -> np.ndarray:
        q = np.clip(p, 1e-6, 1 - 1e-6)
        return np.asarray(np.sqrt(q * (1 - q) / np.maximum(now_den + prior_weight, 1.0)))

    z_own = robust_z(rate, own_median, np.maximum(MAD_TO_SIGMA * np.nan_to_num(own_mad), noise(own_median)))
    z_peer = robust_z(rate, peer_median, np.maximum(MAD_TO_SIGMA * peer_mad, noise(peer_median)))
    z_own = np.where(active, z_own, 0.0)
    z_peer = np.where(active, z_peer, 0.0)
    score = np.maximum(z_own, z_peer)
    out = [
        Anomaly(
            entity=e,
            rate=float(rate[i]),
            own_median=float(own_median[i]),
            peer_median=peer_median,
            z_own=float(z_own[i]),
            z_peer=float(z_peer[i]),
            score=float(score[i]),
            flagged=bool(score[i] >= threshold),
            threshold=threshold,
        )
        for i, e in enumerate(entities)
    ]
    return sorted(out, key=lambda a: -a.score)
