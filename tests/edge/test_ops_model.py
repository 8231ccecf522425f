"""The op model and its canonical encoding: the contract between edge and cloud."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from sync.canonical import ChainError, canonical_bytes, hash_body, op_from_body, seal, verify_chain
from sync.ledger import effect_of
from sync.ops import GENESIS_HASH, CountPayload, OpDraft, StockStatus, TempAlarmPayload, utc_now


def _draft(**payload: object) -> OpDraft:
    return OpDraft.model_validate({"payload": payload, "actor": "op1", "occurred_at": utc_now()})


def _chain(n: int) -> list[dict[str, object]]:
    bodies, head = [], GENESIS_HASH
    for seq in range(1, n + 1):
        b = seal(
            _draft(kind="receive", sku="A", location="L", qty=seq),
            gateway_id="gw",
            seq=seq,
            prev_hash=head,
            recorded_at="2026-11-24T00:00:00.000000Z",
        )
        head = str(b["hash"])
        bodies.append(b)
    return bodies


def test_canonical_encoding_matches_sorted_compact_json() -> None:
    body = _chain(1)[0]
    no_hash = {k: v for k, v in body.items() if k != "hash"}
    assert (
        canonical_bytes(no_hash)
        == json.dumps(no_hash, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
    )
    assert hash_body(body) == body["hash"]


def test_wire_roundtrip_keeps_hash() -> None:
    body = _chain(1)[0]
    received = json.loads(json.dumps(body))  # what a receiver parses
    op = op_from_body(received)
    assert op.seq == 1 and op.payload.qty == 1  # type: ignore[union-attr]


def test_chain_detects_edit_drop_and_reorder() -> None:
    bodies = _chain(5)
    assert verify_chain(bodies) == (5, bodies[-1]["hash"])
    edited = [dict(b) for b in bodies]
    edited[2]["payload"] = {**edited[2]["payload"], "qty": 999}  # type: ignore[dict-item]
    with pytest.raises(ChainError, match="seq 3: hash does not match"):
        verify_chain(edited)
    with pytest.raises(ChainError, match="expected seq 3"):
        verify_chain(bodies[:2] + bodies[3:])
    with pytest.raises(ChainError, match="expected seq 1"):
        verify_chain(list(reversed(bodies)))
    forged = dict(bodies[1])
    forged["prev_hash"] = "f" * 64
    forged["hash"] = hash_body(forged)  # self-consistent but not linked
    with pytest.raises(ChainError, match="prev_hash does not match"):
        verify_chain([bodies[0], forged])


def test_payload_errors_name_the_field() -> None:
    with pytest.raises(ValidationError) as exc:
        _draft(kind="receive", sku="A", location="L", qty=0)
    assert exc.value.errors()[0]["loc"][-1] == "qty"
    with pytest.raises(ValidationError, match="delta 5 != counted_qty"):
        _draft(kind="count", sku="A", location="L", counted_qty=10, book_qty=3, delta=5)
    with pytest.raises(ValidationError):
        _draft(kind="teleport", sku="A")
    with pytest.raises(ValidationError):
        _draft(kind="receive", sku="A", location="L", qty=1.5)  # quantities are integers
    with pytest.raises(ValidationError, match="timezone"):
        OpDraft.model_validate(
            {
                "payload": {"kind": "receive", "sku": "A", "location": "L", "qty": 1},
                "actor": "x",
                "occurred_at": "2026-01-01T00:00:00",
            }
        )


def test_decimal_readings_encode_exactly() -> None:
    d = OpDraft(
        payload=TempAlarmPayload(
            zone="Z",
            sensor_id="t1",
            alarm="temp_high",
            state="raised",
            value=Decimal("8.35"),
            limit=Decimal("8"),
            since=utc_now(),
        ),
        actor="x",
        occurred_at=utc_now(),
    )
    body = seal(d, gateway_id="gw", seq=1, prev_hash=GENESIS_HASH, recorded_at="2026-01-01T00:00:00.000000Z")
    assert body["payload"]["value"] == "8.35"
    assert op_from_body(body).payload == d.payload


def test_effects_of_transfer_and_count() -> None:
    out = effect_of(
        _draft(kind="transfer_out", sku="A", transfer_id="T1", to_warehouse="W2", location="L", qty=4).payload, "W1"
    )
    assert [(d.key.status, d.qty) for d in out.stock] == [(StockStatus.AVAILABLE, -4)]
    assert [(t.transfer_id, t.from_warehouse, t.to_warehouse, t.qty) for t in out.transit] == [("T1", "W1", "W2", 4)]
    inn = effect_of(
        _draft(kind="transfer_in", sku="A", transfer_id="T1", from_warehouse="W1", location="L", qty=3).payload, "W2"
    )
    assert inn.transit[0].qty == -3 and inn.stock[0].key.warehouse == "W2"
    count = CountPayload(sku="A", location="L", counted_qty=7, book_qty=9, delta=-2)
    assert [d.qty for d in effect_of(count, "W").stock] == [-2]


@given(st.text(max_size=40), st.integers(min_value=1, max_value=10**12))
def test_any_valid_receive_survives_the_wire(lot: str, qty: int) -> None:
    try:
        d = _draft(kind="receive", sku="A", lot=lot, location="L", qty=qty)
    except ValidationError:
        return
    body = seal(d, gateway_id="gw", seq=1, prev_hash=GENESIS_HASH, recorded_at="2026-01-01T00:00:00.000000Z")
    assert op_from_body(json.loads(json.dumps(body, ensure_ascii=False))).payload == d.payload
