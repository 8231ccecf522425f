"""AGV transport tasks through their durable record: simulated AGVs on a private mosquitto, the real journal,
and gateway restarts with tasks in flight (resumed from what the AGVs report, never sent twice blindly)."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from edge.aio import cancel_until_done
from edge.config import SiteConfig, parse_config
from edge.context import EdgeContext
from edge.fleet import vda
from edge.fleet.config import FleetConfig
from edge.fleet.control import FleetControl
from edge.fleet.examples import loop_layout
from edge.fleet.layout import LayoutGraph
from edge.fleet.master import FleetMaster
from edge.fleet.tasks import TransportTask
from edge.floor.transport import TransportRefused, TransportService
from firmware_sim.agv import AgvLink, AgvSim, Floor, ScaledClock
from sync.ops import ExceptionPayload, MovePayload, Op, OpDraft, OpKind, ReceivePayload
from tests.fleet.conftest import Broker, broker
from tests.support.edge import edge_context

__all__ = ["broker"]
pytestmark = pytest.mark.mqtt
SCALE = 30.0
LAYOUT = loop_layout()
STATIONS = sorted(s.location for s in LAYOUT.stations if s.kind != "park")


def site(tmp_path: Path) -> SiteConfig:
    return parse_config(
        {
            "site": {"gateway_id": "gw-agv", "warehouse": "WH-AGV"},
            "store": {"path": str(tmp_path / "edge.sqlite")},
            "zones": [{"code": "Z"}],
            "locations": [{"code": loc, "zone": "Z"} for loc in STATIONS],
            "skus": [{"code": "SKU-1"}],
        }
    )


@dataclass
class Floorside:
    """The AGVs: simulators with their MQTT links, living on across gateway restarts."""

    clock: ScaledClock
    broker: Broker
    floor: Floor = field(default_factory=Floor)
    links: dict[str, AgvLink] = field(default_factory=dict)
    tasks: list[asyncio.Task[None]] = field(default_factory=list)

    def add(self, serial: str, station: str) -> AgvLink:
        graph = LayoutGraph(LAYOUT)
        node = graph.stations[station].node
        pos = graph.nodes[node]
        sim = AgvSim(
            serial=serial, node=node, x=pos.x, y=pos.y, clock=self.clock, floor=self.floor, map_id=graph.map_id
        )
        link = AgvLink(sim, host=self.broker.host, port=self.broker.port, clock=self.clock)
        self.links[serial] = link
        self.tasks += [asyncio.create_task(link.run()), asyncio.create_task(sim.run())]
        return link

    async def close(self) -> None:
        for link in self.links.values():
            await link.close()
        await cancel_until_done(self.tasks, timeout=15)


@dataclass
class Gw:
    ctx: EdgeContext
    master: FleetMaster
    service: TransportService


@contextlib.asynccontextmanager
async def gateway(
    cfg: SiteConfig, clock: ScaledClock, broker: Broker, withhold: list[OpDraft] | None = None
) -> AsyncIterator[Gw]:
    """The gateway's part of it: journal, fleet master and transport record, as the daemon wires them.

    ``withhold`` keeps the master's move ops from the journal: the ops a crash right after the drop loses."""
    async with edge_context(cfg, clock) as ctx:
        service = TransportService(ctx, sync_seconds=0.5, resume_timeout_s=30, settle_s=3, op_grace_s=3600)
        config = FleetConfig(broker_host=broker.host, broker_port=broker.port, layout=LAYOUT)

        async def record(draft: OpDraft) -> object:
            if withhold is not None and isinstance(draft.payload, MovePayload):
                withhold.append(draft)
                return None
            return await ctx.journal.append(draft)

        master = FleetMaster(config, clock=clock, record=record, tap=service.observe)
        service.master = master
        parts = [asyncio.create_task(master.run()), asyncio.create_task(service.run())]
        try:
            await asyncio.wait_for(master.connected.wait(), 10)
            yield Gw(ctx, master, service)
        finally:  # a crash, as far as the tasks are concerned: nothing is handed over
            await cancel_until_done(parts, timeout=15)


async def until(predicate: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.02)


def ops(ctx: EdgeContext, kind: OpKind) -> list[Op]:
    return [e.op() for e in ctx.journal.entries(kind=kind, limit=10_000)]


async def stock_at(ctx: EdgeContext, location: str, qty: int) -> None:
    await ctx.journal.append(
        OpDraft(
            payload=ReceivePayload(sku="SKU-1", location=location, qty=qty), actor="op1", occurred_at=ctx.clock.now()
        )
    )


def state(gw: Gw, task_id: str) -> str:
    row = gw.service.get(task_id)
    return row.state if row else "missing"


async def test_a_task_is_accepted_once_and_done_with_its_move(tmp_path: Path, broker: Broker) -> None:
    clock, cfg = ScaledClock(SCALE), site(tmp_path)
    agvs = Floorside(clock, broker)
    try:
        async with gateway(cfg, clock, broker) as gw:
            agvs.add("AGV-001", "PARK-01")
            await stock_at(gw.ctx, "DOCK-01", 5)
            args: dict[str, Any] = {
                "task_id": "T-1", "source": "putaway", "ref": "put-1", "sku": "SKU-1", "qty": 5,
                "from_location": "DOCK-01", "to_location": "SLOT-05", "handling_unit": "HU-1",
            }  # fmt: skip
            first = await gw.service.request(**args)
            again = await gw.service.request(**args)  # a repeated request is the same task
            assert first.state == "submitted" and again.accepted_at == first.accepted_at
            with pytest.raises(TransportRefused, match="'NOWHERE' is not a station"):
                await gw.service.request(**{**args, "task_id": "T-X", "to_location": "NOWHERE"})
            await until(lambda: state(gw, "T-1") == "done", 60, "T-1 done")
            (move,) = ops(gw.ctx, OpKind.MOVE)
            assert isinstance(move.payload, MovePayload) and move.payload.task_id == "T-1"
            assert gw.ctx.journal.book_qty("SKU-1", "SLOT-05") == 5
            row = gw.service.get("T-1")
            assert row is not None and row.vehicle == "AGV-001" and row.pick_action and row.drop_action
            assert gw.service.get("T-X") is None  # refused: never recorded
            floor_task = gw.ctx.floor.task("T-1")  # the transport in the floor's task list, by the fleet
            assert floor_task is not None and floor_task.task.assignee == "fleet"
            assert floor_task.task.state.value == "done" and floor_task.task.task_kind.value == "transport"
            steps = [o.payload.transition for o in ops(gw.ctx, OpKind.TASK)]  # type: ignore[union-attr]
            assert steps == ["create", "assign", "start", "done"]
    finally:
        await agvs.close()


async def test_restart_before_the_pick_resubmits_and_moves_once(tmp_path: Path, broker: Broker) -> None:
    clock, cfg = ScaledClock(SCALE), site(tmp_path)
    agvs = Floorside(clock, broker)
    try:
        async with gateway(cfg, clock, broker) as gw:
            agvs.add("AGV-001", "PARK-01")
            await stock_at(gw.ctx, "SLOT-20", 3)
            await gw.service.request(
                task_id="T-2", source="cloud", ref="cmd-2", sku="SKU-1", qty=3,
                from_location="SLOT-20", to_location="PICK-01", handling_unit="HU-2",
            )  # fmt: skip
            await until(lambda: state(gw, "T-2") == "assigned", 30, "T-2 assigned")
        # the gateway is down while the AGV drives to the pick; it comes back
        async with gateway(cfg, clock, broker) as gw:
            await until(gw.service.resumed.is_set, 30, "the resume")
            row = gw.service.get("T-2")
            assert row is not None and "resumed after a restart (was assigned, nothing moved)" in row.reason
            await until(lambda: state(gw, "T-2") == "done", 90, "T-2 done after the restart")
            moves = [o for o in ops(gw.ctx, OpKind.MOVE) if o.payload.task_id == "T-2"]  # type: ignore[union-attr]
            assert len(moves) == 1
            assert gw.ctx.journal.book_qty("SKU-1", "PICK-01") == 3
    finally:
        await agvs.close()


async def test_restart_with_the_load_aboard_fails_it_explicitly(tmp_path: Path, broker: Broker) -> None:
    clock, cfg = ScaledClock(SCALE), site(tmp_path)
    agvs = Floorside(clock, broker)
    try:
        async with gateway(cfg, clock, broker) as gw:
            agvs.add("AGV-001", "PARK-01")
            await stock_at(gw.ctx, "DOCK-01", 2)
            await gw.service.request(
                task_id="T-3", source="rule", ref="r-3", sku="SKU-1", qty=2,
                from_location="DOCK-01", to_location="SLOT-19", handling_unit="HU-3",
            )  # fmt: skip
            await until(lambda: state(gw, "T-3") == "picked", 60, "T-3 picked")
        async with gateway(cfg, clock, broker) as gw:
            await until(lambda: state(gw, "T-3") == "failed", 40, "T-3 failed after the restart")
            (stranded,) = ops(gw.ctx, OpKind.EXCEPTION)
            assert isinstance(stranded.payload, ExceptionPayload)
            assert stranded.payload.code == "agv_load_stranded" and stranded.payload.ref == "HU-3"
            assert "aboard AGV-001 after the gateway restarted" in stranded.payload.detail
            assert ops(gw.ctx, OpKind.MOVE) == []  # never sent again: no second move of the load
            assert gw.master.control.tasks == {}
            floor_task = gw.ctx.floor.task("T-3")
            assert floor_task is not None and floor_task.task.state.value == "failed"
            assert "aboard AGV-001" in (floor_task.task.reason or "")
        async with gateway(cfg, clock, broker) as gw:  # and again: it stays failed, one op
            await until(gw.service.resumed.is_set, 30, "the resume")
            assert len(ops(gw.ctx, OpKind.EXCEPTION)) == 1
    finally:
        await agvs.close()


async def test_a_delivery_whose_move_was_not_journaled_before_a_crash_is_done_from_the_agv_report(
    tmp_path: Path, broker: Broker
) -> None:
    """The AGV dropped the load, and the gateway died before the master's move op reached the journal."""
    clock, cfg = ScaledClock(SCALE), site(tmp_path)
    agvs = Floorside(clock, broker)
    lost: list[OpDraft] = []
    try:
        async with gateway(cfg, clock, broker, withhold=lost) as gw:
            agvs.add("AGV-001", "PARK-10")
            await stock_at(gw.ctx, "PICK-01", 4)
            await gw.service.request(
                task_id="T-4", source="putaway", ref="p-4", sku="SKU-1", qty=4,
                from_location="PICK-01", to_location="SLOT-01", handling_unit="HU-4",
            )  # fmt: skip

            await until(lambda: bool(lost), 60, "the drop, and the move op the crash will lose")
            await asyncio.sleep(1.5)  # syncs go by: the row does not end without its op
            assert state(gw, "T-4") == "picked" and ops(gw.ctx, OpKind.MOVE) == []
        async with gateway(cfg, clock, broker) as gw:
            await until(lambda: state(gw, "T-4") == "done", 40, "T-4 done from the report")
            (move,) = ops(gw.ctx, OpKind.MOVE)
            assert move.payload.task_id == "T-4" and move.device_id == "AGV-001"  # type: ignore[union-attr]
            assert gw.ctx.journal.book_qty("SKU-1", "SLOT-01") == 4
    finally:
        await agvs.close()


def test_a_route_the_layout_cannot_give_fails_the_task_with_an_op() -> None:
    """FleetControl's routing failure leaves an exception op (it left none before)."""
    graph = LayoutGraph(LAYOUT)
    drop = graph.stations["SLOT-02"].node
    for arcs in graph.out.values():  # every way into the drop station blocked
        arcs[:] = [a for a in arcs if a.end != drop]
    control = FleetControl(
        FleetConfig(layout=LAYOUT, traffic="reservations"), graph, lambda: 0.0, lambda: datetime(2026, 1, 1, tzinfo=UTC)
    )
    park = graph.stations["PARK-01"].node
    control.on_state(vda.VehicleId("acme", "AGV-9"), idle_at(park))
    task = TransportTask("T-5", "HU-5", "SKU-1", 1, "DOCK-01", "SLOT-02")
    control.submit(task)
    assert task.status.value == "failed"
    ((serial, draft),) = [(s, d) for s, d in control.ops if isinstance(d.payload, ExceptionPayload)]
    assert serial == "AGV-9" and isinstance(draft.payload, ExceptionPayload)
    assert draft.payload.code == "agv_task_failed" and draft.payload.ref == "HU-5"
    assert draft.payload.detail.startswith("task T-5: no route from")


def idle_at(node: str) -> vda.StateIn:
    """An idle, charged AGV standing on ``node``."""
    return vda.StateIn.model_validate(
        {
            "headerId": 1, "serialNumber": "AGV-9", "orderId": "", "orderUpdateId": 0, "lastNodeId": node,
            "lastNodeSequenceId": 0, "nodeStates": [], "edgeStates": [], "driving": False, "actionStates": [],
            "batteryState": {"batteryCharge": 100.0, "charging": False}, "errors": [],
        }
    )  # fmt: skip


async def test_the_gateway_wires_the_record_the_master_and_the_cloud_command(tmp_path: Path, broker: Broker) -> None:
    """A site with [fleet]: the daemon's transport part, fed by a cloud transport_task command."""
    from edge.daemon import Gateway
    from edge.uplink.commands import apply_command

    data = site(tmp_path).model_dump(mode="json", exclude_none=True)
    data["fleet"] = {
        "broker_host": broker.host,
        "broker_port": broker.port,
        "layout": LAYOUT.model_dump(mode="json"),
    }
    cfg = parse_config(data)
    clock = ScaledClock(SCALE)
    agvs = Floorside(clock, broker)
    stop = asyncio.Event()
    try:
        async with Gateway(cfg, clock=clock, serve_api=False) as gw:
            assert gw.ctx is not None and gw.ctx.transport is gw.transport and gw.transport is not None
            run = asyncio.create_task(gw.run(stop))
            agvs.add("AGV-001", "PARK-01")
            await stock_at(gw.ctx, "DOCK-03", 6)
            body = {"task_id": "TC-9", "handling_unit": "HU-9", "sku": "SKU-1", "qty": 6,
                    "from_location": "DOCK-03", "to_location": "SLOT-08"}  # fmt: skip
            command = {"command_id": "c-9", "cursor": 9, "type": "transport_task", "body": body}
            assert (await apply_command(gw.journal, command, gw.ctx))[0] == "applied"
            transport = gw.transport
            await until(lambda: (r := transport.get("TC-9")) is not None and r.state == "done", 60, "TC-9 done")
            assert gw.journal.book_qty("SKU-1", "SLOT-08") == 6
            stop.set()
            await run
    finally:
        await agvs.close()
