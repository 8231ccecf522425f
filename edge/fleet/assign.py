"""Choosing a vehicle for a task, and where idle or low vehicles should go.

"Nearest" is travel time on the layout from where the vehicle stands to the pick station, at the edges'
speed limits, so a vehicle just past the station on a one-way loop is correctly far. ``first_idle`` is the
naive baseline the benchmark compares against.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from edge.fleet.layout import LayoutGraph


class Candidate(Protocol):
    @property
    def key(self) -> str: ...

    @property
    def node(self) -> str | None: ...

    @property
    def battery(self) -> float: ...


def choose(graph: LayoutGraph, policy: str, candidates: Sequence[Candidate], target: str) -> Candidate | None:
    """The vehicle to send to ``target``, or None when no candidate can reach it."""
    reachable = [c for c in candidates if c.node is not None and graph.travel_time(c.node, target) < float("inf")]
    if not reachable:
        return None
    if policy == "first_idle":
        return reachable[0]
    return min(reachable, key=lambda c: (graph.travel_time(c.node or "", target), -c.battery, c.key))


def nearest_free(graph: LayoutGraph, start: str, nodes: Sequence[str], taken: set[str]) -> str | None:
    """The closest of ``nodes`` (chargers, parks) that nobody holds or is heading to."""
    free = [n for n in nodes if n not in taken and graph.travel_time(start, n) < float("inf")]
    return min(free, key=lambda n: graph.travel_time(start, n), default=None)
