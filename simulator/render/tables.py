"""Tables for people: the reachability matrix, exposure and addressing.

Each function returns text (or, for the tables that can grow to any size, yields it a few hundred
lines at a time); colour is added only when the caller asks for it. The layout is rich's table
look, done by :mod:`simulator.render.plain` in time linear in the rows.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator
from itertools import groupby, islice

from ..analysis.addressing import ContainerAddressing
from ..analysis.exposure import Exposure, ExposureGroup
from ..analysis.probes import Probe, via_text
from ..analysis.reachability import ProbeGroup, ReachResult, reason_shape
from ..engine.trace import Disposition
from .plain import UNLIMITED, Column, Styled, Table, render, text_lines

__all__ = ["DEFAULT_WIDTH", "UNLIMITED", "addressing_table", "addressing_text", "exposure_group_table",
           "exposure_table", "reach_groups_table", "reach_header", "reach_matrix", "reach_probe_tables",
           "reach_summary", "reach_table", "reach_totals"]

DEFAULT_WIDTH = 100


def _text(table: Table, rows: Iterable, color: bool, width: int | None) -> str:
    return "".join(render(table, rows, width=width, color=color))


def _line(text: str, color: bool, width: int | None, style: str | None = None) -> str:
    return "".join(line + "\n" for line in text_lines(text, style, width=width, color=color))


def _via(row: Probe | ProbeGroup) -> str:
    """The way a probe or group dials, with ``6`` appended over IPv6 (``ip6``, ``dns6``: AAAA, ``host6``)."""
    via = via_text(row.via)
    return via if row.family == 4 else f"{via}6"


def _dialled(p: Probe) -> str:
    if p.via == "ip":
        return f"{p.target} @ {p.network}"
    if p.via == "dns":
        return f"name {p.name}"
    return f"host {p.host}" if p.host else "host"


def _outcome(p: Probe) -> Styled:
    if p.reachable:
        label = f"✔ {p.responder}"
        if p.responders and len(p.responders) > 1:
            label += f" (or {', '.join(r for r in p.responders if r != p.responder)})"
        return Styled(label, "green")
    return _unanswered(p.disposition)


def _unanswered(disposition: Disposition) -> Styled:
    """The result cell of probes nobody answers: yellow when refused or not resolved, else red."""
    value = disposition._value_  # (.value is a property: slow at 100,000s of rows)
    return Styled(f"✘ {value.lower().replace('_', ' ')}", "yellow" if value in ("REFUSED", "NAME_NOT_RESOLVED") else "red")


def reach_table(result: ReachResult, color: bool = False, only: str | None = None, sources: list[str] | None = None,
                width: int | None = DEFAULT_WIDTH) -> str:
    """One table per source: what it dials, how, and who answers (or why not).

    The table fits ``width`` columns by wrapping the reason (None: nothing wraps).
    """
    groups: dict[str, list[Probe]] = defaultdict(list)
    for p in result.probes:
        if sources and p.source not in sources:
            continue
        if (only == "reachable" and not p.reachable) or (only == "unreachable" and p.reachable):
            continue
        groups[p.source].append(p)
    total = len(result.probes)
    ok = sum(p.reachable for p in result.probes)
    parts = [_line(f"{result.design.name}: {total} probes, {ok} answered, engine {result.engine_version}", color, width, "bold")]
    parts += ["".join(render(_probe_table(f"from {source}"), map(_probe_row, probes), width=width, color=color))
              for source, probes in groups.items()]
    return "".join(parts)


def reach_header(result: ReachResult) -> str:
    """The first line of the class summary: the design, its containers and classes, the engine."""
    n = len(result.design.containers)
    k = len(result.classes)
    over = " (ip6, dns6, host6: over IPv6)" if result.v6 is not None else ""
    return f"{result.design.name}: {n} container(s) in {k} class(es), engine {result.engine_version}{over}\n"


_MEMBERS: list = [None, {}]  # the last result's classes by id (a summary titles each of its 1,000s of tables)


def _class_title(result: ReachResult, source_class: str) -> str:
    if _MEMBERS[0] is not result:
        _MEMBERS[:] = [result, {c.id: c.members for c in result.classes}]
    members = _MEMBERS[1].get(source_class, ())
    if len(members) > 1:
        return f"from {source_class}: {len(members)} containers alike ({members[0]} … {members[-1]})"
    return f"from {source_class}"


def _ports(ports: dict[tuple[int, str], None], most: int = 4) -> str:
    """The first ``most`` (port, protocol) pairs, as ``port/protocol``, and how many more."""
    shown = [f"{port}/{protocol}" for port, protocol in islice(ports, most)]
    return ", ".join(shown) + (f" (+{len(ports) - most})" if len(ports) > most else "")


def _group_outcome(g: ProbeGroup) -> Styled:
    if g.reachable:
        return Styled(f"✔ {g.responder_class or g.example.responder}", "green")
    return _unanswered(g.disposition)


def _group_target(g: ProbeGroup) -> str:
    if g.via == "host":
        return f"host {g.host}" if g.host else "host"
    return g.target_class or "-"


def _few(names: list[str], most: int = 3, covered: int = 0, exact: bool = True) -> str:
    """The first ``most`` names and how many more (at least, when not ``exact``: groups named only their first few)."""
    total = max(len(names), covered)
    more = f" (+{total - most} more)" if exact else f" (+{total - most} or more)"
    return ", ".join(names[:most]) + (more if total > most else "")


_SUMMARY_COLUMNS = (Column("to"), Column("via", no_wrap=True), Column("ports"),
                    Column("probes", justify="right", no_wrap=True), Column("result"), Column("reason"))


def reach_summary(result: ReachResult, source_class: str, groups: list[ProbeGroup], color: bool = False,
                  width: int | None = DEFAULT_WIDTH) -> str:
    """One source class: its probes gathered by outcome (and who answers), each row naming the
    target classes it covers, the ways and ports, how many probes it stands for and the reason
    that decided it (its first probe's)."""
    rows: dict[tuple, list] = {}
    for g in groups:
        key = (g.disposition, g.responder_class, reason_shape(g.reason))
        row = rows.get(key)
        if row is None:  # the first group, probes, then target classes, ways and ports as ordered sets
            rows[key] = row = [g, 0, {}, {}, {}, 0, True]
        row[1] += g.count
        via = g.via
        if via == "host":
            row[2][_group_target(g)] = None
        else:  # a coarse group covers several target classes: its first few, and how many
            names, covered = g.target_preview(3)
            targets = row[2]
            for name in names or ("-",):
                targets[name] = None
            if covered > row[5]:
                row[5] = covered
            if covered > len(names) and covered > 1:
                row[6] = False
        row[3][_via(g)] = None
        row[4][g.port, g.protocol] = None  # (written out below, the few shown)
    table = Table(_SUMMARY_COLUMNS, _class_title(result, source_class), "left")
    cells = ((_few(list(targets), covered=covered, exact=exact), " ".join(vias), _ports(ports), str(count),
              _group_outcome(g), g.reason)
             for g, count, targets, vias, ports, covered, exact in rows.values())
    return _text(table, cells, color, width)


_GROUP_COLUMNS = (Column("via", no_wrap=True), Column("target"), Column("port", justify="right", no_wrap=True),
                  Column("probes", justify="right", no_wrap=True), Column("result"), Column("reason"),
                  Column("for example"))


def _group_row(g: ProbeGroup) -> tuple:
    if g.via == "ip":
        target = f"{g.target_class} @ {g.network}"
    elif g.via == "dns":
        target = f"name {g.name}" if g.name else f"names of {g.target_class}"
    else:
        target = _group_target(g)
    e = g.example
    example = f"{e.source} → {_dialled(e)}" + (f" ({e.address})" if e.address else "")
    return (_via(g), target, f"{g.port}/{g.protocol}", str(g.count), _group_outcome(g), g.reason, example)


def reach_groups_table(result: ReachResult, source_class: str, groups: Iterable[ProbeGroup], color: bool = False,
                       width: int | None = DEFAULT_WIDTH) -> str:
    """One source class, one row per class-level group: way, target class, network or name, port,
    how many probes, the outcome and the reason (its first probe's), with that probe as an example."""
    return _text(Table(_GROUP_COLUMNS, _class_title(result, source_class), "left"), map(_group_row, groups), color, width)


def reach_totals(probes: int, answered: int, groups: int) -> str:
    """The last line of the class summary."""
    return f"{probes} probes in {groups} group(s), {answered} answered\n"


def reach_probe_tables(result: ReachResult, probes: Iterable[Probe], color: bool = False,
                       width: int | None = DEFAULT_WIDTH) -> Iterator[str]:
    """Every probe, one table per source as :func:`reach_table` draws it, yielded a few hundred
    lines at a time (the header line first), so a caller prints as it goes; ``probes`` come
    source by source and are read as they are printed."""
    yield _line(f"{result.design.name}: every probe, engine {result.engine_version}", color, width, "bold")
    for source, batch in groupby(probes, key=lambda p: p.source):
        yield from render(_probe_table(f"from {source}"), map(_probe_row, batch), width=width, color=color)


def _probe_table(title: str) -> Table:
    return Table(_PROBE_COLUMNS, title, "left")


_PROBE_COLUMNS = (Column("via", no_wrap=True), Column("target"), Column("address", no_wrap=True),
                  Column("port", justify="right", no_wrap=True), Column("result"), Column("reason"))


def _probe_row(p: Probe) -> tuple:
    """One probe as a row of a source's table."""
    return (_via(p), _dialled(p), p.address or "-", f"{p.port}/{p.protocol}", _outcome(p), p.reason)


def reach_matrix(result: ReachResult, color: bool = False, width: int | None = DEFAULT_WIDTH) -> str:
    """A compact grid: sources down, target containers across; ✔ if any probe to it answers."""
    targets: list[str] = []
    cells: dict[tuple[str, str], list[Probe]] = defaultdict(list)
    sources: list[str] = []
    for p in result.probes:
        if p.source not in sources:
            sources.append(p.source)
        tgt = p.target if p.via == "ip" else (p.responder if p.via != "dns" else None)
        if p.via == "ip" and tgt is not None and tgt not in targets:
            targets.append(tgt)
        if tgt:
            cells[(p.source, tgt)].append(p)
    columns = (Column("from \\ to", no_wrap=True), *(Column(t, justify="center", no_wrap=True) for t in targets))
    table = Table(columns, f"{result.design.name}: reachability by IP or published port (✔ answers, ✘ blocked, · nothing listens)")

    def mark(s: str, t: str) -> Styled:
        ps = cells.get((s, t), [])
        if any(p.reachable and p.responder == t for p in ps):
            return Styled("✔", "green")
        if any(p.disposition.value == "REFUSED" for p in ps):
            return Styled("·", "yellow")
        return Styled("✘", "red")

    return _text(table, ((s, *(mark(s, t) for t in targets)) for s in sources), color, width)


_AUDIENCE_STYLES = {"external": "bold red", "other networks": "yellow", "host": "cyan"}
_EXPOSURE_COLUMNS = (Column("container", no_wrap=True), Column("port", no_wrap=True),
                     Column("reachable from", no_wrap=True), Column("through"), Column("for example"))
# Exposure by class: class ids and port ranges are long: they wrap too, so the proof keeps its width.
_EXPOSURE_CLASS_COLUMNS = (Column("container", min_width=12), Column("port", min_width=9),
                           Column("reachable from", no_wrap=True), Column("through", min_width=12),
                           Column("for example", min_width=12))


def _nothing_exposed(design_name: str, color: bool, width: int | None) -> str:
    return _line(f"{design_name}: nothing is reachable from outside its own networks", color, width)


def exposure_table(design_name: str, entries: list[Exposure], color: bool = False, width: int | None = DEFAULT_WIDTH) -> str:
    """Each exposed listener; the "through" and "for example" columns wrap to fit ``width``."""
    if not entries:
        return _nothing_exposed(design_name, color, width)
    rows = ((e.container, f"{e.port}/{e.protocol}", Styled(e.audience, _AUDIENCE_STYLES[e.audience]), e.through, e.example,
             _family_cell(e)) for e in entries)
    return _text(Table(_family_columns(_EXPOSURE_COLUMNS, entries), f"{design_name}: listeners reachable from outside their networks"),
                 _family_rows(rows, entries), color, width)


def _family_cell(e: Exposure) -> Styled | str:
    """The family column's cell: ``IPv4``, ``IPv6``, or with ``only`` (in red over IPv6 alone)."""
    text = e.family_text
    return Styled(text, "bold red") if e.families == (6,) else text


def _family_columns(columns: tuple[Column, ...], entries: list[Exposure]) -> tuple[Column, ...]:
    """The exposure columns, with a family column after "reachable from" in a design with IPv6."""
    if not any(e.families for e in entries):
        return columns
    return (*columns[:3], Column("family", no_wrap=True), *columns[3:])


def _family_rows(rows, entries: list[Exposure]):
    """Rows ending with their family cell: it moved to its column, or dropped in a design without IPv6."""
    if any(e.families for e in entries):
        return ((*r[:3], r[-1], *r[3:-1]) for r in rows)
    return (r[:-1] for r in rows)


def exposure_group_table(design_name: str, groups: list[ExposureGroup], color: bool = False,
                         width: int | None = DEFAULT_WIDTH) -> str:
    """Exposure by class: one row per class, audience, way and listening port, with how many
    exposures it stands for and the first one's example; a container alone in its class reads as
    in :func:`exposure_table`."""
    if not groups:
        return _nothing_exposed(design_name, color, width)
    grouped = any(g.count > 1 or g.members > 1 for g in groups)
    note = " (containers alike grouped by class; --all: one row each)" if grouped else ""
    title = f"{design_name}: listeners reachable from outside their networks{note}"

    def row(g: ExposureGroup) -> tuple:
        e = g.first
        who = e.container if g.members == 1 else f"{g.container_class}" + \
            (f"\n{len(g.containers)} of {g.members}" if len(g.containers) < g.members else "")
        ports = f"{g.ports[0]}/{g.protocol}" if len(g.ports) == 1 else f"{min(g.ports)}…{max(g.ports)}/{g.protocol}\n({len(g.ports)} ports)"
        through = e.through if g.count == 1 else f"{e.through} (and {g.count - 1} alike)"
        return (who, ports, Styled(g.audience, _AUDIENCE_STYLES[g.audience]), through, e.example, _family_cell(e))

    firsts = [g.first for g in groups]
    columns = _family_columns(_EXPOSURE_CLASS_COLUMNS if grouped else _EXPOSURE_COLUMNS, firsts)
    return _text(Table(columns, title), _family_rows(map(row, groups), firsts), color, width)


_ADDRESS_COLUMNS = ("container", "host", "mode", "interface", "network", "address", "gateway", "names",
                    "default route", "published / notes")


def addressing_text(design_name: str, rows: list[ContainerAddressing], color: bool = False,
                    width: int | None = DEFAULT_WIDTH) -> Iterator[str]:
    """Interfaces per container, a few hundred lines at a time; long cells (names, routes, notes)
    wrap to fit ``width``, none is cut short.

    The host column is shown when the design has more than one host.
    """
    hosts = len({r.host for r in rows}) > 1
    # Identifiers keep their width (up to a cap) and addresses all of it; names, routes and
    # notes wrap first; on a very narrow terminal everything folds, nothing is cut short.
    keep = {"container": [r.container for r in rows], "host": [r.host for r in rows], "mode": [r.mode for r in rows],
            "interface": [i.interface for r in rows for i in r.interfaces],
            "network": [i.network for r in rows for i in r.interfaces],
            "address": [a for r in rows for i in r.interfaces for a in i.addresses.split("\n")],
            "gateway": [g for r in rows for i in r.interfaces for g in i.gateways.split("\n")]}
    columns = []
    for col in _ADDRESS_COLUMNS:
        if col == "host" and not hosts:
            continue
        least = min(max([len(col), *map(len, keep[col])]), 39 if col in ("address", "gateway") else 12) if col in keep else None
        columns.append(Column(col, min_width=least if width else None))
    del keep

    def cells() -> Iterator[tuple[str, ...]]:
        for r in rows:
            extra = "\n".join(list(r.published) + list(r.notes))
            if not r.interfaces:
                yield r.container, r.host, r.mode, "-", "-", "-", "-", "-", r.default_route or "-", extra
                continue
            for i, row in enumerate(r.interfaces):
                first = i == 0
                yield (r.container if first else "", r.host if first else "", r.mode if first else "",
                       row.interface, row.network, row.addresses, row.gateways, ", ".join(row.names) or "-",
                       (r.default_route or "-") if first else "", extra if first else "")

    shown = cells() if hosts else ((c[0], *c[2:]) for c in cells())
    # every row is measured (the rows are in memory already): the same layout at any size
    yield from render(Table(tuple(columns), f"{design_name}: addressing"), shown, width=width, color=color,
                      sample=max(1, sum(max(1, len(r.interfaces)) for r in rows)))


def addressing_table(design_name: str, rows: list[ContainerAddressing], color: bool = False,
                     width: int | None = DEFAULT_WIDTH) -> str:
    """:func:`addressing_text` as one string."""
    return "".join(addressing_text(design_name, rows, color, width))
