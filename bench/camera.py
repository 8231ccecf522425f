"""Camera decode benchmark: rate and time per frame of each decoder on the same generated images.

    .venv/bin/python bench/camera.py            # 500 images, 1280x720, table
    .venv/bin/python bench/camera.py --quick    # 90 images, under a minute
    .venv/bin/python bench/camera.py --json     # last stdout line is one JSON object

Images come from firmware_sim.camera (GS1-128 SSCC and GTIN+expiry+batch, GS1 DataMatrix with serial or
net weight, GS1 QR with count, EAN-13) with random blur, rotation up to 30 degrees, noise and glare. A
decode counts only when the full GS1 content matches (every AI and value), so a partial or wrong read is
a miss. The baseline is each other decoder in the same run; the goal is >= 95 % for the chosen one.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import sys
import time
from collections import defaultdict
from typing import Any

from drivers.barcode.camera_decode import make_decoder
from drivers.barcode.decode import ScanDecoder
from drivers.barcode.events import ScanEvent
from firmware_sim.camera import CodeSpec, random_distortion, render, sample_specs
from sync.clock import SystemClock

DECODERS = ("opencv", "zxing", "hybrid")


def _rss_mb() -> float:
    try:
        import psutil

        return float(psutil.Process(os.getpid()).memory_info().rss) / 2**20
    except ImportError:
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _expected(spec: CodeSpec, decoder: ScanDecoder) -> tuple[tuple[str, str], ...] | str:
    at = SystemClock().now()
    if spec.symbol == "qr":
        return spec.content
    event = decoder.from_text(("]E0" if spec.symbol == "ean13" else "") + spec.content, at)
    assert isinstance(event, ScanEvent) and event.gs1 is not None, (spec, event)
    return event.gs1.elements


def run(n: int, seed: int) -> dict[str, Any]:
    decoders = {name: make_decoder(name) for name in DECODERS}  # type: ignore[arg-type]
    checker = ScanDecoder(device_id="bench", source="camera")
    rng = random.Random(seed)
    hits: dict[str, int] = defaultdict(int)
    by_symbol: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0, 0])
    spent: dict[str, float] = defaultdict(float)
    render_s = 0.0
    at = SystemClock().now()
    for i, spec in enumerate(sample_specs(n, seed=seed)):
        t0 = time.perf_counter()
        img = render(spec, random_distortion(rng), seed=seed * 100_003 + i)
        render_s += time.perf_counter() - t0
        want = _expected(spec, checker)
        for name, decode in decoders.items():
            t0 = time.perf_counter()
            found = decode(img)
            spent[name] += time.perf_counter() - t0
            ok = False
            for d in found:
                ev = checker.from_text(d.symbology + d.text, at)
                got = (ev.gs1.elements if ev.gs1 is not None else ev.data) if isinstance(ev, ScanEvent) else None
                ok = ok or got == want
            hits[name] += ok
            by_symbol[(name, spec.symbol)][0] += ok
            by_symbol[(name, spec.symbol)][1] += 1
    figures: dict[str, Any] = {"images": n, "frame": "1280x720", "render_ms_per_frame": 1000 * render_s / n}
    for name in DECODERS:
        figures[f"{name}_decode_rate"] = hits[name] / n
        figures[f"{name}_ms_per_frame"] = 1000 * spent[name] / n
        for (dec, sym), (ok_count, total) in sorted(by_symbol.items()):
            if dec == name:
                figures[f"{name}_rate_{sym}"] = ok_count / total
    figures["rss_mb"] = _rss_mb()
    return figures


def table(f: dict[str, Any]) -> str:
    symbols = sorted({k.split("_rate_")[1] for k in f if "_rate_" in k})
    head = f"{'decoder':<8} {'rate':>7} {'ms/frame':>9}  " + " ".join(f"{s:>14}" for s in symbols)
    lines = [head, "-" * len(head)]
    for name in DECODERS:
        cells = " ".join(f"{100 * f[f'{name}_rate_{s}']:>13.1f}%" for s in symbols)
        lines.append(f"{name:<8} {100 * f[f'{name}_decode_rate']:>6.1f}% {f[f'{name}_ms_per_frame']:>9.1f}  {cells}")
    lines.append(
        f"{f['images']} images {f['frame']}, render {f['render_ms_per_frame']:.1f} ms/frame, "
        f"RSS {f['rss_mb']:.0f} MiB; baseline = the other decoders in this run; goal >= 95%"
    )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="90 images (under a minute)")
    ap.add_argument("--images", type=int, default=None, help="number of images (default 500)")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--json", action="store_true", help="print the figures as one JSON line at the end")
    args = ap.parse_args(argv)
    n = args.images or (90 if args.quick else 500)
    figures = run(n, args.seed)
    print(table(figures))
    if args.json:
        print(json.dumps({k: round(v, 4) if isinstance(v, float) else v for k, v in figures.items()}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
