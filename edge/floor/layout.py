"""The site's picking layout as data: parallel aisles, cross-aisles, slots and a depot.

A picker walks along aisles (vertical lines at ``x``) and cross-aisles (horizontal lines at ``y``); every
cross-aisle crosses every aisle, so the floor is a rectangular multi-block warehouse in the sense of the
routing literature (Ratliff & Rosenthal 1983; Roodbergen & de Koster 2001): a *block* is the stretch of
the aisles between two neighbouring cross-aisles. Slots sit on both sides of an aisle at a distance
``y`` from the front; a narrow aisle is assumed, so a picker standing at ``y`` reaches both sides and
the side does not change walking distance. The depot (where a pick trip starts and ends) stands on a
cross-aisle.

Two ways to describe a layout, both checked strictly (unknown keys refused, errors name the key):

Compact, expanded to slots and location codes (``[layout.grid]``): aisles, their spacing, the slots a side
in each block front to back, the slot pitch and the cross-aisle width. ``ONE_BLOCK_TOML`` (the classic
warehouse of Ratliff & Rosenthal: front and back cross-aisles) and ``THREE_CROSS_AISLES_TOML`` (front,
middle and back: two blocks) below are realistic examples; the benchmark and the tests use them.

Node by node, for a floor that is not regular: each aisle's ``x``, each cross-aisle's ``y``, and each
slot's location code, aisle and ``y``::

    [layout]
    name = "hall-2"
    aisles = [{ name = "A", x = 0.0 }, { name = "B", x = 3.5 }]
    cross_aisles = [{ name = "front", y = 0.0 }, { name = "back", y = 24.0 }]
    depot = { x = 0.0, cross_aisle = "front" }
    slots = [{ location = "A-01", aisle = "A", y = 1.5, side = "left" }, ...]

``parse_layout`` validates either form into a ``PickLayout``; ``PickGrid`` is its geometry (positions of
location codes and shortest walking distances).
"""

from __future__ import annotations

import bisect
from collections.abc import Sequence
from typing import TYPE_CHECKING, Annotated, Any, Literal, NamedTuple

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from sync.codes import Code

if TYPE_CHECKING:
    import numpy as np

Name = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.:\-]*$")]
Metres = Annotated[float, Field(ge=-100_000, le=100_000, allow_inf_nan=False)]


ONE_BLOCK_TOML = """
[layout]
name = "one-block"          # 12 aisles 3 m apart, 30 slots a side 1 m long; depot in front of aisle 1
[layout.grid]
aisles = 12
aisle_spacing_m = 3.0
blocks = [30]               # slots per side, per block, front to back
slot_pitch_m = 1.0
cross_aisle_width_m = 2.0
location_format = "P{aisle:02d}-{slot:02d}{side}"   # P01-01L .. P12-30R
"""

THREE_CROSS_AISLES_TOML = """
[layout]
name = "three-cross-aisles" # 10 aisles, a middle cross-aisle; depot at the middle of the front
[layout.grid]
aisles = 10
aisle_spacing_m = 3.2
blocks = [15, 15]
slot_pitch_m = 1.2
cross_aisle_width_m = 2.5
depot_x_m = 14.4
depot_location = "DOCK-OUT"
location_format = "{aisle:02d}-{block}-{slot:02d}{side}"   # 01-1-01L .. 10-2-15R
"""


MAX_SLOTS = 200_000
"""A layout larger than this is a typo, not a warehouse (and would take the gateway's memory)."""


class LayoutError(ValueError):
    """A layout that cannot be used; each problem names its key (``layout.slots[3].aisle: ...``)."""

    def __init__(self, source: str, problems: list[str]) -> None:
        self.source = source
        self.problems = problems
        super().__init__(f"{source}: " + "; ".join(problems))


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Aisle(_Strict):
    name: Name
    x: Metres


class CrossAisle(_Strict):
    name: Name
    y: Metres


class Slot(_Strict):
    location: Code
    aisle: Name
    y: Metres = Field(description="Metres from the front along the aisle; must lie inside a block.")
    side: Literal["left", "right"] = "left"


class Depot(_Strict):
    x: Metres
    cross_aisle: Name = "front"
    location: Code | None = Field(default=None, description="The location code of the depot (a dock or staging).")


class GridSpec(_Strict):
    """The compact form: ``aisles`` aisles ``aisle_spacing_m`` apart, blocks of slots, cross-aisles between."""

    aisles: int = Field(ge=1, le=1000)
    aisle_spacing_m: float = Field(gt=0, le=100)
    first_aisle_x_m: Metres = 0.0
    blocks: list[Annotated[int, Field(ge=1, le=1000)]] = Field(min_length=1, max_length=20)
    slot_pitch_m: float = Field(default=1.0, gt=0, le=100)
    cross_aisle_width_m: float = Field(default=2.0, ge=0, le=100)
    depot_x_m: Metres | None = Field(default=None, description="Default: in front of the first aisle.")
    depot_location: Code | None = None
    location_format: str = Field(
        default="{aisle:02d}-{block}-{slot:02d}{side}",
        description="Python format with aisle, block, slot (1-based, from the front) and side (L or R).",
    )

    @model_validator(mode="after")
    def _format_works(self) -> GridSpec:
        slots = self.aisles * sum(self.blocks) * 2
        if slots > MAX_SLOTS:
            raise ValueError(f"the grid expands to {slots:,} slots, more than {MAX_SLOTS:,}")
        try:
            a = self.location_format.format(aisle=1, block=1, slot=1, side="L")
            b = self.location_format.format(aisle=1, block=1, slot=1, side="R")
        except (KeyError, IndexError, ValueError) as exc:
            raise ValueError(f"location_format: {exc!r} (use aisle, block, slot and side)") from None
        if a == b:
            raise ValueError("location_format must tell the sides apart (use {side})")
        return self


def _cross_aisle_names(k: int) -> list[str]:
    if k == 2:
        return ["front", "back"]
    if k == 3:
        return ["front", "middle", "back"]
    return ["front", *(f"middle-{i}" for i in range(1, k - 1)), "back"]


class PickLayout(_Strict):
    """A validated layout, always in node-by-node form (the grid form is expanded on parsing)."""

    name: Name = "floor"
    aisles: list[Aisle] = Field(min_length=1)
    cross_aisles: list[CrossAisle] = Field(min_length=2, max_length=21)
    depot: Depot
    slots: list[Slot] = Field(default_factory=list)

    @model_validator(mode="after")
    def _consistent(self) -> PickLayout:
        problems: list[str] = []
        _unique(problems, "aisles", [a.name for a in self.aisles], "name")
        _unique(problems, "aisles", [a.x for a in self.aisles], "x")
        _unique(problems, "cross_aisles", [c.name for c in self.cross_aisles], "name")
        _unique(problems, "cross_aisles", [c.y for c in self.cross_aisles], "y")
        _unique(problems, "slots", [s.location for s in self.slots], "location")
        aisles = {a.name for a in self.aisles}
        ys = sorted(c.y for c in self.cross_aisles)
        for i, s in enumerate(self.slots):
            if s.aisle not in aisles:
                problems.append(f"slots[{i}].aisle: unknown aisle {s.aisle!r}")
            if not ys[0] < s.y < ys[-1] or s.y in ys:
                problems.append(f"slots[{i}].y: {s.y} is not inside a block (cross-aisles at {ys})")
        if self.depot.cross_aisle not in {c.name for c in self.cross_aisles}:
            problems.append(f"depot.cross_aisle: unknown cross-aisle {self.depot.cross_aisle!r}")
        if problems:
            raise ValueError("; ".join(problems))
        return self


def _unique(problems: list[str], key: str, values: Sequence[object], field: str) -> None:
    seen: set[object] = set()
    for i, v in enumerate(values):
        if v in seen:
            problems.append(f"{key}[{i}].{field}: duplicate {v!r}")
        seen.add(v)


def expand_grid(grid: GridSpec) -> dict[str, Any]:
    """The node-by-node form of a compact grid: aisle and cross-aisle lines, and every slot."""
    aisles = [
        {"name": f"A{a:02d}", "x": grid.first_aisle_x_m + (a - 1) * grid.aisle_spacing_m}
        for a in range(1, 1 + grid.aisles)
    ]
    names = _cross_aisle_names(len(grid.blocks) + 1)
    half = grid.cross_aisle_width_m / 2
    y, cross, slots = 0.0, [{"name": names[0], "y": 0.0}], []
    for b, count in enumerate(grid.blocks, 1):
        start = y + half
        for a in range(1, 1 + grid.aisles):
            for n in range(1, count + 1):
                for side, word in (("L", "left"), ("R", "right")):
                    code = grid.location_format.format(aisle=a, block=b, slot=n, side=side)
                    slots.append(
                        {
                            "location": code,
                            "aisle": f"A{a:02d}",
                            "y": start + (n - 0.5) * grid.slot_pitch_m,
                            "side": word,
                        }
                    )
        y = start + count * grid.slot_pitch_m + half
        cross.append({"name": names[b], "y": y})
    depot_x = grid.first_aisle_x_m if grid.depot_x_m is None else grid.depot_x_m
    return {
        "aisles": aisles,
        "cross_aisles": cross,
        "slots": slots,
        "depot": {"x": depot_x, "location": grid.depot_location},
    }


class GridLayout(_Strict):
    """The compact form as written in the site TOML: a name and a ``grid`` table."""

    name: Name = "floor"
    grid: GridSpec


def _where(loc: tuple[int | str, ...], prefix: str) -> str:
    out = prefix
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else f".{part}"
    return out


def _problems(exc: ValidationError, key: str) -> list[str]:
    problems = []
    for err in exc.errors():
        msg = err["msg"].removeprefix("Value error, ")
        if err["loc"]:
            problems.append(f"{_where(tuple(err['loc']), key)}: {msg}")
        else:  # a whole-model check: its message lists "sub.key: problem" parts
            problems += [f"{key}.{part}" for part in msg.split("; ")]
    return problems


def parse_layout(data: dict[str, Any], source: str = "<layout>", *, key: str = "layout") -> PickLayout:
    """Validate a ``[layout]`` table (either form); a bad one raises ``LayoutError`` naming each key."""
    try:
        if isinstance(data, dict) and "grid" in data:
            both = sorted({"aisles", "cross_aisles", "slots", "depot"} & data.keys())
            if both:
                raise LayoutError(source, [f"{key}.grid: give either grid or {', '.join(both)}, not both"])
            compact = GridLayout.model_validate(data)
            return PickLayout.model_validate({"name": compact.name, **expand_grid(compact.grid)})
        return PickLayout.model_validate(data)
    except ValidationError as exc:
        raise LayoutError(source, _problems(exc, key)) from None


class Position(NamedTuple):
    """Where a picker stands to pick: an aisle (index into ``PickGrid.xs``) and metres from the front."""

    aisle: int
    y: float


class PickGrid:
    """The geometry of a ``PickLayout``: sorted aisle and cross-aisle lines, slot positions, distances.

    Walking distances are exact shortest paths on the aisle/cross-aisle graph, in closed form: between
    two aisles a picker leaves along the aisle to some cross-aisle, walks across, and goes along the
    other aisle, so the distance is ``|dx|`` plus the best detour over the cross-aisles (which is just
    ``|dy|`` when a cross-aisle lies between them). ``tests/floor/test_layout.py`` checks this against
    Dijkstra on the node-by-node graph.
    """

    def __init__(self, layout: PickLayout) -> None:
        self.layout = layout
        aisles = sorted(layout.aisles, key=lambda a: a.x)
        cross = sorted(layout.cross_aisles, key=lambda c: c.y)
        self.aisle_names = tuple(a.name for a in aisles)
        self.xs = tuple(a.x for a in aisles)
        self.cross_names = tuple(c.name for c in cross)
        self.ys = tuple(c.y for c in cross)
        index = {name: i for i, name in enumerate(self.aisle_names)}
        self.positions: dict[str, Position] = {s.location: Position(index[s.aisle], s.y) for s in layout.slots}
        self.depot_x = layout.depot.x
        self.depot_cross = self.cross_names.index(layout.depot.cross_aisle)
        self.depot_y = self.ys[self.depot_cross]

    @property
    def blocks(self) -> int:
        return len(self.ys) - 1

    def block_of(self, y: float) -> int:
        """The block (0 = front) holding a slot at ``y``."""
        return min(max(bisect.bisect_right(self.ys, y) - 1, 0), self.blocks - 1)

    def position(self, location: str) -> Position:
        try:
            return self.positions[location]
        except KeyError:
            raise KeyError(f"location {location!r} is not in layout {self.layout.name!r}") from None

    def distance(self, p: Position, q: Position) -> float:
        """Shortest walk between two pick positions, metres."""
        if p.aisle == q.aisle:
            return abs(p.y - q.y)
        return abs(self.xs[p.aisle] - self.xs[q.aisle]) + self._detour(p.y, q.y)

    def _detour(self, y1: float, y2: float) -> float:
        lo, hi = (y1, y2) if y1 <= y2 else (y2, y1)
        i = bisect.bisect_left(self.ys, lo)
        if i < len(self.ys) and self.ys[i] <= hi:
            return hi - lo  # a cross-aisle lies between them
        below, above = self.ys[i - 1], self.ys[i]  # both inside one block
        return min(lo + hi - 2 * below, 2 * above - lo - hi)

    def depot_distance(self, p: Position) -> float:
        return abs(self.xs[p.aisle] - self.depot_x) + abs(p.y - self.depot_y)

    def distance_matrix(self, points: Sequence[Position]) -> np.ndarray:
        """Distances between the depot (row and column 0) and ``points`` (1..n), metres.

        numpy is imported here, not at the top: a site config with a layout is validated at every gateway
        start, and the gateway must not pay numpy's memory until it plans a route.
        """
        import numpy as np

        n = len(points)
        x = np.array([self.depot_x] + [self.xs[p.aisle] for p in points])
        y = np.array([self.depot_y] + [p.y for p in points])
        aisle = np.array([-1] + [p.aisle for p in points])
        lo, hi = np.minimum.outer(y, y), np.maximum.outer(y, y)
        to_cross = np.abs(y[:, None] - np.array(self.ys)[None, :])  # each point to each cross-aisle
        detour = (to_cross[:, None, :] + to_cross[None, :, :]).min(axis=2)
        across = np.abs(np.subtract.outer(x, x)) + detour
        same = np.equal.outer(aisle, aisle) & (aisle[:, None] >= 0)
        walk: np.ndarray = np.where(same, hi - lo, across)
        # the depot stands on a cross-aisle: straight along it, then straight along the aisle
        walk[0, 1:] = walk[1:, 0] = np.abs(x[1:] - self.depot_x) + np.abs(y[1:] - self.depot_y)
        walk[0, 0] = 0.0
        assert walk.shape == (n + 1, n + 1)
        return walk
