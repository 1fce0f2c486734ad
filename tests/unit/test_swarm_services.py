"""Swarm services in a netsim design (issue 13): tasks as containers placed by the model, the
virtual IP and the names, IPVS as a kernel feature, the deploy plan. The engine's side is
tests/integration/test_engine_designs.py on designs/swarm-services.yaml (0 mismatches) and
docs/confirmed-rules.md §17."""

from __future__ import annotations

import textwrap

import pytest

from simulator.analysis.reachability import reach_of
from simulator.deploy.plan import plan
from simulator.engine.checks import engine_problems
from simulator.engine.topology import build_world
from simulator.errors import DesignError
from simulator.loaders import detect_kind, load_text
from simulator.pipeline import load

BASE = """
name: sw
hosts:
  node-a: {role: manager, labels: {zone: a}, kernel: {ipvs: IPVS}}
networks:
  mesh: {driver: overlay, attachable: true}
containers:
  client: {host: node-a, networks: [mesh]}
services:
  vs: {replicas: 2, networks: [mesh], listens: [80]}
  rr: {replicas: 2, endpoint_mode: dnsrr, networks: [mesh], listens: [80]}
"""


def design_text(ipvs: bool = False, extra: str = "") -> str:
    return textwrap.dedent(BASE).replace("IPVS", "true" if ipvs else "false") + extra


def problems(text: str) -> list[str]:
    """Every stage's problems (the loader's and the engine checks')."""
    try:
        loaded = load(text.encode(), source="s.yaml")
        return [str(p) for p in (*loaded.warnings, *loaded.other_warnings)]
    except DesignError as exc:
        return [str(p) for p in exc.problems]


def probe(result, source: str, name: str, port: int = 80):
    return next(p for p in result.iter_probes() if p.source == source and p.via == "dns" and p.name == name
                and p.port == port)


def test_a_netsim_design_with_services_is_not_a_compose_file():
    import yaml

    assert detect_kind(yaml.safe_load(design_text())) == "netsim"
    assert detect_kind({"services": {"web": {}}}) == "compose"


def test_tasks_are_containers_and_addresses_follow_the_engine():
    """Observed on 20.10.24 (single-node swarm, confirmed-rules §17): the attachable container
    first, then the node's load-balancer endpoint, then per service its virtual IP and its tasks."""
    design, _ = load_text(design_text(), "s.yaml")
    assert [c.name for c in design.containers] == ["client", "vs.1", "vs.2", "rr.1", "rr.2"]
    assert {c.task_of for c in design.containers} == {None, "vs", "rr"}
    world = build_world(design)
    addr = {c: str(world.addressing.address(c, "mesh")) for c in ("client", "vs.1", "vs.2", "rr.1", "rr.2")}
    assert addr == {"client": "10.0.1.2", "vs.1": "10.0.1.5", "vs.2": "10.0.1.6", "rr.1": "10.0.1.7", "rr.2": "10.0.1.8"}
    assert str(world.addressing.vips[("vs", "mesh")]) == "10.0.1.4" and ("rr", "mesh") not in world.addressing.vips


def test_without_ipvs_the_virtual_ip_answers_nobody_and_the_tasks_do():
    result = reach_of(load(design_text().encode(), source="s.yaml").world())
    vip = probe(result, "client", "vs")
    assert not vip.reachable and vip.disposition.value == "NO_ROUTE" and vip.address == "10.0.1.4"
    assert "no IPVS" in vip.reason
    tasks = probe(result, "client", "tasks.vs")
    assert tasks.reachable and tasks.responders == ("vs.1", "vs.2") and tasks.balanced_by == "dns"
    rr = probe(result, "client", "rr")  # dnsrr: the name is the tasks' addresses
    assert rr.reachable and rr.responders == ("rr.1", "rr.2") and rr.balanced_by == "dns"
    # a task's own name (<service>.<slot>.<task id>) is the engine's: no probe of "vs.1"
    assert not any(p.via == "dns" and p.name == "vs.1" for p in result.iter_probes())


def test_with_ipvs_the_virtual_ip_is_balanced_over_the_tasks():
    result = reach_of(load(design_text(ipvs=True).encode(), source="s.yaml").world())
    vip = probe(result, "client", "vs")
    assert vip.reachable and vip.balanced_by == "vip" and vip.responders == ("vs.1", "vs.2")
    own = probe(result, "vs.1", "vs")  # a task reaching its own service: the reason is the same for each task
    assert own.reachable and own.reason == probe(result, "vs.2", "vs").reason


@pytest.mark.parametrize("ipvs", [False, True])
def test_class_groups_and_coarse_groups_equal_the_probes(ipvs):
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).parent))
    from test_classes_property import assert_classes_exact
    from test_coarse_groups import assert_coarse_exact

    world = load(design_text(ipvs, MESH).encode(), source="s.yaml").world()
    assert assert_classes_exact(world) > 0 and assert_coarse_exact(world) > 0


def test_placement_spreads_tasks_and_leaves_the_rest_pending():
    text = design_text(extra=textwrap.indent(textwrap.dedent("""\
        zoned:
          replicas: 5
          networks: [mesh]
          placement: {constraints: ["node.labels.zone == a"], max_replicas_per_node: 2}
        workers:
          mode: global
          networks: [mesh]
          placement: {constraints: ["node.role != manager"]}
        """), "  ")).replace("hosts:\n", "hosts:\n  node-b: {role: worker}\n  node-c: {role: worker, labels: {zone: a}}\n")
    design, warnings = load_text(text, "s.yaml")
    hosts = {c.name: c.host for c in design.containers}
    assert [hosts[f"zoned.{n}"] for n in (1, 2, 3, 4)] == ["node-c", "node-a", "node-c", "node-a"]
    assert "zoned.5" not in hosts
    assert any("1 task(s) of service zoned stay pending" in str(w) for w in warnings)
    assert {n: h for n, h in hosts.items() if n.startswith("workers.")} == {"workers.node-b": "node-b",
                                                                            "workers.node-c": "node-c"}
    assert hosts["vs.1"] != hosts["vs.2"]  # spread over the nodes


@pytest.mark.parametrize("extra, fragment, line", [
    ("  bad: {endpoint_mode: dnsrr, networks: [mesh], ports: ['8080:80']}\n",
     "port published with ingress mode can't be used with dnsrr mode", 12),
    ("  bad: {networks: [local]}\n", "network local is not an overlay", 12),
    ("  bad: {networks: [mesh], placement: {constraints: ['engine.labels.x == 1']}}\n", "is not a constraint", 12),
    ("  bad: {networks: [mesh], placement: {constraints: ['node.role == worker']}}\n", "stay pending", 12),
    ("  bad: {mode: global, replicas: 2, networks: [mesh]}\n", "replicas can only be used with replicated", 12),
])
def test_refusals_say_what_the_engine_says_where_it_is_written(extra, fragment, line):
    text = design_text().replace("networks:\n  mesh:", "networks:\n  local: {driver: bridge}\n  mesh:") + extra
    found = [p for p in problems(text) if fragment in p]
    assert found and found[0].startswith(f"s.yaml:{line + 1}:"), problems(text)


def test_ipvs_is_a_kernel_feature_the_check_names():
    design, _ = load_text(design_text(extra="  mesh_port: {networks: [mesh], ports: ['8083:80']}\n"), "s.yaml")
    said = [p.message for p in engine_problems(design)]
    assert any("virtual IP, which needs IPVS" in m and "node-a" in m for m in said)
    assert any("ingress-mode port(s) 8083/tcp of service mesh_port are not bound" in m for m in said)
    with_ipvs, _ = load_text(design_text(True, "  mesh_port: {networks: [mesh], ports: ['8083:80']}\n"), "s.yaml")
    assert not any("IPVS" in p.message for p in engine_problems(with_ipvs))


MESH = """\
  web: {replicas: 2, networks: [mesh], listens: [80], ports: ['8083:80'],
        placement: {constraints: ['node.role == worker']}}
"""
TWO_NODES = "hosts:\n  node-b: {role: worker, kernel: {ipvs: IPVS}}\n"


def mesh_result(ipvs: bool, mesh: str = MESH):
    text = design_text(ipvs, mesh).replace("hosts:\n", TWO_NODES.replace("IPVS", "true" if ipvs else "false"))
    return reach_of(load(text.encode(), source="s.yaml").world())


def test_the_routing_mesh_opens_the_port_on_every_node_and_balances_over_every_task():
    result = mesh_result(ipvs=True)
    lan = {p.host: p for p in result.iter_probes() if p.source == "external" and p.via == "host" and p.port == 8083}
    assert set(lan) == {"node-a", "node-b"}  # node-a runs no task of web: the mesh answers there too
    for node, p in lan.items():
        assert p.reachable and p.balanced_by == "ingress" and p.responders == ("web.1", "web.2"), p
        assert f"IPVS in host {node}'s ingress sandbox" in p.reason and "ingress sandbox's address as the source" in p.reason
    local = next(p for p in result.iter_probes() if p.source == "node-a" and p.via == "host" and p.port == 8083)
    assert local.reachable and local.responders == ("web.1", "web.2")


def test_without_ipvs_the_routing_mesh_binds_nothing_on_any_node():
    result = mesh_result(ipvs=False)
    lan = [p for p in result.iter_probes() if p.source == "external" and p.via == "host" and p.port == 8083]
    assert len(lan) == 2 and all(not p.reachable and p.disposition.value == "REFUSED" for p in lan)
    assert all("needs IPVS" in p.reason and p.balanced_by is None and not p.responders for p in lan)


def test_a_mesh_port_of_a_service_without_a_running_task_is_refused():
    probes = mesh_result(True, MESH.replace("worker", "nobody")).iter_probes()
    p = next(p for p in probes if p.source == "external" and p.via == "host" and p.port == 8083)
    assert not p.reachable and "no task of it runs" in p.reason


def test_a_host_mode_port_holds_a_node_for_one_task_and_the_rest_stay_pending():
    """swarmkit's host port filter: "no suitable node (host-mode port already in use on N nodes)"."""
    extra = "  hp: {replicas: 3, networks: [mesh], listens: [80], ports: [{target: 80, published: 8081, mode: host}]}\n"
    text = design_text(extra=extra).replace("hosts:\n", "hosts:\n  node-b: {role: worker}\n")
    design, warnings = load_text(text, "s.yaml")
    assert sorted(c.host for c in design.tasks("hp")) == ["node-a", "node-b"]
    said = [str(w) for w in warnings if "hp stay pending" in str(w)]
    assert said and "host-mode port already in use on 2 nodes" in said[0] and said[0].startswith("s.yaml:13:")


def test_the_deploy_plan_creates_a_service_per_service_and_no_task_container():
    extra = "  hp: {networks: [mesh], listens: [80], ports: [{target: 80, published: 8081, mode: host}]}\n"
    design, _ = load_text(design_text(extra=extra), "s.yaml")
    p = plan(design)
    assert [c.key for c in p.containers] == ["client"]
    assert [(s.key, s.replicas, s.endpoint_mode) for s in p.services] == [("vs", 2, "vip"), ("rr", 2, "dnsrr"),
                                                                        ("hp", 1, "vip")]
    assert p.services[2].ports == ((8081, 80, "tcp", "host"),)
    assert p.swarm and any(step.kind == "services" for step in p.steps)


def test_constraints_and_node_labels_reach_the_deploy_plan():
    from simulator.deploy.apply import _on_node

    text = design_text(extra="  onb: {networks: [mesh], placement: {constraints: ['node.labels.zone == a', "
                             "'node.hostname == node-a']}}\n")
    design, _ = load_text(text, "s.yaml")
    p = plan(design)
    onb = next(s for s in p.services if s.key == "onb")
    assert onb.constraints == ("node.labels.zone == a", "node.hostname == node-a")
    assert p.node_labels == (("node-a", (("zone", "a"),)),)
    # every daemon here has this machine's host name: a design host is its node's id
    assert _on_node("node.hostname == node-a", {"node-a": "n1"}) == "node.id == n1"
    assert _on_node("node.labels.zone == a", {"node-a": "n1"}) == "node.labels.zone == a"


def test_a_global_service_is_deployed_in_global_mode_and_its_tasks_answer_by_node():
    design, _ = load_text(design_text(extra="  everywhere: {mode: global, networks: [mesh], listens: [80]}\n"), "s.yaml")
    assert design.service("everywhere").global_mode and not design.service("vs").global_mode
    p = plan(design)
    spec = next(s for s in p.services if s.key == "everywhere")
    assert spec.global_mode and "everywhere.node-a" not in p.skipped
    assert spec.answer_template == "everywhere.{{.Node.ID}}"
    assert next(s for s in p.services if s.key == "vs").answer_template == "vs.{{.Task.Slot}}"


def test_verify_names_a_global_task_by_its_node():
    """The task answers <service>.<node id> (a swarm template); verify reads it as the design names
    it, <service>.<node>."""
    from simulator.verify.observe import Facts, Observation

    facts = Facts({}, {}, {}, None, None, False, True)  # type: ignore[arg-type]
    facts.answers = {"everywhere.n0d3id": "everywhere.node-a"}
    seen = facts.named(Observation(("k",), "10.0.1.9", "answered", "everywhere.n0d3id"))
    assert seen.responder == "everywhere.node-a"
    other = Observation(("k",), "10.0.1.9", "answered", "vs.1")
    assert facts.named(other) is other


def test_an_answer_that_depends_on_the_schedulers_placement_says_so():
    extra = "  hp: {replicas: 1, networks: [mesh], listens: [80], ports: [{target: 80, published: 8081, mode: host}]}\n"
    text = design_text(extra=extra).replace("hosts:\n", "hosts:\n  node-b: {role: worker, lan: {address: 192.168.1.12/24}}\n")
    result = reach_of(load(text.encode(), source="s.yaml").world())
    lan = {p.host: p for p in result.iter_probes() if p.source == "external" and p.via == "host" and p.port == 8081}
    ran = next(iter({t.host for t in result.design.tasks("hp")}))
    assert lan[ran].reachable and f"{ran} runs one of its tasks in the model's spread placement" in lan[ran].reason
    other = next(h for h in lan if h != ran)
    assert not lan[other].reachable and "runs none of its tasks" in lan[other].reason
    pinned = text.replace("mode: host}]}", "mode: host}], placement: {constraints: ['node.hostname == node-b']}}")
    result = reach_of(load(pinned.encode(), source="s.yaml").world())
    assert not any("spread placement" in p.reason for p in result.iter_probes() if p.via == "host")
