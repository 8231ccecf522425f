"""The reports' query functions: each one SQL aggregate over the facts (PostgreSQL), returning a ``Table``.

Average stock over a period needs no row per day: with ``net(d)`` the on-hand change on day ``d``,
on-hand at the end of day ``d`` is ``opening + sum(net(d') for d' <= d)``, so over days ``s..e``
(``n`` days) the average is ``opening + sum(net(d) * (e - d + 1)) / n``, one pass over the facts that
works for any grouping (it is linear in the SKUs). Turnover is outbound / average on hand; days of
inventory is average on hand / average daily outbound.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from cloud.web.filters import Filters
from cloud.web.table import Column, Table
from sync.web.i18n import N_

SEASONS = {12: "winter", 1: "winter", 2: "winter", 3: "spring", 4: "spring", 5: "spring"}
SEASONS.update({6: "summer", 7: "summer", 8: "summer", 9: "autumn", 10: "autumn", 11: "autumn"})
SEASON_LABELS = {
    "winter": N_("Winter"),
    "spring": N_("Spring"),
    "summer": N_("Summer"),
    "autumn": N_("Autumn"),
    "": N_("No category"),
}


@dataclass(frozen=True)
class Segment:
    label: str
    start: date
    end: date


def season_segments(start: date, end: date) -> list[Segment]:
    """The meteorological seasons (Dec-Feb winter...) that ``start..end`` crosses, clipped to it."""
    out: list[Segment] = []
    d = start
    while d <= end:
        season = SEASONS[d.month]
        year = d.year + (1 if d.month == 12 else 0)
        e = d
        while e + timedelta(days=1) <= end and SEASONS[(e + timedelta(days=1)).month] == season:
            e += timedelta(days=1)
        out.append(Segment(f"{season} {year}", d, e))
        d = e + timedelta(days=1)
    return out


def _wh(f: Filters) -> tuple[str, dict[str, Any]]:
    return ("AND fs.warehouse = :wh", {"wh": f.warehouse}) if f.warehouse else ("", {})


TURNOVER_COLUMNS = [
    Column("group", N_("Group"), "label", labels=SEASON_LABELS),
    Column("outbound", N_("Outbound"), "int"),
    Column("avg_on_hand", N_("Average on hand"), "num", digits=1),
    Column("turnover", N_("Turnover"), "num", digits=2),
    Column("days_of_inventory", N_("Days of inventory"), "num", digits=1),
    Column("cogs", N_("Cost of goods out"), "money", cost=True),
    Column("avg_value", N_("Average stock value"), "money", cost=True),
]


def turnover(conn: Connection, f: Filters, by: str) -> Table:
    """Turnover and days of inventory by ``category``, ``warehouse`` or ``season``."""
    segments = season_segments(f.start, f.end) if by == "season" else [Segment("", f.start, f.end)]
    values = ", ".join(f"(:l{i}, CAST(:s{i} AS date), CAST(:e{i} AS date))" for i in range(len(segments)))
    params: dict[str, Any] = {"end": f.end}
    for i, s in enumerate(segments):
        params.update({f"l{i}": s.label, f"s{i}": s.start, f"e{i}": s.end})
    wh_sql, wh_params = _wh(f)
    params.update(wh_params)
    group = {
        "category": "coalesce(k.category, '')",
        "warehouse": "fs.warehouse",
        "season": "seg.label",
    }[by]
    sql = f"""
    WITH seg(label, s, e) AS (VALUES {values})
    SELECT {group} AS grp, seg.s, seg.e,
      sum(CASE WHEN fs.day >= seg.s THEN fs.outbound ELSE 0 END) AS outbound,
      sum(CASE WHEN fs.day < seg.s THEN fs.net ELSE fs.net * ((seg.e - fs.day + 1)::numeric / (seg.e - seg.s + 1)) END)
        AS avg_on_hand,
      sum(CASE WHEN fs.day >= seg.s THEN fs.outbound * coalesce(k.cost_price, 0) ELSE 0 END) AS cogs,
      sum(coalesce(k.cost_price, 0) * CASE WHEN fs.day < seg.s THEN fs.net
          ELSE fs.net * ((seg.e - fs.day + 1)::numeric / (seg.e - seg.s + 1)) END) AS avg_value
    FROM fact_stock_daily fs
    CROSS JOIN seg
    LEFT JOIN skus k ON k.code = fs.sku
    WHERE fs.day <= seg.e {wh_sql}
    GROUP BY 1, 2, 3
    ORDER BY 2, 1
    """
    rows = []
    for r in conn.execute(sa.text(sql), params):
        days = (r.e - r.s).days + 1
        avg = float(r.avg_on_hand or 0)
        out = int(r.outbound or 0)
        turn = out / avg if avg > 0 else None
        rows.append(
            {
                "group": r.grp,
                "outbound": out,
                "avg_on_hand": round(avg, 1),
                "turnover": round(turn, 3) if turn is not None else None,
                "days_of_inventory": round(days / turn, 1) if turn else None,
                "cogs": _money(r.cogs),
                "avg_value": _money(r.avg_value),
            }
        )
    return Table(TURNOVER_COLUMNS, rows, {"by": by})


def _money(v: Any) -> Decimal | None:
    return None if v is None else Decimal(v).quantize(Decimal("0.01"))


UTILISATION_COLUMNS = [
    Column("warehouse", N_("Warehouse"), "code"),
    Column("zone", N_("Zone"), "code"),
    Column("zone_name", N_("Zone name"), "code"),
    Column("locations", N_("Locations"), "int"),
    Column("occupied", N_("Occupied locations"), "int"),
    Column("capacity", N_("Capacity"), "int"),
    Column("used", N_("Used"), "int"),
    Column("utilisation", N_("Utilisation"), "pct"),
]


def utilisation(conn: Connection, f: Filters) -> Table:
    """Per zone now: stock in capacity-limited locations against their capacity, and locations in use."""
    wh = "WHERE l.warehouse = :wh" if f.warehouse else ""
    sql = f"""
    SELECT l.warehouse, l.zone, coalesce(max(z.name), '') AS zone_name, count(*) AS locations,
      count(*) FILTER (WHERE coalesce(s.on_hand, 0) > 0) AS occupied,
      sum(l.capacity) AS capacity,
      coalesce(sum(s.on_hand) FILTER (WHERE l.capacity > 0), 0) AS used
    FROM site_locations l
    LEFT JOIN (SELECT warehouse, location, sum(qty) AS on_hand FROM stock_balance GROUP BY 1, 2) s
      ON s.warehouse = l.warehouse AND s.location = l.code
    LEFT JOIN site_zones z ON z.warehouse = l.warehouse AND z.code = l.zone
    {wh}
    GROUP BY l.warehouse, l.zone
    ORDER BY l.warehouse, l.zone
    """
    rows = []
    for r in conn.execute(sa.text(sql), {"wh": f.warehouse}):
        cap = int(r.capacity or 0)
        used = int(r.used or 0)
        rows.append(
            {
                "warehouse": r.warehouse,
                "zone": r.zone,
                "zone_name": r.zone_name,
                "locations": int(r.locations),
                "occupied": int(r.occupied),
                "capacity": cap,
                "used": used,
                "utilisation": round(used / cap, 4) if cap else None,
            }
        )
    return Table(UTILISATION_COLUMNS, rows, {"as_of": "now"})


OPERATOR_COLUMNS = [
    Column("warehouse", N_("Warehouse"), "code"),
    Column("operator", N_("Operator"), "code"),
    Column("lines", N_("Task lines"), "int"),
    Column("pick_lines", N_("Pick lines"), "int"),
    Column("pick_accuracy", N_("Pick accuracy"), "pct"),
    Column("active_hours", N_("Active hours"), "num", digits=1),
    Column("lines_per_hour", N_("Lines per hour"), "num", digits=1),
    Column("seconds_per_task", N_("Time per task"), "duration"),
]


def operators(conn: Connection, f: Filters) -> Table:
    wh = "AND warehouse = :wh" if f.warehouse else ""
    sql = f"""
    SELECT warehouse, actor, sum(lines) AS lines, sum(pick_lines) AS pick_lines,
      sum(pick_errors) AS pick_errors, sum(active_s) AS active_s
    FROM fact_operator_daily
    WHERE day BETWEEN :s AND :e {wh}
    GROUP BY 1, 2
    ORDER BY 1, 3 DESC, 2
    """
    rows = []
    for r in conn.execute(sa.text(sql), {"s": f.start, "e": f.end, "wh": f.warehouse}):
        lines, picks, errors, active = int(r.lines), int(r.pick_lines), int(r.pick_errors), float(r.active_s)
        rows.append(
            {
                "warehouse": r.warehouse,
                "operator": r.actor,
                "lines": lines,
                "pick_lines": picks,
                "pick_accuracy": round(picks / (picks + errors), 4) if picks + errors else None,
                "active_hours": round(active / 3600, 2),
                "lines_per_hour": round(lines / (active / 3600), 1) if active > 0 else None,
                "seconds_per_task": round(active / lines, 1) if lines and active > 0 else None,
            }
        )
    return Table(OPERATOR_COLUMNS, rows)


COST_COLUMNS = [
    Column("warehouse", N_("Warehouse"), "code"),
    Column("currency", N_("Currency"), "code"),
    Column("labour_hours", N_("Labour hours"), "num", digits=1),
    Column("labour", N_("Labour"), "money"),
    Column("energy_kwh", N_("Energy (kWh)"), "int"),
    Column("energy", N_("Energy"), "money"),
    Column("loss_qty", N_("Loss (units)"), "int"),
    Column("loss", N_("Loss at cost"), "money", cost=True),
    Column("total", N_("Total"), "money", cost=True),
]


def costs(conn: Connection, f: Filters) -> Table:
    """Per warehouse over the dates: labour (active hours x rate), energy (kWh a day x days x price),
    loss (units lost in adjustments and counts, at cost price). A warehouse without rates shows its
    hours and losses with no money figures."""
    wh = "AND w.warehouse = :wh" if f.warehouse else ""
    sql = f"""
    WITH w AS (
      SELECT warehouse FROM gateways UNION SELECT warehouse FROM warehouse_rates
    ), lab AS (
      SELECT warehouse, sum(active_s) / 3600.0 AS hours FROM fact_operator_daily
      WHERE day BETWEEN :s AND :e GROUP BY 1
    ), loss AS (
      SELECT fs.warehouse, sum(fs.loss) AS qty, sum(fs.loss * coalesce(k.cost_price, 0)) AS value
      FROM fact_stock_daily fs LEFT JOIN skus k ON k.code = fs.sku
      WHERE fs.day BETWEEN :s AND :e GROUP BY 1
    )
    SELECT w.warehouse, r.currency, r.labour_per_hour, r.energy_kwh_per_day, r.energy_price_per_kwh,
      coalesce(lab.hours, 0) AS hours, coalesce(loss.qty, 0) AS loss_qty, coalesce(loss.value, 0) AS loss_value
    FROM w
    LEFT JOIN warehouse_rates r ON r.warehouse = w.warehouse
    LEFT JOIN lab ON lab.warehouse = w.warehouse
    LEFT JOIN loss ON loss.warehouse = w.warehouse
    WHERE true {wh}
    ORDER BY 1
    """
    rows = []
    for r in conn.execute(sa.text(sql), {"s": f.start, "e": f.end, "wh": f.warehouse}):
        hours = Decimal(r.hours).quantize(Decimal("0.01"))
        rated = r.currency is not None
        labour = _money(hours * r.labour_per_hour) if rated else None
        kwh = int(r.energy_kwh_per_day * f.days) if rated else None
        energy = _money(r.energy_kwh_per_day * f.days * r.energy_price_per_kwh) if rated else None
        loss = _money(r.loss_value)
        rows.append(
            {
                "warehouse": r.warehouse,
                "currency": r.currency,
                "labour_hours": float(hours),
                "labour": labour,
                "energy_kwh": kwh,
                "energy": energy,
                "loss_qty": int(r.loss_qty),
                "loss": loss,
                "total": _money((labour or 0) + (energy or 0) + (loss or 0)) if rated else None,
            }
        )
    return Table(COST_COLUMNS, rows)
