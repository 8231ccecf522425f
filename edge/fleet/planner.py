"""The timed traffic planner (``[fleet] traffic = "timed"``): paths planned in time over a rolling horizon,
executed in the planned order, re-planned when the floor does not go to plan.

What it follows, and why:

* Windowed cooperative planning (Silver's WHCA*, AIIDE 2005; RHCR, Li et al., AAAI 2021): every vehicle
  gets a path through a table of time-windowed node claims (``edge.fleet.spacetime``), planned only
  ``horizon_seconds`` ahead, because beyond that the floor will have changed anyway; the rest of the
  route is plain (congestion-weighted) space, and each vehicle is re-planned before its window runs out.
* Prioritised planning with priorities by age: a vehicle plans around the claims of vehicles more
  important than it and through those of less important ones, which are then re-planned around it
  (a one-step priority-based search). Loaded vehicles come first, then older tasks, then charging, then
  parking, so no task waits for ever behind newer ones: starvation cannot last.
* Execution by planned order, not by planned time (the action dependency graph of Hoenig et al., "Persistent
  and robust execution of MAPF schedules in warehouses", RA-L 2019): a vehicle is released a node only
  when no other vehicle is planned onto it earlier. Vehicles are always late or early; keeping the order
  keeps the plan collision-free and deadlock-free whatever the delays, and the one-holder node
  reservations (``edge.fleet.traffic.Reservations``) stay the last word on safety.
* Re-planning on deviation: a vehicle more than ``late_seconds`` behind its plan (blocked, slowed, its
  action running long) is re-planned, and so are vehicles whose claims it now crosses; a vehicle that
  stops for an error or goes offline drops its plan and becomes a standing obstacle everyone plans
  round. A wait cycle (which the ordering makes rare) is broken by re-planning its members, or, if
  they all hold what the others need, by the detour of the reservation scheme.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from edge.fleet.config import FleetConfig
from edge.fleet.layout import LayoutGraph
from edge.fleet.spacetime import INF, Claim, Successors, Table, Visit, sipp, successors

UNPLANNED = ""
"""``blocker`` when the vehicle itself has no claim on the node yet: it waits for its next plan."""

Priority = tuple[int, float]
"""(class, since): class 0 loaded, 1 on a task, 2 charging, 3 parking; then older first."""


@dataclass(slots=True)
class Stop:
    node: str
    dwell: float


@dataclass
class Timeline:
    """One vehicle's timed plan: claims by order step index, and its planned visits."""

    priority: Priority
    visits: dict[int, Visit] = field(default_factory=dict)
    claims: dict[int, Claim] = field(default_factory=dict)
    horizon_end: float = INF
    """The planned time of the last claimed step: re-plan before the vehicle gets there."""
    open_ended: bool = False
    """Part of the route lies beyond the window, unclaimed: extend it before the vehicle gets there."""


class TimedPlanner:
    def __init__(self, graph: LayoutGraph, config: FleetConfig, now: Callable[[], float]) -> None:
        self.graph, self.config, self.now = graph, config, now
        self.table = Table()
        self.lines: dict[str, Timeline] = {}
        self.speed: dict[str, float] = {}
        self.heat: dict[str, float] = {}
        self.dirty: set[str] = set()
        self._succ: dict[float, Successors] = {}
        """Driving times over every arc, per vehicle speed: worked out once, not in every search."""
        self.replans = 0
        self.failures = 0

    # ---- claims -------------------------------------------------------------------------------

    def stand(self, vehicle: str, nodes: list[str]) -> None:
        """A vehicle without a plan (idle, charging, stopped, offline): its nodes are taken for good."""
        mine = self.table.of(vehicle)
        if vehicle not in self.lines and sorted(c.node for c in mine) == sorted(set(nodes)):
            return  # already standing there
        self.forget(vehicle)
        t = self.now()
        for node in dict.fromkeys(nodes):
            self.table.add(Claim(node, t, INF, vehicle, firm=True))

    def forget(self, vehicle: str) -> None:
        line = self.lines.pop(vehicle, None)
        if line is not None:
            for visit in line.visits.values():
                self._heat(visit.node, -1)
        self.table.drop(vehicle)
        self.dirty.discard(vehicle)

    def unplan(self, vehicle: str) -> None:
        """Drop what the vehicle planned but has not been released; it is planned again at the next tick."""
        line = self.lines.get(vehicle)
        if line is not None:
            for k in [k for k, c in line.claims.items() if not c.firm]:
                del line.claims[k]
            line.open_ended = True
            line.horizon_end = -INF
        self.table.drop(vehicle, keep=lambda c: c.firm)
        self.dirty.add(vehicle)

    def passed(self, vehicle: str, at: int) -> None:
        """The vehicle stands on step ``at``: what it planned before that is history."""
        line = self.lines.get(vehicle)
        if line is None:
            return
        for k in [k for k in line.visits if k < at]:
            self._heat(line.visits.pop(k).node, -1)
        for k in [k for k in line.claims if k < at]:
            claim = line.claims.pop(k)
            self.table.by_node[claim.node].remove(claim)
            self.table.by_vehicle[vehicle].remove(claim)

    def taken(self, vehicle: str, step: int) -> None:
        """Step ``step`` was released to the vehicle: its claim can no longer be planned through."""
        line = self.lines.get(vehicle)
        claim = line.claims.get(step) if line is not None else None
        if claim is not None:
            # held from now, even if early: nobody may plan into a gap before it
            claim.firm, claim.start = True, min(claim.start, self.now())

    # ---- the order of entry -------------------------------------------------------------------

    def blocker(self, vehicle: str, step: int, node: str) -> str | None:
        """Who must enter ``node`` before ``vehicle`` does (at ``step`` of its route), if anyone."""
        line = self.lines.get(vehicle)
        mine = line.claims.get(step) if line is not None else None
        claims = self.table.by_node.get(node, ())
        if mine is not None:
            late = self.now() - self.config.late_seconds
            for c in claims:
                if c is mine or c.start > mine.start:
                    return None
                if c.vehicle != vehicle:
                    if not c.firm and c.start < late:  # it is late: it loses its turn and is planned again
                        self.dirty.add(c.vehicle)
                        continue
                    return c.vehicle
            return None
        # beyond its window, or its search failed: first come, first served (the holds still decide), and
        # planned again at the next tick
        self.dirty.add(vehicle)
        return None

    # ---- planning -----------------------------------------------------------------------------

    def route(
        self,
        vehicle: str,
        start: str,
        t0: float,
        stops: list[Stop],
        *,
        stay: bool,
        priority: Priority,
        first_step: int = 0,
    ) -> tuple[list[Visit], list[int]] | None:
        """Plan ``vehicle`` from ``start`` (free to leave at ``t0``) through ``stops`` and claim it.

        Returns the visits from ``start`` (first) on and the index of each stop among them, or None when
        no timed path was found (the caller then falls back to a plain route; the vehicle is re-planned
        at the next tick)."""
        old = self.lines.get(vehicle)
        keep = {k: c for k, c in (old.claims.items() if old else ()) if c.firm and k <= first_step}
        self.forget(vehicle)
        for c in keep.values():
            self.table.add(c)

        def ignore(c: Claim, *, all_at_start: bool = False) -> bool:
            if c.vehicle == vehicle:
                return True
            if c.firm:
                return False
            # it stands there (or its base ends there) now: a plan to pass through before it has left is void
            if c.node == start and (all_at_start or c.start <= t0):
                return True
            other = self.lines.get(c.vehicle)
            return other is not None and other.priority[0] > priority[0]

        planned = self._legs(vehicle, start, t0, stops, stay, ignore)
        if planned is None:  # boxed in before it can leave: it stays, and whoever planned through moves
            planned = self._legs(vehicle, start, t0, stops, stay, lambda c: ignore(c, all_at_start=True))
        line = Timeline(priority)
        self.lines[vehicle] = line
        line.claims.update(keep)
        self.replans += 1
        if planned is None:
            self.failures += 1
            self.dirty.add(vehicle)
            return None
        self._commit(vehicle, line, planned[0], first_step)
        self._bump(vehicle, line)
        return planned

    def _legs(
        self, vehicle: str, start: str, t0: float, stops: list[Stop], stay: bool, ignore: Callable[[Claim], bool]
    ) -> tuple[list[Visit], list[int]] | None:
        speed = self.speed.get(vehicle, 2.0)
        succ = self._succ.get(speed)
        if succ is None:
            succ = self._succ[speed] = successors(self.graph, speed)
        out: list[Visit] = []
        ends: list[int] = []
        at, t = start, t0
        for i, stop in enumerate(stops):
            last = i == len(stops) - 1
            leg = sipp(
                self.graph,
                self.table,
                start=at,
                t0=t,
                goal=stop.node,
                dwell=stop.dwell,
                stay=stay and last,
                ignore=ignore,
                succ=succ,
                heat=self.heat,
                heat_weight=self.config.congestion_seconds,
            )
            if leg is None:
                return None
            if out:
                leg[0] = Visit(leg[0].node, out[-1].arrive, leg[0].depart)
                out.pop()
            out.extend(leg)
            ends.append(len(out) - 1)
            at, t = stop.node, leg[-1].arrive + stop.dwell
        return out, ends

    def _commit(self, vehicle: str, line: Timeline, visits: list[Visit], first_step: int) -> None:
        horizon = self.now() + self.config.horizon_seconds
        for i, visit in enumerate(visits):
            k = first_step + i
            line.visits[k] = visit
            self._heat(visit.node, +1)
            begin = visits[i - 1].depart if i else visit.arrive
            end = visits[i + 1].arrive if i + 1 < len(visits) else visit.depart
            if i and begin > horizon:
                line.open_ended = True
                continue
            old = line.claims.get(k)
            if old is not None:  # the base end it stands on or drives to: keep it firm, stretch it
                old.end = max(old.end, end) if old.end != INF else end
                continue
            claim = Claim(visit.node, begin, end, vehicle, firm=k <= first_step)
            line.claims[k] = claim
            self.table.add(claim)
            line.horizon_end = visit.arrive

    def _bump(self, vehicle: str, line: Timeline) -> None:
        """Vehicles whose unreleased claims this plan now crosses (it ranked higher) are planned again."""
        for claim in line.claims.values():
            for c in self.table.by_node.get(claim.node, ()):
                if c.vehicle != vehicle and not c.firm and c.start < claim.end and claim.start < c.end:
                    self.dirty.add(c.vehicle)

    def due(self, at: dict[str, int]) -> list[str]:
        """Vehicles to re-plan now, most important first: bumped, late, or near the end of their window.

        ``at`` is each planned vehicle's current step."""
        now = self.now()
        out = set(self.dirty)
        for vehicle, line in self.lines.items():
            step = at.get(vehicle)
            if step is None:
                continue
            nxt = line.visits.get(step + 1)
            late = nxt is not None and now > nxt.arrive + self.config.late_seconds
            window = line.open_ended and line.horizon_end < now + self.config.horizon_seconds / 2
            if late or window:
                out.add(vehicle)
        self.dirty.clear()
        last: Priority = (9, INF)
        # ties (tasks created in the same instant) go by name, not by the set's order: a run in virtual
        # time is then the same run whatever the interpreter's string hashing
        return sorted(out, key=lambda v: (self.lines[v].priority if v in self.lines else last, v))

    def expected(self, vehicle: str, step: int) -> float | None:
        line = self.lines.get(vehicle)
        visit = line.visits.get(step) if line is not None else None
        return None if visit is None else visit.arrive

    def crowding(self, node: str) -> float:
        return self.heat.get(node, 0.0)

    def _heat(self, node: str, delta: int) -> None:
        value = self.heat.get(node, 0.0) + delta
        if value <= 0:
            self.heat.pop(node, None)
        else:
            self.heat[node] = value
