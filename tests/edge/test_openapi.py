"""The committed OpenAPI document of the gateway API matches the app, and says what the API does."""

from __future__ import annotations

import json
from pathlib import Path

from edge.api.openapi import render

ROOT = Path(__file__).resolve().parents[2]


def test_committed_edge_openapi_is_current() -> None:
    committed = (ROOT / "docs" / "openapi-edge.json").read_text()
    assert committed == render(), "docs/openapi-edge.json is stale: run `python -m edge.api.openapi`"


def test_the_document_tells_the_truth() -> None:
    doc = json.loads((ROOT / "docs" / "openapi-edge.json").read_text())
    assert doc["components"]["securitySchemes"]["bearer"]["scheme"] == "bearer"
    post = doc["paths"]["/v1/ops"]["post"]
    assert {"201", "401", "403", "409", "413", "422"} <= set(post["responses"])
    assert post["responses"]["201"]["content"]["application/json"]["schema"]["$ref"].endswith("/Op")
    for path, item in doc["paths"].items():
        for op in item.values():
            for status, answer in op["responses"].items():
                if status[0] in "45" or status == "default":
                    assert answer["content"]["application/json"]["schema"]["$ref"].endswith("/ErrorBody"), path
    assert "HTTPValidationError" not in doc["components"]["schemas"]
    assert doc["paths"]["/metrics"]["get"]["responses"]["200"]["content"].keys() == {"text/plain"}
    assert doc["paths"]["/v1/ops/{seq}"]["get"]["parameters"][0]["schema"]["maximum"] == 2**63 - 1
