"""The one small class through which the agent talks to the cloud (httpx over TLS).

Transport and HTTP errors are translated here into two kinds the agent acts on: ``Transient`` (retry
with backoff: connection refused or cut, timeouts, 5xx, 429) and ``Refused`` (the cloud said no to this
request and will say it again: 4xx; retrying blindly would loop, so it is reported).
"""

from __future__ import annotations

import gzip
import json
import ssl
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx


class SyncError(Exception):
    """Root of the agent's errors."""


class Transient(SyncError):
    """Try again later."""


class Refused(SyncError):
    def __init__(self, status: int, detail: str) -> None:
        super().__init__(f"cloud refused ({status}): {detail}")
        self.status = status
        self.detail = detail


@dataclass(frozen=True)
class PushResult:
    acked_seq: int
    accepted: int
    duplicates: int
    quarantined: list[dict[str, Any]] = field(default_factory=list)


def tls_context(ca_file: Path | None) -> ssl.SSLContext | bool:
    """Verify the cloud's certificate against the system store, or against a site's own CA."""
    if ca_file is None:
        return True
    return ssl.create_default_context(cafile=str(ca_file))


class CloudClient:
    """``async with CloudClient(url, gateway_id, token) as cloud``."""

    def __init__(
        self,
        base_url: str,
        gateway_id: str,
        token: str,
        *,
        ca_file: Path | None = None,
        timeout: float = 30.0,
        compress: bool = True,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.gateway_id = gateway_id
        self.compress = compress
        self._http = httpx.AsyncClient(
            base_url=base_url.rstrip("/"),
            headers={"Authorization": f"Bearer {token}", "User-Agent": f"wims-edge/{gateway_id}"},
            timeout=httpx.Timeout(timeout, connect=min(timeout, 10.0)),
            verify=tls_context(ca_file),
            transport=transport,
        )

    async def __aenter__(self) -> CloudClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self._http.aclose()

    async def _request(self, method: str, url: str, **kw: Any) -> httpx.Response:
        try:
            r = await self._http.request(method, url, **kw)
        except httpx.TransportError as exc:  # refused, reset, cut mid-response, timeout, TLS failure
            raise Transient(f"{type(exc).__name__}: {exc}") from exc
        if r.status_code >= 500 or r.status_code in (408, 409, 425, 429):
            raise Transient(f"cloud answered {r.status_code}: {r.text[:200]}")
        if r.status_code >= 400:
            raise Refused(r.status_code, r.text[:500])
        return r

    async def push(self, wire_ops: list[bytes]) -> PushResult:
        """POST a batch of ops (already wire-encoded, in seq order), gzip-compressed."""
        body = b'{"ops":[' + b",".join(wire_ops) + b"]}"
        headers = {"Content-Type": "application/json"}
        if self.compress:
            body = gzip.compress(body, compresslevel=5)
            headers["Content-Encoding"] = "gzip"
        r = await self._request("POST", f"/v1/gateways/{self.gateway_id}/ops", content=body, headers=headers)
        data = r.json()
        return PushResult(
            int(data["acked_seq"]),
            int(data.get("accepted", 0)),
            int(data.get("duplicates", 0)),
            list(data.get("quarantined", [])),
        )

    async def push_telemetry(self, aggregates: list[dict[str, Any]]) -> int:
        body = json.dumps({"aggregates": aggregates}).encode()
        headers = {"Content-Type": "application/json"}
        if self.compress:
            body = gzip.compress(body, compresslevel=5)
            headers["Content-Encoding"] = "gzip"
        r = await self._request("POST", f"/v1/gateways/{self.gateway_id}/telemetry", content=body, headers=headers)
        return int(r.json()["stored"])

    async def push_masterdata(self, catalogue: dict[str, Any]) -> dict[str, Any]:
        """Send the site's master data for the cloud to import (its first sync, or a changed site file)."""
        body = json.dumps(catalogue).encode()
        headers = {"Content-Type": "application/json"}
        if self.compress:
            body = gzip.compress(body, compresslevel=5)
            headers["Content-Encoding"] = "gzip"
        r = await self._request("POST", f"/v1/gateways/{self.gateway_id}/masterdata", content=body, headers=headers)
        result: dict[str, Any] = r.json()
        return result

    async def put_status(self, status: dict[str, Any]) -> dict[str, Any]:
        """Report this gateway's state (backlog, parts' health, layout when asked); the cloud's answer."""
        body = json.dumps(status, separators=(",", ":")).encode()
        headers = {"Content-Type": "application/json"}
        if self.compress and len(body) > 4096:
            body = gzip.compress(body, compresslevel=5)
            headers["Content-Encoding"] = "gzip"
        r = await self._request("PUT", f"/v1/gateways/{self.gateway_id}/status", content=body, headers=headers)
        answer: dict[str, Any] = r.json()
        return answer

    async def head(self) -> int:
        """The cloud's highest contiguous seq for this gateway."""
        r = await self._request("GET", f"/v1/gateways/{self.gateway_id}/head")
        return int(r.json()["acked_seq"])

    async def commands(self, after: int, wait: float) -> tuple[list[dict[str, Any]], int]:
        r = await self._request(
            "GET", f"/v1/gateways/{self.gateway_id}/commands", params={"after": after, "wait": wait}, timeout=wait + 30
        )
        data = r.json()
        return list(data["items"]), int(data["next_after"])
