"""Ingest's PostgreSQL tail (pipelined statements) and the engine's idle-only ping.

The scenario tests run on both backends (``cloud`` fixture): SQLite takes the SQLAlchemy path, PostgreSQL
the pipelined one, and both must leave the same rows behind.
"""

from __future__ import annotations

import json
import threading
import time
from typing import Any

import psycopg
import pytest
import sqlalchemy as sa

from cloud.audit.log import verify
from cloud.db import engine as db_engine
from cloud.db.engine import make_engine
from cloud.db.schema import audit_log, quarantine
from sync.ops import ReceivePayload, TransferOutPayload
from tests.cloud.conftest import Cloud
from tests.cloud.helpers import chain, push


def _rows(url: str, query: Any) -> list[Any]:
    engine = make_engine(url, pool_size=1)
    try:
        with engine.connect() as conn:
            return list(conn.execute(query).all())
    finally:
        engine.dispose()


def test_one_batch_with_every_tail_statement(cloud: Cloud) -> None:
    """New ops with serials and a transfer, a quarantined body resolved, a new bad op: one transaction."""
    bodies = chain(
        "GW-A",
        [
            ReceivePayload(sku="S", location="DOCK", qty=5, serials=["SN-1", "SN-2"]),
            TransferOutPayload(sku="S", transfer_id="T-1", to_warehouse="WH-B", location="DOCK", qty=2),
            ReceivePayload(sku="S", location="DOCK", qty=1),
        ],
    )
    early = push(cloud.client, "GW-A", cloud.gw["GW-A"], bodies[2:])  # a gap: quarantined
    assert [q["seq"] for q in early["quarantined"]] == [3]
    tampered = dict(bodies[2], actor="someone-else")  # after seq 3 it is a fork of a stored seq
    res = push(cloud.client, "GW-A", cloud.gw["GW-A"], [*bodies, tampered])
    assert (res["acked_seq"], res["accepted"]) == (3, 3)
    assert [q["seq"] for q in res["quarantined"]] == [3]
    q = {(r.seq, r.resolved) for r in _rows(cloud.url, sa.select(quarantine.c.seq, quarantine.c.resolved))}
    assert q == {(3, True), (3, False)}  # the gap's copy resolved, the tampered one kept open
    transit = cloud.client.get("/v1/stock/transit", headers=cloud.h("admin")).json()
    assert [(t["transfer_id"], t["in_transit"]) for t in transit["items"]] == [("T-1", 2)]
    entries = _rows(cloud.url, sa.select(audit_log.c.action, audit_log.c.detail).order_by(audit_log.c.id))
    ingest = [json.loads(e.detail) for e in entries if e.action == "ops.ingest"]
    assert ingest[-1] == {"accepted": 3, "acked_seq": 3, "duplicates": 0, "first_seq": 1, "quarantined": [3]}
    assert cloud.client.get("/v1/audit/verify", headers=cloud.h("auditor")).json()["ok"] is True


def test_quarantine_only_batch_is_audited(cloud: Cloud) -> None:
    bodies = chain("GW-A", [ReceivePayload(sku="S", location="DOCK", qty=1) for _ in range(3)])
    res = push(cloud.client, "GW-A", cloud.gw["GW-A"], bodies[1:])
    assert res["accepted"] == 0 and len(res["quarantined"]) == 2
    entries = _rows(cloud.url, sa.select(audit_log.c.action, audit_log.c.detail).order_by(audit_log.c.id))
    assert json.loads(entries[-1].detail)["quarantined"] == [2, 3]
    assert cloud.client.get("/v1/audit/verify", headers=cloud.h("auditor")).json()["ok"] is True


@pytest.mark.postgres
def test_concurrent_gateways_keep_one_audit_chain(cloud: Cloud) -> None:
    """The audit head is read after the lock, in a later statement: no two entries share a predecessor."""
    if not cloud.url.startswith("postgresql"):
        pytest.skip("PostgreSQL only")
    errors: list[BaseException] = []

    def run(gw: str) -> None:
        try:
            bodies = chain(gw, [ReceivePayload(sku="S", location="DOCK", qty=1) for _ in range(40)])
            for i in range(0, 40, 4):
                push(cloud.client, gw, cloud.gw[gw], bodies[i : i + 4])
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(g,)) for g in ("GW-A", "GW-B")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    engine = make_engine(cloud.url, pool_size=1)
    try:
        with engine.connect() as conn:
            verdict = verify(conn)
            prevs = conn.execute(sa.select(audit_log.c.prev_hash)).scalars().all()
    finally:
        engine.dispose()
    assert verdict.ok, verdict
    assert len(prevs) == len(set(prevs))


@pytest.mark.postgres
def test_idle_connection_killed_by_the_server_is_replaced(pg_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(db_engine, "PING_IDLE_S", 0.05)
    engine = make_engine(pg_url, pool_size=1)
    try:
        with engine.connect() as conn:
            pid = conn.exec_driver_sql("SELECT pg_backend_pid()").scalar()
        admin = pg_url.replace("postgresql+psycopg://", "postgresql://")
        with psycopg.connect(admin, autocommit=True) as c:
            c.execute("SELECT pg_terminate_backend(%s)", (pid,))
        time.sleep(0.1)
        with engine.connect() as conn:  # pinged (idle past the limit), found dead, replaced
            assert conn.exec_driver_sql("SELECT pg_backend_pid()").scalar() != pid
    finally:
        engine.dispose()


@pytest.mark.postgres
def test_recently_used_connection_is_not_pinged(pg_url: str) -> None:
    engine = make_engine(pg_url, pool_size=1)
    pings: list[object] = []
    real = engine.dialect.do_ping
    engine.dialect.do_ping = lambda c: pings.append(c) or real(c)  # type: ignore[method-assign]
    try:
        for _ in range(3):
            with engine.connect() as conn:
                conn.exec_driver_sql("SELECT 1")
        assert len(pings) == 1  # the first checkout only
    finally:
        engine.dispose()
