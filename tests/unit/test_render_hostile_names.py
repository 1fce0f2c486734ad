"""Renderers on names that try to act instead of being read (issue 10: output safety).

The design comes from tests/hostile_names.py (built directly: the loaders refuse these
names). DOT must be accepted by Graphviz, Mermaid labels must stay on one line with no
directive, the report's embedded data must parse back and its script must stay a script,
and no control character may reach a terminal.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from html.parser import HTMLParser

import pytest

from hostile_names import HOST, HOSTILE, NETWORK, hostile_design
from simulator.analysis.addressing import compute_addressing
from simulator.analysis.exposure import compute_exposure
from simulator.analysis.paths import trace_between
from simulator.analysis.reachability import compute_reach
from simulator.printable import BIDI_CONTROLS
from simulator.render.diagram import DiagramOptions, build_scene, dot_id, render_dot, with_path
from simulator.render.mermaid import render_mermaid
from simulator.render.report import render_report, script_json
from simulator.render.tables import addressing_table, exposure_table, reach_matrix, reach_table
from simulator.render.text import printable

CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")
needs_dot = pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz is not installed")


@pytest.fixture(scope="module")
def design():
    return hostile_design()


@pytest.fixture(scope="module")
def result(design):
    return compute_reach(design, None)


@pytest.fixture(scope="module")
def scenes(design, result):
    plain = build_scene(design, None, result=result)
    grouped = build_scene(design, None, DiagramOptions(group=True), result=result)
    traced = with_path(plain, "path", trace_between(design, "external", HOSTILE[0], 8000, "tcp", None))
    return {"plain": plain, "grouped": grouped, "traced": traced}


# --- printable ---------------------------------------------------------------------------

@pytest.mark.parametrize("raw, shown", [
    ("plain name-1.x", "plain name-1.x"),
    ("café ünïcode ⇆ → ✔", "café ünïcode ⇆ → ✔"),
    ("esc\x1b[31m", "esc\\x1b[31m"),
    ("nul\x00", "nul\\x00"),
    ("a\nb\tc\rd", "a\\nb\\tc\\rd"),
    ("del\x7f c1\x9b", "del\\x7f c1\\x9b"),
    ("rtl\u202eexe", "rtl\\u202eexe"),
    ("sep\u2028\u2029", "sep\\u2028\\u2029"),
    ("non\ufffe\U0001ffff", "non\\ufffe\\U0001ffff"),
    ("lone\ud800", "lone\\ud800"),
])
def test_printable_escapes_only_what_could_act(raw, shown):
    assert printable(raw) == shown


def test_printable_can_keep_newlines():
    assert printable("a\nb\x1b", keep="\n") == "a\nb\\x1b"


def test_every_noncharacter_is_escaped_and_nothing_else_for_being_one():
    """The 66 non-characters (U+FDD0..U+FDEF, the last two code points of each plane), over every code point."""
    for code in range(0x110000):
        ch = chr(code)
        noncharacter = 0xFDD0 <= code <= 0xFDEF or code & 0xFFFE == 0xFFFE
        if noncharacter:
            assert printable(f"x{ch}") != f"x{ch}", hex(code)
        elif ch.isprintable() and ch not in BIDI_CONTROLS:
            assert printable(f"x{ch}") == f"x{ch}", hex(code)


# --- DOT ----------------------------------------------------------------------------------

def test_dot_ids_are_names_when_safe_and_hashes_otherwise():
    assert dot_id("ctr/web-1.a_b") == "ctr/web-1.a_b"
    ids = {dot_id(f"ctr/{name}") for name in HOSTILE}
    assert len(ids) == len(HOSTILE)
    assert all(re.fullmatch(r"h-[0-9a-f]{20}", i) for i in ids)


@pytest.mark.parametrize("which", ["plain", "grouped", "traced"])
def test_dot_has_no_control_character_and_every_name_in_a_label(scenes, which):
    dot = render_dot(scenes[which])
    assert not CONTROL.search(dot.replace("\n", " ").replace("\t", " "))
    for name in HOSTILE[:4]:
        assert printable(name).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace(
            '"', "&quot;").replace("'", "&#x27;") in dot
    assert "back\\</B>" in dot  # a trailing backslash stays text inside an HTML label
    assert "esc\\x1b[31mred\\x1b[0m" in dot


@needs_dot
@pytest.mark.parametrize("which", ["plain", "grouped", "traced"])
@pytest.mark.parametrize("fmt", ["svg", "canon"])
def test_graphviz_accepts_the_dot(scenes, which, fmt):
    done = subprocess.run(["dot", f"-T{fmt}"], input=render_dot(scenes[which]).encode(), capture_output=True, check=False)
    assert done.returncode == 0, done.stderr.decode(errors="replace")
    assert done.stderr == b""
    if fmt == "svg":
        svg = done.stdout.decode()
        assert "&lt;!&#45;&#45;&lt;script&gt;" in svg or "&lt;!--&lt;script&gt;" in svg
        assert "<script" not in svg
        assert svg.count("class=\"node\"") >= len(HOSTILE)


# --- Mermaid ------------------------------------------------------------------------------

STATEMENT = re.compile(r'flowchart TB|  (subgraph n\d+\["[^"]*"\]|end|n\d+ (---|===|-\.-|~~~) n\d+|classDef \w+ [^"\n]+'
                       r'|class [n\d,]+ \w+|linkStyle [\d,]+ \S+|style n\d+ \S+'
                       r'|n\d+(\(\["[^"]*"\]\)|\[/"[^"]*"/\]|\["[^"]*"\]|\[\["[^"]*"\]\]))'
                       r'|    (subgraph n\d+\["[^"]*"\]|end|n\d+\["[^"]*"\])'
                       r'|      n\d+(\[\["[^"]*"\]\]|\["[^"]*"\])')


@pytest.mark.parametrize("which", ["plain", "grouped", "traced"])
def test_mermaid_labels_stay_on_one_line_without_directives(scenes, which):
    text = render_mermaid(scenes[which])
    lines = text.splitlines()
    bad = [line for line in lines if not STATEMENT.fullmatch(line)]
    assert bad == []
    assert "%%" not in text and "`" not in text
    assert not CONTROL.search(text.replace("\n", " "))
    assert "#35;quot;&amp;amp;#96;md#96;" in text  # a name holding an entity code shows it, not a quote
    assert "#37;#37;{init: {'theme':'dark'}}#37;#37;" in text
    assert "new\\nline" in text and "q#quot;uote's" in text


# --- report -------------------------------------------------------------------------------

class _Scripts(HTMLParser):
    def __init__(self):
        super().__init__()
        self.scripts: list[tuple[dict, str]] = []
        self._open: dict | None = None

    def handle_starttag(self, tag, attrs):
        if tag == "script":
            self._open = dict(attrs)
            self.scripts.append((self._open, ""))

    def handle_data(self, data):
        if self._open is not None:
            attrs, text = self.scripts[-1]
            self.scripts[-1] = (attrs, text + data)

    def handle_endtag(self, tag):
        if tag == "script":
            self._open = None


@pytest.fixture(scope="module")
def report(design, result, scenes):
    svg = ""
    if shutil.which("dot"):
        svg = subprocess.run(["dot", "-Tsvg"], input=render_dot(scenes["plain"]).encode(), capture_output=True,
                             check=True).stdout.decode()
    return render_report(design, None, svg, result)


def test_report_data_cannot_end_or_swallow_the_script(report):
    parser = _Scripts()
    parser.feed(report)
    assert [attrs.get("type") for attrs, _ in parser.scripts] == ["application/json", None]
    data_text, code = parser.scripts[0][1], parser.scripts[1][1]
    assert not re.search("[<>&\u2028\u2029]", data_text)
    assert code.lstrip().startswith("(function () {")
    data = json.loads(data_text)
    assert set(data["targets"]) == {printable(n, keep="\n") for n in HOSTILE}
    assert data["design"] == printable("hostile<b>\x1b\\")


def test_report_text_is_escaped(report):
    body = report.split('<script type="application/json"', 1)[0]
    assert "<!--<script>" not in body and "</script><script>alert" not in body
    assert not CONTROL.search(body.replace("\n", " ").replace("\t", " "))
    assert "&lt;!--&lt;script&gt;" in body
    assert "<title>hostile&lt;b&gt;\\x1b\\ — netsim report</title>" in body


def test_script_json_round_trips_every_hostile_string():
    values = list(HOSTILE) + [HOST, NETWORK, "</script>", "<!--", "\u2028", "a&b"]
    text = script_json({"v": values})
    assert not re.search("[<>&\u2028\u2029]", text)
    assert json.loads(text) == {"v": values}


# --- terminal tables ----------------------------------------------------------------------

SGR = re.compile(r"\x1b\[[0-9;]*m")


@pytest.mark.parametrize("color", [False, True])
def test_tables_show_control_characters_as_escapes(design, result, color):
    outputs = [reach_table(result, color), reach_matrix(result, color),
               exposure_table(design.name, compute_exposure(result), color),
               addressing_table(design.name, compute_addressing(result.world), color)]
    for text in outputs:
        if color:
            assert "\x1b[" in text  # rich's own colours are still there
            text = SGR.sub("", text)
        assert not CONTROL.search(text.replace("\n", " ")), repr(CONTROL.search(text.replace("\n", " ")))
    flat = "".join(SGR.sub("", t) for t in outputs).replace("\n", "").replace("│", "").replace(" ", "")
    assert "esc\\x1b[31mred\\x1b[0m" in flat or "esc\\x1b[31mred" in flat
    assert "nul\\x00byte" in flat


# --- messages -----------------------------------------------------------------------------

def test_messages_show_control_characters_as_escapes(capsys):
    import typer

    from simulator.cli.common import fail, print_problems
    from simulator.errors import Problem

    print_problems([Problem("container esc\x1b[2J\x00 is bad", path="containers.x")])
    with pytest.raises(typer.Exit):
        fail("no such thing: rtl\u202eexe\x07")
    err = capsys.readouterr().err
    assert "container esc\\x1b[2J\\x00 is bad" in err and "rtl\\u202eexe\\x07" in err
    assert not CONTROL.search(err.replace("\n", " "))


def test_report_is_written_without_a_diagram_when_graphviz_refuses_the_dot(tmp_path, monkeypatch):
    from pathlib import Path

    from typer.testing import CliRunner

    from simulator.cli import app
    from simulator.cli import render_cmds

    def refuse(source, fmt):
        raise RuntimeError("dot failed: Error: <stdin>: syntax error in line 3 near '\x1b'")

    monkeypatch.setattr(render_cmds, "run_dot", refuse)
    out = tmp_path / "r.html"
    design = Path(__file__).resolve().parents[2] / "designs/frontend-backend.yaml"
    r = CliRunner().invoke(app, ["report", str(design), "-o", str(out)])
    assert r.exit_code == 0, r.output
    assert "the report has no diagram: dot failed" in r.output and "\x1b" not in r.output
    assert "No diagram" in out.read_text(encoding="utf-8")
