"""Exposure and audit read the matrix's coarse groups, never its fine ones (which grow with pairs
of classes), and probe only what those groups point at: their answers equal the per-probe ones
whichever engine makes the coarse groups and in whatever order the groups of a source class come.

The references are the per-probe functions of test_exposure_classes.py and test_audit_classes.py.
"""

from __future__ import annotations

import random
import sys
from pathlib import Path

import pytest
import yaml
from test_audit_classes import by_classes, per_probe
from test_exposure_classes import exposure_per_probe

from simulator.analysis import reachability
from simulator.analysis.exposure import compute_exposure, exposure_proofs
from simulator.analysis.reachability import ReachResult, coarsened, reach_of
from simulator.audit import run_audit
from simulator.pipeline import load

ROOT = Path(__file__).resolve().parents[2]
ALL_WAYS = ("ip", "dns", "host")  # ReachResult.coarse_groups' ways (replaced here by the reference's)
sys.path.insert(0, str(ROOT / "benchmarks"))

from scale_bench import generate  # noqa: E402  (irregular designs with replica classes)

BUNDLED = sorted((ROOT / "designs").glob("*.yaml")) + [ROOT / "designs/compose-shop/compose.yaml"]
GENERATED = [(40, 5, 2, 3), (60, 5, 2, 11), (90, 6, 2, 7), (35, 4, 1, 5), (50, 7, 3, 21)]


def _shuffled_coarse(seed: int):
    """Coarse groups as the reference makes them (fine groups merged), each source class's groups
    in a random order and each group's example its last probe in matrix order, not its first: a
    consumer may rely on neither (ReachResult.coarse_groups promises no order within a source class)."""
    rng = random.Random(seed)

    def coarse_groups(self: ReachResult, sources=None, ways=ALL_WAYS, beyond_own_links=False, answered_only=False):
        probes = list(self.iter_probes())
        place = {}
        for p in probes:
            place.setdefault(p.source, len(place))
        fine = reachability._group(self, reversed(probes))  # each group's example: its last probe
        fine.sort(key=lambda g: place[g.example.source] if g.source_class in ("host", "external") or
                  not self.design.has_container(g.example.source) else min(place[m] for m in self.class_of(g.example.source).members))
        out, current, batch = [], None, []
        for g in coarsened(iter(fine)):
            if g.source_class != current:
                rng.shuffle(batch)
                out += batch
                batch, current = [], g.source_class
            batch.append(g)
        rng.shuffle(batch)
        return iter(g for g in out + batch if g.via in ways)

    return coarse_groups


def _no_fine_groups(self):
    raise AssertionError("fine groups (one per pair of classes) read")


@pytest.fixture(params=["engine", "shuffled"])
def coarse(request, monkeypatch):
    """Exposure and audit under the coarse engine as it is, and under a shuffled reference; the
    fine groups forbidden either way (the shuffled reference reads them before they are forbidden)."""
    if request.param == "shuffled":
        monkeypatch.setattr(ReachResult, "coarse_groups", _shuffled_coarse(7))
    return request.param


def _generated(containers, networks, hosts, seed):
    return load(yaml.safe_dump(generate(containers, networks, hosts, seed)))


@pytest.mark.parametrize("shape", GENERATED, ids=lambda s: "x".join(map(str, s)))
def test_exposure_from_coarse_groups_equals_the_per_probe_one(shape, coarse, monkeypatch):
    world = _generated(*shape).world()
    expected = exposure_per_probe(reach_of(world))
    result = reach_of(world)
    if coarse == "shuffled":
        groups = list(result.coarse_groups())
        monkeypatch.setattr(ReachResult, "coarse_groups", lambda self, sources=None, ways=ALL_WAYS, beyond_own_links=False, answered_only=False: iter(g for g in groups if g.via in ways))
    monkeypatch.setattr(ReachResult, "groups", _no_fine_groups)
    assert expected
    assert compute_exposure(result) == expected


@pytest.mark.parametrize("shape", GENERATED, ids=lambda s: "x".join(map(str, s)))
def test_audit_from_coarse_groups_equals_the_per_probe_one(shape, coarse, monkeypatch):
    loaded = _generated(*shape)
    world = loaded.world()
    expected = per_probe(loaded.design, reach_of(world))
    result = reach_of(world)
    if coarse == "shuffled":
        groups = list(result.coarse_groups())
        monkeypatch.setattr(ReachResult, "coarse_groups", lambda self, sources=None, ways=ALL_WAYS, beyond_own_links=False, answered_only=False: iter(g for g in groups if g.via in ways))
    monkeypatch.setattr(ReachResult, "groups", _no_fine_groups)
    assert by_classes(loaded.design, result) == expected


@pytest.mark.parametrize("path", BUNDLED, ids=lambda p: p.parent.name if p.name == "compose.yaml" else p.stem)
def test_bundled_designs_under_shuffled_coarse_groups(path, monkeypatch):
    loaded = load(path)
    world = loaded.world()
    exposure, audit = exposure_per_probe(reach_of(world)), per_probe(loaded.design, reach_of(world))
    monkeypatch.setattr(ReachResult, "coarse_groups", _shuffled_coarse(3))
    assert compute_exposure(reach_of(world)) == exposure
    assert by_classes(loaded.design, reach_of(world)) == audit


def test_exposure_and_audit_probe_a_small_part_of_the_matrix(monkeypatch):
    """Past the coarse groups, exposure and audit make a small fraction of the matrix's probes (the
    ones their delivered groups from outside point at), not one per pair of containers."""
    loaded = _generated(90, 6, 2, 7)
    world = loaded.world()
    everything = sum(1 for _ in reach_of(world).iter_probes())
    result = reach_of(world)
    groups = list(result.coarse_groups())
    monkeypatch.setattr(ReachResult, "coarse_groups", lambda self, sources=None, ways=ALL_WAYS, beyond_own_links=False, answered_only=False: iter(g for g in groups if g.via in ways))
    made = []
    make = reachability.Matrix._make

    def counted(self, *args, **kwargs):
        made.append(args[0])
        return make(self, *args, **kwargs)

    monkeypatch.setattr(reachability.Matrix, "_make", counted)
    proofs = exposure_proofs(result)
    assert proofs and len(made) * 20 < everything, (len(made), everything)
    made.clear()
    findings = run_audit(loaded.design, loaded.warnings, None, (), result)
    assert findings and len(made) * 20 < everything, (len(made), everything)
