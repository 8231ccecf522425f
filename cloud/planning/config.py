"""The cloud's dispatch configuration: one TOML file (``WIMS_PLANNING_FILE``) with three sections.

- ``[planning]``: ``PlanningSettings`` (engine, forecast, rebalance, service levels) and ``schedule``;
- ``[transfers]``: when a transfer order is approved without a planner, and whether approval releases it;
- ``[webhooks]``: where transport is told about transfers, the signing secret and the retry policy;
- ``[events.NAME]``: the network's own promotion events (``calendar.PromotionEvent``) warehouses take part in.

Without the file every default holds (planning only on demand, every transfer waits for a planner, no
webhook). An error names the file and the dotted key, as the site config does.
"""

from __future__ import annotations

import tomllib
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from cloud.planning.calendar import PromotionEvent
from cloud.planning.settings import PlanningSettings


class TransferSettings(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    auto_approve_below: float = Field(
        default=0.0, ge=0, description="A transfer worth less than this (goods at cost price) is approved at once."
    )
    release_on_approve: bool = Field(
        default=True, description="Approval sends the transfer_order command to the source gateway at once."
    )
    max_split: int = Field(default=3, ge=1, le=10, description="Most parcels an order is split into (routing).")


class WebhookSettings(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    url: str = Field(default="", description="Transport's endpoint; empty: events are kept, not sent.")
    secret: str = Field(default="", description='Standard Webhooks secret ("whsec_" + base64).')
    max_attempts: int = Field(default=12, ge=1, le=100)
    backoff_s: float = Field(default=5.0, gt=0, description="First retry delay; doubles each attempt.")
    backoff_max_s: float = Field(default=3600.0, gt=0)
    poll_s: float = Field(default=2.0, gt=0, description="How often a worker looks for events to send.")
    timeout_s: float = Field(default=10.0, gt=0)


class DispatchConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    planning: PlanningSettings = PlanningSettings()
    events: dict[str, PromotionEvent] = Field(
        default_factory=dict, description="The network's own promotions ([events.NAME]), as warehouses name them."
    )
    transfers: TransferSettings = TransferSettings()
    webhooks: WebhookSettings = WebhookSettings()


class DispatchConfigError(ValueError):
    pass


def load_dispatch_config(path: Path | None) -> DispatchConfig:
    """The file's configuration (defaults when ``path`` is None); ``DispatchConfigError`` names file and key."""
    if path is None:
        return DispatchConfig()
    try:
        data = tomllib.loads(path.read_text())
    except OSError as exc:
        raise DispatchConfigError(f"{path}: cannot read: {exc.strerror}") from None
    except tomllib.TOMLDecodeError as exc:
        raise DispatchConfigError(f"{path}: not valid TOML: {exc}") from None
    try:
        return DispatchConfig.model_validate(data)
    except ValidationError as exc:
        e = exc.errors()[0]
        where = ".".join(str(p) for p in e["loc"])
        raise DispatchConfigError(f"{path}: {where}: {e['msg']}") from None
