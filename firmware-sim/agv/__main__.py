"""``python -m firmware_sim.agv``: run simulated AGVs against a broker, in a process of their own.

Each ``--agv SERIAL@NODE:X:Y`` is one vehicle standing on NODE at (X, Y). Prints ``READY`` once every
vehicle is online, then runs until SIGTERM/SIGINT (clean stop: OFFLINE is published) or SIGKILL (the
broker publishes each vehicle's last will, CONNECTIONBROKEN). Tests use it to kill a vehicle for real;
the benchmark uses it to keep the vehicles' CPU out of the master's figures.
"""

from __future__ import annotations

import argparse
import asyncio
import signal
import sys

from firmware_sim.agv.clock import ScaledClock
from firmware_sim.agv.link import AgvLink
from firmware_sim.agv.vehicle import AgvSim


def _spec(value: str) -> tuple[str, str, float, float]:
    serial, _, rest = value.partition("@")
    node, x, y = rest.split(":")
    return serial, node, float(x), float(y)


async def _main(args: argparse.Namespace) -> None:
    clock = ScaledClock(args.scale)
    links: list[AgvLink] = []
    for serial, node, x, y in (_spec(v) for v in args.agv):
        sim = AgvSim(
            serial=serial,
            node=node,
            x=x,
            y=y,
            clock=clock,
            map_id=args.map_id,
            action_seconds=args.action_seconds,
            battery=args.battery,
        )
        links.append(
            AgvLink(
                sim,
                host=args.host,
                port=args.port,
                clock=clock,
                manufacturer=args.manufacturer,
                state_interval=args.state_interval,
            )
        )
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    tasks = [asyncio.create_task(t) for link in links for t in (link.run(), link.sim.run())]
    await asyncio.gather(*(link.connected.wait() for link in links))
    print("READY", flush=True)
    await stop.wait()
    await asyncio.gather(*(link.close() for link in links))
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(prog="python -m firmware_sim.agv", description=__doc__)
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=1883)
    p.add_argument("--manufacturer", default="ACME")
    p.add_argument("--map-id", default="floor-1")
    p.add_argument("--scale", type=float, default=1.0, help="simulated seconds per real second")
    p.add_argument("--state-interval", type=float, default=1.0)
    p.add_argument("--action-seconds", type=float, default=4.0)
    p.add_argument("--battery", type=float, default=100.0)
    p.add_argument("--agv", action="append", required=True, metavar="SERIAL@NODE:X:Y")
    asyncio.run(_main(p.parse_args(argv)))


if __name__ == "__main__":
    sys.exit(main())
