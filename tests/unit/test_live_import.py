"""netsim import / drift as pure mappings of recorded inspect JSON (tests/data/live/*.json).

The recordings are of two compose (v1) projects started by docker-compose on Docker 20.10:
``nslshop`` (tests/data/live/shop) and ``nsledge`` (tests/data/live/edge)."""

from __future__ import annotations

import copy
import json
from ipaddress import IPv4Address
from pathlib import Path

import pytest

from simulator.live.drift import compute_drift, render_json, render_junit, render_text
from simulator.live.importer import import_snapshot
from simulator.live.snapshot import Scope, Snapshot, Socket, parse_proc_net
from simulator.live.writer import render_yaml
from simulator.loaders import load_design, load_text
from simulator.model import ModeKind

DATA = Path(__file__).resolve().parents[1] / "data" / "live"


def snapshot(project: str) -> Snapshot:
    return Snapshot.from_json(json.loads((DATA / f"{project}.snapshot.json").read_text()))


def shop():
    return import_snapshot(snapshot("nslshop"), Scope("compose", "nslshop"))


def compose(name: str):
    design, _ = load_design(DATA / name / "docker-compose.yml")
    return design


def test_proc_net_parsing_listening_sockets_only():
    tcp = (
        "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n"
        "   0: 00000000:0050 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 111 1\n"
        "   1: 0B00007F:A1B2 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 112 1\n"
        "   2: 0247A8C0:0050 0347A8C0:C350 01 00000000:00000000 00:00000000 00000000     0        0 113 1\n"
    )
    found = parse_proc_net(tcp, "tcp")
    assert [(s.address, s.port, s.inode) for s in found] == [("0.0.0.0", 80, 111), ("127.0.0.11", 41394, 112)]
    assert found[0].wildcard and found[1].loopback
    tcp6 = ("  sl  local_address                         remote_address                        st ...\n"
            "   0: 00000000000000000000000000000000:1F90 00000000000000000000000000000000:0000 0A "
            "00000000:00000000 00:00000000 00000000     0        0 9 1\n")
    assert parse_proc_net(tcp6, "tcp") == [Socket("tcp", "::", 8080, 9)]


def test_import_maps_compose_project_to_the_model():
    imp = shop()
    d = imp.design
    assert d.name == "nslshop" and d.hosts[0].engine_version == "20.10"
    assert [n.name for n in d.networks] == ["back", "front"]
    back = d.network("back")
    assert back.docker_name == "nslshop_back" and back.internal and str(back.subnet) == "172.31.72.0/24"
    web, app, db = d.container("web"), d.container("app"), d.container("db")
    assert web.docker_name == "nslshop_web_1" and web.service == "web"
    assert [(p.container_port, str(p.host_ip), p.host_port) for p in web.ports] == [(80, "127.0.0.1", 18080)]
    assert app.attachment("back").aliases == ("api",)  # short id and service alias left out
    assert web.attachment("front").aliases == ("www",)
    assert db.attachment("back").ipv4_address == IPv4Address("172.31.72.10")
    assert [lst.port for lst in app.listeners] == [8000]
    assert imp.addresses[("db", "back")].ip == IPv4Address("172.31.72.10")
    assert imp.bindings[("127.0.0.1", 18080, "tcp")] == "web"


def test_shared_namespace_ephemeral_and_loopback_listeners():
    imp = import_snapshot(snapshot("nsledge"), Scope("compose", "nsledge"))
    d = imp.design
    assert d.container("sidecar").mode.kind is ModeKind.CONTAINER and d.container("sidecar").mode.target == "web"
    assert [lst.port for lst in d.container("sidecar").listeners] == [9100]  # held by the sidecar's process
    assert [lst.port for lst in d.container("web").listeners] == [80]
    assert [lst.port for lst in d.container("local").listeners] == [7001]
    assert any("loopback only at 7000/tcp" in n for n in imp.notes)


def test_writer_output_is_a_valid_deterministic_design():
    imp = shop()
    text = render_yaml(imp.design, ("header",))
    assert text == render_yaml(imp.design, ("header",))
    assert text.startswith("# header\n")
    loaded, problems = load_text(text, "import.yaml")
    assert not [p for p in problems if p.severity == "error"]
    assert loaded.container("app").attachment("back").aliases == ("app", "api")  # service name as an alias
    assert loaded.container("web").ports[0].host_ip == IPv4Address("127.0.0.1")


def test_no_drift_between_compose_file_and_its_running_project():
    result = compute_drift(compose("shop"), shop(), "20.10", "compose project nslshop")
    assert result.items == () and result.consequence.empty and not result.drifted
    assert "no drift" in render_text(result)
    assert render_json(result)["drift"] is False


def test_no_drift_with_shared_namespace_listeners():
    imp = import_snapshot(snapshot("nsledge"), Scope("compose", "nsledge"))
    result = compute_drift(compose("edge"), imp, "20.10")
    assert not result.drifted, render_text(result)


def _edited(edit) -> Snapshot:
    data = json.loads((DATA / "nslshop.snapshot.json").read_text())
    data = copy.deepcopy(data)
    edit({c["Name"].lstrip("/"): c for c in data["containers"]}, data)
    return Snapshot.from_json(data)


def test_wider_port_binding_is_drift_with_its_consequence():
    def widen(ctrs, data):
        web = ctrs["nslshop_web_1"]
        web["HostConfig"]["PortBindings"]["80/tcp"] = [{"HostIp": "", "HostPort": "18080"}]
        web["NetworkSettings"]["Ports"]["80/tcp"] = [{"HostIp": "0.0.0.0", "HostPort": "18080"}]

    result = compute_drift(compose("shop"), import_snapshot(_edited(widen), Scope("compose", "nslshop")), "20.10")
    [item] = result.of("port")
    assert item.kind == "wider" and item.expected.startswith("127.0.0.1:18080") and item.actual.startswith("0.0.0.0:18080")
    assert result.drifted
    opened = [str(c) for c in result.consequence.of("opened")] + [str(e.audience) for e in result.consequence.exposed]
    assert opened  # reachable from more places now
    assert "wider than the design's" in render_text(result)
    assert 'failures="' in render_junit(result) and "<failure" in render_junit(result)


def test_extra_network_and_removed_alias_are_drift():
    def change(ctrs, data):
        db = ctrs["nslshop_db_1"]
        front = ctrs["nslshop_web_1"]["NetworkSettings"]["Networks"]["nslshop_front"]
        db["NetworkSettings"]["Networks"]["nslshop_front"] = dict(front, IPAddress="172.31.71.9", Aliases=[],
                                                                 IPAMConfig=None)
        app_back = ctrs["nslshop_app_1"]["NetworkSettings"]["Networks"]["nslshop_back"]
        app_back["Aliases"] = [a for a in app_back["Aliases"] if a != "api"]

    result = compute_drift(compose("shop"), import_snapshot(_edited(change), Scope("compose", "nslshop")), "20.10")
    kinds = {(i.category, i.subject, i.kind) for i in result.items}
    assert ("attachment", "db on front", "added") in kinds
    assert ("alias", "app on back", "removed") in kinds
    text = [str(c) for c in result.consequence.changes]
    assert any("web -> db" in t and t.startswith("+") for t in text)  # db now reachable from web
    assert any("name api" in t and t.startswith("-") for t in text)  # api no longer resolves


def test_missing_container_and_changed_option():
    def change(ctrs, data):
        data["containers"] = [c for c in data["containers"] if c["Name"] != "/nslshop_db_1"]
        for n in data["networks"]:
            if n["Name"] == "nslshop_back":
                n["Internal"] = False

    result = compute_drift(compose("shop"), import_snapshot(_edited(change), Scope("compose", "nslshop")), "20.10")
    kinds = {(i.category, i.subject, i.kind) for i in result.items}
    assert ("container", "container db", "missing") in kinds
    assert ("option", "network back internal", "changed") in kinds


@pytest.mark.parametrize("project", ["nslshop", "nsledge"])
def test_snapshot_json_round_trips(project):
    snap = snapshot(project)
    assert Snapshot.from_json(json.loads(json.dumps(snap.to_json()))) == snap


def test_a_scaled_service_imports_as_its_replicas_and_matches_its_compose_file(tmp_path):
    """Two running containers of service app (container-number 1 and 2) import as app.1 and app.2,
    the names the compose loader gives a service with ``scale: 2``: no drift against that file."""
    (tmp_path / "shop").mkdir()
    scaled = tmp_path / "shop" / "docker-compose.yml"
    scaled.write_text((DATA / "shop" / "docker-compose.yml").read_text().replace(
        '    expose: ["8000"]\n', '    expose: ["8000"]\n    scale: 2\n'))
    design, _ = load_design(scaled)
    want = {c.name: c for c in design.containers}
    assert {"app.1", "app.2"} <= set(want)

    def add_replica(ctrs, data):
        second = copy.deepcopy(ctrs["nslshop_app_1"])
        second["Id"] = "f" * 64
        second["Name"] = "/nslshop_app_2"
        second["Config"]["Labels"]["com.docker.compose.container-number"] = "2"
        for net, ep in second["NetworkSettings"]["Networks"].items():
            key = "front" if net.endswith("front") else "back"
            ep["IPAddress"] = str(next(e.address for net_name, e in _endpoints(design, "app.2") if net_name == key))
            ep["EndpointID"] = "e" * 64
        data["containers"].append(second)

    imp = import_snapshot(_edited(add_replica), Scope("compose", "nslshop"))
    assert sorted(c.name for c in imp.design.containers if c.service == "app") == ["app.1", "app.2"]
    result = compute_drift(design, imp, "20.10", "compose project nslshop")
    assert not result.drifted and result.consequence.empty, render_text(result)


def _endpoints(design, container: str):
    from simulator.engine.topology import build_world

    return [(ep.network, ep) for ep in build_world(design).addressing.endpoints_of(container)]
