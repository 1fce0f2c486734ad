"""Coarse groups computed per destination segment equal the fine groups merged (issue 12).

``ReachResult.coarse_groups()`` walks once per source view and destination bucket (a segment,
the same subnet elsewhere, everything a host sends out of its LAN) instead of once per class
pair. Its groups must be exactly the fine groups (themselves held to the per-probe walk by
test_classes_property.py) merged by source class, way, port, protocol, host and outcome:
same counts, same target classes with the same counts, same network and name where one.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
import yaml

from simulator.analysis.reachability import ProbeGroup, coarsened, reach_of, reason_shape
from simulator.pipeline import load

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "benchmarks"))
sys.path.insert(0, str(Path(__file__).resolve().parent))
from scale_bench import generate  # noqa: E402
from test_classes_property import random_design  # noqa: E402

DESIGNS = sorted(ROOT.glob("designs/**/*.yaml"))


def _key(g: ProbeGroup) -> tuple:
    return (g.source_class, g.via, g.port, g.protocol, g.host, g.disposition, g.responder_class, reason_shape(g.reason),
            g.family)


def _view(g: ProbeGroup) -> tuple:
    return (g.count, g.target_class, g.network, g.name, sorted(g.target_counts))


def assert_coarse_exact(world) -> int:
    result = reach_of(world)
    expected = {_key(g): _view(g) for g in coarsened(result.groups())}
    got: dict[tuple, tuple] = {}
    known = set(result.iter_probes())
    for g in result.coarse_groups():
        assert _key(g) not in got, f"two coarse groups for {_key(g)}"
        got[_key(g)] = _view(g)
        e = g.example  # one of the group's probes
        assert e in known, e
        assert (e.via, e.port, e.protocol, e.disposition, reason_shape(e.reason)) == (
            g.via, g.port, g.protocol, g.disposition, reason_shape(g.reason))
        assert (result.class_of(e.source).id if result.design.has_container(e.source) else e.source) == g.source_class
    assert got == expected
    return len(got)


# random designs: a wider sweep than the per-probe property (test_classes_property.py) as a coarse
# check is cheap; 55, 209: macvlan and ipvlan on one parent, 683: a pool subnet reused on three hosts
COARSE_SEEDS = [*range(120), 209, 683]


@pytest.mark.parametrize("seed", COARSE_SEEDS)
def test_coarse_groups_equal_the_fine_groups_merged(seed):
    assert assert_coarse_exact(load(random_design(seed)).world()) > 0


def test_a_lan_carrying_the_subnets_of_several_networks():
    """A macvlan and an ipvlan network on one parent put two subnets on one LAN segment: a macvlan
    member routes its own subnet on its link, the ipvlan subnet through its gateway (nobody here),
    so the segment is not one bucket for it; the macvlan members reach each other over the LAN."""
    text = """\
name: lan-subnets
hosts:
  h0: {lan: {interface: eth0, address: 192.168.1.10/24, address6: "2001:db8:1::10/64"}}
networks:
  mv: {driver: macvlan, subnet: 192.168.1.0/24, gateway: 192.168.1.1, ip_range: 192.168.1.128/26,
       enable_ipv6: true, subnet6: "2001:db8:1::/64", ip_range6: "2001:db8:1::100/120"}
  iv: {driver: ipvlan, mode: l2, subnet: 10.99.0.0/24, enable_ipv6: true, subnet6: "fd00:99::/64"}
containers:
  mac-1: {networks: [mv], listens: [80]}
  mac-2: {networks: [mv], listens: [80]}
  ipv-1: {networks: [iv], listens: [80]}
"""
    world = load(text).world()
    assert world.v6 is not None
    assert assert_coarse_exact(world) > 0
    cls = reach_of(world).class_of("mac-1").id
    delivered = {g.family for g in reach_of(world).coarse_groups() if g.source_class == cls and g.via == "ip"
                 and g.responder_class == cls and g.reason == "delivered: lan link"}
    assert delivered == {4, 6}


def test_containers_dial_their_host_s_ipv6_lan_address_each_by_its_own_route():
    """Over IPv6 a container dials its host's LAN address, not its gateway: ``both`` reaches it over
    its macvlan link (the host cannot answer its own macvlan children), ``web`` through the bridge's
    gateway as ``both`` does over IPv4, so their probes via host are not the same over IPv6."""
    text = """\
name: host-lan6
hosts:
  h0: {lan: {interface: eth0, address: 192.168.1.10/24, address6: "2001:db8:1::10/64"}}
networks:
  br: {enable_ipv6: true, subnet6: "fd00:1::/64"}
  mv: {driver: macvlan, subnet: 192.168.1.0/24, gateway: 192.168.1.1, ip_range: 192.168.1.128/26,
       enable_ipv6: true, subnet6: "2001:db8:1::/64", ip_range6: "2001:db8:1::100/120"}
containers:
  both: {networks: [br, mv], ports: ["8443:443"], listens: [443]}
  web: {networks: [br], listens: [80]}
"""
    world = load(text).world()
    assert assert_coarse_exact(world) > 0
    got = {(g.source_class, g.family): g.disposition.name for g in reach_of(world).coarse_groups(ways=("host",))
           if g.port == 8443 and g.source_class in ("both", "web")}
    assert got == {("both", 4): "DELIVERED", ("both", 6): "DROPPED_L2", ("web", 4): "DELIVERED", ("web", 6): "DELIVERED"}


def test_a_bundle_s_network_leaves_out_the_sources_own_address():
    """web and api on an icc-off bridge whose subnet two other hosts' bridges reuse: web dials db2's
    address (its own) and db0's (api's: dropped by the ICC rule). The group of drops is db0's alone,
    on far0, though the walk that answers for both addresses counts db2's too before taking it out."""
    text = """\
name: pool-reused
hosts:
  h0: {lan: {interface: eth0, address: 192.168.1.10/24}}
  h1: {lan: {interface: eth0, address: 192.168.1.11/24}}
  h2: {lan: {interface: eth0, address: 192.168.1.12/24}}
networks:
  near: {host: h1, subnet: 172.30.0.0/24, icc: false}
  far0: {host: h0, subnet: 172.30.0.0/24}
  far2: {host: h2, subnet: 172.30.0.0/24}
containers:
  web: {host: h1, networks: {near: {ipv4_address: 172.30.0.2}}, listens: [80]}
  api: {host: h1, networks: {near: {ipv4_address: 172.30.0.3}}, listens: [8080]}
  db2: {host: h2, networks: {far2: {ipv4_address: 172.30.0.2}}, listens: [5432]}
  db0: {host: h0, networks: {far0: {ipv4_address: 172.30.0.3}}, listens: [5432]}
"""
    world = load(text).world()
    assert assert_coarse_exact(world) > 0
    [drop] = [g for g in reach_of(world).coarse_groups() if g.source_class == "web" and g.port == 5432
              and g.disposition.name == "DROPPED_FILTER"]
    assert (drop.count, drop.target_class, drop.network) == (1, "db0", "far0")


def test_names_no_view_resolves_are_shared_by_views_of_one_kind():
    """Over IPv4 a name that no network a source searches carries fails alike from every source of
    one kind of namespace (NXDOMAIN from the embedded DNS, or no resolver on the default bridge):
    the names' row at a port where a view resolves none is made once per kind and shared by the
    views; a view resolving some name at the port gets a row of its own. The groups stay the fine
    groups merged."""
    text = """\
name: alike-failures
hosts:
  h0: {}
networks:
  a: {driver: bridge}
  b: {driver: bridge}
  c: {driver: bridge}
containers:
  web-a: {networks: [a], listens: [80]}
  web-b: {networks: [b], listens: [80]}
  both: {networks: [a, b], listens: [8080]}
  lonely: {networks: [c], listens: [9000]}
  old: {network_mode: bridge, listens: [9000]}
"""
    world = load(text).world()
    assert assert_coarse_exact(world) > 0
    result = reach_of(world)
    got = list(result.coarse_groups())
    names = result._coarse()._dns
    assert names.same_failures
    assert {("container", True), ("container", False)} <= set(names._alike_failures)
    shared = names._alike_failures[("container", True)][(9000, "tcp")]
    at_9000 = {view[2]: next(u for u in rows if u[0] == (9000, "tcp"))
               for view, (_, rows) in names._views.items() if view[:2] == ("container", True)}
    # web-a, web-b and both search a, b or both, where nothing is named at 9000: one row for them all
    assert {nets for nets, u in at_9000.items() if u is shared} == {("a",), ("b",), ("a", "b")}
    assert shared[1:3] == (2, None)  # the two names at 9000 (lonely, old), neither resolved
    assert at_9000[("c",)][1:3] == (1, "old")  # lonely resolves its own name there: one name is left
    dns = {(g.source_class, g.port, g.name, g.disposition.name): g.count for g in got if g.via == "dns"}
    assert dns[(result.class_of("web-a").id, 9000, None, "NAME_NOT_RESOLVED")] == 2
    assert dns[(result.class_of("lonely").id, 9000, "old", "NAME_NOT_RESOLVED")] == 1
    assert dns[(result.class_of("lonely").id, 9000, "lonely", "DELIVERED")] == 1


@pytest.mark.parametrize("design", DESIGNS, ids=lambda p: p.name)
def test_coarse_groups_equal_the_fine_groups_merged_on_bundled_designs(design):
    assert assert_coarse_exact(load(design).world()) > 0


@pytest.mark.parametrize("seed", [3, 4])
def test_coarse_groups_on_scale_bench_designs(seed):
    """Irregular designs: pool subnets reused on several hosts, overlays, odd singletons."""
    assert assert_coarse_exact(load(yaml.safe_dump(generate(200, 12, 4, seed=seed))).world()) > 0


def test_a_bundle_stands_for_many_target_classes_and_counts_them():
    result = reach_of(load(random_design(9)).world())
    wide = [g for g in result.coarse_groups() if g.targets]
    assert wide, "a design of several hosts has destinations out of reach bundled together"
    for g in wide:
        assert g.target_class is None
        assert sum(n for _, n in g.target_counts) == g.count


def test_shared_target_counts_equal_their_laid_out_list():
    from simulator.analysis.counts import TargetCounts

    base = {f"c{i}": 1 + i % 3 for i in range(100)}

    def made() -> TargetCounts:
        t = TargetCounts()
        t.add_base(base, [{"c1": 2, "c2": 3}, {"c5": 1}], times=3)
        t.add("extra", 4)
        t.subtract("c0", 3)
        return t

    lazy, t = made(), made()
    expected = {c: 3 * k for c, k in base.items()}
    expected["c1"] -= 6
    expected["c2"] -= 9
    expected["c5"] -= 3
    expected["c0"] -= 3
    expected["extra"] = 4
    laid_out = [(c, k) for c, k in expected.items() if k > 0]
    assert list(t) == laid_out
    assert lazy.preview(3) == ([c for c, _ in laid_out[:3]], len(laid_out))  # before it is laid out
    assert t.preview(3) == lazy.preview(3)
    assert lazy.several() and t.several()


def test_a_remainder_alone_is_laid_out_once_and_read_as_its_counts_times_over():
    import pickle

    from simulator.analysis.counts import Remainder, TargetCounts

    base = {f"c{i}": 1 + i % 3 for i in range(50)}
    rest = Remainder(base, [{"c1": 2, "c2": 3}, {"c5": 1, "c1": 0}])
    expected = [(c, 2 * (k - {"c1": 2, "c2": 3, "c5": 1}.get(c, 0))) for c, k in base.items()]
    expected = [(c, k) for c, k in expected if k > 0]
    groups = []
    for _ in range(3):
        t = TargetCounts()
        t.add_rest(rest, 2)
        groups.append(t)
    assert groups[0].preview(4) == ([c for c, _ in expected[:4]], len(expected))
    assert all(list(t) == expected for t in groups)
    assert rest.left() is rest.left(), "laid out once"
    copy = pickle.loads(pickle.dumps(groups[1]))
    assert list(copy) == expected
    one = TargetCounts()
    one.add_base({"only": 3, "gone": 1}, [{"gone": 1}])
    assert not one.several() and list(one) == [("only", 3)]


@settings(max_examples=300, deadline=None)
@given(st.data())
def test_a_preview_is_the_head_and_length_of_the_laid_out_list_and_sole_its_one_class(data):
    from simulator.analysis.counts import Remainder, TargetCounts

    names = [f"c{i}" for i in range(8)]
    counts = st.dictionaries(st.sampled_from(names), st.integers(0, 4), max_size=6)
    base = {c: n for c, n in data.draw(counts).items() if n}
    parts = data.draw(st.lists(st.dictionaries(st.sampled_from(sorted(base) or names), st.integers(0, 4), max_size=4), max_size=3))
    made, laid_out, fresh = TargetCounts(), TargetCounts(), TargetCounts()
    times = data.draw(st.integers(1, 3))
    with_rest = bool(base) and data.draw(st.booleans(), label="with a remainder")
    plus, minus = data.draw(counts), data.draw(counts)
    for t in (made, laid_out, fresh):
        if with_rest:
            t.add_rest(Remainder(base, parts), times)
        for c, n in plus.items():
            t.add(c, n)
        for c, n in minus.items():
            t.subtract(c, n)
    items = list(laid_out)
    for most in range(5):
        assert made.preview(most) == ([c for c, _ in items[:most]], len(items))
    # read before anything is laid out, as a coarse group is made: whether several are left, else the one
    assert fresh.sole() == (len(items) > 1, items[0][0] if len(items) == 1 else None)
    assert fresh.sole() == (laid_out.several(), None if laid_out.several() else next(iter(items), (None, 0))[0])


def test_target_counts_are_empty_exactly_when_nothing_is_left():
    from simulator.analysis.counts import Remainder, TargetCounts

    def of(rest: Remainder | None, plus: dict | None = None, minus: dict | None = None) -> TargetCounts:
        t = TargetCounts()
        if rest is not None:
            t.add_rest(rest, 2)
        for c, n in (plus or {}).items():
            t.add(c, n)
        for c, n in (minus or {}).items():
            t.subtract(c, n)
        return t

    base = {"a": 1, "b": 2}
    cases = [of(None), of(Remainder(base, [])), of(Remainder(base, [{"a": 1, "b": 2}])),
             of(Remainder(base, [{"a": 1}, {"b": 2}])), of(Remainder(base, [{"a": 1, "b": 1}])),
             of(None, {"x": 1}), of(None, {"x": 1}, {"x": 1}), of(Remainder(base, [{"a": 1, "b": 2}]), {"x": 1}),
             of(Remainder(base, []), None, {"a": 2, "b": 4})]
    assert [bool(t) for t in cases] == [len(list(t)) > 0 for t in cases]
    assert [bool(t) for t in cases] == [False, True, False, False, True, True, False, True, False]


@pytest.mark.parametrize("seed", [2, 9])
def test_coarse_groups_of_some_ways_are_those_groups_of_all_ways(seed):
    result = reach_of(load(random_design(seed)).world())
    every = [_key(g) + _view(g) for g in result.coarse_groups() if g.via != "dns"]
    assert sorted(every, key=repr) == sorted(
        (_key(g) + _view(g) for g in result.coarse_groups(ways=("ip", "host"))), key=repr)
    assert all(g.via == "dns" for g in result.coarse_groups(ways=("dns",)))


@pytest.mark.parametrize("seed", [1, 5, 9, 13])
def test_answered_only_groups_are_the_answered_groups(seed):
    result = reach_of(load(random_design(seed)).world())
    answered = sorted((_key(g) + _view(g) for g in result.coarse_groups() if g.reachable), key=repr)
    assert sorted((_key(g) + _view(g) for g in result.coarse_groups(answered_only=True)), key=repr) == answered


@pytest.mark.parametrize("seed", [1, 5, 9, 13])
def test_beyond_own_links_leaves_out_only_answers_from_the_sources_own_networks(seed):
    """What beyond_own_links leaves out is answered, if at all, by a container on a network of the source."""
    result = reach_of(load(random_design(seed)).world())
    world = result.world
    every = {_key(g): g for g in result.coarse_groups(ways=("ip",))}
    kept = {_key(g): g for g in result.coarse_groups(ways=("ip",), beyond_own_links=True)}
    for key, g in every.items():
        left = g.count - (kept[key].count if key in kept else 0)
        assert left >= 0
        if left and g.reachable and world.design.has_container(g.example.source):
            src = world.namespace_of(g.example.source)
            nets = {i.network for i in src.interfaces.values() if i.network}
            members = result.class_of(g.example.source).members if g.responder_class else ()
            answering = [m for c in result.classes if c.id == g.responder_class for m in c.members]
            assert any({i.network for i in world.namespace_of(m).interfaces.values() if i.network} & nets
                       for m in answering), (key, members)


def expand_targets(group_json: dict, target_sets: dict[str, list[dict]]) -> list[tuple[str, int]]:
    """A group's target classes with counts as docs/reach-json.md says to read them."""
    if "targets_from" not in group_json:
        listed = group_json.get("targets")
        if listed is not None:
            return [(t["class"], t["count"]) for t in listed]
        return [(group_json["target_class"], group_json["count"])] if group_json["target_class"] else []
    form = group_json["targets_from"]
    less = {t["class"]: t["count"] for t in form["less"]}
    plus = {t["class"]: t["count"] for t in form["plus"]}
    minus = {t["class"]: t["count"] for t in form["minus"]}
    base = [(t["class"], t["count"]) for t in target_sets[form["set"]]]
    keys = [c for c, _ in base] + [c for c in plus if c not in dict(base)]
    counts = {c: (n - less.get(c, 0)) * form["times"] for c, n in base}
    out = [(c, counts.get(c, 0) + plus.get(c, 0) - minus.get(c, 0)) for c in keys]
    return [(c, n) for c, n in out if n > 0]


@pytest.mark.parametrize("seed", [1, 5, 9, 13])
def test_targets_from_a_named_set_read_as_documented_are_the_groups_targets(seed):
    result = reach_of(load(random_design(seed)).world())
    sets = result.target_sets()
    shared = 0
    for g in result.coarse_groups():
        row = g.to_json()
        shared += "targets_from" in row
        assert "targets" not in row or "targets_from" not in row
        got = expand_targets(row, sets)
        assert got == list(g.target_counts)
        assert sum(n for _, n in got) == g.count or g.via == "host"
    assert shared, "a design of several hosts has bundles"


def test_a_group_and_its_example_travel_whole():
    """Groups travel back from worker processes pickled (ProbeGroup.__reduce__: every field, in
    order), and a class's example is its first probe made by another member (Probe.made_by)."""
    import dataclasses
    import pickle

    from simulator.analysis.probes import Probe, Via
    from simulator.engine.trace import Disposition

    probe = Probe("a", Via.DNS, 53, "udp", Disposition.REFUSED, "why", "r", "t", "n", "name", "h", "10.0.0.2",
                  ("r", "s"), None, "dns", 6)
    moved = probe.made_by("b")
    assert moved == probe._replace(source="b") and type(moved) is Probe and probe.made_by("a") is probe
    values = ["c", Via.DNS, "tc", "net", "name", "host", 53, "udp", Disposition.REFUSED, "why", "rc", 7, probe,
              (("tc", 7),), 6]
    fields = dataclasses.fields(ProbeGroup)
    assert len(values) == len(fields), "a new field: give it a value here that is not its default"
    group = ProbeGroup(*values)
    back = pickle.loads(pickle.dumps(group, protocol=pickle.HIGHEST_PROTOCOL))
    assert back == group and [getattr(back, f.name) for f in fields] == values
