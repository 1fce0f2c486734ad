"""Golden files for the renderers: the DOT and Mermaid of a traced path, the report's grid data.

Regenerate after an intended change with ``NETSIM_UPDATE_GOLDEN=1 python -m pytest tests/golden``.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from simulator.analysis.reachability import compute_reach
from simulator.analysis.paths import trace_between
from simulator.loaders import load_design
from simulator.render.diagram import DiagramOptions, build_scene, render_dot, with_path
from simulator.render.mermaid import render_mermaid
from simulator.render.report import grid_data

ROOT = Path(__file__).resolve().parents[2]
GOLDEN = Path(__file__).parent / "render"


def check(name: str, text: str) -> None:
    path = GOLDEN / name
    if os.environ.get("NETSIM_UPDATE_GOLDEN") == "1":
        path.write_text(text, encoding="utf-8")
    assert path.read_text(encoding="utf-8") == text, f"{name} differs; see the module docstring to regenerate"


@pytest.fixture(scope="module")
def traced():
    design, _ = load_design(ROOT / "designs/frontend-backend.yaml")
    scene = build_scene(design, "28.2", DiagramOptions(hide_default=True))
    return with_path(scene, "external → proxy:443", trace_between(design, "external", "proxy", 443, "tcp", "28.2"))


def test_path_dot(traced):
    check("frontend-backend-path.dot", render_dot(traced))


def test_path_mermaid(traced):
    check("frontend-backend-path.mmd", render_mermaid(traced))


def test_grouped_compose_dot():
    design, _ = load_design(ROOT / "designs/compose-shop/compose.yaml")
    check("compose-shop-grouped.dot", render_dot(build_scene(design, None, DiagramOptions(group=True, hide_default=True))))


def test_report_grid():
    design, _ = load_design(ROOT / "designs/internal-network.yaml")
    data = grid_data(compute_reach(design, None, with_traces=True), True)
    check("internal-network-grid.json", json.dumps(data, indent=1, sort_keys=True, ensure_ascii=False) + "\n")
