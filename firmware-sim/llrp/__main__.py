"""``python -m firmware_sim.llrp --port 5084``: a simulated reader until interrupted (demos, ``wims sim rfid``).

Serves ``--tags`` SGTIN-96 tags standing in front of random antennas and/or ``--cases`` cases passing a
two-antenna portal (antenna 1 then 2) one every ``--every`` seconds, looping. Prints one JSON line once
listening: ``{"host": ..., "port": ..., "antennas": ...}``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import signal

from firmware_sim.llrp.reader import SimReader
from firmware_sim.llrp.tags import Scenario, random_population, sgtin96


def build_scenario(args: argparse.Namespace) -> Scenario:
    scenario = random_population(args.tags, antennas=tuple(range(1, args.antennas + 1)), seed=args.seed)
    scenario.miss_rate = args.miss_rate
    for i in range(args.cases):
        epc = sgtin96("0614141", "812345", 100_000 + i)
        scenario.case_passes(epc, (1, 2), at=1.0 + i * args.every, over=args.transit)
    return scenario


async def serve(args: argparse.Namespace) -> None:
    async with SimReader(
        build_scenario(args), host=args.host, port=args.port, antennas=args.antennas, round_s=args.round_ms / 1000
    ) as reader:
        print(json.dumps({"host": args.host, "port": reader.port, "antennas": args.antennas}), flush=True)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        await stop.wait()


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m firmware_sim.llrp", description=__doc__)
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=5084, help="TCP port (0 = any free port)")
    p.add_argument("--antennas", type=int, default=4)
    p.add_argument("--tags", type=int, default=20, help="tags standing in the field (random antennas)")
    p.add_argument("--cases", type=int, default=0, help="cases passing the antenna 1 -> 2 portal")
    p.add_argument("--every", type=float, default=2.0, help="seconds between portal cases")
    p.add_argument("--transit", type=float, default=1.5, help="seconds a case takes through the portal")
    p.add_argument("--miss-rate", type=float, default=0.1, help="chance a round misses a tag in the field")
    p.add_argument("--round-ms", type=float, default=50.0, help="one inventory round on one antenna")
    p.add_argument("--seed", type=int, default=7)
    asyncio.run(serve(p.parse_args(argv)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
