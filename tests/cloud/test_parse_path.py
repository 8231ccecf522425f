"""The faster ingest parse path decides exactly as the path it replaced.

``parse_one`` now makes an op's canonical bytes once (for storage and for its own hash) and validates
with the model's validator directly; the cloud ledger sums plain ``stock_legs`` tuples instead of
``effect_of`` objects. Each is checked here against a reference written the old way, on hand-picked
bodies (unknown field, tampered op, invalid payload) and on hypothesis-mutated ones, plus one batch
through the API with a bad op in the middle.
"""

from __future__ import annotations

import copy
import typing
from collections import Counter
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from cloud.ingest.batch import Parsed, parse_batch, parse_one
from cloud.ingest.ledger import sum_effects
from sync.canonical import ChainError, canonical_bytes, hash_body
from sync.ledger import _LEGS, NO_STOCK_KINDS, effect_of, stock_legs
from sync.ops import (
    AdjustPayload,
    CountPayload,
    MovePayload,
    Op,
    OpKind,
    PackLine,
    PackPayload,
    Payload,
    PickPayload,
    PutawayPayload,
    QcHoldPayload,
    QcReleasePayload,
    ReceivePayload,
    ReservePayload,
    ShipPayload,
    StockStatus,
    TransferInPayload,
    TransferOutPayload,
    UnreservePayload,
    WorkOrderPayload,
)
from tests.cloud.conftest import Cloud
from tests.cloud.helpers import chain, push

GW = "GW-A"


def reference_parse(body: dict[str, Any], gateway_id: str) -> tuple[str | None, str, str, Op | None]:
    """``parse_one`` as it was before the fast path (error, stored text, op_id, op), kept as the oracle."""
    unhashed = {k: v for k, v in body.items() if k != "hash"}
    try:
        text = canonical_bytes(unhashed).decode()
    except (TypeError, ValueError) as exc:
        return f"not JSON: {exc}", repr(body)[:10_000], "", None
    try:
        try:
            op = Op.model_validate(body)
        except ValidationError as exc:
            raise ChainError(int(body.get("seq", 0) or 0), f"invalid op: {exc.errors()[0]['msg']}") from exc
        if hash_body(body) != op.hash:
            raise ChainError(op.seq, "hash does not match the op's content (edited op?)")
    except (ChainError, ValueError, TypeError, OverflowError) as exc:
        return str(getattr(exc, "reason", exc)), text, "", None
    if op.gateway_id != gateway_id:
        return f"op belongs to gateway {op.gateway_id!r}, not {gateway_id!r}", text, str(op.op_id), op
    return None, text, str(op.op_id), op


def assert_same(body: dict[str, Any]) -> Parsed:
    before = copy.deepcopy(body)
    p = parse_one(body, GW)
    assert body == before and list(body) == list(before), "parse_one must leave the body as it was"
    error, text, op_id, op = reference_parse(body, GW)
    assert (p.error, p.canonical, p.op) == (error, text, op)
    if op is not None:
        assert p.op_id == op_id
    return p


def _resealed(body: dict[str, Any]) -> dict[str, Any]:
    """``body`` with its hash recomputed: self-consistent, so only the schema can reject it."""
    return {**body, "hash": hash_body(body)}


def _good(n: int = 3) -> list[dict[str, Any]]:
    return chain(GW, [ReceivePayload(sku="SKU-1", location="A-1", qty=5 + i) for i in range(n)])


def test_valid_op_parses_as_before() -> None:
    p = assert_same(_good(1)[0])
    assert p.error is None and p.op is not None


def test_unknown_top_level_field_is_refused_as_before_even_when_hashed_over() -> None:
    """The hash covers every field as received, so an unknown field verifies; the schema still refuses it."""
    body = _resealed({**_good(1)[0], "firmware": "2.1"})
    assert hash_body(body) == body["hash"]
    p = assert_same(body)
    assert p.error is not None and "Extra inputs are not permitted" in p.error


def test_unknown_payload_field_is_refused_as_before() -> None:
    good = _good(1)[0]
    body = _resealed({**good, "payload": {**good["payload"], "colour": "red"}})
    assert "Extra inputs are not permitted" in (assert_same(body).error or "")


def test_tampered_op_fails_its_hash_as_before() -> None:
    body = copy.deepcopy(_good(1)[0])
    body["payload"]["qty"] = 1000
    assert "hash does not match" in (assert_same(body).error or "")


def test_schema_error_is_reported_before_a_hash_mismatch() -> None:
    body = copy.deepcopy(_good(1)[0])
    body["payload"]["qty"] = 0  # invalid and, unsealed, a hash mismatch too: the schema error wins
    assert (assert_same(body).error or "").startswith("invalid op:")


@pytest.mark.parametrize(
    "mutate",
    [
        lambda b: b.pop("hash"),
        lambda b: b.update(hash="f" * 64),
        lambda b: b.update(hash="not-a-hash"),
        lambda b: b.update(seq="abc"),
        lambda b: b.update(seq=True),
        lambda b: b.update(op_id=b["op_id"].upper()),
        lambda b: b.update(occurred_at="2026-01-05T09:00:00+01:00"),
        lambda b: b.update(device_id=None),
        lambda b: b.update(gateway_id="GW-B"),
        lambda b: b.update(kind="move"),
        lambda b: b["payload"].update(qty=float("nan")),
        lambda b: b["payload"].update(qty=5.0),
    ],
)
def test_odd_bodies_parse_as_before(mutate: Any) -> None:
    body = copy.deepcopy(_good(1)[0])
    mutate(body)
    assert_same(body)
    if "hash" in body and isinstance(body["hash"], str):
        assert_same(_resealed(body))  # and the same body made self-consistent


_VALUES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-3, 2**64),
    st.sampled_from(["", "A-1", "SKU-1", "available", "qc_hold", "receive", "move", "2026-01-05T08:00:00Z", "x\\y"]),
    st.floats(allow_nan=True),
    st.lists(st.text(max_size=3), max_size=2),
    st.dictionaries(st.text(max_size=3), st.integers(), max_size=2),
)


@st.composite
def mutated_bodies(draw: st.DrawFn) -> dict[str, Any]:
    """A genuine body with a few fields set, removed or added (top level or payload), maybe resealed."""
    body = copy.deepcopy(draw(st.sampled_from(_BODIES)))
    for _ in range(draw(st.integers(1, 3))):
        payload = body.get("payload")
        target = payload if isinstance(payload, dict) and draw(st.booleans()) else body
        key = draw(st.sampled_from([*target, "extra", "lot", "device_id"]))
        if draw(st.integers(0, 3)) == 0:
            target.pop(key, None)
        else:
            target[key] = draw(_VALUES)
    if draw(st.booleans()):
        try:
            body["hash"] = hash_body(body)
        except (TypeError, ValueError):
            pass
    return body


_BODIES = chain(
    GW,
    [
        ReceivePayload(sku="SKU-1", location="A-1", qty=5, serials=["S1"]),
        MovePayload(sku="SKU-1", from_location="A-1", to_location="A-2", qty=2),
        CountPayload(sku="SKU-1", location="A-2", counted_qty=1, book_qty=2, delta=-1),
        WorkOrderPayload(work_order_id="WO-1", action="open", wo_type="recount"),
    ],
)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutated_bodies())
def test_mutated_bodies_parse_as_before(body: dict[str, Any]) -> None:
    assert_same(body)


def _payload_dicts() -> st.SearchStrategy[dict[str, Any]]:
    code = st.sampled_from(["S1", "S2", "A", "B", "T1", "WH-X"])
    return st.fixed_dictionaries(
        {
            "sku": code,
            "lot": st.sampled_from(["", "L1"]),
            "location": code,
            "from_location": code,
            "to_location": code,
            "qty": st.integers(1, 50),
            "status": st.sampled_from(list(StockStatus)),
            "to_status": st.sampled_from(list(StockStatus)),
            "from_status": st.sampled_from(list(StockStatus)),
            "qty_delta": st.integers(-50, 50),
            "counted_qty": st.integers(0, 50),
            "book_qty": st.integers(-5, 50),
            "transfer_id": code,
            "to_warehouse": code,
            "from_warehouse": code,
            "order_id": code,
            "reason": st.just("r"),
            "lines": st.just([PackLine(sku="S1", qty=1)]),
        }
    )


_STOCK_CLASSES = [
    ReceivePayload,
    PutawayPayload,
    MovePayload,
    QcHoldPayload,
    QcReleasePayload,
    ReservePayload,
    UnreservePayload,
    PickPayload,
    PackPayload,
    ShipPayload,
    TransferOutPayload,
    TransferInPayload,
    AdjustPayload,
    CountPayload,
]


def reference_stock(payload: Payload, warehouse: str) -> list[tuple[tuple[str, str, str, str, str], int]]:
    """How each kind moved stock before ``stock_legs`` became the one definition, kept as the oracle."""

    def d(location: str, status: str, qty: int) -> tuple[tuple[str, str, str, str, str], int]:
        return (warehouse, payload.sku, payload.lot, location, StockStatus(status).value), qty  # type: ignore[union-attr]

    match payload:
        case ReceivePayload():
            return [d(payload.location, payload.status, payload.qty)]
        case MovePayload():  # and PutawayPayload, its subclass
            return [
                d(payload.from_location, payload.status, -payload.qty),
                d(payload.to_location, payload.status, payload.qty),
            ]
        case QcHoldPayload():
            return [d(payload.location, "available", -payload.qty), d(payload.location, "qc_hold", payload.qty)]
        case QcReleasePayload():
            return [d(payload.location, "qc_hold", -payload.qty), d(payload.location, payload.to_status, payload.qty)]
        case UnreservePayload():
            return [d(payload.location, "reserved", -payload.qty), d(payload.location, "available", payload.qty)]
        case ReservePayload():
            return [d(payload.location, "available", -payload.qty), d(payload.location, "reserved", payload.qty)]
        case PickPayload():
            return [
                d(payload.from_location, payload.from_status, -payload.qty),
                d(payload.to_location, "reserved", payload.qty),
            ]
        case ShipPayload():
            return [d(payload.location, "reserved", -payload.qty)]
        case TransferOutPayload():
            return [d(payload.location, "available", -payload.qty)]
        case TransferInPayload():
            return [d(payload.location, payload.status, payload.qty)]
        case AdjustPayload():
            return [d(payload.location, payload.status, payload.qty_delta)]
        case CountPayload():
            return [d(payload.location, "available", payload.delta)] if payload.delta else []
    return []


@settings(max_examples=600, deadline=None)
@given(st.sampled_from(_STOCK_CLASSES), _payload_dicts(), st.sampled_from(["WH-1", "WH-2"]))
def test_stock_legs_agree_with_effect_of(cls: type[Any], fields: dict[str, Any], warehouse: str) -> None:
    if cls is CountPayload:
        fields["delta"] = fields["counted_qty"] - fields["book_qty"]
    try:
        payload: Payload = cls.model_validate({k: v for k, v in fields.items() if k in cls.model_fields})
    except ValidationError:
        return  # e.g. from_location == to_location, or a status the kind does not take
    expected = reference_stock(payload, warehouse)
    assert [
        ((warehouse, d.key.sku, d.key.lot, d.key.location, d.key.status.value), d.qty)
        for d in effect_of(payload, warehouse).stock
    ] == expected
    legs = stock_legs(payload)
    got = [((warehouse, payload.sku, payload.lot, loc, status), q) for loc, status, q in legs]  # type: ignore[union-attr]
    assert got == expected
    assert all(type(status) is str for _, status, _ in legs)


def test_summed_batch_equals_effect_of_sums() -> None:
    ops = [p.op for p in parse_batch(_BODIES, GW) if p.op is not None]
    deltas = sum_effects(ops, "WH-1")
    expected: Counter[tuple[str, str, str, str, str]] = Counter()
    for op in ops:
        for d in effect_of(op.payload, "WH-1").stock:
            k = d.key
            expected[(k.warehouse, k.sku, k.lot, k.location, k.status.value)] += d.qty
    assert deltas.stock == expected
    assert deltas.serials == {"S1": str(ops[0].op_id)}


def test_bad_op_in_the_middle_of_a_batch_through_the_api(cloud: Cloud) -> None:
    """Ops before the bad one are stored, it is quarantined with its reason, the ones after wait (gap)."""
    genuine = _good(5)
    bodies = copy.deepcopy(genuine)
    bodies[2] = _resealed({**bodies[2], "firmware": "2.1"})  # self-consistent, unknown field
    res = push(cloud.client, GW, cloud.gw[GW], bodies)
    assert res["acked_seq"] == 2 and res["accepted"] == 2
    reasons = {q["seq"]: q["reason"] for q in res["quarantined"]}
    assert "Extra inputs are not permitted" in reasons[3]
    assert "expected seq 3" in reasons[4] and "expected seq 3" in reasons[5]
    tampered = copy.deepcopy(genuine[2:])
    tampered[0]["payload"]["qty"] = 99
    res = push(cloud.client, GW, cloud.gw[GW], tampered)
    assert res["acked_seq"] == 2 and "hash does not match" in res["quarantined"][0]["reason"]
    res = push(cloud.client, GW, cloud.gw[GW], genuine)
    assert (res["acked_seq"], res["accepted"], res["duplicates"]) == (5, 3, 2)


def test_every_payload_class_has_a_stock_rule() -> None:
    """A payload class added to the union without a rule would be refused loudly, not given no effect."""
    classes = typing.get_args(typing.get_args(Payload)[0])
    assert len(classes) == len(OpKind)  # one payload class per kind
    for cls in classes:
        assert cls in _LEGS or cls in NO_STOCK_KINDS, cls.__name__


def test_transfers_carry_their_transit_delta() -> None:
    out = TransferOutPayload(sku="S1", location="A-01", qty=4, transfer_id="T1", to_warehouse="WH-2")
    inn = TransferInPayload(sku="S1", location="B-01", qty=4, transfer_id="T1", from_warehouse="WH-1")
    (left,) = effect_of(out, "WH-1").transit
    (arrived,) = effect_of(inn, "WH-2").transit
    assert (left.transfer_id, left.from_warehouse, left.to_warehouse, left.qty) == ("T1", "WH-1", "WH-2", 4)
    assert (arrived.from_warehouse, arrived.to_warehouse, arrived.qty) == ("WH-1", "WH-2", -4)
    assert effect_of(out, "WH-1").stock[0].qty == -4 and effect_of(inn, "WH-2").stock[0].qty == 4
