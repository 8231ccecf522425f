"""Pick paths: the order in which a picker visits an order's locations, and how far that walks.

``plan_pick_path(grid, locations, planner)`` is what the wave and pick-list code calls; ``PLANNERS``
names every planner so a site or a benchmark can compare them on the same orders:

- ``auto`` (the default): ``optimal`` up to 5 cross-aisles, ``ortools`` beyond
- ``optimal``: exact (Ratliff & Rosenthal's dynamic program, any number of cross-aisles; ``optimal.py``)
- ``ortools``: OR-Tools routing on the walking distances, with a time limit (``solver.py``)
- ``s_shape``, ``largest_gap``, ``combined``: the classic heuristics, as baselines (``heuristics.py``)
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from edge.floor.layout import PickGrid, Position
from edge.floor.pickpath.heuristics import combined, largest_gap, s_shape
from edge.floor.pickpath.optimal import MAX_CROSS_AISLES, optimal_route
from edge.floor.pickpath.route import Route
from edge.floor.pickpath.solver import ortools_route

Planner = Callable[[PickGrid, list[Position]], Route]

PLANNERS: dict[str, Planner] = {
    "optimal": optimal_route,
    "ortools": ortools_route,
    "s_shape": s_shape,
    "largest_gap": largest_gap,
    "combined": combined,
}


@dataclass(frozen=True, slots=True)
class PickPath:
    """An order's locations in walking order (locations at one stop keep their given order)."""

    planner: str
    locations: tuple[str, ...]
    length_m: float


def plan_pick_path(grid: PickGrid, locations: Sequence[str], planner: str = "auto") -> PickPath:
    """Sequence ``locations`` (codes the layout knows; a ``KeyError`` names one it does not)."""
    if planner == "auto":
        planner = "optimal" if len(grid.ys) <= MAX_CROSS_AISLES else "ortools"
    try:
        plan = PLANNERS[planner]
    except KeyError:
        raise ValueError(f"unknown planner {planner!r} (one of {', '.join(PLANNERS)})") from None
    at = {loc: grid.position(loc) for loc in locations}
    route = plan(grid, list(at.values()))
    rank = {p: i for i, p in enumerate(route.stops)}
    ordered = sorted(dict.fromkeys(locations), key=lambda loc: rank[at[loc]])
    return PickPath(route.planner, tuple(ordered), route.length_m)


__all__ = [
    "PLANNERS",
    "PickPath",
    "Planner",
    "Route",
    "combined",
    "largest_gap",
    "optimal_route",
    "ortools_route",
    "plan_pick_path",
    "s_shape",
]
