"""The pages' speed: server time and time to a rendered page in Chromium for the dashboard and each
report, and an edge append -> the changed figure in an open page.

Data: 10 warehouses x 5,000 SKUs x 90 days of ops (``--quick``: 500 SKUs, 14 days), generated inside
PostgreSQL with ``generate_series`` (ops with real payload bodies, stock balances, 2,000 locations per
warehouse), then rolled up into the report facts by the real rollup (timed). The ops are not hash
chained: nothing here reads the chain. The cloud runs as a real uvicorn process; the live figure
comes from a real gateway process syncing to it. Baseline, measured in the same run: the turnover
report computed straight from ``ops`` (what the rollup saves every report).

    .venv/bin/python -m bench.web [--quick] [--json]
"""

from __future__ import annotations

import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
import sqlalchemy as sa

from bench._common import emit_json, parser, table
from cloud.db.engine import make_engine
from cloud.db.migrate import upgrade
from cloud.planning.totals import store_forecast_totals
from cloud.web.reports.rollup import catch_up
from tests.support.web import (
    PASSWORD,
    drop_database,
    launch_chromium,
    new_database,
    start_network,
)

KINDS = "ARRAY['receive','putaway','pick','pick','ship','ship','adjust','count']"


def generate(url: str, warehouses: int, skus: int, days: int, ops_per_day: int) -> int:
    engine = make_engine(url, pool_size=1)
    with engine.begin() as conn:
        conn.execute(sa.text("SET LOCAL synchronous_commit = off"))
        conn.execute(
            sa.text(
                "INSERT INTO gateways (gateway_id, warehouse, token_hash, head_seq, head_hash, created_at) "
                "SELECT 'bench-gw-' || w, 'BW-' || lpad(w::text, 2, '0'), md5('t' || w) || md5('u' || w), 0, "
                "repeat('0', 64), now() FROM generate_series(1, :n) w"
            ),
            {"n": warehouses},
        )
        conn.execute(
            sa.text(
                "INSERT INTO skus (code, name, base_unit, category, cost_price, supplier, updated_at) "
                "SELECT 'B-SKU-' || s, 'Bench item ' || s, 'EA', 'cat-' || (s % 12), 1 + (s % 50), "
                "'Supplier ' || (s % 7), now() FROM generate_series(1, :s) s"
            ),
            {"s": skus},
        )
        conn.execute(
            sa.text(
                "INSERT INTO site_locations (warehouse, code, zone, type, capacity) "
                "SELECT 'BW-' || lpad(w::text, 2, '0'), 'L-' || l, 'Z' || (l % 8), 'rack', 500 "
                "FROM generate_series(1, :n) w, generate_series(1, 2000) l"
            ),
            {"n": warehouses},
        )
        conn.execute(
            sa.text(
                "INSERT INTO stock_balance (warehouse, sku, lot, location, status, qty) "
                "SELECT 'BW-' || lpad(w::text, 2, '0'), 'B-SKU-' || s, '', 'L-' || (s % 2000 + 1), 'available', "
                "(random() * 200)::int FROM generate_series(1, :n) w, generate_series(1, :s) s"
            ),
            {"n": warehouses, "s": skus},
        )
        total = warehouses * days * ops_per_day
        conn.execute(
            sa.text(f"""
            INSERT INTO ops (gateway_id, seq, op_id, kind, actor, occurred_at, prev_hash, hash, body, received_at)
            SELECT 'bench-gw-' || w, row_number() OVER (PARTITION BY w ORDER BY i), gen_random_uuid()::text, k,
              'op-' || (i % 25), ts, repeat('0', 64), md5(i::text) || md5((i + 1)::text),
              json_build_object('kind', k, 'payload', json_build_object('kind', k,
                'sku', 'B-SKU-' || (1 + (i * 7919) % :s),
                'qty', 1 + i % 20, 'qty_delta', CASE WHEN i % 2 = 0 THEN -1 ELSE 1 END,
                'delta', CASE WHEN i % 3 = 0 THEN -1 ELSE 0 END, 'counted_qty', 10, 'book_qty', 10,
                'location', 'L-1', 'from_location', 'L-1', 'to_location', 'L-2', 'order_id', 'O-' || i))::text, ts
            FROM (
              SELECT i, 1 + i % :n AS w, ({KINDS})[1 + (i * 31) % 8] AS k,
                now() - make_interval(days => (i % :d)::int) - make_interval(secs => ((i * 13) % 28800)::float8) AS ts
              FROM generate_series(1::bigint, :total) i
            ) g
            """),
            {"n": warehouses, "s": skus, "d": days, "total": total},
        )
        conn.execute(
            sa.text(
                "UPDATE gateways g SET head_seq = m FROM (SELECT gateway_id, max(seq) m FROM ops "
                "GROUP BY 1) x WHERE x.gateway_id = g.gateway_id"
            )
        )
    engine.dispose()
    return total


def generate_dispatch(url: str, warehouses: int, skus: int, days: int) -> None:
    """What the dashboard's dispatch panels read: a finished planning run with a 28-day forecast (and its
    80 % interval) for every SKU x warehouse, their demand history, a day of routed orders and transfer
    orders in flight."""
    wh = "'BW-' || lpad(w::text, 2, '0')"
    engine = make_engine(url, pool_size=1)
    with engine.begin() as conn:
        conn.execute(sa.text("SET LOCAL synchronous_commit = off"))
        run = conn.execute(
            sa.text(
                "INSERT INTO planning_runs (trigger, actor, status, started_at, finished_at, history_end, series) "
                "VALUES ('cli', 'bench', 'done', now(), now(), current_date, :n) RETURNING id"
            ),
            {"n": warehouses * skus},
        ).scalar_one()
        conn.execute(
            sa.text(f"""
            INSERT INTO forecasts (run_id, sku, warehouse, start, demand_class, model, interval_method, mae, mean,
                                   intervals, safety_stock, reorder_point, lead_time_days, service_level)
            SELECT :run, 'B-SKU-' || s, {wh}, current_date, 'smooth', 'ets', 'empirical', 1.5,
              (SELECT json_agg(5 + s % 7 + d % 3) FROM generate_series(0, 27) d)::text,
              json_build_object('80', json_build_array(
                (SELECT json_agg(2 + s % 7 + 0 * d) FROM generate_series(0, 27) d),
                (SELECT json_agg(9 + s % 7 + d % 3) FROM generate_series(0, 27) d)))::text,
              10, 20, 7, 0.95
            FROM generate_series(1, :n) w, generate_series(1, :s) s
            """),
            {"run": run, "n": warehouses, "s": skus},
        )
        store_forecast_totals(conn, run)  # as the planning runner does when it stores a run
        conn.execute(
            sa.text(f"""
            INSERT INTO demand_history (sku, warehouse, day, shipped, imported)
            SELECT 'B-SKU-' || s, {wh}, current_date - d, (random() * 12)::int, 0
            FROM generate_series(1, :n) w, generate_series(1, :s) s, generate_series(1, :d) d
            """),
            {"n": warehouses, "s": skus, "d": min(days, 30)},
        )
        lines = """'[{"line": 1, "sku": "B-SKU-1", "qty": 3}]'"""
        conn.execute(
            sa.text(f"""
            INSERT INTO orders (order_id, region, lines, status, reason_code, reason, reason_zh, created_at,
                                created_by)
            SELECT 'O-' || i, 'EAST', {lines}, 'routed', 'fastest', 'bench', 'bench',
                   now() - make_interval(mins => i % 1440), 'bench'
            FROM generate_series(1, :o) i
            """),
            {"o": 200 * warehouses},
        )
        conn.execute(
            sa.text(f"""
            INSERT INTO order_shipments (order_id, warehouse, lines, ship_date, delivery_date, cost)
            SELECT 'O-' || i, 'BW-' || lpad((1 + i % :n)::text, 2, '0'), {lines}, current_date, current_date + 2, 5
            FROM generate_series(1, :o) i
            """),
            {"o": 200 * warehouses, "n": warehouses},
        )
        conn.execute(
            sa.text(f"""
            INSERT INTO transfer_orders (transfer_id, from_warehouse, to_warehouse, status, lines, transit_days,
                                         eta, created_at, created_by, released_at, shipped_at, updated_at)
            SELECT 'TO-' || i, 'BW-' || lpad((1 + i % :n)::text, 2, '0'),
                   'BW-' || lpad((1 + (i + 1) % :n)::text, 2, '0'), 'in_transit', {lines}, 3,
                   now() + make_interval(hours => i % 96 - 12), now(), 'bench', now(), now(), now()
            FROM generate_series(1, :t) i
            """),
            {"t": 10 * warehouses, "n": warehouses},
        )
    engine.dispose()


def p95(xs: list[float]) -> float:
    return sorted(xs)[max(0, int(len(xs) * 0.95) - 1)] if xs else float("nan")


def main() -> None:
    args = parser(__doc__ or "").parse_args()
    quick = args.quick
    wh, skus, days, per_day = (10, 500, 14, 500) if quick else (10, 5000, 90, 5000)
    reps = 5 if quick else 20
    url = new_database()
    tmp = Path(tempfile.mkdtemp())
    figures: dict[str, Any] = {}
    rows: list[list[Any]] = []
    try:
        upgrade(url)
        t = time.perf_counter()
        n_ops = generate(url, wh, skus, days, per_day)
        generate_dispatch(url, wh, skus, days)
        figures["generate_s"] = round(time.perf_counter() - t, 1)
        engine = make_engine(url, pool_size=1)
        t = time.perf_counter()
        rolled = catch_up(engine, wait=True)
        figures["rollup_s"] = round(time.perf_counter() - t, 1)
        figures["rollup_ops_per_s"] = round(rolled / max(figures["rollup_s"], 1e-3))
        # baseline: turnover per warehouse straight from the ops, no facts
        t = time.perf_counter()
        with engine.connect() as conn:
            conn.execute(
                sa.text(
                    "SELECT g.warehouse, sum(CASE WHEN o.kind IN ('ship') "
                    "THEN (o.body::jsonb->'payload'->>'qty')::bigint ELSE 0 END) "
                    "FROM ops o JOIN gateways g USING (gateway_id) GROUP BY 1"
                )
            ).all()
        figures["baseline_turnover_from_ops_ms"] = round((time.perf_counter() - t) * 1000)
        engine.dispose()
        net = start_network(tmp, url, ["BW-LIVE"])
        try:
            base = net.cloud.url
            client = httpx.Client(base_url=base, timeout=60)
            r = client.post("/login", data={"username": "planner", "password": PASSWORD, "next": "/"})
            assert r.status_code in (200, 303), r.text
            pages = {
                "dashboard": "/",
                **{f"report_{n}": f"/reports/{n}" for n in ("turnover", "utilisation", "operators", "costs")},
            }
            pages["report_turnover_season"] = "/reports/turnover?by=season"
            for name, path in pages.items():
                times = []
                for _ in range(reps):
                    t = time.perf_counter()
                    assert client.get(path).status_code == 200
                    times.append((time.perf_counter() - t) * 1000)
                figures[f"{name}_server_p95_ms"] = round(p95(times), 1)
            from cloud.web.panels import PANELS

            panel_rows = []
            for name in PANELS:  # each panel's own query and partial, as an open page re-fetches it
                times = []
                for _ in range(reps):
                    t = time.perf_counter()
                    assert client.get(f"/panels/{name}").status_code == 200
                    times.append((time.perf_counter() - t) * 1000)
                figures[f"panel_{name}_server_p95_ms"] = round(p95(times), 1)
                panel_rows.append([f"panel {name}", figures[f"panel_{name}_server_p95_ms"], "–"])
            from playwright.sync_api import sync_playwright

            with sync_playwright() as pw:
                browser = launch_chromium(pw)
                page = browser.new_page(viewport={"width": 1440, "height": 1000})
                page.goto(f"{base}/login")
                page.fill("input[name=username]", "planner")
                page.fill("input[name=password]", PASSWORD)
                page.click("form.login button[type=submit]")
                page.wait_for_url(f"{base}/")
                for name, path in pages.items():
                    times = []
                    for _ in range(reps):
                        t = time.perf_counter()
                        page.goto(base + path, wait_until="load")
                        page.wait_for_selector("section.panel table, section.panel .empty")
                        times.append((time.perf_counter() - t) * 1000)
                    figures[f"{name}_browser_p95_ms"] = round(p95(times), 1)
                    rows.append([name, figures[f"{name}_server_p95_ms"], figures[f"{name}_browser_p95_ms"]])
                rows.extend(panel_rows)
                gw = net.gateways["BW-LIVE"]
                gw.post_op({"kind": "receive", "sku": "MILK-1L", "location": "DOCK-IN-1", "qty": 1})
                page.goto(f"{base}/?warehouse=BW-LIVE")
                page.wait_for_selector("#live-state:not(.off)")
                cell = "document.querySelector('#panel-stock [data-kpi=available]').textContent"
                kpi = f"Number({cell}.replace(/\\D/g, ''))"
                page.wait_for_function(f"() => {kpi} >= 1", timeout=60_000)  # the new gateway's first sync
                live = []
                for _ in range(reps * 2):
                    before = page.evaluate(kpi)
                    t = time.perf_counter()
                    gw.post_op({"kind": "receive", "sku": "MILK-1L", "location": "DOCK-IN-1", "qty": 1})
                    page.wait_for_function(f"() => {kpi} === {before + 1}", timeout=30_000)
                    live.append((time.perf_counter() - t) * 1000)
                figures["edge_append_to_figure_p95_ms"] = round(p95(live), 1)
                figures["edge_append_to_figure_median_ms"] = round(statistics.median(live), 1)
                browser.close()
            client.close()
        finally:
            net.stop()
    finally:
        drop_database(url)
    figures.update({"warehouses": wh, "skus": skus, "days": days, "ops": n_ops, "quick": quick})
    table(
        f"Pages over {wh} warehouses x {skus:,} SKUs x {days} days ({n_ops:,} ops), "
        f"p95 of {reps} loads (goal < 1,000 ms)",
        ["page", "server ms", "browser ms"],
        rows,
    )
    table(
        "Facts and live",
        ["figure", "value"],
        [
            ["generate data (s)", figures["generate_s"]],
            ["rollup of every op into the facts (s)", figures["rollup_s"]],
            ["baseline: turnover straight from ops (ms)", figures["baseline_turnover_from_ops_ms"]],
            ["edge append -> figure in the open page, p95 (ms)", figures["edge_append_to_figure_p95_ms"]],
            ["edge append -> figure, median (ms)", figures["edge_append_to_figure_median_ms"]],
        ],
    )
    if args.json:
        emit_json(figures)


if __name__ == "__main__":
    main()
