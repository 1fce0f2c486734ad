"""IPv6 rules per engine line (issue 14): what 27.x, 28.x and 29.x change against 20.10.

Each assertion is a behaviour confirmed on dockerd 28.5.2 and 29.7.2 built from moby's source
(docs/confirmed-rules.md §18l–18x) or on 20.10.24 (§18a–18k), and keyed in
:class:`simulator.engine.versions.EngineVersion`; the lines between are from source.
"""

from __future__ import annotations

import re
from ipaddress import IPv6Address, ip_address
from pathlib import Path

import pytest

from simulator.engine.rules import ip6tables_managed
from simulator.engine.trace import Disposition
from simulator.engine.versions import parse_version
from simulator.engine.walk import walk
from simulator.errors import DesignError
from simulator.pipeline import load

DESIGN = """\
name: six
engine_version: "{version}"
networks:
  front: {{enable_ipv6: true, subnet: 172.31.10.0/24, subnet6: "fd00:db8:10::/64"}}
  back: {{internal: true, enable_ipv6: true, subnet: 172.31.20.0/24, subnet6: "fd00:db8:20::/64"}}
  v4only: {{subnet: 172.31.40.0/24}}
hosts:
  docker1:
    daemon: {{ipv6: true, fixed_cidr_v6: "fd00:db8:17::/64"{daemon}}}
    lan: {{interface: eth0, address: 192.168.1.10/24, address6: "2001:db8:1::10/64"}}
containers:
  web: {{networks: [front], ports: ["8080:80", "[::1]:8081:80"], listens: [80, 81]}}
  api: {{networks: [front, back], listens: [8080]}}
  db: {{networks: [back], listens: [5432]}}
  d1: {{networks: [bridge], listens: [80]}}
  d2: {{networks: [bridge], listens: [80]}}
  old: {{networks: [v4only], ports: ["8085:80"], listens: [80]}}
"""


def world_of(version: str, daemon: str = ""):
    return load(DESIGN.format(version=version, daemon=daemon)).world()


def v6_of(world, container: str, network: str) -> IPv6Address:
    return IPv6Address(world.addressing.endpoint6(container, network).address)


def dial(world, source: str, address, port: int):
    side = world.v6 if ip_address(address).version == 6 else world
    return walk(side, source, ip_address(address), port, "tcp")


def ip6tables(world) -> str:
    return world.v6.host_ns("docker1").ruleset.save()


# --- daemon settings ------------------------------------------------------------------------

def test_ip6tables_is_managed_by_default_from_27_and_has_docker_user_from_24():
    host = load(DESIGN.format(version="26.1", daemon="")).design.hosts[0]
    assert not ip6tables_managed(host, parse_version("26.1")) and ip6tables_managed(host, parse_version("27.0"))
    for version, user in (("28.5", True), ("29.7", True)):
        assert ("-A FORWARD -j DOCKER-USER" in ip6tables(world_of(version))) is user
    on = ", ip6tables: true, experimental: true"
    assert "-A FORWARD -j DOCKER-USER" not in ip6tables(world_of("20.10", on))  # §18c
    assert "-A FORWARD -j DOCKER-USER" in ip6tables(world_of("24.0", on))  # moby#44706


def test_ipv6_with_ip6tables_off_and_icc_off_is_refused_at_start():
    with pytest.raises(DesignError) as err:
        load(DESIGN.format(version="28.5", daemon=", ip6tables: false, icc: false"))
    text = str(err.value)
    assert "You specified --ip6tables=false with --icc=false" in text and "hosts.docker1.daemon.ip6tables" in text


def test_the_forward_policy_is_drop_only_when_the_daemon_turns_ipv6_forwarding_on():
    on = ", ip6tables: true, experimental: true"
    assert ":FORWARD DROP" in ip6tables(world_of("20.10", on)) or "-P FORWARD DROP" in ip6tables(world_of("20.10", on))
    w = world_of("28.5")
    assert w.v6.host_ns("docker1").ruleset.filter.policies.get("FORWARD") == "DROP"  # it turned forwarding on (§18m)
    preset = world_of("28.5", ", forwarding_preset: true")  # forwarding was already on: left ACCEPT
    assert preset.v6.host_ns("docker1").ruleset.filter.policies.get("FORWARD", "ACCEPT") == "ACCEPT"


# --- rules ------------------------------------------------------------------------------------

def test_dnat_rules_skip_link_local_clients_from_28():
    assert "! -s fe80::/10" not in ip6tables(world_of("27.5"))
    rules = ip6tables(world_of("28.5"))
    assert "-A DOCKER ! -s fe80::/10 ! -i br-front -p tcp -m tcp --dport 8080 -j DNAT --to-destination [fd00:db8:10::2]:80" in rules
    assert "-A DOCKER ! -s fe80::/10 -d ::1/128 ! -i br-front -p tcp -m tcp --dport 8081" in rules


def test_raw_drops_block_direct_routing_to_container_ipv6_addresses_from_28():
    for version in ("28.5", "29.7"):
        w = world_of(version)
        web6 = v6_of(w, "web", "front")
        assert f"-A PREROUTING -d {web6}/128 ! -i br-front -j DROP" in ip6tables(w)
        assert "-d fd00:db8:20::" not in ip6tables(w).split("*nat")[0]  # no raw drop for the internal network
        assert dial(w, "external", web6, 80).disposition is Disposition.DROPPED_FILTER  # published, still dropped
        assert "-d ::1/128 ! -i lo" not in ip6tables(w)  # no IPv6 counterpart of the 127.0.0.1 raw rule (§18x)
    opened = world_of("28.5", ", allow_direct_routing: true")
    assert dial(opened, "external", v6_of(opened, "web", "front"), 80).responder == "web"
    assert dial(opened, "external", v6_of(opened, "web", "front"), 81).disposition is Disposition.DROPPED_FILTER
    older = world_of("27.5")  # a published container port answers the peer before 28.0 (§18f)
    assert dial(older, "external", v6_of(older, "web", "front"), 80).responder == "web"


def test_two_containers_of_an_internal_network_lose_neighbour_discovery_before_24_0_6():
    """20.10 with ip6tables on: the solicitation to ff02::1:ff.. is bridged through FORWARD, where
    ``! -d <subnet> -i br -j DROP`` drops it (measured by verify on 20.10.24); 24.0.6 spares traffic
    that stays on the bridge (moby#45649)."""
    old = world_of("20.10", ", ip6tables: true, experimental: true")
    t = dial(old, "ctr:api", v6_of(old, "db", "back"), 5432)
    assert t.disposition is Disposition.NO_ROUTE and "neighbour discovery" in t.reason
    assert dial(old, "ctr:api", "172.31.20.3", 5432).responder == "db"  # ARP is not IP: IPv4 is fine
    for version in ("24.0.6", "28.5", "29.7"):
        w = world_of(version, ", ip6tables: true, experimental: true")
        assert dial(w, "ctr:api", v6_of(w, "db", "back"), 5432).responder == "db", version
        assert "! -d fd00:db8:20::/64 -i br-back ! -o br-back -j DROP" in ip6tables(w)
        assert "! -s fd00:db8:20::/64 ! -i br-back -o br-back -j DROP" in ip6tables(w)


def test_internal_networks_give_no_ipv6_default_route_from_25():
    for version, route in (("24.0", True), ("25.0", False), ("29.7", False)):
        w = world_of(version)
        ns = w.v6.namespace_of("db")
        assert any(r.dest.prefixlen == 0 for r in ns.routes) is route, version


def test_docker0_hands_out_ipv6_addresses_in_order_from_28():
    assert str(world_of("27.5").addressing.endpoint6("d1", "bridge").address) == "fd00:db8:17::242:ac11:2"
    w = world_of("28.5")
    assert [str(w.addressing.endpoint6(c, "bridge").address) for c in ("d1", "d2")] == ["fd00:db8:17::2", "fd00:db8:17::3"]


# --- published ports without the userland proxy ------------------------------------------------

def test_without_the_proxy_loopback_publications_die_and_ipv4_only_containers_get_no_ipv6_port():
    w = world_of("28.5", ", userland_proxy: false")
    for port in (8080, 8081):
        t = dial(w, "host:docker1", "::1", port)
        assert t.disposition is Disposition.DROPPED_FILTER and "route_localnet" in t.reason  # §18v
    assert dial(w, "host:docker1", "2001:db8:1::10", 8080).responder == "web"
    assert dial(w, "external", "2001:db8:1::10", 8085).disposition is Disposition.REFUSED  # old has no IPv6 address
    assert [b.host_port for b in w.v6.bindings["docker1"]] == [8080, 8081]
    proxied = world_of("28.5")  # with docker-proxy: [::1] answers, [::]:8085 relays to old's IPv4 address
    assert dial(proxied, "host:docker1", "::1", 8081).responder == "web"
    assert dial(proxied, "external", "2001:db8:1::10", 8085).responder == "old"


# --- default gateway per family, macvlan, gateway modes ----------------------------------------

def _host(lan: str, lan6: str) -> str:
    """A design's first lines: its name and engine line (format fields) and one host with the LAN addresses."""
    return 'name: {name}\nengine_version: "{version}"\nhosts:\n  docker1: {{lan: {{interface: eth0, address: %s, ' \
        'address6: "%s"}}}}\n' % (lan, lan6)


GW = _host("192.168.1.10/24", "2001:db8:1::10/64") + """\
networks:
  aa-m4: {{subnet: 172.31.40.0/24}}
  zz-m6: {{subnet: 172.31.41.0/24, enable_ipv6: true, subnet6: "fd00:db8:41::/64"}}
containers:
  m3:
    networks: {{aa-m4: {{gw_priority: 10}}, zz-m6: {{}}}}
    ports: ["8131:80"]
    listens: [80]
"""


def _gateways(version: str):
    w = load(GW.format(name="gw", version=version)).world()
    routes = [next(str(r.via) for r in side.namespace_of("m3").routes if r.dest.prefixlen == 0) for side in (w, w.v6)]
    return routes, [str(b.container_ip) for side in (w, w.v6) for b in side.bindings["docker1"]]


def test_28_lets_a_dual_stack_network_win_both_default_routes_against_gw_priority():
    assert _gateways("28.5") == (["172.31.41.1", "fd00:db8:41::1"], ["172.31.41.2", "fd00:db8:41::2"])  # §18u
    assert _gateways("29.4") == _gateways("28.5")  # until 29.4.0


def test_29_4_1_chooses_the_gateway_per_family_by_priority():
    assert _gateways("29.7") == (["172.31.40.1", "fd00:db8:41::1"], ["172.31.40.2", "fd00:db8:41::2"])  # moby#52328
    assert _gateways("29.4.1") == _gateways("29.7")


MACVLAN = _host("10.250.0.2/24", "fd12:3456:ee::2/64") + """\
networks:
  mv6:
    driver: macvlan
    parent: eth0
    subnet: 10.250.0.0/24
    ip_range: 10.250.0.128/28
    enable_ipv6: true
    subnet6: "fd12:3456:ee::/64"
    ip_range6: "fd12:3456:ee::100/120"
containers:
  v1: {{networks: [mv6], listens: [80]}}
"""


@pytest.mark.parametrize(("version", "addresses", "routes"), [
    ("28.5", ["10.250.0.129", "fd12:3456:ee::101"], ["10.250.0.128", "fd12:3456:ee::100"]),
    ("29.7", ["10.250.0.128", "fd12:3456:ee::100"], []),
])
def test_macvlan_without_a_gateway_gets_none_from_29(version, addresses, routes):
    w = load(MACVLAN.format(name="mv", version=version)).world()
    assert [str(w.addressing.endpoint("v1", "mv6").address), str(w.addressing.endpoint6("v1", "mv6").address)] == addresses
    got = [str(r.via) for side in (w, w.v6) for r in side.namespace_of("v1").routes if r.dest.prefixlen == 0]
    assert got == routes  # §18w: 29.0.0 allocates no gateway (moby#50929)


MODES = """\
name: modes
engine_version: "28.5"
hosts:
  docker1: {lan: {interface: eth0, address: 192.168.1.10/24, address6: "2001:db8:1::10/64"}}
networks:
  x6r: {subnet: 172.31.50.0/24, enable_ipv6: true, subnet6: "fd00:db8:50::/64", gateway_mode6: routed}
  x6r4: {subnet: 172.31.51.0/24, enable_ipv6: true, subnet6: "fd00:db8:51::/64", gateway_mode: routed}
  x6nu: {subnet: 172.31.52.0/24, enable_ipv6: true, subnet6: "fd00:db8:52::/64", gateway_mode6: nat-unprotected}
containers:
  r1: {networks: [x6r], ports: ["8120:80"], listens: [80, 81]}
  q2: {networks: [x6r4], ports: ["8122:80"], listens: [80, 81]}
  q1: {networks: [x6nu], ports: ["8121:80"], listens: [80, 81]}
"""


def test_gateway_mode_ipv6_is_its_own_setting():
    """§18t: routed over IPv6 gives no IPv6 host port and opens only the published container port;
    a network routed over IPv4 publishes over IPv6 as nat; nat-unprotected opens every port."""
    w = load(MODES).world()
    r1, q2, q1 = (v6_of(w, c, n) for c, n in (("r1", "x6r"), ("q2", "x6r4"), ("q1", "x6nu")))
    host6 = "2001:db8:1::10"
    assert dial(w, "external", r1, 80).responder == "r1"
    assert dial(w, "external", r1, 81).disposition is Disposition.DROPPED_FILTER
    assert dial(w, "external", host6, 8120).disposition is Disposition.REFUSED
    assert "-A DOCKER -o br-x6r -p ipv6-icmp -j ACCEPT" in ip6tables(w)
    assert dial(w, "external", q2, 80).disposition is Disposition.DROPPED_FILTER  # raw drop: nat over IPv6
    assert dial(w, "external", host6, 8122).responder == "q2"
    assert dial(w, "external", "172.31.51.2", 80).responder == "q2"  # routed over IPv4
    assert dial(w, "external", q1, 81).responder == "q1" and dial(w, "external", host6, 8121).responder == "q1"


# --- golden: the ip6tables rules of the engines' first session (s1-defaults) --------------------

ENGINE_DATA = Path(__file__).resolve().parents[1] / "data" / "engine"
S1 = """\
name: s1
engine_version: "{line}"
hosts:
  docker1: {{lan: {{interface: lan0, address: 10.250.0.2/24, address6: "fd12:3456:ee::2/64"}}}}
networks:
  x6a: {{enable_ipv6: true, subnet6: "fd12:3456:1::/64"}}
  x6b: {{enable_ipv6: true, subnet6: "2001:db8:1::/64"}}
  x6int: {{internal: true, enable_ipv6: true, subnet6: "fd12:3456:8::/64"}}
  x6noicc: {{icc: false, enable_ipv6: true, subnet6: "fd12:3456:9::/64"}}
  x6u: {{enable_ipv6: true, subnet6: "{ula0}"}}
  x6u2: {{enable_ipv6: true, subnet6: "{ula1}"}}
  x4: {{}}
containers:
  a1: {{networks: [x6a], ports: ["8080:80"], listens: [80]}}
  a2: {{networks: [x6a], ports: ["[::1]:8081:80"], listens: [80]}}
  a3: {{networks: [x6a], listens: [80]}}
  b1: {{networks: [x6b], listens: [80]}}
  i1: {{networks: [x6int], ports: ["8083:80"], listens: [80]}}
  n1: {{networks: [x6noicc], listens: [80]}}
  n2: {{networks: [x6noicc], listens: [80]}}
  u1: {{networks: [x6u], listens: [80]}}
  u2: {{networks: [x6u], listens: [80]}}
  f1: {{networks: [x4], ports: ["8085:80"], listens: [80]}}
  d1: {{networks: [bridge], ports: ["8090:80"], listens: [80]}}
  d2: {{networks: [bridge], listens: [80]}}
"""


S4 = """\
name: s4
engine_version: "{line}"
hosts:
  docker1:
    lan: {{interface: lan0, address: 10.250.0.2/24, address6: "fd12:3456:ee::2/64"}}
    daemon: {{userland_proxy: false}}
networks: {{x6a: {{enable_ipv6: true, subnet6: "fd12:3456:1::/64"}}, x6b: {{enable_ipv6: true, subnet6: "2001:db8:1::/64"}},
           x4: {{}}}}
containers:  # s4's a1, a2, b1 and f1, which also publishes [::]:8086 (no IPv6 binding without the proxy)
  {{a1: {{networks: [x6a], ports: ["8080:80"], listens: [80]}}, a2: {{networks: [x6a], ports: ["[::1]:8081:80"], listens: [80]}},
   b1: {{networks: [x6b], listens: [80]}}, f1: {{networks: [x4], ports: ["8085:80", "[::]:8086:80"], listens: [80]}}}}
"""
SESSIONS = {"s1-defaults": S1, "s4-userland-proxy-off": S4}


def _engine_ip6tables(version: str, session: str) -> tuple[dict[str, list[str]], list[str]]:
    """The ip6tables -S of each table once the networks and containers of a session were up (the
    longest listing: the others are before and after) and the ULA /64s the engine handed out."""
    text = (ENGINE_DATA / version / "ipv6" / f"{session}.txt").read_text()
    ulas = re.findall(r'^x6u2? \[.*?"Subnet":"(fd[0-9a-f:]+/64)"', text, re.M) or ["fd00:1::/64", "fd00:2::/64"]
    listings: dict[str, list[list[str]]] = {}
    for table, body in re.findall(r"^\$ ip netns exec nsv6 ip6tables -t (\w+) -S\n(.*?)^\[rc=", text, re.M | re.S):
        listings.setdefault(table, []).append(body.splitlines())
    return {table: max(found, key=len) for table, found in listings.items()}, ulas


def _renamed(tables: dict[str, list[str]], subnets: dict[str, str]) -> dict[str, set[str]]:
    """Each table's lines as a set, the engine's bridge ids named br-<network> as netsim names them (found
    from the MASQUERADE of each subnet, and the internal networks' drops)."""
    whole = "\n".join(line for lines in tables.values() for line in lines)
    found = re.findall(r"-A POSTROUTING -s (\S+) ! -o (br-[0-9a-f]{12}) -j MASQUERADE", whole)
    found += re.findall(r"! -s (\S+) ! -i (br-[0-9a-f]{12}) -o \S+ -j DROP", whole)
    rename = {bridge: f"br-{subnets[subnet]}" for subnet, bridge in found}
    out = {}
    for table, lines in tables.items():
        out[table] = set()
        for line in lines:
            for real, ours in rename.items():
                line = line.replace(real, ours)
            out[table].add(line)
    return out


@pytest.mark.parametrize("session", sorted(SESSIONS))
@pytest.mark.parametrize(("version", "line"), [("28.5.2", "28.5"), ("29.7.2", "29.7")])
def test_ip6tables_rules_equal_what_the_engines_programmed(version, line, session):
    """docs/confirmed-rules.md §18l, §18v: the whole ip6tables (policies, chains and rules of filter, nat
    and raw) of the daemon defaults (s1) and without the userland proxy (s4), as sets."""
    tables, ulas = _engine_ip6tables(version, session)
    world = load(SESSIONS[session].format(line=line, ula0=ulas[0], ula1=ulas[1])).world()
    engine = _renamed(tables, {str(n.subnet6): n.name for n in world.design.networks if n.subnet6 is not None})
    rs = world.v6.host_ns("docker1").ruleset
    for table in (rs.filter, rs.nat, rs.raw):
        ours = set(table.lines())
        assert (sorted(ours - engine[table.name]), sorted(engine[table.name] - ours)) == ([], []), table.name


def test_gateway_mode6_is_read_from_a_design_and_from_compose():
    assert load(MODES).design.network("x6r").gateway_mode6 == "routed"
    assert load(MODES).design.network("x6r").gateway_mode == "nat"
    compose = """\
services:
  web: {image: nginx, networks: [six]}
networks:
  six:
    enable_ipv6: true
    driver_opts: {com.docker.network.bridge.gateway_mode_ipv6: nat-unprotected}
    ipam: {config: [{subnet: "fd00:db8:60::/64"}]}
"""
    six = load(compose, kind="compose").design.network("six")
    assert (six.gateway_mode, six.gateway_mode6) == ("nat", "nat-unprotected")
    with pytest.raises(DesignError) as err:
        load(MODES.replace("gateway_mode6: routed", "gateway_mode6: bogus"))
    assert "gateway_mode6" in str(err.value)
