"""The model reproduces what was observed on Docker 20.10.24 (docs/confirmed-rules.md).

Each test names the topic of confirmed-rules.md it encodes. The design mirrors the
experiments: networks nx-a/nx-b (user bridges), nx-int (internal), nx-noicc, nx-hb
(host_binding_ipv4 127.0.0.1), a macvlan on the LAN, an attachable overlay.
"""

from ipaddress import IPv4Address

import pytest

from simulator.engine.trace import Disposition
from simulator.engine.topology import build_world
from simulator.engine.walk import walk
from simulator.loaders import load_text

DESIGN = """
name: confirmed
hosts:
  docker1:
    lan: {interface: eth0, address: 192.168.77.1/24}
networks:
  nx-a: {subnet: 10.99.1.0/24}
  nx-b: {subnet: 10.99.2.0/24}
  nx-int: {subnet: 10.99.3.0/24, internal: true}
  nx-noicc: {subnet: 10.99.4.0/24, icc: false}
  nx-hb: {subnet: 10.99.6.0/24, host_binding_ipv4: 127.0.0.1}
  nx-aaa: {subnet: 10.99.10.0/24}
  nx-zzz: {subnet: 10.99.26.0/24}
  nx-mv: {driver: macvlan, parent: eth0, subnet: 192.168.77.0/24, gateway: 192.168.77.1, ip_range: 192.168.77.128/28}
  nx-ov: {driver: overlay, attachable: true}
containers:
  nx-d1: {listens: [80]}
  nx-a3: {networks: [nx-a], listens: [80]}
  nx-b1: {networks: [nx-b], listens: [80]}
  nx-bp: {networks: [nx-b], ports: ["8081:80", "5354:5353/udp"], listens: [80, 5353/udp]}
  nx-bl: {networks: [nx-b], ports: ["127.0.0.1:8083:80"], listens: [80]}
  nx-i1: {networks: [nx-int], listens: [80]}
  nx-ip: {networks: [nx-int], ports: ["8090:80"], listens: [80]}
  nx-ipb: {networks: [nx-int, nx-b], ports: ["8091:80"], listens: [80]}
  nx-n1: {networks: [nx-noicc], listens: [80]}
  nx-n2: {networks: [nx-noicc], listens: [80]}
  nx-n3: {networks: [nx-noicc], ports: ["8110:80"], listens: [80]}
  nx-h1: {networks: [nx-hb], ports: ["8120:80", "0.0.0.0:8121:81"], listens: [80, 81]}
  nx-m3: {networks: [nx-zzz, nx-aaa], ports: ["8102:80"], listens: [80]}
  nx-mv1: {networks: [nx-mv], listens: [80]}
  nx-host1: {network_mode: host, listens: [8151]}
  nx-o1: {networks: [nx-ov], listens: [80]}
  nx-o2: {networks: [nx-ov], ports: ["8300:80"], listens: [80]}
"""


@pytest.fixture(scope="module")
def world():
    design, _ = load_text(DESIGN, "confirmed.yaml")
    return build_world(design, "20.10")


def addr(world, container, network):
    return world.addressing.address(container, network)


def go(world, src, dst, port, proto="tcp"):
    ns = "external" if src == "external" else ("host:docker1" if src == "host" else world.ns_of[src])
    return walk(world, ns, IPv4Address(str(dst)), port, proto)


def answers(world, src, dst, port, proto="tcp"):
    t = go(world, src, dst, port, proto)
    return t.responder if t.delivered else None


def test_1a_default_bridge_icc(world):
    assert answers(world, "host", addr(world, "nx-d1", "bridge"), 80) == "nx-d1"


def test_3a_bridges_are_isolated(world):
    t = go(world, "nx-a3", addr(world, "nx-b1", "nx-b"), 80)
    assert t.disposition is Disposition.DROPPED_ISOLATION
    assert "DOCKER-ISOLATION-STAGE-2 -o br-nx-b -j DROP" in t.reason
    assert go(world, "nx-a3", addr(world, "nx-bp", "nx-b"), 80).disposition is Disposition.DROPPED_ISOLATION


@pytest.mark.parametrize("gateway", ["10.99.1.1", "10.99.2.1", "172.17.0.1"])
def test_3b_published_port_through_any_host_address_via_proxy(world, gateway):
    t = go(world, "nx-a3", gateway, 8081)
    assert t.responder == "nx-bp"
    assert any(s.kind == "proxy" for h in t.hops for s in h.steps)


def test_3d_udp_proxy_answers_only_on_the_client_gateway(world):
    assert answers(world, "nx-a3", "10.99.1.1", 5354, "udp") == "nx-bp"
    assert answers(world, "nx-a3", "10.99.2.1", 5354, "udp") is None
    assert answers(world, "nx-a3", "172.17.0.1", 5354, "udp") is None
    assert answers(world, "nx-b1", "10.99.2.1", 5354, "udp") == "nx-bp"
    assert answers(world, "nx-b1", "10.99.1.1", 5354, "udp") is None


def test_3e_loopback_binding_refused_from_containers(world):
    assert go(world, "nx-a3", "10.99.1.1", 8083).disposition is Disposition.REFUSED
    assert go(world, "nx-a3", "127.0.0.1", 8083).disposition is Disposition.REFUSED


def test_4_host_reaches_everything_directly(world):
    assert answers(world, "host", addr(world, "nx-b1", "nx-b"), 80) == "nx-b1"
    assert answers(world, "host", "127.0.0.1", 8081) == "nx-bp"
    assert answers(world, "host", "10.99.1.1", 8081) == "nx-bp"
    assert answers(world, "host", "127.0.0.1", 5354, "udp") == "nx-bp"
    assert answers(world, "host", "10.99.1.1", 5354, "udp") == "nx-bp"
    assert answers(world, "host", "127.0.0.1", 8083) == "nx-bl"
    assert go(world, "host", "10.99.2.1", 8083).disposition is Disposition.REFUSED


def test_5a_internal_container_keeps_default_route_on_20_10(world):
    ns = world.namespace_of("nx-i1")
    default = [r for r in ns.routes if r.dest.prefixlen == 0]
    assert default and str(default[0].via) == "10.99.3.1"


def test_5c_internal_container_cannot_use_other_publications(world):
    t = go(world, "nx-i1", "10.99.3.1", 8081)
    assert t.disposition is Disposition.DROPPED_ISOLATION
    assert "DNAT" in str(t)
    assert go(world, "nx-i1", "10.99.3.1", 22).disposition is Disposition.REFUSED


def test_5e_internal_isolated_both_ways(world):
    assert answers(world, "nx-i1", addr(world, "nx-b1", "nx-b"), 80) is None
    assert answers(world, "nx-b1", addr(world, "nx-i1", "nx-int"), 80) is None
    assert answers(world, "host", addr(world, "nx-i1", "nx-int"), 80) == "nx-i1"


def test_5f_publishing_on_internal_only_binds_nothing(world):
    assert not [b for b in world.bindings["docker1"] if b.container == "nx-ip"]
    assert go(world, "host", "127.0.0.1", 8090).disposition is Disposition.REFUSED


def test_5g_internal_plus_normal_publishes_through_normal(world):
    (b,) = [b for b in world.bindings["docker1"] if b.container == "nx-ipb"]
    assert b.network == "nx-b"
    assert world.namespace_of("nx-ipb").gateway_network == "nx-b"
    assert answers(world, "external", "192.168.77.1", 8091) == "nx-ipb"


def test_6a_multi_homed_gateway_is_the_name_that_sorts_first(world):
    ns = world.namespace_of("nx-m3")
    assert ns.gateway_network == "nx-aaa"
    assert ns.interfaces["eth0"].network == "nx-aaa"
    (b,) = [b for b in world.bindings["docker1"] if b.container == "nx-m3"]
    assert b.network == "nx-aaa"


def test_7_lan_peer(world):
    assert answers(world, "external", addr(world, "nx-bp", "nx-b"), 80) == "nx-bp"  # published container port
    assert answers(world, "external", addr(world, "nx-bl", "nx-b"), 80) == "nx-bl"  # even if bound on 127.0.0.1
    t = go(world, "external", addr(world, "nx-b1", "nx-b"), 80)
    assert t.disposition is Disposition.DROPPED_FILTER and "-P FORWARD DROP" in t.reason
    assert answers(world, "external", addr(world, "nx-i1", "nx-int"), 80) is None
    assert answers(world, "external", "192.168.77.1", 8081) == "nx-bp"
    assert answers(world, "external", "192.168.77.1", 5354, "udp") == "nx-bp"
    assert go(world, "external", "192.168.77.1", 8083).disposition is Disposition.REFUSED


def test_8a_icc_off(world):
    t = go(world, "nx-n1", addr(world, "nx-n2", "nx-noicc"), 80)
    assert t.disposition is Disposition.DROPPED_FILTER
    assert "-i br-nx-noicc -o br-nx-noicc -j DROP" in t.reason
    assert answers(world, "nx-n1", "10.99.4.1", 8110) == "nx-n3"  # hairpin through docker-proxy
    assert answers(world, "host", addr(world, "nx-n2", "nx-noicc"), 80) == "nx-n2"


def test_8c_host_binding_ipv4(world):
    bindings = {b.host_port: str(b.host_ip) for b in world.bindings["docker1"] if b.container == "nx-h1"}
    assert bindings == {8120: "127.0.0.1", 8121: "0.0.0.0"}
    assert answers(world, "host", "127.0.0.1", 8120) == "nx-h1"
    assert go(world, "external", "192.168.77.1", 8120).disposition is Disposition.REFUSED
    assert answers(world, "external", "192.168.77.1", 8121) == "nx-h1"


def test_9_macvlan(world):
    mv = addr(world, "nx-mv1", "nx-mv")
    assert str(mv) == "192.168.77.128"  # first address of the ip_range, its network address included
    assert answers(world, "external", mv, 80) == "nx-mv1"
    assert go(world, "host", mv, 80).disposition is Disposition.DROPPED_L2
    assert go(world, "nx-mv1", "192.168.77.1", 8081).disposition is Disposition.DROPPED_L2


def test_10e_host_mode_listener(world):
    assert answers(world, "host", "127.0.0.1", 8151) == "nx-host1"
    assert answers(world, "nx-a3", "10.99.1.1", 8151) == "nx-host1"
    assert answers(world, "external", "192.168.77.1", 8151) == "nx-host1"


def test_12_overlay(world):
    o1, o2 = addr(world, "nx-o1", "nx-ov"), addr(world, "nx-o2", "nx-ov")
    assert (str(o1), str(o2)) == ("10.0.1.2", "10.0.1.4")  # the node's load-balancer endpoint took .3
    assert answers(world, "nx-o1", o2, 80) == "nx-o2"
    ns = world.namespace_of("nx-o1")
    assert ns.gateway_network == "docker_gwbridge"
    gw2 = addr(world, "nx-o2", "docker_gwbridge")
    assert str(addr(world, "nx-o1", "docker_gwbridge")).endswith(".0.3")  # 12a/12c: the ingress sandbox took .2
    assert str(gw2).endswith(".0.4")
    assert go(world, "nx-o1", gw2, 80).disposition is Disposition.DROPPED_FILTER  # ICC off on docker_gwbridge
    assert answers(world, "host", gw2, 80) == "nx-o2"
    assert not go(world, "host", o2, 80).delivered  # the host has no route into the overlay
    assert answers(world, "host", "127.0.0.1", 8300) == "nx-o2"
    assert answers(world, "external", "192.168.77.1", 8300) == "nx-o2"


def test_2b_names_qualified_by_network(world):
    from simulator.engine.dns import NameTable

    table = NameTable(world)
    ns = world.namespace_of("nx-a3")
    assert table.resolve(ns, "nx-a3.nx-a").resolved
    assert not table.resolve(world.namespace_of("nx-a3"), "nx-b1.nx-b").resolved
    assert not table.resolve(world.namespace_of("nx-d1"), "nx-a3").resolved  # default bridge: no embedded DNS


def test_ephemeral_publication_still_opens_the_container_port():
    """`ports: ["80"]`: the host port is the engine's choice, but the DOCKER filter rule for the
    container port exists, so a routing LAN peer reaches it directly (found by verify on 20.10)."""
    design, _ = load_text("""
name: eph
networks: {nn: {subnet: 10.77.1.0/24}}
containers:
  cc: {networks: [nn], ports: ["80"], listens: [80, 81]}
""", "eph.yaml")
    w = build_world(design, "20.10")
    assert answers(w, "external", addr(w, "cc", "nn"), 80) == "cc"
    assert answers(w, "external", addr(w, "cc", "nn"), 81) is None
    assert w.bindings["docker1"] == []
