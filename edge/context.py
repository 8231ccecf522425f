"""What every part of a running gateway is handed: one object instead of hidden globals.

Drivers' edge integrations (RFID read points, scanners, cold-chain rules, the fleet master) take an
``EdgeContext`` and use only what is in it, so a test builds one with a ``ManualClock`` and a temporary
journal and runs the real logic.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from typing import TYPE_CHECKING, Any

import structlog
from prometheus_client import CollectorRegistry

from edge.capture.floods import FloodGate
from edge.config import SiteConfig
from edge.floor.service import FloorService
from edge.health import HealthBoard
from edge.identity.sessions import OperatorSessions
from edge.identity.stations import StationSessions
from edge.store.journal import Journal
from edge.store.masterdata import MasterData
from edge.store.telemetry import TelemetryBuffer
from sync.clock import Clock

if TYPE_CHECKING:
    from edge.floor.flow import FloorFlow
    from edge.floor.handoff import WebhookOutbox
    from edge.floor.transport import TransportService
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
    transport: TransportService | None = None
    """Accepted AGV transport tasks (``edge.floor.transport``), on a site with a ``[fleet]``."""
    floods: FloodGate = field(init=False)
    """Where device exceptions go instead of straight to the journal (``edge.capture.floods``)."""
    operator_sessions: OperatorSessions = field(init=False)
    """PIN and badge sessions of the local API (``edge.identity.sessions``)."""
    floor: FloorService = field(init=False)
    """Floor tasks and exception work orders (``edge.floor.service``): ``ctx.floor.create_task(...)``."""
    webhooks: WebhookOutbox | None = field(default=None, init=False)
    """The carrier hand-off's outbox when ``[handoff]`` is configured (``edge.floor.handoff``); the rules
    runner's ``Notifier``. Set by ``open_webhooks``, imported lazily (httpx stays out of a plain gateway)."""
    flow: FloorFlow | None = field(default=None, init=False)
    """Inbound and outbound state (``edge.floor.flow.floor_flow`` makes it on first use)."""

    def __post_init__(self) -> None:
        self.floods = FloodGate(self.journal, self.clock, self.registry)
        self.floor = FloorService(self.journal, self.clock, self.registry)
        self.operator_sessions = OperatorSessions(
            self.journal,
            self.clock,
            self.sessions,
            self.floods.record,
            ttl=timedelta(minutes=self.config.api.session_minutes),
        )

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
                open_work_order=self._handoff_work_order,
                on_failed=self._handoff_failed,
            )
        return self.webhooks

    async def _handoff_work_order(self, fact_key: str, wo_type: str, description: str) -> str | None:
        """A delivery refused for good: one work order for it, routed by ``ctx.floor`` (planner, SLA), unless
        the site's rules open it on their ``handoff_failed`` event (then ``None``: theirs is the one)."""
        if self.flow_rules_open("handoff_failed"):
            return None
        row = await self.floor.open_work_order(
            fact_key, wo_type, actor="system:handoff", description=description, ref=fact_key[:200]
        )
        return row.work_order_id

    def flow_rules_open(self, event: str) -> bool:
        from edge.floor.flow import floor_flow

        return floor_flow(self).rules_open_work_orders(event)

    async def _handoff_failed(self, event_type: str, data: dict[str, Any], attempts: int, status: int | None) -> None:
        """Tell the rules (``handoff_failed``) about a failed shipment hand-off."""
        if self.rules is None or not data.get("order_id") or self.config.handoff is None:
            return
        from edge.rules.events import HandoffFailed

        await self.rules.fire(
            HandoffFailed(
                order_id=str(data["order_id"]),
                endpoint=self.config.handoff.url,
                attempts=attempts,
                status=status,
                occurred_at=self.clock.now(),
            )
        )

    @property
    def master(self) -> MasterData:
        return self.journal.master

    @property
    def warehouse(self) -> str:
        return self.config.site.warehouse

    @property
    def gateway_id(self) -> str:
        return self.config.site.gateway_id
