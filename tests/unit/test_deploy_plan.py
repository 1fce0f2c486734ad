"""plan() is pure and decides everything; apply()/destroy() through the fake engine."""

from __future__ import annotations

import re
from ipaddress import IPv4Address, IPv4Interface, IPv4Network

import pytest

from simulator.adapters.engine import LABEL_CONTAINER, LABEL_DESIGN, LABEL_MANAGED, LABEL_NETWORK, NetworkSpec
from simulator.adapters.fake_engine import FakeEngine, FakeLan
from simulator.deploy.apply import apply, conflicts, destroy
from simulator.deploy.plan import DeployRefused, lan_names, plan
from simulator.errors import EngineError, ModelError
from simulator.model import (
    Attachment,
    Container,
    Design,
    Driver,
    Host,
    KernelFeatures,
    Listener,
    ModeKind,
    Network,
    NetworkMode,
    PortMapping,
    Protocol,
)

ONE_HOST = (Host("h1"),)


def design(name="shop", extra_networks=(), extra_containers=(), hosts=ONE_HOST) -> Design:
    networks = (
        Network("bridge", Driver.BRIDGE, docker_name="bridge", default_bridge=True),
        Network("front", Driver.BRIDGE, docker_name="shop_front", subnet=IPv4Network("10.231.1.0/24")),
        Network("back", Driver.BRIDGE, docker_name="shop_back", subnet=IPv4Network("10.231.2.0/24"), internal=True),
    ) + tuple(extra_networks)
    containers = (
        Container("web", "h1", docker_name="shop-web-1", service="web",
                  attachments=(Attachment("front", aliases=("www",)), Attachment("back")),
                  ports=(PortMapping(80, host_port=8080),), listeners=(Listener(80), Listener(53, Protocol.UDP))),
        Container("db", "h1", attachments=(Attachment("back", ipv4_address=IPv4Address("10.231.2.50")),),
                  listeners=(Listener(5432),)),
        Container("side", "h1", mode=NetworkMode(ModeKind.CONTAINER, "web"), listeners=(Listener(9000),)),
        Container("legacy", "h1", service="legacy", attachments=(Attachment("bridge"),), listeners=(Listener(80),)),
        Container("tool", "h1", mode=NetworkMode(ModeKind.HOST), ports=(PortMapping(22, host_port=2222),)),
    ) + tuple(extra_containers)
    return Design(name, hosts, networks, containers)


# --- plan -------------------------------------------------------------------------------

def test_plan_is_pure_and_deterministic():
    d = design()
    assert plan(d) == plan(d)
    assert plan(d).describe() == plan(d).describe()


def test_start_order_static_first_and_joiners_after_owner():
    p = plan(design())
    order = list(p.start_order)
    assert order[0] == "db"  # static address first
    assert order.index("side") > order.index("web")
    assert [s.kind for s in p.steps] == ["lan", "network", "network", "containers", "start", "routes"]


def test_predefined_networks_are_not_created():
    p = plan(design())
    assert [n.name for n in p.networks] == ["shop_front", "shop_back"]
    legacy = p.container("legacy")
    assert legacy.network_mode == "bridge"
    assert legacy.endpoints[0].aliases == ()  # the default bridge rejects aliases


def test_every_object_is_labelled():
    p = plan(design())
    for n in p.networks:
        labels = dict(n.labels)
        assert labels[LABEL_MANAGED] == "1" and labels[LABEL_DESIGN] == "shop"
        assert labels[LABEL_NETWORK] == n.key
    for c in p.containers:
        labels = dict(c.labels)
        assert labels[LABEL_MANAGED] == "1" and labels[LABEL_DESIGN] == "shop"
        assert labels[LABEL_CONTAINER] == c.key
        assert c.dns == ("127.0.0.1",)
        assert dict(c.env)["NAME"] == c.key


def test_container_specs_follow_the_design():
    p = plan(design())
    web = p.container("web")
    assert web.name == "shop-web-1"
    assert web.network_mode == "shop_front"
    assert [e.network for e in web.endpoints] == ["shop_front", "shop_back"]
    assert web.endpoints[0].aliases == ("web", "www")  # compose service name + declared alias
    assert "udp:53" in web.command[-1] and "tcp:80" in web.command[-1]
    assert p.container("side").network_mode == "container:shop-web-1"
    assert p.container("db").endpoints[0].ipv4_address == "10.231.2.50"


def test_ports_dropped_for_host_mode_with_a_note():
    p = plan(design())
    assert p.container("tool").ports == ()
    assert any("tool" in n and "published ports" in n for n in p.notes)


def test_lan_translation():
    p = plan(design())
    ns, host_if, peer_if = lan_names("shop")
    assert (p.lan.namespace, p.lan.host_if, p.lan.peer_if) == (ns, host_if, peer_if)
    assert p.lan.host_address == IPv4Interface("192.168.1.10/24")
    assert p.lan.peer_address == IPv4Interface("192.168.1.254/24")
    assert len(host_if) <= 10  # room for ".4094" within IFNAMSIZ
    routes = next(s for s in p.steps if s.kind == "routes")
    assert routes.items == ("bridge", "shop_front", "shop_back")


def test_macvlan_parent_is_the_lan_veth_and_peer_address_is_reserved():
    lan = Network("lan", Driver.MACVLAN, subnet=IPv4Network("192.168.1.0/24"),
                  gateway=IPv4Address("192.168.1.1"), parent="eth0")
    cam = Container("cam", "h1", attachments=(Attachment("lan"),), listeners=(Listener(554),))
    p = plan(design(extra_networks=(lan,), extra_containers=(cam,)))
    spec = p.network_spec("lan")
    assert dict(spec.options)["parent"] == p.lan.host_if
    assert ("netsim-lan-peer", "192.168.1.254") in spec.aux_addresses


def test_vlan_and_ipvlan_skipped_when_the_kernel_lacks_them():
    vlan = Network("iot", Driver.MACVLAN, subnet=IPv4Network("10.231.30.0/24"), parent="eth0", vlan=30)
    ipv = Network("l3", Driver.IPVLAN, subnet=IPv4Network("10.231.40.0/24"), parent="eth0")
    a = Container("a", "h1", attachments=(Attachment("iot"),))
    b = Container("b", "h1", attachments=(Attachment("l3"),))
    c = Container("c", "h1", mode=NetworkMode(ModeKind.CONTAINER, "b"))
    d = design(extra_networks=(vlan, ipv), extra_containers=(a, b, c))
    p = plan(d, caps=KernelFeatures(vlan=False, ipvlan=False))
    assert {"iot", "l3", "a", "b", "c"} <= p.skipped
    assert any("ipvlan is not available" in n for n in p.notes)
    assert any("802.1q" in n for n in p.notes)
    assert "a" not in p.start_order
    with_vlan = plan(d, caps=KernelFeatures(vlan=True, ipvlan=False))
    assert dict(with_vlan.network_spec("iot").options)["parent"] == f"{with_vlan.lan.host_if}.30"
    assert with_vlan.lan.vlans == (30,)


def test_overlay_needs_a_swarm():
    mesh = Network("mesh", Driver.OVERLAY, attachable=True)
    p = plan(design(extra_networks=(mesh,)))
    assert p.swarm and any(s.kind == "swarm" for s in p.steps)
    assert not plan(design()).swarm


def two_hosts(lan_b="192.168.1.11/24") -> Design:
    mesh = Network("mesh", Driver.OVERLAY, attachable=True, hosts=("h1", "h2"))
    far = Container("far", "h2", attachments=(Attachment("mesh"),), listeners=(Listener(8080),))
    near = Container("near", "h1", attachments=(Attachment("mesh"),), listeners=(Listener(80),))
    hosts = (Host("h1"), Host("h2", lan_interface="ens3", lan_address=IPv4Interface(lan_b)))
    return design(hosts=hosts, extra_networks=(mesh,), extra_containers=(near, far))


def test_multi_host_plan_puts_each_host_on_its_own_engine():
    p = plan(two_hosts())
    assert p == plan(two_hosts())  # still pure
    assert p.host == "h1" and [h.host for h in p.extra_hosts] == ["h2"]
    h2 = p.extra_hosts[0]
    assert h2.namespace == "netsim-host-shop-h2" and h2.lan_if == "ens3"  # the design's interface name
    assert h2.socket == "/run/netsim/shop-h2.sock" and h2.lan_address == IPv4Interface("192.168.1.11/24")
    assert p.lan.bridge == "lan0" and p.swarm and p.swarm_advertise == "192.168.1.10"
    assert [(n.name, n.host) for n in p.networks if n.driver == "overlay"] == [("mesh", "h1")]  # on the manager
    assert p.container("far").host == "h2" and p.container("near").host == "h1"
    assert [s.kind for s in p.steps][:3] == ["lan", "daemon", "swarm"]
    assert p.gwbridge_subnet is not None  # the machine's docker_gwbridge gets a fresh daemon's subnet
    assert ("h2", "docker_gwbridge") in p.peer_routes


def test_multi_host_needs_one_lan_segment():
    with pytest.raises(DeployRefused, match="different LAN subnets"):
        plan(two_hosts(lan_b="10.9.0.2/24"))
    with pytest.raises(DeployRefused, match=re.escape("share the LAN address 192.168.1.10")):
        plan(two_hosts(lan_b="192.168.1.10/24"))


def test_multi_host_apply_and_destroy_through_fakes():
    from simulator.adapters.fake_engine import FakeDaemons

    fake, lan = FakeEngine(), FakeLan()
    daemons = FakeDaemons(manager=fake)
    p = plan(two_hosts())
    dep = apply(p, fake, lan, daemon_ops=daemons)
    worker = daemons.engines["h2"]
    assert dep.engines == {"h1": fake, "h2": worker}
    assert fake.find("container", "far") is None and worker.find("container", "far") is not None
    assert ("swarm_join", "192.168.1.11->192.168.1.10") in worker.calls
    assert fake.swarm.labels.get("netsim.swarm-initialised-by") == "shop"
    removed = destroy("shop", fake, lan, daemons)
    assert "host h2: container far" in removed and "dockerd of host h2" in removed
    assert ("stop", "h2") in daemons.calls and daemons.engines == {}
    assert not fake.swarm.active and labelled(fake) == []


def test_multi_host_refused_when_the_machine_is_in_a_foreign_swarm():
    from simulator.adapters.fake_engine import FakeDaemons

    fake, daemons = FakeEngine(), FakeDaemons()
    fake.swarm_init("10.0.0.5", {})  # not netsim's
    with pytest.raises(DeployRefused, match="already in a swarm \\(netsim did not create it\\)"):
        apply(plan(two_hosts()), fake, FakeLan(), daemon_ops=daemons)
    assert daemons.calls == [] and fake.swarm.active


def test_namespace_cycles_never_reach_the_plan():
    a = Container("a", "h1", mode=NetworkMode(ModeKind.CONTAINER, "b"))
    b = Container("b", "h1", mode=NetworkMode(ModeKind.CONTAINER, "a"))
    with pytest.raises(ModelError, match=r"cycle \(a -> b -> a\)"):
        design(extra_containers=(a, b))


def test_start_order_is_topological_and_deterministic():
    """Static addresses first, then design order; a joiner right after its owner, even when
    it is written before it (chains of two)."""
    j2 = Container("j2", "h1", mode=NetworkMode(ModeKind.CONTAINER, "j1"))
    j1 = Container("j1", "h1", mode=NetworkMode(ModeKind.CONTAINER, "late"))
    late = Container("late", "h1", attachments=(Attachment("front"),))
    p = plan(design(extra_containers=(j2, j1, late)))
    assert p.start_order == ("db", "web", "side", "legacy", "tool", "late", "j1", "j2")
    assert p.container("j2").network_mode == "container:j1"


# --- conflicts (pure) -----------------------------------------------------------------

def test_conflicts_name_both_sides():
    p = plan(design())
    fake = FakeEngine()
    fake.add_network(NetworkSpec("x", "theirs", "bridge", subnet="10.231.0.0/16"), labels={})
    problems = conflicts(p, fake.list_networks(), [(IPv4Network("192.168.0.0/16"), "wlan0")])
    text = "\n".join(problems)
    assert "network shop_front subnet 10.231.1.0/24 overlaps engine network theirs (10.231.0.0/16)" in text
    assert "192.168.1.0/24 overlaps route 192.168.0.0/16 dev wlan0" in text


def test_own_networks_do_not_conflict():
    p = plan(design())
    fake = FakeEngine()
    fake.add_network(NetworkSpec("front", "shop_front", "bridge", subnet="10.231.1.0/24"),
                     labels={LABEL_DESIGN: "shop", LABEL_MANAGED: "1"})
    assert conflicts(p, fake.list_networks(), []) == []


# --- apply / destroy through the fake ---------------------------------------------------

def labelled(fake: FakeEngine, name="shop"):
    return fake.list_by_label({LABEL_DESIGN: name})


def test_apply_creates_everything_and_destroy_removes_only_it():
    fake, lan = FakeEngine(), FakeLan()
    foreign_c = fake.add_container("someone-elses")
    foreign_n = fake.add_network(NetworkSpec("x", "their_net", "bridge", subnet="10.99.0.0/24"), labels={})
    dep = apply(plan(design()), fake, lan)
    assert dep.lan_ready and set(dep.container_ids) == {"web", "db", "side", "legacy", "tool"}
    assert lan.peer_routes[lan_names("shop")[0]] == [IPv4Network("172.17.0.0/16"), IPv4Network("10.231.1.0/24"),
                                                     IPv4Network("10.231.2.0/24")]
    assert len(labelled(fake)) == 7
    removed = destroy("shop", fake, lan)
    assert labelled(fake) == []
    assert foreign_c in fake.containers and foreign_n in fake.networks
    assert "namespace netsim-lan-shop" in removed and not lan.namespaces


def test_addresses_follow_the_start_order():
    fake, lan = FakeEngine(), FakeLan()
    apply(plan(design()), fake, lan)
    starts = [name for method, name in fake.calls if method == "start"]
    assert starts.index("db") < starts.index("shop-web-1") < starts.index("side")


@pytest.mark.parametrize("method,name", [("create_network", "shop_back"), ("create_container", "legacy"),
                                         ("start", "side")])
def test_failed_deploy_cleans_up(method, name):
    fake, lan = FakeEngine(), FakeLan()
    foreign = fake.add_container("bystander")
    fake.fail_on[(method, name)] = EngineError("boom")
    with pytest.raises(EngineError, match="boom"):
        apply(plan(design()), fake, lan)
    assert labelled(fake) == []
    assert not lan.namespaces
    assert foreign in fake.containers


def test_interrupted_deploy_cleans_up_and_reraises():
    fake, lan = FakeEngine(), FakeLan()
    fake.fail_on[("start", "*")] = KeyboardInterrupt()
    with pytest.raises(KeyboardInterrupt):
        apply(plan(design()), fake, lan)
    assert labelled(fake) == [] and not lan.namespaces


def test_redeploy_replaces_own_objects():
    fake, lan = FakeEngine(), FakeLan()
    apply(plan(design()), fake, lan)
    first = {o.id for o in labelled(fake)}
    dep = apply(plan(design()), fake, lan)
    assert any("replaced the previous deployment" in n for n in dep.notes)
    assert first.isdisjoint({o.id for o in labelled(fake)})
    assert len(labelled(fake)) == 7


def test_foreign_name_is_refused_untouched():
    fake, lan = FakeEngine(), FakeLan()
    cid = fake.add_container("shop-web-1")
    with pytest.raises(DeployRefused, match="shop-web-1 already exists \\(not created by netsim\\)"):
        apply(plan(design()), fake, lan)
    assert cid in fake.containers and labelled(fake) == []


def test_overlapping_subnet_is_refused():
    fake, lan = FakeEngine(), FakeLan(routes=[(IPv4Network("10.231.2.0/24"), "br-other")])
    with pytest.raises(DeployRefused, match=re.escape("overlaps route 10.231.2.0/24 dev br-other")):
        apply(plan(design()), fake, lan)
    assert labelled(fake) == [] and not lan.namespaces


def test_swarm_left_only_when_netsim_initialised_it():
    mesh = Network("mesh", Driver.OVERLAY, attachable=True, subnet=IPv4Network("10.231.9.0/24"))
    d = design(extra_networks=(mesh,))
    fake, lan = FakeEngine(), FakeLan()
    dep = apply(plan(d), fake, lan)
    assert dep.swarm_initialised and fake.swarm.active
    destroy("shop", fake, lan)
    assert not fake.swarm.active

    fake2 = FakeEngine()
    fake2.swarm_init("10.0.0.1", {})  # someone else's swarm
    apply(plan(d), fake2, FakeLan())
    destroy("shop", fake2, FakeLan())
    assert fake2.swarm.active and ("swarm_leave", "") not in fake2.calls


def test_no_lan_without_root_is_a_note_unless_macvlan_needs_it():
    fake = FakeEngine()
    dep = apply(plan(design()), fake, FakeLan(available=False))
    assert not dep.lan_ready and any("external vantage point is skipped" in n for n in dep.notes)
    destroy("shop", fake, FakeLan())
    lan = Network("lan", Driver.MACVLAN, subnet=IPv4Network("192.168.1.0/24"), parent="eth0")
    d = design(extra_networks=(lan,))
    with pytest.raises(DeployRefused, match="macvlan networks need the emulated LAN"):
        apply(plan(d), FakeEngine(), FakeLan(available=False))


def test_a_container_waits_for_a_swarm_network_its_daemon_does_not_know_yet():
    """29.7.2 once refused a container on an attachable overlay created a moment before ("network
    frontend not found"): the start is tried again for a while; any other error is raised at once."""
    from simulator.deploy.apply import start_when_known
    from simulator.errors import EngineError

    class Daemon:
        def __init__(self, failures: list[str]):
            self.failures, self.tries = failures, 0

        def start(self, cid: str) -> None:
            self.tries += 1
            if self.failures:
                raise EngineError(self.failures.pop(0))

    slow = Daemon(["could not find a network matching network mode frontend: network frontend not found"] * 2)
    start_when_known(slow, "c1")  # type: ignore[arg-type]
    assert slow.tries == 3
    broken = Daemon(["OCI runtime create failed"])
    with pytest.raises(EngineError, match="OCI runtime"):
        start_when_known(broken, "c1")  # type: ignore[arg-type]
    assert broken.tries == 1
    never = Daemon(["network frontend not found"] * 100)
    with pytest.raises(EngineError, match="not found"):
        start_when_known(never, "c1", settle_s=0.6)  # type: ignore[arg-type]
    assert 1 < never.tries < 5


def test_multi_host_says_when_docker_gwbridge_was_there_with_another_subnet():
    from simulator.adapters.fake_engine import FakeDaemons

    p = plan(two_hosts())
    for subnet, said in (("172.29.0.0/16", True), (p.gwbridge_subnet, False)):
        fake, lan = FakeEngine(), FakeLan()
        daemons = FakeDaemons(manager=fake)
        fake.add_network(NetworkSpec("docker_gwbridge", "docker_gwbridge", "bridge", subnet=subnet), labels={})
        dep = apply(p, fake, lan, daemon_ops=daemons)
        notes = [n for n in dep.notes if "docker_gwbridge was there already" in n]
        assert bool(notes) is said, dep.notes
        if said:
            assert "172.29.0.0/16" in notes[0] and str(p.gwbridge_subnet) in notes[0]
        destroy("shop", fake, lan, daemons)
        assert fake.find("network", "docker_gwbridge") is not None  # not netsim's: left as found
