"""``Op``'s checks beyond the schema, now one wrap validator: same refusals, same values as before."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from sync.canonical import iso_utc, seal
from sync.ops import GENESIS_HASH, Op, OpDraft, ReceivePayload


def _body(**changes: Any) -> dict[str, Any]:
    draft = OpDraft(
        payload=ReceivePayload(sku="S", location="L", qty=1), actor="a", occurred_at=datetime(2026, 1, 5, tzinfo=UTC)
    )
    body = seal(draft, gateway_id="GW", seq=1, prev_hash=GENESIS_HASH, recorded_at=iso_utc(datetime.now(UTC)))
    return {**body, **changes}


def _error(body: dict[str, Any]) -> dict[str, Any]:
    with pytest.raises(ValidationError) as info:
        Op.model_validate(body)
    first: dict[str, Any] = info.value.errors()[0]
    return first


def test_timestamps_come_out_in_utc_with_the_utc_tzinfo() -> None:
    op = Op.model_validate(_body(occurred_at="2026-01-05T10:00:00.000000+02:00"))
    assert op.occurred_at == datetime(2026, 1, 5, 8, tzinfo=UTC) and op.occurred_at.tzinfo is UTC
    assert op.recorded_at.tzinfo is UTC  # the wire form, through the fast conversion
    naive = datetime(2026, 1, 5, 8)
    op = Op.model_validate(_body(occurred_at=naive.replace(tzinfo=timezone(timedelta(hours=-5)))))
    assert op.occurred_at == datetime(2026, 1, 5, 13, tzinfo=UTC) and op.occurred_at.tzinfo is UTC


@pytest.mark.parametrize("field", ["occurred_at", "recorded_at"])
@pytest.mark.parametrize("value", ["2026-01-05T08:00:00", "2026-01-05T08:00:00.000000", datetime(2026, 1, 5, 8)])
def test_a_timestamp_without_timezone_is_refused(field: str, value: Any) -> None:
    err = _error(_body(**{field: value}))
    assert err["loc"] == (field,) and err["type"] == "timezone_aware"
    assert err["msg"] == "Input should have timezone info"


def test_kind_must_match_the_payload() -> None:
    err = _error(_body(kind="move"))
    assert err["msg"] == "Value error, kind move does not match payload kind receive"


def test_a_field_error_is_reported_before_a_kind_mismatch_as_before() -> None:
    err = _error(_body(kind="move", occurred_at="2026-01-05T08:00:00"))
    assert err["loc"] == ("occurred_at",)


def test_an_op_instance_passes_through_unchanged() -> None:
    op = Op.model_validate(_body())
    assert Op.model_validate(op) is op


def test_payload_checks_still_run() -> None:
    body = _body(kind="move", payload={"kind": "move", "sku": "S", "from_location": "A", "to_location": "A", "qty": 1})
    assert "must differ" in _error(body)["msg"]


@given(st.datetimes(min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30), timezones=st.just(UTC)))
def test_the_wire_form_converts_exactly_like_astimezone(at: datetime) -> None:
    """The fast path (Python's own ISO parser for ``iso_utc`` text) gives what ``astimezone`` gave."""
    text = iso_utc(at)
    op = Op.model_validate(_body(occurred_at=text))
    assert op.occurred_at == at and op.occurred_at.tzinfo is UTC
    assert op.occurred_at.isoformat() == at.astimezone(UTC).isoformat()


@pytest.mark.parametrize(
    "text",
    ["2026-01-05T08:00:60.000000Z", "2026-01-05T24:00:00.000000Z", "2026-02-30T08:00:00.000000Z"],
)
def test_wire_shaped_text_pydantic_refuses_is_still_refused(text: str) -> None:
    _error(_body(occurred_at=text))
