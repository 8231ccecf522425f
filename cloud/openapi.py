"""Write the OpenAPI document: ``python -m cloud.openapi [path]`` (default ``docs/openapi.json``).

The committed copy is what outside systems read; a test fails when it no longer matches the app.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from cloud.app import create_app
from cloud.settings import CloudSettings


def document() -> dict[str, Any]:
    # an in-memory database: building the app must not touch a real one
    return create_app(CloudSettings(database_url="sqlite:///:memory:")).openapi()


def render() -> str:
    return json.dumps(document(), indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def main(argv: list[str]) -> None:
    path = Path(argv[0] if argv else "docs/openapi.json")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render())
    print(f"wrote {path}")


if __name__ == "__main__":
    main(sys.argv[1:])
