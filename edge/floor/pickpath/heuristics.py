"""The routing heuristics pickers know, as baselines: S-shape, largest gap and combined.

Definitions follow Roodbergen & de Koster (2001, "Routing methods for warehouses with multiple cross
aisles", IJPR 39(9)) in spirit, written to one frame that serves one block and many:

- With several blocks the picker first walks the left-most aisle holding picks up to the back of the
  farthest block holding picks (picking on the way), then works the blocks from back to front, each
  entered at its back cross-aisle and left at its front one, and finally walks back to the depot.
- With one block, S-shape and largest gap start the same way (the first aisle is walked through),
  and combined starts at the front.

Inside a block the aisles holding picks are worked from the end nearer the picker:

- *S-shape*: every aisle is walked end to end; where the count would leave the picker on the wrong
  cross-aisle, the last aisle is entered and left from the same end.
- *Largest gap*: along the first cross-aisle each aisle is entered up to its largest gap (between
  neighbouring picks, or a pick and an end) and left the same way; the last aisle is walked through;
  then along the other cross-aisle each aisle's remaining picks.
- *Combined*: per aisle, either walk through or go in and out from the current end, whichever a small
  dynamic program over the two ends (front or back) finds cheaper for the whole block.

They need the depot on the front or the back cross-aisle (the usual place); the exact planner takes it
anywhere. A route's length is the path the heuristic walks, not the shortest path between its stops.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from edge.floor.layout import PickGrid, Position
from edge.floor.pickpath.route import Route, Walk, unique_positions

Picks = dict[int, list[float]]  # aisle -> sorted ys of the picks left in one block


class _Mirror:
    """Heuristics are written for a depot on the front; a depot on the back mirrors ``y``."""

    def __init__(self, grid: PickGrid) -> None:
        if grid.depot_cross not in (0, len(grid.ys) - 1):
            raise ValueError("the heuristics need the depot on the front or the back cross-aisle")
        self.flip = grid.depot_cross != 0
        self.top = grid.ys[-1] + grid.ys[0]

    def __call__(self, y: float) -> float:
        return self.top - y if self.flip else y


def _plan(name: str, grid: PickGrid, points: list[Position], block_fn: Callable[..., None], *, preamble: bool) -> Route:
    stops = unique_positions(points)
    walk = Walk.from_depot(grid)
    if not stops:
        return Route(name, (), 0.0)
    m = _Mirror(grid)
    ys = [m(y) for y in grid.ys][:: -1 if m.flip else 1]  # front to back in the mirrored frame
    blocks: list[Picks] = [{} for _ in range(len(ys) - 1)]
    for p in stops:
        y = m(p.y)
        blocks[min(max(i for i in range(len(ys) - 1) if ys[i] < y), len(ys) - 2)].setdefault(p.aisle, []).append(y)
    for b in blocks:
        for ps in b.values():
            ps.sort()
    far = max(i for i, b in enumerate(blocks) if b)
    aisles = {a for b in blocks for a in b}
    first = min(aisles)  # the left-most aisle holding picks (aisles are indexed left to right)
    mw = _MirroredWalk(walk, m)
    if len(aisles) == 1 and far == 0:  # one aisle of one block: in and out
        mw.to_aisle(first)
        mw.along(first, blocks[0][first][-1], blocks[0][first])
        mw.along(first, ys[0])
        return walk.finish(name)
    side = 0  # the cross-aisle the picker stands on
    if preamble or far > 0:
        mw.to_aisle(first)
        mw.along(first, ys[far + 1], [y for b in blocks[: far + 1] for y in b.pop(first, [])])
        side = far + 1
    for i in range(far, -1, -1):
        if side == i + 1:
            block_fn(mw, ys, i, blocks[i], top=True)
        else:
            block_fn(mw, ys, i, blocks[i], top=False)
        side = i
    mw.across_to_x(grid.depot_x)
    return walk.finish(name)


class _MirroredWalk:
    """A ``Walk`` seen in the mirrored frame (the depot's cross-aisle is the front)."""

    def __init__(self, walk: Walk, mirror: _Mirror) -> None:
        self.walk, self.m, self.grid = walk, mirror, walk.grid

    @property
    def x(self) -> float:
        return self.walk.x

    def to_aisle(self, aisle: int) -> None:
        self.walk.to_aisle(aisle)

    def across_to_x(self, x: float) -> None:
        self.walk.across(x)

    def along(self, aisle: int, y: float, picks: Sequence[float] = ()) -> None:
        self.walk.along(aisle, self.m(y), [self.m(p) for p in picks])


def _order(mw: _MirroredWalk, picks: Picks) -> list[int]:
    """Aisles holding picks, from the end nearer the picker."""
    aisles = sorted(picks, key=lambda a: mw.grid.xs[a])
    if aisles and abs(mw.grid.xs[aisles[-1]] - mw.x) < abs(mw.grid.xs[aisles[0]] - mw.x):
        aisles.reverse()
    return aisles


def _nearest_aisle(mw: _MirroredWalk) -> int:
    return min(range(len(mw.grid.xs)), key=lambda a: abs(mw.grid.xs[a] - mw.x))


def _s_block(mw: _MirroredWalk, ys: list[float], i: int, picks: Picks, *, top: bool) -> None:
    """Enter block ``i`` on its back (``top``) or front cross-aisle; leave it on the front."""
    lo, hi = ys[i], ys[i + 1]
    aisles = _order(mw, picks)
    if not aisles:
        if top:  # cross the block to reach its front
            a = _nearest_aisle(mw)
            mw.to_aisle(a)
            mw.along(a, lo)
        return
    at_top = top
    # walk through all but maybe the last, so that the picker ends on the front
    through = len(aisles) if len(aisles) % 2 == (1 if top else 0) else len(aisles) - 1
    for n, a in enumerate(aisles):
        mw.to_aisle(a)
        if n < through:
            mw.along(a, lo if at_top else hi, picks[a])
            at_top = not at_top
        else:  # in and out from the front
            mw.along(a, picks[a][-1], picks[a])
            mw.along(a, lo)


def _split(ps: list[float], lo: float, hi: float) -> tuple[list[float], list[float]]:
    """The picks below and above the largest gap of an aisle (ends included)."""
    line = [lo, *ps, hi]
    t = max(range(len(line) - 1), key=lambda j: line[j + 1] - line[j])
    return line[1 : t + 1], line[t + 1 : -1]


def _gap_block(mw: _MirroredWalk, ys: list[float], i: int, picks: Picks, *, top: bool) -> None:
    lo, hi = ys[i], ys[i + 1]
    aisles = _order(mw, picks)
    if not aisles:
        _s_block(mw, ys, i, picks, top=top)
        return
    near, far_side = (hi, lo) if top else (lo, hi)
    if not top and len(aisles) > 1:  # from the front, the first aisle is walked through
        mw.to_aisle(aisles[0])
        mw.along(aisles[0], hi, picks.pop(aisles[0]))
        aisles, near, far_side, top = aisles[1:], hi, lo, True
    for a in aisles[:-1]:  # along the near cross-aisle: each aisle up to its largest gap
        below, above = _split(picks[a], lo, hi)
        mine = above if top else below
        if mine:
            mw.to_aisle(a)
            mw.along(a, mine[0] if top else mine[-1], mine)
            mw.along(a, near)
        picks[a] = below if top else above
    last = aisles[-1]
    mw.to_aisle(last)
    mw.along(last, far_side, picks[last])
    for a in reversed(aisles[:-1]):  # back along the other cross-aisle: what is left
        if picks[a]:
            mw.to_aisle(a)
            mw.along(a, picks[a][-1] if top else picks[a][0], picks[a])
            mw.along(a, far_side)
    if far_side != lo:  # entered from the front and ended at the back: come down the nearest aisle
        a = _nearest_aisle(mw)
        mw.to_aisle(a)
        mw.along(a, lo)


def _combined_block(mw: _MirroredWalk, ys: list[float], i: int, picks: Picks, *, top: bool) -> None:
    lo, hi = ys[i], ys[i + 1]
    aisles = _order(mw, picks)
    if not aisles:
        _s_block(mw, ys, i, picks, top=top)
        return
    xs = mw.grid.xs
    length = hi - lo
    # best[side] = (cost so far, plan) with side 0 = front, 1 = back; a plan is (aisle, "through"|"return")
    start = 1 if top else 0
    best: dict[int, tuple[float, list[tuple[int, str]]]] = {start: (0.0, [])}
    x = mw.x
    for a in aisles:
        step = abs(xs[a] - x)
        nxt: dict[int, tuple[float, list[tuple[int, str]]]] = {}
        for side, (cost, plan) in best.items():
            depth = 2 * (picks[a][-1] - lo) if side == 0 else 2 * (hi - picks[a][0])
            for to, extra, how in ((1 - side, length, "through"), (side, depth, "return")):
                v = cost + step + extra
                if v < nxt.get(to, (float("inf"), []))[0]:
                    nxt[to] = (v, [*plan, (a, how)])
        best, x = nxt, xs[a]
    end0 = best.get(0, (float("inf"), []))
    end1 = best.get(1, (float("inf"), []))
    plan = end0[1] if end0[0] <= end1[0] + length else [*end1[1], (aisles[-1], "down")]
    side = start
    for a, how in plan:
        mw.to_aisle(a)
        if how == "down":
            mw.along(a, lo)
        elif how == "through":
            mw.along(a, hi if side == 0 else lo, picks[a])
            side = 1 - side
        else:
            mw.along(a, picks[a][-1] if side == 0 else picks[a][0], picks[a])
            mw.along(a, lo if side == 0 else hi)


def s_shape(grid: PickGrid, points: list[Position]) -> Route:
    return _plan("s_shape", grid, points, _s_block, preamble=True)


def largest_gap(grid: PickGrid, points: list[Position]) -> Route:
    return _plan("largest_gap", grid, points, _gap_block, preamble=False)


def combined(grid: PickGrid, points: list[Position]) -> Route:
    return _plan("combined", grid, points, _combined_block, preamble=False)
