"""The committed OpenAPI document and the Alembic migrations both match the code."""

from __future__ import annotations

import json
from pathlib import Path

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from cloud.db.engine import make_engine
from cloud.db.schema import metadata
from cloud.openapi import render

ROOT = Path(__file__).resolve().parents[2]


def test_committed_openapi_is_current() -> None:
    committed = (ROOT / "docs" / "openapi.json").read_text()
    assert committed == render(), "docs/openapi.json is stale: run `python -m cloud.openapi`"
    doc = json.loads(committed)
    assert "/v1/gateways/{gateway_id}/ops" in doc["paths"]
    body = doc["paths"]["/v1/gateways/{gateway_id}/ops"]["post"]["requestBody"]
    assert "ops" in body["content"]["application/json"]["schema"]["properties"]


def test_the_document_tells_the_truth() -> None:
    doc = json.loads((ROOT / "docs" / "openapi.json").read_text())
    assert doc["components"]["securitySchemes"]["bearer"] == {
        "type": "http",
        "scheme": "bearer",
        "description": doc["components"]["securitySchemes"]["bearer"]["description"],
    }
    for path, item in doc["paths"].items():
        for method, op in item.items():
            answers = op["responses"]
            if op.get("security"):
                assert {"401", "403"} <= set(answers), (method, path)
            if op.get("requestBody"):
                assert {"413", "422"} <= set(answers), (method, path)
            for status, answer in answers.items():
                if status[0] in "45" or status == "default":
                    assert answer["content"]["application/json"]["schema"]["$ref"].endswith("/ErrorBody")
    assert doc["paths"]["/v1/work-orders/{work_order_id}/close"]["post"]["responses"].keys() >= {"404", "409"}
    assert doc["paths"]["/metrics"]["get"]["responses"]["200"]["content"].keys() == {"text/plain"}
    ops = doc["paths"]["/v1/gateways/{gateway_id}/ops"]["post"]["requestBody"]["content"]["application/json"]
    assert ops["schema"]["properties"]["ops"]["maxItems"] == 5000  # WIMS_MAX_BATCH, as enforced
    page = doc["components"]["schemas"]["Page_LocationLine_"]
    assert set(page["required"]) == {"items", "next_after"}
    assert "HTTPValidationError" not in doc["components"]["schemas"]


EXPRESSION_INDEXES = {"ix_ops_order_id"}
"""Alembic cannot match an index on an expression between the code and the database: checked below."""


def _not_an_expression_index(_obj: object, name: str | None, type_: str, _reflected: bool, _other: object) -> bool:
    return not (type_ == "index" and name in EXPRESSION_INDEXES)


def test_migrations_produce_the_schema_in_code(db_url: str) -> None:
    engine = make_engine(db_url, pool_size=1)
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"include_object": _not_an_expression_index})
        diff = compare_metadata(context, metadata)
        indexes = {i["name"] for i in sa.inspect(conn).get_indexes("ops")}
        # PostgreSQL only: the dashboard finds an order's pick and ship ops through it
        assert ("ix_ops_order_id" in indexes) == db_url.startswith("postgresql")
        version = conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalar_one()
    engine.dispose()
    assert diff == []
    assert version == "0006"
