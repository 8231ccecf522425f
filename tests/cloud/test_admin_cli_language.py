"""``wims cloud ...`` in Chinese (``WIMS_LANG=zh_CN``), as real processes: the same exit codes as in English,
duplicates and database problems said in Chinese, one line each."""

from __future__ import annotations

from pathlib import Path

from tests.cloud.conftest import Cloud
from tests.edge.test_cli_language import both


def test_admin_commands_speak_chinese(cloud: Cloud) -> None:
    db = {"WIMS_DATABASE_URL": cloud.url, "WIMS_PASSWORD": "first-password", "WIMS_PASSWORD_TIME_COST": "1"}
    en, zh = both("cloud", "user", "add", "supervisor", "--role", "auditor", env=db)
    assert en.returncode == 1 and "user 'supervisor' already exists (role supervisor, warehouse WH-A)" in en.stderr
    assert zh.stderr.strip() == "无法添加用户：用户 'supervisor' 已存在（角色 supervisor，仓库 WH-A）"
    en, zh = both("cloud", "gateway", "add", "GW-A", "--warehouse", "WH-X", env=db)
    assert en.returncode == 1 and zh.stderr.strip() == "网关 'GW-A' 已存在（仓库 WH-A）"
    en, zh = both("cloud", "gateway", "revoke", "GW-NOPE", env=db)
    assert en.returncode == 1 and zh.stderr.strip() == "没有网关 'GW-NOPE'"
    en, zh = both("cloud", "user", "list", env=db)
    assert en.returncode == 0 and "角色" in zh.stdout and "仓库" in zh.stdout and "supervisor" in zh.stdout
    en, zh = both("cloud", "user", "disable", "operator", env=db)
    assert en.returncode == 0 and "用户 operator 已停用" in zh.stdout
    en, zh = both("cloud", "user", "add", "bob", "--role", "operator", env={**db, "WIMS_PASSWORD": "short"})
    assert en.returncode == 2 and zh.stderr.strip() == "密码至少需要 8 个字符"


def test_database_problems_are_one_chinese_line(tmp_path: Path) -> None:
    en, zh = both("cloud", "gateway", "list", env={"WIMS_DATABASE_URL": ""})
    assert en.returncode == 2 and zh.stderr.startswith("未设置 WIMS_DATABASE_URL：请执行 export")
    down = {"WIMS_DATABASE_URL": "postgresql://postgres@127.0.0.1:1/wims"}
    en, zh = both("cloud", "user", "list", env=down)
    assert en.returncode == 2 and zh.stderr.startswith("无法连接数据库 postgresql://postgres@127.0.0.1:1/wims：")
    assert "Traceback" not in zh.stderr and len(zh.stderr.strip().splitlines()) == 1
    empty = {"WIMS_DATABASE_URL": f"sqlite:///{tmp_path / 'empty.sqlite'}"}
    en, zh = both("cloud", "user", "list", env=empty)
    assert en.returncode == 2 and "的数据库中没有 WIMS 数据表：请运行 `wims cloud migrate`" in zh.stderr
