"""Rebalancing: one network-wide solve at 10 warehouses x 5,000 SKUs, and 90 days with a spike, with and without.

Solve: ``cloud.planning.rebalance.rebalance`` on 10 warehouses (China, the US, Germany; truck lanes
inside a country, air between) x 5,000 SKUs, the stock a mix of surplus and shortfall, safety
stocks bootstrapped from 182 days of the synthetic history (``cloud.planning.synthetic``), a
14-day projection. Time is wall clock, the first solve in the process.

Simulation: the same synthetic demand, 90 days, with Los Angeles' demand raised 2.5-fold for three
weeks (days 30-50) on top of its own seasonality and events; one draw of that demand is replayed
under two policies, so both see exactly the same customers:

- *without* (the baseline): each warehouse reorders from its supplier when its inventory position
  falls below its reorder point (forecast over the supplier lead time plus safety stock: 7 days in
  China, 21 in the US and Germany), up to 14 more days of forecast. Unserved demand is lost.
- *with*: the same, and every day the rebalancer's transfers leave their origin at once and arrive
  after the lane's transit days; its purchase suggestions are left to the reorder rule above.
- *with, SKU by SKU* (full run only): the rebalancer as it was before it served stock-outs
  earliest first (``tiers=()``, ``lost_sales=False``, ``give_cost=None``): each SKU in turn takes
  lane capacity for its whole window's shortfall, and origins give only their surplus.
- *with, lanes x3* (full run only): the same with every lane's capacity tripled. The example
  network's lanes carry 20,000 units a dispatch by truck and 5,000 by air; at 5,000 SKUs the nine
  lanes into Los Angeles ran full on most spike days (measured with the SKU-by-SKU solve: 12 to 20
  of its 21), so the *with* rows measure the lanes as much as the rebalancer; this row shows what
  the rebalancer does when they are not the limit.

The forecast both policies use is simple exponential smoothing of each series' daily demand
(alpha 0.25), updated every evening (the statsforecast pipeline is measured by ``bench.forecast``;
90 daily runs of it on 50,000 series would measure the forecast again, not the rebalancer). Fill
rate is served / demanded units; "peak" is Los Angeles during the spike.

    python -m bench.rebalance [--quick] [--json] [--skus N]
"""

from __future__ import annotations

import statistics
import time
import warnings
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import numpy as np

from bench._common import emit_json, parser, rss_mb, table
from cloud.planning.network import Network
from cloud.planning.rebalance import RebalanceInput, RebalancePlan, rebalance
from cloud.planning.safety_stock import safety_stock
from cloud.planning.synthetic import SyntheticHistory, SyntheticSpec, draw, generate, spike

HISTORY = 182
DAYS = 90
HORIZON = 21  # the projection reaches the longest supplier lead time
SPIKE_SITE, SPIKE_FIRST, SPIKE_LAST, SPIKE_FACTOR = "LA", 30, 50, 2.5
SUPPLIER_LEAD = {"CN": 7, "US": 21, "DE": 21}
ORDER_DAYS = 14
ALPHA = 0.25
SERVICE_LEVEL = 0.95
LANE_SCALE = 3.0
START = date(2025, 1, 6)  # history from January; the simulated days run July to early October


@dataclass
class World:
    history: SyntheticHistory
    codes: tuple[str, ...]
    skus: tuple[str, ...]
    lead: np.ndarray  # per warehouse
    demand: np.ndarray  # (sku, warehouse, day) over the simulated days
    rate0: np.ndarray  # (sku, warehouse) starting forecast
    safety: np.ndarray  # (sku, warehouse)


def _world(n_skus: int, seed: int) -> World:
    history = generate(SyntheticSpec(skus=n_skus, warehouses=10, start=START, days=HISTORY + DAYS, seed=seed))
    codes = history.network.codes
    n_w = len(codes)
    rows = history.warehouse_rows(SPIKE_SITE)
    rates = spike(history.rates, rows, HISTORY + SPIKE_FIRST, HISTORY + SPIKE_LAST, SPIKE_FACTOR)
    sim = draw(rates[:, HISTORY:], history.slow, history.size, np.random.default_rng(seed + 1))
    past = history.demand[:, :HISTORY].astype(np.float64)
    past[np.arange(HISTORY)[None, :] < history.listed_from[:, None]] = np.nan
    lead = np.array([SUPPLIER_LEAD[history.network.by_code[c].country] for c in codes])
    lead_rows = np.tile(lead, n_skus)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # SKUs not yet listed
        recent = np.nan_to_num(np.nanmean(past[:, -28:], axis=1))
    ss = safety_stock(
        forecast_mean=np.repeat(recent[:, None], max(lead) + 1, axis=1),
        residuals=np.full((len(past), 1, 1), np.nan),
        history=past,
        intermittent=np.ones(len(past), dtype=bool),
        lead_time=lead_rows,
        service_level=np.full(len(past), SERVICE_LEVEL),
        draws=200,
        seed=seed,
    )
    skus = tuple(dict.fromkeys(s for s, _ in history.keys))
    return World(
        history=history,
        codes=codes,
        skus=skus,
        lead=lead,
        demand=sim.reshape(n_skus, n_w, DAYS).astype(np.float64),
        rate0=recent.reshape(n_skus, n_w),
        safety=ss.safety_stock.reshape(n_skus, n_w),
    )


@dataclass
class Outcome:
    served: np.ndarray
    demanded: np.ndarray
    transfer_cost: float = 0.0
    units_moved: int = 0
    dispatches: int = 0
    solve_s: list[float] = field(default_factory=list)


def _scaled(network: Network, factor: float) -> Network:
    lanes = tuple(
        lane.model_copy(update={"capacity": int(lane.capacity * factor) if lane.capacity else None})
        for lane in network.lanes
    )
    return Network(warehouses=network.warehouses, lanes=lanes, service_lanes=network.service_lanes)


SKU_BY_SKU = {"tiers": (), "lost_sales": False, "give_cost": None}
"""The rebalancer's arguments that reproduce its earlier SKU-by-SKU solve."""


def _simulate(
    world: World, rebalancing: bool, network: Network | None = None, options: dict[str, Any] | None = None
) -> Outcome:
    n_s, n_w = world.rate0.shape
    max_lead = int(world.lead.max()) + 1
    rng = np.random.default_rng(7)
    rate = world.rate0.copy()
    rop = rate * world.lead[None, :] + world.safety
    on_hand = np.floor(rop + rate * ORDER_DAYS * rng.uniform(0.2, 1.0, rop.shape))
    pipeline = np.zeros((n_s, n_w, max_lead + HORIZON + 1))
    out = Outcome(served=np.zeros((n_w, DAYS)), demanded=np.zeros((n_w, DAYS)))
    network = network or world.history.network
    for day in range(DAYS):
        on_hand += pipeline[:, :, 0]
        pipeline = np.concatenate([pipeline[:, :, 1:], np.zeros((n_s, n_w, 1))], axis=2)
        want = world.demand[:, :, day]
        served = np.minimum(on_hand, want)
        on_hand -= served
        out.served[:, day] = served.sum(axis=0)
        out.demanded[:, day] = want.sum(axis=0)
        rate = ALPHA * want + (1 - ALPHA) * rate
        if rebalancing:
            data = RebalanceInput(
                skus=world.skus,
                warehouses=world.codes,
                on_hand=on_hand,
                forecast=np.repeat(rate[:, :, None], HORIZON, axis=2),
                safety_stock=world.safety,
                inbound=pipeline[:, :, :HORIZON],
                replenish_days=world.lead,
            )
            plan = rebalance(data, network, **(options or {}))
            out.solve_s.append(plan.solve_seconds)
            _apply(plan, world, on_hand, pipeline)
            out.transfer_cost += plan.transfer_cost
            out.units_moved += sum(t.qty for t in plan.transfers)
            out.dispatches += len(plan.dispatches)
        position = on_hand + pipeline.sum(axis=2)
        rop = rate * world.lead[None, :] + world.safety
        order = np.where(position < rop, np.ceil(rop + rate * ORDER_DAYS - position), 0.0)
        for w, lead in enumerate(world.lead):
            pipeline[:, w, lead - 1] += order[:, w]
    return out


def _apply(plan: RebalancePlan, world: World, on_hand: np.ndarray, pipeline: np.ndarray) -> None:
    sku_i = {s: i for i, s in enumerate(world.skus)}
    wh_i = {w: i for i, w in enumerate(world.codes)}
    for t in plan.transfers:
        s, a, b = sku_i[t.sku], wh_i[t.origin], wh_i[t.destination]
        on_hand[s, a] -= t.qty
        pipeline[s, b, max(t.transit_days, 1) - 1] += t.qty


def _snapshot_solve(seed: int) -> tuple[float, RebalancePlan]:
    """The headline solve: 10 x 5,000, stock between 30% and 150% of each position's target."""
    world = _world(5_000, seed)
    rng = np.random.default_rng(seed + 2)
    target = world.safety + world.rate0 * (world.lead[None, :] + ORDER_DAYS)
    on_hand = np.floor(target * rng.uniform(0.3, 1.5, target.shape))
    data = RebalanceInput(
        skus=world.skus,
        warehouses=world.codes,
        on_hand=on_hand,
        forecast=np.repeat(world.rate0[:, :, None], HORIZON, axis=2),
        safety_stock=world.safety,
        replenish_days=world.lead,
    )
    t0 = time.perf_counter()
    plan = rebalance(data, world.history.network)
    return time.perf_counter() - t0, plan


def main() -> None:
    p = parser(__doc__ or "")
    p.add_argument("--skus", type=int, default=0, help="SKUs in the simulation (default 5,000; --quick 300)")
    args = p.parse_args()
    n_skus = args.skus or (200 if args.quick else 5_000)
    solve_s, snap = _snapshot_solve(seed=21)
    world = _world(n_skus, seed=5)
    la = world.codes.index(SPIKE_SITE)
    peak = slice(SPIKE_FIRST, SPIKE_LAST + 1)
    results = {}
    t0 = time.perf_counter()
    results["without"] = _simulate(world, rebalancing=False)
    results["with"] = _simulate(world, rebalancing=True)
    if not args.quick:  # at 5,000 SKUs the lanes into LA run full: the same run with three times their capacity
        results["with, SKU by SKU"] = _simulate(world, rebalancing=True, options=SKU_BY_SKU)
        results[f"with, lanes x{LANE_SCALE:g}"] = _simulate(
            world, rebalancing=True, network=_scaled(world.history.network, LANE_SCALE)
        )
    sim_s = time.perf_counter() - t0

    def fill(o: Outcome, w: int | None = None, days: slice = slice(None)) -> float:
        served = o.served[:, days] if w is None else o.served[w, days]
        demanded = o.demanded[:, days] if w is None else o.demanded[w, days]
        return float(served.sum() / demanded.sum())

    rows = [
        [
            name,
            f"{100 * fill(o):.1f}%",
            f"{100 * fill(o, la, peak):.1f}%",
            f"{100 * fill(o, la):.1f}%",
            f"{o.units_moved:,}",
            o.dispatches,
            f"{o.transfer_cost:,.0f}",
        ]
        for name, o in results.items()
    ]
    table(
        f"90 days, 10 warehouses x {n_skus:,} SKUs, {SPIKE_SITE} demand x{SPIKE_FACTOR} on days "
        f"{SPIKE_FIRST}-{SPIKE_LAST}; same demand for both; baseline = without rebalancing",
        [
            "policy",
            "fill rate",
            f"fill at peak ({SPIKE_SITE})",
            f"fill {SPIKE_SITE} 90 d",
            "units moved",
            "dispatches",
            "transfer cost",
        ],
        rows,
    )
    daily = results["with"].solve_s
    table(
        "one solve (cloud.planning.rebalance.rebalance), wall s",
        ["case", "SKUs", "SKUs needing a flow", "transfers", "purchases", "rounds", "seconds"],
        [
            [
                "10 x 5,000 snapshot",
                "5,000",
                int(snap.stats["skus_solved"]),
                len(snap.transfers),
                len(snap.purchases),
                snap.rounds,
                round(solve_s, 2),
            ],
            [f"daily, median of {len(daily)}", f"{n_skus:,}", "", "", "", "", round(statistics.median(daily), 2)],
            [f"daily, slowest of {len(daily)}", f"{n_skus:,}", "", "", "", "", round(max(daily), 2)],
        ],
    )
    print(f"\nsimulation (both policies) {sim_s:.1f} s; peak RSS {rss_mb():.0f} MB")
    if args.json:
        emit_json(
            {
                "solve_10x5000_s": round(solve_s, 3),
                "solve_skus_with_flow": int(snap.stats["skus_solved"]),
                "sim_skus": n_skus,
                "sim_days": DAYS,
                "fill_rate_with": round(fill(results["with"]), 4),
                "fill_rate_without": round(fill(results["without"]), 4),
                "peak_fill_rate_with": round(fill(results["with"], la, peak), 4),
                "peak_fill_rate_without": round(fill(results["without"], la, peak), 4),
                "spike_site_fill_rate_with": round(fill(results["with"], la), 4),
                "spike_site_fill_rate_without": round(fill(results["without"], la), 4),
                "transfer_cost": round(results["with"].transfer_cost, 2),
                "units_moved": results["with"].units_moved,
                "dispatches": results["with"].dispatches,
                **(
                    {
                        "peak_fill_rate_with_sku_by_sku": round(fill(results["with, SKU by SKU"], la, peak), 4),
                        "peak_fill_rate_with_lanes_x3": round(
                            fill(results[f"with, lanes x{LANE_SCALE:g}"], la, peak), 4
                        ),
                        "fill_rate_with_lanes_x3": round(fill(results[f"with, lanes x{LANE_SCALE:g}"]), 4),
                        "transfer_cost_lanes_x3": round(results[f"with, lanes x{LANE_SCALE:g}"].transfer_cost, 2),
                    }
                    if not args.quick
                    else {}
                ),
                "daily_solve_median_s": round(statistics.median(daily), 3),
                "daily_solve_max_s": round(max(daily), 3),
                "rss_mb": round(rss_mb(), 1),
                "goal": {"solve_10x5000_s": 10, "peak_fill_rate_with": 0.95},
            }
        )


if __name__ == "__main__":
    main()
