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


def test_migrations_produce_the_schema_in_code(db_url: str) -> None:
    engine = make_engine(db_url, pool_size=1)
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), metadata)
        version = conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalar_one()
    engine.dispose()
    assert diff == []
    assert version == "0003"
