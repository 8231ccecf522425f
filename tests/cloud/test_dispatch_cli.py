"""``wims cloud warehouse|lane add|list`` and ``wims plan import-history|import-orders|run``: the network
and the planners' imports from the command line; a bad row is refused naming its line, nothing written."""

from __future__ import annotations

import json
from pathlib import Path

import sqlalchemy as sa
from typer.testing import CliRunner

from cloud.cli import app as cloud_cli
from cloud.db.engine import make_engine
from cloud.db.schema import demand_history
from cloud.planning.cli import app as plan_cli
from sync.ops import ReceivePayload
from tests.cloud.conftest import Cloud
from tests.cloud.helpers import chain, push


def _count(url: str) -> int:
    engine = make_engine(url, pool_size=1)
    with engine.connect() as conn:
        n = conn.execute(sa.select(sa.func.count()).select_from(demand_history)).scalar_one()
    engine.dispose()
    return int(n)


def test_network_and_imports_from_the_command_line(cloud: Cloud, tmp_path: Path) -> None:
    run = CliRunner()
    env = {"WIMS_DATABASE_URL": cloud.url}
    for args in (
        ["warehouse", "add", "WH-A", "--country", "US", "--region", "CA", "--timezone", "America/Los_Angeles"],
        ["warehouse", "add", "WH-B", "--country", "CN", "--timezone", "Asia/Shanghai", "--lead-time", "21"],
        ["lane", "add", "WH-A", "WH-B", "--transit-days", "9", "--cost-per-unit", "1.5", "--capacity", "500"],
        ["lane", "add", "WH-A", "--region", "WEST", "--carrier", "UPS", "--transit-days", "1", "--cutoff", "16:30"],
        ["lane", "add", "WH-B", "--region", "WEST", "--carrier", "SF", "--transit-days", "6"],
    ):
        r = run.invoke(cloud_cli, args, env=env)
        assert r.exit_code == 0, (args, r.output)
    bad = run.invoke(cloud_cli, ["warehouse", "add", "WH-C", "--country", "usa"], env=env)
    assert bad.exit_code == 2 and "country" in bad.output
    bad = run.invoke(cloud_cli, ["lane", "add", "WH-A", "WH-Z"], env=env)
    assert bad.exit_code == 2 and "destination: unknown warehouse 'WH-Z'" in bad.output
    listed = [
        json.loads(x) for x in run.invoke(cloud_cli, ["warehouse", "list", "--json"], env=env).output.splitlines()
    ]
    assert [(w["code"], w["lead_time_days"]) for w in listed] == [("WH-A", 14), ("WH-B", 21)]
    lanes = run.invoke(cloud_cli, ["lane", "list", "--json"], env=env).output.splitlines()
    assert {json.loads(x)["kind"] for x in lanes} == {"transfer", "service"} and len(lanes) == 3

    good = tmp_path / "sales.csv"
    good.write_text("sku,warehouse,date,qty\nS1,WH-A,2025-01-02,5\nS1,WH-A,2025-01-02,2\nS1,WH-B,2025-01-03,4\n")
    r = run.invoke(plan_cli, ["import-history", str(good)], env=env)
    assert r.exit_code == 0 and "3 rows, 2 SKU-warehouse-days imported" in r.output, r.output
    bad_file = tmp_path / "bad.csv"
    bad_file.write_text("sku,warehouse,date,qty\nS2,WH-A,2025-01-02,5\nS2,WH-A,2025-01-03,five\n")
    r = run.invoke(plan_cli, ["import-history", str(bad_file)], env=env)
    assert r.exit_code == 2 and "line 3, column qty: 'five' is not a whole number" in r.output, r.output
    assert "nothing imported" in r.output and _count(cloud.url) == 2
    unknown = tmp_path / "unknown.csv"
    unknown.write_text("sku,warehouse,date,qty\nS2,WH-Q,2025-01-02,5\n")
    r = run.invoke(plan_cli, ["import-history", str(unknown)], env=env)
    assert r.exit_code == 2 and "line 2, column warehouse: unknown warehouse 'WH-Q'" in r.output

    # orders, marketplace-style JSON: S1 x7 is at neither warehouse alone, so it is split
    push(cloud.client, "GW-A", cloud.gw["GW-A"], chain("GW-A", [ReceivePayload(sku="S1", location="L1", qty=4)]))
    push(cloud.client, "GW-B", cloud.gw["GW-B"], chain("GW-B", [ReceivePayload(sku="S1", location="L1", qty=5)]))
    orders = tmp_path / "orders.json"
    orders.write_text(
        json.dumps(
            {
                "orders": [
                    {
                        "order_sn": "MP-1",
                        "buyer_username": "li",
                        "shipping_address": {"region": "WEST"},
                        "items": [{"seller_sku": "S1", "quantity": 7}],
                    }
                ]
            }
        )
    )
    r = run.invoke(plan_cli, ["import-orders", str(orders)], env=env)
    assert r.exit_code == 0 and "order MP-1 split:" in r.output, r.output
    bad_orders = tmp_path / "bad.json"
    bad_orders.write_text(json.dumps([{"order_sn": "MP-2", "region": "WEST", "items": [{"sku": "S1", "quantity": 0}]}]))
    r = run.invoke(plan_cli, ["import-orders", str(bad_orders)], env=env)
    assert r.exit_code == 2 and "orders[0].lines[0].qty" in r.output, r.output
    csv_orders = tmp_path / "orders.csv"
    csv_orders.write_text("order_id,region,sku,qty\nC-1,WEST,S1,1\nC-1,WEST,S2,x\n")
    r = run.invoke(plan_cli, ["import-orders", str(csv_orders)], env=env)
    assert r.exit_code == 2 and "line 3, column qty" in r.output, r.output

    # a planning run from the command line (history too short to fit: every series gets its recent mean)
    r = run.invoke(plan_cli, ["run"], env=env)
    assert r.exit_code == 0 and "planning run 1:" in r.output, r.output


def test_a_bad_planning_file_is_one_line_naming_file_and_key(tmp_path: Path) -> None:
    bad = tmp_path / "planning.toml"
    bad.write_text('[planning]\nschedule = "at noon"\n')
    env = {"WIMS_DATABASE_URL": f"sqlite:///{tmp_path / 'c.sqlite'}", "WIMS_PLANNING_FILE": str(bad)}
    r = CliRunner().invoke(cloud_cli, ["serve"], env=env)
    assert (
        r.exit_code == 2
        and f"{bad}: planning.schedule: Value error, 'at noon': give \"HH:MM\" (daily, UTC)" in r.output
    ), r.output
    bad.write_text("[transfers]\nauto_approve_below = -1\n")
    r = CliRunner().invoke(cloud_cli, ["serve"], env=env)
    assert r.exit_code == 2 and "transfers.auto_approve_below" in r.output, r.output


def test_the_commands_speak_chinese_when_asked(cloud: Cloud, tmp_path: Path) -> None:
    run = CliRunner()
    env = {"WIMS_DATABASE_URL": cloud.url, "WIMS_LANG": "zh_CN"}
    r = run.invoke(cloud_cli, ["warehouse", "add", "WH-A", "--country", "CN"], env=env)
    assert r.exit_code == 0 and "已添加仓库 WH-A" in r.output, r.output
    bad = tmp_path / "bad.csv"
    bad.write_text("sku,warehouse,date,qty\nS1,WH-A,2025-01-02,five\n")
    r = run.invoke(plan_cli, ["import-history", str(bad)], env=env)
    assert r.exit_code == 2 and "第 2 行，qty 列：'five' 不是大于等于 0 的整数数量" in r.output, r.output
    assert "未导入任何内容" in r.output
