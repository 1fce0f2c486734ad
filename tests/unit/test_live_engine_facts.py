"""Issue 15 without an engine: the import keeps the addresses the engine assigned and says
what it read about the host; drift names compose v1 containers as v1 does and speaks real
addresses; verify --live's plain words; the LAN peer's routing choices; daemon options
read from a dockerd command line and daemon.json."""

from __future__ import annotations

import copy
import json
from ipaddress import IPv4Address, IPv4Network
from pathlib import Path

import pytest

from simulator.adapters import host_facts, live_peer
from simulator.live.drift import compute_drift, render_junit
from simulator.live.importer import import_snapshot
from simulator.live.snapshot import Scope, Snapshot
from simulator.live.writer import render_yaml
from simulator.loaders import load_design, load_text
from simulator.verify.report import plain_difference

DATA = Path(__file__).resolve().parents[1] / "data" / "live"
SCOPE = Scope("compose", "nslshop")
HOST = {
    "lan": {"interface": "ens3", "addresses": ["10.9.8.7/22"], "source": "ip route show default; ip addr show dev ens3"},
    "forwarding": {"ip_forward": "1"},
    "daemon": {"userland-proxy": {"value": False, "source": "/etc/docker/daemon.json"},
               "iptables": {"value": None, "source": "dockerd's default"},
               "default-address-pools": {"value": [{"base": "10.200.0.0/16", "size": 24}],
                                         "source": "/etc/docker/daemon.json"}},
}


def recorded(edit=None, host=None) -> Snapshot:
    data = copy.deepcopy(json.loads((DATA / "nslshop.snapshot.json").read_text()))
    if edit is not None:
        edit({c["Name"].lstrip("/"): c for c in data["containers"]}, data)
    if host is not None:
        data["host"] = host
    return Snapshot.from_json(data)


def shop_design():
    return load_design(DATA / "shop" / "docker-compose.yml")[0]


def inspect_addresses(snap: Snapshot) -> dict[tuple[str, str], str]:
    return {(c["Name"].lstrip("/").split("_")[1], n.split("_")[1]): ep["IPAddress"]
            for c in snap.containers for n, ep in c["NetworkSettings"]["Networks"].items()}


def test_every_endpoint_keeps_the_address_the_engine_assigned():
    snap = recorded()
    imp = import_snapshot(snap, SCOPE)
    got = {(c.name, a.network): str(a.ipv4_address) for c in imp.design.containers for a in c.attachments}
    assert got == inspect_addresses(snap)
    assert imp.static == frozenset({("db", "back")})  # the one the compose file asked for
    text = render_yaml(imp.design, (), dict(imp.provenance))
    back, problems = load_text(text, "import.yaml")
    assert not [p for p in problems if p.severity == "error"]
    from simulator.analysis.reachability import compute_reach

    listed = {(p.target, p.network): str(p.address) for p in compute_reach(back, "20.10").probes if p.via == "ip"}
    assert listed == inspect_addresses(snap)
    assert "every endpoint's" in json.dumps(imp.provenance["addresses"])
    assert imp.compose_v1 and imp.compose_names == {"web": "nslshop_web_1", "app": "nslshop_app_1", "db": "nslshop_db_1"}


def test_the_host_is_read_or_said_to_be_assumed():
    imp = import_snapshot(recorded(host=HOST), SCOPE)
    h = imp.design.hosts[0]
    assert (h.lan_interface, str(h.lan_address)) == ("ens3", "10.9.8.7/22")
    assert h.daemon.userland_proxy is False and h.daemon.iptables is True
    assert [str(p.base) for p in h.daemon.default_address_pools] == ["10.200.0.0/16"]
    read, assumed = imp.provenance["read"], imp.provenance["assumed"]
    assert read["lan"]["value"] == "ens3 10.9.8.7/22" and read["daemon.userland-proxy"]["from"] == "/etc/docker/daemon.json"
    assert "daemon.ip-forward" in assumed and "daemon.forwarding_preset" in assumed
    text = render_yaml(imp.design, (), dict(imp.provenance))
    assert "lan: {interface: ens3, address: 10.9.8.7/22}" in text and "x-netsim:" in text
    assert "userland_proxy: false" in text

    unread = import_snapshot(recorded(host={"unread": "the engine is not this machine"}), SCOPE)
    assert str(unread.design.hosts[0].lan_address) == "192.168.1.10/24"
    assert "not this machine" in unread.provenance["assumed"]["lan"]["why"]


def test_a_stopped_v1_container_is_named_as_docker_compose_v1_named_it():
    def stop_db(ctrs, data):
        ctrs["nslshop_db_1"]["State"]["Running"] = False
        ctrs["nslshop_db_1"]["State"]["Status"] = "exited"

    result = compute_drift(shop_design(), import_snapshot(recorded(stop_db), SCOPE), "20.10")
    [missing] = [i for i in result.items if i.category == "container"]
    assert (missing.kind, missing.expected) == ("missing", "nslshop_db_1")


def test_drift_speaks_the_engines_addresses():
    def connect_web_to_back(ctrs, data):
        db_back = ctrs["nslshop_db_1"]["NetworkSettings"]["Networks"]["nslshop_back"]
        ctrs["nslshop_web_1"]["NetworkSettings"]["Networks"]["nslshop_back"] = dict(
            db_back, IPAddress="172.31.72.77", IPAMConfig=None, Aliases=["web"])
        ctrs["nslshop_app_1"]["NetworkSettings"]["Networks"]["nslshop_back"]["IPAddress"] = "172.31.72.5"

    result = compute_drift(shop_design(), import_snapshot(recorded(connect_web_to_back), SCOPE), "20.10")
    [att] = [i for i in result.items if i.category == "attachment"]
    assert att.actual == "attached to back at 172.31.72.77"
    opened = result.consequence.of("opened")
    # app sits at .5 on back where the engine put it; the model alone would say .2
    assert any(c.new.source == "web" and c.new.target == "app" and str(c.new.address) == "172.31.72.5" for c in opened)
    assert all(str(c.new.address) != "172.31.72.2" for c in opened if c.new.target == "app")
    assert not [c for c in result.consequence.changes if "172.31.72.2" in str(c)]


def test_an_address_that_changed_is_drift_against_an_imported_design():
    imported_design, _ = load_text(render_yaml(import_snapshot(recorded(), SCOPE).design), "import.yaml")

    def move_app(ctrs, data):
        ctrs["nslshop_app_1"]["NetworkSettings"]["Networks"]["nslshop_front"]["IPAddress"] = "172.31.71.50"

    result = compute_drift(imported_design, import_snapshot(recorded(move_app), SCOPE), "20.10")
    [item] = [i for i in result.items if i.category == "address"]
    assert (item.subject, item.expected, item.actual, item.severity) == ("app on front", "172.31.71.3",
                                                                         "172.31.71.50", "drift")


def test_drift_junit_has_the_one_shape_netsim_writes():
    def stop_db(ctrs, data):
        ctrs["nslshop_db_1"]["State"]["Running"] = False

    text = render_junit(compute_drift(shop_design(), import_snapshot(recorded(stop_db), SCOPE), "20.10"))
    assert text.splitlines()[1].startswith("<testsuites ") and "<testsuite " in text and 'type="drift"' in text


class Row:
    def __init__(self, reachable, responders, obs):
        self.probe = type("P", (), {"via": "ip", "target": "db", "network": "back", "source": "web", "port": 5432,
                                    "protocol": "tcp", "reachable": reachable, "name": None})()
        self.observation = obs
        self.expected_responders = responders


def test_plain_words_for_a_live_difference():
    obs = type("O", (), {"reachable": True, "responder": "db", "address": "172.31.72.10", "status": "answered"})()
    assert plain_difference(Row(False, (), obs)) == (
        "design: web cannot reach db on back at 172.31.72.10 5432/tcp",
        "running: web reaches db on back at 172.31.72.10 5432/tcp (db answered)")
    gone = type("O", (), {"reachable": False, "responder": None, "address": "172.31.72.10", "status": "timeout"})()
    assert plain_difference(Row(True, ("db",), gone))[1] == "running: web cannot reach db on back at 172.31.72.10 5432/tcp (timeout)"


def test_the_lan_peer_routes_only_what_this_machine_routes_through_a_bridge(monkeypatch):
    routes = [(IPv4Network("192.0.2.0/24"), "eth0"), (IPv4Network("172.19.0.0/16"), "br-a"),
              (IPv4Network("10.0.0.0/8"), "eth0"), (IPv4Network("198.18.0.0/30"), "other")]
    monkeypatch.setattr(live_peer.lanpeer, "host_routes", lambda: routes)
    monkeypatch.setattr(live_peer.lanpeer, "uplink_interface", lambda family="-4": "eth0")
    wanted = [IPv4Network("172.19.0.0/16"), IPv4Network("10.231.9.0/24"), IPv4Network("172.20.0.0/16")]
    assert live_peer.routed_here(wanted) == [IPv4Network("172.19.0.0/16")]  # overlay via eth0, unrouted: not
    link = live_peer._link_subnet([r for r, _ in routes])
    assert link.prefixlen == 30 and link.subnet_of(live_peer.LINK_POOL) and not any(link.overlaps(r) for r, _ in routes)


def test_no_lan_peer_without_root_says_why(monkeypatch):
    monkeypatch.setattr(live_peer.lanpeer, "unavailable_reason", lambda: "the emulated LAN needs root (ip netns, veth)")
    with live_peer.live_peer([IPv4Network("172.19.0.0/16")], IPv4Address("192.0.2.2")) as got:
        assert got == "the emulated LAN needs root (ip netns, veth)"


def test_daemon_options_from_the_command_line_and_daemon_json(tmp_path, monkeypatch):
    proc = tmp_path / "proc"
    (proc / "42").mkdir(parents=True)
    (proc / "42" / "cmdline").write_bytes(b"/usr/bin/dockerd\0--iptables=false\0--bip\0" b"10.1.0.1/24\0"
                                         b"--config-file\0" + str(tmp_path / "d.json").encode() + b"\0")
    (tmp_path / "d.json").write_text(json.dumps({"userland-proxy": False}))
    pidfile = tmp_path / "docker.pid"
    pidfile.write_text("42\n")
    monkeypatch.setattr(host_facts, "PIDFILE", pidfile)
    got = host_facts.read_daemon({}, proc)
    assert got["iptables"]["value"] == "false" and got["iptables"]["source"].startswith("dockerd command line")
    assert got["bip"]["value"] == "10.1.0.1/24"
    assert got["userland-proxy"] == {"value": False, "source": str(tmp_path / "d.json")}
    assert got["ip-forward"]["value"] is None and "default" in got["ip-forward"]["source"]
    pidfile.write_text("43\n")  # no such process: nothing is claimed
    assert host_facts.read_daemon({}, proc) == {}


@pytest.mark.parametrize("info,local", [({"Name": "elsewhere"}, False), ({}, False)])
def test_a_remote_engines_host_is_not_read(info, local):
    class Engine:
        def info(self):
            return info

    assert host_facts.is_local(info) is local
    assert "unread" in host_facts.read_host_facts(Engine())


def test_deploying_an_imported_design_on_the_real_lan_is_refused():
    from simulator.deploy.apply import conflicts
    from simulator.deploy.plan import plan

    imp = import_snapshot(recorded(host=HOST), SCOPE)
    back, _ = load_text(render_yaml(imp.design), "import.yaml")
    found = conflicts(plan(back), [], [(IPv4Network("10.9.8.0/22"), "ens3")])
    assert found == ["the emulated LAN of host (10.9.8.7/22) subnet 10.9.8.0/22 overlaps route 10.9.8.0/22 dev ens3 "
                     "on this machine"]


def test_live_junit_speaks_of_the_design_and_the_running_environment():
    from simulator.analysis.probes import Probe, Via
    from simulator.engine.trace import Disposition
    from simulator.verify.compare import Comparison, compare_probe
    from simulator.verify.junit import render_junit as verify_junit
    from simulator.verify.observe import Observation

    probe = Probe("web", Via.IP, 5432, "tcp", Disposition.DROPPED_ISOLATION, "isolated", target="db", network="back",
                  address="172.31.72.10")
    row = compare_probe(probe, Observation(probe.key, "172.31.72.10", "answered", "db"))
    assert row.verdict == "mismatch"
    live = verify_junit(Comparison("shop", "20.10", (row,), live=True))
    assert "design: web cannot reach db on back at 172.31.72.10 5432/tcp" in live
    assert "running: web reaches db on back at 172.31.72.10 5432/tcp (db answered)" in live
    assert "model:" not in live
    fresh = verify_junit(Comparison("shop", "20.10", (row,)))
    assert "model:" in fresh and "design:" not in fresh
