"""Fixtures for the Modbus tests: the firmware_sim package, and a guard against leaked tasks."""

from __future__ import annotations

import asyncio
import importlib.util
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def import_firmware_sim() -> None:
    """firmware-sim/ is the import package firmware_sim; register it if the install does not map it."""
    try:
        import firmware_sim  # noqa: F401
    except ImportError:
        spec = importlib.util.spec_from_file_location(
            "firmware_sim", ROOT / "firmware-sim" / "__init__.py",
            submodule_search_locations=[str(ROOT / "firmware-sim")],
        )
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules["firmware_sim"] = module
        spec.loader.exec_module(module)


import_firmware_sim()


@pytest.fixture(autouse=True)
async def no_leaked_tasks() -> AsyncIterator[None]:
    """Fail a test that leaves tasks running: a driver that leaks tasks dies in week three."""
    before = asyncio.all_tasks()
    yield
    for _ in range(5):
        await asyncio.sleep(0)
    leaked = [t for t in asyncio.all_tasks() - before if not t.done() and t is not asyncio.current_task()]
    assert not leaked, f"leaked tasks: {leaked}"
