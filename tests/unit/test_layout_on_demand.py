"""A world laid out on demand (what `netsim trace` reads) holds, namespace by namespace and segment
by segment, what the whole layout holds: the same interfaces, routes, listeners, members, proxies and
the same interfaces on each segment in the same order, whichever is read first."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest
import yaml

from simulator import pipeline
from simulator.engine.topology import Namespace, build_world

ROOT = Path(__file__).resolve().parents[2]
_spec = importlib.util.spec_from_file_location("scale_bench", ROOT / "benchmarks" / "scale_bench.py")
assert _spec is not None and _spec.loader is not None
scale_bench = importlib.util.module_from_spec(_spec)
sys.modules.setdefault("scale_bench", scale_bench)
_spec.loader.exec_module(scale_bench)


def _designs():
    for path in sorted((ROOT / "designs").rglob("*.yaml")):
        yield path.relative_to(ROOT).as_posix(), path.read_text(encoding="utf-8")
    for seed in (1, 2, 3):
        yield f"generated-{seed}", yaml.safe_dump(scale_bench.generate(160, 10, 3 + seed, seed), sort_keys=False)


DESIGNS = list(_designs())


def _namespace(ns: Namespace) -> tuple:
    return (ns.id, ns.kind, ns.host, [vars(i) for i in ns.interfaces.values()], [vars(r) for r in ns.routes],
            list(ns.listeners.items()), ns.members, list(ns.proxies.items()), ns.ip_forward, ns.has_embedded_dns,
            ns.gateway_network, ns._make_ruleset is not None)


def _segment(ifaces) -> list[tuple]:
    return [(i.ns, i.name) for i in ifaces]


def _worlds(text: str, name: str, version: str):
    design = pipeline.load(text, source=name).design
    whole = build_world(design, version)
    whole.lay_out()
    return design, whole


@pytest.mark.parametrize("version", ["20.10", "29.0"])
@pytest.mark.parametrize(("name", "text"), DESIGNS, ids=lambda v: v if len(v) < 60 else "")
def test_each_namespace_and_segment_read_alone_is_the_whole_layouts(name, text, version):
    design, whole = _worlds(text, name, version)
    assert whole.laid_out
    for ns_id, ns in whole.namespaces.items():
        alone = build_world(design, version)
        alone.lay_out_on_demand()
        assert not alone.laid_out
        assert _namespace(alone.namespaces[ns_id]) == _namespace(ns), ns_id
        assert ns_id in alone.namespaces and alone.namespaces.get(ns_id) is alone.namespaces[ns_id]
    for key, ifaces in whole.segments.items():
        alone = build_world(design, version)
        alone.lay_out_on_demand()
        found = alone.segments[key]
        assert _segment(found) == _segment(ifaces), key
        for iface in found:  # the very interfaces of the namespaces read on demand
            assert alone.namespaces[iface.ns].interfaces[iface.name] is iface
    alone = build_world(design, version)
    alone.lay_out_on_demand()
    assert alone.segments.get(("bridge", "no-such-network", "no-such-host")) is None
    assert alone.namespaces.get("ctr:no-such-container", "absent") == "absent"
    assert alone.ns_of == whole.ns_of and list(alone.ns_of) == list(whole.ns_of)


@pytest.mark.parametrize(("name", "text"), DESIGNS, ids=lambda v: v if len(v) < 60 else "")
def test_read_in_part_then_whole_is_the_whole_layout_in_order(name, text):
    design, whole = _worlds(text, name, "20.10")
    part = build_world(design, "20.10")
    part.lay_out_on_demand()
    read = {}
    for c in design.containers[::3]:  # a few namespaces and their segments first, as a trace reads them
        ns_id = part.ns_of.get(c.name)
        if ns_id is not None:
            read[ns_id] = part.namespaces[ns_id]
            for iface in read[ns_id].interfaces.values():
                if iface.segment is not None:
                    part.segments.get(iface.segment)
    part.lay_out()
    assert part.laid_out
    assert list(part.namespaces) == list(whole.namespaces)
    assert [_namespace(ns) for ns in part.namespaces.values()] == [_namespace(ns) for ns in whole.namespaces.values()]
    assert list(part.segments) == list(whole.segments)
    assert [_segment(v) for v in part.segments.values()] == [_segment(v) for v in whole.segments.values()]
    for ns_id, ns in read.items():  # what was read before is kept, not made again
        assert part.namespaces[ns_id] is ns
    for key, ifaces in part.segments.items():
        for iface in ifaces:
            assert part.namespaces[iface.ns].interfaces[iface.name] is iface, key


def test_a_whole_read_lays_out_every_namespace():
    text = (ROOT / "designs" / "multi-homed.yaml").read_text(encoding="utf-8")
    design, whole = _worlds(text, "multi-homed.yaml", "20.10")
    for read in (len, list, lambda d: list(d.values()), lambda d: list(d.items()), dict, lambda d: sorted(d)):
        world = build_world(design, "20.10")
        world.lay_out_on_demand()
        read(world.namespaces)
        assert list(world.namespaces) == list(whole.namespaces)
        assert world.namespaces == {k: world.namespaces[k] for k in whole.namespaces}


def test_the_trace_command_lays_out_only_what_the_trace_reads():
    loaded = pipeline.load(yaml.safe_dump(scale_bench.generate(300, 12, 4, 5), sort_keys=False), source="generated")
    world = loaded.world(on_demand=True)
    from simulator.analysis.paths import traces_in

    design = loaded.design
    source, target = design.containers[0].name, design.containers[1].name
    traced = traces_in(world, source, target, None, None)
    assert traced
    made = dict.__len__(world.namespaces)  # what was made so far, without laying out the rest
    assert 0 < made < len(design.containers) // 2
    assert not world.laid_out
    whole = pipeline.load(yaml.safe_dump(scale_bench.generate(300, 12, 4, 5), sort_keys=False), source="generated")
    assert [(label, str(t)) for label, t in traces_in(whole.world(), source, target, None, None)] == \
        [(label, str(t)) for label, t in traced]


def _names_as_listed(world) -> dict:
    """Every network's names as the embedded DNS lists them: containers in design order, each of its
    networks with an address, its DNS names and hostname, then each swarm service's virtual IP
    (the table built whole)."""
    from simulator.model import Driver, ModeKind

    design, out = world.design, {}
    for c in design.containers:
        if c.mode.kind is not ModeKind.NETWORKS:
            continue
        for att in c.attachments:
            net = design.network(att.network) if design.has_network(att.network) else None
            ep = world.addressing.endpoint(c.name, att.network)
            if net is None or net.default_bridge or net.ingress or net.driver in (Driver.HOST, Driver.NONE) or ep is None:
                continue  # (the swarm's ingress network carries no names: libnetwork network.go addSvcRecords)
            names = list(c.dns_names(att)) + ([c.hostname] if c.hostname and c.hostname not in c.dns_names(att) else [])
            table = out.setdefault(att.network, {})
            for name in names:
                table.setdefault(name.lower(), []).append((ep.address, c.name))
    for (service, network), vip in world.addressing.vips.items():  # a vip-mode swarm service: its virtual IP
        if design.network(network).ingress:
            continue
        tasks = design.tasks(service)  # its name and its aliases (its tasks' aliases) lead there
        joined = tasks[0].attachment(network) if tasks else None
        for name in (service, *(joined.aliases if joined is not None else ())):
            out.setdefault(network, {})[name.lower()] = [(vip, f"vip:{service}")]
    return out


@pytest.mark.parametrize(("name", "text"), DESIGNS, ids=lambda v: v if len(v) < 60 else "")
def test_names_of_a_network_read_alone_are_the_whole_tables(name, text):
    from simulator.engine.dns import NameTable

    design, whole = _worlds(text, name, "20.10")
    listed = _names_as_listed(whole)
    for network in [n.name for n in design.networks] + ["no-such-network"]:
        alone = NameTable(whole)
        assert alone.by_network.get(network) == listed.get(network), network
        assert (network in alone.by_network) == (network in listed)
    table = NameTable(whole)
    table.by_network.get(design.networks[-1].name)  # one read first, then the whole
    assert list(table.by_network.items()) == list(listed.items())


SHARED = """
name: shared
hosts: {h1: {lan: {interface: eth0, address: 192.168.1.10/24}}}
networks: {app: {driver: bridge, subnet: 172.30.0.0/24}}
containers:
  sidecar: {host: h1, network_mode: "container:web", listens: [80, 9000]}
  web: {host: h1, networks: [app], listens: [80, 8080]}
  agent: {host: h1, network_mode: host, listens: [80]}
  tail: {host: h1, network_mode: "container:agent", listens: [81]}
"""


@pytest.mark.parametrize("on_demand", [False, True])
def test_shared_and_host_namespaces_hold_their_residents_in_design_order(on_demand):
    world = pipeline.load(SHARED, source="shared.yaml").world(on_demand=on_demand)
    web = world.namespace_of("web")
    assert world.ns_of["sidecar"] == web.id == "ctr:web" and web.members == ["web", "sidecar"]
    assert web.listeners == {(80, "tcp"): "sidecar", (9000, "tcp"): "sidecar", (8080, "tcp"): "web"}
    host = world.host_ns("h1")
    assert world.ns_of["agent"] == world.ns_of["tail"] == host.id and host.members == ["tail"]
    assert host.listeners == {(80, "tcp"): "agent", (81, "tcp"): "tail"}
    assert list(world.ns_of) == ["web", "agent", "sidecar", "tail"]
