"""A warehouse floor described compactly: a grid of rack aisles and cross-aisles, with stations on the walls.

Real AGV floors are grids: parallel rack aisles (the AGV stops in the aisle at a rack face), crossed by a
few cross-aisles, with docks, goods-to-person stations, chargers and park spots along the walls, off the
traffic. ``[fleet.layout.grid]`` describes one in a dozen keys and ``build`` expands it into the same nodes,
edges and stations a site could list node by node (and may still add to).

Geometry. Aisle ``a`` (1..aisles, west to east) runs north at ``x = (a - 1) * aisle_pitch``; its stopping
points ("bays", 1..bays from the south) are ``spacing`` apart, split into blocks by the cross-aisles, the
first on the south wall and the last on the north wall. Cross-aisles get a node every ``spacing`` between
aisles. The outer aisles and the outer cross-aisles form the wall ring; every station sits in a
drive-through bay just outside it (in from one ring node, out to the next), so a vehicle picking,
charging or parked never stands on a lane: docks on the south wall, goods-to-person stations on the
north wall, chargers on the west and east walls, park spots spread over what is left.

``two_way_aisles = true`` keeps the cross-aisles and the ring one-way but lets vehicles drive a rack
aisle both ways: shorter trips, and head-on meetings that only planning in time handles well.
``one_way = true`` makes the lanes highways, as the lifelong-MAPF literature and most sites do: the
ring runs counter-clockwise and the inner aisles and cross-aisles alternate direction, so every line
runs from the ring to the ring and the floor stays strongly connected with no head-on meeting on a lane.
"""

from __future__ import annotations

import itertools
from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict, Field, model_validator

from sync.codes import Code

T = TypeVar("T")


class GridSlot(BaseModel):
    """A rack location at one aisle position (``bay`` counted from the south end of the aisle)."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    location: Code
    aisle: int = Field(ge=1)
    bay: int = Field(ge=1)


class GridSpec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    aisles: int = Field(ge=2, le=200, description="Rack aisles, west to east.")
    bays: int = Field(ge=1, le=500, description="Stopping points along each aisle (rack faces).")
    aisle_pitch: float = Field(default=4.0, gt=0, le=50, description="Metres between aisle centre lines.")
    spacing: float = Field(default=2.0, gt=0, le=20, description="Metres between nodes along a lane.")
    cross_aisles: int = Field(default=3, ge=2, le=50, description="East-west cross-aisles, walls included.")
    one_way: bool = Field(default=True, description="Lanes as one-way highways (else every lane two-way).")
    two_way_aisles: bool = Field(
        default=False, description="Inner rack aisles two-way, the cross-aisles and the wall ring still one-way."
    )
    lane_speed: float = Field(default=2.0, gt=0, le=10, description="m/s on cross-aisles and the wall ring.")
    aisle_speed: float = Field(default=1.5, gt=0, le=10, description="m/s in the rack aisles.")
    bay_speed: float = Field(default=1.0, gt=0, le=10, description="m/s into and out of wall bays.")
    bay_depth: float = Field(default=1.5, gt=0, le=20, description="Metres from the ring to a wall bay.")
    docks: list[Code] = Field(default_factory=list, description="Dock locations, on the south wall.")
    picks: list[Code] = Field(default_factory=list, description="Goods-to-person stations, on the north wall.")
    chargers: list[Code] = Field(default_factory=list, description="Charger locations, on the west and east walls.")
    parks: int = Field(default=0, ge=0, le=2000, description="Park spots (PARK-001...), on the walls left over.")
    slot_pattern: str | None = Field(
        default=None, description="Every aisle position is a slot named e.g. 'R-{aisle:02d}-{bay:02d}'."
    )
    slots: list[GridSlot] = Field(default_factory=list, description="Rack locations at given aisle positions.")

    @model_validator(mode="after")
    def _fits(self) -> GridSpec:
        problems: list[str] = []
        if self.bays < self.cross_aisles - 1:
            problems.append(f"bays: {self.bays} bays cannot be split by {self.cross_aisles} cross-aisles")
        for i, slot in enumerate(self.slots):
            if slot.aisle > self.aisles:
                problems.append(f"slots[{i}].aisle: {slot.aisle} is past the {self.aisles} aisles")
            if slot.bay > self.bays:
                problems.append(f"slots[{i}].bay: {slot.bay} is past the {self.bays} bays")
        seen: set[str] = set()
        for key, codes in (("docks", self.docks), ("picks", self.picks), ("chargers", self.chargers)):
            for i, code in enumerate(codes):
                if code in seen:
                    problems.append(f"{key}[{i}]: duplicate location {code!r}")
                seen.add(code)
        if self.slot_pattern is not None:
            try:
                self.slot_pattern.format(aisle=1, bay=1)
            except (KeyError, IndexError, ValueError) as exc:
                problems.append(f"slot_pattern: {exc!r}; use {{aisle}} and {{bay}}")
        walls = _wall_places(self)
        if len(self.docks) > len(walls["south"]):
            problems.append(f"docks: {len(self.docks)} docks, the south wall has room for {len(walls['south'])}")
        if len(self.picks) > len(walls["north"]):
            problems.append(f"picks: {len(self.picks)} stations, the north wall has room for {len(walls['north'])}")
        side = len(walls["west"]) + len(walls["east"])
        if len(self.chargers) > side:
            problems.append(f"chargers: {len(self.chargers)} chargers, the side walls have room for {side}")
        total = sum(len(w) for w in walls.values())
        free = total - len(self.docks) - len(self.picks) - len(self.chargers)
        if self.parks > free:
            problems.append(f"parks: {self.parks} park spots, the walls have room for {max(0, free)} more")
        if problems:
            raise ValueError("; ".join(f"grid.{p}" for p in problems))
        return self


def _rows(spec: GridSpec) -> list[int | None]:
    """Along an aisle from the south: None for a cross-aisle, else the bay number."""
    blocks = spec.cross_aisles - 1
    rows: list[int | None] = [None]
    bay = 0
    for k in range(blocks):
        size = spec.bays // blocks + (1 if k < spec.bays % blocks else 0)
        for _ in range(size):
            bay += 1
            rows.append(bay)
        rows.append(None)
    return rows


def _steps_between(spec: GridSpec) -> int:
    """Lane segments between two aisles along a cross-aisle."""
    return max(1, round(spec.aisle_pitch / spec.spacing))


def _wall_places(spec: GridSpec) -> dict[str, list[int]]:
    """How many drive-through bays fit on each wall: one per ring segment."""
    rows = len(_rows(spec))
    along = (spec.aisles - 1) * _steps_between(spec)
    return {"south": list(range(along)), "north": list(range(along)), "west": list(range(rows - 1)),
            "east": list(range(rows - 1))}  # fmt: skip


def _spread(count: int, places: list[T]) -> list[T]:
    """``count`` of ``places``, evenly spread."""
    if count <= 0:
        return []
    step = len(places) / count
    return [places[int(i * step + step / 2)] for i in range(count)]


def build(spec: GridSpec) -> dict[str, Any]:
    """The grid as layout lists: {"nodes": [...], "edges": [...], "stations": [...]}."""
    rows = _rows(spec)
    between = _steps_between(spec)
    cross_index = [r for r, bay in enumerate(rows) if bay is None]
    nodes: list[dict[str, Any]] = []
    edges: list[dict[str, Any]] = []
    stations: list[dict[str, Any]] = []

    def aisle_node(a: int, r: int) -> str:
        bay = rows[r]
        return f"X{cross_index.index(r) + 1}.A{a:02d}" if bay is None else f"A{a:02d}.B{bay:03d}"

    def lane(ids: list[str], speed: float, forward: bool, two_way: bool = False) -> None:
        seq = ids if forward else ids[::-1]
        for a, b in itertools.pairwise(seq):
            edges.append({"start": a, "end": b, "max_speed": speed, "both_ways": two_way or not spec.one_way})

    columns: list[list[str]] = []
    for a in range(1, spec.aisles + 1):
        x = (a - 1) * spec.aisle_pitch
        ids = [aisle_node(a, r) for r in range(len(rows))]
        nodes += [{"id": n, "x": x, "y": r * spec.spacing} for r, n in enumerate(ids)]
        columns.append(ids)
        outer = a in (1, spec.aisles)
        # the ring runs counter-clockwise: the west aisle south, the east aisle north; inner ones alternate
        north = a == spec.aisles or (a != 1 and a % 2 == 0)
        lane(ids, spec.lane_speed if outer else spec.aisle_speed, north, spec.two_way_aisles and not outer)
    cross_rows: dict[int, list[str]] = {}
    for k, r in enumerate(cross_index):
        ids = []
        for a in range(1, spec.aisles + 1):
            ids.append(aisle_node(a, r))
            if a < spec.aisles:
                x0 = (a - 1) * spec.aisle_pitch
                for s in range(1, between):
                    n = f"X{k + 1}.A{a:02d}.{s}"
                    nodes.append({"id": n, "x": round(x0 + s * spec.aisle_pitch / between, 3), "y": r * spec.spacing})
                    ids.append(n)
        cross_rows[k] = ids
        east = k == 0 or (k != len(cross_index) - 1 and k % 2 == 0)
        lane(ids, spec.lane_speed, east)
    # the wall ring, each wall in its driving direction (counter-clockwise), for the drive-through bays
    walls = {
        "south": (cross_rows[0], (0.0, -1.0)),
        "east": (columns[-1], (1.0, 0.0)),
        "north": (cross_rows[len(cross_index) - 1][::-1], (0.0, 1.0)),
        "west": (columns[0][::-1], (-1.0, 0.0)),
    }
    free = {w: list(range(len(ids) - 1)) for w, (ids, _) in walls.items()}
    wanted: list[tuple[str, int, str, str]] = []  # (wall, ring segment, location, kind)

    def place(wall: str, codes: list[str], kind: str) -> None:
        for code, i in zip(codes, _spread(len(codes), free[wall]), strict=True):
            free[wall].remove(i)
            wanted.append((wall, i, code, kind))

    place("south", list(spec.docks), "dock")
    place("north", list(spec.picks), "pick")
    half = (len(spec.chargers) + 1) // 2
    place("west", list(spec.chargers[:half]), "charger")
    place("east", list(spec.chargers[half:]), "charger")
    remaining = [(w, i) for w in walls for i in free[w]]
    parks = [f"PARK-{n + 1:03d}" for n in range(spec.parks)]
    for park, (side, seg) in zip(parks, _spread(len(parks), remaining), strict=True):
        wanted.append((side, seg, park, "park"))
    coords = {n["id"]: (n["x"], n["y"]) for n in nodes}
    for wall, index, code, kind in wanted:
        ids, (ox, oy) = walls[wall]
        into, out_of = ids[index], ids[index + 1]
        (xa, ya), (xb, yb) = coords[into], coords[out_of]
        bay_id = f"W.{code}"
        x, y = (xa + xb) / 2 + ox * spec.bay_depth, (ya + yb) / 2 + oy * spec.bay_depth
        nodes.append({"id": bay_id, "x": round(x, 3), "y": round(y, 3)})
        edges.append({"start": into, "end": bay_id, "max_speed": spec.bay_speed})
        edges.append({"start": bay_id, "end": out_of, "max_speed": spec.bay_speed})
        stations.append({"location": code, "node": bay_id, "kind": kind})
    for slot in spec.slots:
        r = rows.index(slot.bay)
        stations.append({"location": slot.location, "node": aisle_node(slot.aisle, r), "kind": "slot"})
    if spec.slot_pattern is not None:
        named = {(s.aisle, s.bay) for s in spec.slots}  # a named slot takes its position from the pattern
        for a in range(1, spec.aisles + 1):
            for r, bay in enumerate(rows):
                if bay is not None and (a, bay) not in named:
                    code = spec.slot_pattern.format(aisle=a, bay=bay)
                    stations.append({"location": code, "node": aisle_node(a, r), "kind": "slot"})
    return {"nodes": nodes, "edges": edges, "stations": stations}


def strongly_connected(node_ids: list[str], arcs: list[tuple[str, str]]) -> list[str]:
    """Nodes that cannot reach, or be reached from, the first node (empty when strongly connected)."""
    if not node_ids:
        return []
    out: dict[str, list[str]] = {n: [] for n in node_ids}
    back: dict[str, list[str]] = {n: [] for n in node_ids}
    for a, b in arcs:
        out[a].append(b)
        back[b].append(a)

    def reach(adj: dict[str, list[str]]) -> set[str]:
        seen, stack = {node_ids[0]}, [node_ids[0]]
        while stack:
            for m in adj[stack.pop()]:
                if m not in seen:
                    seen.add(m)
                    stack.append(m)
        return seen

    both = reach(out) & reach(back)
    return [n for n in node_ids if n not in both]


def ring_length(spec: GridSpec) -> float:
    """Metres round the wall ring (a yardstick for trip lengths)."""
    return 2 * ((spec.aisles - 1) * spec.aisle_pitch + (len(_rows(spec)) - 1) * spec.spacing)
