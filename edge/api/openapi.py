"""Write the gateway API's OpenAPI document: ``python -m edge.api.openapi [path]`` (default
``docs/openapi-edge.json``).

Built from a small site with a token, over a throwaway journal, so the document does not depend on any
real site; the committed copy is what handhelds and scripts read, and a test fails when it no longer
matches the app.
"""

from __future__ import annotations

import asyncio
import json
import sys
import tempfile
from pathlib import Path
from typing import Any

import structlog
from prometheus_client import CollectorRegistry

from edge.api.app import create_app
from edge.config import parse_config
from edge.context import EdgeContext
from edge.health import HealthBoard
from edge.store.journal import Journal
from edge.store.masterdata import MasterData
from edge.store.telemetry import TelemetryBuffer
from sync.clock import SystemClock


async def _document(tmp: Path) -> dict[str, Any]:
    cfg = parse_config(
        {
            "site": {"gateway_id": "gw-doc", "warehouse": "WH-DOC"},
            "store": {"path": str(tmp / "doc.sqlite")},
            "api": {"token": "documentation-token-0000"},
        }
    )
    registry = CollectorRegistry()
    clock = SystemClock()
    async with Journal(
        cfg.store.path, gateway_id="gw-doc", warehouse="WH-DOC", master=MasterData(), clock=clock
    ) as journal:
        ctx = EdgeContext(
            cfg,
            journal,
            TelemetryBuffer(journal, registry=registry),
            clock,
            HealthBoard(),
            registry,
            structlog.stdlib.get_logger("openapi"),
        )
        doc = create_app(ctx).openapi()
    doc["info"]["title"] = "WIMS edge gateway"
    return doc


def document() -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        return asyncio.run(_document(Path(tmp)))


def render() -> str:
    return json.dumps(document(), indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def main(argv: list[str]) -> None:
    path = Path(argv[0] if argv else "docs/openapi-edge.json")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render())
    print(f"wrote {path}")


if __name__ == "__main__":
    main(sys.argv[1:])
