"""What every request handler needs, built once per worker by ``create_app`` and kept on ``app.state``."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.engine import Engine

from cloud.auth.security import Passwords
from cloud.events.hub import EventBus, EventHub
from cloud.metrics import CloudMetrics
from cloud.planning.config import DispatchConfig
from cloud.planning.schedule import Planner
from cloud.settings import CloudSettings
from sync.clock import Clock


@dataclass
class Services:
    settings: CloudSettings
    engine: Engine
    hub: EventHub
    bus: EventBus
    clock: Clock
    passwords: Passwords
    metrics: CloudMetrics
    dispatch: DispatchConfig = field(default_factory=DispatchConfig)
    planner: Planner | None = None


async def get_services(request: Request) -> Services:
    """``async`` although it awaits nothing: FastAPI runs a plain ``def`` dependency in its thread pool,
    and a thread hop per request only to read an attribute costs more than the read."""
    services: Services = request.app.state.services
    return services


Svc = Annotated[Services, Depends(get_services)]
