"""Line-by-line comparison of a gateway's stock with the cloud's view of the same warehouse.

When sync is idle the two must be equal (invariant 2); any difference is printed and makes
``wims reconcile check`` exit non-zero, so it can gate a deployment or page someone.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import httpx

from edge.store.journal import StockLine

STATUSES = ("available", "reserved", "qc_hold", "damaged")
LineKey = tuple[str, str, str]  # sku, lot, location


@dataclass(frozen=True)
class Difference:
    sku: str
    lot: str
    location: str
    status: str
    edge: int
    cloud: int


def pivot_edge(lines: Iterable[StockLine]) -> dict[tuple[str, str, str, str], int]:
    return {(s.sku, s.lot, s.location, s.status): s.qty for s in lines if s.qty}


def pivot_cloud(items: Iterable[dict[str, Any]]) -> dict[tuple[str, str, str, str], int]:
    out: dict[tuple[str, str, str, str], int] = {}
    for item in items:
        for status in STATUSES:
            if qty := int(item.get(status, 0)):
                out[(item["sku"], item["lot"], item["location"], status)] = qty
    return out


def compare(
    edge: dict[tuple[str, str, str, str], int], cloud: dict[tuple[str, str, str, str], int]
) -> list[Difference]:
    return [
        Difference(*key, edge=edge.get(key, 0), cloud=cloud.get(key, 0))
        for key in sorted(set(edge) | set(cloud))
        if edge.get(key, 0) != cloud.get(key, 0)
    ]


def fetch_cloud_stock(
    base_url: str,
    warehouse: str,
    *,
    token: str | None = None,
    user: str | None = None,
    password: str | None = None,
    verify: Any = True,
) -> list[dict[str, Any]]:
    """Every stock line of a warehouse from the cloud (logging in first if given a user)."""
    with httpx.Client(base_url=base_url.rstrip("/"), timeout=60, verify=verify) as http:
        if token is None:
            if not (user and password):
                raise ValueError("give --token, or --user and --password, for the cloud")
            r = http.post("/v1/auth/login", json={"username": user, "password": password})
            r.raise_for_status()
            token = str(r.json()["access_token"])
        items: list[dict[str, Any]] = []
        offset: int | None = 0
        while offset is not None:
            r = http.get(
                "/v1/stock",
                params={"warehouse": warehouse, "limit": 1000, "after": offset},
                headers={"Authorization": f"Bearer {token}"},
            )
            r.raise_for_status()
            page = r.json()
            items.extend(page["items"])
            offset = page["next_after"]
        return items
