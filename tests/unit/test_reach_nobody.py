"""reach lists a probe for every way of addressing the design, also where nobody answers:
a port published by a container whose publication the engine ignores is probed via host."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from simulator.analysis.reachability import compute_reach
from simulator.cli import app
from simulator.loaders import load_design

ROOT = Path(__file__).resolve().parents[2]
INTERNAL = ROOT / "designs/internal-network.yaml"
IGNORED = ("nothing answers: publication ignored: secrets publishes 8200/tcp, but its gateway network vault is "
           "internal: the engine accepts -p but binds nothing")


def _host_probes(design, port):
    return [p for p in compute_reach(design).probes if p.via == "host" and p.port == port]


def test_ignored_publication_is_probed_from_every_source():
    design, _ = load_design(INTERNAL)
    probes = _host_probes(design, 8200)
    assert sorted(p.source for p in probes) == ["app", "auditor", "external", "host", "secrets"]
    for p in probes:
        assert not p.reachable and p.disposition.value == "REFUSED"
        assert p.reason == IGNORED
    # the published port of app (on a normal network) is untouched
    assert all(p.reachable for p in _host_probes(design, 8080) if p.source in ("host", "external"))


def test_ignored_publication_in_table_and_json():
    runner = CliRunner()
    data = json.loads(runner.invoke(app, ["reach", str(INTERNAL), "--format", "json"]).stdout)
    rows = [p for p in data["probes"] if p["via"] == "host" and p["port"] == 8200 and p["source"] == "external"]
    assert rows == [{**rows[0], "address": "192.168.1.10", "reachable": False, "responder": None, "responders": [],
                     "disposition": "REFUSED", "reason": IGNORED}]
    table = runner.invoke(app, ["reach", str(INTERNAL), "--source", "external", "--wide"], env={"COLUMNS": "400"}).stdout
    line = next(ln for ln in table.splitlines() if "8200" in ln and "host" in ln)
    assert "nothing answers: publication ignored" in line


def test_a_port_another_container_really_publishes_stays_reachable(tmp_path):
    design = tmp_path / "both.yaml"
    design.write_text("""\
name: both
networks:
  vault: {internal: true}
  public: {}
containers:
  locked:
    networks: [vault]
    listens: [80]
    ports: ["8080:80"]
  loner:
    network_mode: none
    listens: [80]
    ports: ["9090:80"]
  open:
    networks: [public]
    listens: [80]
    ports: ["8080:80"]
""")
    d, _ = load_design(design)
    [from_outside] = [p for p in _host_probes(d, 8080) if p.source == "external"]
    assert from_outside.reachable and from_outside.responder == "open"
    [loner] = [p for p in _host_probes(d, 9090) if p.source == "external"]
    assert not loner.reachable
    assert loner.reason == ("nothing answers: publication ignored: loner publishes 9090/tcp, but network_mode none "
                            "discards published ports")
