"""`netsim diff` compares the two matrices by classes: pairs of classes that are the same in both
designs and answer alike are compared as groups, and only the others' probes are made. The changes
equal the per-probe diff (the reference: the same diff on every probe given to it), change for change.
"""

from __future__ import annotations

import copy
import random
import sys
from dataclasses import replace
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from simulator.analysis.reachability import reach_of
from simulator.diff import _differing_probes, diff_results, render_text
from simulator.pipeline import load

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "benchmarks"))

from scale_bench import generate  # noqa: E402  (irregular designs with replica classes)


def _every_probe(result):
    return replace(result, probes=tuple(result.iter_probes()))


def _both(old_loaded, new_loaded):
    old, new = reach_of(old_loaded.world()), reach_of(new_loaded.world())
    mine = diff_results(old, new)
    reference = diff_results(_every_probe(reach_of(old_loaded.world())), _every_probe(reach_of(new_loaded.world())))
    return mine, reference, old, new


def mutate(data: dict, rng: random.Random, how: str) -> dict:
    """A changed copy of a generated design."""
    d = copy.deepcopy(data)
    ctrs = d["containers"]
    plain = [n for n, c in ctrs.items() if "network_mode" not in c and c.get("networks") and c.get("listens")]
    if not plain:
        return d
    if how == "remove":
        del ctrs[rng.choice(plain)]
    elif how == "network":  # one container moves to another network of its host
        name = rng.choice(plain)
        nets = [n for n, spec in d["networks"].items() if ctrs[name]["host"] in spec.get("hosts", [])]
        ctrs[name]["networks"] = [rng.choice(nets)]
    elif how == "publish":
        name = rng.choice(plain)
        ctrs[name]["ports"] = [f"{39000 + rng.randrange(500)}:{ctrs[name]['listens'][0]}"]
    elif how == "listen":
        name = rng.choice(plain)
        ctrs[name]["listens"] = ctrs[name]["listens"] + [7777]
    elif how == "internal":
        net = rng.choice(sorted(d["networks"]))
        d["networks"][net]["internal"] = not d["networks"][net].get("internal", False)
    elif how == "swap":  # two containers of one host trade their published host ports
        published = [n for n, c in ctrs.items() if c.get("ports") and ":" in str(c["ports"][0])]
        pairs = [(a, b) for a in published for b in published if a < b and ctrs[a]["host"] == ctrs[b]["host"]
                 and str(ctrs[a]["ports"][0]).split(":")[-1] == str(ctrs[b]["ports"][0]).split(":")[-1]]
        if pairs:
            a, b = rng.choice(pairs)
            ctrs[a]["ports"], ctrs[b]["ports"] = ctrs[b]["ports"], ctrs[a]["ports"]
    elif how == "add":
        name = rng.choice(plain)
        ctrs[name + "-new"] = copy.deepcopy(ctrs[name])
        ctrs[name + "-new"].pop("ports", None)
    return d


def _keys(d):
    return [(c.kind, c.probe.key, c.old, c.new) for c in d.changes]


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.integers(12, 40), st.integers(2, 6), st.integers(1, 3), st.integers(0, 10_000),
       st.sampled_from(["remove", "network", "publish", "listen", "internal", "swap", "add"]))
def test_generated_changes_equal_the_per_probe_diff(containers, networks, hosts, seed, how):
    data = generate(containers, networks, hosts, seed)
    changed = mutate(data, random.Random(seed), how)
    mine, reference, _, _ = _both(load(yaml.safe_dump(data)), load(yaml.safe_dump(changed)))
    assert _keys(mine) == _keys(reference)
    assert (mine.exposed, mine.unexposed) == (reference.exposed, reference.unexposed)
    assert render_text(mine) == render_text(reference)


@pytest.mark.parametrize("old,new", [("tests/data/intent/diff/old.yaml", "tests/data/intent/diff/new.yaml"),
                                     ("designs/frontend-backend.yaml", "designs/frontend-backend.yaml")])
def test_bundled_diffs_equal_the_per_probe_diff(old, new):
    mine, reference, _, _ = _both(load(ROOT / old), load(ROOT / new))
    assert _keys(mine) == _keys(reference) and mine.exposed == reference.exposed


def test_a_small_change_makes_only_the_probes_of_what_differs():
    """One container alone in its class listens on one more port: the pairs of classes it is in are
    probed, and those whose groups split (several outcomes in one pair); the others are compared as
    groups (a change that splits a class redoes that class's pairs: its id changes)."""
    data = generate(60, 5, 2, 4)
    old = reach_of(load(yaml.safe_dump(data)).world())
    alone = next(c.members[0] for c in old.classes if len(c.members) == 1 and data["containers"][c.members[0]].get("listens")
                 and "network_mode" not in data["containers"][c.members[0]])
    changed = copy.deepcopy(data)
    changed["containers"][alone]["listens"] = changed["containers"][alone]["listens"] + [7777]
    new = reach_of(load(yaml.safe_dump(changed)).world())
    before, after = _differing_probes(old, new)
    every = sum(1 for _ in old.iter_probes())
    assert 0 < len(before) < every / 2 and 0 < len(after)
    assert _keys(diff_results(old, new)) == _keys(diff_results(_every_probe(old), _every_probe(new)))
    assert diff_results(old, old).empty
