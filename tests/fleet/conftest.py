"""Fixtures for the fleet: a private mosquitto on a free port, schema validators, a fleet harness.

Every test that needs MQTT gets its own broker process (listener on 127.0.0.1, anonymous), so tests never
share retained messages and never touch a system broker on 1883.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import multiprocessing
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import structlog
from jsonschema import Draft202012Validator

from edge.aio import cancel_until_done
from edge.fleet.config import FleetConfig
from edge.fleet.examples import loop_layout
from edge.fleet.layout import Layout, LayoutGraph
from edge.fleet.master import FleetMaster
from firmware_sim.agv import AgvLink, AgvSim, Floor, ScaledClock
from firmware_sim.ports import free_port
from sync.ops import OpDraft

ROOT = Path(__file__).resolve().parents[2]
SCHEMAS = ROOT / "edge" / "fleet" / "schemas"

SIM_COMMAND = [sys.executable, "-m", "firmware_sim.agv"]
"""The AGV simulator as its own process (``wims sim agv`` runs the same)."""


@dataclass
class Broker:
    host: str
    port: int


@pytest.fixture
def broker(tmp_path: Path) -> Iterator[Broker]:
    exe = shutil.which("mosquitto") or "/usr/sbin/mosquitto"
    if not Path(exe).exists():
        pytest.skip("mosquitto is not installed")
    port = free_port()
    conf = tmp_path / "mosquitto.conf"
    conf.write_text(f"listener {port} 127.0.0.1\nallow_anonymous true\npersistence false\n")
    proc = subprocess.Popen([exe, "-c", str(conf)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 10
    while True:
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=0.2):
            break
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            raise RuntimeError(f"mosquitto did not start: {proc.stderr.read() if proc.stderr else ''}")
        time.sleep(0.05)
    yield Broker("127.0.0.1", port)
    proc.terminate()
    try:
        proc.wait(5)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def validators() -> dict[str, Draft202012Validator]:
    out = {}
    for name in ("order", "instantActions", "state", "connection", "factsheet", "visualization"):
        schema = json.loads((SCHEMAS / f"{name}.schema.json").read_text())
        out[name] = Draft202012Validator(schema, format_checker=Draft202012Validator.FORMAT_CHECKER)
    return out


@dataclass
class SchemaTap:
    """Keeps every message the master sends or receives, to validate against the official schemas.

    Validation runs after the run (``check()``) so that its CPU does not slow the sped-up clock's world.
    """

    counts: dict[str, int] = field(default_factory=dict)
    seen: list[tuple[str, bytes]] = field(default_factory=list)

    def __call__(self, direction: str, topic: str, payload: bytes) -> None:
        key = f"{direction}:{topic.rsplit('/', 1)[-1]}"
        self.counts[key] = self.counts.get(key, 0) + 1
        self.seen.append((key, payload))

    def check(self) -> list[str]:
        """Every kept message validated (on two processes: it is pure CPU); returns the failures."""
        chunks = [self.seen[i::2] for i in range(2)]
        with ProcessPoolExecutor(2, mp_context=multiprocessing.get_context("spawn")) as pool:
            return [bad for part in pool.map(validate_all, chunks) for bad in part]


def validate_all(messages: list[tuple[str, bytes]]) -> list[str]:
    checkers = validators()
    invalid = []
    for key, payload in messages:
        errors = list(checkers[key.split(":", 1)[1]].iter_errors(json.loads(payload)))
        if errors:
            invalid.append(f"{key}: {errors[0].message} at {list(errors[0].absolute_path)}")
    return invalid


def fleet_config(broker: Broker, layout: Layout, **kw: Any) -> FleetConfig:
    return FleetConfig(broker_host=broker.host, broker_port=broker.port, layout=layout, **kw)


@dataclass
class Fleet:
    """A master and in-process simulated AGVs on one broker and one sped-up clock."""

    master: FleetMaster
    clock: ScaledClock
    floor: Floor
    tap: SchemaTap
    recorded: list[OpDraft]
    links: dict[str, AgvLink] = field(default_factory=dict)
    tasks: list[asyncio.Task[None]] = field(default_factory=list)

    @property
    def graph(self) -> LayoutGraph:
        return self.master.graph

    def add_agv(self, serial: str, node: str, **kw: Any) -> AgvLink:
        pos = self.graph.nodes[node]
        sim = AgvSim(
            serial=serial,
            node=node,
            x=pos.x,
            y=pos.y,
            clock=self.clock,
            floor=self.floor,
            map_id=self.graph.map_id,
            **kw,
        )
        link = AgvLink(sim, host=self.master.config.broker_host, port=self.master.config.broker_port, clock=self.clock)
        self.links[serial] = link
        self.tasks += [
            asyncio.create_task(link.run(), name=f"link:{serial}"),
            asyncio.create_task(sim.run(), name=f"agv:{serial}"),
        ]
        return link

    async def until(self, predicate: Any, timeout: float, what: str = "condition", detail: Any = None) -> None:
        deadline = time.monotonic() + timeout
        while not predicate():
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out waiting for {what}" + (f": {detail()}" if detail else ""))
            await asyncio.sleep(0.02)


@contextlib.asynccontextmanager
async def running_fleet(
    broker: Broker, layout: Layout | None = None, *, scale: float = 30.0, **config: Any
) -> AsyncIterator[Fleet]:
    clock = ScaledClock(scale)
    recorded: list[OpDraft] = []

    async def record(draft: OpDraft) -> None:
        recorded.append(draft)

    tap = SchemaTap()
    master = FleetMaster(fleet_config(broker, layout or loop_layout(), **config), clock=clock, record=record, tap=tap)
    fleet = Fleet(master, clock, Floor(), tap, recorded)
    runner = asyncio.create_task(master.run(), name="fleet-master")
    await asyncio.wait_for(master.connected.wait(), 10)
    try:
        yield fleet
    finally:
        for link in fleet.links.values():
            await link.close()
        # Cancelled until they end (a cancel racing an MQTT reply is dropped by 3.11's wait_for), but
        # bounded: an MQTT client stuck on a broken socket must not hang the run past the test's verdict.
        stuck = await cancel_until_done([*fleet.tasks, runner], timeout=15)
        if stuck:
            structlog.get_logger("wims.tests").warning(
                "fleet.teardown_stuck", tasks=sorted(t.get_name() for t in stuck)
            )
