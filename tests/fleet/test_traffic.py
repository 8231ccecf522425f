"""Traffic control on its own: one holder per node, the wait-for graph, and breaking a cycle of waits."""

from __future__ import annotations

from edge.fleet.layout import LayoutGraph
from edge.fleet.traffic import Reservations, break_cycle
from tests.fleet.test_layout import corridor


def test_a_node_has_one_holder_and_a_refusal_is_a_wait() -> None:
    r = Reservations()
    assert r.try_reserve("V1", "A") and r.try_reserve("V1", "B", ("A", "B"))
    assert not r.try_reserve("V2", "B", ("C", "B"))
    assert r.waiting == {"V2": "B"} and r.holder("B") == "V1" and r.edge_holder("A", "B") == "V1"
    r.keep_only("V1", ["B"])
    assert r.holder("A") is None and r.edge_holder("A", "B") is None and r.held("V1") == ["B"]
    assert r.try_reserve("V2", "A") and r.find_cycle() is None
    r.remove("V1")
    assert r.try_reserve("V2", "B") and r.waiting == {}


def test_head_on_in_a_corridor_is_a_cycle_broken_by_stepping_aside() -> None:
    g = LayoutGraph(corridor().layout)
    r = Reservations()
    r.try_reserve("V1", "B")  # V1 at B heading for D
    r.try_reserve("V2", "C")  # V2 at C heading for A
    assert not r.try_reserve("V1", "C") and not r.try_reserve("V2", "B")
    cycle = r.find_cycle()
    assert cycle is not None and sorted(cycle) == ["V1", "V2"]
    detour = break_cycle(
        g,
        cycle,
        base_end={"V1": "B", "V2": "C"},
        next_stop={"V1": "D", "V2": "A"},
        remaining={"V1": ["C", "D"], "V2": ["B", "A"]},
        reservations=r,
    )
    assert detour is not None
    assert detour.vehicle == "V1" and detour.path == ["B", "X", "B", "C", "D"]  # into the side bay and back


def test_a_cycle_with_no_room_to_move_is_left_alone() -> None:
    g = LayoutGraph(corridor().layout)
    r = Reservations()
    r.try_reserve("V1", "C")
    r.try_reserve("V2", "D")
    r.try_reserve("V3", "X")  # the bay is taken too
    assert not r.try_reserve("V1", "D") and not r.try_reserve("V2", "C")
    cycle = r.find_cycle()
    assert cycle is not None
    assert (
        break_cycle(
            g,
            cycle,
            base_end={"V1": "C", "V2": "D"},
            next_stop={"V1": "D", "V2": "A"},
            remaining={"V1": ["D"], "V2": ["C", "B", "A"]},
            reservations=r,
        )
        is None
    )


def test_a_freed_node_goes_to_the_first_waiter() -> None:
    r = Reservations()
    r.try_reserve("V1", "A")
    r.try_reserve("V2", "B")
    r.try_reserve("V3", "C")
    assert not r.try_reserve("V2", "A")  # V2 waits for A first
    r.keep_only("V1", [])  # V1 steps away, A is free
    assert not r.try_reserve("V3", "A")  # free, but promised to V2
    assert r.blocker("A", "V3") == "V2" and r.blocker("A", "V2") is None
    assert r.find_cycle() is None
    assert r.try_reserve("V2", "A") and r.holder("A") == "V2"
    assert r.waiting == {"V3": "A"} and r.blocker("A", "V3") == "V2"
