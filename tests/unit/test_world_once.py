"""Compute once per command: one world per design and engine version, however many views it feeds."""

from __future__ import annotations

import importlib
import pkgutil
import sys
from collections import Counter
from pathlib import Path

import pytest
from typer.testing import CliRunner

import simulator
from simulator.cli import app
from simulator.engine import topology

ROOT = Path(__file__).resolve().parents[2]
FB = str(ROOT / "designs/frontend-backend.yaml")


@pytest.fixture
def builds(monkeypatch) -> Counter:
    """Count build_world calls by engine version, wherever a module holds the function."""
    original = topology.build_world
    counts: Counter = Counter()

    def counting(design, engine_version=None):
        counts[engine_version] += 1
        return original(design, engine_version)

    for info in pkgutil.walk_packages(simulator.__path__, "simulator."):  # every module that may hold the name,
        importlib.import_module(info.name)  # imported before patching (one imported later would keep a stale patch)
    for name, module in list(sys.modules.items()):
        if name.startswith("simulator") and getattr(module, "build_world", None) is original:
            monkeypatch.setattr(module, "build_world", counting)
    return counts


COMMANDS = {
    "reach": ["reach", FB],
    "reach --trace json": ["reach", FB, "--format", "json", "--trace"],
    "trace": ["trace", FB, "proxy", "db:5432"],
    "exposure": ["exposure", FB],
    "addresses": ["addresses", FB],
    "rules": ["rules", FB],
    "diagram --path": ["diagram", FB, "-f", "dot", "--path", "external", "proxy:443"],
    "audit": ["audit", FB, "--fail-on", "never"],
}


@pytest.mark.parametrize("command,version", [(c, None) for c in sorted(COMMANDS)] + [("reach", "28.2"), ("trace", "28.2")])
def test_one_world_per_command(builds, command, version):
    args = COMMANDS[command] + (["-e", version] if version else [])
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    assert builds == Counter({version: 1}), f"{command}: build_world calls by version {dict(builds)}"


@pytest.mark.parametrize("version", [None, "28.2"])
def test_one_world_for_a_report(builds, tmp_path, version):
    out = tmp_path / "r.html"
    result = CliRunner().invoke(app, ["report", FB, "-o", str(out)] + (["-e", version] if version else []))
    assert result.exit_code == 0, result.output
    assert out.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
    assert builds == Counter({version: 1}), f"build_world calls by version {dict(builds)}"


def test_one_world_per_design_for_a_diff(builds):
    result = CliRunner().invoke(app, ["diff", FB, str(ROOT / "designs/internal-network.yaml")])
    assert result.exit_code == 0, result.output
    assert builds == Counter({None: 2})
