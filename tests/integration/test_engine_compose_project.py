"""A compose project read as compose reads it (.env, compose.override.yaml, extends from another
file, include, a profile: tests/data/compose/projects/full), deployed on the real engine and
verified: zero mismatches (issue 16). tests/unit/test_compose_project.py shows the same project
gives the services, networks, ports and listeners docker-compose gives."""

from __future__ import annotations

from pathlib import Path

import pytest

from simulator.loaders.compose_project import ProjectOptions
from simulator.pipeline import load
from simulator.verify.session import VerifyOptions, run_verify

pytestmark = pytest.mark.docker

FULL = Path(__file__).resolve().parents[1] / "data" / "compose" / "projects" / "full" / "compose.yaml"


def test_compose_project_matches_engine(engine, root, leftovers):
    design = load(FULL, project=ProjectOptions(profiles=("debug",))).design
    assert sorted(c.name for c in design.containers) == ["api", "db", "debug", "web"]
    cmp = run_verify(design, engine, VerifyOptions())
    assert [f"{r.probe.source} {r.probe.via} {r.probe.target or r.probe.name or ''} {r.probe.port}: {r.why}"
            for r in cmp.rows if r.verdict in ("mismatch", "detail")] == []
    assert cmp.counts()["agree"] > 0
    # what the project adds beyond the main file is probed: the override's port, the included db,
    # the extended base's expose, the profiled service
    agreed = {(r.probe.target, r.probe.port) for r in cmp.rows if r.verdict == "agree"}
    assert {("web", 443), ("db", 5432), ("web", 9100), ("debug", 7000)} <= agreed
    assert leftovers(engine, design.name) == []
