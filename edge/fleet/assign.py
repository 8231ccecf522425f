"""Choosing a vehicle for a task, and where idle or low vehicles should go.

"Nearest" is travel time on the layout from where the vehicle stands to the pick station, at the edges'
speed limits, so a vehicle just past the station on a one-way loop is correctly far. It can also weigh
congestion: among the few nearest, each pays ``congestion_seconds`` for every vehicle already planned
through the nodes of its way there, so a vehicle a little further off on an empty aisle beats one behind
a queue. The master passes ``assign_congestion_seconds``, off by default: the count is of plans at any
time, not of vehicles that will be in the way when this one passes, and on the benchmark floor it sent
vehicles half a minute further off past near ones, while the timed planner already routes the chosen one
round the crowd. ``first_idle`` is the naive baseline.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Protocol

from edge.fleet.layout import LayoutGraph


class Candidate(Protocol):
    @property
    def key(self) -> str: ...

    @property
    def node(self) -> str | None: ...

    @property
    def battery(self) -> float: ...


def choose(
    graph: LayoutGraph,
    policy: str,
    candidates: Sequence[Candidate],
    target: str,
    *,
    heat: Mapping[str, float] | None = None,
    congestion_seconds: float = 0.0,
    shortlist: int = 5,
) -> Candidate | None:
    """The vehicle to send to ``target``, or None when no candidate can reach it."""
    to = graph.time_to(target)
    reachable = [c for c in candidates if c.node is not None and c.node in to]
    if not reachable:
        return None
    if policy == "first_idle":
        return reachable[0]
    ranked = sorted(reachable, key=lambda c: (to[c.node or ""], -c.battery, c.key))
    if not heat or congestion_seconds <= 0:
        return ranked[0]
    return min(
        ranked[:shortlist],
        key=lambda c: (to[c.node or ""] + congestion_seconds * crowding(graph, c.node or "", target, heat), c.key),
    )


def crowding(graph: LayoutGraph, start: str, goal: str, heat: Mapping[str, float]) -> float:
    """Vehicles planned through the nodes of the fastest way from ``start`` to ``goal``, added up."""
    total, node, hops = 0.0, start, 0
    while node != goal and hops < len(graph.nodes):
        node, hops = graph.next_hop(node, goal), hops + 1
        total += heat.get(node, 0.0)
    return total


def nearest_free(graph: LayoutGraph, start: str, nodes: Sequence[str], taken: set[str]) -> str | None:
    """The closest of ``nodes`` (chargers, parks) that nobody holds or is heading to."""
    free = [n for n in nodes if n not in taken and graph.travel_time(start, n) < float("inf")]
    return min(free, key=lambda n: graph.travel_time(start, n), default=None)
