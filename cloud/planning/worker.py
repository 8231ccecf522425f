"""A planning run in a process of its own: ``python -m cloud.planning.worker RUN_ID --now ISO``.

The cloud service runs its planning this way (``schedule.Planner``) rather than in a thread of an API
worker: a run holds the interpreter for seconds to minutes (pandas, the models' Python parts), which in
a thread would stall every request of that worker, and it leaves hundreds of megabytes behind in the
process that ran it. The configuration comes as JSON on stdin (the ``DispatchConfig`` the service
holds), the database from ``WIMS_DATABASE_URL``; the run's row already exists (``running``). SIGTERM
asks the run to stop at its next step (it ends ``cancelled``). Exit 0 when the run is done, 1 otherwise.
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading
import time
from datetime import datetime, timedelta
from types import FrameType

from cloud.db.engine import make_engine
from cloud.planning.config import DispatchConfig
from cloud.planning.runner import plan_run
from cloud.settings import CloudSettings


class _FromThen:
    """The service's clock carried on: its time at the start plus the time this process has run (so a
    service on simulated time plans the day it means)."""

    def __init__(self, start: datetime) -> None:
        self._start = start
        self._t0 = time.monotonic()

    def now(self) -> datetime:
        return self._start + timedelta(seconds=time.monotonic() - self._t0)

    def monotonic(self) -> float:
        return time.monotonic() - self._t0

    async def sleep(self, seconds: float) -> None:  # pragma: no cover (a run never sleeps)
        import asyncio

        await asyncio.sleep(seconds)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("run_id", type=int)
    p.add_argument("--now", required=True, help="The service's time (ISO 8601 with offset).")
    p.add_argument("--trigger", default="schedule")
    p.add_argument("--actor", default="system:schedule")
    args = p.parse_args(argv)
    cfg = DispatchConfig.model_validate_json(sys.stdin.read())
    stop = threading.Event()

    def on_term(_signum: int, _frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, on_term)
    engine = make_engine(CloudSettings().database_url, pool_size=2)
    try:
        row = plan_run(
            engine,
            cfg,
            _FromThen(datetime.fromisoformat(args.now)),
            trigger=args.trigger,
            actor=args.actor,
            run_id=args.run_id,
            stop=stop,
        )
    finally:
        engine.dispose()
    return 0 if row["status"] == "done" else 1


if __name__ == "__main__":
    sys.exit(main())
