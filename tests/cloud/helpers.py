"""Test helpers: sealing op chains like a gateway does, and a thin authenticated client."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from fastapi.testclient import TestClient

from sync.canonical import iso_utc, seal
from sync.ops import GENESIS_HASH, OpDraft, Payload


def draft(payload: Payload, actor: str = "op-1") -> OpDraft:
    return OpDraft(payload=payload, actor=actor, occurred_at=datetime(2026, 1, 5, 8, 0, tzinfo=UTC))


def chain(
    gateway_id: str, payloads: Sequence[Payload], *, start: int = 1, prev: str = GENESIS_HASH
) -> list[dict[str, Any]]:
    """Wire bodies of consecutive ops from ``start``, linked from ``prev``, as the edge journal seals them."""
    out: list[dict[str, Any]] = []
    recorded = iso_utc(datetime(2026, 1, 5, 8, 0, 1, tzinfo=UTC))
    for i, p in enumerate(payloads):
        body = seal(draft(p), gateway_id=gateway_id, seq=start + i, prev_hash=prev, recorded_at=recorded)
        prev = body["hash"]
        out.append(body)
    return out


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def push(client: TestClient, gateway_id: str, token: str, bodies: list[dict[str, Any]]) -> dict[str, Any]:
    r = client.post(f"/v1/gateways/{gateway_id}/ops", json={"ops": bodies}, headers=auth(token))
    assert r.status_code == 200, r.text
    data: dict[str, Any] = r.json()
    return data


def stock_lines(client: TestClient, token: str, **params: str) -> dict[tuple[str, str, str, str], dict[str, int]]:
    r = client.get("/v1/stock", params={"limit": 1000, **params}, headers=auth(token))
    assert r.status_code == 200, r.text
    return {
        (i["warehouse"], i["sku"], i["lot"], i["location"]): {
            k: i[k] for k in ("on_hand", "available", "reserved", "frozen", "qc_hold", "damaged")
        }
        for i in r.json()["items"]
    }
