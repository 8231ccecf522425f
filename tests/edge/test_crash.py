"""kill -9 at random moments: every op acknowledged before the kill survives, and nothing else is off."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from edge.store.schema import connect
from edge.store.verify import verify_database

ROOT = Path(__file__).parents[2]


def _run_and_kill(store: Path, after: float) -> list[str]:
    """Start the writer, wait until it has acked something, SIGKILL it ``after`` seconds later."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "tests.edge.crash_writer", str(store), "50"],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        bufsize=1,
    )
    acked: list[str] = []
    first = threading.Event()

    def read() -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            acked.append(line.split()[0])
            first.set()

    reader = threading.Thread(target=read, name="crash-reader")
    reader.start()
    if not first.wait(30):
        proc.kill()
        reader.join()
        raise AssertionError(f"writer never acked an op: {proc.stderr.read() if proc.stderr else ''}")
    time.sleep(after)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    reader.join()  # every line written before the kill is read: those ops were acknowledged
    assert proc.returncode == -signal.SIGKILL
    return acked


@pytest.mark.slow
def test_kill_minus_nine_twenty_times(tmp_path: Path) -> None:
    rng = random.Random(int(os.environ.get("WIMS_CRASH_SEED", "5084")))
    all_acked: set[str] = set()
    for round_ in range(20):
        acked = _run_and_kill(tmp_path, rng.uniform(0.05, 0.6))
        all_acked.update(acked)
        conn = connect(str(tmp_path / "edge.sqlite"), readonly=True)
        stored = {r[0] for r in conn.execute("SELECT op_id FROM journal")}
        missing = all_acked - stored
        assert not missing, f"round {round_}: {len(missing)} acknowledged ops lost"
        count, max_seq = conn.execute("SELECT count(*), max(seq) FROM journal").fetchone()
        assert count == max_seq, f"round {round_}: seq has a gap ({count} ops, max seq {max_seq})"
        report = verify_database(conn)
        assert report.chain_error is None, f"round {round_}: {report.chain_error}"
        assert report.projection_diffs == [], f"round {round_}: projection differs"
        conn.close()
    assert len(all_acked) > 1000  # the writer really was writing when it was killed
