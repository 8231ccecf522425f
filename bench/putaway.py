"""Putaway suggestions per second and their latency on a big site, against a plain Python scan.

The site: 20,000 storage locations (60% ambient, 20% chilled, 15% frozen, 5% controlled; 2% are
hazmat cages; unit, volume and weight limits; a tenth take mixed SKUs) and 5,000 SKUs (1% hazmat),
about 60% of the locations already holding stock, velocity classes from a skewed pick history.
Receipts of random SKUs are suggested and held (as a putaway task would be), and a held suggestion
is completed or cancelled now and then so that some hundreds stay in flight, as on a busy dock.

The baseline, in the same run on the same site state, is the obvious implementation: a Python loop
over every candidate location applying the same hard limits and the same score. Memory is the
process's resident set (the appliance's gateway budget is 200 MB for everything, this included).

    python -m bench.putaway [--quick] [--json]
"""

from __future__ import annotations

import random
import statistics
import time
from typing import Any

from bench._common import current_rss_mb, emit_json, parser, rss_mb, table
from edge.floor.putaway import Putaway, Receipt
from edge.floor.storage import TEMPERATURE_FITS, PutawaySku, StorageLocation
from edge.floor.velocity import velocity_classes

CLASSES = ["ambient"] * 12 + ["chilled"] * 4 + ["frozen"] * 3 + ["controlled"]


def site(n_locations: int, n_skus: int, rng: random.Random) -> tuple[list[StorageLocation], list[PutawaySku]]:
    locations = [
        StorageLocation(
            code=f"L{i:05d}",
            zone=f"Z-{i // 500}",
            temperature_class=rng.choice(CLASSES),  # type: ignore[arg-type]
            max_units=rng.choice([50, 100, 200, 400]),
            max_volume_cm3=rng.choice([0.0, 400_000.0, 1_200_000.0]),
            max_weight_g=rng.choice([0.0, 500_000.0, 1_000_000.0]),
            hazmat_classes=frozenset({"3", "8"}) if rng.random() < 0.02 else frozenset(),
            mixed_skus=rng.random() < 0.1,
            travel_m=rng.uniform(5, 250),
        )
        for i in range(n_locations)
    ]
    skus = [
        PutawaySku(
            f"S{j:04d}",
            rng.choice(CLASSES),  # type: ignore[arg-type]
            rng.choice(["3", "8"]) if rng.random() < 0.01 else None,
            rng.uniform(100, 4_000),
            rng.uniform(50, 2_500),
        )
        for j in range(n_skus)
    ]
    return locations, skus


def stock_up(putaway: Putaway, skus: list[PutawaySku], rng: random.Random, share: float) -> None:
    """Fill about ``share`` of the locations with one SKU each (through the putaway, so all valid)."""
    for n in range(int(len(putaway.locations) * share)):
        sku = rng.choice(skus)
        s = putaway.suggest_and_hold(Receipt(f"init-{n}", sku.code, rng.randint(5, 60)), max_split=1)
        for a in s.allocations:
            putaway.done(s.key, a.location, a.qty)


def naive(putaway: Putaway, receipt: Receipt) -> list[tuple[float, str]]:
    """The same limits and score, one location at a time in plain Python."""
    sku = putaway.skus[receipt.sku]
    fits_classes = TEMPERATURE_FITS[sku.temperature_class]
    cls = putaway.velocity.get(sku.code, "C")
    target = {"A": 0.0, "B": 0.5, "C": 1.0}[cls]
    here = putaway._sku_at.get(sku.code, {})
    out = []
    for i, loc in enumerate(putaway.locations):
        if loc.temperature_class not in fits_classes:
            continue
        present = int(putaway.hz_present[i])
        if sku.hazmat_class:
            if sku.hazmat_class not in loc.hazmat_classes or present not in (0, putaway._hz_id[sku.hazmat_class]):
                continue
        elif present not in (0, -1):
            continue
        others = int(putaway.sku_count[i]) - (1 if i in here else 0)
        if others and not loc.mixed_skus:
            continue
        used = putaway.units[0, i] + putaway.units[1, i]
        free = (loc.max_units or float("inf")) - used
        if sku.unit_volume_cm3 and loc.max_volume_cm3:
            free = min(free, (loc.max_volume_cm3 - putaway.volume[i]) / sku.unit_volume_cm3)
        if sku.unit_weight_g and loc.max_weight_g:
            free = min(free, (loc.max_weight_g - putaway.weight[i]) / sku.unit_weight_g)
        if free < 1:
            continue
        score = 3 * (1 - abs(putaway.rank[i] - target)) + 2 * min(free / receipt.qty, 1.0)
        score += (used + min(free, receipt.qty)) / loc.max_units if loc.max_units else 0.0
        score += 2.0 if i in here else 0.0
        out.append((score, loc.code))
    out.sort(reverse=True)
    return out[:5]


def _p(values: list[float], q: int) -> float:
    return statistics.quantiles(values, n=100)[q - 1] if len(values) > 2 else max(values)


def main() -> None:
    args = parser(__doc__ or "").parse_args()
    n_receipts, n_naive = (2_000, 30) if args.quick else (20_000, 200)
    rng = random.Random(5)
    base_rss = current_rss_mb()
    locations, skus = site(20_000, 5_000, rng)
    history = [f"S{min(4999, int(rng.paretovariate(1.1)) - 1):04d}" for _ in range(200_000)]
    t = time.perf_counter()
    putaway = Putaway(locations, skus, velocity=velocity_classes(history))
    build_s = time.perf_counter() - t
    stock_up(putaway, skus, rng, share=0.6)
    site_rss = current_rss_mb()
    lat: list[float] = []
    in_flight: list[str] = []
    unplaced = 0
    t0 = time.perf_counter()
    for n in range(n_receipts):
        receipt = Receipt(f"r{n}", rng.choice(skus).code, rng.randint(1, 150), rng.choice(["", "L1", "L2"]))
        t = time.perf_counter()
        s = putaway.suggest_and_hold(receipt)
        lat.append((time.perf_counter() - t) * 1000)
        unplaced += s.unplaced > 0
        in_flight.append(s.key)
        if len(in_flight) > 300:  # the oldest task is done or cancelled
            key = in_flight.pop(rng.randrange(len(in_flight)))
            held = putaway.held(key)
            if held and rng.random() < 0.9:
                for location, qty in held:
                    putaway.done(key, location, qty)
            else:
                putaway.release(key)
    elapsed = time.perf_counter() - t0
    naive_lat = []
    for n in range(n_naive):
        receipt = Receipt(f"n{n}", rng.choice(skus).code, rng.randint(1, 150))
        t = time.perf_counter()
        naive(putaway, receipt)
        naive_lat.append((time.perf_counter() - t) * 1000)
    figures: dict[str, Any] = {
        "locations": len(locations),
        "skus": len(skus),
        "receipts": n_receipts,
        "suggestions_per_s": round(n_receipts / elapsed),
        "suggestion_p50_ms": round(_p(lat, 50), 3),
        "suggestion_p95_ms": round(_p(lat, 95), 3),
        "suggestion_p99_ms": round(_p(lat, 99), 3),
        "baseline_python_scan_p50_ms": round(_p(naive_lat, 50), 3),
        "baseline_python_scan_p95_ms": round(_p(naive_lat, 95), 3),
        "receipts_not_fully_placed": unplaced,
        "build_s": round(build_s, 3),
        "site_rss_mb": round(site_rss - base_rss, 1),
        "rss_mb": round(rss_mb(), 1),
        "goal": {"suggestion_p95_ms": 20, "rss_mb": 200},
    }
    table(
        f"putaway on {len(locations):,} locations and {len(skus):,} SKUs, ~300 receipts in flight;"
        " baseline: a plain Python loop over the same locations with the same limits and score",
        ["method", "suggestions", "per s", "p50 ms", "p95 ms", "p99 ms"],
        [
            ["numpy (edge.floor.putaway), suggest + hold", n_receipts, figures["suggestions_per_s"],
             figures["suggestion_p50_ms"], figures["suggestion_p95_ms"], figures["suggestion_p99_ms"]],
            ["plain Python scan, suggest only", n_naive, round(n_naive / (sum(naive_lat) / 1000)),
             figures["baseline_python_scan_p50_ms"], figures["baseline_python_scan_p95_ms"],
             round(_p(naive_lat, 99), 3)],
        ],
    )  # fmt: skip
    print(
        f"\nindexes built in {build_s:.2f} s; the site state takes {figures['site_rss_mb']} MB;"
        f" peak RSS of this process {figures['rss_mb']} MB (goal: p95 < 20 ms a suggestion, gateway < 200 MB)"
    )
    if args.json:
        emit_json(figures)


if __name__ == "__main__":
    main()
