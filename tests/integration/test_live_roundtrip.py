"""Round trip: deploy a design with netsim, import the running engine, and the import gives
the same model answers (check, reach by probe key) as the design itself."""

from __future__ import annotations

from pathlib import Path

import pytest

from simulator.adapters import lanpeer
from simulator.analysis.reachability import compute_reach
from simulator.deploy.apply import apply, destroy
from simulator.deploy.plan import plan
from simulator.live.drift import compute_drift
from simulator.live.importer import import_snapshot
from simulator.live.snapshot import Scope, read_snapshot
from simulator.live.writer import render_yaml
from simulator.loaders import load_design, load_text

DESIGNS = Path(__file__).resolve().parents[2] / "designs"


@pytest.mark.parametrize("name", ["frontend-backend.yaml", "multi-homed.yaml", "internal-network.yaml"])
def test_import_of_a_deployment_answers_like_the_design(engine, root, leftovers, name):
    design, _ = load_design(DESIGNS / name)
    the_plan = plan(design, caps=lanpeer.kernel_capabilities())
    try:
        apply(the_plan, engine, lanpeer)
        imported = import_snapshot(read_snapshot(engine, Scope("netsim", design.name)), Scope("netsim", design.name))
        text = render_yaml(imported.design)
        back, problems = load_text(text, "import.yaml")  # what `netsim check` does
        assert not [p for p in problems if p.severity == "error"]
        # the deployment names containers and networks by the design's engine names: same keys
        assert {c.name for c in back.containers} == {c.name for c in design.containers}
        want = {p.key: (p.reachable, p.responder) for p in compute_reach(design, "20.10").probes
                if p.source != "external"}
        got = {p.key: (p.reachable, p.responder) for p in compute_reach(back, "20.10").probes
               if p.source != "external"}
        assert got == want
        drift = compute_drift(design, imported, "20.10")
        assert not drift.drifted, [str(i) for i in drift.items]
    finally:
        destroy(design.name, engine, lanpeer)
    assert leftovers(engine, design.name) == []
