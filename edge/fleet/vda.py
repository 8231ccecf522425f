"""VDA 5050 2.1.0 on the master's side: topics, headers, instant actions, and lenient inbound models.

Outbound messages are plain dicts built here in one place so that every one carries the header the
schema requires (headerId counted per topic, UTC timestamp, version). Inbound messages are parsed into
small pydantic models holding only what the master acts on, ignoring extra fields, so a vehicle from
another vendor that sends more (or a newer minor version) still works, and a malformed message is
refused with a ``ValidationError`` the master logs instead of a crash.

PAUSED: the spec (6.11) lists actionStatus PAUSED, the 2.1.0 state schema does not. We accept it on
input (a spec-conformant vehicle may send it; we treat it as still running) and never produce it: our
simulator keeps a paused action RUNNING and reports the pause through ``state.paused``.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

VERSION = "2.1.0"
MAJOR = "v2"
ActionStatus = Literal["WAITING", "INITIALIZING", "RUNNING", "PAUSED", "FINISHED", "FAILED"]
Blocking = Literal["NONE", "SOFT", "HARD"]


def iso(ts: datetime) -> str:
    """ISO 8601 UTC with milliseconds and a Z, the form the spec's examples use."""
    return ts.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


@dataclass
class HeaderIds:
    """headerId is +1 per message *per topic*, wrapping at uint32."""

    counters: dict[str, int] = field(default_factory=dict)

    def next(self, topic: str) -> int:
        n = self.counters.get(topic, -1) + 1
        self.counters[topic] = n % (2**32)
        return self.counters[topic]


@dataclass(frozen=True)
class VehicleId:
    manufacturer: str
    serial: str

    def __str__(self) -> str:
        return f"{self.manufacturer}/{self.serial}"


def topic(interface: str, vehicle: VehicleId, name: str) -> str:
    return f"{interface}/{MAJOR}/{vehicle.manufacturer}/{vehicle.serial}/{name}"


def parse_topic(value: str) -> tuple[VehicleId, str] | None:
    """``uagv/v2/ACME/AGV-1/state`` -> (vehicle, "state"); None for anything else."""
    parts = value.split("/")
    if len(parts) != 5 or parts[1] != MAJOR:
        return None
    return VehicleId(parts[2], parts[3]), parts[4]


def header(ids: HeaderIds, topic_name: str, vehicle: VehicleId, now: datetime) -> dict[str, Any]:
    return {
        "headerId": ids.next(topic_name),
        "timestamp": iso(now),
        "version": VERSION,
        "manufacturer": vehicle.manufacturer,
        "serialNumber": vehicle.serial,
    }


def action(action_type: str, *, blocking: Blocking = "HARD", **params: str | float) -> dict[str, Any]:
    """One action with a fresh actionId; ``params`` become actionParameters."""
    out: dict[str, Any] = {"actionId": uuid.uuid4().hex, "actionType": action_type, "blockingType": blocking}
    if params:
        out["actionParameters"] = [{"key": k, "value": v} for k, v in params.items()]
    return out


def pick(load_id: str) -> dict[str, Any]:
    return action("pick", loadId=load_id)


def drop(load_id: str) -> dict[str, Any]:
    return action("drop", loadId=load_id)


def start_pause() -> dict[str, Any]:
    return action("startPause", blocking="HARD")


def stop_pause() -> dict[str, Any]:
    return action("stopPause", blocking="HARD")


def cancel_order() -> dict[str, Any]:
    return action("cancelOrder", blocking="NONE")


def start_charging() -> dict[str, Any]:
    return action("startCharging", blocking="HARD")


def stop_charging() -> dict[str, Any]:
    return action("stopCharging", blocking="HARD")


def factsheet_request() -> dict[str, Any]:
    return action("factsheetRequest", blocking="NONE")


# ---- inbound ------------------------------------------------------------------------------------


class _In(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class ActionStateIn(_In):
    actionId: str
    actionType: str | None = None
    actionStatus: ActionStatus
    resultDescription: str | None = None


class ErrorIn(_In):
    errorType: str
    errorLevel: Literal["WARNING", "FATAL"]
    errorDescription: str = ""


class BatteryIn(_In):
    batteryCharge: float
    charging: bool


class NodeStateIn(_In):
    nodeId: str
    sequenceId: int
    released: bool


class StateIn(_In):
    """The parts of a state message the master acts on."""

    headerId: int
    serialNumber: str
    orderId: str
    orderUpdateId: int
    lastNodeId: str
    lastNodeSequenceId: int
    nodeStates: list[NodeStateIn]
    edgeStates: list[dict[str, Any]]
    driving: bool
    paused: bool = False
    actionStates: list[ActionStateIn]
    batteryState: BatteryIn
    errors: list[ErrorIn]
    loads: list[dict[str, Any]] = Field(default_factory=list)

    @property
    def fatal(self) -> list[ErrorIn]:
        if not self.errors:  # nearly always: asked of every vehicle on every dispatch
            return []
        return [e for e in self.errors if e.errorLevel == "FATAL"]

    def action_status(self, action_id: str) -> ActionStatus | None:
        for a in self.actionStates:
            if a.actionId == action_id:
                return a.actionStatus
        return None


class ConnectionIn(_In):
    serialNumber: str
    connectionState: Literal["ONLINE", "OFFLINE", "CONNECTIONBROKEN"]


class FactsheetIn(_In):
    serialNumber: str
    physicalParameters: dict[str, Any]

    @property
    def speed_max(self) -> float:
        return float(self.physicalParameters.get("speedMax", 1.0))
