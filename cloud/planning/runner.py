"""One planning run over the cloud's data: the cores of ``cloud/planning`` fed from the database, their
output stored for planners.

1. read the network and the demand history (``history_days`` up to yesterday, UTC);
2. forecast every SKU x warehouse series of a warehouse the network knows (``forecast.forecast_demand``,
   in-process or on Dask as ``[planning] engine`` says);
3. safety stock and reorder point per series (service level by ABC class, the warehouse's supplier lead
   time);
4. rebalance: stock available now and in transit (arriving at its ETA) projected against the forecast
   and safety stock; transfers and purchase suggestions become *recommendations* with the numbers behind
   them. A run supersedes the open recommendations of the runs before it;
5. anomalies: loss and adjustment rates per SKU x warehouse and pick error rates per operator, last week
   against their own past weeks and their peers; those above ``anomaly_threshold`` open a work order.

A run is a row in ``planning_runs`` from its start (``running``) to its end (``done``, ``failed`` with the
error, or ``cancelled`` when the service stopped in the middle: ``stop`` is checked between the steps).
A scheduled run carries its slot, unique, so with several workers only one plans each slot.
"""

from __future__ import annotations

import json
import threading
import time
import traceback
from datetime import date, timedelta
from typing import Any

import numpy as np
import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError

from cloud.db.schema import (
    fact_operator_daily,
    fact_stock_daily,
    forecasts,
    planning_runs,
    recommendations,
    stock_balance,
    transfer_orders,
    transit,
)
from cloud.ingest.ledger import Discrepancy, record_discrepancies
from cloud.network.store import lead_times, load_network
from cloud.planning.config import DispatchConfig
from cloud.planning.totals import store_forecast_totals
from sync.clock import Clock


class Cancelled(Exception):
    """The service is stopping: the run ends where it is."""


def start_run(engine: Engine, clock: Clock, *, trigger: str, actor: str, slot: str | None = None) -> int | None:
    """The run's row (``running``); None when the slot already has its run (another worker took it)."""
    try:
        with engine.begin() as conn:
            return int(
                conn.execute(
                    planning_runs.insert()
                    .values(slot=slot, trigger=trigger, actor=actor, status="running", started_at=clock.now())
                    .returning(planning_runs.c.id)
                ).scalar_one()
            )
    except IntegrityError:
        return None


def plan_run(
    engine: Engine,
    cfg: DispatchConfig,
    clock: Clock,
    *,
    trigger: str,
    actor: str,
    run_id: int | None = None,
    stop: threading.Event | None = None,
) -> dict[str, Any]:
    """Run planning now (into ``run_id`` if the row was made already); returns the run's row."""
    if run_id is None:
        run_id = start_run(engine, clock, trigger=trigger, actor=actor)
        assert run_id is not None
    stop = stop or threading.Event()
    t0 = time.perf_counter()
    status, error = "done", None
    detail: dict[str, Any] = {}
    series = recs = 0
    history_end: date | None = None
    try:
        series, recs, history_end, detail = _plan(engine, cfg, clock, run_id, stop)
    except Cancelled:
        status, error = "cancelled", "the service stopped during the run"
    except Exception as exc:  # a run must end with its reason recorded, whatever failed
        status, error = "failed", f"{type(exc).__name__}: {exc}\n{traceback.format_exc(limit=5)}"[:4000]
    detail["seconds"] = round(time.perf_counter() - t0, 3)
    with engine.begin() as conn:
        conn.execute(
            planning_runs.update()
            .where(planning_runs.c.id == run_id)
            .values(
                status=status,
                error=error,
                finished_at=clock.now(),
                series=series,
                recommendations=recs,
                history_end=history_end,
                detail=json.dumps(detail, default=str),
            )
        )
        row = conn.execute(sa.select(planning_runs).where(planning_runs.c.id == run_id)).one()
    return run_row(row)


def run_row(r: Any) -> dict[str, Any]:
    return {
        "id": r.id,
        "slot": r.slot,
        "trigger": r.trigger,
        "actor": r.actor,
        "status": r.status,
        "started_at": r.started_at,
        "finished_at": r.finished_at,
        "history_end": r.history_end,
        "series": r.series,
        "recommendations": r.recommendations,
        "detail": json.loads(r.detail or "{}"),
        "error": r.error,
    }


def _check(stop: threading.Event) -> None:
    if stop.is_set():
        raise Cancelled


def _plan(
    engine: Engine, cfg: DispatchConfig, clock: Clock, run_id: int, stop: threading.Event
) -> tuple[int, int, date, dict[str, Any]]:
    # imported here: pandas, statsforecast and OR-Tools cost a second to load, which the API's start-up
    # and the CLI's other commands should not pay
    from cloud.planning.calendar import build_tags
    from cloud.planning.classify import DemandClass
    from cloud.planning.demand import build_panel
    from cloud.planning.engine import make_engine
    from cloud.planning.forecast import forecast_demand
    from cloud.planning.history import first_days, read_history
    from cloud.planning.safety_stock import abc_classes, safety_stock, service_levels

    s = cfg.planning
    end = clock.now().date()
    start = end - timedelta(days=s.history_days)
    detail: dict[str, Any] = {}
    with engine.connect() as conn:
        network = load_network(conn)
        leads = lead_times(conn)
        first = first_days(conn)
        listed = {k: d for k, d in first.items() if k[1] in network.by_code}
        detail["series_of_unknown_warehouses"] = len(first) - len(listed)
        # the history streams from the server into the panel, warehouses the network lacks left out
        panel = build_panel(read_history(conn, start, end, network.codes), start, end, listed) if listed else None
    _check(stop)
    flagged = [a for a in _anomalies(engine, cfg, clock, end) if a["flagged"]]
    detail["anomalies"] = len(flagged)
    if flagged:  # each opens a work order (once a day: the key names the day)
        found = [
            Discrepancy(
                dkey=f"anomaly|{a['kind']}|{a['entity']}|{end.isoformat()}",
                kind=f"anomaly_{a['kind']}",
                warehouse=a["warehouse"],
                sku=a.get("sku"),
                detail={k: v for k, v in a.items() if k != "flagged"},
            )
            for a in flagged
        ]
        with engine.begin() as conn:
            detail["work_orders_opened"] = len(record_discrepancies(conn, found, clock.now()))
    if panel is None or not panel.keys:
        return 0, 0, end, detail
    whs = [network.by_code[w] for w in panel.warehouses]
    tags = build_tags(whs, start, panel.days + s.forecast.horizon, cfg.events)
    result = forecast_demand(panel, tags, s.forecast, make_engine(s))
    detail["forecast_timings"] = {k: round(v, 3) for k, v in result.timings.items()}
    _check(stop)
    n = len(panel.keys)
    volume = np.nan_to_num(np.nansum(panel.values[:, -s.forecast.classify_days :], axis=1))
    classes = abc_classes(volume, s.abc_shares)
    level = service_levels(classes, s.service_levels)
    lead = np.array([max(1, leads.get(w, 14)) for _, w in panel.keys])
    intermittent = result.classification.mask(DemandClass.INTERMITTENT, DemandClass.LUMPY)
    ss = safety_stock(result.mean, result.residuals, panel.values, intermittent, lead, level)
    _check(stop)
    with engine.begin() as conn:
        _store_forecasts(conn, run_id, result, ss, classes)
        store_forecast_totals(conn, run_id)
    plan = _rebalance(engine, cfg, clock, panel.keys, result.mean, ss.safety_stock, network, leads, end)
    _check(stop)
    with engine.begin() as conn:
        now = clock.now()
        c = recommendations.c
        conn.execute(recommendations.update().where(c.status == "open").values(status="superseded", decided_at=now))
        rows = [
            {
                "run_id": run_id,
                "kind": "transfer",
                "sku": t.sku,
                "origin": t.origin,
                "warehouse": t.destination,
                "qty": t.qty,
                "cost": t.cost,
                "why": json.dumps({**t.why, "transit_days": t.transit_days}),
                "status": "open",
                "created_at": now,
            }
            for t in plan.transfers
        ] + [
            {
                "run_id": run_id,
                "kind": "purchase",
                "sku": p.sku,
                "origin": None,
                "warehouse": p.warehouse,
                "qty": p.qty,
                "cost": 0.0,
                "why": json.dumps(p.why),
                "status": "open",
                "created_at": now,
            }
            for p in plan.purchases
        ]
        if rows:
            conn.execute(recommendations.insert(), rows)
    detail["transfer_cost"] = plan.transfer_cost
    detail["dispatches"] = len(plan.dispatches)
    detail["rebalance_seconds"] = round(plan.solve_seconds, 3)
    return n, len(rows), end, detail


def _store_forecasts(conn: Any, run_id: int, result: Any, ss: Any, classes: np.ndarray) -> None:
    cls = result.classification.classes()
    rows = []
    for i, (sku, wh) in enumerate(result.keys):
        rows.append(
            {
                "run_id": run_id,
                "sku": sku,
                "warehouse": wh,
                "start": result.start,
                "demand_class": str(cls[i]),
                "model": result.model[i],
                "interval_method": result.interval_method[i],
                "mae": _num(result.backtest_mae[i]),
                "rmse": _num(result.backtest_rmse[i]),
                "bias": _num(result.backtest_bias[i]),
                "mean": json.dumps([round(float(v), 3) for v in result.mean[i]]),
                "intervals": json.dumps(
                    {
                        str(lv): [
                            [round(float(v), 3) for v in result.lower[lv][i]],
                            [round(float(v), 3) for v in result.upper[lv][i]],
                        ]
                        for lv in sorted(result.lower)
                    }
                ),
                "safety_stock": round(float(ss.safety_stock[i]), 3),
                "reorder_point": round(float(ss.reorder_point[i]), 3),
                "lead_time_days": int(ss.lead_time[i]),
                "service_level": float(ss.service_level[i]),
            }
        )
    for i in range(0, len(rows), 2000):
        conn.execute(forecasts.insert(), rows[i : i + 2000])


def _num(v: float) -> float | None:
    return None if not np.isfinite(v) else round(float(v), 4)


def _rebalance(
    engine: Engine,
    cfg: DispatchConfig,
    clock: Clock,
    keys: tuple[tuple[str, str], ...],
    mean: np.ndarray,
    safety: np.ndarray,
    network: Any,
    leads: dict[str, int],
    today: date,
) -> Any:
    from cloud.planning.rebalance import RebalanceInput, rebalance

    r = cfg.planning.rebalance
    codes = network.codes
    skus_ = tuple(sorted({k[0] for k in keys}))
    si = {s: i for i, s in enumerate(skus_)}
    wi = {w: i for i, w in enumerate(codes)}
    days = r.projection_days
    forecast = np.zeros((len(skus_), len(codes), days))
    ss = np.zeros((len(skus_), len(codes)))
    for row, (sku, wh) in enumerate(keys):
        m = mean[row]
        f = m[:days] if len(m) >= days else np.concatenate([m, np.full(days - len(m), m[-7:].mean())])
        forecast[si[sku], wi[wh]] = f
        ss[si[sku], wi[wh]] = safety[row]
    on_hand = np.zeros((len(skus_), len(codes)))
    inbound = np.zeros_like(forecast)
    with engine.connect() as conn:
        sb = stock_balance.c
        q = (
            sa.select(sb.warehouse, sb.sku, sa.func.sum(sb.qty))
            .where(sb.status == "available")
            .group_by(sb.warehouse, sb.sku)
        )
        for wh, sku, qty in conn.execute(q):
            if sku in si and wh in wi:
                on_hand[si[sku], wi[wh]] = max(0, int(qty))
        t, o = transit.c, transfer_orders.c
        q2 = sa.select(t.sku, t.to_warehouse, t.out_qty, t.in_qty, o.eta).outerjoin(
            transfer_orders, o.transfer_id == t.transfer_id
        )
        for sku, wh, out_q, in_q, eta in conn.execute(q2):
            if sku in si and wh in wi and out_q > in_q:
                k = 0 if eta is None else min(max((eta.date() - today).days - 1, 0), days - 1)
                inbound[si[sku], wi[wh], k] += out_q - in_q
    data = RebalanceInput(
        skus=skus_,
        warehouses=codes,
        on_hand=on_hand,
        forecast=forecast,
        safety_stock=ss,
        inbound=inbound,
        replenish_days=np.array([max(1, leads.get(w, days)) for w in codes]),
    )
    return rebalance(
        data,
        network,
        late_penalty=r.late_penalty,
        stockout_cost=r.stockout_cost,
        buffer_cost=r.buffer_cost,
        trigger=r.trigger,
        max_rounds=r.max_rounds,
    )


def _anomalies(engine: Engine, cfg: DispatchConfig, clock: Clock, today: date, weeks: int = 8) -> list[dict[str, Any]]:
    """Scored rates of the last full week against the weeks before (see ``anomaly_report``)."""
    return anomaly_report(engine, today, cfg.planning.anomaly_threshold, weeks)


def anomaly_report(engine: Engine, today: date, threshold: float, weeks: int = 8) -> list[dict[str, Any]]:
    """Loss and adjustment rates per SKU x warehouse (units lost or found per unit moved) and pick error
    rates per operator, by week, the last ``weeks`` weeks ending yesterday; the latest week scored by
    robust z against its own history and its peers (``anomaly.score_rates``)."""
    from cloud.planning.anomaly import score_rates

    first = today - timedelta(days=7 * weeks)
    out: list[dict[str, Any]] = []

    def week(d: date) -> int:
        return min((d - first).days // 7, weeks - 1)

    with engine.connect() as conn:
        f = fact_stock_daily.c
        q = sa.select(f.warehouse, f.sku, f.day, f.loss, f.gain, f.inbound, f.outbound).where(
            f.day >= first, f.day < today
        )
        num: dict[tuple[str, str], np.ndarray] = {}
        den: dict[tuple[str, str], np.ndarray] = {}
        for r in conn.execute(q):
            k = (r.warehouse, r.sku)
            num.setdefault(k, np.zeros(weeks))[week(r.day)] += abs(r.loss) + abs(r.gain)
            den.setdefault(k, np.zeros(weeks))[week(r.day)] += abs(r.inbound) + abs(r.outbound) + abs(r.loss)
        if num:
            keys = sorted(num)
            scored = score_rates(
                [f"{w}/{s}" for w, s in keys],
                np.array([num[k] for k in keys]),
                np.array([den[k] for k in keys]),
                threshold=threshold,
            )
            by = {f"{w}/{s}": (w, s) for w, s in keys}
            for a in scored:
                wh, sku = by[a.entity]
                out.append(_anomaly("loss", a, wh, sku))
        o = fact_operator_daily.c
        q2 = sa.select(o.warehouse, o.actor, o.day, o.pick_lines, o.pick_errors).where(o.day >= first, o.day < today)
        num2: dict[tuple[str, str], np.ndarray] = {}
        den2: dict[tuple[str, str], np.ndarray] = {}
        for r2 in conn.execute(q2):
            k = (r2.warehouse, r2.actor)
            num2.setdefault(k, np.zeros(weeks))[week(r2.day)] += r2.pick_errors
            den2.setdefault(k, np.zeros(weeks))[week(r2.day)] += r2.pick_lines
        if num2:
            keys2 = sorted(num2)
            scored = score_rates(
                [f"{w}/{a}" for w, a in keys2],
                np.array([num2[k] for k in keys2]),
                np.array([den2[k] for k in keys2]),
                threshold=threshold,
            )
            by2 = {f"{w}/{a}": (w, a) for w, a in keys2}
            for a in scored:
                wh, actor = by2[a.entity]
                out.append({**_anomaly("operator", a, wh, None), "operator": actor})
    return sorted(out, key=lambda a: -a["score"])


def _anomaly(kind: str, a: Any, warehouse: str, sku: str | None) -> dict[str, Any]:
    return {
        "kind": kind,
        "entity": a.entity,
        "warehouse": warehouse,
        "sku": sku,
        "rate": round(a.rate, 6),
        "own_median": round(a.own_median, 6),
        "peer_median": round(a.peer_median, 6),
        "z_own": round(a.z_own, 3),
        "z_peer": round(a.z_peer, 3),
        "score": round(a.score, 3),
        "flagged": a.flagged,
        "reason": a.reason(),
    }


def latest_done(conn: Any) -> int | None:
    p = planning_runs.c
    found = conn.execute(sa.select(sa.func.max(p.id)).where(p.status == "done")).scalar()
    return None if found is None else int(found)
