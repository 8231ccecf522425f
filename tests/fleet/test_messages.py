"""Messages both ways against the official VDA 5050 2.1.0 schemas, and the order update rules."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from jsonschema import Draft202012Validator

from edge.fleet import vda
from edge.fleet.examples import loop_layout
from edge.fleet.layout import LayoutGraph
from edge.fleet.orders import OrderPlan, RouteError, steps_for
from firmware_sim.agv import factsheet
from tests.fleet.conftest import validators

V = vda.VehicleId("ACME", "AGV-001")
NOW = datetime(2026, 1, 1, tzinfo=UTC)


@pytest.fixture(scope="module")
def schemas() -> dict[str, Draft202012Validator]:
    return validators()


def full(name: str, body: dict[str, object], ids: vda.HeaderIds) -> dict[str, object]:
    return {**vda.header(ids, vda.topic("uagv", V, name), V, NOW), **body}


def test_order_and_updates_validate_and_stitch(schemas: dict[str, Draft202012Validator]) -> None:
    g = LayoutGraph(loop_layout())
    src, dst = g.stations["DOCK-01"].node, g.stations["SLOT-05"].node
    pick, drop = vda.pick("HU1"), vda.drop("HU1")
    plan = OrderPlan(g, "o-1", steps_for(g, "L0", [(src, [pick]), (dst, [drop])]))
    ids = vda.HeaderIds()
    first = plan.message()
    assert [n["sequenceId"] for n in first["nodes"]][:3] == [0, 2, 4]
    assert [e["sequenceId"] for e in first["edges"]][:2] == [1, 3]
    assert first["nodes"][0]["released"] and not first["nodes"][1]["released"]
    assert not any(n["actions"] for n in first["nodes"][1:])  # horizon nodes carry no actions yet
    schemas["order"].validate(full("order", first, ids))
    for _ in range(3):
        plan.release_next()
    update = plan.message()
    assert update["orderUpdateId"] == 1 and update["nodes"][0]["sequenceId"] == 0  # stitches at the old base end
    assert [n["released"] for n in update["nodes"][:5]] == [True, True, True, True, False]
    nxt = plan.message()
    assert nxt["nodes"][0]["sequenceId"] == 6  # the next update starts where this base ends
    schemas["order"].validate(full("order", nxt, ids))
    assert ids.next("x") == 0 and vda.header(ids, "uagv/v2/ACME/AGV-001/order", V, NOW)["headerId"] == 2


def test_route_errors_and_detours_keep_the_stop() -> None:
    g = LayoutGraph(loop_layout())
    with pytest.raises(RouteError):
        steps_for(g, "L0", [("nowhere", [])])
    plan = OrderPlan(g, "o-2", steps_for(g, "L0", [("L3", [vda.drop("HU")])]))
    with pytest.raises(RouteError):
        plan.replace_tail(["L0", "L2"])
    here = steps_for(g, "L3", [("L3", [vda.pick("HU")])])
    assert len(here) == 1 and here[0].actions[0]["actionType"] == "pick"  # already there: act on the spot


def test_instant_actions_connection_and_factsheet_validate(schemas: dict[str, Draft202012Validator]) -> None:
    ids = vda.HeaderIds()
    acts = [
        vda.pick("HU1"),
        vda.drop("HU1"),
        vda.start_pause(),
        vda.stop_pause(),
        vda.cancel_order(),
        vda.start_charging(),
        vda.stop_charging(),
        vda.factsheet_request(),
    ]
    schemas["instantActions"].validate(full("instantActions", {"actions": acts}, ids))
    for state in ("ONLINE", "OFFLINE", "CONNECTIONBROKEN"):
        schemas["connection"].validate(full("connection", {"connectionState": state}, ids))
    schemas["factsheet"].validate(full("factsheet", factsheet(2.0), ids))
    bad = full("instantActions", {"actions": [{"actionId": "1", "actionType": "pick", "blockingType": "MAYBE"}]}, ids)
    assert not schemas["instantActions"].is_valid(bad)


def test_paused_action_status_is_accepted_in_but_the_schema_rejects_it(
    schemas: dict[str, Draft202012Validator],
) -> None:
    """The spec/schema mismatch: we accept PAUSED from other vendors and never send it ourselves."""
    state = {
        "headerId": 1,
        "timestamp": vda.iso(NOW),
        "version": "2.1.0",
        "manufacturer": "ACME",
        "serialNumber": "AGV-001",
        "orderId": "o",
        "orderUpdateId": 0,
        "lastNodeId": "L0",
        "lastNodeSequenceId": 0,
        "nodeStates": [],
        "edgeStates": [],
        "driving": False,
        "paused": True,
        "actionStates": [{"actionId": "a1", "actionType": "pick", "actionStatus": "PAUSED"}],
        "batteryState": {"batteryCharge": 80.0, "charging": False},
        "operatingMode": "AUTOMATIC",
        "errors": [],
        "safetyState": {"eStop": "NONE", "fieldViolation": False},
    }
    assert not schemas["state"].is_valid(state)
    parsed = vda.StateIn.model_validate(state)
    assert parsed.action_status("a1") == "PAUSED" and parsed.paused
    state["actionStates"][0]["actionStatus"] = "RUNNING"  # type: ignore[index]
    schemas["state"].validate(state)


def test_bad_inbound_is_refused_not_raised() -> None:
    from edge.fleet.master import FleetMaster
    from firmware_sim.agv import ScaledClock
    from tests.fleet.conftest import Broker, fleet_config

    async def record(_: object) -> None:
        return None

    m = FleetMaster(fleet_config(Broker("127.0.0.1", 1), loop_layout()), clock=ScaledClock(1), record=record)
    m.handle("uagv/v2/ACME/AGV-001/state", b"{not json")
    m.handle("uagv/v2/ACME/AGV-001/state", json.dumps({"headerId": 1}).encode())
    m.handle(
        "uagv/v2/ACME/AGV-001/connection", json.dumps({"serialNumber": "AGV-001", "connectionState": "MAYBE"}).encode()
    )
    m.handle("not/a/vda/topic", b"{}")
    assert m.rejected == 3 and m.control.vehicles == {}
    assert vda.parse_topic("uagv/v2/ACME/AGV-001/state") == (V, "state")
