"""Per-run forecast totals, computed once when a run is stored so the dashboard never re-reads every series.

The dashboard's forecast panel shows, for the latest run, the forecast summed over all SKUs (per
warehouse or for the network) and the ten largest series. Summing them at page time means parsing every
series' JSON (50,000 at 10 warehouses x 5,000 SKUs): about a second a refresh. A run's forecasts never
change once stored, so the sums are made here, in SQL, in the transaction that stores the run:
``forecast_totals`` holds one row per warehouse and forecast day, and ``forecasts.week_total`` the first
week's sum of each series (indexed, so the largest ones are an index scan).
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

_PG_TOTALS = """
    INSERT INTO forecast_totals (run_id, warehouse, day, mean, low, high)
    WITH s AS MATERIALIZED (
      SELECT f.warehouse, f.mean::jsonb AS m, f.intervals::jsonb -> '80' AS iv FROM forecasts f WHERE f.run_id = :run)
    SELECT :run, s.warehouse, d, SUM((s.m->>d)::float), SUM((s.iv->0->>d)::float), SUM((s.iv->1->>d)::float)
    FROM s CROSS JOIN LATERAL generate_series(0, jsonb_array_length(s.m) - 1) AS d
    GROUP BY s.warehouse, d"""
_PG_WEEK = """
    UPDATE forecasts f SET week_total = (
      SELECT COALESCE(SUM(v::float), 0) FROM jsonb_array_elements_text(f.mean::jsonb) WITH ORDINALITY AS a(v, o)
      WHERE o <= 7)
    WHERE f.run_id = :run"""
_SQLITE_TOTALS = """
    INSERT INTO forecast_totals (run_id, warehouse, day, mean, low, high)
    SELECT :run, f.warehouse, CAST(m.key AS INTEGER), SUM(m.value),
           SUM(json_extract(f.intervals, '$."80"[0][' || m.key || ']')),
           SUM(json_extract(f.intervals, '$."80"[1][' || m.key || ']'))
    FROM forecasts f, json_each(f.mean) AS m WHERE f.run_id = :run
    GROUP BY f.warehouse, CAST(m.key AS INTEGER)"""
_SQLITE_WEEK = """
    UPDATE forecasts SET week_total = (
      SELECT COALESCE(SUM(value), 0) FROM json_each(forecasts.mean) WHERE CAST(key AS INTEGER) < 7)
    WHERE run_id = :run"""


def store_forecast_totals(conn: Any, run_id: int) -> None:
    """Sum a stored run's forecasts per warehouse and day, and each series' first week (idempotent)."""
    postgres = conn.dialect.name == "postgresql"
    conn.execute(sa.text("DELETE FROM forecast_totals WHERE run_id = :run"), {"run": run_id})
    conn.execute(sa.text(_PG_TOTALS if postgres else _SQLITE_TOTALS), {"run": run_id})
    conn.execute(sa.text(_PG_WEEK if postgres else _SQLITE_WEEK), {"run": run_id})
