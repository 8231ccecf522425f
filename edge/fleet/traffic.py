"""Traffic control: node and edge reservations, the wait-for graph, and breaking a cycle of waits.

A vehicle may only be released onto a node it holds, and it holds every node from where it stands to
the end of its released base (both ends of the edge it drives on), so no two vehicles can ever be
given the same node. A vehicle whose next node is held by another waits; waits form a graph, and a
cycle in it is a deadlock. We break it by re-routing one vehicle of the cycle: first one that has another
way to its next stop that avoids the node it waits for, else one that can step aside onto a free
neighbour that no other member of the cycle still needs.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

from edge.fleet.layout import LayoutGraph


class Reservations:
    """Who holds which node and edge. One holder per node, enforced here and nowhere else."""

    def __init__(self) -> None:
        self._node_holder: dict[str, str] = {}
        self._held: dict[str, list[str]] = {}
        self._edge_holder: dict[tuple[str, str], str] = {}
        self.waiting: dict[str, str] = {}
        """vehicle -> the node it waits for."""
        self.promise_to_first_waiter = True
        """A freed node goes to whoever waited for it first (off when a planner orders entries itself)."""

    def holder(self, node: str) -> str | None:
        return self._node_holder.get(node)

    def held(self, vehicle: str) -> list[str]:
        return list(self._held.get(vehicle, ()))

    def edge_holder(self, start: str, end: str) -> str | None:
        return self._edge_holder.get((start, end))

    def try_reserve(self, vehicle: str, node: str, edge: tuple[str, str] | None = None) -> bool:
        """Take ``node`` (and the edge leading to it) for ``vehicle``; False, and a recorded wait, if held."""
        other = self._node_holder.get(node)
        first = next((w for w, n in self.waiting.items() if n == node), None) if self.promise_to_first_waiter else None
        if (other is not None and other != vehicle) or (other is None and first not in (None, vehicle)):
            # held, or free but promised to whoever waited first: without that a vehicle that stepped
            # aside to let another pass would take the node straight back, and round it would go
            if self.waiting.get(vehicle) != node:
                self.waiting.pop(vehicle, None)
                self.waiting[vehicle] = node
            return False
        if edge is not None:
            edge_other = self._edge_holder.get(edge) or self._edge_holder.get((edge[1], edge[0]))
            if edge_other is not None and edge_other != vehicle:
                if self.waiting.get(vehicle) != node:
                    self.waiting.pop(vehicle, None)
                    self.waiting[vehicle] = node
                return False
            self._edge_holder[edge] = vehicle
        self.waiting.pop(vehicle, None)
        if other is None:
            self._node_holder[node] = vehicle
            self._held.setdefault(vehicle, []).append(node)
        return True

    def keep_only(self, vehicle: str, nodes: list[str]) -> None:
        """Release everything ``vehicle`` holds except ``nodes`` (which it must already hold or get)."""
        keep = set(nodes)
        for node in self._held.get(vehicle, []):
            if node not in keep and self._node_holder.get(node) == vehicle:
                del self._node_holder[node]
        for edge in [e for e, v in self._edge_holder.items() if v == vehicle]:
            if edge[0] not in keep or edge[1] not in keep:
                del self._edge_holder[edge]
        self._held[vehicle] = [n for n in self._held.get(vehicle, []) if n in keep]
        for node in nodes:
            if node not in self._held[vehicle]:
                holder = self._node_holder.get(node)
                if holder is None:
                    self._node_holder[node] = vehicle
                    self._held[vehicle].append(node)

    def wait_for(self, vehicle: str, node: str) -> None:
        """Record that ``vehicle`` waits for ``node`` (for the wait-for graph), keeping its place if it did."""
        if self.waiting.get(vehicle) != node:
            self.waiting.pop(vehicle, None)
            self.waiting[vehicle] = node

    def clear_wait(self, vehicle: str) -> None:
        self.waiting.pop(vehicle, None)

    def remove(self, vehicle: str) -> None:
        """A vehicle taken off the floor: everything it held is free again."""
        self.keep_only(vehicle, [])
        self._held.pop(vehicle, None)
        self.waiting.pop(vehicle, None)

    def blocker(self, node: str, vehicle: str) -> str | None:
        """Who keeps ``vehicle`` off ``node``: its holder, or else the first to wait for it."""
        holder = self._node_holder.get(node)
        if holder is not None:
            return holder
        if not self.promise_to_first_waiter:
            return None
        first = next((w for w, n in self.waiting.items() if n == node), None)
        return None if first == vehicle else first

    def find_cycle(self, blocker: Callable[[str, str], str | None] | None = None) -> list[str] | None:
        """A cycle in the wait-for graph (vehicle -> who keeps it off the node it waits for), or None.

        ``blocker(node, vehicle)`` replaces ``self.blocker`` when a planner adds its own reasons to wait."""
        who = blocker or self.blocker
        for start in self.waiting:
            seen: list[str] = []
            v: str | None = start
            while v is not None and v not in seen:
                seen.append(v)
                node = self.waiting.get(v)
                v = who(node, v) if node is not None else None
            if v is not None:
                return seen[seen.index(v) :]
        return None


@dataclass(frozen=True)
class Detour:
    vehicle: str
    path: list[str]
    """From the vehicle's base end to its next stop."""


def break_cycle(
    graph: LayoutGraph,
    cycle: list[str],
    base_end: Mapping[str, str],
    next_stop: Mapping[str, str],
    remaining: Mapping[str, list[str]],
    reservations: Reservations,
) -> Detour | None:
    """Pick one vehicle of ``cycle`` and a new path for it, or None when no member can move.

    ``base_end`` is the node each vehicle's released base ends at (where it will wait), ``next_stop``
    the next node it must reach, ``remaining`` the nodes each still needs after its base.
    """

    def needed_by_others(vehicle: str) -> set[str]:
        return {n for other in cycle if other != vehicle for n in remaining.get(other, [])}

    for vehicle in cycle:
        blocked = reservations.waiting.get(vehicle)
        start, goal = base_end[vehicle], next_stop[vehicle]
        if blocked is None or blocked == goal:
            path = graph.route(start, goal, not_first=blocked)
        else:
            path = graph.route(start, goal, avoid=[blocked])
        # a first step into what the others still need would only re-block them
        if path is not None and len(path) > 1 and path[1] != blocked and path[1] not in needed_by_others(vehicle):
            return Detour(vehicle, path)
    for vehicle in cycle:
        side = _pull_over(graph, vehicle, base_end[vehicle], needed_by_others(vehicle), reservations)
        if side is not None:
            back = graph.route(side[-1], next_stop[vehicle])
            if back is not None:
                return Detour(vehicle, [*side, *back[1:]])
    return None


def _pull_over(
    graph: LayoutGraph,
    vehicle: str,
    start: str,
    needed: set[str],
    reservations: Reservations,
) -> list[str] | None:
    """The shortest way (in hops, over nodes nobody else holds) to a node no other cycle member needs."""
    prev: dict[str, str] = {start: start}
    frontier = [start]
    while frontier:
        nxt: list[str] = []
        for node in frontier:
            for arc in graph.out[node]:
                if arc.end in prev or reservations.holder(arc.end) not in (None, vehicle):
                    continue
                prev[arc.end] = node
                if arc.end not in needed:
                    path = [arc.end]
                    while path[-1] != start:
                        path.append(prev[path[-1]])
                    return path[::-1]
                nxt.append(arc.end)
        frontier = nxt
    return None
