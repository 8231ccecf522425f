"""What every part of a running gateway is handed: one object instead of hidden globals.

Drivers' edge integrations (RFID read points, scanners, cold-chain rules, the fleet master) take an
``EdgeContext`` and use only what is in it, so a test builds one with a ``ManualClock`` and a temporary
journal and runs the real logic.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import structlog
from prometheus_client import CollectorRegistry

from edge.capture.floods import FloodGate
from edge.config import SiteConfig
from edge.floor.service import FloorService
from edge.health import HealthBoard
from edge.identity.stations import StationSessions
from edge.store.journal import Journal
from edge.store.masterdata import MasterData
from edge.store.telemetry import TelemetryBuffer
from sync.clock import Clock

if TYPE_CHECKING:
    from edge.floor.flow import FloorFlow
    from edge.floor.handoff import WebhookOutbox
    from edge.rules.runner import RulesRunner


@dataclass
class EdgeContext:
    config: SiteConfig
    journal: Journal
    telemetry: TelemetryBuffer
    clock: Clock
    health: HealthBoard
    registry: CollectorRegistry
    log: structlog.stdlib.BoundLogger
    sessions: StationSessions = field(default_factory=StationSessions)
    rules: RulesRunner | None = None
    """The rules runner, when one runs: floor events (a temperature reading, a short pick) go to its ``fire``."""
    floods: FloodGate = field(init=False)
    """Where device exceptions go instead of straight to the journal (``edge.capture.floods``)."""
    floor: FloorService = field(init=False)
    """Floor tasks and exception work orders (``edge.floor.service``): ``ctx.floor.create_task(...)``."""
    webhooks: WebhookOutbox | None = field(default=None, init=False)
    """The carrier hand-off's outbox when ``[handoff]`` is configured (``edge.floor.handoff``); the rules
    runner's ``Notifier``. Set by ``open_webhooks``, imported lazily (httpx stays out of a plain gateway)."""
    flow: FloorFlow | None = field(default=None, init=False)
    """Inbound and outbound state (``edge.floor.flow.floor_flow`` makes it on first use)."""

    def __post_init__(self) -> None:
        self.floods = FloodGate(self.journal, self.clock, self.registry)
        self.floor = FloorService(self.journal, self.clock)

    def open_webhooks(self) -> WebhookOutbox | None:
        """Build the outbox from ``[handoff]`` (a bad secret raises ``ValueError`` naming the key)."""
        if self.config.handoff is not None and self.webhooks is None:
            from edge.floor.handoff import WebhookOutbox

            self.webhooks = WebhookOutbox(
                self.journal,
                self.config.handoff,
                clock=self.clock,
                registry=self.registry,
                health=self.health,
                gateway_id=self.gateway_id,
            )
        return self.webhooks

    @property
    def master(self) -> MasterData:
        return self.journal.master

    @property
    def warehouse(self) -> str:
        return self.config.site.warehouse

    @property
    def gateway_id(self) -> str:
        return self.config.site.gateway_id
