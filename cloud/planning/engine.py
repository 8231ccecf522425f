"""Where the model fitting runs: in this process (default) or on a Dask cluster.

Both engines make the same statsforecast call, ``StatsForecast.cross_validation``, on the same long
frame; the Dask engine hands statsforecast a Dask DataFrame, and statsforecast's own distributed
backend (Fugue) partitions the series by id over the cluster's workers. So the numbers are the same
wherever they run (``tests/planning/test_dask_engine.py`` checks it), and only the pure numpy steps
before and after (classification, event factors, selection, intervals) stay on the planner's host.

Compile cache: statsforecast before 2.1 compiled its models with numba on first call (several seconds
a model, every process start) unless ``NIXTLA_NUMBA_CACHE`` was set, and then cached the machine code
in numba's cache directory. ``configure_compile_cache`` sets both before statsforecast is imported:
``NIXTLA_NUMBA_CACHE=1`` and ``NUMBA_CACHE_DIR`` (default ``var/numba-cache``, setting
``numba_cache_dir``), without overriding values already in the environment. statsforecast 2.1, our
lower bound, ships its models compiled (C++), so today the cache only serves numba code elsewhere in
the stack (utilsforecast when numba is installed); the bench reports the cold start with it.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import pandas as pd

from cloud.planning.settings import PlanningSettings


def configure_compile_cache(cache_dir: Path) -> Path:
    """Point numba's on-disk cache at ``cache_dir`` (created) unless the environment already chose one."""
    os.environ.setdefault("NIXTLA_NUMBA_CACHE", "1")
    chosen = Path(os.environ.setdefault("NUMBA_CACHE_DIR", str(cache_dir)))
    chosen.mkdir(parents=True, exist_ok=True)
    return chosen


@dataclass(frozen=True)
class CrossValidation:
    """One statsforecast cross-validation call: ``windows`` rolling origins ``h`` days apart."""

    models: list[Any]
    h: int
    windows: int
    input_size: int | None
    refit: bool
    level: list[int] | None


class Engine(Protocol):
    def run(self, job: CrossValidation, frame: pd.DataFrame) -> pd.DataFrame:
        """The cross-validation frame: ``unique_id, ds, cutoff, y`` and the models' columns, in any order."""
        ...


@contextmanager
def _quiet() -> Iterator[None]:
    # ARIMA's optimiser warns on every non-converged candidate; the search still picks a model
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        warnings.simplefilter("ignore", RuntimeWarning)
        yield


@dataclass
class LocalEngine:
    """statsforecast in this process, with ``n_jobs`` worker processes (0: one a core)."""

    n_jobs: int = 0

    def run(self, job: CrossValidation, frame: pd.DataFrame) -> pd.DataFrame:
        from statsforecast import StatsForecast

        n_jobs = self.n_jobs or os.cpu_count() or 1
        n_series = int(frame["unique_id"].nunique())
        sf = StatsForecast(models=job.models, freq=1, n_jobs=min(n_jobs, max(1, n_series // 200)))
        with _quiet():
            return sf.cross_validation(
                df=frame,
                h=job.h,
                n_windows=job.windows,
                step_size=job.h,
                input_size=job.input_size,
                refit=job.refit,
                level=job.level,
            )


@dataclass
class DaskEngine:
    """statsforecast's distributed backend on the Dask cluster at ``address`` (or an existing ``client``)."""

    address: str | None = None
    partitions: int = 0
    client: Any = None

    def run(self, job: CrossValidation, frame: pd.DataFrame) -> pd.DataFrame:
        import dask.dataframe as dd
        from dask.distributed import Client
        from statsforecast import StatsForecast

        own = self.client is None
        client = Client(self.address) if own else self.client  # type: ignore[no-untyped-call]
        try:
            workers = max(1, len(client.scheduler_info().get("workers", {})))
            parts = self.partitions or 2 * workers
            n_parts = max(1, min(parts, int(frame["unique_id"].nunique())))
            ddf = dd.from_pandas(frame, npartitions=n_parts)  # type: ignore[no-untyped-call]
            sf = StatsForecast(models=job.models, freq=1)
            with _quiet():
                out = sf.cross_validation(
                    df=ddf,
                    h=job.h,
                    n_windows=job.windows,
                    step_size=job.h,
                    input_size=job.input_size,
                    refit=job.refit,
                    level=job.level,
                )
                result = out.compute() if hasattr(out, "compute") else out
        finally:
            if own:
                client.close()
        result = pd.DataFrame(result)
        for col in result.columns:
            if col not in ("unique_id",):
                result[col] = pd.to_numeric(result[col], errors="coerce").astype("float64")
        return result


def make_engine(settings: PlanningSettings) -> Engine:
    """The engine the settings ask for; the compile cache is configured first."""
    configure_compile_cache(settings.numba_cache_dir)
    if settings.engine == "dask":
        return DaskEngine(address=settings.dask_scheduler, partitions=settings.dask_partitions)
    return LocalEngine(n_jobs=settings.n_jobs)
