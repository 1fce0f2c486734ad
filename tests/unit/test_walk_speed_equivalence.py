"""The walk's fast lookups (issue 12) answer exactly what the plain scans they replaced answer.

simulator/engine/walk.py keeps a per-world index (who holds an address on a segment, each namespace's
routes by prefix, owned addresses as integers) and simulator/engine/netfilter.py compiled rules with
candidate lists per packet. Each is compared here, on every bundled and verified design and several
engine versions, with the straightforward computation written out in the test: the route scan the walk
used to do, a chain walk with :meth:`Rule.matches` over every rule, a scan of every interface.
"""

from __future__ import annotations

import dataclasses
import random
from ipaddress import IPv4Address
from pathlib import Path

import pytest

from simulator.engine import walk as walk_mod
from simulator.engine.netfilter import TERMINAL, Packet, Table, Verdict
from simulator.engine.topology import World
from simulator.pipeline import load

ROOT = Path(__file__).resolve().parents[2]
DESIGNS = (sorted((ROOT / "designs").glob("*.yaml")) + [ROOT / "designs/compose-shop/compose.yaml"]
           + sorted((ROOT / "tests/data/verified/designs").glob("*.yaml")))
VERSIONS = ("20.10", "28.2", "29.0")


def _world(path: Path, version: str) -> World:
    return load(path.read_text(encoding="utf-8"), source=str(path)).world(version)


def _addresses(world: World) -> list[IPv4Address]:
    """Every address of the world, each route's network and broadcast, loopback and a few outside."""
    found = {i.address.ip for ns in world.namespaces.values() for i in ns.interfaces.values() if i.address}
    for ns in world.namespaces.values():
        for r in ns.routes:
            found |= {r.dest.network_address, r.dest.broadcast_address}
            if r.via is not None:
                found.add(r.via)
    found |= {IPv4Address(a) for a in ("127.0.0.1", "127.0.0.11", "0.0.0.0", "8.8.8.8", "255.255.255.255")}
    return sorted(found)


def _scan_route(ns, dst: IPv4Address, prefer_host: str | None):
    """The route lookup as the walk wrote it before the index: a scan of every route."""
    best = None
    for r in ns.routes:
        if dst in r.dest:
            better = best is None or r.dest.prefixlen > best.dest.prefixlen
            tie = best is not None and r.dest.prefixlen == best.dest.prefixlen and r.host_hint == prefer_host
            if better or tie:
                best = r
    return best


def _plain_evaluate(table: Table, chain: str, p: Packet) -> Verdict:
    """A chain walk over every rule with Rule.matches: no index, no compiled conditions."""
    def walk(name: str, path: tuple[str, ...]) -> Verdict | None:
        for rule in table.chains.get(name, ()):
            if not rule.matches(p):
                continue
            if rule.target == "RETURN":
                return None
            if rule.target in TERMINAL:
                return Verdict(rule.target, rule, path)
            sub = walk(rule.target, path + (rule.target,))
            if sub is not None:
                return sub
        return None

    found = walk(chain, (chain,))
    if found is not None:
        return found
    policy = table.policies.get(chain, "ACCEPT")
    return Verdict(policy, None, (chain,), policy=policy)


@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize("path", DESIGNS, ids=lambda p: p.name)
def test_index_lookups_equal_the_scans(path: Path, version: str):
    world = _world(path, version)
    index = walk_mod._index(world)
    assert walk_mod._index(world) is index  # built once per world
    addresses = _addresses(world)
    hosts = [None, *sorted({ns.host for ns in world.namespaces.values() if ns.host})]
    checked = 0
    for ns in world.namespaces.values():
        for dst in addresses:
            assert index.owns(ns, dst) == ns.owns(dst), (ns.id, dst)
            for prefer in hosts:
                assert index.route_table(ns).lookup(int(dst), prefer) is _scan_route(ns, dst, prefer), (ns.id, dst, prefer)
                checked += 1
        assert index.place(ns) == walk_mod.Place.of(ns)
    for segment, members in world.segments.items():
        held = index.on_segment(segment)
        for dst in addresses:
            scan = [(i, i.address.ip) for i in members if i.address is not None and i.address.ip == dst]
            assert held.get(int(dst), []) == scan, (segment, dst)
    assert checked > 0


def _packets(world: World, table: Table, rng: random.Random, count: int) -> list[Packet]:
    """Packets built from what the rules and the world name: their interfaces, addresses and ports."""
    names: set[str | None] = {None, "lo", "eth9"}
    ports = {1, 53, 80, 8080}
    for rules in table.chains.values():
        for r in rules:
            names |= {c[1] for c in (r.in_iface, r.out_iface) if c is not None}
            if r.dport is not None:
                ports.add(r.dport)
            if r.to_destination is not None:
                ports.add(r.to_destination[1])
    addresses = _addresses(world)
    names_list, ports_list = sorted(names, key=str), sorted(ports)
    return [Packet(rng.choice(addresses), rng.choice(addresses), rng.choice(("tcp", "udp")), rng.choice(ports_list),
                   rng.choice(names_list), rng.choice(names_list), rng.choice(("NEW", "ESTABLISHED")),
                   rng.random() < 0.5, rng.random() < 0.3)
            for _ in range(count)]


@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize("path", DESIGNS, ids=lambda p: p.name)
def test_compiled_chains_decide_as_every_rule_read_in_order(path: Path, version: str):
    world = _world(path, version)
    rng = random.Random(f"{path.name}-{version}")
    compared = 0
    for ns in world.namespaces.values():
        rs = ns.ruleset
        if rs is None:
            continue
        for table, chains in ((rs.raw, ("PREROUTING",)), (rs.nat, ("PREROUTING", "OUTPUT", "POSTROUTING")),
                              (rs.filter, ("INPUT", "FORWARD"))):
            for p in _packets(world, table, rng, 300):
                for chain in chains:
                    assert table.evaluate(chain, p) == _plain_evaluate(table, chain, p), (ns.id, table.name, chain, p)
                    compared += 1
    assert compared > 0


def test_packet_copies_equal_dataclasses_replace():
    p = Packet(IPv4Address("10.0.0.1"), IPv4Address("10.0.0.2"), "tcp", 80, "eth0", None, "NEW", False, True)
    assert p.via("br-x", "eth1") == dataclasses.replace(p, in_iface="br-x", out_iface="eth1")
    assert p.local(True) == dataclasses.replace(p, dst_local=True)
    changes = {"dst": IPv4Address("10.0.0.9"), "dport": 8080, "dst_local": True, "ctstate": "ESTABLISHED"}
    assert p.with_(**changes) == dataclasses.replace(p, **changes)
    with pytest.raises(AssertionError):
        p.with_(dest=IPv4Address("10.0.0.9"))


def _proxy_probes(world: World, rng: random.Random, most: int = 300) -> list[tuple[str, IPv4Address, int, str]]:
    """Walks that reach a docker-proxy: every namespace dialling each host address a proxy listens on
    (a container its gateway among them), a sample of at most ``most``."""
    dialled = []
    for host in (ns for ns in world.namespaces.values() if ns.kind == "host"):
        addresses = [i.address.ip for i in host.interfaces.values() if i.address is not None]
        for (bound, port, proto) in host.proxies:
            for addr in addresses if bound.is_unspecified else [bound]:
                dialled.append((addr, port, proto))
    probes = [(ns.id, addr, port, proto) for ns in world.namespaces.values() for addr, port, proto in dialled]
    return rng.sample(probes, min(most, len(probes)))


@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize("path", DESIGNS, ids=lambda p: p.name)
def test_proxy_connections_replayed_as_walked(path: Path, version: str):
    """docker-proxy's own connection is walked once per world and replayed after (walk._onward): each
    walk through a proxy, whose connection was walked before by another, equals the walk made with
    nothing kept, hop for hop."""
    world = _world(path, version)
    index = walk_mod._index(world)
    probes = _proxy_probes(world, random.Random(f"{path.name}-{version}"))
    index.onward.clear()
    replayed = [walk_mod.walk(world, *p) for p in probes]  # the later ones through a proxy replay
    through_proxy = sum(1 for t in replayed for h in t.hops for s in h.steps if type(s).__name__ == "ProxyStep")
    kept = len(index.onward)
    walked = []
    for p in probes:
        index.onward.clear()
        walked.append(walk_mod.walk(world, *p))
    assert replayed == walked
    assert kept <= through_proxy


def test_proxy_connections_are_replayed():
    """The bundled frontend-backend design walks through its proxies more often than it has proxied
    connections: the test above compares replays, not only first walks."""
    world = _world(ROOT / "designs/frontend-backend.yaml", "20.10")
    index = walk_mod._index(world)
    index.onward.clear()
    traces = [walk_mod.walk(world, *p) for p in _proxy_probes(world, random.Random(1))]
    through_proxy = sum(1 for t in traces for h in t.hops for s in h.steps if type(s).__name__ == "ProxyStep")
    assert 0 < len(index.onward) < through_proxy
