"""The ``wims edge`` commands on a journal (in-process through typer's runner)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from sync.ops import uuid7
from wims.cli import app

runner = CliRunner()


def _site(tmp_path: Path) -> Path:
    cfg = tmp_path / "site.toml"
    cfg.write_text(f"""
[site]
gateway_id = "gw-c"
warehouse = "WH-C"
[store]
path = "{tmp_path / "edge.sqlite"}"
[[zones]]
code = "Z"
[[locations]]
code = "A"
zone = "Z"
[[locations]]
code = "B"
zone = "Z"
[[skus]]
code = "S"
gtin = "00000000000017"
""")
    return cfg


def test_append_ops_stock_verify(tmp_path: Path) -> None:
    cfg = str(_site(tmp_path))
    ops = [
        {"payload": {"kind": "receive", "sku": "S", "location": "A", "qty": 10}, "actor": "cli"},
        {"payload": {"kind": "move", "sku": "S", "from_location": "A", "to_location": "B", "qty": 4}, "actor": "cli"},
    ]
    r = runner.invoke(app, ["edge", "append", "-c", cfg], input="\n".join(json.dumps(o) for o in ops))
    assert r.exit_code == 0, r.output
    stored = [json.loads(line) for line in r.stdout.splitlines()]
    assert [o["seq"] for o in stored] == [1, 2]
    r = runner.invoke(app, ["edge", "ops", "-c", cfg, "--json"])
    assert [json.loads(line)["hash"] for line in r.stdout.splitlines()] == [o["hash"] for o in stored]
    r = runner.invoke(app, ["edge", "stock", "-c", cfg, "--json"])
    assert {(x["location"], x["qty"]) for x in map(json.loads, r.stdout.splitlines())} == {("A", 6), ("B", 4)}
    r = runner.invoke(app, ["edge", "verify", "-c", cfg])
    assert r.exit_code == 0 and "2 ops, chain verifies" in r.stdout


def test_append_refusal_and_bad_json(tmp_path: Path) -> None:
    cfg = str(_site(tmp_path))
    r = runner.invoke(
        app,
        ["edge", "append", "-c", cfg],
        input=json.dumps(
            {"payload": {"kind": "ship", "sku": "S", "location": "A", "qty": 1, "order_id": "O"}, "actor": "cli"}
        ),
    )
    assert r.exit_code == 1 and "insufficient_stock" in r.output
    r = runner.invoke(app, ["edge", "append", "-c", cfg], input="{nope")
    assert r.exit_code == 2 and "not JSON" in r.output
    r = runner.invoke(app, ["edge", "append", "-c", cfg], input=json.dumps({"payload": {"kind": "receive"}}))
    assert r.exit_code == 2 and "payload.receive.sku" in r.output


def test_verify_detects_a_tampered_journal(tmp_path: Path) -> None:
    cfg = str(_site(tmp_path))
    op = {"payload": {"kind": "receive", "sku": "S", "location": "A", "qty": 10}, "actor": "cli"}
    runner.invoke(app, ["edge", "append", "-c", cfg], input="\n".join([json.dumps(op)] * 3))
    import sqlite3

    conn = sqlite3.connect(tmp_path / "edge.sqlite")
    conn.execute("UPDATE journal SET body = replace(body, '\"qty\":10', '\"qty\":99') WHERE seq = 2")
    conn.commit()
    r = runner.invoke(app, ["edge", "verify", "-c", cfg])
    assert r.exit_code == 1 and "seq 2" in r.output and "hash does not match" in r.output
    conn.execute("UPDATE journal SET body = replace(body, '\"qty\":99', '\"qty\":10') WHERE seq = 2")
    conn.execute("UPDATE stock SET qty = qty + 1")
    conn.commit()
    r = runner.invoke(app, ["edge", "verify", "-c", cfg])
    assert r.exit_code == 1 and "projection differs" in r.output


def test_example_configs_load() -> None:
    for cfg in sorted(Path("configs").glob("*.toml")):
        r = runner.invoke(app, ["edge", "stock", "-c", str(cfg)])
        assert "config error" not in r.output, r.output


@pytest.mark.parametrize("sim", ["rfid", "scanner", "camera", "modbus", "agv"])
def test_wims_sim_passes_options_to_the_simulator(sim: str) -> None:
    r = runner.invoke(app, ["sim", sim, "--help"])
    assert r.exit_code == 0 and "usage: python -m firmware_sim." in r.output and "--" in r.output


def _wims(*args: str) -> subprocess.CompletedProcess[str]:
    """``wims`` as a user runs it (the console script's ``main``), reporting whether SQLAlchemy loaded."""
    code = (
        "import sys, atexit; from wims.cli import main;"
        " atexit.register(lambda: print('SQLALCHEMY', 'sqlalchemy' in sys.modules));"
        " sys.argv = ['wims', *sys.argv[1:]]; main()"
    )
    return subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, timeout=60)


def test_gateway_commands_do_not_load_the_cloud() -> None:
    listing = _wims("--help")
    assert listing.returncode == 0 and "cloud" in listing.stdout and "SQLALCHEMY False" in listing.stdout
    edge = _wims("edge", "--help")
    assert edge.returncode == 0 and "SQLALCHEMY False" in edge.stdout
    cloud = _wims("cloud", "--help")
    assert cloud.returncode == 0 and "migrate" in cloud.stdout and "SQLALCHEMY True" in cloud.stdout


async def test_ops_limit_zero_lists_every_op_past_ten_thousand(tmp_path: Path) -> None:
    import asyncio

    from edge.config import load_config
    from sync.ops import OpDraft, ReceivePayload, utc_now
    from tests.support.edge import open_journal

    cfg_file = _site(tmp_path)
    async with open_journal(load_config(cfg_file)) as journal:
        now = utc_now()
        draft = OpDraft(payload=ReceivePayload(sku="S", location="A", qty=1), actor="t", occurred_at=now)
        await asyncio.gather(*(journal.append(draft.model_copy(update={"op_id": uuid7()})) for _ in range(10_050)))
    r = await asyncio.to_thread(runner.invoke, app, ["edge", "ops", "-c", str(cfg_file), "--limit", "0", "--json"])
    assert r.exit_code == 0
    seqs = [json.loads(line)["seq"] for line in r.stdout.splitlines()]
    assert seqs == list(range(1, 10_051))
