"""Class-level reachability equals the per-probe walk, probe for probe (issue 12).

Random designs with replicas (several containers alike up to their addresses) on one to three
hosts: user bridges (internal, icc off), the default bridge, an overlay across hosts, macvlan and
ipvlan on the LAN, host and none modes, sidecars sharing a replica's namespace, shared aliases,
published ports (host port, ephemeral, 127.0.0.1, a publication the engine ignores).

For each design: the matrix's probes (walks shared between probes of one class) equal the slow
path (``Matrix(shared=False)``: every probe walked on its own), in order and in every field; the
class-level groups equal the same probes gathered by class, count for count; and every group's
example is one of those probes.
"""

from __future__ import annotations

import random
from collections import Counter
from pathlib import Path

import pytest
import yaml

from simulator.analysis.reachability import Matrix, ProbeGroup, _group, reach_of
from simulator.pipeline import load

PORTS = (80, 443, 5432, 8080)


def random_design(seed: int) -> str:
    """A native netsim design (YAML text) with services of one to four replicas."""
    rnd = random.Random(seed)
    n_hosts = rnd.choice([1, 1, 2, 3])
    hosts = [f"h{i}" for i in range(n_hosts)]
    design: dict = {"name": f"rnd{seed}", "engine_version": rnd.choice(["20.10", "28.2", "29.0"]), "hosts": {}}
    for i, h in enumerate(hosts):
        design["hosts"][h] = {"lan": {"interface": "eth0", "address": f"192.168.1.{10 + i}/24"}}
    nets: dict = {}
    local: dict[str, list[str]] = {h: [] for h in hosts}
    for i in range(rnd.randint(1, 3)):
        for h in hosts:
            name = f"b{i}{h}"
            spec: dict = {"host": h}
            if rnd.random() < 0.2:
                spec["internal"] = True
            if rnd.random() < 0.2:
                spec["icc"] = False
            nets[name] = spec
            local[h].append(name)
    shared: list[str] = []
    if n_hosts > 1 and rnd.random() < 0.7:
        nets["ov"] = {"driver": "overlay", "attachable": True, "hosts": hosts}
        shared.append("ov")
    if rnd.random() < 0.4:
        nets["mv"] = {"driver": "macvlan", "subnet": "192.168.1.0/24", "gateway": "192.168.1.1",
                      "ip_range": "192.168.1.128/26", "host": hosts[0]}
        local[hosts[0]].append("mv")
    if rnd.random() < 0.3:
        nets["iv"] = {"driver": "ipvlan", "mode": rnd.choice(["l2", "l3"]), "subnet": "10.99.0.0/24",
                      "host": hosts[0]}
        local[hosts[0]].append("iv")
    design["networks"] = nets
    ctrs: dict = {}
    used: set[tuple[str, int, str]] = set()
    for k in range(rnd.randint(2, 5)):
        svc = f"s{k}"
        host = rnd.choice(hosts)
        kind = rnd.choices(["nets", "bridge", "host", "none"], [8, 1, 1, 1])[0]
        listens = sorted(rnd.sample(PORTS, rnd.randint(1, 2)))
        udp = rnd.random() < 0.2
        base: dict = {"host": host, "listens": [*listens, *([f"{listens[0]}/udp"] if udp else [])]}
        choices = local[host] + shared
        if kind == "nets" and choices:
            chosen = rnd.sample(choices, min(len(choices), rnd.choice([1, 1, 2])))
            alias = rnd.choice([None, f"{svc}-a", "pool"])
            base["networks"] = {n: ({"aliases": [alias]} if alias and n not in ("mv", "iv") else None) for n in chosen}
        elif kind in ("host", "none", "bridge"):
            base["network_mode"] = kind
        publish = rnd.random() < 0.5 and kind != "host"
        local_only = rnd.random() < 0.3
        for r in range(1, rnd.randint(1, 4) + 1):
            c = dict(base)
            name = f"{svc}-{r}"
            if publish:
                hp = 20000 + 10 * k + r
                proto = "udp" if udp and rnd.random() < 0.5 else "tcp"
                port = f"{listens[0]}/udp" if proto == "udp" else f"{listens[0]}"
                if (host, hp, proto) not in used:
                    used.add((host, hp, proto))
                    c["ports"] = [f"{'127.0.0.1:' if local_only else ''}{hp}:{port}"]
                if rnd.random() < 0.2 or r == 1:
                    c.setdefault("ports", []).append(str(listens[-1]))  # ephemeral
            ctrs[name] = c
            if kind == "nets" and rnd.random() < 0.3:
                ctrs[f"{name}-side"] = {"host": host, "network_mode": f"container:{name}", "listens": [9000]}
    design["containers"] = ctrs
    return yaml.safe_dump(design, sort_keys=False)


def _world(text: str):
    return load(text).world()


def _key(g: ProbeGroup) -> tuple:
    return (g.source_class, g.via, g.target_class, g.network, g.name, g.host, g.port, g.protocol, g.disposition,
            g.responder_class, g.count, g.family)


def per_probe_walk(world) -> list:
    """Every probe walked on its own (both families of a dual-stack design: per source, IPv4 then IPv6)."""
    m = Matrix(world, shared=False)
    if world.v6 is None:
        return list(m.iter_probes())
    m6 = Matrix(world.v6, shared=False)
    over6, plan, plan6 = dict(m6.sources()), m.plan(), m6.plan()
    out = []
    for name, ns in m.sources():
        out += m.probes_of(name, ns, plan)
        if name in over6:
            out += m6.probes_of(name, over6[name], plan6)
    return out


def assert_classes_exact(world) -> int:
    result = reach_of(world)
    probes = list(result.iter_probes())
    reference = per_probe_walk(world)
    assert len(probes) == len(reference)
    for got, want in zip(probes, reference, strict=True):  # a shared walk may keep its hops: not part of the answer
        assert got._replace(trace=None) == want._replace(trace=None)
    groups = list(result.groups())
    gathered = _group(result, probes)
    assert Counter(map(_key, groups)) == Counter(map(_key, gathered))
    assert sum(g.count for g in groups) == len(probes)
    known = set(probes)
    for g in groups:
        assert g.example in known
        assert (g.example.disposition, g.example.reason) == (g.disposition, g.reason)
    members = [m for c in result.classes for m in c.members]
    assert sorted(members) == sorted(c.name for c in world.design.containers)
    return len(probes)


@pytest.mark.parametrize("seed", range(40))
def test_class_groups_equal_the_per_probe_walk(seed):
    text = random_design(seed)
    try:
        world = _world(text)
    except Exception as e:  # noqa: BLE001
        pytest.fail(f"seed {seed}: the generated design does not load: {e}\n{text}")
    assert assert_classes_exact(world) > 0


def test_random_designs_have_replica_classes():
    """The generator makes what the property needs: classes of several members, shared namespaces."""
    multi = shared = 0
    for seed in range(40):
        result = reach_of(_world(random_design(seed)))
        multi += sum(len(c.members) > 1 for c in result.classes)
        shared += any(c.mode.kind.value == "container" for c in result.design.containers)
    assert multi > 40
    assert shared > 5


BUNDLED = sorted(Path(__file__).resolve().parents[2].glob("designs/**/*.yaml"))


@pytest.mark.parametrize("design", BUNDLED, ids=lambda p: p.name)
def test_class_groups_equal_the_per_probe_walk_on_bundled_designs(design):
    assert assert_classes_exact(load(design).world()) > 0


def test_replicas_form_one_class_and_their_groups_count_them():
    """Three replicas and a sidecar on one of them: the two plain replicas are one class; the
    replica with a sidecar and the sidecar are classes of their own; counts follow."""
    text = """\
name: reps
hosts:
  docker1: {lan: {interface: eth0, address: 192.168.1.10/24}}
networks:
  back: {subnet: 172.31.0.0/24}
containers:
  web: {networks: [back], listens: [80]}
  api-1: {networks: [back], listens: [9000]}
  api-2: {networks: [back], listens: [9000]}
  api-3: {networks: [back], listens: [9000]}
  api-3-side: {network_mode: "container:api-3", listens: [9100]}
"""
    result = reach_of(load(text).world())
    assert [(c.id, c.members) for c in result.classes] == [
        ("web", ("web",)), ("api×2 (back)", ("api-1", "api-2")), ("api-3", ("api-3",)), ("api-3-side", ("api-3-side",))]
    assert result.class_of("api-2").id == "api×2 (back)"
    rows = {(g.source_class, g.target_class, g.port, g.reason): g.count for g in result.groups() if g.via == "ip"}
    assert rows[("api×2 (back)", "api×2 (back)", 9000, "delivered locally")] == 2  # each dials itself
    assert rows[("api×2 (back)", "api×2 (back)", 9000, "delivered: bridged on br-back")] == 2  # and the other
    assert rows[("api-3-side", "api-3", 9000, "delivered locally")] == 1  # the namespace it shares
    assert assert_classes_exact(result.world) > 0


@pytest.mark.parametrize("seed", [1, 2])
def test_class_groups_equal_the_per_probe_walk_on_a_scale_bench_design(seed):
    """The benchmark's irregular designs (replicas of varied sizes, odd singletons, overlays across
    hosts, internal and icc-off networks, subnets from the daemon's pool), small enough to walk every probe."""
    import sys

    sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))
    from scale_bench import generate

    world = load(yaml.safe_dump(generate(40, 6, 3, seed), sort_keys=False)).world()
    result = reach_of(world)
    assert any(c.size > 2 for c in result.classes)
    assert assert_classes_exact(world) > 0


@pytest.mark.parametrize("seed", range(16))
def test_probes_exact_past_the_cache_bounds(seed: int, monkeypatch: pytest.MonkeyPatch) -> None:
    """The matrix's caches start again past OUTCOME_CACHE (and the destination classes that key its
    walks are numbered again, its walks dropped with them): with a bound of a few entries, every probe
    still equals the per-probe walk."""
    from simulator.analysis import reachability

    monkeypatch.setattr(reachability, "OUTCOME_CACHE", 3)
    assert assert_classes_exact(_world(random_design(3000 + seed))) > 0
