"""The ``[fleet]`` section of a site config: broker, charging thresholds, release window and layout.

Kept here so the fleet owns its settings; ``edge.config.SiteConfig`` gains ``fleet: FleetConfig | None``.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, model_validator

from edge.fleet.layout import Layout


class FleetConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    broker_host: str = "127.0.0.1"
    broker_port: int = Field(default=1883, ge=1, le=65535)
    interface: str = Field(default="uagv", pattern=r"^[A-Za-z0-9_.\-]+$")
    client_id: str = "wims-fleet-master"
    min_charge: float = Field(default=25.0, ge=0, le=100, description="Below this an idle AGV goes to charge.")
    task_charge: float = Field(default=35.0, ge=0, le=100, description="Least charge to be given a task.")
    charge_until: float = Field(default=90.0, ge=0, le=100, description="A charging AGV is released here.")
    release_ahead: int = Field(default=2, ge=1, le=20, description="Released nodes beyond the AGV's position.")
    assignment: str = Field(default="nearest", pattern="^(nearest|first_idle)$")
    layout: Layout

    @model_validator(mode="after")
    def _thresholds_ordered(self) -> FleetConfig:
        if not self.min_charge <= self.task_charge <= self.charge_until:
            raise ValueError("need min_charge <= task_charge <= charge_until")
        return self
