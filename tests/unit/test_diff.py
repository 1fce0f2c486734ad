"""`netsim diff`: exactly the reachability and exposure changes between two designs."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from simulator.analysis.reachability import compute_reach
from simulator.cli import app
from simulator.diff import diff_results
from simulator.loaders import load_design

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "tests/data/intent/diff"
OLD, NEW = "tests/data/intent/diff/old.yaml", "tests/data/intent/diff/new.yaml"


@pytest.fixture(autouse=True)
def _in_repo(monkeypatch):
    monkeypatch.chdir(ROOT)  # the golden output names the designs by relative path


def result(path, version="20.10"):
    return compute_reach(load_design(ROOT / path)[0], version)


def test_same_design_has_no_change():
    r = result("designs/frontend-backend.yaml")
    d = diff_results(r, r)
    assert d.empty and d.changes == ()


def test_exactly_the_changed_probes():
    old, new = result(OLD), result(NEW)
    d = diff_results(old, new)
    before = {p.key: p.reachable for p in old.probes}
    after = {p.key: p.reachable for p in new.probes}
    opened = {k for k, ok in after.items() if ok and not before.get(k, False)}
    closed = {k for k, ok in before.items() if ok and not after.get(k, False)}
    assert {c.probe.key for c in d.of("opened")} == opened and len(d.of("opened")) == len(opened) == 11
    assert {c.probe.key for c in d.of("closed")} == closed and len(d.of("closed")) == len(closed) == 7
    assert ("proxy", "ip", "db", "frontend", None, None, 5432, "tcp", 4) in opened
    assert ("external", "host", None, None, None, None, 80, "tcp", 4) in closed
    assert [(e.container, e.port, e.audience) for e in d.exposed] == [("db", 5432, "host")]


def test_cli_table_is_exact():
    r = CliRunner().invoke(app, ["diff", OLD, NEW])
    assert r.exit_code == 0
    assert r.output == (DATA / "expected.txt").read_text()


def test_cli_json_and_exit_code():
    r = CliRunner().invoke(app, ["diff", OLD, NEW, "--format", "json", "--exit-code"])
    assert r.exit_code == 1
    data = json.loads(r.output)
    assert (len(data["opened"]), len(data["closed"]), len(data["changed"])) == (11, 7, 0)
    assert data["opened"][0]["new"]["responder"] == "db"
    same = CliRunner().invoke(app, ["diff", OLD, OLD, "--exit-code"])
    assert same.exit_code == 0 and "no change" in same.output


def test_version_changes_direct_routing():
    r = CliRunner().invoke(app, ["diff", OLD, NEW, "-e", "28.0", "--format", "json"])
    data = json.loads(r.output)
    assert not any(c["old"] and c["old"]["source"] == "external" and c["old"]["via"] == "ip" for c in data["closed"])
