"""Pick-path length and planning time of every planner against S-shape, on the two example layouts.

Random orders of 5-30 lines (locations drawn uniformly from the layout: random storage, the usual
assumption of the routing literature) are planned by each planner on the one-block layout
(``ONE_BLOCK_TOML``: 12 aisles, front and back cross-aisles) and the three-cross-aisle layout
(``THREE_CROSS_AISLES_TOML``: 10 aisles, two blocks, depot mid-front). The baseline is S-shape on the
same orders in the same run. Per planner: mean and p95 route length, mean saving against S-shape,
and the p95 time to plan one order. OR-Tools runs guided local search for ``--ortools-ms`` per order.

    python -m bench.pickpath [--quick] [--json] [--orders N] [--ortools-ms MS]
"""

from __future__ import annotations

import random
import statistics
import time
import tomllib
from typing import Any

from bench._common import emit_json, parser, rss_mb, table
from edge.floor.layout import ONE_BLOCK_TOML, THREE_CROSS_AISLES_TOML, PickGrid, Position, parse_layout
from edge.floor.pickpath import PLANNERS, ortools_route
from edge.floor.pickpath.route import Route

LAYOUTS = {"one_block": ONE_BLOCK_TOML, "three_cross_aisles": THREE_CROSS_AISLES_TOML}


def _p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=20)[18] if len(values) > 1 else values[0]


def _orders(grid: PickGrid, n: int, seed: int) -> list[list[Position]]:
    rng = random.Random(seed)
    locations = sorted(grid.positions)
    return [[grid.position(c) for c in rng.sample(locations, rng.randint(5, 30))] for _ in range(n)]


def _run(grid: PickGrid, orders: list[list[Position]], ortools_ms: int) -> dict[str, dict[str, Any]]:
    figures: dict[str, dict[str, Any]] = {}
    lengths: dict[str, list[float]] = {}
    for name, plan in PLANNERS.items():
        times, lens = [], []
        for points in orders:
            t = time.perf_counter()
            route: Route = (
                ortools_route(grid, points, time_limit_ms=ortools_ms) if plan is ortools_route else plan(grid, points)
            )
            times.append((time.perf_counter() - t) * 1000)
            lens.append(route.length_m)
        lengths[name] = lens
        figures[name] = {
            "mean_m": round(statistics.fmean(lens), 2),
            "p95_m": round(_p95(lens), 2),
            "plan_p95_ms": round(_p95(times), 3),
            "plan_mean_ms": round(statistics.fmean(times), 3),
        }
    base = lengths["s_shape"]
    for name, lens in lengths.items():
        figures[name]["saving_vs_s_shape"] = round(1 - statistics.fmean(lens) / statistics.fmean(base), 4)
        figures[name]["optimal_never_longer"] = all(
            o <= x + 1e-6 for o, x in zip(lengths["optimal"], lens, strict=True)
        )
    return figures


def main() -> None:
    p = parser(__doc__ or "")
    p.add_argument("--orders", type=int, default=None, help="orders per layout (default 1,000; 200 with --quick)")
    p.add_argument("--ortools-ms", type=int, default=30, help="OR-Tools time limit per order, ms")
    args = p.parse_args()
    n = args.orders or (200 if args.quick else 1000)
    figures: dict[str, Any] = {"orders": n, "lines_per_order": [5, 30], "ortools_time_limit_ms": args.ortools_ms}
    for key, text in LAYOUTS.items():
        grid = PickGrid(parse_layout(tomllib.loads(text)["layout"]))
        result = _run(grid, _orders(grid, n, seed=13), args.ortools_ms)
        figures[key] = result
        rows = [
            [
                name,
                f["mean_m"],
                f["p95_m"],
                f"{100 * f['saving_vs_s_shape']:.1f}%",
                f["plan_mean_ms"],
                f["plan_p95_ms"],
            ]
            for name, f in result.items()
        ]
        table(
            f"{key}: {len(grid.xs)} aisles, {len(grid.ys)} cross-aisles, {len(grid.positions)} locations;"
            f" {n} orders of 5-30 lines; baseline S-shape, same orders",
            ["planner", "mean m", "p95 m", "saving vs S-shape", "plan mean ms", "plan p95 ms"],
            rows,
        )
    figures["rss_mb"] = round(rss_mb(), 1)
    figures["goal"] = {"saving_vs_s_shape_one_block": 0.15, "plan_p95_ms": 50}
    one = figures["one_block"]["optimal"]
    print(
        f"\noptimal saves {100 * one['saving_vs_s_shape']:.1f}% against S-shape on the one-block layout"
        f" (goal >= 15%), plans an order in {one['plan_p95_ms']:.2f} ms p95 (goal < 50 ms);"
        f" peak RSS {figures['rss_mb']} MB"
    )
    if args.json:
        emit_json(figures)


if __name__ == "__main__":
    main()
