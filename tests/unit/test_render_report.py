"""The HTML report: self-contained, deterministic, with the grid data a click needs."""

from __future__ import annotations

import json
import re
from pathlib import Path

from simulator.analysis.reachability import ReachResult, compute_reach
from simulator.engine.topology import build_world
from simulator.loaders import load_design, load_text
from simulator.render import report
from simulator.render.report import grid_data, render_report

ROOT = Path(__file__).resolve().parents[2]
SVG = '<?xml version="1.0"?>\n<!DOCTYPE svg>\n<!-- comment -->\n<svg viewBox="0 0 10 10"><g class="node"></g></svg>\n'


def reach_of_text(text: str):
    return compute_reach(load_text(text)[0], None)


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
    assert data["traces"] is False and data["rows"][0] == "yynn"
    assert data["cells"]["5,0"][0][:4] == ["via ip: proxy @ frontend", "172.30.1.2", "80/tcp", "DELIVERED"]
    assert all(group[5] == [] for groups in data["cells"].values() for group in groups)  # no hops


def replicas(services: int, replicas: int, publish: bool = False) -> str:
    """A design of ``services`` services of ``replicas`` replicas each, on one network (``publish``: the
    first service's replicas publish a port each)."""
    lines = ["name: replicas", "hosts: {h1: {lan: {interface: eth0, address: 192.168.1.10/24}}}",
             "networks: {net: {subnet: 10.20.0.0/16}}", "containers:"]
    for s in range(services):
        for r in range(replicas):
            lines += [f"  s{s}-{r}:", "    host: h1", "    networks: [net]", f"    listens: [{8000 + s}]"]
            if s == 0 and publish:
                lines.append(f"    ports: ['{20000 + r}:{8000 + s}']")
    return "\n".join(lines) + "\n"


def test_the_matrix_is_by_class_and_its_size_follows_the_classes_not_the_containers():
    small = grid_data(reach_of_text(replicas(3, 2)), True)
    large = grid_data(reach_of_text(replicas(3, 12)), True)
    assert small["targets"] == ["s0×2 (net)", "s1×2 (net)", "s2×2 (net)"]
    assert large["targets"] == ["s0×12 (net)", "s1×12 (net)", "s2×12 (net)"]
    assert small["sources"] == [*small["targets"], "host", "external"]
    assert large["sources"] == [*large["targets"], "host", "external"]
    assert len(json.dumps(large["cells"])) < 1.1 * len(json.dumps(small["cells"]))  # counts, not rows per container
    assert sum(map(len, large["cells"].values())) == sum(map(len, small["cells"].values()))
    assert large["rows"] == ["yyy", "yyy", "yyy", "yyy", "nnn"]
    assert sum(g[6] for g in large["cells"]["0,1"]) == 12 * 12 * 2  # by ip and by name, from each of 12 to each of 12
    assert large["probes"] > 30 * small["probes"] / 4
    published = grid_data(reach_of_text(replicas(3, 2, publish=True)), True)
    assert published["rows"][-1] == "ynn"  # the LAN reaches the published s0 only


def test_above_a_grid_the_matrix_lists_the_open_cells_per_source(monkeypatch):
    monkeypatch.setattr(report, "GRID_CELLS", 4)
    data = grid_data(reach_of_text(replicas(3, 2)), True)
    assert "rows" not in data and data["states"]
    assert set(data["states"].values()) <= {"y", "r"} and set(data["states"]) == set(data["cells"])
    assert len(data["blocked"]) == len(data["sources"]) and data["left_out"] == 0
    monkeypatch.setattr(report, "CELL_LIMIT", 3)
    bounded = grid_data(reach_of_text(replicas(3, 2)), True)
    assert len(bounded["cells"]) == 3 and bounded["left_out"] == len(data["cells"]) - 3


def test_the_groups_embedded_are_bounded_the_open_cells_first(monkeypatch):
    full = grid_data(reach_of_text(replicas(3, 2)), True)
    monkeypatch.setattr(report, "GROUP_LIMIT", 12)
    data = grid_data(reach_of_text(replicas(3, 2)), True)
    assert 0 < sum(map(len, data["cells"].values())) <= 12 < sum(map(len, full["cells"].values()))
    states = {f"{i},{j}": s for i, row in enumerate(data["rows"]) for j, s in enumerate(row)}
    assert all(states[key] in "yr" for key in data["cells"])  # what answers comes before what is blocked
    assert data["rows"] == full["rows"]  # every cell keeps its state


def test_the_matrix_read_in_workers_or_from_rows_made_beside_the_exposure_is_the_same(monkeypatch):
    """Once no later source class can add a cell or a group, the rest are read as rows only: computed in
    worker processes, or made by another reader of the groups (the report's exposure), with the first
    classes' groups beside them. The page is the one a single pass over every group gives, whatever
    the limits; what a row counts (blocked cells, probes) never depends on them."""
    design = load_text(replicas(70, 1, publish=True))[0]  # 72 source classes: enough to fork workers
    unbounded = None
    for grid, cells, groups in ((10**6, 10**6, 10**6), (10**6, 10**6, 3), (0, 10**6, 10**6), (0, 40, 25), (0, 3, 2), (0, 500, 3)):
        monkeypatch.setattr(report, "GRID_CELLS", grid)
        monkeypatch.setattr(report, "CELL_LIMIT", cells)
        monkeypatch.setattr(report, "GROUP_LIMIT", groups)
        here = compute_reach(design, None)
        whole = grid_data(here, False, groups=list(here.coarse_groups()))
        assert grid_data(compute_reach(design, None), False) == whole
        forked = ReachResult(design, build_world(design, None), workers=2)
        assert grid_data(forked, False) == whole
        rows = list(forked.map_coarse(report.row_reader(forked, 3)))
        assert len(rows) == 72 and sum(gs is not None for _, gs in filter(None, rows)) == 3
        assert grid_data(forked, False, rows=rows) == whole
        if grid == 0 and unbounded is None:
            unbounded = whole
        elif grid == 0:
            assert (whole["blocked"], whole["probes"], whole["answered"]) == \
                   (unbounded["blocked"], unbounded["probes"], unbounded["answered"])
            assert len(whole["states"]) + whole["left_out"] == len(unbounded["states"])
            assert sum(map(len, whole["cells"].values())) <= groups


def test_a_grid_keeps_every_cell_whatever_the_cell_limit(monkeypatch):
    monkeypatch.setattr(report, "CELL_LIMIT", 3)
    data = grid_data(reach_of_text(replicas(3, 2)), True)
    assert data["left_out"] == 0 and len(data["rows"]) == 5 and len(data["cells"]) == 15
