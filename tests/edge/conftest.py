"""Fixtures for the edge core: a small site and an open journal (helpers in ``tests.support.edge``)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from edge.config import SiteConfig, parse_config
from edge.store.journal import Journal
from tests.support.edge import open_journal, site_dict


@pytest.fixture
def site(tmp_path: Path) -> SiteConfig:
    return parse_config(site_dict(tmp_path))


@pytest.fixture
async def journal(site: SiteConfig) -> AsyncIterator[Journal]:
    async with open_journal(site) as j:
        yield j
