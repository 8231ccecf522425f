"""Syntetos-Boylan demand classes: which family of models a series should get.

Croston-type models exist because a series that is mostly zeros breaks the smoothing models made for
steady demand (they chase every spike and forecast a little every day). Syntetos and Boylan (2005)
split series by the average demand interval (ADI: days per day with demand) and the squared
coefficient of variation of the non-zero quantities (CV^2), with cut-offs 1.32 and 0.49 where the
best model family changes:

    ADI < 1.32,  CV^2 < 0.49   smooth        -> AutoETS / AutoTheta / AutoCES / AutoARIMA
    ADI < 1.32,  CV^2 >= 0.49  erratic       -> the same
    ADI >= 1.32, CV^2 < 0.49   intermittent  -> CrostonSBA / TSB / ADIDA / IMAPA
    ADI >= 1.32, CV^2 >= 0.49  lumpy         -> the same

Two more classes are ours: ``new`` (too little history to classify or backtest) and ``inactive`` (no
demand at all in the window: a phased-out SKU, forecast as zero).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

import numpy as np

ADI_CUTOFF = 1.32
CV2_CUTOFF = 0.49


class DemandClass(StrEnum):
    SMOOTH = "smooth"
    ERRATIC = "erratic"
    INTERMITTENT = "intermittent"
    LUMPY = "lumpy"
    NEW = "new"
    INACTIVE = "inactive"

    @property
    def intermittent(self) -> bool:
        """True for the classes Croston-type models are for."""
        return self in (DemandClass.INTERMITTENT, DemandClass.LUMPY)


CLASSES = tuple(DemandClass)


@dataclass(frozen=True)
class Classification:
    """Per series: ADI, CV^2 (NaN where undefined) and the class as an index into ``CLASSES``."""

    adi: np.ndarray
    cv2: np.ndarray
    code: np.ndarray

    def classes(self) -> list[DemandClass]:
        return [CLASSES[c] for c in self.code]

    def mask(self, *classes: DemandClass) -> np.ndarray:
        return np.isin(self.code, [CLASSES.index(c) for c in classes])


def sb_class(adi: float, cv2: float) -> DemandClass:
    """The Syntetos-Boylan class of one (ADI, CV^2) pair."""
    if adi < ADI_CUTOFF:
        return DemandClass.SMOOTH if cv2 < CV2_CUTOFF else DemandClass.ERRATIC
    return DemandClass.INTERMITTENT if cv2 < CV2_CUTOFF else DemandClass.LUMPY


def classify(values: np.ndarray, window: int = 182, min_days: int = 56) -> Classification:
    """Classify every row of a (series, days) matrix on its last ``window`` known days.

    NaN marks days before a series was listed. A series with fewer than ``min_days`` known days is
    ``new``; one without demand in the window is ``inactive``. A series with a single demand day
    has CV^2 0 (one size, no spread).
    """
    recent = values[:, -window:]
    known = ~np.isnan(recent)
    n_known = known.sum(axis=1)
    positive = np.where(known, recent, 0.0) > 0
    n_pos = positive.sum(axis=1)
    sizes = np.where(positive, recent, np.nan)
    with np.errstate(invalid="ignore", divide="ignore"):
        adi = np.where(n_pos > 0, n_known / np.maximum(n_pos, 1), np.nan)
        mean = np.nanmean(np.where(n_pos[:, None] > 0, sizes, 0.0), axis=1)
        var = np.where(n_pos > 1, np.nanvar(np.where(n_pos[:, None] > 1, sizes, 0.0), axis=1), 0.0)
        cv2 = np.where(n_pos > 0, var / np.maximum(mean, 1e-12) ** 2, np.nan)
    code = np.full(values.shape[0], CLASSES.index(DemandClass.INACTIVE), dtype=np.int8)
    steady = adi < ADI_CUTOFF
    low_cv = cv2 < CV2_CUTOFF
    code[(n_pos > 0) & steady & low_cv] = CLASSES.index(DemandClass.SMOOTH)
    code[(n_pos > 0) & steady & ~low_cv] = CLASSES.index(DemandClass.ERRATIC)
    code[(n_pos > 0) & ~steady & low_cv] = CLASSES.index(DemandClass.INTERMITTENT)
    code[(n_pos > 0) & ~steady & ~low_cv] = CLASSES.index(DemandClass.LUMPY)
    full_known = (~np.isnan(values)).sum(axis=1)
    code[(full_known < min_days) & (n_pos > 0)] = CLASSES.index(DemandClass.NEW)
    return Classification(adi=adi, cv2=cv2, code=code)
