"""The HTML report: one self-contained page a team reads before a change.

The diagram (SVG text the caller produced with `dot`), the reachability matrix by class
(source classes × target classes: containers alike up to their addresses are one class, so a
design without replicas has a row per container; a click on a cell shows its class-level groups
with their counts and one example trace each, embedded as JSON; above :data:`GRID_CELLS` cells
a list per source class of the cells where something answers), the exposure table and the
addressing table. No network access is needed to open it:
CSS and JS are inline (``templates/report.html``). Deterministic for the same input.
"""

from __future__ import annotations

import json
import re
from html import escape as _html_escape
from importlib.resources import files

from ..analysis.addressing import compute_addressing
from ..analysis.exposure import Exposure, compute_exposure
from ..analysis.probes import Via
from ..analysis.reachability import Matrix, ProbeGroup, ReachResult, compute_reach
from ..engine.trace import Disposition
from ..model import Design
from .text import printable

GRID_CELLS = 40_000  # source × target classes; above it the matrix is a list of the open cells per source class
CELL_LIMIT = 20_000  # cells on the page, at most (the rest: `netsim reach --by class`)
GROUP_LIMIT = 20_000  # groups embedded, at most: the open cells' first; a cell left without: `netsim reach`
TRACE_LIMIT = 3_000  # groups; above it the cells carry outcomes only (traces: `netsim trace`)


def render_report(design: Design, engine_version: str | None, svg: str, result: ReachResult | None = None,
                  exposure: list[Exposure] | None = None) -> str:
    """The whole page as text; ``svg`` is the laid-out diagram ("" when Graphviz is missing),
    ``result`` the design's reachability matrix and ``exposure`` its exposure when the caller has
    them already (the world is reused for the traces)."""
    result = result or compute_reach(design, engine_version)
    exposure = compute_exposure(result) if exposure is None else exposure
    data = grid_data(result, True)
    template = files("simulator.render").joinpath("templates/report.html").read_text(encoding="utf-8")
    parts = {
        "TITLE": escape(f"{design.name} — netsim report"),
        "SUMMARY": escape(_summary(result, data)),
        "DIAGRAM": _strip_prologue(svg) or "<p class=note>No diagram: Graphviz's <code>dot</code> was not installed, "
                                              "or could not lay out this design, when this report was written "
                                              "(netsim said why when it wrote the report).</p>",
        "EXPOSURE": _exposure_html(exposure),
        "ADDRESSING": _addressing_html(result),
        "LISTENERS": _listeners_html(design),
        "DATA": script_json(_printable_data(data)),
    }
    return re.sub(r"@@([A-Z]+)@@", lambda m: parts[m.group(1)], template)


_SCRIPT_UNSAFE = re.compile("[<>&\u2028\u2029\ud800-\udfff]")


def script_json(data) -> str:
    """``data`` as JSON that can sit inside a ``<script>`` element whatever its strings hold.

    ``<``, ``>`` and ``&`` (and U+2028/U+2029, lone surrogates) are written as ``\\u003c``-style
    escapes, so no ``</script>`` ends the element early and no ``<!--``/``<script`` sends the
    HTML parser into its "double-escaped" state, which would swallow the page's own script.
    ``JSON.parse`` reads the escapes back as the original characters."""
    text = json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return _SCRIPT_UNSAFE.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


def _printable_data(value):
    """The grid data with control characters in its strings shown as escapes, as everywhere on the page."""
    if isinstance(value, str):
        return printable(value, keep="\n")  # trace texts span lines
    if isinstance(value, list):
        return [_printable_data(v) for v in value]
    if isinstance(value, dict):
        return {k: _printable_data(v) for k, v in value.items()}
    return value


def escape(text: str) -> str:
    """Text for the page: control characters shown as escapes, markup escaped (quotes too)."""
    return _html_escape(printable(text))


def grid_data(result: ReachResult, with_traces: bool) -> dict:
    """The matrix by class: source classes (and the hosts, the LAN peer) × target classes, each cell's
    state and its class-level groups (each with its count and one real probe as example, with its trace
    when ``with_traces``). Small enough (:data:`GRID_CELLS`) it is a grid of every cell; larger, only the
    cells where something answers or is reached (a list per source class), at most :data:`CELL_LIMIT`.
    At most :data:`GROUP_LIMIT` groups are embedded, the open cells' first. One pass over the groups,
    holding one source's row at a time: the page and the memory stay bounded whatever the size."""
    design = result.design
    targets = [c.id for c in result.classes]
    column = {t: j for j, t in enumerate(targets)}
    hosts = 1 if len(design.hosts) == 1 else len(design.hosts)
    grid = (len(targets) + hosts + 1) * len(targets) <= GRID_CELLS
    sources: list[str] = []
    rows: list[str] = []
    states: dict[tuple[int, int], str] = {}
    blocked: list[int] = []
    kept: dict[tuple[int, int], list[ProbeGroup]] = {}  # cell -> its groups, while the budget lasts
    spilled: set[tuple[int, int]] = set()  # cells whose groups did not all fit
    stored = 0
    left_out = 0
    row: dict[int, str] = {}
    probes = answered = 0

    def flush() -> None:
        nonlocal left_out
        i = len(sources) - 1
        if grid:
            rows.append("".join(row.get(j, "-") for j in range(len(targets))))
        else:
            blocked.append(sum(state == "n" for state in row.values()))
        for j, state in sorted(row.items()):
            key = (i, j)
            if grid or (state != "n" and len(states) < CELL_LIMIT):
                states[key] = state  # (a grid has every cell: at most GRID_CELLS)
                continue
            left_out += state != "n"
            kept.pop(key, None)
        row.clear()

    for g in result.groups():
        probes += g.count
        answered += g.count if g.disposition is Disposition.DELIVERED else 0
        if not sources or sources[-1] != g.source_class:
            if sources:
                flush()
            sources.append(g.source_class)
        j = column.get(_cell_target(g) or "")
        if j is None:
            continue
        row[j] = _state(row.get(j, "-"), g, targets[j])
        key = (len(sources) - 1, j)
        if stored < GROUP_LIMIT or (row[j] != "n" and stored < 2 * GROUP_LIMIT):
            kept.setdefault(key, []).append(g)
            stored += 1
        else:
            spilled.add(key)
    if sources:
        flush()
    chosen: dict[tuple[int, int], list[ProbeGroup]] = {}
    budget = GROUP_LIMIT
    for open_first in (True, False):  # the cells where something answers first, then the blocked ones
        for key, groups in kept.items():
            if key in spilled or (states.get(key, "n") != "n") != open_first or len(groups) > budget:
                continue
            chosen[key] = groups
            budget -= len(groups)
    traced = with_traces and sum(map(len, chosen.values())) <= TRACE_LIMIT
    matrix = Matrix(result.world, with_traces=True) if traced else None
    texts: dict[str, int] = {}
    details = {f"{i},{j}": [_group_json(g, texts, matrix) for g in chosen[(i, j)]] for i, j in sorted(chosen)}
    data = {"design": design.name, "engine": result.engine_version, "sources": sources, "targets": targets,
            "cells": details, "traces": traced, "texts": list(texts), "probes": probes, "answered": answered,
            "left_out": left_out}
    if grid:
        data["rows"] = rows
    else:
        data["states"] = {f"{i},{j}": state for (i, j), state in states.items()}
        data["blocked"] = blocked
    return data


def _cell_target(g: ProbeGroup) -> str | None:
    """The target class a group's cell is in: the class dialled by IP, else the class that answered
    (through a name or a published port), else the class carrying the name."""
    if g.via == Via.IP:
        return g.target_class
    return g.responder_class or (g.target_class if g.via == Via.DNS else None)


_RANK = {"-": 0, "n": 1, "r": 2, "y": 3}


def _state(before: str, g: ProbeGroup, target: str) -> str:
    """A cell's state with one more group: answers (y) beats reached but nothing listens (r) beats blocked (n)."""
    if g.disposition is Disposition.DELIVERED and g.responder_class == target:
        now = "y"
    elif g.disposition is Disposition.REFUSED:
        now = "r"
    else:
        now = "n"
    return now if _RANK[now] > _RANK[before] else before


def _group_json(g: ProbeGroup, texts: dict[str, int], matrix: Matrix | None) -> list:
    """One group as [dialled, address, port, disposition, reason, trace, count, example]: texts and hops
    are indices into the shared table ``texts`` (the page rebuilds ``str(Trace)`` from them); the
    address and the trace are those of the example probe, named in the last field."""
    p = g.example
    dialled = {"ip": f"{g.target_class} @ {g.network}", "dns": f"name {g.name or p.name}",
               "host": f"host {g.host or ''}".strip()}[g.via]
    trace = matrix.retrace(p) if matrix is not None else None
    hops = [texts.setdefault(str(h), len(texts)) for h in trace.hops] if trace else []
    example = f"{p.source} → {p.target or p.name or p.host or ''}".strip()
    return [f"via {g.via}: {dialled}", p.address or "", f"{g.port}/{g.protocol}", g.disposition.value,
            texts.setdefault(g.reason, len(texts)), hops, g.count, example]


def _summary(result: ReachResult, data: dict) -> str:
    d = result.design
    return (f"engine {result.engine_version} · {len(d.hosts)} host(s), {len(d.networks)} network(s), "
            f"{len(d.containers)} container(s) in {len(result.classes)} class(es) · {data['probes']:,} probes, "
            f"{data['answered']:,} answered")


def _strip_prologue(svg: str) -> str:
    """The <svg> element alone (no XML declaration, doctype or comments before it)."""
    start = svg.find("<svg")
    return svg[start:].strip() if start >= 0 else ""


def _table(head: list[str], rows: list[list[str]], row_classes: list[str] | None = None) -> str:
    th = "".join(f"<th>{escape(h)}</th>" for h in head)
    body = []
    for i, row in enumerate(rows):
        cls = f' class="{row_classes[i]}"' if row_classes else ""
        body.append(f"<tr{cls}>" + "".join(f"<td>{escape(cell)}</td>" for cell in row) + "</tr>")
    return f"<table class=data><thead><tr>{th}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def _exposure_html(entries: list[Exposure]) -> str:
    if not entries:
        return "<p>Nothing is reachable from outside its own networks.</p>"
    rows = [[e.container, f"{e.port}/{e.protocol}", e.audience, e.through, e.example] for e in entries]
    classes = [f"aud-{e.audience.replace(' ', '-')}" for e in entries]
    return _table(["container", "port", "reachable from", "through", "for example"], rows, classes)


def _listeners_html(design: Design) -> str:
    """Each container's listeners with where netsim learnt them (docs/listeners.md); unknown ones with why."""
    rows, classes = [], []
    for c in design.containers:
        for lst in c.listeners:
            rows.append([c.name, f"{lst.port}/{lst.protocol.value}", lst.origin.value])
            classes.append(f"origin-{lst.origin.value}")
        if c.listeners_unknown is not None:
            rows.append([c.name, "unknown", c.listeners_unknown])
            classes.append("origin-unknown")
    if not rows:
        return "<p>No container listens on a port.</p>"
    return _table(["container", "listens", "origin (docs/listeners.md)"], rows, classes)


def _addressing_html(result: ReachResult) -> str:
    rows = []
    for r in compute_addressing(result.world):
        extra = "; ".join(list(r.published) + list(r.notes))
        ifaces = r.interfaces or ()
        if not ifaces:
            rows.append([r.container, r.host, r.mode, "-", "-", "-", "-", "-", r.default_route or "-", extra])
        for i, row in enumerate(ifaces):
            first = i == 0
            rows.append([r.container if first else "", r.host if first else "", r.mode if first else "", row.interface,
                         row.network, row.address, row.gateway or "-", ", ".join(row.names) or "-",
                         (r.default_route or "-") if first else "", extra if first else ""])
    return _table(["container", "host", "mode", "interface", "network", "address", "gateway", "names",
                   "default route", "published / notes"], rows)
