"""Many rows into one table with a few multi-row ``INSERT ... VALUES (..),(..)`` statements.

``executemany`` steps its statement once per row, and each step goes through the sqlite3 module's
per-row work (reset, bind each value through the Python API, release and take back the GIL). One
statement of n rows binds its n x width values in one C loop and runs in one step. For the journal's
groups of 100 ops that took the two inserts from 4.3 to 2.4 µs an op, and a whole raw group commit
(inserts plus the fsync) from about 8 to 6 µs an op (``python -m bench.journal`` prints both raw
figures). The statement text depends on the row count, so a group is cut into chunks of power-of-two
sizes (100 rows = 64 + 32 + 4): few distinct statements, all of them kept prepared by the sqlite3
module's statement cache.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from functools import cache
from typing import Any

MAX_CHUNK = 256
"""Rows per statement at most; fewer where the SQLite build allows fewer values per statement."""


@cache
def _statement(head: str, width: int, rows: int, tail: str) -> str:
    row = "(" + ",".join("?" * width) + ")"
    return f"{head} VALUES {','.join([row] * rows)}{tail}"


def chunk_sizes(rows: int, largest: int = MAX_CHUNK) -> list[int]:
    """``rows`` as a sum of powers of two, largest first, none above ``largest`` (itself one)."""
    sizes: list[int] = []
    size = largest
    while rows:
        while size > rows:
            size //= 2
        sizes.append(size)
        rows -= size
    return sizes


def largest_chunk(conn: sqlite3.Connection, width: int) -> int:
    """The largest power-of-two row count, up to ``MAX_CHUNK``, whose values one statement may bind.

    SQLite's limit on values per statement is a build setting: 32,766 by default since 3.32, 999
    before (256 journal rows bind 2,816 values). It is read from the connection, not assumed.
    """
    allowed = conn.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER) // width
    size = MAX_CHUNK
    while size > max(allowed, 1):
        size //= 2
    return size


def insert_rows(conn: sqlite3.Connection, head: str, width: int, values: Sequence[Any], tail: str = "") -> None:
    """Insert rows given flat (``values`` holds row after row, ``width`` values each).

    ``head`` is the statement up to ``VALUES`` (``INSERT INTO t(a, b)``), ``tail`` anything after the
    rows (an ``ON CONFLICT`` clause).
    """
    if width < 1 or len(values) % width:
        raise ValueError(f"{len(values)} values do not make rows of {width}")
    start = 0
    for size in chunk_sizes(len(values) // width, largest_chunk(conn, width)):
        end = start + size * width
        conn.execute(_statement(head, width, size, tail), values[start:end])
        start = end
