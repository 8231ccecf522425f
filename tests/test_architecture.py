"""The dependency direction of the tree is a checked contract (pyproject's ``[tool.importlinter]``).

``make lint`` runs the same contracts; this test makes a forbidden import fail ``make test`` too, and
shows that the contracts do bite: a copy of the tree with one import the wrong way round is refused.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")


def _lint(cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache"],
        cwd=cwd,
        env={"PYTHONPATH": str(cwd), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_the_import_contracts_hold() -> None:
    r = _lint(ROOT)
    assert r.returncode == 0, r.stdout + r.stderr


def test_an_edge_module_importing_the_cloud_breaks_a_contract(tmp_path: Path) -> None:
    tree = tmp_path / "tree"
    for name in ("wims", "edge", "cloud", "drivers", "sync"):
        shutil.copytree(ROOT / name, tree / name, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copytree(ROOT / "firmware-sim", tree / "firmware_sim", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", tree / "pyproject.toml")
    health = tree / "edge" / "health.py"
    health.write_text(health.read_text() + "\nimport cloud.settings  # the wrong way round\n")
    r = _lint(tree)
    assert r.returncode != 0 and "BROKEN" in r.stdout, r.stdout + r.stderr
