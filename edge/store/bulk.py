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
"""Rows per statement at most: 256 journal rows bind 2,816 values, far below SQLite's limit of 32,766."""


@cache
def _statement(head: str, width: int, rows: int, tail: str) -> str:
    row = "(" + ",".join("?" * width) + ")"
    return f"{head} VALUES {','.join([row] * rows)}{tail}"


def chunk_sizes(rows: int) -> list[int]:
    """``rows`` as a sum of powers of two, largest first, none above ``MAX_CHUNK``."""
    sizes: list[int] = []
    size = MAX_CHUNK
    while rows:
        while size > rows:
            size //= 2
        sizes.append(size)
        rows -= size
    return sizes


def insert_rows(conn: sqlite3.Connection, head: str, width: int, values: Sequence[Any], tail: str = "") -> None:
    """Insert rows given flat (``values`` holds row after row, ``width`` values each).

    ``head`` is the statement up to ``VALUES`` (``INSERT INTO t(a, b)``), ``tail`` anything after the
    rows (an ``ON CONFLICT`` clause).
    """
    if len(values) % width:
        raise ValueError(f"{len(values)} values do not make rows of {width}")
    start = 0
    for size in chunk_sizes(len(values) // width):
        end = start + size * width
        conn.execute(_statement(head, width, size, tail), values[start:end])
        start = end
