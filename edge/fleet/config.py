"""The ``[fleet]`` section of a site config: broker, traffic policy, charging thresholds, release window, layout.

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
    traffic: str = Field(
        default="timed",
        pattern="^(timed|reservations)$",
        description="timed: paths planned in time over a rolling horizon (edge.fleet.planner); "
        "reservations: first come first served node reservations with wait-cycle detours (the earlier scheme).",
    )
    horizon_seconds: float = Field(default=30.0, ge=5, le=600, description="How far ahead paths are timed.")
    action_seconds: float = Field(default=4.0, ge=0, le=600, description="Expected time of a pick or drop.")
    congestion_seconds: float = Field(
        default=1.0, ge=0, le=60, description="Extra cost a route pays per vehicle already planned through a node."
    )
    late_seconds: float = Field(default=6.0, ge=1, le=600, description="Behind plan by this much: re-plan.")
    replans_per_tick: int = Field(
        default=25, ge=1, le=10000, description="Vehicles re-planned per tick (a second) at most; the rest wait."
    )
    park_after_seconds: float = Field(
        default=3.0,
        ge=0,
        le=600,
        description="timed: an AGV that has finished waits this long for its next task before it goes to park "
        "(the planner routes others round it meanwhile; parked at once, it was busy on its way to the park "
        "spot when the next task came, which then waited for it or took a vehicle further off).",
    )
    assign_congestion_seconds: float = Field(
        default=0.0,
        ge=0,
        le=60,
        description="Extra cost, in assignment, per vehicle planned through the way to the pick-up (timed only; "
        "see edge.fleet.assign).",
    )
    nodes_per_working_agv: int = Field(
        default=12,
        ge=0,
        le=10000,
        description="At most one AGV on a task per this many layout nodes (never fewer than ten AGVs); 0: no limit.",
    )
    charge_ahead: float = Field(
        default=50.0, ge=0, le=100, description="Below this an idle AGV charges when a charger is free anyway."
    )
    layout: Layout

    @model_validator(mode="after")
    def _thresholds_ordered(self) -> FleetConfig:
        if not self.min_charge <= self.task_charge <= self.charge_until:
            raise ValueError("need min_charge <= task_charge <= charge_until")
        if not self.min_charge <= self.charge_ahead <= self.charge_until:
            raise ValueError("charge_ahead: need min_charge <= charge_ahead <= charge_until")
        return self
