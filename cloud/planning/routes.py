"""Planners' endpoints: planning runs, forecasts (for the forecast-vs-actual panel), recommendations and
their approval, and the anomaly report.

Reading is for staff roles (a user bound to a warehouse sees its own series and recommendations);
starting a run and deciding a recommendation is for planners and admins only (403 for anyone else),
and every decision is in the audit log with who, when and the numbers it was made on.
"""

from __future__ import annotations

import json
from datetime import date, timedelta
from typing import Annotated, Any, Literal

import sqlalchemy as sa
from fastapi import APIRouter, Depends, HTTPException, Path, Query, status
from pydantic import BaseModel, ConfigDict, Field

from cloud.audit.log import append as audit_append
from cloud.auth.deps import Principal, require
from cloud.auth.scope import Reader
from cloud.db.schema import demand_history, forecasts, planning_runs, recommendations
from cloud.paging import After, Limit, by_key, by_offset
from cloud.planning.runner import anomaly_report, latest_done, run_row
from cloud.services import Svc
from cloud.transfers import machine
from cloud.transfers.routes import TransferOut, transfer_out
from sync.codes import CODE_MAX_LENGTH
from sync.http.openapi import error_responses
from sync.masterdata import OrderLine
from sync.roles import Role
from sync.times import UtcDateTime

router = APIRouter(tags=["planning"])
Decider = Annotated[Principal, Depends(require(Role.ADMIN, Role.PLANNER))]
CodeQuery = Annotated[str | None, Query(max_length=CODE_MAX_LENGTH)]


class RunOut(BaseModel):
    model_config = ConfigDict(json_schema_serialization_defaults_required=True)

    id: int
    slot: str | None
    trigger: str = Field(description="api, cli or schedule")
    actor: str
    status: Literal["running", "done", "failed", "cancelled"]
    started_at: UtcDateTime
    finished_at: UtcDateTime | None
    history_end: date | None = Field(description="The first forecast day.")
    series: int
    recommendations: int
    detail: dict[str, Any]
    error: str | None


class RunPage(BaseModel):
    items: list[RunOut]
    next_after: int | None


class Interval(BaseModel):
    level: int
    lower: list[float]
    upper: list[float]


class DayQty(BaseModel):
    day: date
    qty: float


class ForecastOut(BaseModel):
    """One series' forecast, ready for a forecast-vs-actual chart: ``days`` and ``mean`` (with its
    ``intervals``) from the run, ``history`` the demand of the weeks before, ``actual`` the demand so far
    of the forecast days (empty until they have passed)."""

    model_config = ConfigDict(json_schema_serialization_defaults_required=True)

    run_id: int
    sku: str
    warehouse: str
    demand_class: str
    model: str
    interval_method: str
    error: dict[str, float | None] = Field(description="Backtest mae, rmse and bias of the chosen model.")
    days: list[date]
    mean: list[float]
    intervals: list[Interval]
    safety_stock: float
    reorder_point: float
    lead_time_days: int
    service_level: float
    history: list[DayQty]
    actual: list[DayQty]


class ForecastPage(BaseModel):
    items: list[ForecastOut]
    next_after: int | None


class RecommendationOut(BaseModel):
    model_config = ConfigDict(json_schema_serialization_defaults_required=True)

    id: int
    run_id: int
    kind: Literal["transfer", "purchase"]
    sku: str
    origin: str | None
    warehouse: str = Field(description="Destination of a transfer; the buyer of a purchase.")
    qty: int
    cost: float
    why: dict[str, Any] = Field(description="The numbers behind it: projections, safety stock, shortfall, cost.")
    status: Literal["open", "approved", "rejected", "superseded"]
    created_at: UtcDateTime
    decided_by: str | None
    decided_at: UtcDateTime | None
    note: str | None
    transfer_id: str | None


class RecommendationPage(BaseModel):
    items: list[RecommendationOut]
    next_after: int | None


class Decision(BaseModel):
    model_config = ConfigDict(extra="forbid")

    note: str = Field(default="", max_length=500)
    qty: int | None = Field(default=None, gt=0, le=10**12, description="Approve a different quantity (transfers).")


class DecisionOut(BaseModel):
    model_config = ConfigDict(json_schema_serialization_defaults_required=True)

    recommendation: RecommendationOut
    transfer: TransferOut | None = Field(description="The transfer order an approved transfer became.")


class AnomalyOut(BaseModel):
    model_config = ConfigDict(json_schema_serialization_defaults_required=True)

    kind: Literal["loss", "operator"]
    entity: str
    warehouse: str
    sku: str | None
    operator: str | None = None
    rate: float
    own_median: float
    peer_median: float
    z_own: float
    z_peer: float
    score: float
    flagged: bool
    reason: str


class AnomalyPage(BaseModel):
    threshold: float
    items: list[AnomalyOut]


@router.post("/v1/planning/runs", response_model=RunOut, status_code=202, responses=error_responses(409))
def post_run(svc: Svc, caller: Decider) -> dict[str, Any]:
    """Start a planning run now (in the background); poll ``GET /v1/planning/runs/{id}``."""
    planner = svc.planner
    assert planner is not None
    if planner.busy:
        raise HTTPException(status.HTTP_409_CONFLICT, "a planning run is in progress on this worker; try later")
    run_id = planner.submit(trigger="api", actor=caller.audit_name)
    assert run_id is not None
    with svc.engine.begin() as conn:
        audit_append(
            conn,
            now=svc.clock.now(),
            actor=caller.audit_name,
            action="planning.run",
            target=f"planning_run/{run_id}",
            detail={},
        )
        return run_row(conn.execute(sa.select(planning_runs).where(planning_runs.c.id == run_id)).one())


@router.get("/v1/planning/runs", response_model=RunPage)
def get_runs(svc: Svc, _scope: Reader, limit: Limit = 50, after: After = 0) -> dict[str, Any]:
    """Planning runs, newest first (``after``: an offset)."""
    p = planning_runs.c
    with svc.engine.connect() as conn:
        rows = conn.execute(sa.select(planning_runs).order_by(p.id.desc()).limit(limit + 1).offset(after)).all()
    items, nxt = by_offset(rows, limit, after)
    return {"items": [run_row(r) for r in items], "next_after": nxt}


@router.get("/v1/planning/runs/{run_id}", response_model=RunOut, responses=error_responses(404))
def get_run(run_id: Annotated[int, Path(ge=1, le=2**62)], svc: Svc, _scope: Reader) -> dict[str, Any]:
    with svc.engine.connect() as conn:
        r = conn.execute(sa.select(planning_runs).where(planning_runs.c.id == run_id)).first()
    if r is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "unknown planning run")
    return run_row(r)


@router.get("/v1/forecasts", response_model=ForecastPage, responses=error_responses(404))
def get_forecasts(
    svc: Svc,
    scope: Reader,
    sku: CodeQuery = None,
    warehouse: CodeQuery = None,
    run_id: Annotated[int | None, Query(ge=1, le=2**62, description="Default: the latest finished run.")] = None,
    history_days: Annotated[int, Query(ge=0, le=366)] = 28,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    after: After = 0,
) -> dict[str, Any]:
    """Forecasts with their model, backtest error and intervals, and the actual demand around them."""
    wh = scope.warehouse(warehouse)
    f = forecasts.c
    with svc.engine.connect() as conn:
        rid = run_id or latest_done(conn)
        if rid is None:
            return {"items": [], "next_after": None}
        q = sa.select(forecasts).where(f.run_id == rid)
        if sku is not None:
            q = q.where(f.sku == sku)
        if wh is not None:
            q = q.where(f.warehouse == wh)
        rows = conn.execute(q.order_by(f.sku, f.warehouse).limit(limit + 1).offset(after)).all()
        items, nxt = by_offset(rows, limit, after)
        actual = _actuals(conn, items, history_days)
    return {"items": [_forecast(r, actual, history_days) for r in items], "next_after": nxt}


def _actuals(conn: Any, rows: list[Any], history_days: int) -> dict[tuple[str, str], dict[date, float]]:
    if not rows:
        return {}
    d = demand_history.c
    first = min(r.start for r in rows) - timedelta(days=history_days)
    last = max(r.start + timedelta(days=len(json.loads(r.mean))) for r in rows)
    keys = {(r.sku, r.warehouse) for r in rows}
    q = sa.select(d.sku, d.warehouse, d.day, (d.shipped + d.imported)).where(
        d.sku.in_({k[0] for k in keys}), d.warehouse.in_({k[1] for k in keys}), d.day >= first, d.day < last
    )
    out: dict[tuple[str, str], dict[date, float]] = {}
    for sku, wh, day, qty in conn.execute(q):
        if (sku, wh) in keys:
            out.setdefault((sku, wh), {})[day] = float(qty)
    return out


def _forecast(r: Any, actual: dict[tuple[str, str], dict[date, float]], history_days: int) -> dict[str, Any]:
    mean = json.loads(r.mean)
    days = [r.start + timedelta(days=k) for k in range(len(mean))]
    seen = actual.get((r.sku, r.warehouse), {})
    history = [r.start - timedelta(days=k) for k in range(history_days, 0, -1)]
    return {
        "run_id": r.run_id,
        "sku": r.sku,
        "warehouse": r.warehouse,
        "demand_class": r.demand_class,
        "model": r.model,
        "interval_method": r.interval_method,
        "error": {"mae": r.mae, "rmse": r.rmse, "bias": r.bias},
        "days": days,
        "mean": mean,
        "intervals": [
            {"level": int(lv), "lower": lo, "upper": hi} for lv, (lo, hi) in sorted(json.loads(r.intervals).items())
        ],
        "safety_stock": r.safety_stock,
        "reorder_point": r.reorder_point,
        "lead_time_days": r.lead_time_days,
        "service_level": r.service_level,
        "history": [{"day": d, "qty": seen.get(d, 0.0)} for d in history],
        "actual": [{"day": d, "qty": seen.get(d, 0.0)} for d in days if d in seen or d < max(seen, default=d)],
    }


def _rec(r: Any) -> dict[str, Any]:
    out = dict(r._mapping)
    out["why"] = json.loads(r.why)
    return out


@router.get("/v1/recommendations", response_model=RecommendationPage)
def get_recommendations(
    svc: Svc,
    scope: Reader,
    status_: Annotated[Literal["open", "approved", "rejected", "superseded"] | None, Query(alias="status")] = "open",
    kind: Annotated[Literal["transfer", "purchase"] | None, Query()] = None,
    warehouse: CodeQuery = None,
    sku: CodeQuery = None,
    limit: Limit = 100,
    after: After = 0,
) -> dict[str, Any]:
    """Rebalancing transfers and purchase suggestions, each with the numbers behind it."""
    c = recommendations.c
    q = sa.select(recommendations).where(c.id > after)
    wh = scope.warehouse(warehouse)
    if wh is not None:
        q = q.where(c.warehouse == wh)
    if status_ is not None:
        q = q.where(c.status == status_)
    if kind is not None:
        q = q.where(c.kind == kind)
    if sku is not None:
        q = q.where(c.sku == sku)
    with svc.engine.connect() as conn:
        rows = conn.execute(q.order_by(c.id).limit(limit + 1)).all()
    items, nxt = by_key(rows, limit, lambda r: int(r.id))
    return {"items": [_rec(r) for r in items], "next_after": nxt}


def _decide(
    svc: Svc, rec_id: int, caller: Principal, decision: Decision, verdict: Literal["approved", "rejected"]
) -> dict[str, Any]:
    now = svc.clock.now()
    c = recommendations.c
    with svc.engine.begin() as conn:
        q = sa.select(recommendations).where(c.id == rec_id)
        if conn.dialect.name == "postgresql":
            q = q.with_for_update()
        r = conn.execute(q).first()
        if r is None:
            raise HTTPException(status.HTTP_404_NOT_FOUND, "unknown recommendation")
        if r.status != "open":
            raise HTTPException(status.HTTP_409_CONFLICT, f"recommendation {rec_id} is {r.status}, not open")
        transfer = None
        transfer_id = None
        qty = decision.qty or r.qty
        if verdict == "approved" and r.kind == "transfer":
            transfer_id = f"TR-{rec_id}"
            try:
                step = machine.create(
                    conn,
                    svc.bus,
                    svc.dispatch.transfers,
                    transfer_id=transfer_id,
                    from_warehouse=r.origin,
                    to_warehouse=r.warehouse,
                    lines=[OrderLine(line=1, sku=r.sku, qty=qty)],
                    actor=caller.audit_name,
                    now=now,
                    note=decision.note or f"rebalancing recommendation {rec_id}",
                    recommendation_id=rec_id,
                )
                if step.row["status"] == "draft":  # the planner's approval of the recommendation approves it
                    step = machine.approve(
                        conn, svc.bus, svc.dispatch.transfers, transfer_id, actor=caller.audit_name, now=now
                    )
            except machine.TransferError as exc:
                raise HTTPException(exc.status, str(exc)) from None
            transfer = transfer_out(step.row)
        conn.execute(
            recommendations.update()
            .where(c.id == rec_id)
            .values(
                status=verdict,
                decided_by=caller.audit_name,
                decided_at=now,
                note=decision.note,
                transfer_id=transfer_id,
            )
        )
        audit_append(
            conn,
            now=now,
            actor=caller.audit_name,
            action="recommendation.approve" if verdict == "approved" else "recommendation.reject",
            target=f"recommendation/{rec_id}",
            detail={
                "kind": r.kind,
                "sku": r.sku,
                "origin": r.origin,
                "warehouse": r.warehouse,
                "qty": qty,
                "recommended_qty": r.qty,
                "cost": r.cost,
                "note": decision.note,
                "transfer_id": transfer_id,
                "why": json.loads(r.why),
            },
        )
        row = conn.execute(sa.select(recommendations).where(c.id == rec_id)).one()
    return {"recommendation": _rec(row), "transfer": transfer}


RecId = Annotated[int, Path(ge=1, le=2**62)]


@router.post(
    "/v1/recommendations/{rec_id}/approve", response_model=DecisionOut, responses=error_responses(404, 409, 422)
)
def approve(rec_id: RecId, decision: Decision, svc: Svc, caller: Decider) -> dict[str, Any]:
    """Approve: a transfer becomes a transfer order, approved and (by default) released to the source."""
    return _decide(svc, rec_id, caller, decision, "approved")


@router.post("/v1/recommendations/{rec_id}/reject", response_model=DecisionOut, responses=error_responses(404, 409))
def reject(rec_id: RecId, decision: Decision, svc: Svc, caller: Decider) -> dict[str, Any]:
    """Reject, with a note saying why (kept in the audit log)."""
    return _decide(svc, rec_id, caller, decision, "rejected")


@router.get("/v1/planning/anomalies", response_model=AnomalyPage)
def get_anomalies(
    svc: Svc,
    scope: Reader,
    warehouse: CodeQuery = None,
    flagged_only: Annotated[bool, Query()] = False,
    weeks: Annotated[int, Query(ge=2, le=52)] = 8,
) -> dict[str, Any]:
    """Loss/adjustment rates per SKU x warehouse and operators' pick error rates, by robust z-score (the
    last week against the entity's own past weeks and its peers); those above the threshold are flagged
    (a planning run opens a work order for each)."""
    wh = scope.warehouse(warehouse)
    threshold = svc.dispatch.planning.anomaly_threshold
    items = anomaly_report(svc.engine, svc.clock.now().date(), threshold, weeks)
    items = [a for a in items if (wh is None or a["warehouse"] == wh) and (a["flagged"] or not flagged_only)]
    return {"threshold": threshold, "items": items}
