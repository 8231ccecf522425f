"""What every planner returns, and the walk a heuristic builds leg by leg."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from edge.floor.layout import PickGrid, Position


@dataclass(frozen=True, slots=True)
class Route:
    """A pick trip from the depot back to it: the positions in visiting order and the metres walked."""

    planner: str
    stops: tuple[Position, ...]
    length_m: float


def unique_positions(points: Iterable[Position]) -> list[Position]:
    """Each position once, in a stable order (two lines at one slot, or facing slots, are one stop)."""
    return sorted(set(points))


@dataclass(slots=True)
class Walk:
    """A route drawn leg by leg along aisles and cross-aisles, so its length is the length walked.

    Heuristic routes are defined by the path they walk (an S-shape walks each aisle to its end even
    past the last pick), so their length is that path's, not the shortest path between their stops.
    Every leg stays on one aisle or one cross-aisle (a leg that would cut across the racks is a bug
    and raises ``ValueError``); ``legs`` keeps them.
    """

    grid: PickGrid
    x: float
    y: float
    length: float = 0.0
    stops: list[Position] = field(default_factory=list)
    legs: list[tuple[float, float, float, float]] = field(default_factory=list)

    @classmethod
    def from_depot(cls, grid: PickGrid) -> Walk:
        return cls(grid, grid.depot_x, grid.depot_y)

    def across(self, x: float) -> None:
        """Along the cross-aisle the picker stands on, to ``x``."""
        if self.y not in self.grid.ys:
            raise ValueError(f"at y={self.y}: horizontal moves only on a cross-aisle")
        self._leg(x, self.y)

    def along(self, aisle: int, y: float, picks: Sequence[float] = ()) -> None:
        """Along aisle ``aisle`` (the picker stands on it) to ``y``, picking ``picks`` on the way."""
        if self.x != self.grid.xs[aisle]:
            raise ValueError(f"at x={self.x}: vertical moves only in an aisle")
        for p in sorted(picks, reverse=y < self.y):
            self._leg(self.x, p)
            self.stops.append(Position(aisle, p))
        self._leg(self.x, y)

    def to_aisle(self, aisle: int) -> None:
        self.across(self.grid.xs[aisle])

    def finish(self, planner: str) -> Route:
        """Back to the depot along the cross-aisle the walk ends on (the depot's)."""
        if self.y != self.grid.depot_y:
            raise ValueError("a route ends on the depot's cross-aisle")
        self.across(self.grid.depot_x)
        return Route(planner, tuple(self.stops), self.length)

    def _leg(self, x: float, y: float) -> None:
        if x != self.x or y != self.y:
            if x != self.x and y != self.y:
                raise ValueError("legs are straight")
            self.legs.append((self.x, self.y, x, y))
            self.length += abs(x - self.x) + abs(y - self.y)
            self.x, self.y = x, y
