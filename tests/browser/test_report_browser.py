"""The HTML report in a real headless Chromium: it opens, shows the diagram and the grid,
and a click on a cell shows the trace.

Chromium runs offline, in a network namespace holding only loopback
(:mod:`offline_browser`, the one way this project starts it); the report is opened from a
file:// URL.  Runs whenever Chromium is installed; fails instead of skipping when CI=true.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from offline_browser import interfaces_of, require_chromium
from simulator.cli.render_cmds import diagram_source, run_dot, DiagramFormat
from simulator.loaders import load_design
from simulator.render.report import render_report

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture()
def page(tmp_path):
    browser = require_chromium()
    design, _ = load_design(ROOT / "designs/frontend-backend.yaml")
    svg = run_dot(diagram_source(design, None, DiagramFormat.dot), "svg").decode()
    report = tmp_path / "report.html"
    report.write_text(render_report(design, None, svg), encoding="utf-8")
    with browser as tools:
        tools.open(report.as_uri())
        yield tools


def test_the_browser_has_only_loopback(page):
    assert interfaces_of(page.pid) == ["lo"]
    assert os.readlink(f"/proc/{page.pid}/ns/net") != os.readlink("/proc/self/ns/net")
    assert page.evaluate("location.protocol") == "file:"


def test_report_opens_with_diagram_and_grid(page):
    assert page.evaluate("document.title") == "frontend-backend — netsim report"
    assert page.evaluate("document.querySelectorAll('#diagram svg g.node').length") > 5
    assert page.evaluate("document.querySelectorAll('#grid td').length") == 6 * 4  # 6 sources × 4 containers
    assert page.evaluate("document.querySelectorAll('#grid td.y').length") > 0


def test_click_on_a_cell_shows_its_trace(page):
    rect = page.evaluate("""(() => {
        const data = JSON.parse(document.getElementById('netsim-data').textContent);
        const cell = data.sources.indexOf('external') + ',' + data.targets.indexOf('proxy');
        const td = document.querySelector('#grid td[data-cell="' + cell + '"]');
        td.scrollIntoView({block: 'center'});
        const r = td.getBoundingClientRect();
        return {x: r.x + r.width / 2, y: r.y + r.height / 2};
    })()""")
    for kind in ("mousePressed", "mouseReleased"):
        page.call("Input.dispatchMouseEvent", type=kind, x=rect["x"], y=rect["y"], button="left", clickCount=1)
    text = page.evaluate("document.getElementById('cell').innerText")
    assert text.startswith("external → proxy: answers")
    assert "external LAN peer\n  route: 172.30.1.2 via 192.168.1.10 dev eth0" in text
    assert "=> DELIVERED: delivered: lan link, routed through the host, bridge link" in text
    assert page.evaluate("document.querySelector('#grid td.sel').dataset.cell") is not None
