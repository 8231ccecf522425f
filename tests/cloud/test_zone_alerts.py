"""Slow and idle zones on the dashboard: the rollup counts floor ops per zone and hour from real ``ops``
rows (a move counts in both zones it touches), and the alerts compare the last full hour of each zone
with the same hour on the days before. A quiet zone and one at its usual pace raise nothing."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa

from cloud.db.engine import make_engine
from cloud.web import dashboard
from cloud.web.filters import Filters
from cloud.web.reports.rollup import catch_up

pytestmark = pytest.mark.postgres

NOW = datetime(2026, 3, 10, 11, 5, tzinfo=UTC)
LAST_HOUR = datetime(2026, 3, 10, 10, 0, tzinfo=UTC)
ZONES = {"Z-A": "L-A", "Z-B": "L-B", "Z-C": "L-C", "Z-D": "L-D"}


def _ops(gateway: str, start_seq: int, at: datetime, location: str, n: int, kind: str = "pick") -> list[dict[str, Any]]:
    rows = []
    for i in range(n):
        seq = start_seq + i
        payload = {"kind": kind, "sku": "SKU-1", "qty": 1, "from_location": location, "to_location": "STAGE"}
        rows.append(
            {
                "gateway_id": gateway,
                "seq": seq,
                "op_id": f"{gateway}-{seq}",
                "kind": kind,
                "actor": "op1",
                "occurred_at": at + timedelta(minutes=i % 60),
                "prev_hash": "0" * 64,
                "hash": f"{seq:064d}",
                "body": json.dumps({"kind": kind, "payload": payload}),
                "received_at": at,
            }
        )
    return rows


def test_a_zone_well_under_its_usual_pace_is_slow_and_one_with_no_work_is_idle(pg_url: str) -> None:
    engine = make_engine(pg_url, pool_size=1)
    with engine.begin() as conn:
        conn.execute(sa.text("TRUNCATE ops, gateways, site_locations, fact_zone_hourly, rollup_state CASCADE"))
        conn.execute(
            sa.text(
                "INSERT INTO gateways (gateway_id, warehouse, token_hash, head_seq, head_hash, created_at) "
                "VALUES ('gw-z', 'WH-Z', :h, 0, :z, now())"
            ),
            {"h": "a" * 64, "z": "0" * 64},
        )
        for zone, loc in ZONES.items():
            conn.execute(
                sa.text(
                    "INSERT INTO site_locations (warehouse, code, zone, type, capacity) "
                    "VALUES ('WH-Z', :c, :z, 'rack', 10)"
                ),
                {"c": loc, "z": zone},
            )
        usual = {"L-A": 20, "L-B": 20, "L-C": 3, "L-D": 20}  # Z-C is a quiet zone: 3 ops at that hour
        now_ = {"L-A": 4, "L-B": 0, "L-C": 0, "L-D": 18}  # Z-A slow, Z-B idle, Z-C quiet, Z-D at its pace
        rows: list[dict[str, Any]] = []
        for day in range(1, 8):
            for loc, n in usual.items():
                rows += _ops("gw-z", len(rows) + 1, LAST_HOUR - timedelta(days=day), loc, n)
        for loc, n in now_.items():
            rows += _ops("gw-z", len(rows) + 1, LAST_HOUR, loc, n)
        move = _ops("gw-z", len(rows) + 1, LAST_HOUR, "L-B", 1, kind="move")[0]  # touches Z-B and Z-D: both
        move["body"] = json.dumps(
            {
                "kind": "move",
                "payload": {"kind": "move", "sku": "SKU-1", "qty": 1, "from_location": "L-B", "to_location": "L-D"},
            }
        )
        rows.append(move)
        conn.execute(
            sa.text("""
            INSERT INTO ops (gateway_id, seq, op_id, kind, actor, occurred_at, prev_hash, hash, body, received_at)
            VALUES (:gateway_id, :seq, :op_id, :kind, :actor, :occurred_at, :prev_hash, :hash, :body, :received_at)"""),
            rows,
        )
    assert catch_up(engine, wait=True) == len(rows)
    with engine.connect() as conn:
        facts: dict[str, int] = dict(
            conn.execute(sa.text("SELECT zone, ops FROM fact_zone_hourly WHERE hour = :h"), {"h": LAST_HOUR}).all()
        )
        assert facts == {"Z-A": 4, "Z-B": 1, "Z-D": 19}  # the move counted once in each zone it touched
        qc = dashboard.QueryContext(now=NOW, offline_after_s=60, work_order_sla_h=24, postgres=True)
        f = Filters(warehouse=None, window="24h", start=date(2026, 3, 10), end=date(2026, 3, 10))
        got = [r for r in dashboard.alerts(conn, f, qc).rows if r["kind"] == "slow_zone"]
        assert [(r["subject"], r["what"], r["detail"]) for r in got] == [
            ("Z-A", "slow", "4 / 20 ops/h"),
            ("Z-B", "slow", "1 / 20 ops/h"),
        ]
        assert all(r["since"] == LAST_HOUR and r["warehouse"] == "WH-Z" for r in got)
        # an hour later nothing at all happened: every busy zone is idle, the quiet one still raises nothing
        qc = dashboard.QueryContext(now=NOW + timedelta(days=1), offline_after_s=60, work_order_sla_h=24, postgres=True)
        later = [r for r in dashboard.alerts(conn, f, qc).rows if r["kind"] == "slow_zone"]
        assert {(r["subject"], r["what"]) for r in later} == {("Z-A", "idle"), ("Z-B", "idle"), ("Z-D", "idle")}
        other = Filters(warehouse="WH-OTHER", window="24h", start=date(2026, 3, 10), end=date(2026, 3, 10))
        assert not [r for r in dashboard.alerts(conn, other, qc).rows if r["kind"] == "slow_zone"]
    engine.dispose()
