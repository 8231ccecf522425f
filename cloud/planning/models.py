"""The candidate models, by name, as statsforecast model objects.

The smooth models run with ``season_length=1`` on deseasonalised series (``seasonality`` explains
why). Each class here is the statsforecast model with one change: ``fit`` fits a copy and returns it.
statsforecast's ``cross_validation(refit=False)`` calls ``model.fit`` on the one model object it was
given, which fits it in place, and then ``forward`` on the result; on a Dask worker running two
partitions in two threads, the second partition's fit lands between the first one's fit and
forward, and the first series get the other series' parameters (seen: the local-cluster test gave
different numbers on a threaded worker). A fitted copy per call makes the objects private to the call.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

from statsforecast.models import (
    ADIDA,
    IMAPA,
    TSB,
    AutoARIMA,
    AutoCES,
    AutoETS,
    AutoTheta,
    CrostonSBA,
    DynamicOptimizedTheta,
)

NATIVE_INTERVALS = frozenset({"AutoETS", "AutoTheta", "DynamicOptimizedTheta", "AutoARIMA"})
"""Models whose own prediction intervals are used. The Croston family has none; AutoCES has them, but
by simulation, at 25 times the cost of its fit (measured: 184 against 7 ms a series), so it gets
conformal ones like the Croston family."""


class _FitsACopy:
    def fit(self, y: Any, X: Any = None) -> Any:
        twin = copy.copy(self)
        return super(_FitsACopy, twin).fit(y=y, X=X)  # type: ignore[misc]


class _AutoETS(_FitsACopy, AutoETS):
    pass


class _AutoTheta(_FitsACopy, AutoTheta):
    pass


class _DynamicOptimizedTheta(_FitsACopy, DynamicOptimizedTheta):
    pass


class _AutoCES(_FitsACopy, AutoCES):
    pass


class _AutoARIMA(_FitsACopy, AutoARIMA):
    pass


_FACTORIES: dict[str, Callable[[], Any]] = {
    # additive errors on deseasonalised counts: damped, trended or level-only, picked by AICc
    "AutoETS": lambda: _AutoETS(season_length=1, model="AZN", alias="AutoETS"),
    "AutoTheta": lambda: _AutoTheta(season_length=1, alias="AutoTheta"),
    # the Theta variant that nests the others (Fiorucci et al. 2016), at a third of AutoTheta's cost
    "DynamicOptimizedTheta": lambda: _DynamicOptimizedTheta(season_length=1, alias="DynamicOptimizedTheta"),
    "AutoCES": lambda: _AutoCES(season_length=1, alias="AutoCES"),
    # a small stepwise search: the full one costs ~1 s a series on this hardware
    "AutoARIMA": lambda: _AutoARIMA(season_length=1, max_p=2, max_q=2, max_d=1, alias="AutoARIMA"),
    "CrostonSBA": lambda: CrostonSBA(alias="CrostonSBA"),
    "TSB": lambda: TSB(alpha_d=0.1, alpha_p=0.1, alias="TSB"),
    "ADIDA": lambda: ADIDA(alias="ADIDA"),
    "IMAPA": lambda: IMAPA(alias="IMAPA"),
}


def make_models(names: tuple[str, ...]) -> list[Any]:
    """Fresh model objects for the given names, in order (the column names are the same names)."""
    return [_FACTORIES[n]() for n in names]
