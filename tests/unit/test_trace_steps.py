"""Typed trace steps: each record renders the line people have always read, and carries its facts."""

from __future__ import annotations

import json
from ipaddress import IPv4Address, IPv4Network
from pathlib import Path

import pytest

from simulator.engine.topology import build_world
from simulator.engine.trace import (
    Disposition,
    DnsOutcome,
    DnsStep,
    FilterStep,
    ForgedFrameStep,
    Hop,
    HopLimitStep,
    L2Outcome,
    L2Step,
    NatAction,
    NatStep,
    Place,
    ProxyOutcome,
    ProxyStep,
    RouteOutcome,
    RouteStep,
    SocketStep,
    Step,
    Trace,
)
from simulator.loaders import load_design

ROOT = Path(__file__).resolve().parents[2]
A, B = IPv4Address("10.0.0.2"), IPv4Address("10.0.0.1")
ANY = IPv4Address("0.0.0.0")

CASES = [
    (RouteStep(RouteOutcome.LOCAL, A), "route: 10.0.0.2 is local to this namespace (lo)"),
    (RouteStep(RouteOutcome.CONNECTED, A, "eth0", prefix=IPv4Network("10.0.0.0/24")),
     "route: 10.0.0.2 dev eth0: connected (10.0.0.0/24)"),
    (RouteStep(RouteOutcome.GATEWAY, A, "eth0", B, IPv4Network("0.0.0.0/0")),
     "route: 10.0.0.2 via 10.0.0.1 dev eth0 (default route)"),
    (RouteStep(RouteOutcome.GATEWAY, A, "eth1", B, IPv4Network("10.0.0.0/8")),
     "route: 10.0.0.2 via 10.0.0.1 dev eth1 (10.0.0.0/8)"),
    (RouteStep(RouteOutcome.NONE, A), "route: no route to 10.0.0.2"),
    (RouteStep(RouteOutcome.NOT_ROUTER, A), "route: 10.0.0.2 is not an address of this namespace and it does not forward"),
    (RouteStep(RouteOutcome.MARTIAN, IPv4Address("127.0.0.1"), "eth0"),
     "route: 127.0.0.1 arriving on eth0 is a martian (loopback address from outside): the kernel drops it"),
    (RouteStep(RouteOutcome.HOST_LOCAL, A), "route: 10.0.0.2 is an address of the host: delivered locally (INPUT)"),
    (RouteStep(RouteOutcome.FORWARD_OFF, A), "route: ip_forward is off: the host does not route"),
    (RouteStep(RouteOutcome.FORWARD, A, "docker0"), "route: forward 10.0.0.2 out of docker0"),
    (RouteStep(RouteOutcome.TO_LAN_ROUTER, A, "eth0"), "route: default route: towards the LAN router"),
    (RouteStep(RouteOutcome.REROUTED, A, "br-1"), "route: 10.0.0.2 via dev br-1"),
    (RouteStep(RouteOutcome.NO_ADDRESS), "route: no address to dial"),
    (HopLimitStep(12, (Place("host", "a"), Place("host", "b"), Place("host", "a"))),
     "route: hop limit: the packet has entered 12 namespaces, round host a -> host b -> host a"),
    (HopLimitStep(12), "route: hop limit: the packet has entered 12 namespaces, without reaching its destination"),
    (L2Step(L2Outcome.DELIVERED, A, "lan", device="eth0"), "l2: delivered on the lan segment to 10.0.0.2 (eth0)"),
    (L2Step(L2Outcome.BRIDGED, A, "bridge", bridge="br-x"), "l2: bridged on br-x to 10.0.0.2"),
    (L2Step(L2Outcome.LEAVES_LAN, A, "lan"), "l2: 10.0.0.2 is not part of the design: the packet leaves on the LAN"),
    (L2Step(L2Outcome.NO_NEIGHBOUR, A, "overlay"), "l2: no neighbour answers ARP for 10.0.0.2 on overlay segment"),
    (L2Step(L2Outcome.PARENT_ISOLATION, B, "lan", device="eth0", driver="macvlan"),
     "l2: macvlan child and its parent eth0 cannot talk: the kernel does not pass frames between them"),
    (ForgedFrameStep(IPv4Address("127.0.0.1"), 8080, "tcp", "docker1", "eth0"),
     "l2: sends to 127.0.0.1:8080/tcp with the MAC address of host docker1's eth0"),
    (FilterStep("filter", "FORWARD", "DROP", ("FORWARD", "DOCKER-ISOLATION-STAGE-1"),
                "-A DOCKER-ISOLATION-STAGE-1 -i br-a -j DROP"),
     "netfilter: filter FORWARD: DROP (via FORWARD > DOCKER-ISOLATION-STAGE-1)  "
     "[-t filter -A DOCKER-ISOLATION-STAGE-1 -i br-a -j DROP]"),
    (FilterStep("filter", "INPUT", "DROP", ("INPUT",), policy="DROP"),
     "netfilter: filter INPUT: DROP  [-t filter -P INPUT DROP]"),
    (NatStep("PREROUTING", NatAction.DNAT, "-A DOCKER -p tcp --dport 80 -j DNAT --to-destination 10.0.0.2:8080",
             B, A, 80, 8080),
     "netfilter: nat PREROUTING: DNAT to 10.0.0.2:8080  "
     "[-t nat -A DOCKER -p tcp --dport 80 -j DNAT --to-destination 10.0.0.2:8080]"),
    (NatStep("POSTROUTING", NatAction.MASQUERADE, "-A POSTROUTING -s 10.0.0.0/24 ! -o br-a -j MASQUERADE", A, B,
             device="eth0"),
     "netfilter: nat POSTROUTING: source masqueraded to eth0's address  "
     "[-t nat -A POSTROUTING -s 10.0.0.0/24 ! -o br-a -j MASQUERADE]"),
    (SocketStep(A, 80, "tcp", "web"), "socket: web listens on 80/tcp"),
    (SocketStep(A, 80, "udp"), "socket: nothing listens on 80/udp"),
    (ProxyStep(ProxyOutcome.CONNECTS, B, ANY, 8080, "tcp", A, 80),
     "proxy: docker-proxy listening on 0.0.0.0:8080/tcp connects to 10.0.0.2:80"),
    (ProxyStep(ProxyOutcome.UDP_REPLY_LOST, B, ANY, 53, "udp", A, 53),
     "proxy: docker-proxy answers 53/udp from the address routing picks towards the client, not 10.0.0.1: "
     "the client drops the reply"),
    (DnsStep("db", DnsOutcome.ANSWERED, "container", IPv4Address("127.0.0.11"), (A,), "back"),
     "dns: 127.0.0.11 answers db → 10.0.0.2 from network back"),
    (DnsStep("db", DnsOutcome.ANSWERED, "container", IPv4Address("127.0.0.11"), (A, B), "back"),
     "dns: 127.0.0.11 answers db → 10.0.0.2, 10.0.0.1 from network back (round robin: the client takes one)"),
    (DnsStep("db.back", DnsOutcome.ANSWERED, "container", IPv4Address("127.0.0.11"), (A,), "back", qualified=True),
     "dns: 127.0.0.11 answers db.back → 10.0.0.2 (name qualified by network back)"),
    (DnsStep("db", DnsOutcome.NXDOMAIN, "container", IPv4Address("127.0.0.11")),
     "dns: db: NXDOMAIN — no network this container is attached to carries the name"),
    (DnsStep("db", DnsOutcome.NO_RESOLVER, "host"), "dns: db: not resolved — the host's resolver knows no container names"),
    (DnsStep("db", DnsOutcome.NO_RESOLVER, "external"),
     "dns: db: not resolved — a LAN peer's resolver knows no container names"),
    (DnsStep("db", DnsOutcome.NO_RESOLVER, "container"),
     "dns: db: not resolved — no embedded DNS here (default bridge, host or none mode): resolv.conf is the host's, "
     "which knows no container names"),
]


@pytest.mark.parametrize("step,text", CASES, ids=[f"{type(s).__name__}-{i}" for i, (s, _) in enumerate(CASES)])
def test_each_record_renders_the_line_people_read(step: Step, text: str):
    assert str(step) == text
    assert text == f"{step.kind}: {step.detail}" + (f"  [{step.rule}]" if step.rule else "")


@pytest.mark.parametrize("step,text", CASES, ids=[f"{type(s).__name__}-{i}" for i, (s, _) in enumerate(CASES)])
def test_each_record_as_json_carries_text_and_fields(step: Step, text: str):
    data = json.loads(json.dumps(step.to_json()))
    assert data["text"] == text and data["kind"] == step.kind and data["type"] == step.type
    assert data["detail"] == step.detail and data["rule"] == step.rule
    assert hash(step) == hash(type(step)(**{f: getattr(step, f) for f in step.__dataclass_fields__}))  # frozen values


def test_dns_failure_is_a_field_not_a_split():
    assert DnsStep("x", DnsOutcome.NXDOMAIN, "container").failure == "no network this container is attached to carries the name"
    assert DnsStep("x", DnsOutcome.ANSWERED, "container", IPv4Address("127.0.0.11"), (A,), "n").failure is None


def test_places_of_a_world_and_their_labels():
    design, _ = load_design(ROOT / "tests/data/loaders/shop.yaml")  # tool joins web's namespace
    world = build_world(design, None)
    places = {Place.of(ns) for ns in world.namespaces.values()}
    assert Place("container", "web", ("tool",)) in places and Place("host", "docker1") in places
    assert Place("external", "external") in places
    assert sorted(p.label for p in places) == sorted(ns.label for ns in world.namespaces.values()) == [
        "container admin", "container db", "container legacy", "container web (shared by tool)", "external LAN peer",
        "host docker1"]


def test_trace_json_shape():
    t = Trace((Hop(Place("container", "web", ("side",)), (SocketStep(A, 80, "tcp", "web"),)),), Disposition.DELIVERED,
              "delivered locally", "web")
    data = t.to_json()
    assert data == {
        "disposition": "DELIVERED", "reason": "delivered locally", "responder": "web", "text": str(t),
        "hops": [{"node": "container web (shared by side)", "place": {"kind": "container", "name": "web", "shared_with": ["side"]},
                  "steps": [{"kind": "socket", "type": "socket", "detail": "web listens on 80/tcp", "rule": "",
                             "text": "socket: web listens on 80/tcp", "address": "10.0.0.2", "port": 80, "protocol": "tcp",
                             "owner": "web"}]}],
    }
