"""`wims demo` (the README's first command) runs end to end on both example sites."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from wims.cli import app


@pytest.mark.parametrize("site", ["configs/shanghai-cold.toml", "configs/los-angeles-xb.toml"])
def test_demo_runs_and_verifies(site: str) -> None:
    r = CliRunner().invoke(app, ["demo", "--config", site, "--ops", "80"])
    assert r.exit_code == 0, r.output
    out = " ".join(r.output.split())
    assert "receive ops" in out and "verifies" in out and "projection matches the journal" in out
    assert "device:demo-scanner: ok" in out
    if "shanghai" in site:  # the cold-chain scene: excursion, hold, work order, supervised release
        assert "temp_alarm temp_high raised in CHL" in out
        assert "qc_hold ops froze the zone's stock" in out and "release by an operator: refused (403)" in out
    assert Path(site).exists()
