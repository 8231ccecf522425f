"""What each part of the gateway says of itself, for ``/healthz`` and ``/metrics``.

A driver that loses its device marks itself degraded here and keeps retrying; the gateway stays up.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from sync.times import iso_z

Status = Literal["ok", "degraded", "down", "starting"]


@dataclass
class ComponentHealth:
    status: Status
    detail: str
    since: datetime
    facts: dict[str, Any] = field(default_factory=dict)


class HealthBoard:
    def __init__(self) -> None:
        self._parts: dict[str, ComponentHealth] = {}
        self._refreshers: dict[str, Callable[[], None]] = {}

    def refresh_with(self, component: str, refresh: Callable[[], None] | None) -> None:
        """Have ``refresh`` set the component's state afresh whenever a snapshot is read (``None`` stops it).

        For parts whose figures move without an event of their own (the sync backlog grows with every
        append), so that ``/healthz`` never shows a figure older than the request.
        """
        if refresh is None:
            self._refreshers.pop(component, None)
        else:
            self._refreshers[component] = refresh

    def set(self, component: str, status: Status, detail: str, at: datetime, **facts: Any) -> None:
        prev = self._parts.get(component)
        since = prev.since if prev is not None and prev.status == status else at
        self._parts[component] = ComponentHealth(status, detail, since, dict(facts))

    def get(self, component: str) -> ComponentHealth | None:
        return self._parts.get(component)

    def remove(self, component: str) -> None:
        self._parts.pop(component, None)

    @property
    def overall(self) -> Status:
        statuses = {p.status for p in self._parts.values()}
        if "down" in statuses:
            return "degraded"  # one lost device degrades the gateway, it does not stop it
        if "degraded" in statuses or "starting" in statuses:
            return "degraded"
        return "ok"

    def snapshot(self) -> dict[str, Any]:
        for refresh in list(self._refreshers.values()):
            refresh()
        return {
            "status": self.overall,
            "components": {
                name: {"status": p.status, "detail": p.detail, "since": iso_z(p.since), **p.facts}
                for name, p in sorted(self._parts.items())
            },
        }
