"""Layouts for the floor tests: the two example layouts, and random small ones for property tests."""

from __future__ import annotations

import tomllib
from typing import Any

from hypothesis import strategies as st

from edge.floor.layout import ONE_BLOCK_TOML, THREE_CROSS_AISLES_TOML, PickGrid, parse_layout


def example(toml_text: str) -> PickGrid:
    return PickGrid(parse_layout(tomllib.loads(toml_text)["layout"]))


ONE_BLOCK = example(ONE_BLOCK_TOML)
THREE_CROSS = example(THREE_CROSS_AISLES_TOML)


@st.composite
def layouts(draw: st.DrawFn, *, max_blocks: int = 3, depot_anywhere: bool = True) -> PickGrid:
    """A node-by-node layout with uneven aisle spacing and block lengths, and a depot on a cross-aisle."""
    n_aisles = draw(st.integers(1, 6))
    gaps = draw(st.lists(st.integers(2, 6), min_size=n_aisles, max_size=n_aisles))
    xs = [float(sum(gaps[:i])) for i in range(n_aisles)]
    lengths = draw(st.lists(st.integers(3, 12), min_size=1, max_size=max_blocks))
    ys = [0.0]
    for length in lengths:
        ys.append(ys[-1] + length)
    slots: list[dict[str, Any]] = []
    for a in range(n_aisles):
        for b in range(len(lengths)):
            for n in range(int(lengths[b]) - 1):
                slots.append(
                    {
                        "location": f"S{a}-{b}-{n}",
                        "aisle": f"A{a}",
                        "y": ys[b] + n + 0.5 + draw(st.sampled_from([0.0, 0.25])),
                    }
                )
    cross = draw(st.integers(0, len(ys) - 1)) if depot_anywhere else draw(st.sampled_from([0, len(ys) - 1]))
    depot_x = draw(st.sampled_from([*xs, xs[0] - 1.0, xs[-1] + 1.5, (xs[0] + xs[-1]) / 2]))
    layout = parse_layout(
        {
            "aisles": [{"name": f"A{a}", "x": x} for a, x in enumerate(xs)],
            "cross_aisles": [{"name": f"C{i}", "y": y} for i, y in enumerate(ys)],
            "depot": {"x": depot_x, "cross_aisle": f"C{cross}"},
            "slots": slots,
        }
    )
    return PickGrid(layout)
