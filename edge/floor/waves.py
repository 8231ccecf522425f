"""Waves and batches: reserved orders grouped by carrier and cut-off, picked in trips along the layout.

A wave is every reserved order for one carrier and one cut-off (the time the carrier collects): they
must be ready together. Within a wave, orders are taken in batches of ``[floor] batch_size`` (earliest
cut-off first), and one picker walks one batch's locations in one trip, sequenced by the pick-path
planner on the site's ``[layout]`` (``edge.floor.pickpath``): exact for few cross-aisles, OR-Tools
beyond. Locations the layout does not know (a floor spot) come after the route, by code.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from edge.floor.flow import FloorFlow


def sequence(flow: FloorFlow, locations: Iterable[str]) -> tuple[list[str], dict[str, Any]]:
    """``locations`` in walking order, and the route's planner and length (metres; 0 without a layout)."""
    unique = sorted(set(locations))
    grid = flow.grid
    if grid is None:
        return unique, {"planner": "none", "length_m": 0.0}
    on_layout = [loc for loc in unique if loc in grid.positions]
    off = [loc for loc in unique if loc not in grid.positions]
    if not on_layout:
        return off, {"planner": "none", "length_m": 0.0}
    from edge.floor.pickpath import plan_pick_path

    path = plan_pick_path(grid, on_layout, flow.ctx.config.floor.planner)
    return [*path.locations, *off], {"planner": path.planner, "length_m": round(path.length_m, 2)}


def order_picks(flow: FloorFlow, order: dict[str, Any], start: int = 1) -> None:
    """(Re)sequence an order's open picks along the layout, numbering them from ``start``."""
    open_picks = [p for p in order["picks"] if p["status"] == "open"]
    ordered, _ = sequence(flow, (p["location"] for p in open_picks))
    rank = {loc: i for i, loc in enumerate(ordered)}
    open_picks.sort(key=lambda p: (rank[p["location"]], p["line"]))
    for n, pick in enumerate(open_picks, start):
        pick["seq"] = n


async def build_waves(
    flow: FloorFlow, *, carrier: str | None = None, cut_off_before: str | None = None, actor: str = "system"
) -> list[dict[str, Any]]:
    """Release every reserved order not yet in a wave (optionally one carrier's, or due before a time)
    into waves and batches; returns the waves made."""
    async with flow.lock:
        groups: dict[tuple[str, str], list[tuple[str, dict[str, Any]]]] = {}
        for order_id, _, order in flow.docs("order", status="reserved"):
            if carrier is not None and order["carrier"] != carrier:
                continue
            cut = order.get("cut_off") or ""
            if cut_off_before is not None and (not cut or cut >= cut_off_before):
                continue
            groups.setdefault((order["carrier"], cut), []).append((order_id, order))
        size = flow.ctx.config.floor.batch_size
        waves: list[dict[str, Any]] = []
        docs: list[tuple[str, str, str, dict[str, Any]]] = []
        for (wave_carrier, cut), members in sorted(groups.items(), key=lambda kv: (kv[0][1] or "~", kv[0][0])):
            wave_id = await flow.new_id("WAVE")
            members.sort(key=lambda m: m[0])
            batches = []
            for b in range(0, len(members), size):
                chunk = members[b : b + size]
                batch_id = f"{wave_id}-B{b // size + 1}"
                picks: list[dict[str, Any]] = []
                for order_id, order in chunk:
                    order["picks"] = [
                        {
                            "id": f"{order_id}-P{n}",
                            "line": r["line"],
                            "sku": r["sku"],
                            "lot": r["lot"],
                            "location": r["location"],
                            "qty": r["qty"],
                            "picked": 0,
                            "status": "open",
                        }
                        for n, r in enumerate(order["reservations"], 1)
                    ]
                    picks += [{**p, "order_id": order_id} for p in order["picks"]]
                route_locations, route = sequence(flow, (p["location"] for p in picks))
                rank = {loc: i for i, loc in enumerate(route_locations)}
                picks.sort(key=lambda p: (rank[p["location"]], p["order_id"], p["line"]))
                seq_of = {p["id"]: n for n, p in enumerate(picks, 1)}
                for order_id, order in chunk:
                    for p in order["picks"]:
                        p["seq"] = seq_of[p["id"]]
                    order.update(wave_id=wave_id, batch_id=batch_id)
                    docs.append(("order", order_id, "released", order))
                batches.append(
                    {
                        "id": batch_id,
                        "orders": [o for o, _ in chunk],
                        "route": {
                            "planner": route["planner"],
                            "length_m": route["length_m"],
                            "locations": route_locations,
                        },
                        "picks": [
                            {k: p[k] for k in ("id", "order_id", "sku", "lot", "location", "qty")} for p in picks
                        ],
                    }
                )
            wave = {"id": wave_id, "carrier": wave_carrier, "cut_off": cut or None, "batches": batches}
            docs.append(("wave", wave_id, "released", wave))
            waves.append({**wave, "status": "released"})
        if docs:
            await flow.save(*docs)
        for released in waves:  # one pick task per order: the handheld's list, in the batch's route order
            for batch in released["batches"]:
                for order_id in batch["orders"]:
                    await flow.open_task(
                        f"PICK-{order_id}",
                        "pick",
                        actor=actor,
                        ref=order_id,
                        priority=3 if released["cut_off"] else 5,
                        note=f"wave {released['id']}, batch {batch['id']}",
                    )
    return waves
