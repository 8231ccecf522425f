"""One real network per module: a cloud on its own PostgreSQL database, two gateways syncing to it,
and Debian's chromium; pages are screenshotted into ``var/screenshots`` as the tests go."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support.web import CHROMIUM, Network, drop_database, launch_chromium, new_database, start_network

pytestmark = pytest.mark.postgres


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: .ci/system-deps.sh installs Debian's chromium")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = launch_chromium(pw)
        try:
            yield b
        finally:
            b.close()


@pytest.fixture(scope="module")
def network(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Network]:
    tmp = tmp_path_factory.mktemp("web")
    url = new_database()
    net = start_network(tmp, url, ["WH-A", "WH-B"])
    try:
        yield net
    finally:
        net.stop()
        drop_database(url)
        shutil.rmtree(tmp, ignore_errors=True)
