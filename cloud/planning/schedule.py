"""Planning inside the cloud service: on demand (``POST /v1/planning/runs``) and on ``[planning] schedule``.

Runs are CPU work of seconds to minutes: each goes to a process of its own (``cloud.planning.worker``),
watched from a thread, so the API worker's requests never wait for it and its memory goes back when it
ends; one run at a time per worker. The schedule is a loop in the service's lifespan that sleeps on the
service's clock until the next slot, claims the slot (``planning_runs.slot`` is unique, so of several
workers exactly one plans it) and runs it. On shutdown the loop is cancelled and a run in progress is
told to stop at its next step (SIGTERM: it ends ``cancelled``); one that does not stop within
``STOP_GRACE_S`` is killed and marked cancelled here. Without a database URL (a test of the loop alone)
the run is made in the thread itself.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import subprocess
import sys
import threading
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.engine import Engine

from cloud.db.schema import planning_runs
from cloud.planning.config import DispatchConfig
from cloud.planning.runner import plan_run, start_run
from sync.clock import Clock

STOP_GRACE_S = 10.0

log = logging.getLogger(__name__)


def next_slot(schedule: str, now: datetime) -> tuple[str, datetime] | None:
    """The next slot at or after ``now`` (UTC): its key and its time; None without a schedule."""
    if not schedule:
        return None
    if schedule.startswith("every "):
        n, unit = int(schedule[6:-1]), schedule[-1]
        period = n * (3600 if unit == "h" else 60)
        index = -(-int(now.timestamp()) // period)  # ceiling: the next boundary
        at = datetime.fromtimestamp(index * period, tz=now.tzinfo)
        return f"every:{period}:{index}", at
    hh, mm = (int(x) for x in schedule.split(":"))
    at = now.replace(hour=hh, minute=mm, second=0, microsecond=0)
    if at < now:
        at += timedelta(days=1)
    return f"daily:{at.date().isoformat()}T{schedule}", at


class Planner:
    """The worker's planning thread, its schedule loop and the stop signal they share."""

    def __init__(self, engine: Engine, cfg: DispatchConfig, clock: Clock, database_url: str | None = None) -> None:
        self.engine = engine
        self.cfg = cfg
        self.clock = clock
        self.database_url = database_url
        self.stop = threading.Event()
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="planning")
        self._running: Future[Any] | None = None
        self._child: subprocess.Popen[bytes] | None = None

    @property
    def busy(self) -> bool:
        return self._running is not None and not self._running.done()

    def submit(self, *, trigger: str, actor: str, slot: str | None = None) -> int | None:
        """Start a run in the planning thread; its id (None: the slot was taken by another worker)."""
        run_id = start_run(self.engine, self.clock, trigger=trigger, actor=actor, slot=slot)
        if run_id is None:
            return None
        if self.database_url is None:
            self._running = self._pool.submit(
                plan_run, self.engine, self.cfg, self.clock, trigger=trigger, actor=actor, run_id=run_id, stop=self.stop
            )
        else:
            self._running = self._pool.submit(self._in_child, run_id, trigger, actor)
        return run_id

    def _in_child(self, run_id: int, trigger: str, actor: str) -> int:
        """Run ``cloud.planning.worker`` for the run and wait for it (in the planning thread)."""
        assert self.database_url is not None
        cmd = [sys.executable, "-m", "cloud.planning.worker", str(run_id), "--now", self.clock.now().isoformat()]
        cmd += ["--trigger", trigger, "--actor", actor]
        env = {**os.environ, "WIMS_DATABASE_URL": self.database_url}
        child = subprocess.Popen(cmd, stdin=subprocess.PIPE, env=env)
        self._child = child
        try:
            assert child.stdin is not None
            child.stdin.write(self.cfg.model_dump_json().encode())
            child.stdin.close()
            code: int | None = None
            while code is None:
                try:
                    code = child.wait(timeout=0.5)
                except subprocess.TimeoutExpired:
                    if self.stop.is_set():
                        code = self._end_child(child)
        finally:
            self._child = None
        self._settle(run_id, code)
        return code

    def _end_child(self, child: subprocess.Popen[bytes]) -> int:
        """The service is stopping: ask the run to stop at its next step, and kill it if it will not."""
        child.terminate()
        try:
            return child.wait(timeout=STOP_GRACE_S)
        except subprocess.TimeoutExpired:
            child.kill()
            return child.wait()

    def _settle(self, run_id: int, code: int) -> None:
        """A process that ended without ending its run (killed, crashed): the run says so."""
        stopping = self.stop.is_set()
        with self.engine.begin() as conn:
            conn.execute(
                planning_runs.update()
                .where(planning_runs.c.id == run_id, planning_runs.c.status == "running")
                .values(
                    status="cancelled" if stopping else "failed",
                    error=("the service stopped" if stopping else "the planning process failed") + f" (exit {code})",
                    finished_at=self.clock.now(),
                )
            )

    async def schedule_loop(self) -> None:
        """Sleep until each slot, then plan it (if no other worker did)."""
        while not self.stop.is_set():
            nxt = next_slot(self.cfg.planning.schedule, self.clock.now())
            if nxt is None:
                return
            slot, at = nxt
            wait = (at - self.clock.now()).total_seconds()
            if wait > 0:
                await self.clock.sleep(min(wait, 3600))
                continue  # re-read the clock: a long sleep is done in steps
            if self.busy:
                await self.clock.sleep(1)
                continue
            run_id = self.submit(trigger="schedule", actor="system:schedule", slot=slot)
            if run_id is not None and self._running is not None:
                log.info("scheduled planning run %s for slot %s", run_id, slot)
                with contextlib.suppress(Exception):
                    await asyncio.wrap_future(self._running)
            await self.clock.sleep(1)  # past the slot's instant before the next is computed

    def close(self) -> None:
        """Tell a run in progress to stop, and wait for the thread."""
        self.stop.set()
        self._pool.shutdown(wait=True, cancel_futures=True)
