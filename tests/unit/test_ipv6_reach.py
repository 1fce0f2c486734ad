"""Reachability over IPv6 (issue 14): the family-6 side of the simulated engine, ``reach`` and ``trace``.

The answers asserted are those confirmed on Docker 20.10.24 (docs/confirmed-rules.md §18): with
ip6tables off (20.10's default) the engine writes no ip6tables rule, so the LAN peer that routes the
container subnets through the host reaches every port of every container's IPv6 address, internal
networks and ICC off included; with ip6tables on, the rules mirror the IPv4 ones.
"""

from __future__ import annotations

from ipaddress import IPv4Address, IPv6Address, IPv6Interface, ip_address
from pathlib import Path

import pytest
from typer.testing import CliRunner

from simulator.analysis.paths import traces_in
from simulator.analysis.probes import Via
from simulator.analysis.reachability import reach_of
from simulator.cli import app
from simulator.engine.topology import lan_peer_address6
from simulator.engine.trace import Disposition, DnsOutcome, DnsStep, NatStep, ProxyStep, UnmanagedStep
from simulator.engine.walk import walk
from simulator.pipeline import load

ROOT = Path(__file__).resolve().parents[2]

DESIGN = """\
name: six
engine_version: "{version}"
networks:  # three dual-stack networks (one internal, one with ICC off) and an IPv4-only one
  front: {{enable_ipv6: true, subnet: 172.31.10.0/24, subnet6: "fd00:db8:10::/64"}}
  back: {{internal: true, enable_ipv6: true, subnet: 172.31.20.0/24, subnet6: "fd00:db8:20::/64"}}
  noicc: {{icc: false, enable_ipv6: true, subnet: 172.31.30.0/24, subnet6: "fd00:db8:30::/64"}}
  v4only: {{subnet: 172.31.40.0/24}}
hosts:
  docker1:
    daemon: {{ipv6: true, fixed_cidr_v6: "fd00:db8:17::/64"{daemon}}}
    lan:
      interface: eth0
      address: 192.168.1.10/24
      address6: "2001:db8:1::10/64"
containers:
  web: {{networks: [front], ports: ["443:443"], listens: [443, 81]}}
  api: {{networks: [front, back], ports: ["[::1]:8080:8080"], listens: [8080]}}
  db: {{networks: [back], listens: [5432]}}
  n1: {{networks: [noicc], listens: [80]}}
  n2: {{networks: [noicc], listens: [80]}}
  old: {{networks: [v4only], ports: ["8090:80"], listens: [80]}}
"""
IP6TABLES_ON = ", ip6tables: true, experimental: true"


def world_of(ip6tables: bool = False, version: str = "20.10"):
    return load(DESIGN.format(version=version, daemon=IP6TABLES_ON if ip6tables else "")).world()


def v6_of(world, container: str, network: str) -> IPv6Address:
    return IPv6Address(world.addressing.endpoint6(container, network).address)


def dial(world, source: str, address, port: int):
    """A walk over the address's family from a namespace (``external``, ``host:docker1``, ``ctr:NAME``)."""
    side = world.v6 if ip_address(address).version == 6 else world
    return walk(side, source, ip_address(address), port, "tcp")


def probes(result, **want):
    return [p for p in result.iter_probes() if all(getattr(p, k) == v for k, v in want.items())]


# --- ip6tables off: no rule, the host's own policy --------------------------------------------

def test_ip6tables_off_the_lan_peer_reaches_every_port_of_every_container_ipv6_address():
    w = world_of()
    assert w.v6 is not None and w.v6.family == 6 and w.v6.ipv4 is w
    assert w.v6.host_ns("docker1").ruleset.save().count("-A ") == 0  # the engine writes nothing (§18c)
    db6 = v6_of(w, "db", "back")
    t = dial(w, "external", db6, 5432)  # back is internal: over IPv4 the peer does not get in
    assert t.disposition is Disposition.DELIVERED and t.responder == "db"
    assert any(isinstance(s, UnmanagedStep) for h in t.hops for s in h.steps)  # the host's own FORWARD policy
    assert "no ip6tables rules" in t.reason
    assert dial(w, "external", w.addressing.address("db", "back"), 5432).disposition is not Disposition.DELIVERED
    assert dial(w, "external", v6_of(w, "web", "front"), 81).disposition is Disposition.DELIVERED  # unpublished port


def test_ip6tables_off_icc_and_isolation_are_not_enforced_over_ipv6():
    w = world_of()
    assert dial(w, "ctr:n1", v6_of(w, "n2", "noicc"), 80).responder == "n2"  # enable_icc=false (§18g)
    assert dial(w, "ctr:n1", w.addressing.address("n2", "noicc"), 80).disposition is Disposition.DROPPED_FILTER
    assert dial(w, "ctr:web", v6_of(w, "n1", "noicc"), 80).responder == "n1"  # between networks
    assert dial(w, "ctr:web", w.addressing.address("n1", "noicc"), 80).disposition is Disposition.DROPPED_ISOLATION
    assert dial(w, "ctr:db", v6_of(w, "web", "front"), 443).responder == "web"  # out of the internal network


# --- ip6tables on: the IPv4 rules mirrored ------------------------------------------------------

def test_ip6tables_on_rules_mirror_the_ipv4_ones_with_a_drop_policy_and_no_docker_user():
    rules = world_of(ip6tables=True).v6.host_ns("docker1").ruleset.save().splitlines()
    assert "-P FORWARD DROP" in rules
    assert not any("DOCKER-USER" in r for r in rules)  # 20.10: IPv4 only
    assert "-A OUTPUT ! -d ::1/128 -m addrtype --dst-type LOCAL -j DOCKER" in rules
    assert "-A DOCKER ! -i br-front -p tcp -m tcp --dport 443 -j DNAT --to-destination [fd00:db8:10::2]:443" in rules
    assert "-A DOCKER -d ::1/128 ! -i br-front -p tcp -m tcp --dport 8080 -j DNAT --to-destination [fd00:db8:10::3]:8080" in rules
    assert "-A DOCKER -d fd00:db8:10::2/128 ! -i br-front -o br-front -p tcp -m tcp --dport 443 -j ACCEPT" in rules
    assert "-A DOCKER-ISOLATION-STAGE-1 ! -s fd00:db8:20::/64 -o br-back -j DROP" in rules
    assert "-A FORWARD -i br-noicc -o br-noicc -j DROP" in rules
    assert "-A POSTROUTING -s fd00:db8:10::/64 ! -o br-front -j MASQUERADE" in rules
    assert not any("fd00:db8:20::/64 ! -o br-back -j MASQUERADE" in r for r in rules)  # not the internal network's
    # from 24.0 ip6tables has DOCKER-USER too, and from 27.0 the engine manages ip6tables by default
    later = load(DESIGN.format(version="28.5", daemon="")).world().v6.host_ns("docker1").ruleset.save()
    assert "-A FORWARD -j DOCKER-USER" in later


def test_ip6tables_on_only_published_container_ports_answer_the_lan_peer():
    w = world_of(ip6tables=True)
    assert dial(w, "external", v6_of(w, "db", "back"), 5432).disposition is Disposition.DROPPED_ISOLATION
    assert dial(w, "external", v6_of(w, "web", "front"), 443).responder == "web"
    assert dial(w, "external", v6_of(w, "web", "front"), 81).disposition is Disposition.DROPPED_FILTER
    # the ACCEPT ignores the publication's host address: api, published on [::1] only, answers (§18f)
    assert dial(w, "external", v6_of(w, "api", "front"), 8080).responder == "api"
    assert dial(w, "ctr:n1", v6_of(w, "n2", "noicc"), 80).disposition is Disposition.DROPPED_FILTER
    assert dial(w, "ctr:web", v6_of(w, "n1", "noicc"), 80).disposition is Disposition.DROPPED_ISOLATION
    t = dial(w, "external", "2001:db8:1::10", 443)  # DNAT in nat PREROUTING, not docker-proxy (§18e)
    assert t.responder == "web" and any(isinstance(s, NatStep) for h in t.hops for s in h.steps)


# --- docker-proxy on the host's IPv6 addresses (§18e) ------------------------------------------

@pytest.mark.parametrize("ip6tables", [False, True])
def test_published_ports_on_the_host_ipv6_addresses(ip6tables):
    w = world_of(ip6tables)
    t = dial(w, "host:docker1", "::1", 443)  # "443:443" binds :: too, relaying to the IPv6 address
    proxy = next(s for h in t.hops for s in h.steps if isinstance(s, ProxyStep))
    assert t.responder == "web" and proxy.listen_address == IPv6Address("::")
    assert proxy.container_address == v6_of(w, "web", "front")
    assert "[::]:443/tcp connects to [fd00:db8:10::2]:443" in proxy.detail
    assert dial(w, "host:docker1", "::1", 8080).responder == "api"  # [::1]:8080:8080
    assert dial(w, "host:docker1", "127.0.0.1", 8080).disposition is Disposition.REFUSED  # no IPv4 binding
    assert dial(w, "external", "2001:db8:1::10", 8080).disposition is Disposition.REFUSED  # ::1 only
    assert dial(w, "host:docker1", "2001:db8:1::10", 8080).disposition is Disposition.REFUSED


@pytest.mark.parametrize("ip6tables", [False, True])
def test_another_network_s_gateway_address_answers_a_published_port_through_docker_proxy(ip6tables):
    w = world_of(ip6tables)  # §18g, both modes: the nat DOCKER chain RETURNs what comes from a bridge
    t = dial(w, "ctr:n1", "fd00:db8:10::1", 443)
    assert t.responder == "web" and any(isinstance(s, ProxyStep) for h in t.hops for s in h.steps)


def test_docker_proxy_on_ipv6_relays_to_the_ipv4_address_of_a_container_without_ipv6():
    w = world_of()
    t = dial(w, "external", "2001:db8:1::10", 8090)
    proxy = next(s for h in t.hops for s in h.steps if isinstance(s, ProxyStep))
    assert t.responder == "old" and proxy.container_address == w.addressing.address("old", "v4only")
    [b6] = [b for b in w.v6.bindings["docker1"] if b.container == "old"]
    assert (b6.host_ip, b6.container_ip) == (IPv6Address("::"), IPv4Address("172.31.40.2"))


def test_the_ipv4_world_binds_no_ipv6_host_address_and_ignores_none():
    w = world_of()
    assert not any(b.host_ip.version == 6 for b in w.bindings["docker1"])
    assert w.ignored_ports["docker1"] == []
    v6_bound = {(str(b.host_ip), b.host_port, b.container) for b in w.v6.bindings["docker1"]}
    assert v6_bound == {("::", 443, "web"), ("::1", 8080, "api"), ("::", 8090, "old")}


# --- names, routes, sources ---------------------------------------------------------------------

def test_the_embedded_dns_answers_aaaa_on_dual_stack_networks_only():
    w = world_of()
    r = reach_of(w)
    [p] = probes(r, source="web", via=Via.DNS, name="api", family=6)
    assert p.address == str(v6_of(w, "api", "front")) and p.responder == "api"
    [p4] = probes(r, source="web", via=Via.DNS, name="api", family=4)
    assert p4.address == str(w.addressing.address("api", "front"))
    assert not probes(r, source="web", via=Via.DNS, name="old", family=6)  # not on web's networks
    both = load(DESIGN.format(version="20.10", daemon="").replace(
        "old: {networks: [v4only]", "old: {networks: [v4only, front]") + "  z1: {networks: [v4only, back]}\n").world()
    res = reach_of(both)._matrix().names
    assert res.resolve(both.namespace_of("web"), "old").resolved
    from simulator.engine.dns import NameTable
    six = NameTable(both.v6)
    assert six.resolve(both.v6.namespace_of("web"), "old").records[0][0] == v6_of(both, "old", "front")
    # a name found first on a network without IPv6 gets no AAAA answer, and the search stops there
    # (z1's first network is v4only: back is internal; old's is front, which has IPv6 gateways too)
    assert six.resolve(both.v6.namespace_of("old"), "old").resolved
    miss = six.resolve(both.v6.namespace_of("z1"), "old")
    assert isinstance(miss.step, DnsStep) and miss.step.outcome is DnsOutcome.NO_AAAA and not miss.resolved


def test_a_multi_homed_container_takes_both_default_routes_from_its_dual_stack_network():
    text = """\
name: mh
hosts: {docker1: {lan: {address: 192.168.1.10/24, address6: "2001:db8:1::10/64"}}}
networks:
  aa-m4: {subnet: 10.201.8.0/24}
  zz-m6: {subnet: 10.201.9.0/24, enable_ipv6: true, subnet6: "fd12:3456:4::/64"}
containers:
  mm: {networks: [aa-m4, zz-m6]}
"""
    w = load(text).world()
    [r4] = [r for r in w.namespace_of("mm").routes if r.dest.prefixlen == 0]
    [r6] = [r for r in w.v6.namespace_of("mm").routes if r.dest.prefixlen == 0]
    assert (str(r4.via), str(r6.via)) == ("10.201.9.1", "fd12:3456:4::1")  # §18i: not aa-m4, though it sorts first
    assert w.namespace_of("mm").interfaces[r4.iface].network == "zz-m6" == w.v6.namespace_of("mm").interfaces[r6.iface].network


def test_without_ipv6_a_design_has_no_ipv6_side_and_its_probes_are_family_4():
    w = load(ROOT / "designs/frontend-backend.yaml").world()
    assert w.v6 is None
    r = reach_of(w)
    assert r.v6 is None and {p.family for p in r.iter_probes()} == {4}
    assert {g.family for g in r.groups()} == {4} and {g.to_json()["family"] for g in r.coarse_groups()} == {4}


def test_reach_gives_both_families_per_source_and_ipv6_sources_hold_an_ipv6_address():
    w = world_of()
    r = reach_of(w)
    ps = list(r.iter_probes())
    fam6 = [p for p in ps if p.family == 6]
    assert {p.source for p in fam6} == {"web", "api", "db", "n1", "n2", "host", "external"}  # not old (IPv4 only)
    order = [(p.source, p.family) for p in ps]
    for src in ("web", "host", "external"):  # per source: its IPv4 probes, then its IPv6 ones
        fams = [f for s, f in order if s == src]
        assert fams == sorted(fams) and set(fams) == {4, 6}
    [host6] = probes(r, source="host", via=Via.HOST, port=8080, family=6)
    assert host6.address == "::1" and host6.responder == "api"
    [ext6] = probes(r, source="external", via=Via.HOST, port=443, family=6)
    assert ext6.address == "2001:db8:1::10" and ext6.responder == "web"
    [ctr6] = probes(r, source="db", via=Via.HOST, port=443, family=6)  # a container dials the host's IPv6 LAN address
    assert ctr6.address == "2001:db8:1::10" and ctr6.responder == "web"
    [ext_db] = probes(r, source="external", via=Via.IP, target="db", family=6)
    assert ext_db.reachable and ext_db.address == str(v6_of(w, "db", "back"))
    assert probes(r, source="host", via=Via.HOST, port=8090, family=6)[0].responder == "old"
    assert all(p.to_json()["family"] == p.family for p in ps)
    # the class machinery keeps the families apart and counts every probe once
    groups = list(r.groups())
    assert sum(g.count for g in groups) == len(ps)
    assert sum(g.count for g in groups if g.family == 6) == len(fam6)
    coarse = list(r.coarse_groups())
    assert sum(g.count for g in coarse if g.family == 6 and g.via != Via.HOST) == \
        sum(1 for p in fam6 if p.via != Via.HOST)
    assert all(g.example.family == g.family for g in coarse)
    assert any(name.startswith("ip6 ") for name in r.target_sets())


def test_the_lan_peer_gets_the_highest_free_address_of_the_host_lan_ipv6_prefix():
    w = world_of()
    peer = w.v6.namespaces["external"]
    [addr] = [i.address for i in peer.interfaces.values() if i.address is not None]
    assert addr == IPv6Interface("2001:db8:1:0:ffff:ffff:ffff:ffff/64")
    assert lan_peer_address6(w.design, "docker1") == addr
    assert lan_peer_address6(load(ROOT / "designs/frontend-backend.yaml").design, "docker1") is None
    routed = {str(r.dest): str(r.via) for r in peer.routes if r.via is not None}
    assert routed == {"fd00:db8:10::/64": "2001:db8:1::10", "fd00:db8:20::/64": "2001:db8:1::10",
                      "fd00:db8:30::/64": "2001:db8:1::10"}  # every bridge in use, as over IPv4


def test_host_mode_shares_the_host_ipv6_addresses_and_macvlan_ipv6_is_the_lan_peer_s_to_reach():
    text = """\
name: mv
hosts: {docker1: {lan: {interface: eth0, address: 10.250.0.2/24, address6: "fd12:3456:ee::2/64"}}}
networks:
  mv6: {driver: macvlan, parent: eth0, subnet: 10.250.0.0/24, ip_range: 10.250.0.128/25,
        enable_ipv6: true, subnet6: "fd12:3456:ee::/64", ip_range6: "fd12:3456:ee::100/120"}
containers:
  m1: {networks: [mv6], listens: [80, 81]}
  hm: {network_mode: host, listens: [9000]}
"""
    w = load(text).world()
    m1 = v6_of(w, "m1", "mv6")
    assert str(m1) == "fd12:3456:ee::101"
    [default] = [r for r in w.v6.namespace_of("m1").routes if r.dest.prefixlen == 0]
    assert str(default.via) == "fd12:3456:ee::100"  # IPAM's first address of the range (§18j)
    assert dial(w, "external", m1, 81).responder == "m1"
    assert dial(w, "host:docker1", m1, 80).disposition is Disposition.DROPPED_L2
    assert dial(w, "host:docker1", "::1", 9000).responder == "hm"
    assert dial(w, "external", "fd12:3456:ee::2", 9000).responder == "hm"


# --- trace ----------------------------------------------------------------------------------------

def test_trace_takes_an_ipv6_address_or_a_family():
    w = world_of()
    db6 = str(v6_of(w, "db", "back"))
    [(label, t)] = traces_in(w, "external", db6, 5432)
    assert t.responder == "db" and db6 in label
    paths = traces_in(w, "web", "api", 8080, "tcp", family=6)
    assert [p[1].responder for p in paths] == ["api", "api", "api"]  # front, back, and the name's AAAA
    assert "fd00:db8:10::3" in paths[0][0]
    out = CliRunner().invoke(app, ["trace", str(ROOT / "designs/frontend-backend.yaml"), "external", "[fd00::3]:80"])
    assert out.exit_code != 0 and "has no IPv6" in out.output


# --- the class machinery over both families (random designs made dual-stack) -------------------

def dual_stack(text: str, seed: int) -> str:
    """A random design (test_classes_property.random_design) with every host given an IPv6 LAN
    address and every other bridge network (by design order) made dual-stack, half of the hosts'
    engines managing ip6tables."""
    import yaml

    design = yaml.safe_load(text)
    for i, host in enumerate(design["hosts"].values()):
        host.setdefault("lan", {})["address6"] = f"2001:db8:{i + 1}::10/64"
        if (seed + i) % 2:
            host["daemon"] = {**host.get("daemon", {}), "ip6tables": True, "experimental": True}
    for i, (name, net) in enumerate((design.get("networks") or {}).items()):
        if i % 2 == 0 and (net or {}).get("driver", "bridge") == "bridge":
            design["networks"][name] = {**(net or {}), "enable_ipv6": True, "subnet6": f"fd00:{seed}:{i}::/64"}
    return yaml.safe_dump(design, sort_keys=False)


@pytest.mark.parametrize("seed", range(12))
def test_class_and_coarse_groups_equal_the_per_probe_walk_over_both_families(seed):
    import sys

    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from test_classes_property import assert_classes_exact, random_design
    from test_coarse_groups import assert_coarse_exact

    world = load(dual_stack(random_design(seed), seed)).world()
    assert world.v6 is not None
    assert assert_classes_exact(world) > 0
    assert assert_coarse_exact(world) > 0


def test_pair_probes_of_the_ipv6_side_are_the_matrix_probes():
    from simulator.analysis.paths import PairProbes, shared_matrix

    r = reach_of(world_of())
    pairs = PairProbes(shared_matrix(r.v6))
    six = [p for p in r.iter_probes() if p.family == 6]
    for source in dict.fromkeys(p.source for p in six):
        assert list(pairs.from_source(source)) == [p for p in six if p.source == source], source
