"""`netsim trace` output, exactly: what a person reads must not change by accident.

Regenerate with NETSIM_UPDATE_GOLDEN=1 after an intended change, and read the diff.
"""

import os
from pathlib import Path

import pytest
from typer.testing import CliRunner

from simulator.cli import app

ROOT = Path(__file__).resolve().parents[2]
GOLDEN = Path(__file__).resolve().parent / "trace"
CASES = {
    "isolation": ("designs/frontend-backend.yaml", "proxy", "db:5432"),
    "direct-routing": ("designs/frontend-backend.yaml", "external", "proxy:443"),
    "internal-dnat": ("designs/internal-network.yaml", "secrets", "host:8080"),
    "macvlan-parent": ("designs/macvlan-lan.yaml", "host", "printer-service:631"),
    "overlay": ("designs/overlay-two-hosts.yaml", "web", "api:8080"),
    "host-mode": ("designs/host-mode.yaml", "worker", "host:9100"),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_trace_text(case):
    design, source, target = CASES[case]
    result = CliRunner().invoke(app, ["trace", str(ROOT / design), source, target])
    assert result.exit_code == 0, result.output
    path = GOLDEN / f"{case}.txt"
    if os.environ.get("NETSIM_UPDATE_GOLDEN") == "1":
        path.write_text(result.output)
    assert result.output == path.read_text()
