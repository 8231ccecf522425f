"""Master control logic: vehicles, tasks, order release and dispatch, with no I/O in it.

Every input (state, connection, factsheet, a new task, a tick) is handled synchronously and leaves its
outputs in ``outbox`` (messages to publish) and ``ops`` (drafts to journal), which the MQTT side
(``edge.fleet.master``) drains. No await happens in the middle of a decision, so two inputs can never
interleave on half-updated reservations, and the logic runs the same under a test without a broker.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from edge.fleet import vda
from edge.fleet.assign import choose, nearest_free
from edge.fleet.config import FleetConfig
from edge.fleet.layout import LayoutGraph
from edge.fleet.orders import OrderPlan, RouteError, Step, steps_for
from edge.fleet.planner import Priority, Stop, TimedPlanner
from edge.fleet.tasks import TaskStatus, TransportTask
from edge.fleet.traffic import Reservations, break_cycle
from sync.ops import ExceptionPayload, OpDraft

_DONE = ("FINISHED", "FAILED")


@dataclass
class Vehicle:
    vid: vda.VehicleId
    online: bool = False
    state: vda.StateIn | None = None
    speed_max: float = 1.0
    plan: OrderPlan | None = None
    purpose: str = ""
    task: TransportTask | None = None
    target: str | None = None
    cancel_sent_for: str | None = None
    removed: bool = False
    position: tuple[float, float] | None = None
    since: float = 0.0
    """When its current order started (the planner's priority among non-task trips)."""
    idle_since: float = 0.0
    """When its last order ended: it is parked only after ``park_after_seconds`` idle."""

    @property
    def key(self) -> str:
        return self.vid.serial

    @property
    def node(self) -> str | None:
        return self.state.lastNodeId if self.state else None

    @property
    def battery(self) -> float:
        return self.state.batteryState.batteryCharge if self.state else 0.0

    @property
    def charging(self) -> bool:
        return bool(self.state and self.state.batteryState.charging)


@dataclass
class Outgoing:
    vehicle: vda.VehicleId
    topic: str
    body: dict[str, Any]
    task: TransportTask | None = None


@dataclass
class FleetControl:
    config: FleetConfig
    graph: LayoutGraph
    now: Callable[[], float]
    """Simulated monotonic seconds (the injected clock)."""
    wall: Callable[[], datetime]
    """Wall time for ops' occurred_at: the master's clock, not the vehicles'."""
    vehicles: dict[str, Vehicle] = field(default_factory=dict)
    tasks: dict[str, TransportTask] = field(default_factory=dict)
    queue: deque[TransportTask] = field(default_factory=deque)
    res: Reservations = field(default_factory=Reservations)
    outbox: list[Outgoing] = field(default_factory=list)
    ops: list[tuple[str, OpDraft]] = field(default_factory=list)
    stats: dict[str, int] = field(
        default_factory=lambda: dict.fromkeys(
            ("orders", "updates", "detours", "redispatched", "failed", "done", "cancels", "charges", "replans"), 0
        )
    )
    planner: TimedPlanner | None = None
    """The timed planner (``traffic = "timed"``); None runs the reservation scheme alone."""
    _orders: int = 0
    _last_cycle: frozenset[str] = frozenset()
    _spots: dict[str, set[str]] = field(default_factory=dict)
    _working_cap: int = 0
    """Vehicles on a task at most (``nodes_per_working_agv``); more tasks wait in the queue."""

    def __post_init__(self) -> None:
        self._spots = {k: {s.node for s in self.graph.stations_of(k)} for k in ("park", "charger")}
        per = self.config.nodes_per_working_agv
        self._working_cap = max(10, len(self.graph.nodes) // per) if per else len(self.graph.nodes)
        if self.config.traffic == "timed":
            self.planner = TimedPlanner(self.graph, self.config, self.now)
            self.res.promise_to_first_waiter = False  # the plan's order of entry decides instead

    # ---- inputs ---------------------------------------------------------------------------------

    def submit(self, task: TransportTask) -> None:
        """Queue a task and dispatch at once; the stations must be on the layout."""
        for loc in (task.from_location, task.to_location):
            if loc not in self.graph.stations:
                raise ValueError(f"task {task.task_id}: {loc!r} is not a station on the layout")
        task.created_at, task.created_perf = self.now(), time.perf_counter()  # perf: latency metric only
        task.note(self.now(), "created")
        self.tasks[task.task_id] = task
        self.queue.append(task)
        self.dispatch()

    def on_connection(self, vid: vda.VehicleId, msg: vda.ConnectionIn) -> None:
        v = self._vehicle(vid)
        v.online = msg.connectionState == "ONLINE"
        if not v.online:
            self._abandon(v, f"connection {msg.connectionState}")
        self.dispatch()

    def on_factsheet(self, vid: vda.VehicleId, msg: vda.FactsheetIn) -> None:
        self._vehicle(vid).speed_max = msg.speed_max
        if self.planner is not None:
            self.planner.speed[vid.serial] = msg.speed_max

    def on_visualization(self, vid: vda.VehicleId, x: float, y: float) -> None:
        self._vehicle(vid).position = (x, y)

    def on_state(self, vid: vda.VehicleId, st: vda.StateIn) -> None:
        v = self._vehicle(vid)
        v.state, v.online = st, True
        if v.removed:
            return
        plan = v.plan
        if st.fatal:
            if plan is not None or v.task is not None:
                self._abandon(v, "fatal error: " + ",".join(e.errorType for e in st.fatal))
            self._hold_where_it_is(v, st)
        elif plan is not None and st.orderId == plan.order_id:
            self._progress(v, plan, st)
        elif plan is not None and not st.nodeStates and not st.driving:
            pass  # sent before our order reached it: the plan's reservations stand
        elif st.nodeStates or st.driving:
            # an order we no longer run (abandoned, or from before a restart): stop it, once
            if v.cancel_sent_for != st.orderId:
                v.cancel_sent_for = st.orderId
                self._send(v, "instantActions", {"actions": [vda.cancel_order()]})
                self.stats["cancels"] += 1
            self._hold_where_it_is(v, st)
        else:
            self.res.keep_only(v.key, [st.lastNodeId])
            self._stand(v)
        self._retry_waiting()
        if self._wants_dispatch(v):  # only an idle vehicle's state can change what dispatch decides; ticks do the rest
            self.dispatch()

    def tick(self) -> None:
        for _ in self.tick_steps():
            pass

    def tick_steps(self) -> Iterator[None]:
        """The tick, one re-plan at a time: it yields after each, a consistent point between two decisions.

        A tick re-plans up to ``replans_per_tick`` vehicles (a few ms of search each), tens of ms in all
        with a hundred vehicles on the move; run in one go, it held up every new task's order that came
        in meanwhile by all of that. The master lets new orders out between two re-plans instead. Each
        re-plan checks the vehicle's plan and state afresh, so one that finished or was abandoned in
        between is left alone."""
        if self.planner is not None:
            yield from self._replan_due()
        self._retry_waiting(resolve=True)
        self.dispatch()

    # ---- operator commands ----------------------------------------------------------------------

    def pause(self, serial: str) -> None:
        self._send(self.vehicles[serial], "instantActions", {"actions": [vda.start_pause()]})

    def resume(self, serial: str) -> None:
        self._send(self.vehicles[serial], "instantActions", {"actions": [vda.stop_pause()]})

    def remove_vehicle(self, serial: str) -> None:
        """An operator took the vehicle off the floor: its nodes are free and it gets no more work."""
        v = self.vehicles[serial]
        self._abandon(v, "removed from the floor")
        v.removed = True
        self.res.remove(serial)
        if self.planner is not None:
            self.planner.forget(serial)
        self._retry_waiting()
        self.dispatch()

    def restore_vehicle(self, serial: str) -> None:
        self.vehicles[serial].removed = False

    # ---- order progress -------------------------------------------------------------------------

    def _progress(self, v: Vehicle, plan: OrderPlan, st: vda.StateIn) -> None:
        at = min(st.lastNodeSequenceId // 2, plan.last_index)
        self.res.keep_only(v.key, [s.node for s in plan.steps[at : plan.released + 1]])
        if self.planner is not None:
            if st.paused:  # stopped by an operator: an obstacle until it goes on, then planned afresh
                self._stand(v)
            else:
                self.planner.passed(v.key, at)
        task = v.task
        if task is not None:
            pick, drop = st.action_status(task.pick_action), st.action_status(task.drop_action)
            if "FAILED" in (pick, drop):
                self._abandon(v, f"{'pick' if pick == 'FAILED' else 'drop'} failed")
                return
            if pick == "FINISHED" and task.status == TaskStatus.ASSIGNED:
                task.status = TaskStatus.PICKED
                task.note(self.now(), f"picked by {v.key}")
            if drop == "FINISHED" and task.status == TaskStatus.PICKED:
                task.status, task.done_at, v.task = TaskStatus.DONE, self.now(), None
                task.note(self.now(), f"dropped by {v.key}")
                self.stats["done"] += 1
                self.ops.append((v.key, task.move_op(v.key, self.wall())))
        if (
            at >= plan.last_index
            and not st.nodeStates
            and all(st.action_status(a["actionId"]) in _DONE for s in plan.steps for a in s.actions)
        ):
            v.plan, v.purpose, v.idle_since = None, "", self.now()
            self.res.keep_only(v.key, [st.lastNodeId])
            self.res.clear_wait(v.key)
            self._stand(v)
            return
        self._extend(v)

    def _extend(self, v: Vehicle) -> None:
        """Release the next nodes the vehicle can have: up to ``release_ahead``, never past unfinished work."""
        plan, st = v.plan, v.state
        if plan is None or st is None:
            return
        at = st.lastNodeSequenceId // 2 if st.orderId == plan.order_id else 0
        while plan.released < plan.last_index and plan.released - at < self.config.release_ahead:
            r = plan.released
            acts = plan.steps[r].actions
            if acts and (
                st.orderId != plan.order_id or any(st.action_status(a["actionId"]) not in _DONE for a in acts)
            ):
                break
            nxt = plan.steps[r + 1].node
            if self._timed_blocker(v, plan, r + 1) is not None:
                self.res.wait_for(v.key, nxt)  # another is planned onto it first: keep the planned order
                break
            if not self.res.try_reserve(v.key, nxt, (plan.steps[r].node, nxt)):
                break
            if self.planner is not None:
                self.planner.taken(v.key, r + 1)
            plan.release_next()
        if plan.released == plan.last_index:
            self.res.clear_wait(v.key)
        if plan.dirty:
            first = plan.update_id < 0
            self._send(v, "order", plan.message(), v.task if first else None)
            self.stats["orders" if first else "updates"] += 1

    def _retry_waiting(self, *, resolve: bool = False) -> None:
        """Try every waiting vehicle again; then look for a cycle of waits and break it.

        With the timed planner cycles are looked for on the tick only: re-planning on every state
        could chase its own tail within one instant."""
        for key in list(self.res.waiting):
            self._extend(self.vehicles[key])
        if self.planner is not None and not resolve:
            return
        cycle = self.res.find_cycle(self._blocker if self.planner is not None else None)
        if cycle is None:
            self._last_cycle = frozenset()
            return
        seen_before, self._last_cycle = self._last_cycle == frozenset(cycle), frozenset(cycle)
        if (
            self.planner is not None
            and not seen_before
            and any(self.res.holder(self.res.waiting[k]) is None for k in cycle)
        ):
            # the planned order of entry is part of the cycle: plan its members again, most important first
            for k in cycle:
                self.planner.unplan(k)
            for k in sorted(cycle, key=lambda k: self._priority(self.vehicles[k])):
                self._replan(self.vehicles[k])
            self.stats["cycle_replans"] = self.stats.get("cycle_replans", 0) + 1
            return
        plans = {k: p for k in cycle if (p := self.vehicles[k].plan) is not None}
        if len(plans) != len(cycle):
            return
        detour = break_cycle(
            self.graph,
            cycle,
            base_end={k: p.steps[p.released].node for k, p in plans.items()},
            next_stop={k: p.steps[p.next_stop(p.released)].node for k, p in plans.items()},
            remaining={k: [s.node for s in p.steps[p.released + 1 :]] for k, p in plans.items()},
            reservations=self.res,
        )
        if detour is None:
            return
        plans[detour.vehicle].replace_tail(detour.path)
        self.res.clear_wait(detour.vehicle)
        self.stats["detours"] += 1
        if self.planner is not None:
            self.planner.unplan(detour.vehicle)  # its claims were for the old tail; planned again next tick
        self._extend(self.vehicles[detour.vehicle])

    # ---- timed planning (traffic = "timed") -----------------------------------------------------

    def _timed_blocker(self, v: Vehicle, plan: OrderPlan, step: int) -> str | None:
        """Who must go onto step ``step`` of the plan before this vehicle: whoever is planned there earlier."""
        if self.planner is None:
            return None
        return self.planner.blocker(v.key, step, plan.steps[step].node)

    def _blocker(self, node: str, vehicle: str) -> str | None:
        """Who keeps ``vehicle`` off ``node``: its holder, or whoever is planned onto it first."""
        holder = self.res.holder(node)
        if holder is not None and holder != vehicle:
            return holder
        v = self.vehicles[vehicle]
        if v.plan is None:
            return None
        return self._timed_blocker(v, v.plan, v.plan.released + 1) or None

    def _priority(self, v: Vehicle) -> Priority:
        if v.task is not None:
            return (0 if v.task.status == TaskStatus.PICKED else 1, v.task.created_at)
        return (2 if v.purpose == "charge" else 3, v.since)

    def _dwell(self, actions: list[dict[str, Any]]) -> float:
        return self.config.action_seconds * sum(a["actionType"] in ("pick", "drop") for a in actions)

    def _stand(self, v: Vehicle) -> None:
        if self.planner is not None:
            self.planner.stand(v.key, self.res.held(v.key) or ([v.node] if v.node else []))

    def _timed_steps(
        self, v: Vehicle, purpose: str, stops: list[tuple[str, list[dict[str, Any]]]]
    ) -> list[Step] | None:
        """The route as planned in time from where the vehicle stands; None if no timed path was found."""
        assert self.planner is not None
        start, here, t = v.node or "", Step(v.node or ""), self.now()
        rest = list(stops)
        while rest and rest[0][0] == start:  # already there: act on the spot
            here.actions.extend(rest[0][1])
            t += self._dwell(rest.pop(0)[1])
        if not rest:
            return [here]
        planned = self.planner.route(
            v.key,
            start,
            t,
            [Stop(node, self._dwell(acts)) for node, acts in rest],
            stay=purpose in ("park", "charge"),
            priority=self._priority(v),
        )
        if planned is None:
            return None
        visits, ends = planned
        steps = [here] + [Step(x.node) for x in visits[1:]]
        for (_, acts), i in zip(rest, ends, strict=True):
            steps[i].actions.extend(acts)
        return steps

    def _replan(self, v: Vehicle) -> None:
        """Plan the unreleased rest of the vehicle's route again, from the end of its released base."""
        plan, st = v.plan, v.state
        if self.planner is None or plan is None or st is None or st.orderId != plan.order_id:
            return
        r = plan.released
        stops = [i for i in range(r + 1, plan.last_index + 1) if plan.steps[i].actions or i == plan.last_index]
        if not stops or plan.steps[stops[0]].node == plan.steps[r].node:
            return
        t = max(self.now(), self.planner.expected(v.key, r) or 0.0)
        if any(st.action_status(a["actionId"]) not in _DONE for a in plan.steps[r].actions):
            t += self.config.action_seconds
        self.stats["replans"] += 1
        planned = self.planner.route(
            v.key,
            plan.steps[r].node,
            t,
            [Stop(plan.steps[i].node, self._dwell(plan.steps[i].actions)) for i in stops],
            stay=v.purpose in ("park", "charge"),
            priority=self._priority(v),
            first_step=r,
        )
        if planned is None:
            return
        visits, ends = planned
        tail = [Step(x.node) for x in visits[1:]]
        for i, end in zip(stops, ends, strict=True):
            tail[end - 1].actions.extend(plan.steps[i].actions)
        plan.replace_from(r, tail)
        self._extend(v)

    def _replan_due(self) -> Iterator[None]:
        assert self.planner is not None
        at: dict[str, int] = {}
        for k, v in self.vehicles.items():
            st = v.state
            if v.plan is not None and st is not None and st.orderId == v.plan.order_id and not st.paused:
                at[k] = st.lastNodeSequenceId // 2
                if k not in self.planner.lines:
                    self.planner.dirty.add(k)  # going on after a pause or a failed search
        due = [k for k in self.planner.due(at) if k in at]
        # bounded (so that a new task's order never waits long behind re-planning) and counted, not
        # timed, so that a run in virtual time is the same run on any machine; those left over are
        # marked first, so that the mark holds even if the caller stops between two re-plans
        self.planner.dirty.update(due[self.config.replans_per_tick :])
        for k in due[: self.config.replans_per_tick]:
            self._replan(self.vehicles[k])
            yield

    # ---- dispatch -------------------------------------------------------------------------------

    def dispatch(self) -> None:
        """Charge the low (and, ahead of need, the lowish when a charger is free and no task waits), give
        waiting tasks to the nearest able vehicle, park the idle out of the aisles.

        No more vehicles work at once than the floor carries (``nodes_per_working_agv``): past that, one
        more vehicle on the lanes adds more waiting for everyone than it adds work done. On the benchmark
        floor 100 AGVs all at work spent most of their time waiting for nodes held by others and did
        fewer tasks an hour than 50; the others stay parked until a task frees a place."""
        free = [v for v in self.vehicles.values() if self._idle(v)]
        if not free:
            return
        chargers = [s.node for s in self.graph.stations_of("charger")]
        waiting_for_charger = 0
        for v in sorted(free, key=lambda v: v.battery):
            if v.charging:
                continue
            too_low_to_work = v.battery < self.config.task_charge
            if v.battery < self.config.min_charge or (
                v.battery < self.config.charge_ahead and (too_low_to_work or not self.queue)
            ):
                spot = nearest_free(self.graph, v.node or "", chargers, self._taken())
                if spot is not None:
                    self._start(v, "charge", [(spot, [vda.start_charging()])])
                    self.stats["charges"] += 1
                elif v.battery < self.config.min_charge:
                    waiting_for_charger += 1
                    if (full := self._full_charger()) is not None:
                        self._park(full)
        self.stats["charger_queue_max"] = max(self.stats.get("charger_queue_max", 0), waiting_for_charger)
        able = [v for v in free if self._idle(v) and self._can_work(v)]
        busy = sum(v.task is not None for v in self.vehicles.values())
        cap = self._working_cap

        heat = self.planner.heat if self.planner is not None else None
        while self.queue and able and busy < cap:
            task = self.queue[0]
            src = self.graph.stations[task.from_location].node
            chosen = choose(
                self.graph,
                self.config.assignment,
                able,
                src,
                heat=heat,
                congestion_seconds=self.config.assign_congestion_seconds,
            )
            if chosen is None:
                break
            self.queue.popleft()
            self._assign(task, self.vehicles[chosen.key])
            able = [v for v in able if v.key != chosen.key]
            busy += 1
        parks = self._spots["park"]
        # with the timed planner a vehicle that has just finished waits a moment for its next task where it
        # stands (everyone is planned round it); the reservation scheme has no way round a standing vehicle
        # but a wait cycle, so there it clears the lane at once
        linger = self.config.park_after_seconds if self.planner is not None else 0.0
        for v in free:
            at_rest = v.node in parks or (v.charging and v.node in chargers)
            if not at_rest and self._idle(v) and self.now() - v.idle_since >= linger:
                self._park(v)

    def _wants_dispatch(self, v: Vehicle) -> bool:
        if not self._idle(v):
            return False
        if self.queue:
            return True
        parks = self._spots.get("park", set())
        at_rest = v.node in parks or (v.charging and v.node in self._spots.get("charger", set()))
        return not at_rest or (not v.charging and v.battery < self.config.charge_ahead)

    def _can_work(self, v: Vehicle) -> bool:
        if v.charging:  # topped up ahead of need: back to work once past charge_ahead
            return v.battery >= max(self.config.charge_ahead, self.config.task_charge)
        return v.battery >= self.config.task_charge

    def _assign(self, task: TransportTask, v: Vehicle) -> None:
        pick, drop = vda.pick(task.handling_unit), vda.drop(task.handling_unit)
        task.pick_action, task.drop_action = pick["actionId"], drop["actionId"]
        task.status, task.vehicle = TaskStatus.ASSIGNED, v.key
        task.attempts += 1
        task.note(self.now(), f"assigned to {v.key}")
        v.task = task
        src, dst = (self.graph.stations[loc].node for loc in (task.from_location, task.to_location))
        self._start(v, "task", [(src, [pick]), (dst, [drop])])

    def _park(self, v: Vehicle) -> None:
        spot = nearest_free(self.graph, v.node or "", [s.node for s in self.graph.stations_of("park")], self._taken())
        if spot is not None and spot != v.node:
            self._start(v, "park", [(spot, [])])

    def _start(self, v: Vehicle, purpose: str, stops: list[tuple[str, list[dict[str, Any]]]]) -> None:
        if v.charging:
            self._send(v, "instantActions", {"actions": [vda.stop_charging()]})
        try:
            steps = self._timed_steps(v, purpose, stops) if self.planner is not None else None
            if steps is None:
                steps = steps_for(self.graph, v.node or "", stops)
        except RouteError as exc:
            if v.task is not None:
                self._fail(v.task, str(exc), v.key)
                v.task = None
            return
        self._orders += 1
        v.plan = OrderPlan(self.graph, f"{v.key}-{self._orders}", steps)
        v.purpose, v.target, v.cancel_sent_for, v.since = purpose, steps[-1].node, None, self.now()
        self._extend(v)

    # ---- failures -------------------------------------------------------------------------------

    def _abandon(self, v: Vehicle, reason: str) -> None:
        """The vehicle cannot finish: cancel its order, re-queue its task or fail it if the load is aboard."""
        task, v.task = v.task, None
        if task is not None:
            task.note(self.now(), f"{v.key}: {reason}")
            if task.status == TaskStatus.PICKED:
                self._fail(task, f"{reason}; handling unit aboard {v.key}", v.key, record=False)
                self.ops.append((v.key, task.stranded_op(v.key, self.wall(), reason)))
            elif not task.finished:
                task.status, task.vehicle = TaskStatus.WAITING, None
                self.queue.appendleft(task)
                self.stats["redispatched"] += 1
        if v.plan is not None:
            if v.online:
                v.cancel_sent_for = v.plan.order_id
                self._send(v, "instantActions", {"actions": [vda.cancel_order()]})
                self.stats["cancels"] += 1
            v.plan, v.purpose, v.target = None, "", None
        self.res.clear_wait(v.key)
        self._stand(v)

    def _fail(self, task: TransportTask, reason: str, serial: str, *, record: bool = True) -> None:
        """The task ends failed; it leaves an op (``record``), unless the caller records its own."""
        task.status = TaskStatus.FAILED
        task.note(self.now(), f"failed: {reason}")
        self.stats["failed"] += 1
        if record:
            payload = ExceptionPayload(
                code="agv_task_failed",
                detail=f"task {task.task_id}: {reason}"[:1000],
                location=task.from_location,
                ref=task.handling_unit,
            )
            self.ops.append(
                (serial, OpDraft(payload=payload, actor=f"device:{serial}", device_id=serial, occurred_at=self.wall()))
            )

    def _hold_where_it_is(self, v: Vehicle, st: vda.StateIn) -> None:
        """Keep what the vehicle stands on and may still drive to; it is an obstacle until it stops."""
        self.res.keep_only(v.key, [*self.res.held(v.key), st.lastNodeId])
        for n in st.nodeStates:
            if n.released:
                self.res.try_reserve(v.key, n.nodeId)
        self.res.clear_wait(v.key)
        self._stand(v)

    # ---- helpers --------------------------------------------------------------------------------

    def _vehicle(self, vid: vda.VehicleId) -> Vehicle:
        v = self.vehicles.get(vid.serial)
        if v is None:
            v = self.vehicles[vid.serial] = Vehicle(vid)
        return v

    def _idle(self, v: Vehicle) -> bool:
        st = v.state
        return (
            v.online
            and not v.removed
            and st is not None
            and not st.fatal
            and v.plan is None
            and v.task is None
            and not st.nodeStates
            and not st.driving
        )

    def _taken(self) -> set[str]:
        held = {n for v in self.vehicles.values() for n in self.res.held(v.key)}
        return held | {v.target for v in self.vehicles.values() if v.plan is not None and v.target}

    def _full_charger(self) -> Vehicle | None:
        full = [
            v for v in self.vehicles.values() if self._idle(v) and v.charging and v.battery >= self.config.charge_until
        ]
        return max(full, key=lambda v: v.battery, default=None)

    def _send(self, v: Vehicle, topic: str, body: dict[str, Any], task: TransportTask | None = None) -> None:
        self.outbox.append(Outgoing(v.vid, topic, body, task))
