"""Rebalancing: move projected surplus to projected shortfall over the network's lanes, at least cost.

For each SKU and warehouse the stock is projected day by day over the horizon (on hand, plus what
is already on its way, minus the forecast). A warehouse whose lowest projected position stays above
its safety stock has a surplus it can send today without ever dipping below it; one whose position
falls below has a shortfall. Per SKU, a min-cost flow (OR-Tools ``SimpleMinCostFlow``; units are
integers and costs are scaled to integer cents) sends surplus to shortfall over the lanes:

    source -> origin w     capacity: surplus of w
    origin a -> dest b     a lane: capacity left on it, cost per unit + its share of a full dispatch
                           + a lateness penalty for each day it arrives after b breaks safety stock
    dest b -> sink         capacity: shortfall of b
    source -> purchase -> dest b     what no lane can bring: a purchase suggestion, at a high cost

Lanes slower than the horizon are not used. SKUs are solved most urgent first (earliest breach,
then largest shortfall), each taking lane capacity from the ones after it, so a lane is never
loaded past its capacity. A lane whose total load ends below its minimum shipment is closed and the
SKUs that used it are solved again without it; this repeats until every used lane carries at least
its minimum (a fixed-charge problem solved exactly would be NP-hard; this keeps every dispatch
valid and rarely costs a second round).

Every recommendation carries the numbers behind it (projection, safety stock, surplus or shortfall,
lane and cost) so a planner can see why it was made.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np
from ortools.graph.python import min_cost_flow

from cloud.planning.network import Lane, Network

COST_SCALE = 100
"""Costs are integer hundredths of the currency in the flow."""


@dataclass(frozen=True)
class RebalanceInput:
    """Arrays over (sku, warehouse[, day]): ``on_hand``, daily ``forecast``, ``safety_stock``, ``inbound`` arrivals."""

    skus: tuple[str, ...]
    warehouses: tuple[str, ...]
    on_hand: np.ndarray
    forecast: np.ndarray
    safety_stock: np.ndarray
    inbound: np.ndarray | None = None

    def __post_init__(self) -> None:
        s, w = len(self.skus), len(self.warehouses)
        if self.on_hand.shape != (s, w) or self.safety_stock.shape != (s, w):
            raise ValueError(f"on_hand and safety_stock must be (skus, warehouses) = {(s, w)}")
        if self.forecast.ndim != 3 or self.forecast.shape[:2] != (s, w):
            raise ValueError(f"forecast must be (skus, warehouses, days) with {(s, w)} first")
        if self.inbound is not None and self.inbound.shape != self.forecast.shape:
            raise ValueError("inbound must have the forecast's shape")

    @property
    def horizon(self) -> int:
        return int(self.forecast.shape[2])


@dataclass(frozen=True)
class Transfer:
    sku: str
    origin: str
    destination: str
    qty: int
    transit_days: int
    cost: float
    """Per-unit cost of these units; the dispatch's fixed cost is in ``Dispatch``."""
    why: dict[str, float]


@dataclass(frozen=True)
class PurchaseSuggestion:
    sku: str
    warehouse: str
    qty: int
    why: dict[str, float]


@dataclass(frozen=True)
class Dispatch:
    """All units planned on one lane this run: one shipment."""

    origin: str
    destination: str
    units: int
    cost: float


@dataclass(frozen=True)
class RebalancePlan:
    transfers: tuple[Transfer, ...]
    purchases: tuple[PurchaseSuggestion, ...]
    dispatches: tuple[Dispatch, ...]
    closed_lanes: tuple[tuple[str, str], ...]
    rounds: int
    solve_seconds: float
    stats: dict[str, float] = field(default_factory=dict)

    @property
    def transfer_cost(self) -> float:
        return round(sum(d.cost for d in self.dispatches), 2)


@dataclass(frozen=True)
class Projection:
    """Per (sku, warehouse): lowest and final projected position, the first day below safety stock."""

    lowest: np.ndarray
    final: np.ndarray
    breach_day: np.ndarray
    surplus: np.ndarray
    shortfall: np.ndarray


def project(data: RebalanceInput) -> Projection:
    """Project every position over the horizon and read off surpluses and shortfalls (whole units)."""
    flow = -data.forecast if data.inbound is None else data.inbound - data.forecast
    path = data.on_hand[:, :, None] + np.concatenate([np.zeros((*data.on_hand.shape, 1)), np.cumsum(flow, 2)], 2)
    lowest = path.min(axis=2)
    below = path < data.safety_stock[:, :, None]
    breach = np.where(below.any(axis=2), below.argmax(axis=2), data.horizon + 1)
    surplus = np.floor(np.maximum(lowest - data.safety_stock, 0.0) + 1e-9).astype(np.int64)
    shortfall = np.ceil(np.maximum(data.safety_stock - lowest, 0.0) - 1e-9).astype(np.int64)
    return Projection(lowest=lowest, final=path[:, :, -1], breach_day=breach, surplus=surplus, shortfall=shortfall)


@dataclass
class _Graph:
    lanes: list[Lane]
    tails: np.ndarray
    heads: np.ndarray
    unit_cost: np.ndarray
    transit: np.ndarray
    capacity: np.ndarray
    min_shipment: np.ndarray


def _lane_graph(network: Network, warehouses: tuple[str, ...], horizon: int) -> _Graph:
    pos = {w: i for i, w in enumerate(warehouses)}
    lanes = [
        lane
        for lane in network.lanes
        if lane.origin in pos and lane.destination in pos and lane.transit_days <= horizon
    ]
    big = np.iinfo(np.int64).max // 4
    return _Graph(
        lanes=lanes,
        tails=np.array([pos[lane.origin] for lane in lanes], dtype=np.int64),
        heads=np.array([pos[lane.destination] for lane in lanes], dtype=np.int64),
        unit_cost=np.array(
            [lane.cost_per_unit + (lane.cost_per_shipment / lane.capacity if lane.capacity else 0.0) for lane in lanes]
        ),
        transit=np.array([lane.transit_days for lane in lanes], dtype=np.int64),
        capacity=np.array([lane.capacity if lane.capacity else big for lane in lanes], dtype=np.int64),
        min_shipment=np.array([lane.min_shipment for lane in lanes], dtype=np.int64),
    )


def _solve_sku(
    surplus: np.ndarray,
    shortfall: np.ndarray,
    breach: np.ndarray,
    g: _Graph,
    residual: np.ndarray,
    late_penalty: float,
    purchase_penalty: float,
) -> np.ndarray:
    """Units on each lane for one SKU (the rest of the shortfall is bought)."""
    n_w = len(surplus)
    total = int(shortfall.sum())
    source, sink, buy = 0, 1, 2
    out_node = 3 + np.arange(n_w)
    in_node = 3 + n_w + np.arange(n_w)
    late = np.maximum(g.transit - breach[g.heads], 0)
    lane_cost = np.rint((g.unit_cost + late_penalty * late) * COST_SCALE).astype(np.int64)
    tails = np.concatenate([np.full(n_w, source), out_node[g.tails], in_node, [source], np.full(n_w, buy)])
    heads = np.concatenate([out_node, in_node[g.heads], np.full(n_w, sink), [buy], in_node])
    caps = np.concatenate([surplus, residual, shortfall, [total], shortfall]).astype(np.int64)
    costs = np.concatenate(
        [np.zeros(n_w), lane_cost, np.zeros(n_w), [0], np.full(n_w, round(purchase_penalty * COST_SCALE))]
    ).astype(np.int64)
    mcf = min_cost_flow.SimpleMinCostFlow()
    arcs = mcf.add_arcs_with_capacity_and_unit_cost(tails, heads, caps, costs)
    mcf.set_nodes_supplies(np.array([source, sink]), np.array([total, -total]))
    status = mcf.solve()
    if status != mcf.OPTIMAL:
        raise RuntimeError(f"min-cost flow failed with status {status}")
    return np.asarray(mcf.flows(arcs[n_w : n_w + len(g.lanes)]), dtype=np.int64)


def rebalance(
    data: RebalanceInput,
    network: Network,
    late_penalty: float = 5.0,
    purchase_penalty: float = 10_000.0,
    max_rounds: int = 20,
) -> RebalancePlan:
    """Transfers and purchase suggestions that bring every position back to its safety stock.

    ``late_penalty`` is the cost of a unit arriving a day after its destination breaks safety stock
    (it makes urgent shortfalls take fast lanes); ``purchase_penalty`` the cost of a unit no lane
    brings (high: a transfer of stock the network already has is preferred).
    """
    t0 = time.perf_counter()
    proj = project(data)
    g = _lane_graph(network, data.warehouses, data.horizon)
    n_l = len(g.lanes)
    # only SKUs with both a shortfall somewhere and a surplus somewhere need a flow
    needy = proj.shortfall.sum(axis=1) > 0
    movable = needy & (proj.surplus.sum(axis=1) > 0) & (n_l > 0)
    order = np.flatnonzero(movable)
    urgency = np.where(proj.shortfall > 0, proj.breach_day, data.horizon + 2).min(axis=1)
    order = order[np.lexsort((-proj.shortfall[order].sum(axis=1), urgency[order]))]
    open_lane = np.ones(n_l, dtype=bool)
    flows: dict[int, np.ndarray] = {}
    redo = order
    rounds = 0
    while len(redo) and rounds < max_rounds:
        rounds += 1
        used = np.zeros(n_l, dtype=np.int64)
        for s in flows:
            used += flows[s]
        residual = np.where(open_lane, np.maximum(g.capacity - used, 0), 0)
        for s_i in redo:
            f = _solve_sku(
                proj.surplus[s_i],
                proj.shortfall[s_i],
                proj.breach_day[s_i],
                g,
                residual,
                late_penalty,
                purchase_penalty,
            )
            flows[int(s_i)] = f
            residual = residual - f
        load = np.sum(list(flows.values()), axis=0) if flows else np.zeros(n_l, dtype=np.int64)
        short = (load > 0) & (load < g.min_shipment)
        if not short.any():
            break
        open_lane &= ~short
        rank = {int(s): i for i, s in enumerate(order)}
        redo = np.array(sorted((s for s, f in flows.items() if (f[short] > 0).any()), key=rank.__getitem__))
        for s_i in redo:
            flows.pop(int(s_i))
    load = np.sum(list(flows.values()), axis=0) if flows else np.zeros(n_l, dtype=np.int64)
    short = (load > 0) & (load < g.min_shipment)
    if short.any():  # max_rounds reached: drop what is still below a minimum rather than plan it
        for s in list(flows):
            flows[s] = np.where(short, 0, flows[s])
        open_lane &= ~short
    plan = _plan(data, proj, g, flows)
    return RebalancePlan(
        transfers=plan[0],
        purchases=plan[1],
        dispatches=plan[2],
        closed_lanes=tuple(
            (lane.origin, lane.destination) for lane, ok in zip(g.lanes, open_lane, strict=True) if not ok
        ),
        rounds=rounds,
        solve_seconds=time.perf_counter() - t0,
        stats={"skus": float(len(data.skus)), "skus_solved": float(len(order)), "lanes": float(n_l)},
    )


def _plan(
    data: RebalanceInput, proj: Projection, g: _Graph, flows: dict[int, np.ndarray]
) -> tuple[tuple[Transfer, ...], tuple[PurchaseSuggestion, ...], tuple[Dispatch, ...]]:
    transfers: list[Transfer] = []
    received = np.zeros_like(proj.shortfall)
    for s, f in sorted(flows.items()):
        for li in np.flatnonzero(f):
            lane = g.lanes[li]
            a, b, qty = int(g.tails[li]), int(g.heads[li]), int(f[li])
            received[s, b] += qty
            transfers.append(
                Transfer(
                    sku=data.skus[s],
                    origin=lane.origin,
                    destination=lane.destination,
                    qty=qty,
                    transit_days=lane.transit_days,
                    cost=round(qty * lane.cost_per_unit, 2),
                    why={
                        "origin_on_hand": float(data.on_hand[s, a]),
                        "origin_lowest_projection": round(float(proj.lowest[s, a]), 2),
                        "origin_safety_stock": round(float(data.safety_stock[s, a]), 2),
                        "origin_surplus": float(proj.surplus[s, a]),
                        "destination_on_hand": float(data.on_hand[s, b]),
                        "destination_lowest_projection": round(float(proj.lowest[s, b]), 2),
                        "destination_safety_stock": round(float(data.safety_stock[s, b]), 2),
                        "destination_shortfall": float(proj.shortfall[s, b]),
                        "destination_breach_day": float(proj.breach_day[s, b]),
                        "arrival_day": float(lane.transit_days),
                        "cost_per_unit": lane.cost_per_unit,
                    },
                )
            )
    purchases: list[PurchaseSuggestion] = []
    left = proj.shortfall - received
    for s, w in zip(*np.nonzero(left > 0), strict=True):
        purchases.append(
            PurchaseSuggestion(
                sku=data.skus[s],
                warehouse=data.warehouses[w],
                qty=int(left[s, w]),
                why={
                    "on_hand": float(data.on_hand[s, w]),
                    "lowest_projection": round(float(proj.lowest[s, w]), 2),
                    "final_projection": round(float(proj.final[s, w]), 2),
                    "safety_stock": round(float(data.safety_stock[s, w]), 2),
                    "shortfall": float(proj.shortfall[s, w]),
                    "covered_by_transfers": float(received[s, w]),
                    "breach_day": float(proj.breach_day[s, w]),
                },
            )
        )
    load = np.sum(list(flows.values()), axis=0) if flows else np.zeros(len(g.lanes), dtype=np.int64)
    dispatches = tuple(
        Dispatch(
            origin=g.lanes[li].origin,
            destination=g.lanes[li].destination,
            units=int(load[li]),
            cost=round(g.lanes[li].cost_per_shipment + int(load[li]) * g.lanes[li].cost_per_unit, 2),
        )
        for li in np.flatnonzero(load)
    )
    return tuple(transfers), tuple(purchases), dispatches
