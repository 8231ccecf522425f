"""``python -m firmware_sim.modbus``: serve simulated sensors until interrupted (demos, mbpoll, bench).

Prints one JSON line once listening: ``{"tcp": [[host, port, [units...]], ...], "rtu": path or null}``.
With ``--rtu``, the sensors of the first line are also served over a pty pair, and the printed path is
the side a client (the gateway, or ``mbpoll -m rtu``) opens.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import signal
import sys

from firmware_sim.modbus.line import PtyNullModem, SensorLine
from firmware_sim.modbus.model import RoomModel
from firmware_sim.modbus.sensors import SimSensor


async def serve(lines: int, per_line: int, host: str, rtu: bool, setpoint: float, port: int = 0) -> None:
    started: list[SensorLine] = []
    out: dict[str, object] = {"tcp": [], "rtu": None}
    cable: PtyNullModem | None = None
    for i in range(lines):
        sensors = [
            SimSensor(unit=u, model=RoomModel(setpoint=setpoint, seed=i * 1000 + u)) for u in range(1, per_line + 1)
        ]
        line = await SensorLine(sensors).start_tcp(host, port + i if port else 0)
        started.append(line)
        out["tcp"].append([host, line.port, [s.unit for s in sensors]])  # type: ignore[attr-defined]
        if rtu and i == 0:
            cable = PtyNullModem().open()
            started.append(await SensorLine(sensors).start_rtu(cable.device_path))
            out["rtu"] = cable.host_path
    print(json.dumps(out), flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    for line in started:
        await line.stop()
    if cable is not None:
        cable.close()


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m firmware_sim.modbus", description=__doc__)
    p.add_argument("--lines", type=int, default=1, help="TCP endpoints (one server each)")
    p.add_argument("--sensors-per-line", type=int, default=4)
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=0, help="TCP port of the first line, the next lines follow (0: free)")
    p.add_argument("--rtu", action="store_true", help="also serve the first line's sensors over a pty")
    p.add_argument("--setpoint", type=float, default=5.0)
    args = p.parse_args(argv)
    import logging

    logging.getLogger("pymodbus").setLevel(logging.CRITICAL)
    asyncio.run(serve(args.lines, args.sensors_per_line, args.host, args.rtu, args.setpoint, args.port))
    return 0


if __name__ == "__main__":
    sys.exit(main())
