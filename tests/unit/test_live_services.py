"""netsim import / drift of swarm services, as pure mappings of a recording
(tests/data/live/swarm-services.snapshot.json: ``netsim deploy designs/swarm-services.yaml`` on
Docker 20.10.24, a single-node swarm; batch's third task pending, "max replicas per node limit
exceed"), and through the fake engine's swarm."""

from __future__ import annotations

import copy
import json
from ipaddress import IPv4Address, IPv4Interface
from pathlib import Path

from simulator.adapters.engine import NetworkSpec, ServiceSpec
from simulator.adapters.fake_engine import FakeEngine
from simulator.live.drift import compute_drift, render_json, render_text
from simulator.live.importer import import_snapshot
from simulator.live.snapshot import Scope, Snapshot, read_snapshot
from simulator.live.writer import render_yaml
from simulator.loaders import load_design, load_text
from simulator.model import Listener

ROOT = Path(__file__).resolve().parents[2]
RECORDING = ROOT / "tests" / "data" / "live" / "swarm-services.snapshot.json"
SCOPE = Scope("netsim", "swarm-services")


def recorded(edit=None) -> Snapshot:
    data = json.loads(RECORDING.read_text())
    if edit is not None:
        data = copy.deepcopy(data)
        edit(data)
    return Snapshot.from_json(data)


def design():
    return load_design(ROOT / "designs" / "swarm-services.yaml")[0]


def service(data: dict, name: str) -> dict:
    return next(s for s in data["services"] if s["Spec"]["Name"] == name)


def test_services_tasks_and_virtual_ips_are_imported():
    imp = import_snapshot(recorded(), SCOPE)
    d = imp.design
    assert [h.name for h in d.hosts] == ["vm"] and d.hosts[0].role == "manager" and d.hosts[0].labels == (("zone", "a"),)
    assert {s.name: (s.endpoint_mode, s.networks, s.pending) for s in d.services} == {
        "api": ("vip", ("backend",), 0), "batch": ("vip", ("backend",), 1),
        "search": ("dnsrr", ("backend",), 0), "web": ("vip", ("backend",), 0)}
    batch = d.service("batch")
    assert batch.constraints == (("node.labels.zone", "==", "a"),) and batch.max_replicas_per_node == 2
    # the engine gave batch's tasks slots 2 and 3 (slot 1 is the pending one)
    assert [c.name for c in d.tasks("batch")] == ["batch.2", "batch.3"]
    web = d.service("web")
    assert [(p.container_port, p.host_port) for p in web.ingress] == [(80, 8082)]
    [task] = d.tasks("web")
    assert [(p.container_port, p.host_port) for p in task.ports] == [(80, 8081)]  # host mode: the task's own port
    assert task.listeners == (Listener(80),) and task.host == "vm" and task.docker_name.startswith("web.1.")
    assert d.container("search.1").service == "search" and d.container("api.1").service is None
    # the tasks are not also plain containers; the routing mesh's network is the swarm's ingress
    assert [c.name for c in d.containers if c.task_of is None] == ["client"]
    assert [(n.name, n.ingress) for n in d.networks] == [("backend", False), ("ingress", True)]
    assert task.networks == ("backend", "ingress") and d.container("api.1").networks == ("backend",)
    assert imp.addresses[("web.1", "ingress")].ip in d.network("ingress").subnet
    assert set(imp.virtual_ips) == {("api", "backend"), ("batch", "backend"), ("web", "backend")}
    assert all(v.ip in d.network("backend").subnet for v in imp.virtual_ips.values())
    task_ips = {imp.addresses[(t.name, "backend")].ip for t in d.containers if t.task_of}
    assert len(task_ips) == 7 and not task_ips & {v.ip for v in imp.virtual_ips.values()}
    assert imp.bindings[("0.0.0.0", 8081, "tcp")] == "web.1"
    assert any("batch: a task is pending (no suitable node (max replicas per node limit exceed))" in n for n in imp.notes)


def test_written_design_declares_the_services_and_loads_back():
    imp = import_snapshot(recorded(), SCOPE)
    text = render_yaml(imp.design, (), dict(imp.provenance))
    assert text == render_yaml(imp.design, (), dict(imp.provenance))
    back, problems = load_text(text, "import.yaml")
    assert not [p for p in problems if p.severity == "error"], [str(p) for p in problems]
    assert "api.1" not in text.split("services:")[0]  # no task under containers:
    assert "ingress:" not in text.split("services:")[0]  # the loader adds the swarm's ingress network
    assert "{target: 80, published: 8081, protocol: tcp, mode: host}" in text
    assert "{target: 80, published: 8082, protocol: tcp, mode: ingress}" in text
    assert "max_replicas_per_node: 2" in text and "replicas: 3" in text
    assert {s.name for s in back.services} == {"api", "batch", "search", "web"}
    assert back.service("search").endpoint_mode == "dnsrr" and back.service("batch").pending == 1
    assert sorted(c.name for c in back.containers if c.task_of) == [
        "api.1", "api.2", "batch.1", "batch.2", "search.1", "search.2", "web.1"]  # the loader numbers from 1
    vips = imp.provenance["swarm"]["virtual_ips"]
    assert vips["api"]["backend"] == str(imp.virtual_ips[("api", "backend")])


def test_no_drift_between_the_design_and_its_deployment():
    result = compute_drift(design(), import_snapshot(recorded(), SCOPE), "20.10")
    assert not result.drifted, render_text(result)
    assert [i for i in result.items if i.severity == "drift"] == []
    assert render_json(result)["by_category"]["service"] == []


def _drift(edit):
    return compute_drift(design(), import_snapshot(recorded(edit), SCOPE), "20.10")


def test_scaled_service_is_drift():
    def scale_down(data):
        api = service(data, "api")
        api["Spec"]["Mode"]["Replicated"]["Replicas"] = 1
        data["tasks"] = [t for t in data["tasks"] if not (t["ServiceID"] == api["ID"] and t["Slot"] == 2)]

    result = _drift(scale_down)
    assert "service api tasks running: design 2, running 1" in [str(i) for i in result.of("service")]
    assert result.drifted
    assert not [i for i in result.of("container") if "api" in i.subject]  # said once, by the service


def test_endpoint_mode_ports_networks_and_constraints_are_compared():
    def change(data):
        search = service(data, "search")
        search["Spec"]["EndpointSpec"]["Mode"] = "vip"
        web = service(data, "web")
        web["Endpoint"]["Ports"][0]["PublishMode"] = "ingress"  # 8081 through the routing mesh now
        batch = service(data, "batch")
        batch["Spec"]["TaskTemplate"]["Placement"]["Constraints"] = ["node.role == manager"]
        batch["Spec"]["TaskTemplate"]["Placement"]["MaxReplicas"] = 3

    texts = [str(i) for i in _drift(change).of("service")]
    assert "service search endpoint_mode: design dnsrr, running vip" in texts
    assert "service web 80/tcp: design published host 8081->80/tcp, running published ingress 8081->80/tcp" in texts
    assert "service batch constraints: design ['node.labels.zone == a'], running ['node.role == manager']" in texts
    assert "service batch max_replicas_per_node: design 2, running 3" in texts


def test_missing_and_extra_services():
    def rename(data):
        service(data, "web")["Spec"]["Name"] = "www"

    texts = [str(i) for i in _drift(rename).of("service")]
    assert "service web: in the design, not running (1 task(s))" in texts
    assert "service www: running, not in the design (1 task(s) on backend)" in texts


def test_a_task_the_scheduler_placed_elsewhere_is_a_note_not_drift():
    text = (ROOT / "designs" / "swarm-services.yaml").read_text().replace(
        "hosts:\n  node-1:\n", "hosts:\n  node-0: {role: manager}\n  node-1:\n").replace(
        "    role: manager\n    labels: {zone: a}", "    role: worker\n    labels: {zone: a}").replace(
        "  client:\n", "  client:\n    host: node-0\n")
    two_hosts, problems = load_text(text, "two.yaml")
    assert not [p for p in problems if p.severity == "error"]
    assert [t.host for t in two_hosts.tasks("api")] == ["node-0", "node-1"]  # the model spreads api over both
    result = compute_drift(two_hosts, import_snapshot(recorded(), SCOPE), "20.10")
    moved = result.of("placement")
    assert moved and all(i.severity == "info" for i in moved)
    assert "task api.2: design on node-1 (the model's spread), running on node-0 (the scheduler's choice) (info)" in [
        str(i) for i in moved]


def test_fake_engine_swarm_reads_back_through_the_snapshot():
    engine = FakeEngine()
    engine.swarm_init("127.0.0.1", {})
    engine.create_network(NetworkSpec("mesh", "mesh", "overlay", subnet="10.0.9.0/24", attachable=True,
                                      labels=(("netsim.design", "fk"),)))
    engine.create_service(ServiceSpec("api", "netsim-probe:1", ("sleep",), ("mesh",), 3,
                                      labels=(("netsim.design", "fk"),), ports=((8080, 80, "tcp", "host"),),
                                      max_replicas=2, pending=1))
    snap = read_snapshot(engine, Scope("netsim", "fk"), host=False)
    assert len(snap.services) == 1 and len(snap.tasks) == 3 and len(snap.containers) == 2
    imp = import_snapshot(snap, Scope("netsim", "fk"))
    d = imp.design
    api = d.service("api")
    assert (api.pending, api.max_replicas_per_node) == (1, 2)
    assert [t.name for t in d.tasks("api")] == ["api.1", "api.2"] and d.containers == d.tasks("api")
    assert imp.virtual_ips[("api", "mesh")] == IPv4Interface("10.0.9.2/24")
    assert [imp.addresses[(t, "mesh")].ip for t in ("api.1", "api.2")] == [IPv4Address("10.0.9.3"),
                                                                          IPv4Address("10.0.9.4")]
    assert engine.service_tasks("api")[0][2] == "running"
