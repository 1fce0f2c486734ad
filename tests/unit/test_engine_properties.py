"""Invariants of the model, over random designs (Hypothesis)."""

from dataclasses import replace
from ipaddress import IPv4Network

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from simulator.analysis.reachability import compute_reach
from simulator.engine.checks import engine_problems
from simulator.model import (
    Attachment, Container, Design, Driver, Host, Listener, ModeKind, Network, NetworkMode, PortMapping, Protocol,
)


@st.composite
def designs(draw):
    n_nets = draw(st.integers(1, 4))
    nets = [Network("bridge", Driver.BRIDGE, "bridge", default_bridge=True)]
    for i in range(n_nets):
        nets.append(Network(
            f"net{i}", Driver.BRIDGE, f"net{i}", subnet=IPv4Network(f"10.77.{i}.0/24"),
            internal=draw(st.booleans()), icc=draw(st.booleans()),
        ))
    containers = []
    used_ports: set[int] = set()
    for i in range(draw(st.integers(1, 6))):
        kind = draw(st.sampled_from(["nets", "nets", "nets", "default", "host", "none"]))
        listeners = tuple(Listener(p, draw(st.sampled_from([Protocol.TCP, Protocol.UDP])))
                          for p in draw(st.sets(st.integers(1000, 1010), min_size=1, max_size=2)))
        ports = ()
        if kind in ("nets", "default") and draw(st.booleans()):
            hp = draw(st.integers(20000, 20020).filter(lambda p: p not in used_ports))
            used_ports.add(hp)
            lst = listeners[0]
            ports = (PortMapping(lst.port, lst.protocol, hp),)
        if kind == "nets":
            chosen = draw(st.lists(st.sampled_from([n.name for n in nets[1:]]), min_size=1, max_size=2, unique=True))
            c = Container(f"c{i}", "docker1", attachments=tuple(Attachment(n) for n in chosen), listeners=listeners, ports=ports)
        elif kind == "default":
            c = Container(f"c{i}", "docker1", attachments=(Attachment("bridge"),), listeners=listeners, ports=ports)
        else:
            host_ports = {l.port for c2 in containers if c2.mode.kind is ModeKind.HOST for l in c2.listeners}
            listeners = tuple(l for l in listeners if l.port not in host_ports and l.port + 20000 not in used_ports) or listeners
            c = Container(f"c{i}", "docker1", mode=NetworkMode(ModeKind.HOST if kind == "host" else ModeKind.NONE), listeners=listeners)
        containers.append(c)
    return Design("prop", (Host("docker1"),), tuple(nets), tuple(containers))


def _outcomes(result, sources, targets):
    return {p.key: (p.reachable, p.responder) for p in result.probes
            if p.via == "ip" and p.source in sources and p.target in targets}


SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@SETTINGS
@given(designs())
def test_every_probe_has_a_disposition_and_unique_key(design):
    result = compute_reach(design, "20.10")
    keys = [p.key for p in result.probes]
    assert len(keys) == len(set(keys))
    assert all(p.disposition is not None and p.reason for p in result.probes)
    assert all((p.responder is not None) == p.reachable for p in result.probes)


@SETTINGS
@given(designs(), st.sampled_from(["20.10", "28.0", "29.0"]))
def test_adding_an_unrelated_network_changes_no_other_pair(design, version):
    before = compute_reach(design, version)
    extra_net = Network("zz-extra", Driver.BRIDGE, "zz-extra", subnet=IPv4Network("10.78.0.0/24"))
    extra = Container("zz-new", "docker1", attachments=(Attachment("zz-extra"),), listeners=(Listener(7777),))
    after = compute_reach(replace(design, networks=design.networks + (extra_net,), containers=design.containers + (extra,)), version)
    names = {c.name for c in design.containers} | {"host", "external"}
    targets = {c.name for c in design.containers}
    assert _outcomes(before, names, targets) == _outcomes(after, names, targets)


@SETTINGS
@given(designs())
def test_same_user_bridge_with_icc_reaches_every_listener(design):
    result = compute_reach(design, "20.10")
    for p in result.probes:
        if p.via != "ip" or not design.has_container(p.source) or p.source == p.target:
            continue
        src, dst = design.container(p.source), design.container(p.target)
        net = design.network(p.network)
        if net.default_bridge or not net.icc or src.mode.kind is not ModeKind.NETWORKS:
            continue
        if p.network in src.networks and p.network in dst.networks:
            assert p.reachable, (p.source, p.target, p.network, p.reason)


@SETTINGS
@given(designs())
def test_generated_designs_have_no_engine_errors(design):
    assert [p for p in engine_problems(design, "20.10") if p.severity == "error"] == []


def test_shared_walks_never_mix_local_and_remote_senders():
    """Two senders of one class: the one dialling its own address is local, the other is bridged."""
    from simulator.loaders import load_text

    design, _ = load_text("""
name: share
networks: {n: {subnet: 10.9.0.0/24}}
containers:
  aa: {networks: [n], listens: [80]}
  bb: {networks: [n], listens: [80]}
""", "share.yaml")
    probes = {(p.source, p.target): p for p in compute_reach(design, "20.10").probes if p.via == "ip"}
    assert probes[("aa", "aa")].reason == "delivered locally"
    assert probes[("bb", "aa")].reason.startswith("delivered: bridged on br-n")
    assert probes[("aa", "bb")].reason.startswith("delivered: bridged on br-n")


def test_ephemeral_publication_is_its_own_walk_class():
    from simulator.loaders import load_text

    design, _ = load_text("""
name: ephclass
networks: {nn: {subnet: 10.9.1.0/24}}
containers:
  plain: {networks: [nn], listens: [80]}
  eph: {networks: [nn], ports: ["80"], listens: [80]}
""", "ephclass.yaml")
    probes = {p.target: p for p in compute_reach(design, "20.10").probes if p.source == "external" and p.via == "ip"}
    assert not probes["plain"].reachable and probes["eph"].reachable
