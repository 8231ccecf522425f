"""Example layouts for tests, the benchmark and the demo, built by code so their size can follow the fleet.

The shape is the common one for carrier AGVs: a one-way loop of lane nodes with drive-through bays beside
it (in from one lane node, out to the next). A vehicle leaving a bay never needs the node a vehicle
waiting to enter it stands on, so the only way to deadlock is a loop full of vehicles; the loop is
sized to hold several times the fleet.
"""

from __future__ import annotations

from typing import Any

from edge.fleet.layout import Layout, StationKind

LANE_SPEED = 2.0
BAY_SPEED = 1.0


def loop_layout(
    *,
    docks: int = 4,
    picks: int = 4,
    chargers: int = 3,
    parks: int = 10,
    slots: int = 20,
    min_lane: int = 30,
    spacing: float = 2.0,
    bay_depth: float = 1.5,
    map_id: str = "floor-1",
) -> Layout:
    """A counter-clockwise lane loop of at least ``min_lane`` nodes with bays on both sides of it.

    Bay ``k`` sits beside lane segment ``k % lanes``, outside the loop for the first lap of bays and
    inside for the second, so stations of one kind spread round the loop.
    """
    kinds: list[tuple[StationKind, str, int]] = [
        ("dock", "DOCK", docks),
        ("park", "PARK", parks),
        ("charger", "CHG", chargers),
        ("pick", "PICK", picks),
        ("slot", "SLOT", slots),
    ]
    labels = [(kind, f"{prefix}-{k + 1:02d}") for kind, prefix, n in kinds for k in range(n)]
    side = 3
    want = max(min_lane, -(-len(labels) // 2))
    width = max(4, -(-(want - 2 * (side + 1)) // 2))
    top = (side + 1) * spacing
    lane = [(i * spacing, 0.0) for i in range(width)]
    lane += [(width * spacing, j * spacing) for j in range(side + 1)]
    lane += [((width - 1 - i) * spacing, top) for i in range(width)]
    lane += [(-spacing, top - j * spacing) for j in range(side + 1)]
    nodes: list[dict[str, Any]] = [{"id": f"L{i}", "x": x, "y": y} for i, (x, y) in enumerate(lane)]
    edges: list[dict[str, Any]] = [
        {"start": f"L{i}", "end": f"L{(i + 1) % len(lane)}", "max_speed": LANE_SPEED} for i in range(len(lane))
    ]
    stations: list[dict[str, Any]] = []
    for k, (kind, location) in enumerate(labels):
        seg, outward = k % len(lane), 1.0 if k < len(lane) else -1.0
        (x0, y0), (x1, y1) = lane[seg], lane[(seg + 1) % len(lane)]
        dx, dy = x1 - x0, y1 - y0
        norm = max(1e-9, (dx * dx + dy * dy) ** 0.5)
        depth = outward * bay_depth
        bx, by = (x0 + x1) / 2 + depth * dy / norm, (y0 + y1) / 2 - depth * dx / norm
        node = f"B{k}"
        nodes.append({"id": node, "x": round(bx, 3), "y": round(by, 3)})
        edges.append({"start": f"L{seg}", "end": node, "max_speed": BAY_SPEED})
        edges.append({"start": node, "end": f"L{(seg + 1) % len(lane)}", "max_speed": BAY_SPEED})
        stations.append({"location": location, "node": node, "kind": kind})
    return Layout.model_validate({"map_id": map_id, "nodes": nodes, "edges": edges, "stations": stations})


def fleet_layout(agvs: int) -> Layout:
    """A loop sized for a fleet: three lane nodes per vehicle, a park bay each, a charger per four."""
    return loop_layout(
        docks=max(4, agvs // 3),
        picks=max(4, agvs // 3),
        chargers=max(2, agvs // 4),
        parks=agvs,
        slots=max(20, agvs),
        min_lane=max(30, 3 * agvs),
    )


def warehouse_grid(*, agvs: int = 100, two_way_aisles: bool = False, map_id: str = "floor-1") -> Layout:
    """The benchmark's fixed floor, sized for up to ``agvs`` vehicles: 24 rack aisles of 20 positions,
    three cross-aisles, one-way highways, 8 docks on the south wall, 8 goods-to-person stations on the
    north wall, a charger per five AGVs on the side walls and a park spot for every AGV.

    Every aisle position is a rack slot (``R-aa-bbb``): 92 m by 44 m, 750-odd nodes, so 100 AGVs cover
    about an eighth of the floor's nodes (dense enough to need traffic planning, not gridlocked).
    """
    return Layout.model_validate(
        {
            "map_id": map_id,
            "grid": {
                "aisles": 24,
                "bays": 20,
                "aisle_pitch": 4.0,
                "spacing": 2.0,
                "cross_aisles": 3,
                "one_way": True,
                "two_way_aisles": two_way_aisles,
                "docks": [f"DOCK-{i + 1:02d}" for i in range(8)],
                "picks": [f"PICK-{i + 1:02d}" for i in range(8)],
                "chargers": [f"CHG-{i + 1:02d}" for i in range(max(2, agvs // 5))],
                "parks": agvs,
                "slot_pattern": "R-{aisle:02d}-{bay:03d}",
            },
        }
    )
