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

import itertools
import json
import re
from collections.abc import Callable, Iterable, Iterator
from html import escape as _html_escape
from importlib.resources import files

from ..analysis.addressing import compute_addressing
from ..analysis.exposure import Exposed, Exposure, ExposureGroup, exposure_groups, exposure_proofs
from ..analysis.paths import PairProbes
from ..analysis.probes import Probe, Via
from ..analysis.reachability import Matrix, ProbeGroup, ReachResult, compute_reach, reason_shape
from ..engine.ipam import GWBRIDGE
from ..engine.trace import Disposition, Trace
from ..model import Design
from .services import service_views
from .text import printable

GRID_CELLS = 40_000  # source × target classes; above it the matrix is a list of the open cells per source class
CELL_LIMIT = 20_000  # cells on the page, at most (the rest: `netsim reach --by class`)
GROUP_LIMIT = 8_000  # groups embedded, at most: the open cells' first; a cell left without: `netsim reach`
TRACE_LIMIT = 3_000
SHIP_GROUPS = 256  # source classes whose groups a row reader sends back with their rows (the page's first)
TABLE_ROWS = 2_000  # rows of the exposure, addressing and listeners tables, at most (the commands give every one)  # groups; above it the cells carry outcomes only (traces: `netsim trace`)


def render_report(design: Design, engine_version: str | None, svg: str, result: ReachResult | None = None,
                  exposure: list[Exposure] | None = None, proofs: list[Exposed] | None = None,
                  rows: list[RowEntry | None] | None = None) -> str:
    """The whole page as text; ``svg`` is the laid-out diagram ("" when Graphviz is missing),
    ``result`` the design's reachability matrix and ``exposure`` its exposure (or ``proofs``, its
    exposure with proofs: then the table gathers containers alike by class) when the caller has
    them already (the world is reused for the traces), ``rows`` the matrix's rows (:func:`grid_data`).
    Tables hold at most :data:`TABLE_ROWS` rows and say what they leave out."""
    result = result or compute_reach(design, engine_version)
    if exposure is None:
        proofs = exposure_proofs(result) if proofs is None else proofs
        exposure = [x.exposure for x in proofs]
    return fill_page({**matrix_parts(result, exposure, proofs, rows), **world_parts(result), **diagram_part(svg)})


def matrix_parts(result: ReachResult, exposure: list[Exposure], proofs: list[Exposed] | None = None,
                 rows: list[RowEntry | None] | None = None) -> dict[str, str]:
    """The parts of the page read from the matrix and the exposure (:func:`render_report`'s arguments):
    the title, the summary, the exposure table and the matrix's data."""
    data = grid_data(result, True, rows=rows)
    return {
        "TITLE": escape(f"{result.design.name} — netsim report"),
        "SUMMARY": escape(_summary(result, data)),
        "EXPOSURE": _exposure_html(exposure, None if proofs is None else exposure_groups(result, proofs)),
        "DATA": script_json(_printable_data(data)),
    }


def world_parts(result: ReachResult) -> dict[str, str]:
    """The parts of the page read from the design and its addressing only: services, addressing, listeners."""
    return {
        "SERVICES": _services_html(result),
        "SERVICESNAV": '<a href="#services-h">services</a>' if result.design.services else "",
        "ADDRESSING": _addressing_html(result),
        "LISTENERS": _listeners_html(result),
    }


def diagram_part(svg: str) -> dict[str, str]:
    """The diagram's part of the page: the SVG ``dot`` laid out ("" when there is none)."""
    return {"DIAGRAM": _strip_prologue(svg) or "<p class=note>No diagram: Graphviz's <code>dot</code> was not installed, "
                                                "or could not lay out this design, when this report was written "
                                                "(netsim said why when it wrote the report).</p>"}


def fill_page(parts: dict[str, str]) -> str:
    """The page: the template with every part (:func:`matrix_parts`, :func:`world_parts`, :func:`diagram_part`) in place."""
    template = files("simulator.render").joinpath("templates/report.html").read_text(encoding="utf-8")
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


def grid_data(result: ReachResult, with_traces: bool, groups: Iterable[ProbeGroup] | None = None,
              rows: Iterable[RowEntry | None] | None = None) -> dict:
    """The matrix by class: source classes (and the hosts, the LAN peer) × target classes, read off the
    matrix's coarse groups (:meth:`ReachResult.coarse_groups`, or ``groups`` when the caller has them):
    a group standing for several target classes gives each of their cells its count (``target_counts``).
    Each cell has its state and its groups with their counts there and one example each (a probe of
    that cell, with its trace when ``with_traces``, as long as at most :data:`TRACE_LIMIT` groups are
    embedded). Small enough (:data:`GRID_CELLS`) it is a grid of every cell; larger, only the cells
    where something answers or is reached (a list per source class), at most :data:`CELL_LIMIT`. At most
    :data:`GROUP_LIMIT` groups are embedded, the open cells' first; a cell whose groups did not all fit
    carries none (the page names the command that lists them). One pass over the groups, holding one
    source's row at a time: the page and the memory stay bounded whatever the size.

    Once no later source class can add a cell or a group to the page, the rest are read as rows only
    (:func:`source_row`): computed by :meth:`ReachResult.map_coarse` (in worker processes on a large
    design), or taken from ``rows``: every source class's entry in matrix order, as :func:`row_reader`
    makes them beside another reader of the groups (None for a class without groups)."""
    design = result.design
    targets, column, classes, grid = _layout(result)
    sources: list[str] = []
    lines: list[str] = []
    states: dict[tuple[int, int], str] = {}
    blocked: list[int] = []
    kept: dict[tuple[int, int], list[tuple[ProbeGroup, int]]] = {}  # cell -> its groups and counts there
    stored = 0
    left_out = 0
    missing: set[int] = set()  # cells of this row with a group not kept: they carry none
    probes = answered = 0

    # (keep and wanted are told of a row while it is read, before add() lists its source: its number is len(sources))
    def keep(j: int, g: ProbeGroup, n: int, open_cell: bool) -> None:
        nonlocal stored
        key = (len(sources), j)
        if stored < GROUP_LIMIT or (open_cell and stored < 2 * GROUP_LIMIT):
            kept.setdefault(key, []).append((g, n))
            stored += 1
        else:
            missing.add(j)

    def wanted(j: int) -> bool:  # no more groups kept: only the cells holding some this row need theirs
        return stored < 2 * GROUP_LIMIT or (len(sources), j) in kept

    def add(row: SourceRow) -> None:
        nonlocal left_out, stored, probes, answered
        cid, cells, shut, n_probes, n_answered = row
        sources.append(cid)
        i = len(sources) - 1
        probes += n_probes
        answered += n_answered
        if not grid:
            blocked.append(shut)
        for j in missing:
            stored -= len(kept.pop((i, j), ()))
        missing.clear()
        if grid:
            lines.append("".join(cells.get(j, "-") for j in range(len(targets))))
        for j, state in sorted(cells.items()):
            key = (i, j)
            if grid or len(states) < CELL_LIMIT:
                states[key] = state  # (a grid has every cell: at most GRID_CELLS)
                continue
            left_out += 1
            stored -= len(kept.pop(key, ()))

    def settled() -> bool:
        """Whether no later row can put a cell (a grid has every cell) or a group on the page."""
        return stored >= 2 * GROUP_LIMIT or (not grid and len(states) >= CELL_LIMIT)

    def by_source() -> Iterator[tuple[str, list[ProbeGroup] | None, SourceRow | None]]:
        """(source class, its groups or None, its row or None) in matrix order: every class's groups while
        the page may take some, rows only after that where they are cheaper."""
        if groups is not None or result.__dict__.get("_given") is not None:
            for cid, gs in itertools.groupby(result.coarse_groups() if groups is None else groups, lambda g: g.source_class):
                yield cid, list(gs), None
        elif rows is not None:
            yield from ((row[0], gs, row) for row, gs in filter(None, rows))
        else:  # computed here a few classes at a time while the page may take their groups, then rows only
            todo = source_classes(result)
            at = 0
            while at < len(todo) and not settled():
                yield from ((cid, gs, None) for cid, gs in result.map_coarse(lambda cid, gs: (cid, gs), todo[at:at + _CHUNK]))
                at += _CHUNK
            reader = row_reader(result, 0)
            yield from ((row[0], None, row) for row, _ in filter(None, result.map_coarse(reader, todo[at:])))

    for cid, gs, row in by_source():
        if settled():
            row = row or (source_row(cid, gs, column, targets, classes, grid) if gs else None)
        else:
            if gs is None:  # a class the page may take groups of, read beside something else without them
                gs = next(iter(result.map_coarse(lambda _, gs: gs, [cid])))
            row = source_row(cid, gs, column, targets, classes, grid, keep, wanted) if gs else None
        if row is not None:
            add(row)
    chosen: dict[tuple[int, int], list[tuple[ProbeGroup, int]]] = {}
    budget = GROUP_LIMIT
    for open_first in (True, False):  # the cells where something answers first, then the blocked ones
        for key, entries in kept.items():
            if (states.get(key, "n") != "n") != open_first or len(entries) > budget:
                continue
            chosen[key] = entries
            budget -= len(entries)
    traced = with_traces and sum(map(len, chosen.values())) <= TRACE_LIMIT
    examples = _Examples(result, traced)
    texts: dict[str, int] = {}
    details = {f"{i},{j}": [_group_json(g, n, targets[j], texts, examples) for g, n in sorted(chosen[(i, j)], key=_order)]
               for i, j in sorted(chosen)}
    data = {"design": design.name, "engine": result.engine_version, "sources": sources, "targets": targets,
            "cells": details, "traces": traced, "texts": list(texts), "probes": probes, "answered": answered,
            "left_out": left_out}
    if grid:
        data["rows"] = lines
    else:
        data["states"] = {f"{i},{j}": state for (i, j), state in states.items()}
        data["blocked"] = blocked
    return data


def _layout(result: ReachResult) -> tuple[list[str], dict[str, int], frozenset[str], bool]:
    """The matrix's target classes, their columns, the same as a set, and whether it is a grid (else a list)."""
    targets = [c.id for c in result.classes]
    column = {t: j for j, t in enumerate(targets)}
    hosts = 1 if len(result.design.hosts) == 1 else len(result.design.hosts)
    # (a set: intersecting with it walks the smaller side, not every class per row)
    return targets, column, frozenset(column), (len(targets) + hosts + 1) * len(targets) <= GRID_CELLS


def row_reader(result: ReachResult, ship: int = SHIP_GROUPS) -> Callable[[str, list[ProbeGroup]], RowEntry | None]:
    """``(source class, its coarse groups) -> (its row, its groups when it is one of the first ``ship``
    classes, else None)`` (:func:`source_row`; None without groups): for a caller reading each class's
    groups for something else (:meth:`ReachResult.map_coarse`, in worker processes), so that
    :func:`grid_data` (its ``rows``) need not compute them again. Only the first classes' groups
    travel: those the page may embed (the others' would be read for their row only)."""
    targets, column, classes, grid = _layout(result)
    first = set(source_classes(result)[:ship])

    def read(cid: str, gs: list[ProbeGroup]) -> RowEntry | None:
        return (source_row(cid, gs, column, targets, classes, grid), gs if cid in first else None) if gs else None

    return read


#: one source class's row of the matrix (:func:`source_row`): its class, its cells' states by column,
#: its blocked cells not listed (a list's; 0 in a grid), its probes, the probes answered
SourceRow = tuple[str, dict[int, str], int, int, int]
RowEntry = tuple[SourceRow, list[ProbeGroup] | None]  # a row, and its class's groups when they may go on the page


def source_row(cid: str, groups: list[ProbeGroup], column: dict[str, int], targets: list[str], classes: frozenset[str],
               grid: bool, keep: Callable[[int, ProbeGroup, int, bool], None] | None = None,
               wanted: Callable[[int], bool] | None = None) -> SourceRow:
    """One source class's row read off its coarse groups: each cell's state (in a grid every cell with a
    group, in a list the open ones), the number of its other cells some group blocks (a list's), its
    probes and those answered. ``keep(column, group, probes there, open)`` is told each group of each
    cell the page may embed (in a list the blocked groups of the open cells ``wanted`` says, last)."""
    row: dict[int, str] = {}
    shut: list[tuple[ProbeGroup, dict[str, int] | None]] = []  # a list's blocked groups (and their cells)
    probes = answered = 0
    for g in groups:
        probes += g.count
        delivered = g.disposition is Disposition.DELIVERED
        answered += g.count if delivered else 0
        if not grid and g.disposition is not Disposition.REFUSED and not (delivered and g.responder_class in column):
            shut.append((g, None))  # blocked in every cell it covers: read once, at the end of the row
            continue
        for j, n in _cells(g, column):
            state = _state(row.get(j, "-"), g, targets[j])
            if grid or state != "n":
                row[j] = state
                if keep is not None:
                    keep(j, g, n, state != "n")
            else:  # a list's blocked cell beside this group's open one: read at the end of the row
                shut.append((g, {targets[j]: n}))
    if grid:
        return cid, row, 0, probes, answered
    # the blocked groups: counted per cell, kept where a cell is open (C-level set and dict
    # operations: a row of a large matrix covers thousands of cells)
    closed: set[str] = set()
    opened = {} if keep is None else {targets[j]: j for j in row if wanted is None or wanted(j)}
    for g, cells in shut:
        if cells is None and (g.via == Via.IP or g.responder_class is None):
            closed.update(g.covered_classes())
            if opened:
                cells = g.counts_by_class()
        elif cells is None:
            cells = {g.responder_class or "": g.count}  # (not None here: the branch above took those)
            closed.update(cells)
        else:
            closed.update(cells)
        if keep is not None and opened and cells:
            for t in [t for t in opened if t in cells]:
                keep(opened[t], g, cells[t], True)
    return cid, row, len(closed.intersection(classes)) - sum(1 for j in row if targets[j] in closed), probes, answered


def source_classes(result: ReachResult) -> list[str]:
    """The source classes of the matrix in order (as :attr:`ProbeGroup.source_class` names them)."""
    of = {m: c.id for c in result.classes for m in c.members}
    return list(dict.fromkeys(of.get(name, name) for name in result.source_names()))


_CHUNK = 16  # source classes computed in this process at a time while their groups may go on the page


_VIA_ORDER = {Via.IP: 0, Via.DNS: 1, Via.HOST: 2}


def _order(entry: tuple[ProbeGroup, int]) -> tuple:
    """A cell's groups in a fixed order (the matrix promises none within a source class): by way,
    network, name, host, port, protocol, then what became of them."""
    g = entry[0]
    return (_VIA_ORDER[g.via], g.network or "", g.name or "", g.host or "", g.port, g.protocol, g.family,
            g.disposition.value, g.responder_class or "", g.reason)


def _cells(g: ProbeGroup, column: dict[str, int]) -> list[tuple[int, int]]:
    """The cells a group's probes fall in, each with its number of probes: via ip the target classes
    dialled; via a name or a published port the class that answered, else (a name) the classes
    carrying the name; a group answered by no container via a published port is in no cell."""
    if g.via == Via.IP or (g.via == Via.DNS and g.responder_class is None):
        return [(column[t], n) for t, n in g.target_counts if t in column]
    j = column.get(g.responder_class or "")
    return [] if j is None else [(j, g.count)]
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


class _Examples:
    """One probe per embedded group and cell. A group standing for several target classes has its
    example in one of them; for another cell, a probe of that cell with the group's outcome is made
    (from the first members of the source and target classes, on the traced matrix) when the cells
    carry traces; when none is found, or without traces, the group's own example stands, named with
    its class. A group via dns standing for several names lists those of the cell's class that have
    its outcome (when the cells carry traces)."""

    NAMES = 12  # names listed for one group via dns, at most

    def __init__(self, result: ReachResult, traced: bool):
        self.result = result
        self.traced = traced
        self._pairs: dict[int, PairProbes] = {}  # by family, on the traced matrix of that family's world
        self.members = {c.id: c.members for c in result.classes}
        self._names: dict[str, list[str]] | None = None
        self._own: set[str] = set()  # names a single container carries as its engine name

    def names(self, target_class: str) -> list[str]:
        """The names only containers of ``target_class`` carry (engine names, services, aliases), in
        design order: what a probe via dns of that class's cell dials."""
        if self._names is None:
            carriers: dict[str, set[str]] = {}
            for c in self.result.design.containers:
                for n in c.carried_names():
                    carriers.setdefault(n, set()).add(c.name)
            self._names = {}
            for n, holders in carriers.items():
                classes = {self.result.class_of(h).id for h in holders}
                if len(classes) == 1:
                    self._names.setdefault(classes.pop(), []).append(n)
                if len(holders) == 1 and self.result.design.container(next(iter(holders))).engine_name == n:
                    self._own.add(n)
        return self._names.get(target_class, [])

    def names_text(self, names: list[str]) -> str:
        """Names of one group as the cell shows them: the shared ones (services, aliases) each, the
        containers' own names as a range (they grow with the replicas)."""
        own = [n for n in names if n in self._own]
        parts = [n for n in names if n not in self._own][:self.NAMES]
        if len(parts) < len(names) - len(own):
            parts.append("…")
        if own:
            parts.append(own[0] if len(own) == 1 else f"{own[0]} … {own[-1]} ({len(own)} own names)")
        return ("name " if len(names) == 1 else "names ") + ", ".join(parts)

    def pairs(self, family: int) -> PairProbes | None:
        """Exact probes of ``family`` on its traced matrix (None without traces, or no such side)."""
        if not self.traced:
            return None
        if family not in self._pairs:
            world = self.result.world.v6 if family == 6 else self.result.world
            if world is None:
                return None
            self._pairs[family] = PairProbes(Matrix(world, with_traces=True))
        return self._pairs[family]

    def cls(self, name: str | None) -> str | None:
        if name is None or not self.result.design.has_container(name):
            return name
        return self.result.class_of(name).id

    def alike(self, g: ProbeGroup, q: Probe | None) -> bool:
        return q is not None and q.disposition is g.disposition and self.cls(q.responder) == g.responder_class \
            and reason_shape(q.reason) == reason_shape(g.reason)

    def of(self, g: ProbeGroup, target: str) -> tuple[Probe, bool, list[str]]:
        """A probe of ``g`` in the cell of ``target``, whether it is one (else the group's example), and
        for a group via dns of several names, the names of that cell it stands for (when traced)."""
        p = g.example
        pairs = self.pairs(g.family)
        if g.via == Via.DNS and g.name is None and pairs is not None:
            for source in self.members.get(g.source_class, (g.source_class,))[:2]:
                found = [q for q in (pairs.dns(source, n, g.port, g.protocol) for n in self.names(target))
                         if q is not None and self.alike(g, q)]
                if found:
                    return found[0], True, [q.name or "" for q in found]
        if not g.targets or self.in_cell(g, p, target):
            return p, True, []
        if pairs is not None and g.via == Via.IP:
            for source in self.members.get(g.source_class, (g.source_class,))[:2]:
                for member in self.members.get(target, ())[:2]:
                    networks = [g.network] if g.network else \
                        [ep.network for ep in self.result.world.addressing.endpoints_of(member)]
                    for network in networks:
                        q = pairs.ip(source, member, network, g.port, g.protocol)
                        if self.alike(g, q):
                            assert q is not None
                            return q, True, []
        return p, False, []

    def in_cell(self, g: ProbeGroup, p: Probe, target: str) -> bool:
        if g.via == Via.IP:
            return self.cls(p.target) == target
        if g.responder_class is not None:  # a cell of the class that answered
            return True
        return p.name in self.names(target)

    def trace(self, p: Probe) -> Trace | None:
        pairs = self.pairs(p.family)
        if pairs is None:
            return None
        return p.trace or pairs.retrace(p)


def _group_json(g: ProbeGroup, count: int, target: str, texts: dict[str, int], examples: _Examples) -> list:
    """One group in one cell as [dialled, address, port, disposition, reason, trace, count, example]: its
    probes in that cell; texts and hops are indices into the shared table ``texts`` (the page rebuilds
    ``str(Trace)`` from them); the address, reason and trace are those of the example probe, named in
    the last field (with its class when it is not in this cell)."""
    p, here, names = examples.of(g, target)
    if g.via == Via.IP:
        dialled = f"{target} @ {g.network}" if g.network else f"{target} on its networks"
    elif g.via == Via.DNS:
        dialled = f"name {g.name}" if g.name else examples.names_text(names) if names else "their names"
    else:
        dialled = f"host {g.host or ''}".strip()
    trace = examples.trace(p)
    hops = [texts.setdefault(str(h), len(texts)) for h in trace.hops] if trace else []
    example = f"{p.source} → {p.target or p.name or p.host or ''}".strip()
    if not here:
        example += f" (in {examples.cls(p.target) or p.name}: the same way, port and outcome)"
    return [f"via {g.via}{' over IPv6' if g.family == 6 else ''}: {dialled}", p.address or "", f"{g.port}/{g.protocol}", p.disposition.value,
            texts.setdefault(p.reason, len(texts)), hops, count, example]


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


def _capped(rows: list[list[str]], classes: list[str] | None, total: int, what: str, command: str) -> tuple:
    """At most :data:`TABLE_ROWS` rows, and the note saying what was left out ("" when nothing)."""
    if len(rows) <= TABLE_ROWS:
        return rows, classes, ""
    every = f"; every one: <code>{escape(command)}</code>" if command else ""
    note = f"<p class=note>The first {TABLE_ROWS:,} rows ({what}) of {total:,}{every}.</p>"
    return rows[:TABLE_ROWS], None if classes is None else classes[:TABLE_ROWS], note


def _exposure_html(entries: list[Exposure], groups: list[ExposureGroup] | None = None) -> str:
    """One row per exposure, or per class of containers alike and case (``groups``) when some gather several."""
    if not entries:
        return "<p>Nothing is reachable from outside its own networks.</p>"
    dual = any(e.families for e in entries)
    if groups is not None and any(g.count > 1 or g.members > 1 for g in groups):
        rows = []
        for g in groups:
            e = g.first
            who = e.container if g.members == 1 else g.container_class + \
                (f" ({len(g.containers)} of {g.members})" if len(g.containers) < g.members else "")
            ports = f"{g.ports[0]}/{g.protocol}" if len(g.ports) == 1 else \
                f"{min(g.ports)}…{max(g.ports)}/{g.protocol} ({len(g.ports)} ports)"
            through = e.through if g.count == 1 else f"{e.through} (and {g.count - 1} alike)"
            rows.append(_with_family([who, ports, g.audience, through, e.example], e, dual))
        classes = [f"aud-{g.audience.replace(' ', '-')}" for g in groups]
        rows, classes, note = _capped(rows, classes, len(groups), "classes", "netsim exposure DESIGN")
        head = "<p class=note>Containers alike (the same class) share a row, with how many of them are exposed.</p>"
        return head + _table(_with_family(["container or class", "port", "reachable from", "through", "for example"],
                                          None, dual), rows, classes) + note
    rows = [_with_family([e.container, f"{e.port}/{e.protocol}", e.audience, e.through, e.example], e, dual) for e in entries]
    classes = [f"aud-{e.audience.replace(' ', '-')}" for e in entries]
    rows, classes, note = _capped(rows, classes, len(entries), "exposures", "netsim exposure DESIGN --all")
    return _table(_with_family(["container", "port", "reachable from", "through", "for example"], None, dual),
                  rows, classes) + note


def _with_family(row: list[str], e: Exposure | None, dual: bool) -> list[str]:
    """A row of the exposure table with its family cell after "reachable from" (the header's with
    ``e`` None) in a design with IPv6; unchanged otherwise."""
    if not dual:
        return row
    return [*row[:3], "family" if e is None else e.family_text, *row[3:]]


def _listeners_html(result: ReachResult) -> str:
    """Each class's listeners with where netsim learnt them (docs/listeners.md); unknown ones with why.
    A container without twins is its own class, named by its name."""
    rows, classes = [], []
    design = result.design
    for cls in result.classes:
        seen: dict[tuple[str, str], None] = {}
        for name in cls.members:
            c = design.container(name)
            for lst in c.listeners:
                seen[(f"{lst.port}/{lst.protocol.value}", lst.origin.value)] = None
            if c.listeners_unknown is not None:
                seen[("unknown", c.listeners_unknown)] = None
        for listens, origin in seen:
            rows.append([cls.id, listens, origin])
            classes.append("origin-unknown" if listens == "unknown" else f"origin-{origin}")
    if not rows:
        return "<p>No container listens on a port.</p>"
    rows, classes, note = _capped(rows, classes, len(rows), "listeners", "")
    return _table(["container", "listens", "origin (docs/listeners.md)"], rows, classes) + note


def _services_html(result: ReachResult) -> str:
    """The swarm services (a section only when the design has some): the IPVS caveat, a row per service
    (mode, endpoint mode and virtual IPs, networks, placement, pending tasks, constraints, published
    ports and the nodes that bind them), then a row per task with its node and addresses."""
    design, world = result.design, result.world
    if not design.services:
        return ""
    views = service_views(design, world)
    without = [h.name for h in design.hosts if not design.host(h.name).kernel.ipvs]
    if without:
        caveat = (f"Host(s) {escape(', '.join(without))} have no IPVS (<code>CONFIG_IP_VS</code>) in their kernel: there a "
                  "connection to a service's virtual IP gets no route to host (<code>tasks.&lt;service&gt;</code> and "
                  "the tasks' addresses answer), and a port published in ingress mode is bound on no address (the "
                  "engine programs no routing mesh).")
    else:
        caveat = ("Every host's kernel has IPVS: a service's virtual IP is balanced over its tasks in the client's "
                  "namespace, and a port published in ingress mode is open on every node's addresses.")
    caveat += (" Through the routing mesh a task sees the ingress sandbox's address as the source, not the "
               "client's. Placement follows the scheduler's spread; the engine may choose other nodes where no "
               "constraint pins the tasks (docs/modes/swarm-services.md).")
    rows = [[v.name, v.mode_text, v.endpoint_text, ", ".join(v.networks), "; ".join(v.placement_lines()) or "-",
             v.pending_text or "-", "; ".join(v.constraints) or "-", "; ".join(v.port_lines()) or "-"]
            for v in views]
    rows, _, note = _capped(rows, None, len(rows), "services", "")
    table = _table(["service", "mode", "endpoint", "networks", "placement", "pending", "constraints",
                    "published ports"], rows) + note
    tasks = []
    for v in views:
        for t in design.tasks(v.name):
            eps = sorted(world.addressing.endpoints_of(t.name), key=lambda e: (e.network == GWBRIDGE, e.network))
            tasks.append([t.name, v.name, t.host, "; ".join(f"{e.network} {e.address}" for e in eps) or "-"])
    tasks, _, tnote = _capped(tasks, None, len(tasks), "tasks", "netsim addresses DESIGN")
    return (f'<h2 id="services-h">Services</h2>\n<p class=note>{caveat}</p>\n{table}\n<h3>Tasks</h3>\n'
            + _table(["task", "service", "node", "addresses"], tasks) + tnote + "\n")


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
                         row.network, row.addresses.replace("\n", " "), row.gateways.replace("\n", " "),
                         ", ".join(row.names) or "-",
                         (r.default_route or "-") if first else "", extra if first else ""])
    rows, _, note = _capped(rows, None, len(rows), "interfaces", "netsim addresses DESIGN")
    return _table(["container", "host", "mode", "interface", "network", "address", "gateway", "names",
                   "default route", "published / notes"], rows) + note
