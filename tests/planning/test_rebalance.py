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
    assert [(t.origin, t.qty) for t in plan.transfers] == [("A", 165)]


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
@given(_cases())
def test_flow_invariants(case: tuple[RebalanceInput, Network]) -> None:
    data, net = case
    plan = rebalance(data, net)
    proj = project(data)
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
            assert out_of[(sku, wh)] <= proj.surplus[s, w]  # only surplus leaves
            # every unit short arrives by transfer or is bought, exactly
            assert into[(sku, wh)] + bought.get((sku, wh), 0) == proj.shortfall[s, w]


def test_settings_are_the_arguments() -> None:
    from cloud.planning.settings import RebalanceSettings

    data = _input([[500, 10]], [[10, 10]], [[50, 50]])
    net = _net([Lane(origin="A", destination="B", transit_days=2, cost_per_unit=0.5)], ("A", "B"))
    default = rebalance(data, net, **RebalanceSettings().arguments())
    assert [t.qty for t in default.transfers] == [t.qty for t in rebalance(data, net).transfers] == [130]
    plan = rebalance(data, net, **RebalanceSettings(buffer_cost=1.0).arguments())
    assert plan.transfers[0].qty == 180
