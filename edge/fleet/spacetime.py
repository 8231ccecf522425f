"""Space-time reservations and safe-interval path planning (SIPP) over the layout graph.

A *claim* is one vehicle's use of one node over a time interval. A vehicle driving an edge covers both
of its end nodes (that is also how the simulator's floor log counts a collision), so a claim on a node
runs from the moment the vehicle starts the edge into it until it has finished the edge out of it.
Claims of different vehicles on one node never overlap in a plan; edges need no claims of their own,
since two vehicles swapping ends of an edge would overlap on both nodes.

The search is Safe Interval Path Planning (Phillips and Likhachev, ICRA 2011): a node's free time is
cut into a few "safe intervals" between other vehicles' claims, and A* runs over (node, interval)
states with the earliest arrival as the time, waiting where it must. It is exact in continuous time
(edges of any length and speed, waits of any length) with far fewer states than a time-step grid,
which is what makes re-planning a hundred vehicles in pure Python affordable. The heuristic is the
free-floor travel time to the goal; crowding adds cost (``heat``), so routes spread over the aisles
(the congestion-aware guidance of the lifelong-MAPF literature).
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from edge.fleet.layout import LayoutGraph

INF = math.inf
_FREE = [(-INF, INF)]


@dataclass(slots=True)
class Claim:
    node: str
    start: float
    end: float
    vehicle: str
    firm: bool = False
    """Released to the vehicle (or where it stands): never planned through, whatever the priority."""


@dataclass
class Table:
    """Every vehicle's claims, by node (sorted by start) and by vehicle."""

    by_node: dict[str, list[Claim]] = field(default_factory=dict)
    by_vehicle: dict[str, list[Claim]] = field(default_factory=dict)

    def add(self, claim: Claim) -> None:
        claims = self.by_node.setdefault(claim.node, [])
        i = len(claims)
        while i > 0 and claims[i - 1].start > claim.start:
            i -= 1
        claims.insert(i, claim)
        self.by_vehicle.setdefault(claim.vehicle, []).append(claim)

    def drop(self, vehicle: str, keep: Callable[[Claim], bool] = lambda c: False) -> None:
        """Remove ``vehicle``'s claims, except those ``keep`` says to keep."""
        kept = []
        for c in self.by_vehicle.pop(vehicle, []):
            if keep(c):
                kept.append(c)
            else:
                self.by_node[c.node].remove(c)
        if kept:
            self.by_vehicle[vehicle] = kept

    def of(self, vehicle: str) -> list[Claim]:
        return self.by_vehicle.get(vehicle, [])

    def safe_intervals(self, node: str, ignore: Callable[[Claim], bool]) -> list[tuple[float, float]]:
        """Free time on ``node`` between the claims not ignored, in order."""
        out: list[tuple[float, float]] = []
        t = -INF
        for c in self.by_node.get(node, ()):
            if ignore(c):
                continue
            if c.start > t:
                out.append((t, c.start))
            t = max(t, c.end)
        if t < INF:
            out.append((t, INF))
        return out


@dataclass(frozen=True, slots=True)
class Visit:
    """One node of a timed path: reached at ``arrive``, left (the next edge started) at ``depart``."""

    node: str
    arrive: float
    depart: float


@dataclass(slots=True)
class Leg:
    goal: str
    dwell: float
    """Seconds spent at the goal (a pick or drop); the next leg starts after it."""


Successors = Mapping[str, list[tuple[str, float]]]
"""Each node's out-arcs as (end node, seconds to drive it) at one vehicle's speed."""


def successors(graph: LayoutGraph, speed: float) -> dict[str, list[tuple[str, float]]]:
    """The out-arcs of every node with their driving time at ``speed`` (capped by each edge's limit).

    Worked out once per speed instead of once per arc a search relaxes: it is the inner loop."""
    return {
        node: [(arc.end, arc.length / min(arc.max_speed, speed)) for arc in arcs] for node, arcs in graph.out.items()
    }


def sipp(
    graph: LayoutGraph,
    table: Table,
    *,
    start: str,
    t0: float,
    goal: str,
    dwell: float,
    stay: bool,
    ignore: Callable[[Claim], bool],
    seconds: Callable[[str, str], float] | None = None,
    heat: Mapping[str, float],
    heat_weight: float,
    budget: int = 3000,
    succ: Successors | None = None,
) -> list[Visit] | None:
    """The earliest-arriving path from ``start`` (standing there from ``t0``) to ``goal``, staying
    ``dwell`` seconds there (for ever with ``stay``), avoiding every claim not ignored; None if none
    is found within ``budget`` expansions or the start is not free at ``t0``.

    Driving times come from ``succ`` (see ``successors``) or, without it, from ``seconds``."""
    h = graph.time_to(goal)
    if start not in h:
        return None
    if succ is None:
        if seconds is None:
            raise ValueError("sipp needs succ or seconds")
        succ = {n: [(arc.end, seconds(n, arc.end)) for arc in arcs] for n, arcs in graph.out.items()}
    intervals: dict[str, list[tuple[float, float]]] = {}
    by_node = table.by_node

    def safe(node: str) -> list[tuple[float, float]]:
        got = intervals.get(node)
        if got is None:
            got = intervals[node] = table.safe_intervals(node, ignore) if by_node.get(node) else _FREE
        return got

    first = next((k for k, (s, e) in enumerate(safe(start)) if s <= t0 < e), None)
    if first is None:
        return None
    # state: (node, safe interval index) -> earliest arrival; parent: (state before, departure, its arrival)
    best: dict[tuple[str, int], float] = {(start, first): t0}
    parent: dict[tuple[str, int], tuple[tuple[str, int], float, float] | None] = {(start, first): None}
    heap: list[tuple[float, float, float, str, int]] = [(t0 + h[start], t0, 0.0, start, first)]
    expanded = 0
    pop, push, best_get, heat_get = heapq.heappop, heapq.heappush, best.get, heat.get
    while heap and expanded < budget:
        _, arrive, penalty, node, k = pop(heap)
        if arrive > best_get((node, k), INF):
            continue
        expanded += 1
        end = safe(node)[k][1]
        if node == goal and (end == INF if stay else arrive + dwell <= end):
            return _path((node, k), arrive, INF if stay else arrive + dwell, parent)
        for nxt, d in succ[node]:
            hn = h.get(nxt)
            if hn is None:
                continue
            ivs = intervals.get(nxt)
            if ivs is None:
                ivs = safe(nxt)
            for j, (s, e) in enumerate(ivs):
                if s + d > end:
                    break  # this interval, and every later one, opens after we must have left
                depart = arrive if arrive > s else s
                at = depart + d
                if at > end or at >= e:
                    continue
                state = (nxt, j)
                if at < best_get(state, INF):
                    best[state] = at
                    parent[state] = ((node, k), depart, arrive)
                    p = penalty + heat_weight * heat_get(nxt, 0.0)
                    push(heap, (at + p + hn, at, p, nxt, j))
    return None


def _path(
    state: tuple[str, int],
    arrive: float,
    depart: float,
    parent: Mapping[tuple[str, int], tuple[tuple[str, int], float, float] | None],
) -> list[Visit]:
    out: list[Visit] = []
    cur: tuple[str, int] | None = state
    while cur is not None:
        out.append(Visit(cur[0], arrive, depart))
        link = parent[cur]
        if link is None:
            break
        cur, depart, arrive = link
    out.reverse()
    return out
