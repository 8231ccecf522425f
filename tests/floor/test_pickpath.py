"""Pick paths: the exact planner equals brute force and is never beaten; heuristics walk real routes."""

from __future__ import annotations

import itertools
import random

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from edge.floor.layout import PickGrid, Position, parse_layout
from edge.floor.pickpath import PLANNERS, combined, largest_gap, optimal_route, ortools_route, plan_pick_path, s_shape
from edge.floor.pickpath.route import Route, Walk
from tests.floor.conftest import ONE_BLOCK, THREE_CROSS, layouts

HEURISTICS = (s_shape, largest_gap, combined)


def brute_force(grid: PickGrid, points: list[Position]) -> float:
    stops = sorted(set(points))
    m = grid.distance_matrix(stops)
    best = float("inf")
    for perm in itertools.permutations(range(1, len(stops) + 1)):
        tour = (0, *perm, 0)
        best = min(best, sum(m[a, b] for a, b in itertools.pairwise(tour)))
    return best if stops else 0.0


def walked(grid: PickGrid, route: Route) -> float:
    """The length of visiting the route's stops in its order by shortest paths."""
    m = grid.distance_matrix(list(route.stops))
    tour = [0, *range(1, len(route.stops) + 1), 0]
    return float(sum(m[a, b] for a, b in itertools.pairwise(tour)))


def picks(grid: PickGrid, data: st.DataObject, low: int, high: int) -> list[Position]:
    locs = sorted(grid.positions)
    chosen = data.draw(st.lists(st.sampled_from(locs), min_size=low, max_size=high))
    return [grid.position(c) for c in chosen]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(layouts(), st.data())
def test_optimal_equals_brute_force_on_small_orders(grid: PickGrid, data: st.DataObject) -> None:
    points = picks(grid, data, 0, 6)
    route = optimal_route(grid, points)
    assert route.length_m == pytest.approx(brute_force(grid, points))
    assert sorted(route.stops) == sorted(set(points))
    assert walked(grid, route) == pytest.approx(route.length_m)  # the order it gives walks that far


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(layouts(depot_anywhere=False), st.data())
def test_optimal_is_never_longer_than_a_heuristic(grid: PickGrid, data: st.DataObject) -> None:
    points = picks(grid, data, 0, 25)
    best = optimal_route(grid, points)
    assert walked(grid, best) == pytest.approx(best.length_m)
    for heuristic in HEURISTICS:
        route = heuristic(grid, points)
        assert sorted(route.stops) == sorted(set(points)), heuristic.__name__
        assert best.length_m <= route.length_m + 1e-9, heuristic.__name__
        assert walked(grid, route) <= route.length_m + 1e-9  # shortcuts never make a route longer


@pytest.mark.parametrize("heuristic", HEURISTICS)
@pytest.mark.parametrize("grid", [ONE_BLOCK, THREE_CROSS], ids=["one-block", "three-cross-aisles"])
def test_heuristics_walk_along_aisles_and_cross_aisles(heuristic: object, grid: PickGrid) -> None:
    rng = random.Random(7)
    locs = sorted(grid.positions)
    for _ in range(100):
        points = [grid.position(c) for c in rng.sample(locs, rng.randint(1, 30))]
        route = heuristic(grid, points)  # type: ignore[operator]  # each leg is checked as it is walked
        assert sorted(route.stops) == sorted(set(points))
        assert route.length_m >= optimal_route(grid, points).length_m - 1e-9


def test_a_walk_refuses_to_cut_across_the_racks() -> None:
    walk = Walk.from_depot(ONE_BLOCK)
    walk.along(0, 5.0)
    with pytest.raises(ValueError, match="only on a cross-aisle"):
        walk.across(6.0)
    walk.along(0, 0.0, [1.5, 4.5])
    assert walk.stops == [Position(0, 4.5), Position(0, 1.5)]
    assert walk.length == 10.0
    with pytest.raises(ValueError, match="only in an aisle"):
        Walk(ONE_BLOCK, 1.0, 0.0).along(0, 3.0)


def test_s_shape_on_a_known_order() -> None:
    # aisles 1 and 3 of the one-block layout (x = 0 and 6, aisle 32 m between cross-aisle centres)
    points = [ONE_BLOCK.position("P01-05L"), ONE_BLOCK.position("P03-10R")]
    assert s_shape(ONE_BLOCK, points).length_m == pytest.approx(32 + 6 + 32 + 6)
    assert largest_gap(ONE_BLOCK, points).length_m == pytest.approx(32 + 6 + 32 + 6)
    # both picks near the front: in and out of each aisle beats walking through
    assert optimal_route(ONE_BLOCK, points).length_m == pytest.approx(2 * 5.5 + 2 * 10.5 + 2 * 6)
    assert combined(ONE_BLOCK, points).length_m == pytest.approx(2 * 5.5 + 2 * 10.5 + 2 * 6)


def test_ortools_agrees_with_the_exact_planner_on_small_orders() -> None:
    rng = random.Random(3)
    for grid in (ONE_BLOCK, THREE_CROSS):
        locs = sorted(grid.positions)
        for _ in range(20):
            points = [grid.position(c) for c in rng.sample(locs, rng.randint(1, 8))]
            exact = optimal_route(grid, points)
            route = ortools_route(grid, points, time_limit_ms=50)
            assert sorted(route.stops) == sorted(set(points))
            assert route.length_m == pytest.approx(walked(grid, route))
            assert route.length_m == pytest.approx(exact.length_m, rel=0.02)


def test_depot_on_a_middle_cross_aisle() -> None:
    layout = parse_layout(
        {
            "aisles": [{"name": "A", "x": 0}, {"name": "B", "x": 3}, {"name": "C", "x": 6}],
            "cross_aisles": [{"name": "front", "y": 0}, {"name": "middle", "y": 10}, {"name": "back", "y": 20}],
            "depot": {"x": 4.5, "cross_aisle": "middle"},
            "slots": [{"location": f"{a}{i}", "aisle": a, "y": i + 0.5} for a in "ABC" for i in (1, 4, 12, 17)],
        }
    )
    grid = PickGrid(layout)
    points = [grid.position(c) for c in ("A1", "C17", "B12", "A4")]
    assert optimal_route(grid, points).length_m == pytest.approx(brute_force(grid, points))
    with pytest.raises(ValueError, match="front or the back"):
        s_shape(grid, points)


def test_plan_pick_path_orders_location_codes() -> None:
    codes = ["P03-10R", "P01-05L", "P01-05R", "P03-10R", "P12-01L"]
    path = plan_pick_path(ONE_BLOCK, codes)
    assert path.planner == "optimal"
    assert sorted(path.locations) == sorted(set(codes))
    assert path.locations.index("P01-05L") + 1 == path.locations.index("P01-05R")  # one stop, given order
    assert path.length_m == optimal_route(ONE_BLOCK, [ONE_BLOCK.position(c) for c in codes]).length_m
    for name in PLANNERS:
        assert plan_pick_path(ONE_BLOCK, codes, name).length_m >= path.length_m - 1e-9
    assert plan_pick_path(ONE_BLOCK, []).locations == ()
    wide = PickGrid(parse_layout({"grid": {"aisles": 4, "aisle_spacing_m": 3, "blocks": [3] * 6}}))
    deep = ["01-1-01L", "04-6-03R", "02-4-02L"]
    assert plan_pick_path(wide, deep).planner == "ortools"  # 7 cross-aisles: beyond the exact planner
    with pytest.raises(ValueError, match="up to 5 cross-aisles, not 7"):
        plan_pick_path(wide, deep, "optimal")
    with pytest.raises(ValueError, match="unknown planner 'fastest'"):
        plan_pick_path(ONE_BLOCK, codes, "fastest")
    with pytest.raises(KeyError, match="P99-01L"):
        plan_pick_path(ONE_BLOCK, ["P99-01L"])
