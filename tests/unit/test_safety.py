"""The probe guard refuses every address outside what netsim created."""

from __future__ import annotations

from ipaddress import IPv4Interface, IPv4Network, ip_address

import pytest

from simulator.adapters.fake_engine import FakeEngine, FakeLan
from simulator.adapters.safety import ProbeGuard
from simulator.deploy.apply import apply
from simulator.deploy.plan import plan
from simulator.errors import UnsafeTarget
from simulator.model import Attachment, Container, Design, Driver, Host, Listener, Network
from simulator.verify.observe import build_guard, gather_facts

GUARD = ProbeGuard.build(
    networks=["10.231.1.0/24", "192.168.1.0/24", "10.231.9.0/24", "fd12:3456:1::/64", "2001:db8:1::/64"],
    addresses=["172.17.0.5", "172.17.0.1", "fd12:3456:ff::242:ac11:5"],
    forbidden=["192.0.2.0/24", "10.255.255.53/32", "fd00::/64"],
    host_local=["10.231.1.0/24", "192.168.1.0/24", "172.17.0.0/16", "fd12:3456:1::/64"],
)


@pytest.mark.parametrize("addr", ["127.0.0.1", "127.0.0.11", "10.231.1.7", "192.168.1.10", "172.17.0.5", "172.17.0.1",
                                  "::1", "fd12:3456:1::2", "2001:db8:1::10", "fd12:3456:ff::242:ac11:5"])
def test_allowed(addr):
    assert GUARD.check(addr) == ip_address(addr)


@pytest.mark.parametrize("addr,why", [
    ("10.255.255.53", "did not create"),  # the machine's resolver
    ("192.0.2.1", "did not create"),  # the uplink's gateway
    ("8.8.8.8", "outside every network netsim created"),
    ("172.17.0.6", "outside every network"),  # someone else's container on the default bridge
    ("0.0.0.0", "not a unicast address"),
    ("224.0.0.1", "not a unicast address"),
    ("255.255.255.255", "not a unicast address"),
    ("web", "not an IP address"),
    # IPv6: the uplink's prefix (fd00::2/64 here), anything else, multicast, link-local, IPv4-mapped
    ("fd00::1", "did not create"),
    ("fd00::2", "did not create"),
    ("2001:4860:4860::8888", "outside every network netsim created"),
    ("fd12:3456:2::2", "outside every network"),
    ("ff02::16", "not a unicast address"),
    ("::", "not a unicast address"),
    ("fe80::1", "link-local"),
    ("::ffff:10.231.1.7", "IPv4-mapped"),
    # an IPv6 address whose low 32 bits are an allowed IPv4 address is not that address
    ("::ae7:107", "outside every network"),  # 10.231.1.7 in its low 32 bits
])
def test_refused(addr, why):
    with pytest.raises(UnsafeTarget, match=why):
        GUARD.check(addr, "web")
    assert not GUARD.allows(addr)


def test_forbidden_wins_over_allowed():
    guard = ProbeGuard.build(["10.0.0.0/8"], forbidden=["10.255.255.53/32"])
    with pytest.raises(UnsafeTarget):
        guard.check("10.255.255.53")
    assert guard.allows("10.1.2.3")


def test_host_namespace_needs_a_local_route():
    # an overlay subnet is netsim's, but from the host it would leave by the default route
    assert GUARD.allows("10.231.9.4")
    with pytest.raises(UnsafeTarget, match="uplink"):
        GUARD.check("10.231.9.4", "host", host_ns=True)
    assert GUARD.check("10.231.1.7", "host", host_ns=True)
    assert GUARD.check("127.0.0.1", "host", host_ns=True)
    # IPv6 alike: the LAN's IPv6 prefix is netsim's, but not routed here in this guard
    with pytest.raises(UnsafeTarget, match="uplink"):
        GUARD.check("2001:db8:1::10", "host", host_ns=True)
    assert GUARD.check("fd12:3456:1::2", "host", host_ns=True)
    assert GUARD.check("::1", "host", host_ns=True)


def test_guard_built_from_a_deployment():
    d = Design("g", (Host("h1"),), (
        Network("bridge", Driver.BRIDGE, docker_name="bridge", default_bridge=True),
        Network("a", Driver.BRIDGE, subnet=IPv4Network("10.231.5.0/24")),
    ), (
        Container("x", "h1", attachments=(Attachment("a"),), listeners=(Listener(80),)),
        Container("y", "h1", attachments=(Attachment("bridge"),), listeners=(Listener(80),)),
    ))
    fake = FakeEngine()
    other = fake.add_container("bystander")
    p = plan(d)
    dep = apply(p, fake, FakeLan())
    facts = gather_facts(d, p, fake, dep.lan_ready)
    guard = build_guard(facts, p, forbidden=[IPv4Network("192.0.2.0/24")])
    assert guard.allows("10.231.5.200")  # netsim's own network
    assert guard.allows("192.168.1.254")  # the emulated LAN
    y_addr = facts.containers["y"].addresses["bridge"]
    assert isinstance(y_addr, IPv4Interface) and guard.allows(y_addr.ip)
    assert guard.allows("172.17.0.1")  # the default bridge's gateway
    assert not guard.allows("172.17.0.200")  # not netsim's
    assert not guard.allows("192.0.2.1")
    assert other in fake.containers
