"""An engine built from source (--dockerd): every design host a daemon of its own.

Pure parts and the fakes only: no dockerd runs here (the engines themselves are optional
developer tooling, docs/engines-from-source.md; what they showed is in
tests/unit/test_verified_engines.py)."""

from __future__ import annotations

import json
import os
from ipaddress import IPv4Address, IPv4Interface, IPv4Network

import pytest

from simulator.adapters import extra_daemon
from simulator.adapters.extra_daemon import RUNTIME_NAME, EngineBinaries, daemon_spec, engine_binaries
from simulator.adapters.fake_engine import FakeDaemons, FakeEngine, FakeLan
from simulator.analysis.probes import Probe
from simulator.deploy.apply import apply, destroy
from simulator.deploy.plan import plan
from simulator.engine.trace import Disposition
from simulator.errors import UsageError
from simulator.model import Attachment, Container, Design, Driver, Host, Listener, Network, PortMapping
from simulator.verify import observe as observe_mod
from simulator.verify.observe import Facts

BUILT = EngineBinaries("/opt/moby-29/dockerd", "/opt/runc/runc")


def one_host() -> Design:
    net = Network("front", Driver.BRIDGE, subnet=IPv4Network("10.231.1.0/24"))
    web = Container("web", "h1", attachments=(Attachment("front"),), ports=(PortMapping(80, host_port=8080),),
                    listeners=(Listener(80),))
    return Design("shop", (Host("h1"),), (net,), (web,))


def two_hosts() -> Design:
    mesh = Network("mesh", Driver.OVERLAY, attachable=True, hosts=("h1", "h2"))
    near = Container("near", "h1", attachments=(Attachment("mesh"),), listeners=(Listener(80),))
    far = Container("far", "h2", attachments=(Attachment("mesh"),), listeners=(Listener(8080),))
    hosts = (Host("h1"), Host("h2", lan_interface="ens3", lan_address=IPv4Interface("192.168.1.11/24")))
    return Design("mesh", hosts, (mesh,), (near, far))


# --- the daemon's command line and configuration ----------------------------------------

def test_a_built_daemon_runs_its_binary_with_its_own_configuration():
    spec = daemon_spec("shop", "h1", 1, "eth0", IPv4Interface("192.168.1.10/24"), BUILT)
    argv = spec.argv()
    assert argv[:3] == ["nsenter", "--net=/run/netns/netsim-host-shop-h1", "/opt/moby-29/dockerd"]
    assert argv[argv.index("--config-file") + 1] == "/run/netsim/shop-h1.daemon.json"
    plain = daemon_spec("shop", "h1", 1, "eth0", IPv4Interface("192.168.1.10/24"))
    assert plain.argv()[2] == "dockerd" and "--config-file" not in plain.argv()  # dockerd from PATH, as before


def test_daemon_json_has_what_a_built_engine_needs():
    config = BUILT.daemon_config()
    assert config["features"] == {"containerd-snapshotter": False}
    assert config["default-runtime"] == RUNTIME_NAME == "netsim-runc"  # not a name moby reserves
    assert config["runtimes"] == {"netsim-runc": {"path": "/opt/runc/runc"}}
    assert config["userland-proxy-path"] == "/opt/moby-29/docker-proxy"  # beside the binary by default
    no_runtime = EngineBinaries("/opt/moby-29/dockerd", proxy="/opt/p/docker-proxy").daemon_config()
    assert "runtimes" not in no_runtime and "default-runtime" not in no_runtime
    assert no_runtime["userland-proxy-path"] == "/opt/p/docker-proxy"


def test_binaries_are_checked_and_every_problem_named(tmp_path):
    dockerd = tmp_path / "dockerd"
    dockerd.write_text("#!/bin/sh\n")
    dockerd.chmod(0o755)
    with pytest.raises(UsageError) as err:
        engine_binaries(str(dockerd), str(tmp_path / "runc"))
    assert str(err.value) == (f"--runtime {tmp_path}/runc: no such file; --docker-proxy {tmp_path}/docker-proxy: "
                              "no such file (by default docker-proxy beside the dockerd binary)")
    (tmp_path / "docker-proxy").write_text("")  # not executable
    with pytest.raises(UsageError, match="docker-proxy: not executable"):
        engine_binaries(str(dockerd))
    os.chmod(tmp_path / "docker-proxy", 0o755)
    assert engine_binaries(str(dockerd)) == EngineBinaries(str(dockerd))
    assert engine_binaries(None) is None
    with pytest.raises(UsageError, match="go with --dockerd"):
        engine_binaries(None, "/opt/runc/runc")


def test_a_record_brings_the_binaries_back(tmp_path, monkeypatch):
    """destroy in a later process finds the daemon (and that it was built from source) by its record."""
    monkeypatch.setattr(extra_daemon, "RUN_DIR", tmp_path)
    spec = daemon_spec("shop", "h1", 1, "eth0", IPv4Interface("192.168.1.10/24"), BUILT)
    (tmp_path / "shop-h1.json").write_text(json.dumps(extra_daemon._record(spec)))
    (tmp_path / "shop-h1.daemon.json").write_text(json.dumps(BUILT.daemon_config()))  # not a record
    assert extra_daemon.discover("shop") == [spec]
    assert extra_daemon.discover("other") == []


# --- the plan: every host a daemon -----------------------------------------------------

def test_single_host_design_runs_on_a_daemon_of_its_own():
    p = plan(one_host(), binaries=BUILT)
    assert p == plan(one_host(), binaries=BUILT)  # still pure
    assert p.on_daemons_only and p.multi_host and not plan(one_host()).on_daemons_only
    assert [(h.host, h.binaries) for h in p.extra_hosts] == [("h1", BUILT)]
    assert p.lan.bridge == "lan0" and not p.lan.machine_port  # this machine has no port on the LAN
    assert p.container("web").host == "h1" and [n.host for n in p.networks] == ["h1"]
    assert p.peer_routes == (("h1", "front"),)
    assert "/opt/moby-29/dockerd (/run/netsim/shop-h1.daemon.json)" in p.describe()
    assert "veth" not in p.steps[0].text


def test_multi_host_design_every_host_a_daemon_the_first_the_manager():
    p = plan(two_hosts(), binaries=BUILT)
    assert [h.host for h in p.extra_hosts] == ["h1", "h2"] and p.host == "h1"
    assert p.swarm and p.swarm_advertise == "192.168.1.10"
    assert p.gwbridge_subnet is None  # the manager is a fresh daemon: nothing to pin
    assert plan(two_hosts()).gwbridge_subnet is not None


class BuiltDaemons(FakeDaemons):
    """FakeDaemons whose swarm manager is the first host's daemon (started in any order)."""

    def start(self, spec, lan_namespace, lan_bridge):
        engine = super().start(spec, lan_namespace, lan_bridge)
        if spec.host == "h1":
            self.manager = engine
        for host, other in self.engines.items():
            other.manager = None if host == "h1" else self.manager
        return engine


def test_apply_and_destroy_never_touch_the_machines_engine():
    machine, lan = FakeEngine(), FakeLan()
    daemons = BuiltDaemons()
    p = plan(two_hosts(), binaries=BUILT)
    dep = apply(p, None, lan, daemon_ops=daemons)
    assert set(dep.engines) == {"h1", "h2"} and all(e is daemons.engines[h] for h, e in dep.engines.items())
    h1, h2 = daemons.engines["h1"], daemons.engines["h2"]
    assert h1.swarm.active and ("swarm_join", "192.168.1.11->192.168.1.10") in h2.calls
    assert h1.find("container", "near") is not None and h2.find("container", "far") is not None
    removed = destroy("mesh", None, lan, daemons)
    assert "dockerd of host h1" in removed and "dockerd of host h2" in removed and daemons.engines == {}
    assert machine.calls == []  # this machine's engine: never asked anything


def test_a_failed_start_leaves_nothing():
    class Failing(BuiltDaemons):
        def start(self, spec, lan_namespace, lan_bridge):
            engine = super().start(spec, lan_namespace, lan_bridge)
            if spec.host == "h2":
                raise extra_daemon.EngineError("dockerd for host h2 exited (1) during start")
            return engine

    lan, daemons = FakeLan(), Failing()
    with pytest.raises(extra_daemon.EngineError, match="cleaned up"):
        apply(plan(two_hosts(), binaries=BUILT), None, lan, daemon_ops=daemons)
    assert daemons.records == {} and lan.namespaces == set()


# --- the vantage point "host" dials in its host's namespace -------------------------------

def test_host_vantage_point_dials_inside_the_hosts_namespace(monkeypatch):
    d = one_host()
    p = plan(d, binaries=BUILT)
    seen = []

    def dials(namespace, batch, who, timeout_ms):
        seen.append((namespace, who, [(x.address, x.port) for x in batch]))
        return {}

    monkeypatch.setattr(observe_mod, "_namespace_dials", dials)
    monkeypatch.setattr(observe_mod, "probe_sockets", lambda *a, **k: pytest.fail("dialled from this machine"))
    facts = Facts({}, {}, {}, p.lan.host_address, p.lan.peer_address, True, True,
                  host_namespaces={"h1": "netsim-host-shop-h1"}, isolated={"h1"})
    probe = Probe("host", "host", 8080, "tcp", Disposition.DELIVERED, "published", responder="web", host="h1")
    guard = observe_mod.build_guard(facts, p)
    out = observe_mod._observe_source(d, p, "host", [(0, probe)], FakeEngine(), facts, guard)
    assert seen == [("netsim-host-shop-h1", "host host", [("127.0.0.1", 8080)])]
    assert out[probe.key].status == "error"  # the fake prober answered nothing


def test_a_host_namespace_with_a_default_route_is_not_dialled_from():
    d = one_host()
    p = plan(d, binaries=BUILT)
    facts = Facts({}, {}, {}, p.lan.host_address, p.lan.peer_address, True, True,
                  host_namespaces={"h1": "netsim-host-shop-h1"}, isolated=set())
    probe = Probe("host", "host", 8080, "tcp", Disposition.DELIVERED, "published", host="h1")
    out = observe_mod._observe_source(d, p, "host", [(0, probe)], FakeEngine(), facts, observe_mod.build_guard(facts, p))
    assert out[probe.key].status == "unsafe"
    assert IPv4Address("192.168.1.10") == p.lan.host_address.ip


def test_the_design_hosts_daemon_options_become_its_daemon_json():
    from simulator.deploy.plan import daemon_settings
    from simulator.model import AddressPool, DaemonOptions

    assert daemon_settings(DaemonOptions()) == {}  # dockerd's defaults: nothing written
    options = DaemonOptions(userland_proxy=False, icc=False, allow_direct_routing=True, forwarding_preset=True,
                            bip=IPv4Interface("10.99.0.1/24"),
                            default_address_pools=(AddressPool(IPv4Network("10.100.0.0/16"), 24),))
    assert daemon_settings(options) == {
        "userland-proxy": False, "icc": False, "allow-direct-routing": True, "bip": "10.99.0.1/24",
        "default-address-pools": [{"base": "10.100.0.0/16", "size": 24}]}
    d = one_host()
    d = Design(d.name, (Host("h1", daemon=options),), d.networks, d.containers)
    spec = plan(d, binaries=BUILT).extra_hosts[0]
    assert spec.forwarding_preset  # the namespace routes before dockerd starts: a sysctl, not a key
    config = spec.daemon_config()
    assert config["userland-proxy"] is False and config["default-runtime"] == "netsim-runc"
    assert plan(d).extra_hosts == ()  # without binaries this machine's engine runs it, as configured


def test_gw_priority_reaches_the_engine():
    """deploy passes each attachment's gw_priority (API GwPriority, 28.0+) with its endpoint."""
    a, b = Network("a", Driver.BRIDGE), Network("b", Driver.BRIDGE)
    c = Container("c", "h1", attachments=(Attachment("a"), Attachment("b", gw_priority=10)))
    p = plan(Design("gw", (Host("h1"),), (a, b), (c,)), binaries=BUILT)
    assert [(e.network, e.gw_priority) for e in p.container("c").endpoints] == [("a", 0), ("b", 10)]
