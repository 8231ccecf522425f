"""``sync.ops.uuid7``: the op_id generator (RFC 9562 version 7, a plain ``uuid.UUID``)."""

from __future__ import annotations

import time
import uuid

import orjson

from sync.canonical import uuid_texts
from sync.ops import OpDraft, ReceivePayload, utc_now, uuid7


def _millis(u: uuid.UUID) -> int:
    return u.int >> 80


def test_layout_is_version_7_rfc_variant_and_plain_uuid() -> None:
    u = uuid7()
    assert type(u) is uuid.UUID  # orjson encodes it in C (a subclass goes through a Python default)
    assert u.version == 7 and u.variant == uuid.RFC_4122
    assert orjson.dumps(u) == f'"{u}"'.encode()
    assert abs(_millis(u) - time.time_ns() // 1_000_000) < 1_000


def test_a_burst_stays_ordered_and_does_not_run_ahead_of_the_clock() -> None:
    ids = [uuid7() for _ in range(50_000)]
    assert ids == sorted(ids) and len(set(ids)) == len(ids)
    # The uuid6 package adds a millisecond per id made in the same millisecond; these keep to the clock.
    assert _millis(ids[-1]) <= time.time_ns() // 1_000_000 + 1


def test_drafts_get_one_by_default() -> None:
    a, b = (
        OpDraft(payload=ReceivePayload(sku="S", location="L", qty=1), actor="t", occurred_at=utc_now())
        for _ in range(2)
    )
    assert type(a.op_id) is uuid.UUID and a.op_id.version == 7 and a.op_id < b.op_id


def test_uuid_texts_is_str_of_each_plain_or_subclass() -> None:
    class Subclass(uuid.UUID):  # as the uuid6 package makes them
        pass

    ids = [uuid7(), Subclass(int=uuid7().int), uuid.uuid4(), uuid.UUID(int=0)]
    assert uuid_texts(ids) == [str(i) for i in ids]
