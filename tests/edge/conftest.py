"""Fixtures for the edge core: a small site, an open journal, and a guard against leaked tasks/threads."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
import structlog
from prometheus_client import CollectorRegistry

from edge.config import SiteConfig, gtin14, parse_config
from edge.context import EdgeContext
from edge.health import HealthBoard
from edge.store.journal import Journal
from edge.store.masterdata import MasterData
from edge.store.telemetry import TelemetryBuffer
from sync.clock import Clock

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


@pytest.fixture
def site(tmp_path: Path) -> SiteConfig:
    return parse_config(site_dict(tmp_path))


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


@pytest.fixture
async def journal(site: SiteConfig) -> AsyncIterator[Journal]:
    async with open_journal(site) as j:
        yield j


@pytest.fixture(autouse=True)
def no_leaks() -> Iterator[None]:
    """A daemon that leaks tasks or threads dies in week three: fail the test that leaks one."""
    threads_before = {t.ident for t in threading.enumerate()}
    yield
    deadline = 50
    while deadline:
        extra = [
            t
            for t in threading.enumerate()
            if t.ident not in threads_before
            and t.is_alive()
            and not t.name.startswith(("asyncio_", "ThreadPoolExecutor"))
        ]
        if not extra:
            break
        deadline -= 1
        threading.Event().wait(0.05)
    assert not extra, f"leaked threads: {[t.name for t in extra]}"


@pytest.fixture(autouse=True)
async def no_task_leaks() -> AsyncIterator[None]:
    before = set(asyncio.all_tasks())
    yield
    await asyncio.sleep(0)
    leaked = [t for t in asyncio.all_tasks() - before if not t.done() and t is not asyncio.current_task()]
    assert not leaked, f"leaked tasks: {[t.get_name() for t in leaked]}"


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
