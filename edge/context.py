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

    def __post_init__(self) -> None:
        self.floods = FloodGate(self.journal, self.clock, self.registry)
        self.floor = FloorService(self.journal, self.clock)

    @property
    def master(self) -> MasterData:
        return self.journal.master

    @property
    def warehouse(self) -> str:
        return self.config.site.warehouse

    @property
    def gateway_id(self) -> str:
        return self.config.site.gateway_id
