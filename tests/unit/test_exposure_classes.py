"""Exposure computed from the listeners' side (class-level groups, one probe per listener) equals
exposure read off every probe of the matrix, entry for entry and proof for proof.

The per-probe function below is the reference: what `netsim exposure` computed before classes,
probe by probe in matrix order, keeping the first probe of each (listener, port, audience, through).
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from simulator.analysis.exposure import AUDIENCE_ORDER, Exposure, _through, audience, compute_exposure, exposure_proofs
from simulator.analysis.paths import PairProbes
from simulator.analysis.reachability import Matrix, ReachResult, reach_of
from simulator.pipeline import load

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "benchmarks"))

from scale_bench import generate  # noqa: E402  (the benchmark's irregular designs: replicas, odd singletons)

BUNDLED = sorted((ROOT / "designs").glob("*.yaml")) + [ROOT / "designs/compose-shop/compose.yaml"]


def exposure_per_probe(result: ReachResult) -> list[Exposure]:
    """The reference: every probe of the matrix, in order; the first probe of each exposure proves it."""
    seen: dict[tuple, Exposure] = {}
    for p in result.iter_probes():
        if not p.reachable or p.responder is None:
            continue
        who = audience(result, p)
        if who is None:
            continue
        kind, through = _through(result, p)
        key = (p.responder, p.port, p.protocol, who, through)
        if key not in seen:
            seen[key] = Exposure(p.responder, p.port, p.protocol, who, through,
                                 f"{p.source} -> {p.address}:{p.port}/{p.protocol} ({p.via})", kind)
    return sorted(seen.values(), key=lambda e: (e.container, AUDIENCE_ORDER[e.audience], e.port, e.protocol, e.through))


def _generated(containers: int, networks: int, hosts: int, seed: int):
    return load(yaml.safe_dump(generate(containers, networks, hosts, seed)))


@pytest.mark.parametrize("version", [None, "28.2", "29.0"])
@pytest.mark.parametrize("path", BUNDLED, ids=lambda p: p.parent.name if p.name == "compose.yaml" else p.stem)
def test_bundled_designs_exposure_equals_the_per_probe_one(path, version):
    world = load(path).world(version)
    expected = exposure_per_probe(reach_of(world))
    assert expected, "every bundled design exposes something"
    assert compute_exposure(reach_of(world)) == expected


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.integers(12, 45), st.integers(2, 7), st.integers(1, 3), st.integers(0, 10_000))
def test_generated_designs_exposure_equals_the_per_probe_one(containers, networks, hosts, seed):
    world = _generated(containers, networks, hosts, seed).world()
    result = reach_of(world)
    assert any(len(c.members) > 1 for c in result.classes) or containers < 20
    assert compute_exposure(result) == exposure_per_probe(reach_of(world))


def test_a_design_with_large_classes_equals_the_per_probe_one():
    world = _generated(90, 6, 2, 7).world()
    result = reach_of(world)
    assert max(len(c.members) for c in result.classes) >= 5
    proofs = exposure_proofs(result)
    assert [x.exposure for x in proofs] == exposure_per_probe(reach_of(world))
    for x in proofs:  # each proof is the matrix's own probe and answers as the entry says
        assert x.probe.responder == x.exposure.container and x.probe.reachable
        assert x.container_class == result.class_of(x.exposure.container).id


def test_probes_of_one_source_are_the_matrix_probes_of_that_source():
    world = _generated(40, 5, 2, 3).world()
    everything = list(Matrix(world).iter_probes())
    pairs = PairProbes(Matrix(world))
    for source in dict.fromkeys(p.source for p in everything):
        assert list(pairs.from_source(source)) == [p for p in everything if p.source == source], source
    ip = next(p for p in everything if p.via == "ip" and p.reachable and p.source != p.target)
    assert pairs.ip(ip.source, ip.target, ip.network, ip.port, ip.protocol) == ip
    dns = next(p for p in everything if p.via == "dns" and p.reachable)
    assert pairs.dns(dns.source, dns.name, dns.port, dns.protocol) == dns


def test_pairs_of_classes_that_split_are_probed_pair_by_pair(monkeypatch):
    """A group that is not every pair of its classes (its count says so) is probed pair by pair,
    exactly: forced here by under-counting every group."""
    from dataclasses import replace

    world = _generated(60, 5, 2, 11).world()
    result = reach_of(world)
    groups = [replace(g, count=g.count - 1) if g.count > 1 else g for g in result.groups()]
    assert any(g.count > 0 for g in groups)
    monkeypatch.setattr(type(result), "groups", lambda self: iter(groups))
    assert compute_exposure(result) == exposure_per_probe(reach_of(world))


def test_exposure_by_class_stands_for_every_entry_and_the_cli_shows_both(tmp_path):
    from typer.testing import CliRunner

    from simulator.analysis.exposure import exposure_groups
    from simulator.cli import app

    path = tmp_path / "scale.yaml"
    path.write_text(yaml.safe_dump(generate(90, 6, 2, 7)))
    result = reach_of(load(path).world())
    proofs = exposure_proofs(result)
    groups = exposure_groups(result, proofs)
    assert len(groups) < len(proofs) and sum(g.count for g in groups) == len(proofs)
    for g in groups:  # each group: one class, one audience and way; its first entry is the class's first
        mine = [x.exposure for x in proofs if x.container_class == g.container_class and x.exposure.audience == g.audience
                and x.exposure.through_kind is g.through_kind and x.exposure.protocol == g.protocol]
        assert g.first in mine and set(g.containers) <= {e.container for e in mine}
        assert g.members == len(result.class_of(g.first.container).members)
    big = max(groups, key=lambda g: g.count)
    assert big.count > 1 and big.members > 1
    data = __import__("json").loads(CliRunner().invoke(app, ["exposure", str(path), "-f", "json"]).output)
    assert [e["container"] for e in data["exposure"]] == [x.exposure.container for x in proofs]
    assert sum(g["count"] for g in data["by_class"]) == len(data["exposure"])
    table = CliRunner().invoke(app, ["exposure", str(path), "--wide"]).output
    every = CliRunner().invoke(app, ["exposure", str(path), "--wide", "--all"]).output
    assert f"{big.container_class} " in table and f"(and {big.count - 1} alike)" in table
    assert "containers alike grouped by class" in table and "grouped by class" not in every
    assert all(f"│ {c} " in every for c in big.containers)
    assert table.count("\n") < every.count("\n")


def test_bundled_designs_tables_are_unchanged_by_grouping():
    """Every bundled design has classes of one container: grouped and per-container tables agree."""
    from simulator.analysis.exposure import exposure_groups
    from simulator.render.tables import exposure_group_table, exposure_table

    for path in BUNDLED:
        result = reach_of(load(path).world())
        if any(c.size > 1 for c in result.classes):
            continue  # replicas or swarm tasks: grouped on purpose (tested above)
        proofs = exposure_proofs(result)
        assert exposure_group_table("d", exposure_groups(result, proofs)) == exposure_table("d", [x.exposure for x in proofs])
