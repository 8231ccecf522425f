"""The shortest pick route on a rectangular warehouse: Ratliff & Rosenthal's dynamic program.

Ratliff & Rosenthal (1983, "Order-picking in a rectangular warehouse: a solvable case of the traveling
salesman problem", Operations Research 31(3)) build a minimal *tour subgraph* column by column, left to
right: a tour is a connected multigraph on the aisle/cross-aisle lines with every vertex of even degree
that touches every pick and the depot. Between one aisle and the next only a small summary of the
partial subgraph matters: for each junction of the current aisle with a cross-aisle, whether the
subgraph touches it, the parity of its degree, and which of the touched junctions are already
connected. That summary is the DP state; the cost is linear in the number of aisles.

With two cross-aisles (one block) the states are Ratliff & Rosenthal's seven equivalence classes.
Roodbergen & de Koster (2001, "Routing order pickers in a warehouse with a middle aisle", EJOR 133)
extend the same program to a third cross-aisle by hand; here the states and transitions are generated
for any number of cross-aisles (as in Pansart, Catusse & Cambazard 2018), so one code path serves the
one-block and the multi-block floors, exactly. The cost is linear in aisles but the state count grows
fast with cross-aisles. Measured (12 aisles, orders of 30 lines, mean per order): 2 cross-aisles
0.4 ms, 3: 1.0 ms, 4: 6 ms, 5: 45 ms, 6: 670 ms. So it takes up to ``MAX_CROSS_AISLES`` (5) and the
OR-Tools planner (``edge.floor.pickpath.solver``) serves floors with more; ``plan_pick_path``'s
``auto`` picks between them.

Within one sub-aisle (the stretch of an aisle inside one block) an optimal tour does one of: nothing
(no pick there), pass through once, pass through twice, come in from the lower end to the farthest
pick and back, the same from the upper end, or come in from both ends leaving the largest gap
between neighbouring picks unwalked. Transitions are memoised on the (small) state space, so an order
costs a few dictionary look-ups per state and aisle.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cache
from itertools import pairwise, product

from edge.floor.layout import PickGrid, Position
from edge.floor.pickpath.route import Route, unique_positions

NONE, ONCE, TWICE, FROM_LOW, FROM_HIGH, SPLIT = range(6)
# degrees a sub-aisle option adds at its lower and upper junction, and whether it connects them
_EFFECT = {
    NONE: (0, 0, False),
    ONCE: (1, 1, True),
    TWICE: (2, 2, True),
    FROM_LOW: (2, 0, False),
    FROM_HIGH: (0, 2, False),
    SPLIT: (2, 2, False),
}

State = tuple[int, ...]
"""Per junction of the current aisle (front to back): 0 = untouched, else 1 + parity + 2 * component."""
Label = tuple[int, int] | None  # (component, parity)
Choice = int | tuple[int, ...]  # a sub-aisle option, or edge multiplicities on each cross-aisle
Node = tuple[float, float]


def _decode(state: State) -> list[Label]:
    return [None if v == 0 else ((v - 1) // 2, (v - 1) % 2) for v in state]


def _canon(labels: list[Label]) -> State:
    """Number components by first appearance, so equal summaries are one state."""
    ids: dict[int, int] = {}
    return tuple(0 if lab is None else 1 + lab[1] + 2 * ids.setdefault(lab[0], len(ids)) for lab in labels)


@cache
def _vertical(state: State, low: int, kind: int) -> State:
    """The state after adding option ``kind`` in the sub-aisle between junctions ``low`` and ``low + 1``."""
    labels = _decode(state)
    add_low, add_high, joins = _EFFECT[kind]
    fresh = len(labels)  # higher than any canonical component id
    for j, add in ((low, add_low), (low + 1, add_high)):
        lab = labels[j]
        if add and lab is None:
            labels[j] = (fresh + j, add % 2)
        elif add and lab is not None:
            labels[j] = (lab[0], (lab[1] + add) % 2)
    lo, hi = labels[low], labels[low + 1]
    if joins and lo is not None and hi is not None:
        labels = [None if lab is None else (lo[0] if lab[0] == hi[0] else lab[0], lab[1]) for lab in labels]
    return _canon(labels)


@cache
def _horizontal(state: State, required: int) -> tuple[tuple[tuple[int, ...], State], ...]:
    """Every way to cross to the next aisle: edge multiplicity on each cross-aisle, and the next state.

    An odd junction must leave once; an even one leaves twice or not at all; an untouched one stays
    untouched unless it is required (the depot), when it is reached by a spur from the right. A
    component that no cross-aisle carries on could never join the rest, so such choices are dropped.
    """
    labels = _decode(state)
    options: list[tuple[int, ...]] = []
    for j, lab in enumerate(labels):
        if lab is None:
            options.append((2,) if required >> j & 1 else (0,))
        else:
            options.append((1,) if lab[1] else (0, 2))
    components = {lab[0] for lab in labels if lab is not None}
    out = []
    for mults in product(*options):
        carried = {lab[0] for lab, m in zip(labels, mults, strict=True) if m and lab is not None}
        if carried != components:
            continue
        nxt: list[Label] = [
            None if not m else ((len(labels) + j, 0) if lab is None else (lab[0], m % 2))
            for j, (lab, m) in enumerate(zip(labels, mults, strict=True))
        ]
        out.append((mults, _canon(nxt)))
    return tuple(out)


@cache
def _closes(state: State, required: int) -> bool:
    """Whether the subgraph is a tour once the last aisle is done: even, connected, required touched."""
    labels = _decode(state)
    if any(lab is not None and lab[1] for lab in labels):
        return False
    if any(required >> j & 1 and lab is None for j, lab in enumerate(labels)):
        return False
    return len({lab[0] for lab in labels if lab is not None}) <= 1


@dataclass(slots=True)
class _Column:
    x: float
    aisle: int | None  # None: the depot stands between two aisles
    picks: list[list[float]] = field(default_factory=list)  # per block, sorted
    required: int = 0

    def options(self, ys: tuple[float, ...]) -> list[list[tuple[int, float]]]:
        out = []
        for b, ps in enumerate(self.picks):
            length = ys[b + 1] - ys[b]
            opts = [(ONCE, length), (TWICE, 2 * length)]
            if not ps:
                opts.append((NONE, 0.0))
            else:
                opts += [(FROM_LOW, 2 * (ps[-1] - ys[b])), (FROM_HIGH, 2 * (ys[b + 1] - ps[0]))]
                if len(ps) > 1:
                    opts.append((SPLIT, 2 * (length - max(b - a for a, b in pairwise(ps)))))
            out.append(opts)
        return out


def _columns(grid: PickGrid, stops: list[Position]) -> list[_Column]:
    k = len(grid.ys)
    by_aisle: dict[int, list[list[float]]] = {}
    for p in stops:
        by_aisle.setdefault(p.aisle, [[] for _ in range(k - 1)])[grid.block_of(p.y)].append(p.y)
    xs = [grid.xs[a] for a in by_aisle] + [grid.depot_x]
    lo, hi = min(xs), max(xs)
    cols = [
        _Column(x, a, [sorted(ps) for ps in by_aisle[a]] if a in by_aisle else [[] for _ in range(k - 1)])
        for a, x in enumerate(grid.xs)
        if lo <= x <= hi
    ]
    depot = next((c for c in cols if c.x == grid.depot_x), None)
    if depot is None:
        depot = _Column(grid.depot_x, None)
        cols = sorted([*cols, depot], key=lambda c: c.x)
    depot.required = 1 << grid.depot_cross
    return cols


MAX_CROSS_AISLES = 5


def optimal_route(grid: PickGrid, points: list[Position]) -> Route:
    """The shortest route from the depot through every position and back (exact)."""
    if len(grid.ys) > MAX_CROSS_AISLES:
        raise ValueError(f"the exact planner takes up to {MAX_CROSS_AISLES} cross-aisles, not {len(grid.ys)}")
    stops = unique_positions(points)
    if not stops:
        return Route("optimal", (), 0.0)
    cols = _columns(grid, stops)
    k = len(grid.ys)
    layer: dict[State, float] = {(0,) * k: 0.0}
    trail: list[tuple[tuple[int, int], dict[State, tuple[State, Choice]]]] = []
    for c, col in enumerate(cols):
        if col.aisle is not None:
            for b, opts in enumerate(col.options(grid.ys)):
                nxt: dict[State, float] = {}
                back: dict[State, tuple[State, Choice]] = {}
                for st, cost in layer.items():
                    for kind, extra in opts:
                        ns = _vertical(st, b, kind)
                        if cost + extra < nxt.get(ns, math.inf):
                            nxt[ns], back[ns] = cost + extra, (st, kind)
                layer = nxt
                trail.append(((c, b), back))
        if c == len(cols) - 1:
            break
        gap = cols[c + 1].x - col.x
        nxt, back = {}, {}
        for st, cost in layer.items():
            for mults, ns in _horizontal(st, col.required):
                v = cost + sum(mults) * gap
                if v < nxt.get(ns, math.inf):
                    nxt[ns], back[ns] = v, (st, mults)
        layer = nxt
        trail.append(((c, -1), back))
    finals = [(cost, st) for st, cost in layer.items() if _closes(st, cols[-1].required)]
    _, state = min(finals)
    choices: list[tuple[tuple[int, int], Choice]] = []
    for where, back in reversed(trail):
        state, choice = back[state]
        choices.append((where, choice))
    return _walk(grid, cols, reversed(choices))


def _walk(grid: PickGrid, cols: list[_Column], choices: Iterable[tuple[tuple[int, int], Choice]]) -> Route:
    """Turn the chosen options into edges, then an Euler tour from the depot gives the visiting order."""
    edges: list[tuple[Node, Node, float]] = []

    def chain(x: float, ys: list[float], times: int) -> None:
        for a, b in pairwise(ys):
            edges.extend([((x, a), (x, b), b - a)] * times)

    for (c, b), choice in choices:
        col = cols[c]
        if isinstance(choice, tuple):  # between this aisle and the next
            for j, m in enumerate(choice):
                edges.extend([((col.x, grid.ys[j]), (cols[c + 1].x, grid.ys[j]), cols[c + 1].x - col.x)] * m)
            continue
        lo, hi, ps = grid.ys[b], grid.ys[b + 1], col.picks[b]
        line = [lo, *ps, hi]
        if choice in (ONCE, TWICE):
            chain(col.x, line, 1 if choice == ONCE else 2)
        elif choice == FROM_LOW:
            chain(col.x, line[:-1], 2)
        elif choice == FROM_HIGH:
            chain(col.x, line[1:], 2)
        elif choice == SPLIT:
            t = max(range(len(ps) - 1), key=lambda i: ps[i + 1] - ps[i])
            chain(col.x, line[: t + 2], 2)
            chain(col.x, line[t + 2 :], 2)
    order = _euler(edges, (grid.depot_x, grid.depot_y))
    x_to_aisle = {x: i for i, x in enumerate(grid.xs)}
    seen: set[Position] = set()
    stops = []
    for x, y in order:
        if y not in grid.ys and (p := Position(x_to_aisle[x], y)) not in seen:
            seen.add(p)
            stops.append(p)
    return Route("optimal", tuple(stops), sum(e[2] for e in edges))


def _euler(edges: list[tuple[Node, Node, float]], start: Node) -> list[Node]:
    """Hierholzer's algorithm: the nodes of a closed walk using every edge once."""
    adj: dict[Node, list[tuple[int, Node]]] = defaultdict(list)
    for i, (u, v, _) in enumerate(edges):
        adj[u].append((i, v))
        adj[v].append((i, u))
    used = [False] * len(edges)
    ptr: dict[Node, int] = defaultdict(int)
    stack, path = [start], []
    while stack:
        v = stack[-1]
        out = adj[v]
        while ptr[v] < len(out) and used[out[ptr[v]][0]]:
            ptr[v] += 1
        if ptr[v] == len(out):
            path.append(stack.pop())
        else:
            i, w = out[ptr[v]]
            used[i] = True
            stack.append(w)
    return path[::-1]
