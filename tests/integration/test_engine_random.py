"""Calibration: seeded random compose designs mixing every mode, verified on the real engine.

Every mismatch found here is a model bug to fix, not a test to relax.
"""

from __future__ import annotations

import pytest

from simulator.engine.checks import engine_problems
from simulator.loaders import load_text
from simulator.verify.session import VerifyOptions, run_verify

from random_designs import random_compose  # tests/integration is on sys.path (rootdir-less test dir)

pytestmark = pytest.mark.docker


@pytest.mark.parametrize("seed", [0, 2, 4, 6])
def test_random_design_matches_engine(engine, root, seed, leftovers):
    design, _ = load_text(random_compose(seed), f"random-{seed}.yaml")
    assert [p for p in engine_problems(design) if p.severity == "error"] == []
    cmp = run_verify(design, engine, VerifyOptions())
    wrong = [f"{r.probe.source} {r.probe.via} {r.probe.target or r.probe.name or r.probe.host} {r.probe.port}/"
             f"{r.probe.protocol}: {r.why}" for r in cmp.rows if r.verdict in ("mismatch", "detail")]
    assert wrong == []
    assert cmp.counts()["agree"] >= 90
    assert leftovers(engine, design.name) == []
