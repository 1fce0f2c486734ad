"""Round trip: deploy a design with netsim, import the running engine, and the import gives
the same model answers (check, reach by probe key) as the design itself; swarm services are
read back as services."""

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


def test_import_and_drift_of_swarm_services(engine, root, leftovers):
    """designs/swarm-services.yaml deployed on a single-node swarm: the import reads its services
    (modes, ports with their publish mode, constraints, max per node, the pending task), their
    running tasks (not as plain containers) with the addresses and virtual IPs the engine shows,
    writes a design that loads back with the same services, and drift finds none."""
    design, _ = load_design(DESIGNS / "swarm-services.yaml")
    scope = Scope("netsim", design.name)
    try:
        apply(plan(design, caps=lanpeer.kernel_capabilities()), engine, lanpeer)
        imported = import_snapshot(read_snapshot(engine, scope), scope)
        d = imported.design
        assert {s.name: (s.endpoint_mode, s.pending) for s in d.services} == {
            "api": ("vip", 0), "batch": ("vip", 1), "search": ("dnsrr", 0), "web": ("vip", 0)}
        assert d.service("batch").max_replicas_per_node == 2
        assert d.service("batch").constraints == (("node.labels.zone", "==", "a"),)
        assert {s: len(d.tasks(s)) for s in ("api", "batch", "search", "web")} == {
            "api": 2, "batch": 2, "search": 2, "web": 1}
        assert [c.name for c in d.containers if c.task_of is None] == ["client"]
        assert [(p.host_port, p.container_port) for p in d.service("web").ingress] == [(8082, 80)]
        assert [(p.host_port, p.container_port) for p in d.tasks("web")[0].ports] == [(8081, 80)]
        # independently: the virtual IPs docker service inspect shows, the addresses each task's container has
        backend = engine.api.inspect_network("backend")["Id"]
        for name in ("api", "batch", "web"):
            vips = engine.api.inspect_service(name)["Endpoint"]["VirtualIPs"]
            assert str(imported.virtual_ips[(name, "backend")]) == next(v["Addr"] for v in vips
                                                                          if v["NetworkID"] == backend)
        assert ("search", "backend") not in imported.virtual_ips  # dnsrr: no virtual IP
        for task in (c for c in d.containers if c.task_of):
            shown = engine.inspect_container(imported.ids[task.name])["NetworkSettings"]["Networks"]["backend"]
            assert str(imported.addresses[(task.name, "backend")].ip) == shown["IPAddress"]
            assert task.listeners and task.host == d.hosts[0].name
        back, problems = load_text(render_yaml(d, (), dict(imported.provenance)), "import.yaml")
        assert not [p for p in problems if p.severity == "error"]
        assert {s.name: (s.endpoint_mode, s.pending, s.max_replicas_per_node) for s in back.services} == {
            s.name: (s.endpoint_mode, s.pending, s.max_replicas_per_node) for s in design.services}
        drift = compute_drift(design, imported, "20.10")
        assert not drift.drifted, [str(i) for i in drift.items]
        assert not compute_drift(back, imported, "20.10").drifted
    finally:
        destroy(design.name, engine, lanpeer)
    assert leftovers(engine, design.name) == []
    assert not engine.swarm_state().active
