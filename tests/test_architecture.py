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


def test_the_gateway_loads_no_data_science_stack() -> None:
    """pandas, numpy and pyarrow are installed beside the cloud's planning; a gateway that imported them
    (sqlite-utils did, whenever pandas was present) would spend over 100 MB of its 200 MB budget on them."""
    heavy = ("pandas", "numpy", "pyarrow", "statsforecast", "dask", "ortools")
    probe = f"import sys, edge.daemon, edge.cli; print(sorted(m for m in {heavy!r} if m in sys.modules))"
    r = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "[]", f"the gateway imports {r.stdout.strip()}"
