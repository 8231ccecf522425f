"""Rebalancing: move projected surplus to projected shortfall over the network's lanes, at least cost.

For each SKU and warehouse the stock is projected day by day (on hand, plus what is on its way,
minus the forecast). Two windows matter, and ``replenish_days`` (how long a purchase placed now
takes to arrive, per warehouse) sets both:

- a warehouse can give what its projection holds above its safety stock until a purchase of its
  own could arrive: its *surplus*. Giving more would only make it buy sooner what it just gave;
- a warehouse needs, by transfer, what its projection falls below its safety stock before a
  purchase could arrive: its *shortfall*. Later gaps are cheaper to fill by buying; they are
  purchase suggestions, as is any shortfall no lane can bring.

Units short of zero (a stock-out: lost or late orders) are worth more than units short of the
safety stock (a thinner buffer), so a transfer must be cheaper than the shortage it prevents:
``stockout_cost`` and ``buffer_cost`` per unit. A nearly free truck may top up a thin buffer; a
dear air lane only prevents stock-outs. And a warehouse asks for stock only once its projection
falls well below its safety stock (``trigger``), not at every dip the next delivery will fill.
Without these rules a daily run moved stock back and forth between a warehouse just replenished
and one about to be (``bench/rebalance.py``: 55% of demand moved and the fill rate down, against
the run without transfers); with buffer transfers valued at 2 a unit instead of 0.25 it moved 60%
more units for no better fill rate.

Per SKU, a min-cost flow (OR-Tools ``SimpleMinCostFlow``; integer units, costs in integer cents):

    source -> origin w          capacity: surplus of w
    origin a -> lane a-b        capacity left on the lane; cost per unit + its share of a full dispatch
    lane a-b -> b's stock-outs  + a lateness penalty a day it lands after b falls below safety stock
    lane a-b -> b's buffer      (no penalty: buffer units need only land within the window)
    b's stock-outs, buffer -> sink      capacity: b's units short of zero, and the rest of its shortfall
    source -> unmet -> b's ...  what is left to buying, at ``stockout_cost`` or ``buffer_cost`` a unit

Lanes slower than the projection are not used. SKUs are solved most urgent first (earliest breach,
then largest shortfall), each taking lane capacity from those after it, so no lane is loaded past
its capacity; and they are solved in levels, the stock-outs of the next few days across every SKU
before later ones (``_needs``), because a lane runs again tomorrow and a gap three weeks out can
wait for it. A lane brings only the stock-outs it lands in time for; what falls short before any
lane can land is lost, not shipped for. An origin gives its surplus and, at ``give_cost`` a unit,
its own safety stock to save a stock-out elsewhere, never its stock below its safety stock for
a thinner buffer, never below zero. A lane whose total load ends below its minimum shipment is
closed and the SKUs that used it are solved again; this repeats until every used lane carries at least its minimum (the
exact fixed-charge problem is NP-hard; this keeps every dispatch valid and rarely takes more than
a second round).

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
    """Arrays over (sku, warehouse[, day]): ``on_hand``, daily ``forecast``, ``safety_stock``, ``inbound``.

    ``inbound[s, w, k]`` arrives at the start of day ``k + 1`` (purchases and transfers already on
    their way); ``replenish_days[w]`` is how long a purchase placed today takes to reach warehouse
    ``w`` (default: the whole projection, i.e. only transfers can help within it).
    """

    skus: tuple[str, ...]
    warehouses: tuple[str, ...]
    on_hand: np.ndarray
    forecast: np.ndarray
    safety_stock: np.ndarray
    inbound: np.ndarray | None = None
    replenish_days: np.ndarray | None = None

    def __post_init__(self) -> None:
        s, w = len(self.skus), len(self.warehouses)
        if self.on_hand.shape != (s, w) or self.safety_stock.shape != (s, w):
            raise ValueError(f"on_hand and safety_stock must be (skus, warehouses) = {(s, w)}")
        if self.forecast.ndim != 3 or self.forecast.shape[:2] != (s, w):
            raise ValueError(f"forecast must be (skus, warehouses, days) with {(s, w)} first")
        if self.inbound is not None and self.inbound.shape != self.forecast.shape:
            raise ValueError("inbound must have the forecast's shape")
        if self.replenish_days is not None and np.shape(self.replenish_days) != (w,):
            raise ValueError(f"replenish_days must have one entry a warehouse ({w})")

    @property
    def horizon(self) -> int:
        return int(self.forecast.shape[2])

    def windows(self) -> np.ndarray:
        """Per warehouse, the last projected day a purchase placed now cannot reach (1 .. horizon)."""
        if self.replenish_days is None:
            return np.full(len(self.warehouses), self.horizon, dtype=np.int64)
        return np.clip(np.asarray(self.replenish_days, dtype=np.int64), 1, self.horizon)


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
    """Per (sku, warehouse), in whole units where they are quantities.

    ``lowest`` is the lowest projected position until a purchase could arrive (the window),
    ``final`` the position at the end of the projection, ``breach_day`` the first day below safety
    stock (``horizon + 1``: none). ``surplus`` can leave today; ``shortfall`` is needed within the
    window, ``stockout`` of it below zero; ``later`` is what falls short after the window.
    """

    lowest: np.ndarray
    final: np.ndarray
    breach_day: np.ndarray
    surplus: np.ndarray
    shortfall: np.ndarray
    stockout: np.ndarray
    later: np.ndarray
    short_by: np.ndarray
    """``short_by[s, w, d]``: units the position is short of zero by day ``d`` (its deepest point so far)."""


def project(data: RebalanceInput, trigger: float = 1.0) -> Projection:
    """Project every position over the horizon and read off surpluses and shortfalls (whole units).

    A position counts as short only once its lowest point falls below ``trigger`` times its safety
    stock (then it is brought back to the full safety stock); a shallower dip is left to buying.
    """
    flow = -data.forecast if data.inbound is None else data.inbound - data.forecast
    path = data.on_hand[:, :, None] + np.concatenate([np.zeros((*data.on_hand.shape, 1)), np.cumsum(flow, 2)], 2)
    days = np.arange(data.horizon + 1)
    in_window = days[None, None, :] <= data.windows()[None, :, None]
    lowest = np.where(in_window, path, np.inf).min(axis=2)
    overall = path.min(axis=2)
    ss = data.safety_stock
    below = path < ss[:, :, None]
    breach = np.where(below.any(axis=2), below.argmax(axis=2), data.horizon + 1)
    surplus = np.floor(np.maximum(lowest - ss, 0.0) + 1e-9).astype(np.int64)
    shortfall = np.ceil(np.maximum(ss - lowest, 0.0) - 1e-9).astype(np.int64)
    shortfall = np.where(lowest < trigger * ss, shortfall, 0)
    stockout = np.minimum(np.ceil(np.maximum(-lowest, 0.0) - 1e-9).astype(np.int64), shortfall)
    total = np.ceil(np.maximum(ss - overall, 0.0) - 1e-9).astype(np.int64)
    short_by = np.ceil(np.maximum(-np.minimum.accumulate(path, axis=2), 0.0) - 1e-9).astype(np.int64)
    return Projection(
        lowest=lowest,
        final=path[:, :, -1],
        breach_day=breach,
        surplus=surplus,
        shortfall=shortfall,
        stockout=stockout,
        later=np.maximum(total - shortfall, 0),  # includes dips above the trigger
        short_by=short_by,
    )


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


@dataclass(frozen=True)
class _Costs:
    late_penalty: float
    stockout_cost: float
    buffer_cost: float
    give_cost: float


class _Flow:
    """The per-SKU flow network of one run: its arcs are the same for every SKU, only capacities change.

    Each lane is a node, so its capacity is shared by the two kinds of unit it can bring: stock-out
    units (which pay the lateness penalty: a unit that lands after the shelf emptied saves less)
    and buffer units (which do not: they only need to land within the window).
    """

    SOURCE, SINK, UNMET = 0, 1, 2

    def __init__(self, g: _Graph, n_w: int, costs: _Costs) -> None:
        n_l = len(g.lanes)
        out_node = 3 + np.arange(n_w)
        short_node = 3 + n_w + np.arange(n_w)  # each destination's stock-out units
        buffer_node = 3 + 2 * n_w + np.arange(n_w)  # units below safety stock but not below zero
        lane_node = 3 + 3 * n_w + np.arange(n_l)
        self.g, self.n_w, self.n_l, self.costs = g, n_w, n_l, costs
        groups = [
            (np.full(n_w, self.SOURCE), out_node),  # surplus
            (out_node[g.tails], lane_node),  # lane capacity
            (lane_node, short_node[g.heads]),
            (lane_node, buffer_node[g.heads]),
            (short_node, np.full(n_w, self.SINK)),
            (buffer_node, np.full(n_w, self.SINK)),
            (np.array([self.SOURCE]), np.array([self.UNMET])),
            (np.full(n_w, self.UNMET), short_node),
            (np.full(n_w, self.UNMET), buffer_node),
            (np.full(n_w, self.SOURCE), out_node),  # the origin's own safety stock, at a price
        ]
        self.tails = np.concatenate([t for t, _ in groups]).astype(np.int64)
        self.heads = np.concatenate([h for _, h in groups]).astype(np.int64)
        self.lane_arcs = slice(n_w, n_w + n_l)
        self.late_arcs = slice(n_w + n_l, n_w + 2 * n_l)
        big = np.iinfo(np.int64).max // 4
        self.base_cap = np.full(len(self.tails), big, dtype=np.int64)
        self.base_cost = np.zeros(len(self.tails), dtype=np.int64)
        self.base_cost[self.lane_arcs] = np.rint(g.unit_cost * COST_SCALE).astype(np.int64)
        unmet = 3 * n_w + 3 * n_l  # the arc source -> unmet; the unmet arcs follow it
        self.base_cost[unmet + 1 : unmet + 1 + n_w] = round(costs.stockout_cost * COST_SCALE)
        self.base_cost[unmet + 1 + n_w : unmet + 1 + 2 * n_w] = round(costs.buffer_cost * COST_SCALE)
        self.base_cost[unmet + 1 + 2 * n_w :] = round(costs.give_cost * COST_SCALE)
        self.cap_slices = (
            slice(0, n_w),  # surplus
            slice(n_w + 3 * n_l, 2 * n_w + 3 * n_l),  # stock-out units -> sink
            slice(2 * n_w + 3 * n_l, unmet),  # buffer units -> sink
            slice(unmet, unmet + 1),
            slice(unmet + 1, unmet + 1 + n_w),
            slice(unmet + 1 + n_w, unmet + 1 + 2 * n_w),
            slice(unmet + 1 + 2 * n_w, unmet + 1 + 3 * n_w),
        )

    def solve(
        self,
        surplus: np.ndarray,
        shortfall: np.ndarray,
        stockout: np.ndarray,
        breach: np.ndarray,
        residual: np.ndarray,
        lane_stockout: np.ndarray | None = None,
        origin_buffer: np.ndarray | None = None,
    ) -> np.ndarray:
        """Units on each lane for one SKU (the rest of its shortfall is left to buying).

        ``lane_stockout`` caps the stock-out units each lane may bring (those it lands in time for).
        """
        total = int(shortfall.sum())
        buffer = shortfall - stockout
        caps = self.base_cap.copy()
        s_sur, s_short, s_buf, s_unmet, s_unmet_short, s_unmet_buf, s_give = self.cap_slices
        caps[s_give] = 0 if origin_buffer is None else origin_buffer
        caps[s_sur] = surplus
        caps[self.lane_arcs] = residual
        caps[s_short] = stockout
        caps[s_buf] = buffer
        caps[s_unmet] = total
        caps[s_unmet_short] = stockout
        caps[s_unmet_buf] = buffer
        if lane_stockout is not None:
            caps[self.late_arcs] = lane_stockout
        cost = self.base_cost.copy()
        late = np.maximum(self.g.transit - breach[self.g.heads], 0)
        cost[self.late_arcs] = np.rint(self.costs.late_penalty * late * COST_SCALE).astype(np.int64)
        mcf = min_cost_flow.SimpleMinCostFlow()
        ids = mcf.add_arcs_with_capacity_and_unit_cost(self.tails, self.heads, caps, cost)
        mcf.set_nodes_supplies(np.array([self.SOURCE, self.SINK]), np.array([total, -total]))
        status = mcf.solve()
        if status != mcf.OPTIMAL:
            raise RuntimeError(f"min-cost flow failed with status {status}")
        return np.asarray(mcf.flows(ids[self.lane_arcs]), dtype=np.int64)


def rebalance(
    data: RebalanceInput,
    network: Network,
    late_penalty: float = 5.0,
    stockout_cost: float = 50.0,
    buffer_cost: float = 0.25,
    give_cost: float | None = 10.0,
    trigger: float = 0.5,
    tiers: tuple[int, ...] = (0, 2, 4, 7),
    lost_sales: bool = True,
    max_rounds: int = 20,
) -> RebalancePlan:
    """Transfers and purchase suggestions that bring every position back to its safety stock.

    Costs are per unit in the lanes' currency: ``stockout_cost`` is what a unit short of zero costs
    (a lost or late order), ``buffer_cost`` a unit short of safety stock but not of zero; a lane is
    used only where it is cheaper. ``give_cost`` is what it costs an origin to give a unit of its
    own safety stock (``None``: origins give only their surplus); above ``buffer_cost`` and below
    ``stockout_cost``, it lets a thin buffer here save a stock-out there and nothing less.
    ``late_penalty`` is the cost of a unit arriving a day after its destination breaks safety stock
    (it sends urgent shortfalls to fast lanes). A warehouse asks for a transfer only once its
    projection falls below ``trigger`` times its safety stock: a daily run would otherwise chase
    every dip that the next delivery is about to fill.

    ``tiers`` and ``lost_sales`` decide which stock-outs lane capacity goes to when it is short (see
    ``_needs``): with ``lost_sales`` a lane brings only what it lands in time for, and stock-outs
    are served earliest first across all SKUs, ``tiers`` days after the first lane can land.
    """
    t0 = time.perf_counter()
    proj = project(data, trigger)
    g = _lane_graph(network, data.warehouses, data.horizon)
    n_l = len(g.lanes)
    flow_net = _Flow(g, len(data.warehouses), _Costs(late_penalty, stockout_cost, buffer_cost, give_cost or 0.0))
    need = _needs(data, proj, g, tiers, lost_sales)
    givers = proj.surplus + (need.own_buffer if give_cost is not None else 0)
    # only SKUs with both a shortfall somewhere and something to give somewhere need a flow
    movable = (need.shortfall.sum(axis=1) > 0) & (givers.sum(axis=1) > 0) & (n_l > 0)
    order = np.flatnonzero(movable)
    urgency = np.where(need.shortfall > 0, proj.breach_day, data.horizon + 2).min(axis=1)
    order = order[np.lexsort((-need.shortfall[order].sum(axis=1), urgency[order]))]
    rank = {int(s): i for i, s in enumerate(order)}
    open_lane = np.ones(n_l, dtype=bool)
    flows: dict[int, np.ndarray] = {}
    redo = order
    rounds = 0
    while len(redo) and rounds < max_rounds:
        rounds += 1
        residual = np.where(open_lane, np.maximum(g.capacity - _load(flows, n_l), 0), 0)
        for level in range(len(need.tiers) + 1):  # earliest stock-outs first, network-wide (see _needs)
            for s in map(int, redo):
                got = flows.get(s)
                f = _solve_level(flow_net, g, proj, need, s, level, got, residual, give_cost)
                if f is not None:
                    flows[s] = f if got is None else got + f
                    residual = residual - f
        load = _load(flows, n_l)
        short = (load > 0) & (load < g.min_shipment)
        if not short.any():
            break
        open_lane &= ~short
        redo = np.array(sorted((s for s, f in flows.items() if (f[short] > 0).any()), key=rank.__getitem__))
        for s_i in redo:
            flows.pop(int(s_i))
    short = (_load(flows, n_l) > 0) & (_load(flows, n_l) < g.min_shipment)
    if short.any():  # max_rounds reached: drop what is still below a minimum rather than plan it
        flows = {s: np.where(short, 0, f) for s, f in flows.items()}
        open_lane &= ~short
    transfers, purchases, dispatches = _plan(data, proj, need, g, flows)
    return RebalancePlan(
        transfers=transfers,
        purchases=purchases,
        dispatches=dispatches,
        closed_lanes=tuple(
            (lane.origin, lane.destination) for lane, ok in zip(g.lanes, open_lane, strict=True) if not ok
        ),
        rounds=rounds,
        solve_seconds=time.perf_counter() - t0,
        stats={"skus": float(len(data.skus)), "skus_solved": float(len(order)), "lanes": float(n_l)},
    )


def _solve_level(
    flow_net: _Flow,
    g: _Graph,
    proj: Projection,
    need: _Needs,
    s: int,
    level: int,
    got: np.ndarray | None,
    residual: np.ndarray,
    give_cost: float | None,
) -> np.ndarray | None:
    """One SKU's flow at one urgency level, on top of what earlier levels gave it (``got``)."""
    n_w = len(proj.surplus[s])
    into, out = _ends(g, got if got is not None else np.zeros(len(g.lanes), dtype=np.int64), n_w)
    if level < len(need.tiers):
        stockout = shortfall = np.maximum(need.tiers[level][s] - into, 0)
    else:
        shortfall = np.maximum(need.shortfall[s] - into, 0)
        stockout = np.maximum(need.stockout[s] - into, 0)
    surplus = np.maximum(proj.surplus[s] - out, 0)
    giveable = None
    if give_cost is not None and stockout.any():  # only a stock-out is worth an origin's buffer
        giveable = np.maximum(need.own_buffer[s] - np.maximum(out - proj.surplus[s], 0), 0)
    can_give = surplus if giveable is None else surplus + giveable
    if not ((residual > 0) & (can_give[g.tails] > 0) & (shortfall[g.heads] > 0)).any():
        return None  # no open lane joins a giver to a taker: nothing to solve
    lane_cap = need.lane_stockout(s, level, into, g) if need.lost_sales else None
    f = flow_net.solve(surplus, shortfall, stockout, proj.breach_day[s], residual, lane_cap, giveable)
    return f if f.any() else None


@dataclass(frozen=True)
class _Needs:
    """What transfers may bring each (sku, warehouse), in whole units (see ``_needs``)."""

    shortfall: np.ndarray
    stockout: np.ndarray
    tiers: list[np.ndarray]
    cuts: list[np.ndarray]
    lost: np.ndarray
    own_buffer: np.ndarray
    short_by: np.ndarray
    lost_sales: bool

    def lane_stockout(self, s: int, level: int, into: np.ndarray, g: _Graph) -> np.ndarray:
        """Per lane, the stock-out units of SKU ``s`` it lands in time for, up to this level's last day.

        A lane taking ``transit`` days can save what the position falls short from that day on. What
        falls short before that is covered first by the units already planned (earlier levels
        planned them for the earliest days); what they leave of it is beyond this lane.
        """
        sb = self.short_by[s]
        heads = g.heads
        at_cut = sb[heads, self.cuts[level][heads]]
        before = sb[heads, np.minimum(np.maximum(g.transit, 1) - 1, sb.shape[1] - 1)]
        early = np.maximum(before - self.lost[s][heads], 0)
        covered_early = np.maximum(into[heads] - early, 0)
        cap: np.ndarray = np.maximum(at_cut - before - covered_early, 0).astype(np.int64)
        return cap


def _needs(data: RebalanceInput, proj: Projection, g: _Graph, tiers: tuple[int, ...], lost_sales: bool) -> _Needs:
    """Split each shortfall by when it falls, so scarce lane capacity saves the earliest stock-outs.

    Lanes are dispatched every run, so a stock-out three weeks out can wait for a later dispatch
    while one next week cannot. Serving SKUs one after the other with their whole window's need let
    the first SKUs fill the lanes with units for late in the window and left the next SKUs' early
    stock-outs unserved (``bench/rebalance.py`` at 5,000 SKUs: 91.5 % fill at the spike). So the
    solve runs in levels: first every SKU's stock-outs up to ``tiers[0]`` days after the first lane
    into its warehouse can land, then up to ``tiers[1]``, and so on, then the whole window.

    With ``lost_sales``, what falls short before any lane can land is not counted (by then those
    orders have gone to another warehouse or been lost: a late unit does not serve them), and each
    lane only brings what falls short after it lands (``_Needs.lane_stockout``).
    """
    n_w = len(data.warehouses)
    windows = data.windows()
    first = np.full(n_w, data.horizon, dtype=np.int64)  # the day the first lane into each can land
    np.minimum.at(first, g.heads, np.maximum(g.transit, 1))
    first = np.minimum(first, windows)
    w_idx = np.arange(n_w)
    lost = proj.short_by[:, w_idx, first - 1] if lost_sales else np.zeros_like(proj.stockout)
    lost = np.minimum(lost, proj.stockout)
    stockout = proj.stockout - lost
    cuts = [np.minimum(first + days, windows) for days in sorted(tiers)]
    return _Needs(
        shortfall=proj.shortfall - lost,
        stockout=stockout,
        tiers=[np.minimum(np.maximum(proj.short_by[:, w_idx, cut] - lost, 0), stockout) for cut in cuts],
        cuts=[*cuts, windows],
        lost=lost,
        own_buffer=np.floor(np.minimum(np.maximum(proj.lowest, 0.0), data.safety_stock)).astype(np.int64),
        short_by=proj.short_by,
        lost_sales=lost_sales,
    )


def _ends(g: _Graph, flow: np.ndarray, n_w: int) -> tuple[np.ndarray, np.ndarray]:
    """Units one SKU's lane flow brings into and takes out of each warehouse."""
    return np.bincount(g.heads, flow, n_w).astype(np.int64), np.bincount(g.tails, flow, n_w).astype(np.int64)


def _load(flows: dict[int, np.ndarray], n_lanes: int) -> np.ndarray:
    out = np.zeros(n_lanes, dtype=np.int64)
    for f in flows.values():
        out += f
    return out


def _plan(
    data: RebalanceInput, proj: Projection, need: _Needs, g: _Graph, flows: dict[int, np.ndarray]
) -> tuple[tuple[Transfer, ...], tuple[PurchaseSuggestion, ...], tuple[Dispatch, ...]]:
    transfers: list[Transfer] = []
    received = np.zeros_like(proj.shortfall)
    given = np.zeros_like(proj.shortfall)  # of the origin's own safety stock: it buys them back
    for s, f in sorted(flows.items()):
        given[s] = np.maximum(_ends(g, f, len(data.warehouses))[1] - proj.surplus[s], 0)
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
                        "destination_stockout": float(proj.stockout[s, b]),
                        "destination_breach_day": float(proj.breach_day[s, b]),
                        "destination_short_before_any_lane": float(need.lost[s, b]),
                        "origin_gives_from_safety_stock": float(given[s, a]),
                        "arrival_day": float(lane.transit_days),
                        "cost_per_unit": lane.cost_per_unit,
                    },
                )
            )
    purchases: list[PurchaseSuggestion] = []
    left = proj.shortfall - received + proj.later + given
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
                    "short_after_purchase_lead_time": float(proj.later[s, w]),
                    "covered_by_transfers": float(received[s, w]),
                    "given_from_safety_stock": float(given[s, w]),
                    "breach_day": float(proj.breach_day[s, w]),
                },
            )
        )
    load = _load(flows, len(g.lanes))
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
