"""The HTML report: self-contained, deterministic, with the grid data a click needs."""

from __future__ import annotations

import json
import re
from pathlib import Path

from simulator.analysis.reachability import compute_reach
from simulator.loaders import load_design
from simulator.render import report
from simulator.render.report import grid_data, render_report

ROOT = Path(__file__).resolve().parents[2]
SVG = '<?xml version="1.0"?>\n<!DOCTYPE svg>\n<!-- comment -->\n<svg viewBox="0 0 10 10"><g class="node"></g></svg>\n'


def design(name: str = "frontend-backend.yaml"):
    return load_design(ROOT / "designs" / name)[0]


def page_data(html: str) -> dict:
    raw = re.search(r'<script type="application/json" id="netsim-data">(.*?)</script>', html, re.S).group(1)
    return json.loads(raw)


def test_self_contained_and_deterministic():
    html = render_report(design(), None, SVG)
    assert html == render_report(design(), None, SVG)
    assert '<div id="diagram"><svg viewBox="0 0 10 10">' in html  # prologue stripped, SVG inline
    assert not re.search(r'(src|href)="(https?:)?//', html) and "<link" not in html and "@import" not in html
    assert "@@" not in html


def test_grid_states_and_traces():
    data = grid_data(compute_reach(design(), None, with_traces=True), True)
    assert data["sources"] == ["proxy", "app", "db", "cache", "host", "external"]
    assert data["targets"] == ["proxy", "app", "db", "cache"]
    assert data["rows"] == ["yynn", "yyyy", "yyyy", "yyyy", "yyyy", "ynnn"]
    probes = data["cells"]["5,0"]  # external → proxy
    first = probes[0]
    assert first[:4] == ["via ip: proxy @ frontend", "172.30.1.2", "80/tcp", "DELIVERED"]
    hops = [data["texts"][i] for i in first[5]]
    assert hops[0].startswith("external LAN peer\n  route: 172.30.1.2 via 192.168.1.10 dev eth0")


def test_page_embeds_the_data_safely():
    html = render_report(design("compose-shop/compose.yaml"), None, "")
    assert "No diagram: Graphviz" in html
    data = page_data(html)
    assert data["traces"] is True and data["targets"] == ["web", "api", "db", "sidecar"]
    assert "</" not in html[html.index('id="netsim-data">'):html.index("</script>", html.index('id="netsim-data">'))]


def test_large_designs_carry_outcomes_only(monkeypatch):
    monkeypatch.setattr(report, "TRACE_LIMIT", 10)
    data = page_data(render_report(design(), None, ""))
    assert data["traces"] is False and data["cells"] == {} and data["rows"][0] == "yynn"
