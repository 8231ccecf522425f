"""A small site, its journal and a real EdgeContext over it: what the edge-facing suites build on."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import structlog
from prometheus_client import CollectorRegistry

from edge.config import SiteConfig
from edge.context import EdgeContext
from edge.health import HealthBoard
from edge.store.journal import Journal
from edge.store.masterdata import MasterData
from edge.store.telemetry import TelemetryBuffer
from sync.clock import Clock
from sync.codes import gtin14

SKUS = [f"SKU-{i}" for i in range(6)]
LOCATIONS = ["DOCK", "A-01", "A-02", "B-01", "STAGE"]


def site_dict(tmp_path: Path, **site: Any) -> dict[str, Any]:
    return {
        "site": {"gateway_id": "gw-test", "warehouse": "WH-T", **site},
        "store": {"path": str(tmp_path / "edge.sqlite")},
        "api": {"port": 0},
        "zones": [{"code": "Z", "temperature_class": "chilled", "temp_min_c": 2, "temp_max_c": 8}],
        "locations": [{"code": c, "zone": "Z"} for c in LOCATIONS],
        "skus": [{"code": s, "gtin": gtin14(i + 1)} for i, s in enumerate(SKUS)],
        "operators": [{"id": "op1", "roles": ["operator"]}, {"id": "sup1", "roles": ["supervisor"]}],
    }


def open_journal(cfg: SiteConfig, path: Path | None = None, **kw: Any) -> Journal:
    """The site's journal, at its store path unless ``path`` says otherwise."""
    return Journal(
        path or cfg.store.path,
        gateway_id=cfg.site.gateway_id,
        warehouse=cfg.site.warehouse,
        master=MasterData.from_config(cfg),
        allow_negative_stock=cfg.site.allow_negative_stock,
        **kw,
    )


@asynccontextmanager
async def edge_context(
    cfg: SiteConfig, clock: Clock, *, path: Path | None = None, logger: str = "test"
) -> AsyncIterator[EdgeContext]:
    """A real EdgeContext over the site's journal (at ``path`` if given), as a gateway builds one."""
    registry = CollectorRegistry()
    async with open_journal(cfg, path, clock=clock, registry=registry) as journal:
        yield EdgeContext(
            cfg,
            journal,
            TelemetryBuffer(journal, registry=registry),
            clock,
            HealthBoard(),
            registry,
            structlog.stdlib.get_logger(logger),
        )
