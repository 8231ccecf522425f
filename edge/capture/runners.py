"""Which code runs a configured device, by ``kind``.

Runners are imported lazily by dotted path, so a gateway whose site has no badge reader never imports
pyscard, and a driver that fails to import degrades only its own devices. A runner is
``async def run(device: Device, ctx: EdgeContext) -> None`` that runs until cancelled, reconnecting on
its own and reporting through ``ctx.health``.
"""

from __future__ import annotations

import importlib
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

from edge.config import Device

if TYPE_CHECKING:
    from edge.context import EdgeContext

DeviceRunner = Callable[[Device, "EdgeContext"], Awaitable[None]]

RUNNERS: dict[str, str] = {
    "rfid": "edge.capture.rfid:run_rfid_device",
    "scanner": "edge.capture.scan:run_scanner_device",
    "camera": "edge.capture.camera:run_camera_device",
    "modbus": "edge.capture.modbus:run_modbus_device",
    "badge": "edge.capture.badge:run_badge_device",
}
"""AGVs are not devices here: the fleet master serves every AGV on the site's broker, started once from
the ``[fleet]`` section (``edge.fleet.runner.run_fleet``)."""


class PartUnavailable(RuntimeError):
    """A part cannot run on this gateway and retrying will not change that (an optional package is not
    installed): raised by a runner at start, shown at once in health as ``down`` with the message, and
    not retried. The message says what to install."""


class NoRunner(LookupError):
    """No runner is installed for this device kind (its driver is missing or failed to import)."""


def runner_for(kind: str) -> DeviceRunner:
    path = RUNNERS.get(kind)
    if path is None:
        raise NoRunner(f"no runner for device kind {kind!r}")
    module_name, _, attr = path.partition(":")
    try:
        module = importlib.import_module(module_name)
        runner: DeviceRunner = getattr(module, attr)
    except (ImportError, AttributeError) as exc:
        raise NoRunner(f"runner {path} for {kind!r} devices is not available: {exc}") from exc
    return runner
