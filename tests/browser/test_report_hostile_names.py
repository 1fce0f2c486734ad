"""The HTML report of a design whose names hold markup, quotes, backslashes, newlines and
control characters, in a real headless Chromium (issue 10): the page's script still runs.

A name holding ``<!--<script>`` used to put the HTML parser into its "double-escaped"
state inside the embedded JSON, so the page's own script never ran. Chromium is started
by :mod:`offline_browser` (headless, background networking off, a throw-away profile, a
network namespace with only loopback); the report is opened from a file:// URL.
"""

from __future__ import annotations

import shutil
import subprocess

import pytest

from hostile_names import HOSTILE, hostile_design
from offline_browser import require_chromium
from simulator.analysis.reachability import compute_reach
from simulator.render.diagram import build_scene, render_dot
from simulator.render.report import render_report
from simulator.render.text import printable


@pytest.fixture(scope="module")
def page(tmp_path_factory):
    browser = require_chromium()
    design = hostile_design()
    result = compute_reach(design, None)
    assert shutil.which("dot"), "Graphviz's dot is needed for the diagram"
    svg = subprocess.run(["dot", "-Tsvg"], input=render_dot(build_scene(design, None, result=result)).encode(),
                         capture_output=True, check=True).stdout.decode()
    report = tmp_path_factory.mktemp("hostile") / "report.html"
    report.write_text(render_report(design, None, svg, result), encoding="utf-8")
    with browser as tools:
        tools.open(report.as_uri())
        yield tools


def test_only_the_pages_two_scripts_exist(page):
    assert page.evaluate("location.protocol") == "file:"
    assert page.evaluate("document.scripts.length") == 2
    assert page.evaluate("document.scripts[0].type") == "application/json"


def test_the_script_ran_and_built_the_grid(page):
    targets = page.evaluate("Array.from(document.querySelectorAll('#grid th.col')).map(th => th.textContent)")
    assert targets == [printable(n, keep="\n") for n in HOSTILE]
    assert page.evaluate("document.querySelectorAll('#grid td').length") == len(HOSTILE) * page.evaluate(
        "document.querySelectorAll('#grid th.row').length - 1")


def test_names_show_as_text_not_markup(page):
    assert page.evaluate("document.title") == printable("hostile<b>\x1b\\") + " — netsim report"
    assert page.evaluate("document.querySelectorAll('#diagram svg g.node').length") >= len(HOSTILE)
    assert page.evaluate("document.querySelectorAll('main b b, table.data script, #diagram script').length") == 0
    text = page.evaluate("document.body.innerText")
    assert "<!--<script>" in text and "esc\\x1b[31mred" in text


def test_a_click_on_a_hostile_cell_shows_its_probes(page):
    heading = page.evaluate("""(() => {
        const td = document.querySelector('#grid td[data-cell="0,0"]');
        td.dispatchEvent(new MouseEvent('click', {bubbles: true}));
        return document.querySelector('#cell h3').textContent;
    })()""")
    assert heading.startswith(page.evaluate("JSON.parse(document.getElementById('netsim-data').textContent).sources[0]"))
    assert f" → {printable(HOSTILE[0])}: " in heading


ALIASES_DESIGN = """name: alias-hostile
networks:
  front: {subnet: 172.30.1.0/24}
containers:
  web:
    networks:
      front: {aliases: ["<!--<script>", 'a:b\\\\', '%%{init:{"theme":"dark"}}%%', "x\\"y{z}"]}
    listens: [80]
  db:
    networks: [front]
"""


def test_a_report_written_by_the_cli_from_hostile_aliases_runs(tmp_path):
    """Aliases may hold markup (the loader allows any printable DNS name): the whole path, file to page."""
    from typer.testing import CliRunner

    from simulator.cli import app

    design = tmp_path / "aliases.yaml"
    design.write_text(ALIASES_DESIGN, encoding="utf-8")
    out = tmp_path / "report.html"
    browser = require_chromium()
    r = CliRunner().invoke(app, ["report", str(design), "-o", str(out)])
    assert r.exit_code == 0, r.output
    with browser as tools:
        tools.open(out.as_uri())
        assert tools.evaluate("document.scripts.length") == 2
        assert tools.evaluate("document.querySelectorAll('#grid td').length") == 4 * 2  # 4 sources × 2 containers
        dialled = tools.evaluate("Object.values(JSON.parse(document.getElementById('netsim-data').textContent).cells)"
                                 ".flat().map(p => p[0]).join(' ')")
        assert "via dns: names <!--<script>" in dialled  # the aliases alike in one group (the report reads coarse groups)
