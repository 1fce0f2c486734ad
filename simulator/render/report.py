"""The HTML report: one self-contained page a team reads before a change.

The diagram (SVG text the caller produced with `dot`), the reachability grid (sources ×
target containers; a click on a cell shows its probes and traces, embedded as JSON),
the exposure table and the addressing table. No network access is needed to open it:
CSS and JS are inline (``templates/report.html``). Deterministic for the same input.
"""

from __future__ import annotations

import json
import re
from html import escape as _html_escape
from importlib.resources import files

from ..analysis.addressing import compute_addressing
from ..analysis.exposure import compute_exposure
from ..analysis.probes import Probe
from ..analysis.reachability import ReachResult, compute_reach, reach_of
from ..model import Design
from .text import printable

TRACE_LIMIT = 25_000  # probes; above it the grid carries outcomes only (traces: `netsim trace`)


def render_report(design: Design, engine_version: str | None, svg: str, result: ReachResult | None = None) -> str:
    """The whole page as text; ``svg`` is the laid-out diagram ("" when Graphviz is missing),
    ``result`` the design's reachability matrix when the caller has it already (its world is
    reused for the traces)."""
    result = result or compute_reach(design, engine_version)
    with_traces = len(result.probes) <= TRACE_LIMIT
    if with_traces and not result.with_traces:
        result = reach_of(result.world, with_traces=True)
    data = grid_data(result, with_traces)
    template = files("simulator.render").joinpath("templates/report.html").read_text(encoding="utf-8")
    parts = {
        "TITLE": escape(f"{design.name} — netsim report"),
        "SUMMARY": escape(_summary(result)),
        "DIAGRAM": _strip_prologue(svg) or "<p class=note>No diagram: Graphviz's <code>dot</code> was not installed, "
                                              "or could not lay out this design, when this report was written "
                                              "(netsim said why when it wrote the report).</p>",
        "EXPOSURE": _exposure_html(result),
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
    """Sources, targets, one state letter per cell, and each cell's probes (with traces when computed)."""
    design = result.design
    carriers = _name_carriers(design)
    sources: list[str] = []
    targets = [c.name for c in design.containers]
    cells: dict[tuple[str, str], list[Probe]] = {}
    for p in result.probes:
        if p.source not in sources:
            sources.append(p.source)
        target = _cell_target(p, carriers)
        if target is not None:
            cells.setdefault((p.source, target), []).append(p)
    rows: list[str] = []
    details: dict[str, list] = {}
    texts: dict[str, int] = {}
    for i, s in enumerate(sources):
        row = []
        for j, t in enumerate(targets):
            probes = cells.get((s, t), [])
            row.append(_state(probes, t))
            if with_traces and probes:
                details[f"{i},{j}"] = [_probe_json(p, texts) for p in probes]
        rows.append("".join(row))
    return {"design": design.name, "engine": result.engine_version, "sources": sources, "targets": targets,
            "rows": rows, "cells": details, "traces": with_traces, "texts": list(texts)}


def _name_carriers(design: Design) -> dict[str, set[str]]:
    out: dict[str, set[str]] = {}
    for c in design.containers:
        for att in c.attachments or ():
            for name in c.dns_names(att):
                out.setdefault(name, set()).add(c.name)
        for own in (c.engine_name, c.service):
            if own:
                out.setdefault(own, set()).add(c.name)
    return out


def _cell_target(p: Probe, carriers: dict[str, set[str]]) -> str | None:
    if p.via == "ip":
        return p.target
    if p.via == "dns":
        names = carriers.get(p.name or "", set())
        return p.responder if p.responder in names else (min(names) if names else None)
    return p.responder  # via the host: the container behind the published port


def _state(probes: list[Probe], target: str) -> str:
    if not probes:
        return "-"
    if any(p.reachable and (p.responder == target or target in p.responders) for p in probes):
        return "y"
    return "r" if any(p.disposition.value == "REFUSED" for p in probes) else "n"


def _probe_json(p: Probe, texts: dict[str, int]) -> list:
    """One probe as [dialled, address, port, disposition, reason, trace]; texts and hops are indices
    into the shared table ``texts`` (the page rebuilds ``str(Trace)`` from them)."""
    dialled = {"ip": f"{p.target} @ {p.network}", "dns": f"name {p.name}", "host": f"host {p.host or ''}".strip()}[p.via]
    trace = [texts.setdefault(str(h), len(texts)) for h in p.trace.hops] if p.trace else []
    return [f"via {p.via}: {dialled}", p.address or "", f"{p.port}/{p.protocol}", p.disposition.value,
            texts.setdefault(p.reason, len(texts)), trace]


def _summary(result: ReachResult) -> str:
    ok = sum(p.reachable for p in result.probes)
    d = result.design
    return (f"engine {result.engine_version} · {len(d.hosts)} host(s), {len(d.networks)} network(s), "
            f"{len(d.containers)} container(s) · {len(result.probes):,} probes, {ok:,} answered")


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


def _exposure_html(result: ReachResult) -> str:
    entries = compute_exposure(result)
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
