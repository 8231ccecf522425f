"""The layout: both forms parse, bad ones are refused naming the key, distances are shortest paths."""

from __future__ import annotations

import heapq
import itertools
import tomllib
from collections import defaultdict

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from edge.floor.layout import ONE_BLOCK_TOML, LayoutError, PickGrid, Position, parse_layout
from tests.floor.conftest import ONE_BLOCK, THREE_CROSS, layouts


def test_examples_expand_to_their_locations() -> None:
    assert len(ONE_BLOCK.positions) == 12 * 30 * 2
    assert ONE_BLOCK.cross_names == ("front", "back")
    assert ONE_BLOCK.position("P01-01L") == ONE_BLOCK.position("P01-01R") == Position(0, 1.5)
    assert ONE_BLOCK.position("P12-30R") == Position(11, 30.5)
    assert len(THREE_CROSS.positions) == 10 * 2 * 15 * 2
    assert THREE_CROSS.cross_names == ("front", "middle", "back")
    assert THREE_CROSS.ys == (0.0, 1.25 + 18 + 1.25, 2 * (2.5 + 18))
    assert THREE_CROSS.position("10-2-15R").aisle == 9
    assert THREE_CROSS.layout.depot.location == "DOCK-OUT"
    assert THREE_CROSS.block_of(THREE_CROSS.position("03-2-01L").y) == 1


def test_unknown_location_is_named() -> None:
    with pytest.raises(KeyError, match="NOPE"):
        ONE_BLOCK.position("NOPE")


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda g: g.update(aisles=0), "layout.grid.aisles: Input should be greater than or equal to 1"),
        (lambda g: g.update(blocks=[]), "layout.grid.blocks: List should have at least 1 item"),
        (lambda g: g.update(location_format="{aisle}-{slot}"), "location_format must tell the sides apart"),
        (lambda g: g.update(location_format="{rack}{side}"), "location_format"),
        (lambda g: g.update(colour="red"), "layout.grid.colour: Extra inputs are not permitted"),
        (lambda g: g.update(aisle_spacing_m=-3), "layout.grid.aisle_spacing_m: Input should be greater than 0"),
        (lambda g: g.update(aisles=900, blocks=[500, 500]), "the grid expands to 1,800,000 slots, more than 200,000"),
    ],
)
def test_bad_grid_names_the_key(change: object, message: str) -> None:
    data = tomllib.loads(ONE_BLOCK_TOML)["layout"]
    change(data["grid"])  # type: ignore[operator]
    with pytest.raises(LayoutError, match=r"^site\.toml: ") as info:
        parse_layout(data, "site.toml")
    assert message in str(info.value)


def test_bad_node_by_node_layout_lists_every_problem() -> None:
    data = {
        "aisles": [{"name": "A", "x": 0}, {"name": "A", "x": 4}],
        "cross_aisles": [{"name": "front", "y": 0}, {"name": "back", "y": 10}],
        "depot": {"x": 0, "cross_aisle": "middle"},
        "slots": [
            {"location": "A-1", "aisle": "A", "y": 2},
            {"location": "A-1", "aisle": "B", "y": 10},
            {"location": "A-2", "aisle": "A", "y": 3, "side": "up"},
        ],
    }
    with pytest.raises(LayoutError) as info:
        parse_layout(data, "hall.toml")
    problems = info.value.problems
    assert "layout.slots[2].side: Input should be 'left' or 'right'" in problems
    data["slots"].pop()  # type: ignore[attr-defined]
    with pytest.raises(LayoutError) as info:
        parse_layout(data, "hall.toml")
    assert info.value.problems == [
        "layout.aisles[1].name: duplicate 'A'",
        "layout.slots[1].location: duplicate 'A-1'",
        "layout.slots[1].aisle: unknown aisle 'B'",
        "layout.slots[1].y: 10.0 is not inside a block (cross-aisles at [0.0, 10.0])",
        "layout.depot.cross_aisle: unknown cross-aisle 'middle'",
    ]


def test_grid_and_nodes_together_are_refused() -> None:
    with pytest.raises(LayoutError, match=r"layout\.grid: give either grid or aisles, not both"):
        parse_layout({"grid": {}, "aisles": []})


def _dijkstra(grid: PickGrid, a: tuple[float, float]) -> dict[tuple[float, float], float]:
    """Shortest paths on the node-by-node graph: every junction, slot and the depot, edges along lines."""
    points = {(grid.xs[p.aisle], p.y) for p in grid.positions.values()}
    points |= {(x, y) for x in grid.xs for y in grid.ys} | {(grid.depot_x, grid.depot_y)}
    adj: dict[tuple[float, float], list[tuple[tuple[float, float], float]]] = defaultdict(list)
    for x in grid.xs:  # along each aisle
        line = sorted(p for p in points if p[0] == x)
        for u, v in itertools.pairwise(line):
            adj[u].append((v, v[1] - u[1]))
            adj[v].append((u, v[1] - u[1]))
    for y in grid.ys:  # along each cross-aisle
        line = sorted(p for p in points if p[1] == y)
        for u, v in itertools.pairwise(line):
            adj[u].append((v, v[0] - u[0]))
            adj[v].append((u, v[0] - u[0]))
    dist = {a: 0.0}
    heap = [(0.0, a)]
    while heap:
        d, u = heapq.heappop(heap)
        if d > dist[u]:
            continue
        for v, w in adj[u]:
            if d + w < dist.get(v, float("inf")):
                dist[v] = d + w
                heapq.heappush(heap, (d + w, v))
    return dist


@settings(max_examples=60, deadline=None)
@given(layouts(), st.data())
def test_distances_are_shortest_paths(grid: PickGrid, data: st.DataObject) -> None:
    locs = sorted(grid.positions)
    picked = data.draw(st.lists(st.sampled_from(locs), min_size=2, max_size=6, unique=True))
    points = [grid.position(c) for c in picked]
    matrix = grid.distance_matrix(points)
    from_depot = _dijkstra(grid, (grid.depot_x, grid.depot_y))
    for i, p in enumerate(points, 1):
        assert matrix[0, i] == pytest.approx(from_depot[(grid.xs[p.aisle], p.y)])
        assert grid.depot_distance(p) == pytest.approx(matrix[0, i])
        here = _dijkstra(grid, (grid.xs[p.aisle], p.y))
        for j, q in enumerate(points, 1):
            assert grid.distance(p, q) == pytest.approx(here[(grid.xs[q.aisle], q.y)])
            assert matrix[i, j] == pytest.approx(grid.distance(p, q))
    assert np.allclose(matrix, matrix.T)
