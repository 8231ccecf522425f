"""The site's layout graph: where AGVs may drive, how fast, and which nodes are stations and chargers.

The layout comes from the site config (``[fleet.layout]``), node by node or compactly as a grid of
aisles (``[fleet.layout.grid]``, see ``edge.fleet.grid``; the two may be combined), is validated once at
start with errors that name the key, and is then an immutable directed graph. Edges are directed
because most AGV floors run one-way lanes; ``both_ways = true`` adds the reverse edge. Travel times
(length / speed limit) drive both routing and the "nearest AGV" of assignment, so a slow spur counts
for what it costs on the floor.
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from itertools import pairwise
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from edge.fleet.grid import GridSpec, build, strongly_connected
from sync.codes import Code

NodeId = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.:\-]+$")]
StationKind = Literal["dock", "slot", "pick", "charger", "park"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class LayoutNode(_Strict):
    id: NodeId
    x: float
    y: float


class LayoutEdge(_Strict):
    start: NodeId
    end: NodeId
    max_speed: float = Field(gt=0, le=10, description="Speed limit on this edge, m/s.")
    length: float | None = Field(default=None, gt=0, description="Metres; the straight line when omitted.")
    both_ways: bool = False


class Station(_Strict):
    """A node where work happens; ``location`` is the master-data location code the ops name."""

    location: Code
    node: NodeId
    kind: StationKind


class Layout(_Strict):
    map_id: NodeId = "floor-1"
    nodes: list[LayoutNode] = Field(min_length=1)
    edges: list[LayoutEdge] = Field(min_length=1)
    stations: list[Station] = Field(default_factory=list)

    @model_validator(mode="before")
    @classmethod
    def _expand_grid(cls, data: Any) -> Any:
        """A ``grid`` table becomes nodes, edges and stations, ahead of any listed node by node."""
        if not isinstance(data, dict) or "grid" not in data:
            return data
        data = dict(data)
        try:
            spec = GridSpec.model_validate(data.pop("grid"))
        except ValidationError as exc:
            where = [".".join(str(p) for p in e["loc"]) for e in exc.errors()]
            msgs = [e["msg"].removeprefix("Value error, ") for e in exc.errors()]
            text = "; ".join(m if not w else f"grid.{w}: {m}" for w, m in zip(where, msgs, strict=True))
            raise ValueError(text) from None
        grid = build(spec)
        for key in ("nodes", "edges", "stations"):
            data[key] = grid[key] + list(data.get(key) or [])
        return data

    @model_validator(mode="after")
    def _references_resolve(self) -> Layout:
        problems: list[str] = []
        ids: set[str] = set()
        for i, n in enumerate(self.nodes):
            if n.id in ids:
                problems.append(f"nodes[{i}]: duplicate node {n.id!r}")
            ids.add(n.id)
        for i, e in enumerate(self.edges):
            for end in (e.start, e.end):
                if end not in ids:
                    problems.append(f"edges[{i}]: unknown node {end!r}")
            if e.start == e.end:
                problems.append(f"edges[{i}]: an edge needs two different nodes")
        locations: set[str] = set()
        for i, s in enumerate(self.stations):
            if s.node not in ids:
                problems.append(f"stations[{i}].node: unknown node {s.node!r}")
            if s.location in locations:
                problems.append(f"stations[{i}].location: duplicate {s.location!r}")
            locations.add(s.location)
        if not problems:
            arcs = [(e.start, e.end) for e in self.edges] + [(e.end, e.start) for e in self.edges if e.both_ways]
            cut_off = strongly_connected([n.id for n in self.nodes], arcs)
            if cut_off:
                problems.append(f"edges: not every node can reach every other, e.g. {', '.join(cut_off[:5])}")
        if problems:
            raise ValueError("; ".join(problems))
        return self


@dataclass(frozen=True, slots=True)
class Arc:
    """One directed edge of the graph, with its VDA 5050 edgeId."""

    edge_id: str
    start: str
    end: str
    length: float
    max_speed: float

    @property
    def seconds(self) -> float:
        return self.length / self.max_speed


class LayoutGraph:
    """Routing over a validated ``Layout``: shortest travel time, with optional nodes to avoid."""

    def __init__(self, layout: Layout) -> None:
        self.layout = layout
        self.map_id = layout.map_id
        self.nodes = {n.id: n for n in layout.nodes}
        self.out: dict[str, list[Arc]] = {n: [] for n in self.nodes}
        self.arcs: dict[tuple[str, str], Arc] = {}
        for e in layout.edges:
            pairs = [(e.start, e.end)] + ([(e.end, e.start)] if e.both_ways else [])
            for a, b in pairs:
                length = e.length if e.length is not None else max(0.01, self.distance(a, b))
                arc = Arc(f"{a}-{b}", a, b, length, e.max_speed)
                self.arcs[(a, b)] = arc
                self.out[a].append(arc)
        self.stations = {s.location: s for s in layout.stations}
        self._of_kind: dict[str, list[Station]] = {}
        for s in layout.stations:
            self._of_kind.setdefault(s.kind, []).append(s)
        self.station_nodes = {s.node: s for s in layout.stations}
        self.into: dict[str, list[Arc]] = {n: [] for n in self.nodes}
        for arc in self.arcs.values():
            self.into[arc.end].append(arc)
        self._from = lru_cache(maxsize=4096)(self._dijkstra_all)
        self._to = lru_cache(maxsize=4096)(self._dijkstra_to)
        self._hops: dict[str, dict[str, str]] = {}

    def distance(self, a: str, b: str) -> float:
        na, nb = self.nodes[a], self.nodes[b]
        return math.hypot(nb.x - na.x, nb.y - na.y)

    def stations_of(self, kind: StationKind) -> list[Station]:
        return list(self._of_kind.get(kind, ()))

    def _dijkstra_all(self, source: str) -> dict[str, float]:
        dist = {source: 0.0}
        heap = [(0.0, source)]
        while heap:
            d, n = heapq.heappop(heap)
            if d > dist.get(n, math.inf):
                continue
            for arc in self.out[n]:
                nd = d + arc.seconds
                if nd < dist.get(arc.end, math.inf):
                    dist[arc.end] = nd
                    heapq.heappush(heap, (nd, arc.end))
        return dist

    def _dijkstra_to(self, goal: str) -> dict[str, float]:
        dist = {goal: 0.0}
        heap = [(0.0, goal)]
        while heap:
            d, n = heapq.heappop(heap)
            if d > dist.get(n, math.inf):
                continue
            for arc in self.into[n]:
                nd = d + arc.seconds
                if nd < dist.get(arc.start, math.inf):
                    dist[arc.start] = nd
                    heapq.heappush(heap, (nd, arc.start))
        return dist

    def time_to(self, goal: str) -> dict[str, float]:
        """Seconds from every node that can reach ``goal`` to it, at the speed limits (cached per goal)."""
        return self._to(goal)

    def next_hop(self, node: str, goal: str) -> str:
        """The end of the first arc of the fastest way from ``node`` to ``goal`` (the first such arc on a
        tie), remembered per goal: assignment walks these ways for every candidate of every task."""
        hops = self._hops.get(goal)
        if hops is None:
            hops = self._hops[goal] = {}
        nxt = hops.get(node)
        if nxt is None:
            to = self.time_to(goal)
            nxt = hops[node] = min(self.out[node], key=lambda a: a.seconds + to.get(a.end, math.inf)).end
        return nxt

    def travel_time(self, a: str, b: str) -> float:
        """Seconds from ``a`` to ``b`` at the speed limits; ``inf`` when unreachable. Cached per source."""
        return self._from(a).get(b, math.inf)

    def route(self, a: str, b: str, *, avoid: Iterable[str] = (), not_first: str | None = None) -> list[str] | None:
        """Fastest node path from ``a`` to ``b`` (both included), or None.

        ``avoid`` are nodes not to pass through (the ends are never avoided); ``not_first`` forbids one
        first hop, which is how a vehicle waiting for a node finds a way round it (possibly a whole lap
        back through ``a``).
        """
        banned = frozenset(avoid) - {a, b}
        if not_first is None:
            return self._route(a, b, banned)
        best: tuple[float, list[str]] | None = None
        for arc in self.out[a]:
            if arc.end == not_first or arc.end in banned:
                continue
            rest = self._route(arc.end, b, banned)
            if rest is None:
                continue
            cost = arc.seconds + sum(self.arcs[p].seconds for p in pairwise(rest))
            if best is None or cost < best[0]:
                best = (cost, [a, *rest])
        return None if best is None else best[1]

    def _route(self, a: str, b: str, banned: frozenset[str]) -> list[str] | None:
        if a == b:
            return [a]
        dist = {a: 0.0}
        prev: dict[str, str] = {}
        heap = [(0.0, a)]
        while heap:
            d, n = heapq.heappop(heap)
            if n == b:
                break
            if d > dist.get(n, math.inf):
                continue
            for arc in self.out[n]:
                nd = d + arc.seconds
                if arc.end not in banned and nd < dist.get(arc.end, math.inf):
                    dist[arc.end] = nd
                    prev[arc.end] = n
                    heapq.heappush(heap, (nd, arc.end))
        if b not in prev:
            return None
        path = [b]
        while path[-1] != a:
            path.append(prev[path[-1]])
        return path[::-1]

    def arc(self, a: str, b: str) -> Arc:
        return self.arcs[(a, b)]
