"""``python -m firmware_sim.camera OUT.avi``: write a fake camera recording of warehouse labels.

Point a ``kind = "camera"`` device's ``options.source`` at the file for a demo without a camera.
"""

from __future__ import annotations

import argparse
import random
import sys
from typing import cast, get_args

from firmware_sim.camera.render import CodeSpec, Symbol, frames, random_distortion, sample_specs, write_video


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m firmware_sim.camera", description=__doc__)
    ap.add_argument("out", help="video file to write (.avi, MJPG)")
    ap.add_argument("--count", type=int, default=12, help="number of labels (default 12)")
    ap.add_argument("--label", action="append", default=[], help="SYMBOL=CONTENT, e.g. gs1-128=(01)...(10)LOT")
    ap.add_argument("--repeat", type=int, default=5, help="frames per label (default 5)")
    ap.add_argument("--distortion", type=float, default=0.6, help="0 = clean, 1 = the benchmark's range")
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args(argv)
    specs: list[CodeSpec] = []
    for item in args.label:
        symbol, _, content = item.partition("=")
        if symbol not in get_args(Symbol) or not content:
            ap.error(f"--label {item!r}: want SYMBOL=CONTENT with SYMBOL one of {get_args(Symbol)}")
        specs.append(CodeSpec(cast(Symbol, symbol), content))
    specs = specs or sample_specs(args.count, args.seed)
    rng = random.Random(args.seed)
    path = write_video(
        args.out, frames(specs, [random_distortion(rng, args.distortion) for _ in specs], repeat=args.repeat)
    )
    print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
