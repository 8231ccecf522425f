"""A planning run over the cloud's own tables: a seeded synthetic network and its history imported, stock
on hand skewed so that one site runs short, then a run stores forecasts (model, error, intervals) and
rebalancing recommendations with the numbers behind them; the API serves them for the dashboard's
forecast-vs-actual panel. The schedule claims each slot once and stops cleanly with the service."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from cloud.db.engine import make_engine
from cloud.db.schema import planning_runs, stock_balance
from cloud.network import store
from cloud.planning.config import DispatchConfig
from cloud.planning.history import HistoryRow, import_history
from cloud.planning.runner import plan_run
from cloud.planning.schedule import Planner, next_slot
from cloud.planning.settings import ForecastSettings, PlanningSettings
from cloud.planning.synthetic import SyntheticSpec, generate
from sync.clock import ManualClock
from tests.cloud.conftest import Cloud

END = date(2025, 6, 2)


def _seed(url: str) -> tuple[DispatchConfig, list[str]]:
    history = generate(SyntheticSpec(skus=8, warehouses=3, start=END - timedelta(days=200), days=200, seed=5))
    engine = make_engine(url, pool_size=1)
    now = datetime(2025, 6, 1, tzinfo=UTC)
    with engine.begin() as conn:
        for w in history.network.warehouses:
            store.put_warehouse(conn, store.WarehouseRecord(**w.model_dump(), lead_time_days=7), now=now, actor="t")
        for lane in history.network.lanes:
            store.put_lane(conn, lane, now=now, actor="t")
        rows = []
        for i, (sku, wh) in enumerate(history.keys):
            for d in range(history.listed_from[i], history.days):
                rows.append(HistoryRow(sku, wh, history.day(d), int(history.demand[i, d])))
        import_history(conn, rows)
        # stock: plenty at the first site, nothing at the others
        first = history.network.codes[0]
        stock = [
            {"warehouse": first, "sku": sku, "lot": "", "location": "L1", "status": "available", "qty": 2000}
            for sku in sorted({k[0] for k in history.keys})
        ]
        conn.execute(stock_balance.insert(), stock)
    engine.dispose()
    cfg = DispatchConfig(
        planning=PlanningSettings(n_jobs=1, forecast=ForecastSettings(horizon=14, backtest_windows=1)),
        events=history.site_events,
    )
    return cfg, list(history.network.codes)


@pytest.mark.postgres
def test_a_planning_run_stores_forecasts_and_recommendations(cloud: Cloud) -> None:
    cfg, codes = _seed(cloud.url)
    engine = make_engine(cloud.url, pool_size=2)
    clock = ManualClock(datetime(2025, 6, 2, 1, 0, tzinfo=UTC))
    run = plan_run(engine, cfg, clock, trigger="cli", actor="test")
    engine.dispose()
    assert run["status"] == "done", run["error"]
    assert run["series"] > 10 and run["recommendations"] > 0 and run["history_end"] == END
    c, planner = cloud.client, cloud.h("planner")
    got = c.get("/v1/forecasts", params={"limit": 500}, headers=planner).json()["items"]
    assert len(got) == run["series"]
    one = got[0]
    assert len(one["days"]) == len(one["mean"]) == 14 and one["days"][0] == END.isoformat()
    assert {iv["level"] for iv in one["intervals"]} == {80, 95}
    assert all(
        lo <= m <= hi
        for iv in one["intervals"]
        for lo, m, hi in zip(iv["lower"], one["mean"], iv["upper"], strict=True)
    )
    assert one["model"] and set(one["error"]) == {"mae", "rmse", "bias"} and len(one["history"]) == 28
    models = {f["model"] for f in got}
    assert models & {"CrostonSBA", "TSB", "ADIDA", "IMAPA", "AutoETS", "DynamicOptimizedTheta"}
    recs = c.get("/v1/recommendations", params={"kind": "transfer"}, headers=planner).json()["items"]
    assert recs and all(r["origin"] == codes[0] for r in recs)
    assert {"destination_shortfall", "origin_surplus", "cost_per_unit"} <= set(recs[0]["why"])
    # a second run supersedes the first one's open recommendations
    engine = make_engine(cloud.url, pool_size=2)
    again = plan_run(engine, cfg, clock, trigger="cli", actor="test")
    engine.dispose()
    assert again["status"] == "done"
    statuses = {
        r["status"]
        for r in c.get("/v1/recommendations", params={"status": "superseded"}, headers=planner).json()["items"]
    }
    assert statuses == {"superseded"}
    runs = c.get("/v1/planning/runs", headers=planner).json()["items"]
    assert [r["id"] for r in runs] == [again["id"], run["id"]]
    # on demand through the API: a run in a process of its own, polled until it ends
    svc = c.app.state.services  # type: ignore[attr-defined]
    svc.dispatch = svc.planner.cfg = cfg
    r = c.post("/v1/planning/runs", headers=planner)
    assert r.status_code == 202 and r.json()["status"] == "running", r.text
    assert c.post("/v1/planning/runs", headers=planner).status_code == 409  # one at a time a worker
    deadline = time.monotonic() + 120
    while (got := c.get(f"/v1/planning/runs/{r.json()['id']}", headers=planner).json())["status"] == "running":
        assert time.monotonic() < deadline
        time.sleep(0.2)
    assert got["status"] == "done" and got["trigger"] == "api" and got["series"] == run["series"], got


def test_next_slot() -> None:
    now = datetime(2026, 3, 1, 10, 15, tzinfo=UTC)
    assert next_slot("", now) is None
    assert next_slot("02:30", now) == ("daily:2026-03-02T02:30", datetime(2026, 3, 2, 2, 30, tzinfo=UTC))
    assert next_slot("10:15", now) == ("daily:2026-03-01T10:15", now)
    key, at = next_slot("every 6h", now)  # type: ignore[misc]
    assert at == datetime(2026, 3, 1, 12, 0, tzinfo=UTC) and key.startswith("every:21600:")


@pytest.mark.postgres
async def test_the_schedule_plans_each_slot_once_and_stops_cleanly(cloud: Cloud) -> None:
    cfg, _ = _seed(cloud.url)
    cfg = cfg.model_copy(update={"planning": cfg.planning.model_copy(update={"schedule": "every 30m"})})
    engine = make_engine(cloud.url, pool_size=4)
    clock = ManualClock(datetime(2025, 6, 2, 0, 50, tzinfo=UTC))
    two = [Planner(engine, cfg, clock, database_url=cloud.url) for _ in range(2)]  # two workers, one database
    loops = [asyncio.create_task(p.schedule_loop()) for p in two]
    try:
        # simulated time up to the first slot (01:00): both workers wake for it, one claims it
        await clock.advance(600, step=60)
        for _ in range(600):  # then real time while the run works (the clock stands still)
            with engine.connect() as conn:
                done = conn.execute(sa.select(planning_runs.c.slot, planning_runs.c.status)).all()
            if done and all(st != "running" for _, st in done):
                break
            await asyncio.sleep(0.1)
        assert done == [("every:1800:" + str(int(datetime(2025, 6, 2, 1, 0, tzinfo=UTC).timestamp()) // 1800), "done")]
    finally:
        for p in two:
            p.stop.set()
        for t in loops:
            t.cancel()
        await asyncio.gather(*loops, return_exceptions=True)
        for p in two:
            p.close()
        engine.dispose()


def test_anomalies_are_reported_and_a_run_opens_work_orders_above_the_threshold(cloud: Cloud) -> None:
    """Eight weeks of rolled-up facts: one SKU's losses jump last week, one picker's errors too."""
    from cloud.db.schema import fact_operator_daily, fact_stock_daily
    from sync.clock import SystemClock

    today = SystemClock().now().date()
    engine = make_engine(cloud.url, pool_size=1)
    stock_rows, operator_rows = [], []
    for d in range(1, 57):
        day = today - timedelta(days=d)
        last_week = d <= 7
        for i in range(6):
            sku = f"S{i}"
            loss = 1 + (4 if last_week and i == 0 else 0)  # 1% a day, 5% last week for S0
            stock_rows.append(
                {
                    "warehouse": "WH-A",
                    "sku": sku,
                    "day": day,
                    "inbound": 0,
                    "outbound": 100,
                    "loss": -loss,
                    "gain": 0,
                    "net": -loss,
                }
            )
        for j in range(5):
            errors = 2 + (d + j) % 2 + (10 if last_week and j == 0 else 0)  # 2-3% a day, 12% last week for op-0
            operator_rows.append(
                {
                    "warehouse": "WH-A",
                    "actor": f"op-{j}",
                    "day": day,
                    "lines": 100,
                    "pick_lines": 100,
                    "pick_errors": errors,
                    "active_s": 3600,
                }
            )
    with engine.begin() as conn:
        conn.execute(fact_stock_daily.insert(), stock_rows)
        conn.execute(fact_operator_daily.insert(), operator_rows)
    c = cloud.client
    report = c.get("/v1/planning/anomalies", headers=cloud.h("planner")).json()
    flagged = [(a["kind"], a["entity"]) for a in report["items"] if a["flagged"]]
    assert sorted(flagged) == [("loss", "WH-A/S0"), ("operator", "WH-A/op-0")]
    top = next(a for a in report["items"] if a["entity"] == "WH-A/S0")
    assert top["score"] >= report["threshold"] and "against" in top["reason"]
    assert (
        c.get("/v1/planning/anomalies", params={"warehouse": "WH-B"}, headers=cloud.h("planner")).json()["items"] == []
    )
    run = plan_run(engine, DispatchConfig(), SystemClock(), trigger="cli", actor="test")
    engine.dispose()
    assert run["status"] == "done" and run["detail"]["anomalies"] == len(flagged)
    disc = c.get("/v1/discrepancies", params={"limit": 100}, headers=cloud.h("planner")).json()["items"]
    kinds = sorted(d["kind"] for d in disc)
    assert kinds.count("anomaly_loss") >= 1 and kinds.count("anomaly_operator") >= 1
    wos = c.get("/v1/work-orders", params={"limit": 100}, headers=cloud.h("planner")).json()["items"]
    assert len([w for w in wos if "anomaly" in w["description"]]) == len(flagged)


def test_the_service_starts_and_stops_cleanly_with_a_schedule_and_an_outbox(db_url: str, tmp_path: Path) -> None:
    """The lifespan runs the schedule loop and the webhook sender; leaving it ends both at once."""
    from fastapi.testclient import TestClient

    from cloud.app import create_app
    from cloud.settings import CloudSettings
    from tests.cloud.conftest import FAST_HASH

    cfg = tmp_path / "planning.toml"
    cfg.write_text('[planning]\nschedule = "every 1h"\n[webhooks]\nurl = "http://127.0.0.1:9/never"\npoll_s = 0.1\n')
    app = create_app(CloudSettings(database_url=db_url, planning_file=cfg, pool_size=2, **FAST_HASH))
    t0 = time.monotonic()
    with TestClient(app) as client:
        assert client.get("/healthz").status_code == 200
        names = {t.get_name() for t in client.portal.call(asyncio.all_tasks)}  # type: ignore[union-attr]
        assert {"planning-schedule", "webhook-outbox"} <= names
    assert time.monotonic() - t0 < 10
    assert app.state.services.planner.stop.is_set()


@pytest.mark.postgres
def test_a_run_in_progress_ends_cancelled_when_the_service_stops(cloud: Cloud) -> None:
    cfg, _ = _seed(cloud.url)
    engine = make_engine(cloud.url, pool_size=2)
    planner = Planner(engine, cfg, ManualClock(datetime(2025, 6, 2, 1, 0, tzinfo=UTC)), database_url=cloud.url)
    run_id = planner.submit(trigger="api", actor="test")
    time.sleep(1.0)  # the process is importing or forecasting
    t0 = time.monotonic()
    planner.close()
    assert time.monotonic() - t0 < 15
    with engine.connect() as conn:
        row = conn.execute(sa.select(planning_runs).where(planning_runs.c.id == run_id)).one()
    engine.dispose()
    assert row.status == "cancelled" and row.finished_at is not None, (row.status, row.error)


def test_the_dashboard_reads_the_totals_stored_with_a_run_as_it_would_sum_the_series(db_url: str) -> None:
    """The forecast panel's sums come from ``forecast_totals`` (made once when the run is stored); for a
    run stored before them it sums the series' JSON at page time. Both give the same panel, for the
    network and for one warehouse."""
    from cloud.web import dashboard
    from cloud.web.filters import Filters

    cfg, codes = _seed(db_url)
    engine = make_engine(db_url, pool_size=1)
    clock = ManualClock(datetime(2025, 6, 2, 1, 0, tzinfo=UTC))
    run = plan_run(engine, cfg, clock, trigger="cli", actor="test")
    assert run["status"] == "done", run["error"]
    qc = dashboard.QueryContext(
        now=clock.now(), offline_after_s=60, work_order_sla_h=24, postgres=db_url.startswith("postgresql")
    )
    filters = [Filters(warehouse=w, window="7d", start=END, end=END) for w in (None, codes[1])]

    def panels() -> list[dashboard.Table]:
        with engine.connect() as conn:
            return [dashboard.forecasts_vs_actuals(conn, f, qc) for f in filters]

    stored = panels()
    with engine.begin() as conn:
        totals = sa.text("SELECT count(*) FROM forecast_totals WHERE run_id = :r")
        assert conn.execute(totals, {"r": run["id"]}).scalar()
        conn.execute(sa.text("DELETE FROM forecast_totals"))
        conn.execute(sa.text("UPDATE forecasts SET week_total = NULL"))
    summed = panels()
    engine.dispose()
    for a, b in zip(stored, summed, strict=True):
        assert len(a.facts["forecast"]) == len(b.facts["forecast"]) > 7
        for key in ("forecast", "low", "high"):  # None on the actual days, then one figure a forecast day
            assert [v is None for v in a.facts[key]] == [v is None for v in b.facts[key]], key
            got, want = ([v for v in t.facts[key] if v is not None] for t in (a, b))
            assert got == pytest.approx(want, rel=1e-9), key
        assert [r["sku"] for r in a.rows] == [r["sku"] for r in b.rows] and len(a.rows) >= 8
        assert [r["forecast_7d"] for r in a.rows] == [r["forecast_7d"] for r in b.rows]
    assert stored[0].facts["forecast"][-1] > stored[1].facts["forecast"][-1] > 0  # the network sums every site
