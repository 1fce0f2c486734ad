"""No code decides anything by reading the text of a trace step, a hop label, a reason or an exposure's "through".

Those texts are rendered from typed fields (simulator/engine/trace.py, analysis/exposure.py); code
that needs to know what happened reads the fields. This AST check finds the text being *read*:
compared (``==``, ``in``), searched with a string method (``startswith``, ``split``, ``partition``,
``find``, ...), sliced, or matched with ``re``. Passing the text on to be shown is fine.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SIMULATOR = ROOT / "simulator"
RENDERING = {SIMULATOR / "engine" / "trace.py"}  # where step texts are made

TEXT_ATTRIBUTES = {"detail", "node", "through", "reason"}  # Step.detail, Hop.node, Exposure.through, Trace/Probe.reason
TRACE_NAMES = ("step", "hop", "trace")  # str(step), str(hop), str(trace): the rendered text
RE_FUNCTIONS = {"search", "match", "fullmatch", "findall", "finditer", "split", "sub", "subn"}
LAYOUT = {"splitlines", "ljust", "rjust", "center", "encode"}  # laying the text out to show it is rendering


def _is_text(node: ast.AST) -> bool:
    """An expression that is a rendered text: ``x.detail``, ``x.node``, ``x.through``, ``str(step)``."""
    if isinstance(node, ast.Attribute) and node.attr in TEXT_ATTRIBUTES:
        return True
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "str" and len(node.args) == 1:
        arg = node.args[0]
        name = arg.attr if isinstance(arg, ast.Attribute) else arg.id if isinstance(arg, ast.Name) else ""
        return any(t in name.lower() for t in TRACE_NAMES)
    return False


def text_decisions(source: str, filename: str = "<string>") -> list[str]:
    """Every place ``source`` reads a rendered text to decide something: "file:line: what"."""
    found = []
    for node in ast.walk(ast.parse(source, filename)):
        where = f"{filename}:{getattr(node, 'lineno', 0)}"
        if isinstance(node, ast.Compare):
            if any(_is_text(n) for n in (node.left, *node.comparators)):
                found.append(f"{where}: compares a rendered text")
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            if _is_text(node.func.value) and node.func.attr not in LAYOUT:
                found.append(f"{where}: calls .{node.func.attr}() on a rendered text")
            elif (isinstance(node.func.value, ast.Name) and node.func.value.id == "re"
                  and node.func.attr in RE_FUNCTIONS and any(_is_text(a) for a in node.args)):
                found.append(f"{where}: matches a rendered text with re.{node.func.attr}")
        elif isinstance(node, ast.Subscript) and _is_text(node.value):
            found.append(f"{where}: slices a rendered text")
    return found


OLD_CODE = {  # what the code did before the steps were typed: each must be caught
    "walk: DNAT in the text": 'if s.kind == "netfilter" and "DNAT" in s.detail:\n    pass',
    "walk: bridged on": 'ok = s.detail.startswith("bridged on")',
    "walk: split the text": 'parts.append(s.detail.split(" to ")[0])',
    "reachability: split on a dash": 'why = res.step.detail.split(" — ")[-1] if " — " in res.step.detail else res.step.detail',
    "reachability: hop label equality": "same = hops[0].node == ns.label",
    "diagram: exposure prefix": 'skip = e.through.startswith("its address")',
    "diagram: hop label partition": 'kind, _, rest = hop.node.partition(" ")',
    "a trace's text searched": 'm = re.search(r"DNAT", str(trace))',
    "a step's text sliced": "head = str(step)[:5]",
    "reachability: an address found in a reason": 'm = re.search(r"-d (\\d+\\.\\d+\\.\\d+\\.\\d+)/32", t.reason)',
}


@pytest.mark.parametrize("name", sorted(OLD_CODE))
def test_the_check_catches_text_decisions(name):
    assert text_decisions(OLD_CODE[name]), f"{name}: not caught"


def test_showing_a_text_is_not_a_decision():
    shown = ('ev = Evidence(what, res.step.detail, str(Hop(place, (res.step,))))\n'
             'line = f"{step.kind}: {step.detail}"\n'
             'rows.append([e.container, e.through])\n'
             'key = (e.container, e.through)\n'
             'lines = [f"    {t}" for t in str(trace).splitlines()]\n')
    assert text_decisions(shown) == []


def test_no_code_reads_rendered_text_to_decide():
    found = []
    for path in sorted(SIMULATOR.rglob("*.py")):
        if path in RENDERING:
            continue
        found += text_decisions(path.read_text(encoding="utf-8"), str(path.relative_to(ROOT)))
    assert found == [], "decide from the typed fields, not the text:\n" + "\n".join(found)
