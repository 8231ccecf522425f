"""``edge.store.bulk``: rows written with a few multi-row statements land exactly as ``executemany``'s."""

from __future__ import annotations

import sqlite3

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from edge.store.bulk import MAX_CHUNK, chunk_sizes, insert_rows, largest_chunk

UPSERT_TAIL = " ON CONFLICT(k) DO UPDATE SET n = n + excluded.n"


@given(st.integers(min_value=0, max_value=5000))
def test_chunks_are_powers_of_two_that_add_up(rows: int) -> None:
    sizes = chunk_sizes(rows)
    assert sum(sizes) == rows
    assert all(s & (s - 1) == 0 and 0 < s <= MAX_CHUNK for s in sizes)
    assert sizes == sorted(sizes, reverse=True)
    assert len(sizes) <= rows // MAX_CHUNK + 8  # a full 256-chunk per 256 rows, then one of each smaller size


def _tables() -> sqlite3.Connection:
    conn = sqlite3.connect(":memory:", isolation_level=None)
    conn.execute("CREATE TABLE t (a INTEGER PRIMARY KEY, b TEXT, c BLOB, d REAL)")
    conn.execute("CREATE TABLE s (k TEXT PRIMARY KEY, n INTEGER NOT NULL)")
    return conn


row = st.tuples(
    st.one_of(st.none(), st.text(max_size=30)),
    st.one_of(st.none(), st.binary(max_size=10)),
    st.one_of(st.none(), st.floats(allow_nan=False)),
)


@settings(max_examples=60)
@given(st.lists(row, max_size=700), st.lists(st.tuples(st.sampled_from("abcdefg"), st.integers(-5, 5)), max_size=40))
def test_insert_rows_equals_executemany(rows: list[tuple[object, ...]], adds: list[tuple[str, int]]) -> None:
    numbered = [(i, *r) for i, r in enumerate(rows)]
    bulk, plain = _tables(), _tables()
    insert_rows(bulk, "INSERT INTO t(a, b, c, d)", 4, [v for r in numbered for v in r])
    plain.executemany("INSERT INTO t(a, b, c, d) VALUES (?,?,?,?)", numbered)
    for key, n in adds:  # one upsert statement per row: keys may repeat across rows
        insert_rows(bulk, "INSERT INTO s(k, n)", 2, [key, n], UPSERT_TAIL)
    plain.executemany(f"INSERT INTO s(k, n) VALUES (?,?){UPSERT_TAIL}", adds)
    for table in ("t", "s"):
        assert list(bulk.execute(f"SELECT * FROM {table} ORDER BY 1")) == list(
            plain.execute(f"SELECT * FROM {table} ORDER BY 1")
        )


def test_a_failing_chunk_raises_and_a_ragged_row_is_refused() -> None:
    conn = _tables()
    conn.execute("BEGIN")
    with pytest.raises(sqlite3.IntegrityError):  # row 300 repeats key 0: the second chunk fails
        insert_rows(conn, "INSERT INTO t(a, b, c, d)", 4, [v for i in range(301) for v in (i % 300, "x", None, 1.0)])
    conn.execute("ROLLBACK")
    assert conn.execute("SELECT count(*) FROM t").fetchone() == (0,)
    with pytest.raises(ValueError, match="do not make rows of 4"):
        insert_rows(conn, "INSERT INTO t(a, b, c, d)", 4, [1, "x", None])


def test_repeated_keys_in_one_upsert_statement_add_up() -> None:
    conn = _tables()
    insert_rows(conn, "INSERT INTO s(k, n)", 2, ["a", 3, "b", 3, "a", 4], UPSERT_TAIL)
    assert list(conn.execute("SELECT k, n FROM s ORDER BY k")) == [("a", 7), ("b", 3)]


def test_chunks_stay_within_the_builds_limit_on_values_per_statement() -> None:
    """An SQLite built with the old limit of 999 values per statement: 256 rows of 11 would not fit."""
    conn = _tables()
    conn.execute("CREATE TABLE w (a INTEGER PRIMARY KEY, b, c, d, e, f, g, h, i, j, k)")
    conn.setlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER, 999)
    assert largest_chunk(conn, 11) == 64  # 90 rows would fit; the largest power of two below is 64
    rows = [v for i in range(300) for v in (i, *"bcdefghijk")]
    insert_rows(conn, "INSERT INTO w", 11, rows)
    assert conn.execute("SELECT count(*), sum(a) FROM w").fetchone() == (300, sum(range(300)))
    conn.setlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER, 5)
    assert largest_chunk(conn, 11) == 1  # never less than one row a statement (it then fails clearly)
    with pytest.raises(ValueError, match="rows of 0"):
        insert_rows(conn, "INSERT INTO w", 0, [])
