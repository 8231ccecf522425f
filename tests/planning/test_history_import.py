"""The demand history CSV: good files read exactly, a bad row refused naming its line and column, and no
input (fuzzed) gets anything but rows or that one clear error."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cloud.planning.history import HistoryImportError, HistoryRow, parse_history_csv

GOOD = "sku,warehouse,date,qty\nS1,SH,2025-01-02,5\nS1,SH,2025-01-03,0\n\nS2,LA,2025-01-02,12\n"


def test_a_good_file_is_read_row_by_row() -> None:
    assert parse_history_csv(GOOD) == [
        HistoryRow("S1", "SH", date(2025, 1, 2), 5),
        HistoryRow("S1", "SH", date(2025, 1, 3), 0),
        HistoryRow("S2", "LA", date(2025, 1, 2), 12),
    ]
    aliases = "\ufeffSKU,Warehouse,Day,Quantity\r\nS1,SH,2025-01-02,5\r\n"
    assert parse_history_csv(aliases) == [HistoryRow("S1", "SH", date(2025, 1, 2), 5)]


@pytest.mark.parametrize(
    ("text", "line", "column", "words"),
    [
        ("sku,warehouse,date,qty\nS1,SH,2025-01-02,5\nS1,SH,2025-01-03,x\n", 3, "qty", "'x' is not a whole number"),
        ("sku,warehouse,date,qty\nS1,SH,2025-01-02,-4\n", 2, "qty", "'-4'"),
        ("sku,warehouse,date,qty\nS1,SH,02/01/2025,4\n", 2, "date", "not a date YYYY-MM-DD"),
        ("sku,warehouse,date,qty\nS1,,2025-01-02,4\n", 2, "warehouse", "not a code"),
        ("sku,warehouse,date,qty\nS1,SH,2025-01-02\n", 2, "row", "3 fields, the header has 4"),
        ("sku,warehouse,qty\nS1,SH,4\n", 1, "date", "missing column"),
        ("sku,warehouse,date,qty,price\n", 1, "price", "unknown column"),
        ("", 1, "header", "empty"),
        ("sku,warehouse,day,quantity\n\nS1,SH,2025-01-02,1e3\n", 3, "quantity", "'1e3'"),
    ],
)
def test_a_bad_row_is_refused_naming_its_line_and_column(text: str, line: int, column: str, words: str) -> None:
    with pytest.raises(HistoryImportError) as err:
        parse_history_csv(text)
    assert (err.value.line, err.value.column) == (line, column)
    assert words in str(err.value) and str(err.value).startswith(f"line {line}, column {column}: ")


def test_an_unknown_warehouse_is_refused_when_the_network_is_given() -> None:
    with pytest.raises(HistoryImportError, match=r"line 5, column warehouse: unknown warehouse 'LA'"):
        parse_history_csv(GOOD, known_warehouses=["SH"])


cells = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=12)


@settings(max_examples=400, deadline=None)
@given(rows=st.lists(st.lists(cells, min_size=0, max_size=6), max_size=8), header=st.booleans())
def test_fuzzed_files_give_rows_or_one_clear_error(rows: list[list[str]], header: bool) -> None:
    lines = (["sku,warehouse,date,qty"] if header else []) + [",".join(r) for r in rows]
    text = "\n".join(lines)
    try:
        got = parse_history_csv(text)
    except HistoryImportError as exc:
        assert exc.line >= 1 and exc.column and str(exc).startswith(f"line {exc.line}, column ")
        return
    for r in got:
        assert r.qty >= 0 and isinstance(r.day, date) and r.sku and r.warehouse


@settings(max_examples=200, deadline=None)
@given(
    good=st.lists(
        st.tuples(
            st.from_regex(r"[A-Z][A-Z0-9]{0,6}", fullmatch=True),
            st.sampled_from(["SH", "LA"]),
            st.dates(min_value=date(2000, 1, 1), max_value=date(2099, 12, 31)),
            st.integers(0, 10**9),
        ),
        min_size=1,
        max_size=20,
    ),
    bad_at=st.integers(0, 19),
    bad=st.sampled_from(["qty=-1", "qty=abc", "date=2025-13-01", "sku=a b", "qty= "]),
)
def test_one_bad_row_anywhere_is_named_by_its_line(
    good: list[tuple[str, str, date, int]], bad_at: int, bad: str
) -> None:
    rows = [[s, w, d.isoformat(), str(q)] for s, w, d, q in good]
    i = bad_at % len(rows)
    column, value = bad.split("=")
    rows[i][["sku", "warehouse", "date", "qty"].index(column)] = value
    text = "sku,warehouse,date,qty\n" + "\n".join(",".join(r) for r in rows) + "\n"
    with pytest.raises(HistoryImportError) as err:
        parse_history_csv(text)
    assert (err.value.line, err.value.column) == (i + 2, column)
