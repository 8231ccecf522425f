"""Compact grid layouts: what ``[fleet.layout.grid]`` expands to, and errors that name the key."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from edge.fleet.config import FleetConfig
from edge.fleet.examples import warehouse_grid
from edge.fleet.layout import Layout, LayoutGraph


def grid(**kw: object) -> Layout:
    spec = {"aisles": 6, "bays": 10, "docks": ["D1", "D2"], "picks": ["P1"], "chargers": ["C1", "C2"], "parks": 8}
    return Layout.model_validate({"map_id": "g", "grid": {**spec, **kw}})


def test_grid_expands_to_aisles_cross_aisles_and_wall_stations() -> None:
    layout = grid(slot_pattern="R-{aisle:02d}-{bay:02d}", slots=[{"location": "BIN-7", "aisle": 2, "bay": 3}])
    g = LayoutGraph(layout)
    kinds = {s.location: s.kind for s in layout.stations}
    assert kinds["D1"] == "dock" and kinds["P1"] == "pick" and kinds["C2"] == "charger" and kinds["PARK-008"] == "park"
    assert g.stations["BIN-7"].node == "A02.B003" and "R-02-03" not in g.stations  # the named slot wins
    assert len([s for s in layout.stations if s.kind == "slot"]) == 6 * 10
    # wall stations are drive-through bays off the ring: one way in, one way out, never on a lane
    for s in layout.stations:
        if s.kind != "slot":
            assert s.node.startswith("W.") and len(g.out[s.node]) == 1 and len(g.into[s.node]) == 1
    docks_y = {g.nodes[g.stations[d].node].y for d in ("D1", "D2")}
    picks_y = {g.nodes[g.stations["P1"].node].y}
    assert max(docks_y) < 0 < min(picks_y)  # docks on the south wall, the station on the north wall
    # one-way highways: each aisle node has one way on along its aisle; everything reaches everything
    assert g.route("W.D1", "W.P1") is not None and g.route("W.P1", "W.D1") is not None
    assert (("A03.B001", "A03.B002") in g.arcs) != (("A03.B002", "A03.B001") in g.arcs)
    assert (("A03.B001", "A03.B002") in g.arcs) != (("A04.B001", "A04.B002") in g.arcs)  # neighbours alternate


def test_two_way_aisles_keep_the_ring_one_way() -> None:
    g = LayoutGraph(grid(two_way_aisles=True))
    assert ("A03.B001", "A03.B002") in g.arcs and ("A03.B002", "A03.B001") in g.arcs
    ring = [(a, b) for (a, b) in g.arcs if a.startswith("X1.") and b.startswith("X1.")]
    assert ring and all((b, a) not in g.arcs for a, b in ring)


def test_grid_errors_name_the_key() -> None:
    with pytest.raises(ValidationError) as err:
        grid(docks=["D1"] * 3, parks=500, slots=[{"location": "X", "aisle": 9, "bay": 1}], slot_pattern="{row}")
    text = str(err.value)
    for part in ("grid.slots[0].aisle: 9 is past the 6 aisles", "grid.docks[1]: duplicate location 'D1'",
                 "grid.parks: 500 park spots", "grid.slot_pattern"):  # fmt: skip
        assert part in text, part
    with pytest.raises(ValidationError) as err:
        grid(aisles=1)
    assert "grid.aisles" in str(err.value)
    with pytest.raises(ValidationError) as err:
        grid(unknown_key=1)
    assert "grid.unknown_key" in str(err.value)


def test_a_layout_that_strands_a_node_is_refused() -> None:
    nodes = [{"id": n, "x": float(i), "y": 0.0} for i, n in enumerate("ABC")]
    edges = [{"start": "A", "end": "B", "max_speed": 1.0}, {"start": "B", "end": "C", "max_speed": 1.0}]
    with pytest.raises(ValidationError, match="not every node can reach every other"):
        Layout.model_validate({"nodes": nodes, "edges": edges})


def test_a_site_adds_nodes_to_a_grid_and_the_fleet_config_takes_it() -> None:
    cfg = FleetConfig.model_validate(
        {
            "traffic": "reservations",
            "layout": {
                "grid": {"aisles": 4, "bays": 4, "cross_aisles": 2, "parks": 2},
                "nodes": [{"id": "QC", "x": -3.0, "y": 0.0}],
                "edges": [{"start": "X1.A01", "end": "QC", "max_speed": 1.0, "both_ways": True}],
                "stations": [{"location": "BOND-01", "node": "QC", "kind": "slot"}],
            },
        }
    )
    g = LayoutGraph(cfg.layout)
    assert g.route("QC", "A04.B004") is not None and g.stations["BOND-01"].node == "QC"
    with pytest.raises(ValidationError, match="traffic"):
        FleetConfig.model_validate({"traffic": "telepathy", "layout": cfg.layout.model_dump()})


def test_the_benchmark_floor_fits_a_hundred_agvs() -> None:
    g = LayoutGraph(warehouse_grid(agvs=100, two_way_aisles=True))
    assert len(g.stations_of("park")) == 100 and len(g.stations_of("charger")) == 20
    assert len(g.stations_of("dock")) == len(g.stations_of("pick")) == 8 and len(g.nodes) > 700
