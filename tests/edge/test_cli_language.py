"""``wims`` speaks Chinese when ``WIMS_LANG`` (or the locale) says so: real processes, the same exit codes
as in English, the same data (``--json``), Chinese words."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.edge.test_cli import _site

WIMS = str(Path(sys.executable).with_name("wims"))


def wims(
    *args: str, lang: dict[str, str], stdin: str | None = None, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """``wims`` as a user runs it, in a process of its own, with ``lang`` as its language settings."""
    base = {k: v for k, v in os.environ.items() if k not in ("WIMS_LANG", "LC_ALL", "LC_MESSAGES", "LANG")}
    full = base | {"COLUMNS": "200"} | (env or {}) | lang
    return subprocess.run([WIMS, *args], input=stdin, capture_output=True, text=True, timeout=60, env=full)


EN = {"LANG": "C.UTF-8"}
ZH = {"WIMS_LANG": "zh_CN"}


def both(
    *args: str, stdin: str | None = None, env: dict[str, str] | None = None
) -> tuple[subprocess.CompletedProcess[str], subprocess.CompletedProcess[str]]:
    """The same command in English and in Chinese: the same exit code."""
    en, zh = wims(*args, lang=EN, stdin=stdin, env=env), wims(*args, lang=ZH, stdin=stdin, env=env)
    assert en.returncode == zh.returncode, (en, zh)
    return en, zh


def test_config_errors_name_the_file_and_key_in_chinese(tmp_path: Path) -> None:
    missing = str(tmp_path / "nope.toml")
    en, zh = both("edge", "ops", "--config", missing)
    assert en.returncode == 2 and en.stderr.strip() == f"config error {missing}: cannot read: No such file or directory"
    assert zh.stderr.strip() == f"配置错误 {missing}：无法读取：文件或目录不存在"
    bad = tmp_path / "bad.toml"
    bad.write_text('[site]\nwarehouse = "W"\n[store]\nsynchronous = "OFF"\nturbo = true\n')
    en, zh = both("edge", "stock", "--config", str(bad))
    assert en.returncode == 2 and "site.gateway_id: Field required" in en.stderr
    assert f"配置错误 {bad}：site.gateway_id：必填字段" in zh.stderr
    assert "store.synchronous：输入应为 'FULL' 或 'EXTRA'" in zh.stderr
    assert "store.turbo：不允许额外的字段" in zh.stderr


def test_append_verify_stock_and_sync_status(tmp_path: Path) -> None:
    cfg = str(_site(tmp_path))
    op = {"payload": {"kind": "receive", "sku": "S", "location": "A", "qty": 10}, "actor": "cli"}
    zh = wims("edge", "append", "-c", cfg, lang=ZH, stdin=json.dumps(op))
    assert zh.returncode == 0 and json.loads(zh.stdout)["seq"] == 1  # data stays data
    take = {"payload": {"kind": "ship", "sku": "S", "location": "A", "qty": 99, "order_id": "O"}, "actor": "cli"}
    en, zh = both("edge", "append", "-c", cfg, stdin=json.dumps(take))
    assert en.returncode == 1 and "rejected insufficient_stock: reserved stock of 'S'" in en.stderr
    assert "已拒绝 insufficient_stock：'S' 批次 '' 在 'A' 的已预留库存为 0，本操作需扣减 99" in zh.stderr, zh.stderr
    en, zh = both("edge", "append", "-c", cfg, stdin="{nope")
    assert en.returncode == 2 and zh.stderr.strip() == "不是 JSON：第 1 行第 2 列（字符 1）：应为用双引号括起的属性名"
    en, zh = both("edge", "append", "-c", cfg, stdin=json.dumps({"payload": {"kind": "receive"}}))
    assert en.returncode == 2 and "操作无效 0.payload.receive.sku：必填字段" in zh.stderr

    en, zh = both("edge", "verify", "-c", cfg)
    assert en.returncode == 0 and "ok 1 ops, chain verifies to seq 1" in en.stdout
    assert "正常 共 1 条操作，哈希链校验至序号 1" in zh.stdout and "库存投影一致" in zh.stdout
    en, zh = both("edge", "stock", "-c", cfg)
    assert "stock at WH-C" in en.stdout and "location" in en.stdout
    assert "WH-C 的库存" in zh.stdout and "库位" in zh.stdout and "数量" in zh.stdout
    en, zh = both("edge", "sync", "status", "-c", cfg)
    assert en.returncode == 0 and "backlog_ops" in en.stdout and "sync not configured" in en.stdout
    assert "积压（操作数）" in zh.stdout and "未配置同步" in zh.stdout and "（未配置云端）" in zh.stdout
    assert "backlog_ops" not in zh.stdout
    en, zh = both("edge", "sync", "status", "-c", cfg, "--json")
    en_facts, zh_facts = json.loads(en.stdout), json.loads(zh.stdout)  # --json is data: the same in every language
    assert en_facts.keys() == zh_facts.keys() and en_facts["status"] == zh_facts["status"] == "sync not configured"
    assert en_facts["backlog_ops"] == zh_facts["backlog_ops"] == 1


def test_the_language_comes_from_wims_lang_then_the_locale(tmp_path: Path) -> None:
    missing = str(tmp_path / "nope.toml")
    assert "配置错误" in wims("edge", "ops", "-c", missing, lang={"LANG": "zh_CN.UTF-8"}).stderr
    assert "配置错误" in wims("edge", "ops", "-c", missing, lang={"LC_MESSAGES": "zh_CN.UTF-8", "LANG": "C"}).stderr
    assert "config error" in wims("edge", "ops", "-c", missing, lang={"LANG": "zh_CN.UTF-8", "LC_ALL": "C"}).stderr
    assert "config error" in wims("edge", "ops", "-c", missing, lang={"LANG": "zh_CN.UTF-8", "WIMS_LANG": "en"}).stderr
    assert "配置错误" in wims("edge", "ops", "-c", missing, lang={"LC_ALL": "en_US.UTF-8", "WIMS_LANG": "zh"}).stderr


def test_help_in_chinese() -> None:
    en, zh = both("edge", "ops", "--help")
    assert en.returncode == 0 and "List the journal (and follow it)." in en.stdout and "[required]" in en.stdout
    assert "列出日志中的操作（并可持续跟踪）。" in zh.stdout and "[必填]" in zh.stdout and "选项" in zh.stdout
    assert "最多显示这么多条操作（0 表示全部）。" in zh.stdout and "显示此帮助信息并退出。" in zh.stdout
    assert "Show this message and exit." in en.stdout
    en, zh = both("--help")
    assert "单个仓库的边缘网关。" in zh.stdout and "中心云服务。" in zh.stdout and "命令" in zh.stdout
    en, zh = both("sim", "--help")
    assert "基于 TCP 的 LLRP RFID 读写器（默认端口 5084）。" in zh.stdout
