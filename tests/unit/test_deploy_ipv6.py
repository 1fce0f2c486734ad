"""Deploy and verify of dual-stack designs, without an engine: the plan, the IPv6 safety
guard (forwarding record, MLD drops) driven by fake command runners, the emulated LAN's IPv6
side, the probe agent's IPv6 lookups and where family-6 probes dial."""

from __future__ import annotations

import json
import subprocess
from dataclasses import replace
from ipaddress import IPv4Interface, IPv6Interface, IPv6Network
from pathlib import Path
from types import SimpleNamespace

import pytest
from typer.testing import CliRunner

from simulator.adapters import extra_daemon, ipv6_guard, lanpeer
from simulator.adapters.docker_engine import DockerEngine
from simulator.adapters.engine import EndpointSpec, NetworkSpec
from simulator.adapters.extra_daemon import EngineBinaries
from simulator.adapters.fake_engine import FakeEngine, FakeLan
from simulator.adapters.probe_agent import parse_prepared, prepare_script
from simulator.analysis.probes import Probe, Via
from simulator.cli import app
from simulator.deploy.apply import apply, destroy
from simulator.deploy.plan import daemon_settings, daemon_settings6, own_daemon_reason, plan
from simulator.engine.trace import Disposition
from simulator.errors import DeployRefused, EngineError
from simulator.loaders import load_design
from simulator.model import AddressPool
from simulator.verify import observe as obs

ROOT = Path(__file__).resolve().parents[2]
NSV6 = ROOT / "tests" / "data" / "ipv6" / "nsv6.yaml"
EXAMPLE = ROOT / "designs" / "ipv6" / "dual-stack.yaml"
BINARIES = EngineBinaries("/usr/sbin/dockerd")


@pytest.fixture
def nsv6():
    return load_design(NSV6)[0]


# --- the plan -------------------------------------------------------------------------------

def test_dual_stack_networks_carry_both_subnets_and_static_ipv6_addresses(nsv6):
    p = plan(nsv6)
    front = p.network_spec("front")
    assert (front.enable_ipv6, front.subnet, front.subnet6) == (True, "172.31.77.0/24", "fd00:db8:77:10::/64")
    assert p.network_spec("v4only").enable_ipv6 is False and p.network_spec("v4only").subnet6 is None
    web = p.container("web")
    assert web.endpoints == (EndpointSpec("front", (), None, "fd00:db8:77:10::80"),)
    assert p.start_order[0] == "web"  # a static IPv6 address starts first, as a static IPv4 one does
    assert all(e.ipv6_address is None for c in p.containers if c.key != "web" for e in c.endpoints)
    text = p.describe()
    assert "create network front (bridge, 172.31.77.0/24, IPv6 fd00:db8:77:10::/64)" in text
    assert "192.168.77.10/24, 2001:db8:77::10/64" in text and "no default route (IPv4 or IPv6)" in text
    assert "(IPv6 subnets via 2001:db8:77::10)" in text
    assert p.lan.host_address6 == IPv6Interface("2001:db8:77::10/64")
    assert p.lan.peer_address6 == IPv6Interface("2001:db8:77:0:ffff:ffff:ffff:ffff/64")


def test_a_static_ipv6_address_of_the_lan_is_not_the_peers(nsv6):
    h = nsv6.hosts[0]
    taken = replace(nsv6, hosts=(replace(h, lan_address6=IPv6Interface("2001:db8:77:0:ffff:ffff:ffff:ffff/64")),))
    assert plan(taken).lan.peer_address6 == IPv6Interface("2001:db8:77:0:ffff:ffff:ffff:fffe/64")


def test_ipv6_daemon_options_become_daemon_json_keys():
    design = load_design(EXAMPLE)[0]
    opts = design.hosts[0].daemon
    assert daemon_settings6(opts) == {"ipv6": True, "fixed-cidr-v6": "fd00:db8:17::/64"}
    on = replace(opts, ip6tables=True, experimental=True,
                 default_address_pools=(AddressPool(IPv6Network("fd00:aa::/48"), 64),))
    assert daemon_settings(on) == {"ipv6": True, "fixed-cidr-v6": "fd00:db8:17::/64", "ip6tables": True,
                                   "experimental": True,
                                   "default-address-pools": [{"base": "fd00:aa::/48", "size": 64}]}
    assert daemon_settings6(replace(opts, ipv6=False, fixed_cidr_v6=None, ip6tables=False)) == {"ip6tables": False}


def test_a_host_with_ipv6_daemon_options_is_never_this_machines_engine(nsv6):
    design = load_design(EXAMPLE)[0]
    assert own_daemon_reason(nsv6) is None
    why = own_daemon_reason(design)
    assert why is not None and "ipv6: true" in why and "fixed_cidr_v6: fd00:db8:17::/64" in why
    with pytest.raises(DeployRefused, match="--dockerd PATH"):
        plan(design)
    h = nsv6.hosts[0]
    ip6t = replace(nsv6, hosts=(replace(h, daemon=replace(h.daemon, ip6tables=True, experimental=True)),))
    with pytest.raises(DeployRefused, match="ip6tables: true, experimental: true"):
        plan(ip6t)
    [daemon] = plan(ip6t, binaries=BINARIES).extra_hosts
    config = daemon.daemon_config()
    assert config["ip6tables"] is True and config["experimental"] is True
    assert daemon.lan_address6 == IPv6Interface("2001:db8:77::10/64")


def test_extra_hosts_get_their_ipv6_options_without_an_engine_from_source(nsv6):
    h = nsv6.hosts[0]
    second = replace(h, name="h2", lan_address=IPv4Interface("192.168.77.11/24"),
                     lan_address6=IPv6Interface("2001:db8:77::11/64"),
                     daemon=replace(h.daemon, ip6tables=True, experimental=True))
    design = replace(nsv6, hosts=(h, second))
    [h2] = plan(design).extra_hosts
    assert h2.binaries is None and h2.configured
    assert h2.daemon_config() == {"experimental": True, "ip6tables": True}
    assert "--config-file" in h2.argv() and h2.argv()[2] == "dockerd"
    assert extra_daemon._from_record(json.loads(json.dumps(extra_daemon._record(h2)))) == h2


def test_dry_run_of_the_example_chooses_a_daemon_of_its_own(monkeypatch):
    monkeypatch.setattr(extra_daemon, "local_dockerd", lambda: BINARIES)
    result = CliRunner().invoke(app, ["deploy", "--dry-run", str(EXAMPLE)])
    assert result.exit_code == 0, result.output
    assert "not those of this machine's engine: it runs as a daemon of its own started from /usr/sbin/dockerd" \
        in result.output
    assert '"fixed-cidr-v6": "fd00:db8:17::/64", "ipv6": true' in result.output
    monkeypatch.setattr(extra_daemon, "local_dockerd", lambda: None)
    result = CliRunner().invoke(app, ["deploy", "--dry-run", str(EXAMPLE)])
    assert result.exit_code != 0 and "pass --dockerd PATH" in result.output


class ApiRecorder:
    def __init__(self):
        self.networks: list[dict] = []

    def version(self):
        return {"Version": "20.10.24"}

    def create_network(self, name, **kwargs):
        self.networks.append({"name": name, **kwargs})
        return {"Id": "n1"}


def test_the_engine_gets_enable_ipv6_and_both_pools():
    api = ApiRecorder()
    engine = DockerEngine(SimpleNamespace(api=api))
    engine.create_network(NetworkSpec("front", "front", "bridge", subnet="172.31.77.0/24", enable_ipv6=True,
                                      subnet6="fd00:db8:77:10::/64", ip_range6="fd00:db8:77:10::100/120"))
    [sent] = api.networks
    assert sent["enable_ipv6"] is True
    def pools(sent):
        return [{k: v for k, v in c.items() if v} for c in sent["ipam"]["Config"]]

    assert pools(sent) == [
        {"Subnet": "172.31.77.0/24"}, {"Subnet": "fd00:db8:77:10::/64", "IPRange": "fd00:db8:77:10::100/120"}]
    engine.create_network(NetworkSpec("v6only", "v6only", "bridge", enable_ipv6=True, subnet6="fd00:1::/64"))
    assert pools(api.networks[1]) == [{"Subnet": "fd00:1::/64"}]  # the IPv4 subnet from the daemon's pools


# --- apply / destroy hold IPv6 on this machine's engine -------------------------------------

class OrderedEngine(FakeEngine):
    def __init__(self, calls):
        super().__init__()
        self.order = calls

    def create_network(self, spec):
        self.order.append(("create_network", spec.name))
        return super().create_network(spec)


def test_ipv6_is_held_before_the_first_ipv6_network_and_released_by_destroy(nsv6):
    lan = FakeLan()
    engine = OrderedEngine(lan.calls)
    dep = apply(plan(nsv6), engine, lan)
    names = [c[0] for c in lan.calls]
    assert names.index("hold_ipv6") < names.index("create_network")
    assert ("settle_ipv6", None) in lan.calls
    assert "fake: IPv6 held for nsv6" in dep.notes and lan.ipv6_holders == ("nsv6",)
    removed = destroy("nsv6", engine, lan)
    assert "fake: IPv6 forwarding put back" in removed and lan.ipv6_holders == ()


def test_an_ipv4_design_holds_nothing():
    design = load_design(ROOT / "designs" / "frontend-backend.yaml")[0]
    lan = FakeLan()
    apply(plan(design), FakeEngine(), lan)
    assert not any(c[0] in ("hold_ipv6", "settle_ipv6") for c in lan.calls)


# --- the forwarding record and the MLD drops (fake ip6tables, a sysctl tree in tmp) ----------

class FakeIp6tables:
    """``ip6tables -S/-I/-D OUTPUT`` on a list of rules."""

    def __init__(self):
        self.rules: list[str] = []
        self.calls: list[list[str]] = []

    def __call__(self, argv, check=False, input=None, timeout=30):
        argv = list(argv)
        self.calls.append(argv)
        assert argv[0] == "ip6tables", argv
        verb, rule = argv[1], " ".join(argv[2:])
        if verb == "-S":
            return subprocess.CompletedProcess(argv, 0, "-P OUTPUT ACCEPT\n" + "".join(f"-A {r}\n" for r in self.rules), "")
        if verb == "-I":
            self.rules.insert(0, rule)
            return subprocess.CompletedProcess(argv, 0, "", "")
        if verb == "-D" and rule in self.rules:
            self.rules.remove(rule)
            return subprocess.CompletedProcess(argv, 0, "", "")
        return subprocess.CompletedProcess(argv, 1, "", "Bad rule")


@pytest.fixture
def sysctls(tmp_path):
    root = tmp_path / "conf"
    for name, value in (("all", "0"), ("default", "0"), ("eth0", "0"), ("docker0", "1"), ("lo", "0")):
        (root / name).mkdir(parents=True)
        (root / name / "forwarding").write_text(value + "\n")
    return root


def engine_turns_forwarding_on(root: Path) -> None:
    for d in root.iterdir():
        (d / "forwarding").write_text("1\n")


def values(root: Path) -> dict[str, str]:
    return {d.name: (d / "forwarding").read_text().strip() for d in root.iterdir()}


def test_forwarding_is_put_back_as_found_when_the_last_design_goes(tmp_path, sysctls):
    run, record = FakeIp6tables(), tmp_path / "run" / "ipv6-forwarding.json"
    found = values(sysctls)
    notes = ipv6_guard.hold("a", "eth0", run, record, sysctls)
    assert any("recorded" in n for n in notes) and any("out of eth0" in n for n in notes)
    assert sorted(r.split("--icmpv6-type ")[1].split()[0] for r in run.rules) == ["131", "132", "143"]
    assert all(r.startswith("OUTPUT -o eth0 -p ipv6-icmp") and ipv6_guard.COMMENT in r and r.endswith("-j DROP")
               for r in run.rules)
    engine_turns_forwarding_on(sysctls)  # the first IPv6 network
    inserted = len(run.rules)
    ipv6_guard.hold("b", "eth0", run, record, sysctls)  # a second design: nothing recorded or inserted again
    assert len(run.rules) == inserted and json.loads(record.read_text())["found"] == found
    assert ipv6_guard.release("a", run, record, sysctls) == []  # b still holds IPv6
    assert values(sysctls)["all"] == "1" and len(run.rules) == 3
    done = ipv6_guard.release("b", run, record, sysctls)
    assert done[0].startswith("IPv6 forwarding put back as found (all=0, default=0")
    assert values(sysctls) == found  # docker0 kept its 1, eth0 back to 0
    assert run.rules == [] and not record.exists()
    assert ipv6_guard.release("b", run, record, sysctls) == []  # idempotent


def test_the_record_survives_the_process_that_wrote_it(tmp_path, sysctls):
    """deploy in one process, destroy in another: only the file links them."""
    run, record = FakeIp6tables(), tmp_path / "ipv6-forwarding.json"
    ipv6_guard.hold("a", "eth0", run, record, sysctls)
    engine_turns_forwarding_on(sysctls)
    assert ipv6_guard.holders(record) == ["a"]
    later = FakeIp6tables()
    later.rules = list(run.rules)  # the same kernel, seen by a new process
    assert ipv6_guard.release("a", later, record, sysctls)
    assert values(sysctls)["all"] == "0" and later.rules == []


def test_without_an_uplink_nothing_is_dropped(tmp_path, sysctls):
    run = FakeIp6tables()
    ipv6_guard.hold("a", None, run, tmp_path / "r.json", sysctls)
    assert run.rules == [] and ipv6_guard.holders(tmp_path / "r.json") == ["a"]


def test_stale_mld_rules_go_only_when_nothing_holds_them(tmp_path, sysctls, monkeypatch):
    monkeypatch.setattr(ipv6_guard.os, "geteuid", lambda: 0)
    run, record = FakeIp6tables(), tmp_path / "r.json"
    ipv6_guard.hold("a", "eth0", run, record, sysctls)
    assert ipv6_guard.remove_stale(run, record) == 0 and len(run.rules) == 3
    record.unlink()  # the record is gone (a reboot clears /run): the rules are stale
    assert ipv6_guard.remove_stale(run, record) == 3 and run.rules == []


def test_lanpeer_holds_ipv6_on_the_uplink_of_the_ipv6_default_route(monkeypatch):
    seen = {}
    monkeypatch.setattr(lanpeer, "uplink_interface", lambda family="-4": {"-6": "eth0", "-4": "eth9"}[family])
    monkeypatch.setattr(ipv6_guard, "hold", lambda design, uplink: seen.setdefault("hold", (design, uplink)) and [])
    lanpeer.hold_ipv6("d")
    assert seen["hold"] == ("d", "eth0")


# --- the emulated LAN's IPv6 side (fake ip) -------------------------------------------------

class FakeIp:
    def __init__(self, outputs=None):
        self.calls: list[list[str]] = []
        self.outputs = outputs or {}

    def __call__(self, argv, check=True, input=None, timeout=30):
        argv = list(argv)
        self.calls.append(argv)
        for key, out in self.outputs.items():
            if key in " ".join(argv):
                return subprocess.CompletedProcess(argv, 0, out, "")
        return subprocess.CompletedProcess(argv, 0, "[]" if "-j" in argv else "", "")


def test_the_lan_gets_ipv6_addresses_and_routes_but_no_default_route(nsv6, monkeypatch):
    ip = FakeIp()
    monkeypatch.setattr(lanpeer, "_run", ip)
    monkeypatch.setattr(lanpeer, "link_exists", lambda name: False)
    monkeypatch.setattr(lanpeer, "namespace_exists", lambda name: False)
    lan = plan(nsv6).lan
    lanpeer.setup(lan)
    text = [" ".join(c) for c in ip.calls]
    assert f"ip addr add 2001:db8:77::10/64 dev {lan.host_if} nodad" in text
    assert f"ip -n {lan.namespace} addr add 2001:db8:77:0:ffff:ffff:ffff:ffff/64 dev {lan.peer_if} nodad" in text
    assert any("accept_ra=0" in t and "forwarding=0" in t for t in text)
    assert not any(" route " in t for t in text)  # no route at all before add_routes, let alone a default one
    ip.calls.clear()
    lanpeer.add_routes(lan, [IPv6Network("fd00:db8:77:10::/64"), *[IPv4Interface("172.31.77.0/24").network]])
    assert [" ".join(c) for c in ip.calls] == [
        f"ip -n {lan.namespace} route replace fd00:db8:77:10::/64 via 2001:db8:77::10",
        f"ip -n {lan.namespace} route replace 172.31.77.0/24 via 192.168.77.10"]
    ip.calls.clear()
    lanpeer.add_routes(replace(lan, host_address6=None), [IPv6Network("fd00:db8:77:10::/64")])
    assert ip.calls == []  # an IPv4-only LAN routes no IPv6 subnet


def test_an_ipv6_default_route_counts(monkeypatch):
    monkeypatch.setattr(lanpeer, "_run", FakeIp({"-6 route show default": '[{"dst":"default","gateway":"fd00::1"}]'}))
    assert lanpeer.has_default_route("ns")
    monkeypatch.setattr(lanpeer, "_run", FakeIp())
    assert not lanpeer.has_default_route("ns")


def test_what_the_kernel_sends_out_of_the_uplink_is_named(monkeypatch):
    routes = {"route show default": '[{"dst":"default","gateway":"fd00::1","dev":"eth0"}]',
              "route get fd00::5": '[{"dst":"fd00::5","dev":"eth0"}]',
              "route get fd00:db8:77:10::80": '[{"dst":"fd00:db8:77:10::80","dev":"br-1"}]'}
    monkeypatch.setattr(lanpeer, "_run", FakeIp(routes))
    assert lanpeer.leaves_by_uplink("fd00::5") == "eth0"
    assert lanpeer.leaves_by_uplink("fd00:db8:77:10::80") is None
    assert lanpeer.leaves_by_uplink("2001:db8::1") == "(no answer from ip route get)"  # unknown: refused


def test_settle_waits_only_for_links_with_carrier(monkeypatch):
    tentative = json.dumps([{"ifname": "br-a", "flags": ["UP", "LOWER_UP"],
                             "addr_info": [{"family": "inet6", "local": "fd00:1::1", "tentative": True}]},
                            {"ifname": "br-empty", "flags": ["NO-CARRIER", "UP"],
                             "addr_info": [{"family": "inet6", "local": "fd00:2::1", "tentative": True}]}])
    monkeypatch.setattr(lanpeer, "_run", FakeIp({"tentative": tentative}))
    assert lanpeer.settle_ipv6(None, wait_s=0) == ["fd00:1::1 on br-a"]


# --- the probe agent: AAAA lookups, the IPv6 gateway ----------------------------------------

def test_names_are_looked_up_for_aaaa_when_family_6_probes_dial_them():
    script = prepare_script(["api"], names6=["api", "db"])
    assert "nslookup -type=a " in script and "nslookup -type=aaaa" in script and "GW6" in script
    assert "nslookup -type=aaaa" not in prepare_script(["api"])
    prep = parse_prepared("NETSIM_BEGIN\nGW 172.31.77.1\nGW6 fd00:db8:77:10::1\nNAME api 172.31.77.3\n"
                          "NAME6 api fd00:db8:77:10::2 \nNXNAME6 db\nDNSTIMEOUT6 old\nNAME6 web\nNETSIM_END\n")
    assert prep.complete and (prep.gateway, prep.gateway6) == ("172.31.77.1", "fd00:db8:77:10::1")
    assert prep.lookup(4)[0] == {"api": ("172.31.77.3",)}
    names6, timeouts6, nx6 = prep.lookup(6)
    assert names6 == {"api": ("fd00:db8:77:10::2",), "db": (), "old": (), "web": ()}
    assert (timeouts6, nx6) == ({"old"}, {"db"})


# --- where family-6 probes dial -------------------------------------------------------------

def probe(source, via, family=6, **kw):
    return Probe(source, Via(via), kw.pop("port", 443), "tcp", Disposition.DELIVERED, "", family=family, **kw)


@pytest.fixture
def facts(nsv6):
    p = plan(nsv6)
    engine = FakeEngine()
    dep = apply(p, engine, FakeLan())
    found = obs.gather_facts(nsv6, p, engine, dep.lan_ready)
    found.containers["web"].addresses6["front"] = IPv6Interface("fd00:db8:77:10::80/64")
    found.subnets6["front"] = IPv6Network("fd00:db8:77:10::/64")  # the fake engine has no IPv6
    return nsv6, p, found


def test_family_6_probes_dial_ipv6_addresses(facts):
    design, p, f = facts
    web = design.container("web")
    prep = parse_prepared("NETSIM_BEGIN\nGW6 fd00:db8:77:10::1\nNAME6 web fd00:db8:77:10::80\nNAME web 172.31.77.2\n"
                          "NETSIM_END\n")

    def dial(source, container, q, host_like=False):
        return obs._dial_address(design, p, source, container, q, f, prep, host_like)

    assert dial("api", design.container("api"), probe("api", "ip", target="web", network="front"))[0] == \
        "fd00:db8:77:10::80"
    assert dial("api", design.container("api"), probe("api", "ip", family=4, target="web", network="front"))[0] == \
        str(f.containers["web"].addresses["front"].ip)
    assert dial("api", design.container("api"), probe("api", "dns", name="web"))[0] == "fd00:db8:77:10::80"
    assert dial("api", design.container("api"), probe("api", "dns", family=4, name="web"))[0] == "172.31.77.2"
    assert dial("host", None, probe("host", "host", host="h1"), host_like=True)[0] == "::1"
    assert dial("external", None, probe("external", "host", host="h1"))[0] == "2001:db8:77::10"
    assert dial("web", web, probe("web", "host", host="h1"))[0] == "2001:db8:77::10"
    _, missing = dial("api", design.container("api"), probe("api", "ip", target="old", network="v4only"))
    assert missing is not None and missing.status == "no-address" and "no IPv6 address" in missing.detail
    f.lan_hosts6.clear()  # a host without an IPv6 LAN address: its containers dial their IPv6 gateway
    assert dial("web", web, probe("web", "host", host="h1"))[0] == "fd00:db8:77:10::1"
    _, none = dial("external", None, probe("external", "host", host="h1"))
    assert none is not None and none.status == "no-address"


def test_an_ipv6_address_routed_out_of_the_uplink_is_never_dialled(facts, monkeypatch):
    design, p, f = facts
    dialled = []
    monkeypatch.setattr(obs, "probe_sockets", lambda dials, timeout: dialled.extend(dials) or {})
    monkeypatch.setattr(lanpeer, "leaves_by_uplink", lambda a: "eth0" if a.startswith("fd00:db8:77:10:") else None)
    guard = obs.build_guard(f, p, host_local=[IPv6Network("fd00:db8:77:10::/64")])
    assert guard.allows("fd00:db8:77:10::80")  # netsim's own subnet: only the kernel's answer refuses it
    q = probe("host", "ip", target="web", network="front")
    out = obs._observe_source(design, p, "host", [(0, q)], FakeEngine(), f, guard)
    assert out[q.key].status == "unsafe" and "routes it out of eth0" in out[q.key].detail
    assert dialled == []
    guard_refuses = obs.build_guard(f, p, forbidden=[IPv6Network("fd00::/64")])
    assert not guard_refuses.allows("fd00::1") and guard_refuses.allows("fd00:db8:77:10::80")


def test_an_ipv6_subnet_on_the_uplinks_prefix_is_refused(nsv6):
    net = next(n for n in nsv6.networks if n.name == "front")
    clash = replace(nsv6, networks=tuple(replace(n, subnet6=IPv6Network("fd00::/64")) if n is net else n
                                         for n in nsv6.networks))
    with pytest.raises(DeployRefused, match=r"network front IPv6 subnet fd00::/64 overlaps route fd00::/64 dev eth0"):
        apply(plan(clash), FakeEngine(), FakeLan())
    assert apply(plan(nsv6), FakeEngine(), FakeLan()).lan_ready  # fd00:db8:77::/48 is free here


class FailingEngine(FakeEngine):
    def create_container(self, spec):
        raise EngineError(f"creating container {spec.name} failed: boom")


def test_a_failed_deploy_releases_ipv6_again(nsv6):
    lan = FakeLan()
    with pytest.raises(EngineError, match="boom"):
        apply(plan(nsv6), FailingEngine(), lan)
    assert ("hold_ipv6", "nsv6") in lan.calls and ("release_ipv6", "nsv6") in lan.calls
    assert lan.ipv6_holders == ()
