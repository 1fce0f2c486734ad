"""Import and drift of macvlan / ipvlan networks (on an emulated parent: a dummy link the
test creates: a veth end) and of an attachable overlay on a single-node swarm, compared with what the
engine shows.  The swarm is initialised only when the engine is not in one, and left
afterwards (with the docker_gwbridge it brings), so the engine is returned as found.

Everything carries the label nstest=1 (the veth pair is nstveth0/nstveth1) and is removed in
a finally."""

from __future__ import annotations

import subprocess

import pytest
from docker.errors import APIError

from simulator.analysis.reachability import compute_reach
from simulator.live.drift import compute_drift
from simulator.live.importer import import_snapshot
from simulator.live.snapshot import Scope, read_snapshot
from simulator.live.writer import render_yaml
from simulator.loaders import load_text

LABELS = {"nstest": "1"}
PARENT = "nstveth0"  # one end of a veth pair the test creates (this kernel has no dummy links)


def ip(*argv: str, check: bool = True) -> subprocess.CompletedProcess:
    return subprocess.run(["ip", *argv], capture_output=True, text=True, check=check)


def start(api, name: str, network: str, command: list[str], address: str | None = None) -> str:
    net_cfg = api.create_networking_config({network: api.create_endpoint_config(ipv4_address=address)})
    c = api.create_container("netsim-probe:1", command, name=name, labels=LABELS, networking_config=net_cfg,
                             host_config=api.create_host_config(network_mode=network))
    api.start(c["Id"])
    return c["Id"]


def cleanup(api, networks: list[str]) -> None:
    for c in api.containers(all=True, filters={"label": "nstest=1"}):
        if c["Names"][0].lstrip("/").startswith("nstdrv-"):
            api.remove_container(c["Id"], force=True)
    for name in networks:
        for n in api.networks(names=[name], filters={"label": "nstest=1"}):
            api.remove_network(n["Id"])


def import_names(engine, names: tuple[str, ...]):
    scope = Scope("names", names=names)
    return import_snapshot(read_snapshot(engine, scope), scope, "nstdrv")


def check_against_engine(engine, names: tuple[str, ...], network: str) -> tuple:
    """Import, write, read back: addresses, subnet, MAC and listeners as inspect shows them;
    drift of the written design against the engine is empty; reach dials inspect's addresses."""
    api = engine.api
    imported = import_names(engine, names)
    text = render_yaml(imported.design, (), dict(imported.provenance))
    back, problems = load_text(text, "import.yaml")
    assert not [p for p in problems if p.severity == "error"], [str(p) for p in problems]
    net = api.inspect_network(network)
    cfg = net["IPAM"]["Config"][0]
    n = back.network(network)
    assert str(n.subnet) == cfg["Subnet"]
    want = {}
    for name in names:
        info = api.inspect_container(name)
        ep = info["NetworkSettings"]["Networks"][network]
        want[name] = (ep["IPAddress"], ep["MacAddress"])
        assert str(back.container(name).attachment(network).ipv4_address) == ep["IPAddress"]
    listed = {p.target: p.address for p in compute_reach(back, "20.10").probes if p.via == "ip" and p.network == network}
    assert {k: str(v) for k, v in listed.items()} == {k: v[0] for k, v in want.items()}
    drift = compute_drift(back, imported, "20.10")
    assert not drift.drifted, [str(i) for i in drift.items]
    return imported, want


@pytest.mark.parametrize("driver", ["macvlan", "ipvlan"])
def test_macvlan_and_ipvlan_on_an_emulated_parent(engine, root, driver):
    """Import and drift agree with the engine; on a kernel that cannot run ipvlan endpoints the test
    asserts instead that netsim's own kernel probe says so too (what deploy and verify rely on)."""
    from simulator.adapters import lanpeer

    api = engine.api
    engine.ensure_image("netsim-probe:1", build_default=True)
    network = f"nstdrv-{driver}"
    ip("link", "del", PARENT, check=False)
    cleanup(api, [network])
    try:
        ip("link", "add", PARENT, "type", "veth", "peer", "name", "nstveth1")
        ip("link", "set", PARENT, "up")
        try:
            api.create_network(network, driver=driver, options={"parent": PARENT}, labels=LABELS,
                               ipam={"Driver": "default", "Config": [{"Subnet": "10.231.7.0/24"}]})
        except APIError as exc:  # the kernel may lack the driver
            if driver == "ipvlan" and "ipvlan" in str(exc).lower():
                assert not lanpeer.kernel_capabilities().ipvlan, f"the engine refuses ipvlan ({exc}), netsim's probe does not"
                return
            raise
        try:
            start(api, "nstdrv-a", network, ["httpd", "-f", "-p", "80"])
        except APIError as exc:
            if driver == "ipvlan" and "not supported" in str(exc):
                assert not lanpeer.kernel_capabilities().ipvlan, f"the engine refuses ipvlan endpoints ({exc}), netsim's probe does not"
                return
            raise
        start(api, "nstdrv-b", network, ["nsagent", "serve", "b", "udp:5353"], "10.231.7.50")
        imported, want = check_against_engine(engine, ("nstdrv-a", "nstdrv-b"), network)
        n = imported.design.network(network)
        assert n.driver.value == driver and n.parent == PARENT
        assert imported.static == frozenset({("nstdrv-b", network)})
        assert imported.design.container("nstdrv-b").listeners[0].protocol.value == "udp"
        if driver == "macvlan":  # the LAN sees a macvlan endpoint's own MAC
            macs = imported.provenance["mac_addresses"]
            assert {k: v[network] for k, v in macs.items()} == {k: v[1] for k, v in want.items()}
        # a hand change: b's address moves; drift reports it with both addresses
        api.disconnect_container_from_network("nstdrv-b", network)
        api.connect_container_to_network("nstdrv-b", network, ipv4_address="10.231.7.60")
        back, _ = load_text(render_yaml(imported.design), "import.yaml")
        drift = compute_drift(back, import_names(engine, ("nstdrv-a", "nstdrv-b")), "20.10")
        changed = [(i.expected, i.actual) for i in drift.items if i.category == "address"]
        assert changed == [("10.231.7.50", "10.231.7.60")]
    finally:
        cleanup(api, [network])
        ip("link", "del", PARENT, check=False)
    assert ip("link", "show", PARENT, check=False).returncode != 0


def test_overlay_on_a_single_node_swarm(engine, root):
    api = engine.api
    engine.ensure_image("netsim-probe:1", build_default=True)
    network = "nstdrv-overlay"
    was_active = api.info()["Swarm"]["LocalNodeState"] == "active"
    had_gwbridge = bool(api.networks(names=["docker_gwbridge"]))
    cleanup(api, [network])
    try:
        if not was_active:
            api.init_swarm(advertise_addr="127.0.0.1", listen_addr="127.0.0.1:2377")
        api.create_network(network, driver="overlay", attachable=True, labels=LABELS,
                           ipam={"Driver": "default", "Config": [{"Subnet": "10.231.9.0/24"}]})
        start(api, "nstdrv-o1", network, ["httpd", "-f", "-p", "80"])
        start(api, "nstdrv-o2", network, ["nsagent", "serve", "o2", "udp:5353"])
        imported, _ = check_against_engine(engine, ("nstdrv-o1", "nstdrv-o2"), network)
        n = imported.design.network(network)
        assert n.driver.value == "overlay" and n.attachable
    finally:
        cleanup(api, [network])
        if not was_active:
            api.leave_swarm(force=True)
            if not had_gwbridge:
                for n in api.networks(names=["docker_gwbridge"]):
                    api.remove_network(n["Id"])
    assert (api.info()["Swarm"]["LocalNodeState"] == "active") == was_active
    assert bool(api.networks(names=["docker_gwbridge"])) == had_gwbridge
