"""Orders with a released base and an unreleased horizon, extended one node at a time by order updates.

A route is a list of steps (a node and the actions to do there). Step ``i`` is node sequenceId ``2i``
and the edge after it ``2i + 1``, so sequence ids stay stable while the base grows. The base only ever
grows: each update repeats the last base node already sent (the stitching node the spec requires) and
carries the newly released nodes plus the current horizon. Re-routing (to break a wait cycle) replaces
only the horizon, which the spec allows without cancelling the order.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from edge.fleet.layout import LayoutGraph


@dataclass
class Step:
    node: str
    actions: list[dict[str, Any]] = field(default_factory=list)


class RouteError(ValueError):
    """No path on the layout between two nodes (a layout error or every way blocked)."""


def steps_for(graph: LayoutGraph, start: str, stops: list[tuple[str, list[dict[str, Any]]]]) -> list[Step]:
    """The step list from ``start`` through each (node, actions) stop in turn, on fastest paths."""
    steps = [Step(start)]
    for node, actions in stops:
        path = graph.route(steps[-1].node, node)
        if path is None:
            raise RouteError(f"no route from {steps[-1].node} to {node}")
        if len(path) == 1:
            steps[-1].actions.extend(actions)  # already there: act on the spot
            continue
        steps.extend(Step(n) for n in path[1:-1])
        steps.append(Step(node, list(actions)))
    return steps


HORIZON_NODES = 8
"""Unreleased nodes sent after the base: enough for the vehicle to plan its speed; the spec lets the
horizon be any part of the route, and a whole route in every update (50-odd nodes on a large floor,
one update per node driven) was most of the fleet's MQTT bytes and of the master's encoding time."""


class OrderPlan:
    """One order's route and how much of it is released; builds the order and update messages."""

    def __init__(self, graph: LayoutGraph, order_id: str, steps: list[Step]) -> None:
        self.graph = graph
        self.order_id = order_id
        self.steps = steps
        self.update_id = -1  # becomes 0 on the first message
        self.released = 0  # index of the last released step; step 0 is where the vehicle stands
        self._sent_base_end: int | None = None

    @property
    def dirty(self) -> bool:
        """True when the released base grew (or the horizon changed) since the last message."""
        return self._sent_base_end is None or self._sent_base_end != self.released or self._tail_changed

    _tail_changed = False

    @property
    def nodes(self) -> list[str]:
        return [s.node for s in self.steps]

    def release_next(self) -> None:
        self.released += 1

    @property
    def last_index(self) -> int:
        return len(self.steps) - 1

    def next_stop(self, after: int) -> int:
        """Index of the first step after ``after`` with actions, or the last step."""
        for i in range(after + 1, len(self.steps)):
            if self.steps[i].actions:
                return i
        return self.last_index

    def replace_tail(self, path: list[str]) -> None:
        """Swap the unreleased steps up to the next stop for ``path`` (from the base end to that stop)."""
        stop = self.next_stop(self.released)
        if not path or path[0] != self.steps[self.released].node or path[-1] != self.steps[stop].node:
            raise RouteError(f"detour {path} does not join base end and stop")
        self.steps = self.steps[: self.released + 1] + [Step(n) for n in path[1:-1]] + self.steps[stop:]
        self._tail_changed = True

    def replace_from(self, index: int, tail: list[Step]) -> None:
        """Swap every step after ``index`` (the released base end, kept) for ``tail``: a re-planned horizon."""
        if index < self.released:
            raise RouteError("a released step cannot be re-planned")
        if tail and self.graph.arcs.get((self.steps[index].node, tail[0].node)) is None:
            raise RouteError(f"re-planned tail does not start next to {self.steps[index].node}")
        self.steps = self.steps[: index + 1] + tail
        self._tail_changed = True

    def _node(self, i: int) -> dict[str, Any]:
        step = self.steps[i]
        pos = self.graph.nodes[step.node]
        return {
            "nodeId": step.node,
            "sequenceId": 2 * i,
            "released": i <= self.released,
            "nodePosition": {"x": pos.x, "y": pos.y, "mapId": self.graph.map_id},
            "actions": step.actions if i <= self.released else [],
        }

    def _edge(self, i: int) -> dict[str, Any]:
        arc = self.graph.arc(self.steps[i].node, self.steps[i + 1].node)
        return {
            "edgeId": arc.edge_id,
            "sequenceId": 2 * i + 1,
            "released": i + 1 <= self.released,
            "startNodeId": arc.start,
            "endNodeId": arc.end,
            "maxSpeed": arc.max_speed,
            "length": round(arc.length, 3),
            "actions": [],
        }

    def message(self) -> dict[str, Any]:
        """The next order (update) body, without the header; marks it sent.

        Horizon nodes go out without actions: the spec lets them change, and a vehicle must not plan
        work on a node that is not yet its to drive to.
        """
        start = self._sent_base_end or 0
        end = min(len(self.steps), self.released + 1 + HORIZON_NODES)
        self.update_id += 1
        body = {
            "orderId": self.order_id,
            "orderUpdateId": self.update_id,
            "nodes": [self._node(i) for i in range(start, end)],
            "edges": [self._edge(i) for i in range(start, end - 1)],
        }
        self._sent_base_end = self.released
        self._tail_changed = False
        return body
