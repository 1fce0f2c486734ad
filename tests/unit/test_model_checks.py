"""The model checks itself: a value the loaders would refuse cannot be made in code either.

Each invalid construction raises ModelError naming the model path, the bad value and what
would be right; valid strings are coerced to their enum or address type.
"""

from __future__ import annotations

import json
from ipaddress import IPv4Address, IPv4Interface, IPv4Network
from types import MappingProxyType

import pytest
from hypothesis import given
from hypothesis import strategies as st

from simulator.errors import ModelError, NetsimError, Problem, Severity
from simulator.loaders import load_text
from simulator.model import (
    Attachment,
    Container,
    Design,
    DesignKind,
    Driver,
    GatewayMode,
    Host,
    LinkMode,
    Listener,
    Location,
    ModeKind,
    Network,
    NetworkMode,
    PortMapping,
    Protocol,
    design_problems,
    namespace_owners,
)

H = (Host("h1"),)
FRONT = Network("front", Driver.BRIDGE)


def joiner(name: str, target: str) -> Container:
    return Container(name, "h1", mode=NetworkMode(ModeKind.CONTAINER, target))


def refused(make) -> ModelError:
    with pytest.raises(ModelError) as info:
        make()
    assert isinstance(info.value, NetsimError)
    return info.value


# --- values: enums ----------------------------------------------------------------------

def test_driver_string_is_coerced_to_the_enum():
    net = Network("n", "bridge")
    assert net.driver is Driver.BRIDGE and net == Network("n", Driver.BRIDGE)


def test_unknown_driver_names_field_value_and_choices():
    err = refused(lambda: Network("n", "bridgee"))
    [p] = err.problems
    assert p.path == ("networks", "n", "driver")
    assert "'bridgee'" in p.message and "bridge, host, none, macvlan, ipvlan, overlay" in p.message


@pytest.mark.parametrize("make,path,bad", [
    (lambda: Network("n", Driver.BRIDGE, gateway_mode="natt"), ("networks", "n", "gateway_mode"), "natt"),
    (lambda: Network("n", Driver.MACVLAN, mode="bridged"), ("networks", "n", "mode"), "bridged"),
    (lambda: PortMapping(80, protocol="icmp"), ("PortMapping", "protocol"), "icmp"),
    (lambda: Listener(80, protocol="TCP "), ("Listener", "protocol"), "TCP "),
    (lambda: NetworkMode("bridge"), ("NetworkMode", "kind"), "bridge"),
    (lambda: Design("d", H, (), (), kind="swarm"), ("kind",), "swarm"),
    (lambda: Problem("x", severity="fatal"), ("Problem", "severity"), "fatal"),
])
def test_every_enum_field_refuses_an_unknown_value(make, path, bad):
    [p] = refused(make).problems
    assert p.path == path and repr(bad) in p.message and "one of" in p.message


def test_valid_strings_become_enums_and_print_as_before():
    net = Network("n", "ipvlan", gateway_mode="routed", mode="l3")
    assert (net.driver, net.gateway_mode, net.mode) == (Driver.IPVLAN, GatewayMode.ROUTED, LinkMode.L3)
    assert net.gateway_mode == "routed" and f"{net.gateway_mode}/{net.mode}" == "routed/l3"
    assert PortMapping(53, "udp").protocol is Protocol.UDP
    assert Design("d", H, (), (), kind="compose").kind is DesignKind.COMPOSE
    warning = Problem("careful", severity="warning")
    assert warning.severity is Severity.WARNING and warning.severity == "warning"
    assert json.dumps({"severity": warning.severity, "mode": net.gateway_mode}) == \
        '{"severity": "warning", "mode": "routed"}'
    assert str(warning) == "warning: careful"


# --- values: addresses, ports, shapes ----------------------------------------------------

def test_address_strings_are_coerced():
    net = Network("n", Driver.BRIDGE, subnet="10.1.0.0/24", gateway="10.1.0.1", ip_range="10.1.0.128/25",
                  aux_addresses=["10.1.0.2"])
    assert net.subnet == IPv4Network("10.1.0.0/24") and net.gateway == IPv4Address("10.1.0.1")
    assert net.aux_addresses == (IPv4Address("10.1.0.2"),)
    host = Host("h", lan_address="192.168.5.2/24", routes=["10.9.0.0/16"], gateways=[("10.8.0.0/16", "192.168.5.1")])
    assert host.lan_address == IPv4Interface("192.168.5.2/24")
    assert host.gateways == ((IPv4Network("10.8.0.0/16"), IPv4Address("192.168.5.1")),)
    assert Attachment("front", ipv4_address="10.1.0.9").ipv4_address == IPv4Address("10.1.0.9")


@pytest.mark.parametrize("make,path", [
    (lambda: Network("n", Driver.BRIDGE, subnet="10.1.0.1/24"), ("networks", "n", "subnet")),  # host bits
    (lambda: Network("n", Driver.BRIDGE, gateway="10.1.0.300"), ("networks", "n", "gateway")),
    (lambda: Network("n", Driver.BRIDGE, subnet=167772160), ("networks", "n", "subnet")),  # an int is not taken
    (lambda: Attachment("front", ipv4_address="fd00::1"), ("Attachment", "front", "ipv4_address")),
    (lambda: Host("h", lan_address="192.168.1.10/33"), ("hosts", "h", "lan_address")),
    (lambda: Host("h", routes=["nope"]), ("hosts", "h", "routes", 0)),
])
def test_bad_addresses_are_refused(make, path):
    [p] = refused(make).problems
    assert p.path == path and "IPv4" in p.message


@pytest.mark.parametrize("make,field", [
    (lambda: PortMapping(0), "container_port"),
    (lambda: PortMapping(80, host_port=70000), "host_port"),
    (lambda: PortMapping("80"), "container_port"),
    (lambda: Listener(65536), "port"),
    (lambda: Network("n", Driver.MACVLAN, vlan=5000), "vlan"),
])
def test_ports_and_ids_out_of_range_are_refused(make, field):
    [p] = refused(make).problems
    assert p.path[-1] == field and "whole number from" in p.message


def test_sequences_become_tuples_and_locations_read_only():
    c = Container("web", "h1", attachments=[Attachment("front", aliases=["www"])], labels={"a": "b"})
    assert c.attachments == (Attachment("front", aliases=("www",)),) and c.labels == (("a", "b"),)
    locations = {("name",): Location("d.yaml", 1, 1)}
    d = Design("d", H, [FRONT], [c], locations=locations)
    assert type(d.networks) is tuple and type(d.locations) is MappingProxyType
    locations.clear()  # the design took a copy
    assert d.location("name") == Location("d.yaml", 1, 1)
    with pytest.raises(TypeError):
        d.locations[("x",)] = Location("d.yaml", 2, 2)  # type: ignore[index]


def test_wrong_types_inside_a_container_are_refused():
    [p] = refused(lambda: Container("web", "h1", attachments=("front",))).problems
    assert p.path == ("containers", "web", "attachments", 0) and "not a Attachment" in p.message
    [p] = refused(lambda: NetworkMode(ModeKind.CONTAINER)).problems
    assert p.path == ("NetworkMode", "target")
    [p] = refused(lambda: NetworkMode(ModeKind.HOST, "web")).problems
    assert "takes no target" in p.message


# --- the design: references ------------------------------------------------------------

def test_attachment_to_an_undeclared_network():
    web = Container("web", "h1", attachments=(Attachment("front"), Attachment("back")))
    err = refused(lambda: Design("d", H, (FRONT,), (web,)))
    [p] = err.problems
    assert p.path == ("containers", "web", "attachments", 1, "network")
    assert p.code == "unknown-network" and p.value == "back"
    assert str(err) == ("containers.web.attachments.1.network: container 'web' is attached to network 'back', "
                        "which the design does not declare")


def test_every_broken_reference_is_listed_at_once():
    cs = (Container("a", "h2"), Container("b", ""), joiner("c", "nobody"), joiner("d", "d"))
    nets = (Network("n", Driver.OVERLAY, hosts=("h1", "h9")),)
    err = refused(lambda: Design("d", H, nets, cs))
    assert [(p.code, p.path) for p in err.problems] == [
        ("unknown-host", ("networks", "n", "hosts", 1)),
        ("unknown-host", ("containers", "a", "host")),
        ("no-host", ("containers", "b", "host")),
        ("unknown-target", ("containers", "c", "mode", "target")),
        ("self-target", ("containers", "d", "mode", "target")),
    ]


def test_duplicate_names():
    err = refused(lambda: Design("d", H + H, (FRONT, FRONT), (Container("a", "h1"), Container("a", "h1"))))
    assert [(p.code, p.path) for p in err.problems] == [
        ("duplicate", ("hosts", "h1")), ("duplicate", ("networks", "front")), ("duplicate", ("containers", "a"))]


def test_a_cycle_is_reported_once_at_its_first_container():
    cs = (joiner("tail", "b"), joiner("b", "c"), joiner("c", "b"))
    [p] = refused(lambda: Design("d", H, (), cs)).problems
    assert p.code == "cycle" and p.path == ("containers", "b", "mode", "target")
    assert "(b -> c -> b)" in p.message and p.value == ("b", "c", "b")


def test_namespace_owner_follows_chains():
    owner = Container("own", "h1", attachments=(Attachment("front"),))
    d = Design("d", H, (FRONT,), (joiner("j2", "j1"), joiner("j1", "own"), owner))
    assert [d.namespace_owner(n) for n in ("j2", "j1", "own")] == ["own", "own", "own"]
    assert namespace_owners([joiner("x", "gone"), joiner("y", "x")]) == {"x": None, "y": None}


def test_unchecked_designs_are_for_loaders_and_report_the_same_problems():
    web = Container("web", "h1", attachments=(Attachment("nope"),))
    d = Design.unchecked("d", H, (), (web,))
    assert [p.code for p in design_problems(d)] == ["unknown-network"]
    with pytest.raises(ModelError):  # a changed copy is checked again
        Design("d", d.hosts, d.networks, d.containers)


def test_the_loader_reports_the_model_problem_at_its_line():
    text = "name: s\nnetworks: {front: {}}\ncontainers:\n  web: {networks: [frontt]}\n"
    with pytest.raises(NetsimError) as info:
        load_text(text, "s.yaml")
    [p] = info.value.problems
    assert str(p).startswith("s.yaml:4:") and 'unknown network "frontt"' in p.message and "front" in p.message


# --- property: chains of any shape ----------------------------------------------------

@given(st.lists(st.integers(min_value=-1, max_value=7), min_size=1, max_size=8))
def test_chains_either_resolve_or_are_refused(targets):
    """Container i joins container targets[i] (-1: its own namespace). The design is valid
    exactly when every chain reaches an owner; then each owner has its own namespace."""
    n = len(targets)
    cs = tuple(Container(f"c{i}", "h1") if t < 0 else joiner(f"c{i}", f"c{t}") for i, t in enumerate(targets))

    def ends(i: int) -> bool:
        seen = set()
        while targets[i] >= 0:
            if i in seen or targets[i] >= n:
                return False
            seen.add(i)
            i = targets[i]
        return True

    if all(ends(i) for i in range(n)):
        d = Design("d", H, (), cs)
        for c in cs:
            owner = d.container(d.namespace_owner(c.name))
            assert owner.mode.kind is ModeKind.NETWORKS
    else:
        err = refused(lambda: Design("d", H, (), cs))
        assert {p.code for p in err.problems} <= {"unknown-target", "self-target", "cycle"}
