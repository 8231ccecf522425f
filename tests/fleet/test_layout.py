"""The layout graph from the site config: validation that names the key, routing, travel times."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest
from pydantic import ValidationError

from edge.fleet.config import FleetConfig
from edge.fleet.examples import fleet_layout, loop_layout
from edge.fleet.layout import Layout, LayoutGraph

TOML = Path(__file__).with_name("site_layout.toml")


def corridor() -> FleetConfig:
    return FleetConfig.model_validate(tomllib.loads(TOML.read_text())["fleet"])


def test_toml_section_loads_and_routes() -> None:
    cfg = corridor()
    g = LayoutGraph(cfg.layout)
    assert g.map_id == "hall-a"
    assert g.route("A", "D") == ["A", "B", "C", "D"]
    assert g.arc("C", "D").length == 2.5 and g.arc("A", "B").length == pytest.approx(2.0)
    assert g.travel_time("A", "D") == pytest.approx(2 / 1.5 + 2 / 1.5 + 2.5 / 1.0)
    assert g.route("A", "D", avoid=["C"]) is None
    assert g.route("B", "C", not_first="C") == ["B", "A", "B", "C"]  # in a corridor "round" is a U-turn
    assert g.stations["PARK-1"].node == "X"


def test_bad_layout_names_the_key() -> None:
    data = tomllib.loads(TOML.read_text())["fleet"]
    data["layout"]["edges"].append({"start": "A", "end": "Q", "max_speed": 1.0})
    data["layout"]["stations"].append({"location": "DOCK-1", "node": "B", "kind": "dock"})
    with pytest.raises(ValidationError) as err:
        FleetConfig.model_validate(data)
    text = str(err.value)
    assert "edges[4]: unknown node 'Q'" in text and "stations[3].location: duplicate 'DOCK-1'" in text
    with pytest.raises(ValidationError):
        FleetConfig.model_validate(
            {**data, "layout": tomllib.loads(TOML.read_text())["fleet"]["layout"], "min_charge": 50, "task_charge": 40}
        )


def test_example_loop_is_one_way_with_drive_through_bays() -> None:
    layout = loop_layout()
    g = LayoutGraph(layout)
    lane = [n for n in g.nodes if n.startswith("L")]
    assert len(lane) >= 30
    assert all(len([a for a in g.out[n] if a.end.startswith("L")]) == 1 for n in lane)
    for st in layout.stations:
        (exit_arc,) = g.out[st.node]
        entries = [a for arcs in g.out.values() for a in arcs if a.end == st.node]
        assert len(entries) == 1 and entries[0].start != exit_arc.end  # in from one lane node, out to the next
    # the way round: waiting at a lane node for a bay, the detour is a lap back to it
    bay = layout.stations[0]
    entry = next(a.start for arcs in g.out.values() for a in arcs if a.end == bay.node)
    lap = g.route(entry, bay.node, not_first=bay.node)
    assert lap is not None and lap[0] == entry and lap[-2] == entry and len(lap) == len(lane) + 2


def test_fleet_layout_grows_with_the_fleet() -> None:
    small, big = LayoutGraph(fleet_layout(10)), LayoutGraph(fleet_layout(50))
    assert len(big.stations_of("park")) == 50 and len(small.stations_of("park")) == 10
    assert len([n for n in big.nodes if n.startswith("L")]) >= 150
    crowded = LayoutGraph(loop_layout(slots=100, min_lane=10))  # the lane grows to fit every bay
    assert 2 * len([n for n in crowded.nodes if n.startswith("L")]) >= len(crowded.stations)
    assert isinstance(small.layout, Layout)
