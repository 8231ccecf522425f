"""One simulated AGV's behaviour: orders, driving, actions, battery and faults, with no MQTT in it.

Written from the VDA 5050 2.1.0 text, independently of the master in ``edge/fleet`` (plain dicts, no
shared models), so a bug in our master's reading of the spec cannot hide behind the same bug here.
The vehicle drives only on released nodes, stops at the end of its base, runs node actions there
(HARD blocking: no driving meanwhile), drains its battery with distance and time and charges on
``startCharging``. ``emit`` is called on every event; the link turns that into a state message.

PAUSED: while paused the vehicle reports ``paused: true`` and keeps its running actions RUNNING; the
2.1.0 state schema has no PAUSED actionStatus (the spec text does), and we never send a message the
official schema rejects.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
from collections.abc import Callable
from typing import Any, Protocol

from firmware_sim.agv.floor import Floor


class SimClock(Protocol):
    def monotonic(self) -> float: ...

    async def sleep(self, seconds: float) -> None: ...


INSTANT = {
    "startPause",
    "stopPause",
    "cancelOrder",
    "pick",
    "drop",
    "startCharging",
    "stopCharging",
    "factsheetRequest",
    "stateRequest",
}


class AgvSim:
    def __init__(
        self,
        *,
        serial: str,
        node: str,
        x: float,
        y: float,
        clock: SimClock,
        map_id: str = "floor-1",
        speed_max: float = 2.0,
        battery: float = 100.0,
        drain_per_m: float = 0.05,
        drain_per_s: float = 0.005,
        charge_per_s: float = 0.5,
        action_seconds: float = 4.0,
        floor: Floor | None = None,
    ) -> None:
        self.serial, self.clock, self.map_id = serial, clock, map_id
        self.speed_max, self.drain_per_m, self.drain_per_s = speed_max, drain_per_m, drain_per_s
        self.charge_per_s, self.action_seconds, self.floor = charge_per_s, action_seconds, floor
        self.order_id, self.order_update_id = "", 0
        self.last_node, self.last_seq = node, 0
        self.x, self.y, self.theta = x, y, 0.0
        self.nodes: list[dict[str, Any]] = []
        self.edges: list[dict[str, Any]] = []
        self.actions: dict[str, dict[str, Any]] = {}
        self.instant_queue: list[dict[str, Any]] = []
        self.driving = self.paused = self.charging = self.halted = False
        self.cancelling = False
        self.battery = battery
        self.loads: list[dict[str, Any]] = []
        self.errors: list[dict[str, Any]] = []
        self.emit: Callable[[], None] = lambda: None
        self.on_factsheet_request: Callable[[], None] = lambda: None
        self._wake = asyncio.Event()
        self._settled = clock.monotonic()
        self._edge: dict[str, Any] | None = None
        self._progress = 0.0
        self._drive_t0 = 0.0
        self._pending_here: list[dict[str, Any]] = []
        self._cancel_action: dict[str, Any] = {}
        self._occupy(frozenset({node}))

    # ---- inputs -------------------------------------------------------------------------------

    def on_order(self, msg: dict[str, Any]) -> None:
        nodes, edges = msg.get("nodes") or [], msg.get("edges") or []
        if not nodes:
            return self._warn("validationError", "order without nodes")
        if msg["orderId"] == self.order_id:
            return self._update(msg)
        if self.nodes or self.cancelling:
            return self._warn("orderError", f"order {msg['orderId']} while {self.order_id} is active")
        if nodes[0]["nodeId"] != self.last_node:
            return self._warn("noRouteError", f"order starts at {nodes[0]['nodeId']}, vehicle at {self.last_node}")
        self.actions = {k: a for k, a in self.actions.items() if a["actionStatus"] not in ("FINISHED", "FAILED")}
        self.order_id, self.order_update_id = msg["orderId"], msg["orderUpdateId"]
        self.last_seq = nodes[0]["sequenceId"]
        self._add_actions(nodes)
        self.nodes, self.edges = list(nodes[1:]), list(edges)
        self._pending_here = list(nodes[0]["actions"])
        self._changed()

    def _update(self, msg: dict[str, Any]) -> None:
        if msg["orderUpdateId"] <= self.order_update_id:
            return  # a duplicate or stale update: the spec says discard
        first = msg["nodes"][0]
        base = [n for n in self.nodes if n["released"]]
        stitch = base[-1] if base else {"nodeId": self.last_node, "sequenceId": self.last_seq}
        if (first["nodeId"], first["sequenceId"]) != (stitch["nodeId"], stitch["sequenceId"]):
            return self._warn("orderUpdateError", f"update does not start at base end {stitch['nodeId']}")
        seq = first["sequenceId"]
        new_nodes = msg["nodes"] if seq != self.last_seq else msg["nodes"][1:]
        self._add_actions(n for n in msg["nodes"] if n["sequenceId"] != seq)
        self.nodes = [n for n in self.nodes if n["sequenceId"] < seq] + list(new_nodes)
        self.edges = [e for e in self.edges if e["sequenceId"] < seq] + list(msg["edges"])
        self.order_update_id = msg["orderUpdateId"]
        self._changed()

    def on_instant_actions(self, msg: dict[str, Any]) -> None:
        """Modes (pause, charging, cancel, requests) switch at once; pick and drop queue up as work."""
        for act in msg.get("actions") or []:
            state = self.actions[act["actionId"]] = self._action_state(act)
            if act["actionType"] in ("pick", "drop"):
                self.instant_queue.append(act)
            else:
                self._immediate(act, state)
        self._changed()

    def _immediate(self, act: dict[str, Any], state: dict[str, Any]) -> None:
        kind = act["actionType"]
        if kind not in INSTANT:
            return self._result(state, "FAILED", f"unknown instant action {kind}")
        if kind == "cancelOrder":
            if not self.nodes and not self._pending_here and not self.driving and self._edge is None:
                return self._result(state, "FAILED", "no order to cancel")
            self.cancelling = True
            self._cancel_action = state
            return self._result(state, "RUNNING")
        if kind in ("startPause", "stopPause"):
            self.paused = kind == "startPause"
        elif kind in ("startCharging", "stopCharging"):
            self._settle()
            self.charging = kind == "startCharging"
        elif kind == "factsheetRequest":
            self.on_factsheet_request()
        self._result(state, "FINISHED")

    # ---- faults on command --------------------------------------------------------------------

    def inject_error(self, error_type: str = "obstacle", level: str = "FATAL", description: str = "") -> None:
        self._settle()
        self.errors.append(
            {
                "errorType": error_type,
                "errorLevel": level,
                "errorDescription": description or f"{error_type} (injected)",
            }
        )
        self._changed()

    def set_halted(self, halted: bool) -> None:
        """No link to the master: stand still (and resume when it is back)."""
        self.halted = halted
        self._wake.set()

    def clear_errors(self) -> None:
        self.errors.clear()
        self._changed()

    # ---- state --------------------------------------------------------------------------------

    def state_body(self) -> dict[str, Any]:
        self._settle()
        x, y = self.position()
        return {
            "orderId": self.order_id,
            "orderUpdateId": self.order_update_id,
            "lastNodeId": self.last_node,
            "lastNodeSequenceId": self.last_seq,
            "nodeStates": [
                {"nodeId": n["nodeId"], "sequenceId": n["sequenceId"], "released": n["released"]} for n in self.nodes
            ],
            "edgeStates": [
                {"edgeId": e["edgeId"], "sequenceId": e["sequenceId"], "released": e["released"]} for e in self.edges
            ],
            "driving": self.driving,
            "paused": self.paused,
            "newBaseRequest": False,
            "distanceSinceLastNode": round(self._progress, 3),
            "agvPosition": {"x": x, "y": y, "theta": self.theta, "mapId": self.map_id, "positionInitialized": True},
            "velocity": {"vx": self._speed() if self.driving else 0.0, "vy": 0.0, "omega": 0.0},
            "loads": list(self.loads),
            "actionStates": list(self.actions.values()),
            "batteryState": {"batteryCharge": round(max(0.0, self.battery), 2), "charging": self.charging},
            "operatingMode": "AUTOMATIC",
            "errors": list(self.errors),
            "safetyState": {"eStop": "NONE", "fieldViolation": False},
        }

    def position(self) -> tuple[float, float]:
        edge = self._edge
        if edge is None or not self.driving:
            return self.x, self.y
        done = min(1.0, self._progress_now() / max(1e-9, edge["length"]))
        return self.x + (edge["_x"] - self.x) * done, self.y + (edge["_y"] - self.y) * done

    # ---- behaviour ----------------------------------------------------------------------------

    async def run(self) -> None:
        """Run the vehicle for ever: instant actions first, then node actions, then driving."""
        while True:
            if self.instant_queue:
                await self._instant(self.instant_queue.pop(0))
            elif self.cancelling and self._edge is None:
                self._finish_cancel()
            elif self._stopped():
                await self._wait(None)
            elif self._edge is not None:  # finish the edge under way (also when cancelling: stop on a node)
                await self._drive(self.edges[0], self.nodes[0])
            elif self._pending_here:
                await self._run_action(self._pending_here.pop(0))
            elif self.nodes and self.nodes[0]["released"] and self.edges:
                await self._drive(self.edges[0], self.nodes[0])
            else:
                await self._wait(None)

    def _stopped(self) -> bool:
        return self.paused or self.halted or any(e["errorLevel"] == "FATAL" for e in self.errors)

    async def _wait(self, seconds: float | None) -> None:
        self._wake.clear()
        if seconds is None:
            await self._wake.wait()
            return
        sleeper = asyncio.ensure_future(self.clock.sleep(seconds))
        waker = asyncio.ensure_future(self._wake.wait())
        try:
            await asyncio.wait({sleeper, waker}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for t in (sleeper, waker):
                t.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await t

    async def _drive(self, edge: dict[str, Any], node: dict[str, Any]) -> None:
        pos = node.get("nodePosition") or {"x": self.x, "y": self.y}
        edge.setdefault("length", math.hypot(pos["x"] - self.x, pos["y"] - self.y) or 0.01)
        edge["_x"], edge["_y"] = pos["x"], pos["y"]
        self._settle()
        self.charging = False
        self._edge, self.driving = edge, True
        self.theta = math.atan2(pos["y"] - self.y, pos["x"] - self.x)
        self._occupy(frozenset({self.last_node, node["nodeId"]}))
        self._drive_t0 = self.clock.monotonic()
        self.emit()
        while True:
            remaining = (edge["length"] - self._progress_now()) / self._speed()
            if remaining <= 1e-6:
                break
            await self._wait(remaining)
            if self._stopped():
                self._settle()
                self.driving = False
                self.emit()
                return  # run() resumes the same edge later from the progress made
        self._settle()
        self.driving, self._edge, self._progress = False, None, 0.0
        self.x, self.y = pos["x"], pos["y"]
        self.last_node, self.last_seq = node["nodeId"], node["sequenceId"]
        self.nodes.pop(0)
        self.edges.pop(0)
        self._occupy(frozenset({self.last_node}))
        self._pending_here = list(node.get("actions") or [])
        if self.cancelling:
            self._pending_here = []
        self.emit()

    async def _run_action(self, act: dict[str, Any]) -> None:
        state = self.actions.setdefault(act["actionId"], self._action_state(act))
        if state["actionStatus"] != "WAITING":
            return
        await self._execute(act, state)

    async def _instant(self, act: dict[str, Any]) -> None:
        await self._execute(act, self.actions[act["actionId"]])

    async def _execute(self, act: dict[str, Any], state: dict[str, Any]) -> None:
        kind = act["actionType"]
        params = {p["key"]: p["value"] for p in act.get("actionParameters") or []}
        if kind == "startCharging":  # as a node action, at the charger the order led to
            self._settle()
            self.charging = True
            return self._result(state, "FINISHED")
        if kind not in ("pick", "drop"):
            return self._result(state, "FAILED", f"unsupported action {kind}")
        if self.driving or self._edge is not None:
            return self._result(state, "FAILED", "cannot handle a load between nodes")
        self._result(state, "RUNNING")
        left = self.action_seconds
        while left > 1e-6:  # not 0: a float remainder must not spin (it would, under virtual time)
            t0 = self.clock.monotonic()
            await self._wait(left)
            if not self.paused:  # a paused action stays RUNNING (see module docstring) and resumes
                left -= self.clock.monotonic() - t0
            if self.cancelling or any(e["errorLevel"] == "FATAL" for e in self.errors):
                return self._result(state, "FAILED", "cancelled" if self.cancelling else "error")
        load = str(params.get("loadId", "load"))
        if kind == "pick":
            self.loads = [{"loadId": load, "loadType": "EPAL"}]
        else:
            self.loads = []
        self._result(state, "FINISHED")

    def _finish_cancel(self) -> None:
        for state in self.actions.values():
            if state["actionStatus"] in ("WAITING", "INITIALIZING", "RUNNING") and state is not self._cancel_action:
                state["actionStatus"] = "FAILED"
                state["resultDescription"] = "order cancelled"
        self.nodes, self.edges, self._pending_here = [], [], []
        self.cancelling = False
        self._result(self._cancel_action, "FINISHED")

    # ---- helpers ------------------------------------------------------------------------------

    def _speed(self) -> float:
        limit = float(self._edge.get("maxSpeed") or self.speed_max) if self._edge else self.speed_max
        return max(0.01, min(self.speed_max, limit))

    def _progress_now(self) -> float:
        if not self.driving:
            return self._progress
        return self._progress + (self.clock.monotonic() - self._drive_t0) * self._speed()

    def _settle(self) -> None:
        """Bring battery and progress up to now; called before any change of mode."""
        now = self.clock.monotonic()
        dt = now - self._settled
        self._settled = now
        if self.driving:
            moved = self._progress_now() - self._progress
            self._progress += moved
            self._drive_t0 = now
            self.battery -= moved * self.drain_per_m
        self.battery += self.charge_per_s * dt if self.charging else -self.drain_per_s * dt
        self.battery = min(100.0, self.battery)
        if self.battery <= 0 and not any(e["errorType"] == "batteryEmpty" for e in self.errors):
            self.errors.append(
                {"errorType": "batteryEmpty", "errorLevel": "FATAL", "errorDescription": "battery empty"}
            )

    def _occupy(self, nodes: frozenset[str]) -> None:
        if self.floor is not None:
            self.floor.occupy(self.serial, nodes, self.clock.monotonic())

    def _add_actions(self, nodes: Any) -> None:
        for n in nodes:
            for act in n.get("actions") or []:
                self.actions.setdefault(act["actionId"], self._action_state(act))

    @staticmethod
    def _action_state(act: dict[str, Any]) -> dict[str, Any]:
        return {"actionId": act["actionId"], "actionType": act["actionType"], "actionStatus": "WAITING"}

    def _result(self, state: dict[str, Any], status: str, description: str = "") -> None:
        state["actionStatus"] = status
        if description:
            state["resultDescription"] = description
        self._changed()

    def _warn(self, error_type: str, description: str) -> None:
        self.errors = [e for e in self.errors if e["errorLevel"] == "FATAL"]
        self.errors.append({"errorType": error_type, "errorLevel": "WARNING", "errorDescription": description})
        self._changed()

    def _changed(self) -> None:
        self._wake.set()
        self.emit()
