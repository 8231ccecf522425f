"""The same forecast on a Dask cluster started by the test as in this process.

The cluster runs in-process (``processes=False``) with two threads on its one worker: the setting in
which statsforecast's ``refit=False`` cross-validation, fitting one shared model object in place,
gave wrong numbers before ``cloud.planning.models`` fitted a copy per call.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

from cloud.planning.engine import DaskEngine, LocalEngine
from cloud.planning.forecast import forecast_demand
from tests.planning.conftest import Case

distributed = pytest.importorskip("dask.distributed")


def test_dask_cluster_gives_the_in_process_forecasts(case: Case) -> None:
    panel = case.panel.rows(np.arange(0, len(case.panel.keys), 3))  # a third of the series: keep it quick
    settings = case.settings.model_copy(update={"intermittent_models": ("CrostonSBA", "TSB")})
    local = forecast_demand(panel, case.tags, settings, LocalEngine(n_jobs=1))
    with (
        distributed.LocalCluster(n_workers=1, threads_per_worker=2, processes=False, dashboard_address=None) as cluster,
        distributed.Client(cluster) as client,
    ):
        remote = forecast_demand(panel, case.tags, settings, DaskEngine(client=client, partitions=4))
    assert remote.model == local.model
    np.testing.assert_allclose(remote.mean, local.mean, rtol=1e-4, atol=1e-6)
    for level in local.lower:
        np.testing.assert_allclose(remote.lower[level], local.lower[level], rtol=1e-4, atol=1e-6)
        np.testing.assert_allclose(remote.upper[level], local.upper[level], rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(remote.residuals, local.residuals, rtol=1e-4, atol=1e-6, equal_nan=True)


def test_threads_sharing_a_model_do_not_mix_series() -> None:
    """Eight partitions on four threads, fit once and rolled forward: each series keeps its own fit.

    With statsforecast's model fitted in place this differed by up to 16 units a day (measured).
    """
    from cloud.planning.engine import CrossValidation
    from cloud.planning.forecast import _long_frame
    from cloud.planning.models import make_models

    rng = np.random.default_rng(0)
    x = rng.poisson(rng.uniform(5, 50, (200, 1)), (200, 200)).astype(float)
    frame = _long_frame(x, 140, 0)

    def job() -> CrossValidation:
        return CrossValidation(make_models(("AutoETS",)), h=28, windows=2, input_size=84, refit=False, level=None)

    want = LocalEngine(n_jobs=1).run(job(), frame).sort_values(["unique_id", "cutoff", "ds"])["AutoETS"].to_numpy()
    with (
        distributed.LocalCluster(n_workers=1, threads_per_worker=4, processes=False, dashboard_address=None) as cluster,
        distributed.Client(cluster) as client,
    ):
        for _ in range(2):
            got = DaskEngine(client=client, partitions=8).run(job(), frame)
            got = got.sort_values(["unique_id", "cutoff", "ds"])["AutoETS"].to_numpy()
            np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-4)


def test_settings_pick_the_engine(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from cloud.planning.engine import make_engine
    from cloud.planning.settings import PlanningSettings

    monkeypatch.delenv("NUMBA_CACHE_DIR", raising=False)
    monkeypatch.delenv("NIXTLA_NUMBA_CACHE", raising=False)
    assert isinstance(make_engine(PlanningSettings(numba_cache_dir=tmp_path / "c")), LocalEngine)
    engine = make_engine(PlanningSettings(engine="dask", dask_scheduler="tcp://127.0.0.1:1", numba_cache_dir=tmp_path))
    assert isinstance(engine, DaskEngine) and engine.address == "tcp://127.0.0.1:1"
    with pytest.raises(ValueError, match="dask_scheduler"):
        PlanningSettings(engine="dask")


def test_compile_cache_goes_where_configured_unless_the_environment_says(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from cloud.planning.engine import configure_compile_cache

    monkeypatch.delenv("NUMBA_CACHE_DIR", raising=False)
    monkeypatch.delenv("NIXTLA_NUMBA_CACHE", raising=False)
    assert configure_compile_cache(tmp_path / "numba") == tmp_path / "numba"
    assert (tmp_path / "numba").is_dir()
    assert os.environ["NIXTLA_NUMBA_CACHE"] == "1" and os.environ["NUMBA_CACHE_DIR"] == str(tmp_path / "numba")
    monkeypatch.setenv("NUMBA_CACHE_DIR", str(tmp_path / "ops-choice"))
    assert configure_compile_cache(tmp_path / "numba") == tmp_path / "ops-choice"
