"""``iso_utc`` takes a fast path through orjson: it must give exactly the text of the plain formatting."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from hypothesis import given
from hypothesis import strategies as st

from sync.canonical import iso_utc, iso_utc_many


def _reference(dt: datetime) -> str:
    return dt.astimezone(UTC).isoformat(timespec="microseconds")[:-6] + "Z"


@given(
    st.datetimes(min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30), timezones=st.just(UTC)),
    st.integers(min_value=-14 * 60, max_value=14 * 60),
)
def test_iso_utc_matches_isoformat(dt: datetime, offset_minutes: int) -> None:
    assert iso_utc(dt) == _reference(dt)
    shifted = dt.astimezone(timezone(timedelta(minutes=offset_minutes)))
    assert iso_utc(shifted) == _reference(dt)


def test_whole_seconds_keep_six_zero_digits() -> None:
    assert iso_utc(datetime(2026, 1, 5, 8, 0, 1, tzinfo=UTC)) == "2026-01-05T08:00:01.000000Z"
    assert iso_utc(datetime(2026, 1, 5, 8, 0, 1, 5, tzinfo=UTC)) == "2026-01-05T08:00:01.000005Z"
    assert iso_utc(datetime(33, 1, 5, 8, 0, 1, 5, tzinfo=UTC)) == "0033-01-05T08:00:01.000005Z"


@given(
    st.lists(
        st.tuples(
            st.datetimes(min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30), timezones=st.just(UTC)),
            st.sampled_from([0, 0, 1, -300, 480, 14 * 60]),
        ),
        max_size=20,
    )
)
def test_iso_utc_many_is_iso_utc_of_each(stamps: list[tuple[datetime, int]]) -> None:
    """The batch form a journal group uses: any mix of zones and whole seconds, the same texts."""
    dts = [dt if not offset else dt.astimezone(timezone(timedelta(minutes=offset))) for dt, offset in stamps]
    assert iso_utc_many(dts) == [iso_utc(dt) for dt in dts]


def test_iso_utc_many_takes_datetime_subclasses() -> None:
    class Frozen(datetime):  # as freezegun and pendulum make them
        pass

    dts = [Frozen(2026, 1, 5, 8, 0, 1, 5, tzinfo=UTC), Frozen(2026, 1, 5, 8, 0, 1, tzinfo=UTC), datetime.now(UTC)]
    assert iso_utc(dts[0]) == "2026-01-05T08:00:01.000005Z"
    assert iso_utc_many(dts) == [iso_utc(dt) for dt in dts]
