"""Rebalancing by min-cost flow: within lane capacity, never below a minimum shipment, every unit accounted for."""

from __future__ import annotations

from collections import defaultdict

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cloud.planning.network import Lane, Network, Warehouse
from cloud.planning.rebalance import RebalanceInput, project, rebalance

CODES = ("A", "B", "C", "D")


def _net(lanes: list[Lane], codes: tuple[str, ...] = CODES) -> Network:
    return Network(warehouses=tuple(Warehouse(code=c, country="CN") for c in codes), lanes=tuple(lanes))


def _input(
    on_hand: list[list[float]], daily: list[list[float]], ss: list[list[float]], days: int = 14
) -> RebalanceInput:
    oh = np.array(on_hand, dtype=float)
    fc = np.repeat(np.array(daily, dtype=float)[:, :, None], days, axis=2)
    return RebalanceInput(
        tuple(f"S{i}" for i in range(len(oh))), CODES[: oh.shape[1]], oh, fc, np.array(ss, dtype=float)
    )


def test_surplus_goes_to_the_shortfall() -> None:
    data = _input([[500, 10]], [[10, 10]], [[50, 50]])  # A ends at 360 (surplus 310); B at -130 (short 180)
    net = _net(
        [Lane(origin="A", destination="B", transit_days=2, cost_per_unit=0.5, cost_per_shipment=100)], ("A", "B")
    )
    plan = rebalance(data, net)
    # the 130 units short of zero are worth a transfer; the 50 of buffer are not at 0.5 a unit: bought
    (t,) = plan.transfers
    assert (t.origin, t.destination, t.qty) == ("A", "B", 130)
    assert [(p.warehouse, p.qty) for p in plan.purchases] == [("B", 50)]
    assert t.why["destination_shortfall"] == 180 and t.why["destination_stockout"] == 130
    assert t.why["origin_surplus"] == 310 and t.why["destination_lowest_projection"] == -130
    assert t.why["destination_safety_stock"] == 50
    assert plan.transfer_cost == 100 + 130 * 0.5
    plan = rebalance(data, net, buffer_cost=1.0)
    assert plan.transfers[0].qty == 180 and not plan.purchases


def test_what_lanes_cannot_bring_is_bought() -> None:
    data = _input([[100, 0]], [[0, 10]], [[0, 20]], days=10)  # B short 120, A can spare 100
    slow = Lane(origin="A", destination="B", transit_days=30)  # slower than the horizon: unused
    plan = rebalance(data, _net([slow], ("A", "B")))
    assert not plan.transfers and plan.purchases[0].qty == 120
    plan = rebalance(data, _net([Lane(origin="A", destination="B", transit_days=1)], ("A", "B")))
    assert plan.transfers[0].qty == 100 and plan.purchases[0].qty == 20
    assert plan.purchases[0].why["covered_by_transfers"] == 100


def test_urgent_shortfalls_take_the_fast_lane() -> None:
    data = _input([[300, 300, 5]], [[1, 1, 10]], [[10, 10, 30]])  # C breaks safety stock today
    lanes = [
        Lane(origin="A", destination="C", transit_days=6, cost_per_unit=0.2),
        Lane(origin="B", destination="C", transit_days=1, cost_per_unit=1.0),
    ]
    plan = rebalance(data, _net(lanes, ("A", "B", "C")), buffer_cost=1.0)
    # the 135 units short of zero come by the fast lane, the 30 of thinner buffer by the cheap one
    assert sorted((t.origin, t.qty) for t in plan.transfers) == [("A", 30), ("B", 135)]
    plan = rebalance(data, _net(lanes, ("A", "B", "C")), late_penalty=0.0, buffer_cost=1.0)
    # lateness free: the cheap lane brings all it lands in time for; the 45 units C runs short of
    # before day 6 only the fast lane can save
    assert sorted((t.origin, t.qty) for t in plan.transfers) == [("A", 120), ("B", 45)]


def test_a_dear_lane_only_prevents_stockouts() -> None:
    data = _input([[300, 20]], [[1, 1]], [[10, 30]])  # B: 20 on hand, 14 days of 1: lowest 6, short 24, none below 0
    air = [Lane(origin="A", destination="B", transit_days=1, cost_per_unit=4.0)]
    plan = rebalance(data, _net(air, ("A", "B")))
    assert not plan.transfers and plan.purchases[0].qty == 24  # a thinner buffer is not worth 4 a unit
    plan = rebalance(data, _net(air, ("A", "B")), buffer_cost=5.0)
    assert plan.transfers[0].qty == 24


def test_a_lane_below_its_minimum_is_closed() -> None:
    data = _input([[100, 0, 100]], [[0, 1, 0]], [[0, 20, 0]])  # B short 34
    lanes = [
        Lane(origin="A", destination="B", transit_days=1, cost_per_unit=0.1, min_shipment=50),
        Lane(origin="C", destination="B", transit_days=2, cost_per_unit=0.3, min_shipment=10),
    ]
    plan = rebalance(data, _net(lanes, ("A", "B", "C")), buffer_cost=1.0)
    assert [(t.origin, t.qty) for t in plan.transfers] == [("C", 34)]
    assert ("A", "B") in plan.closed_lanes


def test_scarce_lane_capacity_goes_to_the_earliest_stockouts() -> None:
    # S0 is below its safety stock today but runs out only on day 11; S1 runs out on day 2
    data = _input([[10_000, 100], [10_000, 10]], [[0, 10], [0, 10]], [[0, 200], [0, 0]])
    lane = Lane(origin="A", destination="B", transit_days=1, cost_per_unit=1.0, capacity=30)
    plan = rebalance(data, _net([lane], ("A", "B")))
    # today's truck carries S1's units for days 2-4; S0's day-11 gap can take a later truck
    assert [(t.sku, t.qty) for t in plan.transfers] == [("S1", 30)]
    plan = rebalance(data, _net([lane], ("A", "B")), tiers=())
    assert [(t.sku, t.qty) for t in plan.transfers] == [("S0", 30)]  # whole windows, most urgent SKU first


def test_a_stockout_before_any_lane_lands_is_not_shipped_for() -> None:
    data = _input([[10_000, 0]], [[0, 10]], [[0, 0]])  # B is short 10 a day from today
    lane = Lane(origin="A", destination="B", transit_days=3, cost_per_unit=1.0)
    plan = rebalance(data, _net([lane], ("A", "B")))
    (t,) = plan.transfers
    assert t.qty == 120 and t.why["destination_short_before_any_lane"] == 20  # days 1-2 are gone by day 3
    assert plan.transfers[0].qty + plan.purchases[0].qty == 140
    assert rebalance(data, _net([lane], ("A", "B")), lost_sales=False).transfers[0].qty == 140


def test_an_origin_gives_from_its_safety_stock_only_to_save_a_stockout() -> None:
    lane = Lane(origin="A", destination="B", transit_days=1, cost_per_unit=1.0)
    data = _input([[30, 0]], [[1, 1]], [[20, 0]])  # A: lowest 16, all of it safety stock; B runs out
    (t,) = rebalance(data, _net([lane], ("A", "B"))).transfers
    assert t.qty == 14 and t.why["origin_gives_from_safety_stock"] == 14 and t.why["origin_surplus"] == 0
    # A buys back what it gave, on top of the 4 its projection was already below its safety stock
    assert ("A", 18) in [(p.warehouse, p.qty) for p in rebalance(data, _net([lane], ("A", "B"))).purchases]
    assert not rebalance(data, _net([lane], ("A", "B")), give_cost=None).transfers
    assert not rebalance(data, _net([lane], ("A", "B")), give_cost=60.0).transfers  # dearer than the stock-out
    thin = _input([[30, 20]], [[1, 1]], [[20, 30]])  # B only below its safety stock: A keeps its own
    assert not rebalance(thin, _net([lane], ("A", "B")), buffer_cost=5.0).transfers


@st.composite
def _cases(draw: st.DrawFn) -> tuple[RebalanceInput, Network]:
    n_sku = draw(st.integers(1, 6))
    days = draw(st.integers(3, 12))
    lanes = []
    for a in CODES:
        for b in CODES:
            if a != b and draw(st.booleans()):
                cap = draw(st.none() | st.integers(1, 200))
                lanes.append(
                    Lane(
                        origin=a,
                        destination=b,
                        transit_days=draw(st.integers(0, 15)),
                        cost_per_unit=draw(st.floats(0, 5)),
                        cost_per_shipment=draw(st.floats(0, 50)),
                        capacity=cap,
                        min_shipment=draw(st.integers(0, cap if cap else 60)),
                    )
                )
    shape = (n_sku, len(CODES))
    on_hand = np.array(draw(st.lists(st.integers(0, 300), min_size=n_sku * 4, max_size=n_sku * 4))).reshape(shape)
    daily = np.array(draw(st.lists(st.floats(0, 20), min_size=n_sku * 4, max_size=n_sku * 4))).reshape(shape)
    ss = np.array(draw(st.lists(st.floats(0, 80), min_size=n_sku * 4, max_size=n_sku * 4))).reshape(shape)
    fc = np.repeat(daily[:, :, None], days, axis=2)
    data = RebalanceInput(tuple(f"S{i}" for i in range(n_sku)), CODES, on_hand.astype(float), fc, ss)
    return data, _net(lanes)


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_cases(), st.booleans())
def test_flow_invariants(case: tuple[RebalanceInput, Network], give: bool) -> None:
    data, net = case
    plan = rebalance(data, net, give_cost=10.0 if give else None)
    proj = project(data)
    # an origin gives its surplus, and (at give_cost) its safety stock, never its projected stock itself
    can_give = proj.surplus + (np.floor(np.clip(proj.lowest, 0, data.safety_stock)) if give else 0)
    lane_load: dict[tuple[str, str], int] = defaultdict(int)
    out_of: dict[tuple[str, str], int] = defaultdict(int)
    into: dict[tuple[str, str], int] = defaultdict(int)
    for t in plan.transfers:
        lane = net.lane(t.origin, t.destination)
        assert lane is not None and lane.transit_days <= data.horizon and t.qty > 0
        lane_load[(t.origin, t.destination)] += t.qty
        out_of[(t.sku, t.origin)] += t.qty
        into[(t.sku, t.destination)] += t.qty
    for (a, b), units in lane_load.items():
        lane = net.lane(a, b)
        assert lane is not None
        assert lane.capacity is None or units <= lane.capacity  # never over capacity
        assert units >= lane.min_shipment  # never below a minimum shipment
    assert {(d.origin, d.destination): d.units for d in plan.dispatches} == dict(lane_load)
    bought = {(p.sku, p.warehouse): p.qty for p in plan.purchases}
    for s, sku in enumerate(data.skus):
        for w, wh in enumerate(data.warehouses):
            assert out_of[(sku, wh)] <= can_give[s, w]
            # every unit short arrives by transfer or is bought, exactly; safety stock given is bought back
            gave = max(out_of[(sku, wh)] - int(proj.surplus[s, w]), 0)
            assert into[(sku, wh)] + bought.get((sku, wh), 0) == proj.shortfall[s, w] + gave


def test_settings_are_the_arguments() -> None:
    from cloud.planning.settings import RebalanceSettings

    data = _input([[500, 10]], [[10, 10]], [[50, 50]])
    net = _net([Lane(origin="A", destination="B", transit_days=2, cost_per_unit=0.5)], ("A", "B"))
    default = rebalance(data, net, **RebalanceSettings().arguments())
    assert [t.qty for t in default.transfers] == [t.qty for t in rebalance(data, net).transfers] == [130]
    plan = rebalance(data, net, **RebalanceSettings(buffer_cost=1.0).arguments())
    assert plan.transfers[0].qty == 180
