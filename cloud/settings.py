"""One settings object for the cloud service, read from ``WIMS_*`` environment variables.

Passed explicitly to ``create_app`` and the CLI so that tests can run several services side by side
without touching the process environment.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from cloud.auth.security import Passwords


class CloudSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="WIMS_", extra="ignore")

    database_url: str = Field(
        default="sqlite:///var/wims-cloud.sqlite",
        description="SQLAlchemy URL; postgresql:// URLs are run with psycopg 3.",
    )
    token_ttl_s: int = Field(default=12 * 3600, ge=60, description="Lifetime of a user login token.")
    max_batch: int = Field(default=5000, ge=1, description="Most ops accepted in one ingest request.")
    events_channel: str = Field(default="wims_events", pattern=r"^[a-z_][a-z0-9_]*$")
    sse_keepalive_s: float = Field(default=15.0, gt=0)
    max_long_poll_s: float = Field(default=60.0, gt=0)
    max_body_bytes: int = Field(
        default=8 << 20,
        ge=1024,
        description="Largest request body accepted (after gzip inflation too); a larger one gets 413 naming it.",
    )
    pool_size: int = Field(default=10, ge=1)
    shutdown_grace_s: float = Field(
        default=5.0,
        ge=0,
        le=60,
        description="On SIGTERM, how long requests in flight may take to finish before they are cancelled.",
    )
    password_time_cost: int = Field(
        default=3, ge=1, le=100, description="argon2 passes per password hash (argon2-cffi's default, about 50 ms)."
    )
    password_memory_kib: int = Field(
        default=65536, ge=8, le=4 * 1024 * 1024, description="argon2 memory per password hash, in KiB (64 MiB)."
    )

    site_offline_after_s: float = Field(
        default=60.0, gt=0, description="A site whose gateway has not reported for this long shows as offline."
    )
    work_order_sla_h: float = Field(default=24.0, gt=0, description="An open work order older than this is an alert.")
    display_tz: str = Field(default="UTC", description="Time zone the pages show times in (IANA name).")
    cookie_secure: bool = Field(
        default=False, description="Send the browser session cookie over HTTPS only (set it when serving TLS)."
    )
    rollup_interval_s: float = Field(
        default=5.0, gt=0, description="How often a worker rolls new ops up into the report facts (PostgreSQL)."
    )

    planning_file: Path | None = Field(
        default=None,
        description="TOML with [planning] (incl. schedule), [transfers] and [webhooks] (cloud/planning/config.py).",
    )

    def passwords(self) -> Passwords:
        """The password hasher at this deployment's cost."""
        return Passwords(time_cost=self.password_time_cost, memory_kib=self.password_memory_kib)
