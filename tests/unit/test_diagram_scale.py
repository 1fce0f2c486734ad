"""What the diagram reads from the reachability matrix: the exposure of listeners and nothing else.

Its boxes are coloured by exposure tier and grouped by class; neither needs a walk of its own, so
a scene given the exposure walks nothing, and the command computes the exposure once."""

from __future__ import annotations

from pathlib import Path

import pytest

from simulator.analysis import exposure as exposure_module
from simulator.analysis.exposure import compute_exposure
from simulator.analysis.reachability import Matrix, ReachResult, compute_reach
from simulator.cli.render_cmds import DiagramFormat, diagram_source
from simulator.loaders import load_design
from simulator.render.diagram import DiagramOptions, _tiers, build_scene, render_dot

ROOT = Path(__file__).resolve().parents[2]
GALLERY = ROOT / "designs/gallery/shop-production.yaml"


def forbid_walks(monkeypatch) -> None:
    def refuse(*_args, **_kwargs):
        raise AssertionError("the diagram walked the matrix")

    for name in ("trace", "probe", "retrace", "iter_probes"):
        monkeypatch.setattr(Matrix, name, refuse)
    for name in ("groups", "coarse_groups", "iter_probes"):
        monkeypatch.setattr(ReachResult, name, refuse)


@pytest.mark.parametrize("options", [DiagramOptions(), DiagramOptions(group=True), DiagramOptions(group=False),
                                     DiagramOptions(network="app"), DiagramOptions(host="node-b")])
def test_a_scene_given_its_exposure_walks_nothing(monkeypatch, options):
    design, _ = load_design(GALLERY)
    result = compute_reach(design, None)
    exposure = compute_exposure(result)
    expected = render_dot(build_scene(design, None, options, result, exposure))
    forbid_walks(monkeypatch)
    fresh = compute_reach(design, None)  # nothing cached in it
    assert render_dot(build_scene(design, None, options, fresh, exposure)) == expected


def test_the_command_computes_the_exposure_once_and_reads_the_matrix_for_nothing_else(monkeypatch):
    design, _ = load_design(GALLERY)
    calls = []
    real = exposure_module.exposure_proofs

    def counted(result, *args, **kwargs):
        calls.append(result)
        return real(result, *args, **kwargs)

    monkeypatch.setattr(exposure_module, "exposure_proofs", counted)
    monkeypatch.setattr(ReachResult, "groups", lambda self: (_ for _ in ()).throw(AssertionError("fine groups read")))
    text = diagram_source(design, None, DiagramFormat.dot)
    assert len(calls) == 1 and "shop-production" in text


def test_the_tiers_come_from_the_exposure():
    """The colours are the exposure's: a box is red exactly when the LAN reaches one of its containers."""
    design, _ = load_design(GALLERY)
    result = compute_reach(design, None)
    exposure = compute_exposure(result)
    tiers = _tiers(exposure)
    lan = {e.container for e in exposure if e.audience == "external"}
    assert lan and {c for c, (tier, _) in tiers.items() if tier == "lan"} == lan
    scene = build_scene(design, None, DiagramOptions(group=False), result, exposure)
    for host in scene.hosts:
        for box in host.boxes:
            assert (box.tier == "lan") == any(m in lan for m in box.members)
