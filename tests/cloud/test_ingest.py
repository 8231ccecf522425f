"""Ingest on both backends: exactly-once storage, chain checks, quarantine, and the ledger it leaves."""

from __future__ import annotations

import copy
import uuid
from datetime import UTC, datetime

import sqlalchemy as sa

from cloud.db.engine import make_engine
from cloud.db.schema import ops, quarantine
from sync.canonical import body_from_stored, hash_body, iso_utc, seal
from sync.ops import GENESIS_HASH, AdjustPayload, MovePayload, OpDraft, ReceivePayload, ReservePayload
from tests.cloud.conftest import Cloud
from tests.cloud.helpers import auth, chain, push, stock_lines


def _receipts(n: int, sku: str = "SKU-1", qty: int = 10) -> list[ReceivePayload]:
    return [ReceivePayload(sku=sku, location=f"A-{i % 3:02d}", qty=qty) for i in range(n)]


def _count(url: str, table: sa.Table, **where: object) -> int:
    engine = make_engine(url, pool_size=1)
    with engine.connect() as conn:
        q = sa.select(sa.func.count()).select_from(table)
        for k, v in where.items():
            q = q.where(table.c[k] == v)
        n = int(conn.execute(q).scalar_one())
    engine.dispose()
    return n


def test_batch_applies_deltas_to_the_ledger(cloud: Cloud) -> None:
    bodies = chain(
        "GW-A",
        [
            ReceivePayload(sku="SKU-1", lot="L1", location="DOCK", qty=10),
            MovePayload(sku="SKU-1", lot="L1", from_location="DOCK", to_location="A-01", qty=7),
            ReservePayload(sku="SKU-1", lot="L1", location="A-01", qty=2, order_id="SO-1"),
        ],
    )
    res = push(cloud.client, "GW-A", cloud.gw["GW-A"], bodies)
    assert res == {"acked_seq": 3, "accepted": 3, "duplicates": 0, "quarantined": [], "discrepancies_opened": 0}
    lines = stock_lines(cloud.client, cloud.user["operator"], warehouse="WH-A")
    assert lines[("WH-A", "SKU-1", "L1", "DOCK")]["on_hand"] == 3
    assert lines[("WH-A", "SKU-1", "L1", "A-01")] == {
        "on_hand": 7,
        "available": 5,
        "reserved": 2,
        "frozen": 0,
        "qc_hold": 0,
        "damaged": 0,
    }
    head = cloud.client.get("/v1/gateways/GW-A/head", headers=cloud.h("GW-A")).json()
    assert head["acked_seq"] == 3 and head["head_hash"] == bodies[-1]["hash"]


def test_duplicate_batch_is_acked_not_reapplied(cloud: Cloud) -> None:
    bodies = chain("GW-A", _receipts(6))
    first = push(cloud.client, "GW-A", cloud.gw["GW-A"], bodies)
    again = push(cloud.client, "GW-A", cloud.gw["GW-A"], bodies)
    assert first["accepted"] == 6
    assert again == {"acked_seq": 6, "accepted": 0, "duplicates": 6, "quarantined": [], "discrepancies_opened": 0}
    total = sum(v["on_hand"] for v in stock_lines(cloud.client, cloud.user["admin"]).values())
    assert total == 60
    assert _count(cloud.url, ops) == 6
    metrics = cloud.client.get("/metrics").text
    dup = [ln for ln in metrics.splitlines() if ln.startswith('wims_cloud_ops_total{outcome="duplicate"}')]
    assert dup and float(dup[0].split()[-1]) >= 6


def test_overlapping_batches_store_each_op_once(cloud: Cloud) -> None:
    bodies = chain("GW-A", _receipts(8, qty=5))
    push(cloud.client, "GW-A", cloud.gw["GW-A"], bodies[:5])
    res = push(cloud.client, "GW-A", cloud.gw["GW-A"], bodies[2:8])
    assert (res["acked_seq"], res["accepted"], res["duplicates"]) == (8, 3, 3)
    assert sum(v["on_hand"] for v in stock_lines(cloud.client, cloud.user["admin"]).values()) == 40
    assert _count(cloud.url, ops, gateway_id="GW-A") == 8


def test_out_of_order_batch_is_quarantined_then_accepted_on_resend(cloud: Cloud) -> None:
    bodies = chain("GW-A", _receipts(6))
    early = push(cloud.client, "GW-A", cloud.gw["GW-A"], bodies[3:])
    assert early["acked_seq"] == 0 and early["accepted"] == 0
    assert [q["seq"] for q in early["quarantined"]] == [4, 5, 6]
    assert "expected seq 1" in early["quarantined"][0]["reason"]
    assert stock_lines(cloud.client, cloud.user["admin"]) == {}
    staff = cloud.client.get("/v1/gateways/GW-A/quarantine", headers=cloud.h("supervisor")).json()["items"]
    assert [q["seq"] for q in staff] == [4, 5, 6]

    assert push(cloud.client, "GW-A", cloud.gw["GW-A"], bodies[:3])["acked_seq"] == 3
    late = push(cloud.client, "GW-A", cloud.gw["GW-A"], bodies[3:])
    assert (late["acked_seq"], late["accepted"]) == (6, 3)
    assert sum(v["on_hand"] for v in stock_lines(cloud.client, cloud.user["admin"]).values()) == 60
    assert cloud.client.get("/v1/gateways/GW-A/quarantine", headers=cloud.h("supervisor")).json()["items"] == []
    assert _count(cloud.url, quarantine) == 3  # kept as a record, now resolved


def test_tampered_op_is_quarantined_and_chain_stops_there(cloud: Cloud) -> None:
    bodies = chain("GW-A", _receipts(4))
    bad = copy.deepcopy(bodies)
    bad[1]["payload"]["qty"] = 1000  # edited after sealing: its hash no longer matches
    res = push(cloud.client, "GW-A", cloud.gw["GW-A"], bad)
    assert res["acked_seq"] == 1
    reasons = {q["seq"]: q["reason"] for q in res["quarantined"]}
    assert "hash does not match" in reasons[2]
    assert "expected seq 2" in reasons[3] and "expected seq 2" in reasons[4]
    assert sum(v["on_hand"] for v in stock_lines(cloud.client, cloud.user["admin"]).values()) == 10
    # the genuine ops still go in afterwards
    assert push(cloud.client, "GW-A", cloud.gw["GW-A"], bodies)["acked_seq"] == 4
    assert sum(v["on_hand"] for v in stock_lines(cloud.client, cloud.user["admin"]).values()) == 40


def test_forged_replacement_of_a_stored_op_is_quarantined(cloud: Cloud) -> None:
    bodies = chain("GW-A", _receipts(3))
    push(cloud.client, "GW-A", cloud.gw["GW-A"], bodies)
    # a re-sealed (self-consistent) op claiming seq 2 with other content: a fork of the chain
    forged = chain("GW-A", [ReceivePayload(sku="SKU-1", location="A-09", qty=999)], start=2, prev=bodies[0]["hash"])
    res = push(cloud.client, "GW-A", cloud.gw["GW-A"], forged)
    assert res["acked_seq"] == 3 and res["accepted"] == 0
    assert "already stored with a different op" in res["quarantined"][0]["reason"]
    assert sum(v["on_hand"] for v in stock_lines(cloud.client, cloud.user["admin"]).values()) == 30


def test_forged_or_missing_token_is_refused(cloud: Cloud) -> None:
    bodies = chain("GW-A", _receipts(1))
    for headers in ({}, auth("wgw_forged"), {"Authorization": "Basic abc"}, auth(cloud.gw["GW-A"] + "x")):
        r = cloud.client.post("/v1/gateways/GW-A/ops", json={"ops": bodies}, headers=headers)
        assert r.status_code == 401, headers
    assert _count(cloud.url, ops) == 0


def test_gateway_cannot_push_another_gateways_ops(cloud: Cloud) -> None:
    theirs = chain("GW-B", _receipts(2))
    r = cloud.client.post("/v1/gateways/GW-B/ops", json={"ops": theirs}, headers=cloud.h("GW-A"))
    assert r.status_code == 403
    # smuggled through its own endpoint: quarantined, not applied
    res = push(cloud.client, "GW-A", cloud.gw["GW-A"], theirs)
    assert res["acked_seq"] == 0
    assert all("belongs to gateway 'GW-B'" in q["reason"] for q in res["quarantined"])
    assert stock_lines(cloud.client, cloud.user["admin"]) == {}
    # and a user, even an admin, does not push ops
    assert cloud.client.post("/v1/gateways/GW-B/ops", json={"ops": theirs}, headers=cloud.h("admin")).status_code == 403


def test_invalid_bodies_are_quarantined_with_reasons_never_500(cloud: Cloud) -> None:
    good = chain("GW-A", _receipts(1))[0]
    garbage = [
        {},
        {"seq": "abc"},
        {**good, "kind": "teleport"},
        {**good, "payload": {"kind": "receive", "sku": "S", "location": "L", "qty": -4}},
        {**good, "seq": 2**62},
        {**good, "occurred_at": "yesterday"},
    ]
    r = cloud.client.post("/v1/gateways/GW-A/ops", json={"ops": garbage}, headers=cloud.h("GW-A"))
    assert r.status_code == 200, r.text
    res = r.json()
    assert res["acked_seq"] == 0 and len(res["quarantined"]) == len(garbage)
    assert all(q["reason"] for q in res["quarantined"])
    malformed: list[object] = [{"ops": "nope"}, {"ops": [1, 2]}, [], {"no_ops": []}, None]
    for body in malformed:
        r = cloud.client.post("/v1/gateways/GW-A/ops", json=body, headers=cloud.h("GW-A"))
        assert r.status_code == 422, body
    # a self-consistent op whose seq is past any database integer: quarantined (seq unknown), no 500
    huge = chain("GW-A", _receipts(1), start=2**63)
    res = push(cloud.client, "GW-A", cloud.gw["GW-A"], huge)
    assert res["acked_seq"] == 0 and res["quarantined"][0]["seq"] is None
    r = cloud.client.post("/v1/gateways/GW-A/ops", json={"ops": [{}] * 5001}, headers=cloud.h("GW-A"))
    assert r.status_code == 413
    r = cloud.client.post("/v1/gateways/GW-A/ops", content=b"{not json", headers=cloud.h("GW-A"))
    assert r.status_code == 422


def test_unknown_gateway_is_404_for_admin_reads(cloud: Cloud) -> None:
    assert cloud.client.get("/v1/gateways/GW-Z/head", headers=cloud.h("admin")).status_code == 404


def test_stored_ops_keep_their_exact_canonical_text(cloud: Cloud) -> None:
    """Backslashes, tabs and newlines in free text survive COPY: each stored op still hashes to its hash."""
    odd = "tab\there\\back\nline \u00e9\u4e2d"
    adjust = AdjustPayload(sku="S", location="A-1", qty_delta=-1, reason=odd)
    d0 = OpDraft(payload=adjust, actor="op\\\t1", occurred_at=datetime(2026, 1, 5, 8, 0, tzinfo=UTC))
    first = seal(d0, gateway_id="GW-A", seq=1, prev_hash=GENESIS_HASH, recorded_at=iso_utc(d0.occurred_at))
    bodies = [first, *chain("GW-A", _receipts(1), start=2, prev=first["hash"])]
    assert push(cloud.client, "GW-A", cloud.gw["GW-A"], bodies)["acked_seq"] == 2
    engine = make_engine(cloud.url, pool_size=1)
    with engine.connect() as conn:
        rows = conn.execute(sa.select(ops.c.body, ops.c.hash, ops.c.actor).order_by(ops.c.seq)).all()
    engine.dispose()
    assert rows[0].actor == "op\\\t1"
    for r in rows:
        assert hash_body(body_from_stored(r.body, r.hash)) == r.hash
    assert body_from_stored(rows[0].body, rows[0].hash)["payload"]["reason"] == odd


def test_new_op_reusing_a_stored_op_id_is_quarantined(cloud: Cloud) -> None:
    bodies = chain("GW-A", _receipts(2))
    push(cloud.client, "GW-A", cloud.gw["GW-A"], bodies)
    first = bodies[0]
    reused = OpDraft(
        op_id=uuid.UUID(first["op_id"]),
        payload=ReceivePayload(sku="SKU-1", location="A-07", qty=3),
        actor="op-1",
        occurred_at=datetime(2026, 1, 5, 9, 0, tzinfo=UTC),
    )
    body = seal(reused, gateway_id="GW-A", seq=3, prev_hash=bodies[1]["hash"], recorded_at=first["recorded_at"])
    res = push(cloud.client, "GW-A", cloud.gw["GW-A"], [body])
    assert res["acked_seq"] == 2 and res["accepted"] == 0
    assert res["quarantined"][0]["reason"] == "op_id already stored as GW-A/1"
    assert _count(cloud.url, ops) == 2


def test_a_rule_firing_is_stored_and_moves_no_stock(cloud: Cloud) -> None:
    """The gateway's rule_fired ops (rule id, rule set hash, actions) go up like every op."""
    from sync.ops import QcHoldPayload, RuleFiredPayload

    receipt = ReceivePayload(sku="SKU-1", location="DOCK", qty=10)
    fired = RuleFiredPayload(
        rule_id="big-receipt",
        ruleset_hash="a" * 64,
        on="receive",
        subject=f"op:{uuid.uuid4()}",
        actions=[{"action": "hold_stock", "scope": "op", "reason": "check", "_line": {"sku": "SKU-1", "qty": 10}}],
    )
    hold = QcHoldPayload(sku="SKU-1", location="DOCK", qty=10, reason="check")
    res = push(cloud.client, "GW-A", cloud.gw["GW-A"], chain("GW-A", [receipt, fired, hold]))
    assert (res["accepted"], res["quarantined"]) == (3, [])
    assert _count(cloud.url, ops, kind="rule_fired") == 1
    line = stock_lines(cloud.client, cloud.user["admin"])[("WH-A", "SKU-1", "", "DOCK")]
    assert (line["on_hand"], line["qc_hold"], line["available"]) == (10, 10, 0)
