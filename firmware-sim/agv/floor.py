"""The physical floor the simulated vehicles share: who is on which node, and any collision.

This is the ground truth a test checks traffic control against, kept by the vehicles themselves and
not by the master: a vehicle stands on its last node, and while driving an edge it covers both ends.
Two vehicles covering one node at the same moment is a collision.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Collision:
    node: str
    vehicles: tuple[str, str]
    at: float


@dataclass
class Floor:
    covers: dict[str, frozenset[str]] = field(default_factory=dict)
    collisions: list[Collision] = field(default_factory=list)
    moves: int = 0

    def occupy(self, vehicle: str, nodes: frozenset[str], at: float) -> None:
        self.moves += 1
        for other, theirs in self.covers.items():
            if other != vehicle:
                for node in nodes & theirs:
                    self.collisions.append(Collision(node, (vehicle, other), at))
        self.covers[vehicle] = nodes

    def leave(self, vehicle: str) -> None:
        self.covers.pop(vehicle, None)
