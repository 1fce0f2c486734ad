"""Engine-version differences (docs/engine-versions.md), from moby's iptablesdoc and release notes."""

from ipaddress import IPv4Address

import pytest

from simulator.engine.trace import Disposition
from simulator.engine.topology import build_world
from simulator.engine.versions import parse_version
from simulator.engine.walk import walk
from simulator.errors import UnknownEngineVersion
from simulator.loaders import load_text

DESIGN = """
name: versions
hosts:
  docker1:
    lan: {{interface: eth0, address: 192.168.77.1/24}}
    daemon: {{userland_proxy: {proxy}}}
networks:
  front: {{subnet: 10.1.1.0/24}}
  back: {{subnet: 10.1.2.0/24}}
containers:
  web: {{networks: [front], ports: ["8080:80", "127.0.0.1:8081:81"], listens: [80, 81, 82]}}
  client: {{networks: [back], listens: [22]}}
"""


def world(version, proxy=True):
    design, _ = load_text(DESIGN.format(proxy=str(proxy).lower()), "v.yaml")
    return build_world(design, version)


def go(w, src, dst, port):
    ns = {"external": "external", "host": "host:docker1"}.get(src) or w.ns_of[src]
    return walk(w, ns, IPv4Address(dst), port, "tcp")


@pytest.mark.parametrize("text,expected", [("20.10", "20.10"), ("20.10.24+dfsg1", "20.10.24"), ("28", "28.0"), ("v29.0.1", "29.0.1")])
def test_parse_versions(text, expected):
    assert str(parse_version(text)) == expected


@pytest.mark.parametrize("bad", ["19.03", "30.0", "banana", "21.0"])
def test_unknown_versions_are_refused(bad):
    with pytest.raises(UnknownEngineVersion):
        parse_version(bad)


def test_direct_routing_to_published_container_port_until_27():
    for v in ("20.10", "27.0"):
        assert go(world(v), "external", "10.1.1.2", 80).responder == "web"


@pytest.mark.parametrize("v", ["28.0", "29.0"])
def test_direct_routing_blocked_from_28(v):
    t = go(world(v), "external", "10.1.1.2", 80)
    assert t.disposition is Disposition.DROPPED_FILTER
    assert "-t raw -A PREROUTING -d 10.1.1.2/32 ! -i br-front -j DROP" in t.reason


@pytest.mark.parametrize("v", ["20.10", "28.0", "29.0"])
def test_published_port_via_lan_address_always_works(v):
    assert go(world(v), "external", "192.168.77.1", 8080).responder == "web"


def test_loopback_binding_protection_from_28():
    w = world("28.0")
    rules = w.host_ns("docker1").ruleset.raw.lines()
    assert "-A PREROUTING -d 127.0.0.1/32 ! -i lo -p tcp -m tcp --dport 8081 -j DROP" in rules
    assert not any("127.0.0.1" in r for r in world("20.10").host_ns("docker1").ruleset.raw.lines())


@pytest.mark.parametrize("v,expected", [("20.10", None), ("28.0", None), ("29.0", "web")])
def test_cross_network_published_port_without_userland_proxy(v, expected):
    # facts 2.5: without docker-proxy, ≤28 DNATs and then drops in isolation; 29 accepts
    t = go(world(v, proxy=False), "client", "10.1.2.1", 8080)
    assert t.responder == expected


def test_cross_network_published_port_with_proxy_all_versions():
    for v in ("20.10", "28.0", "29.0"):
        assert go(world(v), "client", "10.1.2.1", 8080).responder == "web"


def test_29_has_no_isolation_chains_but_still_isolates():
    w = world("29.0")
    lines = w.host_ns("docker1").ruleset.filter.lines()
    assert not any("ISOLATION" in line for line in lines)
    assert go(w, "client", "10.1.1.2", 82).disposition is Disposition.DROPPED_FILTER


def test_forward_policy_accept_when_the_host_already_routed():
    """dockerd sets -P FORWARD DROP only when it turns forwarding on itself (seen with a netns
    that starts with ip_forward=1): then a LAN peer reaches unpublished container ports too."""
    text = DESIGN.format(proxy="true").replace("daemon: {userland_proxy: true}",
                                               "daemon: {userland_proxy: true, forwarding_preset: true}")
    design, _ = load_text(text, "v.yaml")
    w = build_world(design, "20.10")
    assert w.host_ns("docker1").ruleset.filter.policies.get("FORWARD", "ACCEPT") == "ACCEPT"
    assert go(w, "external", "10.1.1.2", 82).responder == "web"
    assert go(world("20.10"), "external", "10.1.1.2", 82).disposition is Disposition.DROPPED_FILTER


def test_unknown_gateway_mode_is_ignored_by_older_engines():
    """20.10 does not know gateway_mode_ipv4: an unknown driver option, ignored (nat), not refused."""
    from simulator.engine.checks import engine_problems

    text = DESIGN.format(proxy="true").replace("front: {subnet: 10.1.1.0/24}", "front: {subnet: 10.1.1.0/24, gateway_mode: routed}")
    design, _ = load_text(text, "v.yaml")
    problems = engine_problems(design, "20.10")
    assert [p.severity for p in problems if "gateway mode" in p.message] == ["warning"]
    assert go(build_world(design, "20.10"), "host", "127.0.0.1", 8080).responder == "web"  # DNAT as in nat mode
    assert not any("gateway mode" in p.message for p in engine_problems(design, "28.0"))
