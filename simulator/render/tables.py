"""Tables for people: the reachability matrix, exposure and addressing, via rich.

Each function returns text; colour is added only when the caller asks for it.
"""

from __future__ import annotations

import io
from collections import defaultdict

from rich.console import Console, Group, RenderableType
from rich.table import Table
from rich.text import Text

from ..analysis.addressing import ContainerAddressing
from ..analysis.exposure import Exposure, ExposureGroup
from ..analysis.probes import Probe
from ..analysis.reachability import ProbeGroup, ReachResult, reason_shape
from .text import printable_renderable

DEFAULT_WIDTH = 100


UNLIMITED = 10_000  # "--wide": wide enough that nothing wraps


def _to_text(renderable, color: bool, width: int | None = DEFAULT_WIDTH) -> str:
    """Render to text ``width`` columns wide (None: as wide as the content), lines right-stripped."""
    buf = io.StringIO()
    console = Console(file=buf, force_terminal=color, color_system="standard" if color else None,
                      width=width or UNLIMITED, no_color=not color, highlight=False, soft_wrap=False,
                      legacy_windows=False, emoji=False, markup=False)
    console.print(printable_renderable(renderable))  # names cannot send control characters to the terminal
    return "".join(line.rstrip() + "\n" for line in buf.getvalue().splitlines())


def _dialled(p: Probe) -> str:
    if p.via == "ip":
        return f"{p.target} @ {p.network}"
    if p.via == "dns":
        return f"name {p.name}"
    return f"host {p.host}" if p.host else "host"


def _outcome(p: Probe) -> Text:
    if p.reachable:
        label = f"✔ {p.responder}"
        if p.responders and len(p.responders) > 1:
            label += f" (or {', '.join(r for r in p.responders if r != p.responder)})"
        return Text(label, style="green")
    style = "yellow" if p.disposition.value in ("REFUSED", "NAME_NOT_RESOLVED") else "red"
    return Text(f"✘ {p.disposition.value.lower().replace('_', ' ')}", style=style)


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
    parts: list[RenderableType] = []
    total = len(result.probes)
    ok = sum(p.reachable for p in result.probes)
    parts.append(Text(f"{result.design.name}: {total} probes, {ok} answered, engine {result.engine_version}", style="bold"))
    for source, probes in groups.items():
        parts.append(_probe_table(source, probes))
    return _to_text(Group(*parts), color, width)


def reach_header(result: ReachResult) -> str:
    """The first line of the class summary: the design, its containers and classes, the engine."""
    n = len(result.design.containers)
    k = len(result.classes)
    return f"{result.design.name}: {n} container(s) in {k} class(es), engine {result.engine_version}\n"


def _class_title(result: ReachResult, source_class: str) -> str:
    members = [m for c in result.classes if c.id == source_class for m in c.members]
    if len(members) > 1:
        return f"from {source_class}: {len(members)} containers alike ({members[0]} … {members[-1]})"
    return f"from {source_class}"


def _ports(ports: list[str], most: int = 4) -> str:
    return ", ".join(ports[:most]) + (f" (+{len(ports) - most})" if len(ports) > most else "")


def _group_outcome(g: ProbeGroup) -> Text:
    if g.reachable:
        return Text(f"✔ {g.responder_class or g.example.responder}", style="green")
    style = "yellow" if g.disposition.value in ("REFUSED", "NAME_NOT_RESOLVED") else "red"
    return Text(f"✘ {g.disposition.value.lower().replace('_', ' ')}", style=style)


def _group_target(g: ProbeGroup) -> str:
    if g.via == "host":
        return f"host {g.host}" if g.host else "host"
    return g.target_class or "-"


def _few(names: list[str], most: int = 3) -> str:
    return ", ".join(names[:most]) + (f" (+{len(names) - most} more)" if len(names) > most else "")


def reach_summary(result: ReachResult, source_class: str, groups: list[ProbeGroup], color: bool = False,
                  width: int | None = DEFAULT_WIDTH) -> str:
    """One source class: its probes gathered by outcome (and who answers), each row naming the
    target classes it covers, the ways and ports, how many probes it stands for and the reason
    that decided it (its first probe's)."""
    rows: dict[tuple, list] = {}
    for g in groups:
        key = (g.disposition, g.responder_class, reason_shape(g.reason))
        row = rows.get(key)
        if row is None:
            rows[key] = row = [g, 0, [], [], []]
        row[1] += g.count
        for items, item in ((row[2], _group_target(g)), (row[3], g.via.value), (row[4], f"{g.port}/{g.protocol}")):
            if item not in items:
                items.append(item)
    table = Table(title=_class_title(result, source_class), title_justify="left", show_lines=False, expand=False)
    table.add_column("to", overflow="fold")
    table.add_column("via", no_wrap=True)
    table.add_column("ports", overflow="fold")
    table.add_column("probes", justify="right", no_wrap=True)
    table.add_column("result", overflow="fold")
    table.add_column("reason", overflow="fold", ratio=1)
    for g, count, targets, vias, ports in rows.values():
        table.add_row(_few(targets), " ".join(vias), _ports(ports), str(count), _group_outcome(g), g.reason)
    return _to_text(table, color, width)


def reach_groups_table(result: ReachResult, source_class: str, groups: list[ProbeGroup], color: bool = False,
                       width: int | None = DEFAULT_WIDTH) -> str:
    """One source class, one row per class-level group: way, target class, network or name, port,
    how many probes, the outcome and the reason (its first probe's), with that probe as an example."""
    table = Table(title=_class_title(result, source_class), title_justify="left", show_lines=False, expand=False)
    table.add_column("via", no_wrap=True)
    table.add_column("target", overflow="fold")
    table.add_column("port", justify="right", no_wrap=True)
    table.add_column("probes", justify="right", no_wrap=True)
    table.add_column("result", overflow="fold")
    table.add_column("reason", overflow="fold", ratio=1)
    table.add_column("for example", overflow="fold")
    for g in groups:
        if g.via == "ip":
            target = f"{g.target_class} @ {g.network}"
        elif g.via == "dns":
            target = f"name {g.name}" if g.name else f"names of {g.target_class}"
        else:
            target = _group_target(g)
        e = g.example
        example = f"{e.source} → {_dialled(e)}" + (f" ({e.address})" if e.address else "")
        table.add_row(g.via, target, f"{g.port}/{g.protocol}", str(g.count), _group_outcome(g), g.reason, example)
    return _to_text(table, color, width)


def reach_totals(probes: int, answered: int, groups: int) -> str:
    """The last line of the class summary."""
    return f"{probes} probes in {groups} group(s), {answered} answered\n"


def reach_probe_tables(result: ReachResult, probes, color: bool = False, width: int | None = DEFAULT_WIDTH):
    """Every probe, one table per source as :func:`reach_table` draws it, yielded source by source
    (the header line first), so a caller prints as it goes."""
    current: str | None = None
    batch: list[Probe] = []
    yield _to_text(Text(f"{result.design.name}: every probe, engine {result.engine_version}", style="bold"), color, width)
    for p in probes:
        if p.source != current and batch:
            yield _source_table(batch, color, width)
            batch = []
        current = p.source
        batch.append(p)
    if batch:
        yield _source_table(batch, color, width)


def _source_table(probes: list[Probe], color: bool, width: int | None) -> str:
    return _to_text(_probe_table(probes[0].source, probes), color, width)


def _probe_table(source: str, probes: list[Probe]) -> Table:
    """One source's probes, a row each."""
    table = Table(title=f"from {source}", title_justify="left", show_lines=False, expand=False)
    table.add_column("via", no_wrap=True)
    table.add_column("target", overflow="fold")
    table.add_column("address", no_wrap=True)
    table.add_column("port", justify="right", no_wrap=True)
    table.add_column("result", overflow="fold")
    table.add_column("reason", overflow="fold", ratio=1)
    for p in probes:
        table.add_row(p.via, _dialled(p), p.address or "-", f"{p.port}/{p.protocol}", _outcome(p), p.reason)
    return table


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
    table = Table(title=f"{result.design.name}: reachability by IP or published port (✔ answers, ✘ blocked, · nothing listens)")
    table.add_column("from \\ to", no_wrap=True)
    for t in targets:
        table.add_column(t, justify="center", no_wrap=True)
    for s in sources:
        row = []
        for t in targets:
            ps = cells.get((s, t), [])
            if any(p.reachable and p.responder == t for p in ps):
                row.append(Text("✔", style="green"))
            elif any(p.disposition.value == "REFUSED" for p in ps):
                row.append(Text("·", style="yellow"))
            else:
                row.append(Text("✘", style="red"))
        table.add_row(s, *row)
    return _to_text(table, color, width)


def exposure_table(design_name: str, entries: list[Exposure], color: bool = False, width: int | None = DEFAULT_WIDTH) -> str:
    """Each exposed listener; the "through" and "for example" columns wrap to fit ``width``."""
    table = Table(title=f"{design_name}: listeners reachable from outside their networks")
    for col in ("container", "port", "reachable from"):
        table.add_column(col, no_wrap=True)
    for col in ("through", "for example"):
        table.add_column(col, overflow="fold")
    styles = {"external": "bold red", "other networks": "yellow", "host": "cyan"}
    for e in entries:
        table.add_row(e.container, f"{e.port}/{e.protocol}", Text(e.audience, style=styles[e.audience]), e.through, e.example)
    if not entries:
        return _to_text(Text(f"{design_name}: nothing is reachable from outside its own networks"), color, width)
    return _to_text(table, color, width)


def exposure_group_table(design_name: str, groups: list[ExposureGroup], color: bool = False,
                         width: int | None = DEFAULT_WIDTH) -> str:
    """Exposure by class: one row per class, audience, way and listening port, with how many
    exposures it stands for and the first one's example; a container alone in its class reads as
    in :func:`exposure_table`."""
    if not groups:
        return _to_text(Text(f"{design_name}: nothing is reachable from outside its own networks"), color, width)
    grouped = any(g.count > 1 or g.members > 1 for g in groups)
    note = " (containers alike grouped by class; --all: one row each)" if grouped else ""
    table = Table(title=f"{design_name}: listeners reachable from outside their networks{note}")
    if grouped:  # class ids and port ranges are long: they wrap too, so the proof keeps its width
        table.add_column("container", overflow="fold", ratio=2, min_width=12)
        table.add_column("port", overflow="fold", ratio=1, min_width=9)
        table.add_column("reachable from", no_wrap=True)
        for col in ("through", "for example"):
            table.add_column(col, overflow="fold", ratio=2, min_width=12)
    else:
        for col in ("container", "port", "reachable from"):
            table.add_column(col, no_wrap=True)
        for col in ("through", "for example"):
            table.add_column(col, overflow="fold")
    styles = {"external": "bold red", "other networks": "yellow", "host": "cyan"}
    for g in groups:
        e = g.first
        who = e.container if g.members == 1 else f"{g.container_class}" + \
            (f"\n{len(g.containers)} of {g.members}" if len(g.containers) < g.members else "")
        ports = f"{g.ports[0]}/{g.protocol}" if len(g.ports) == 1 else f"{min(g.ports)}…{max(g.ports)}/{g.protocol}\n({len(g.ports)} ports)"
        through = e.through if g.count == 1 else f"{e.through} (and {g.count - 1} alike)"
        table.add_row(who, ports, Text(g.audience, style=styles[g.audience]), through, e.example)
    return _to_text(table, color, width)


def addressing_table(design_name: str, rows: list[ContainerAddressing], color: bool = False,
                     width: int | None = DEFAULT_WIDTH) -> str:
    """Interfaces per container; long cells (names, routes, notes) wrap to fit ``width``, none is cut short.

    The host column is shown when the design has more than one host.
    """
    table = Table(title=f"{design_name}: addressing")
    hosts = len({r.host for r in rows}) > 1
    # Identifiers keep their width (up to a cap) and addresses all of it; names, routes and
    # notes wrap first; on a very narrow terminal everything folds, nothing is cut short.
    columns = ["container", "host", "mode", "interface", "network", "address", "gateway", "names", "default route", "published / notes"]
    keep = {"container": [r.container for r in rows], "host": [r.host for r in rows], "mode": [r.mode for r in rows],
            "interface": [i.interface for r in rows for i in r.interfaces],
            "network": [i.network for r in rows for i in r.interfaces],
            "address": [i.address for r in rows for i in r.interfaces],
            "gateway": [i.gateway or "-" for r in rows for i in r.interfaces]}
    if not hosts:
        columns.remove("host")
    for col in columns:
        least = min(max([len(col), *map(len, keep[col])]), 39 if col in ("address", "gateway") else 12) if col in keep else None
        table.add_column(col, overflow="fold", min_width=least if width else None)

    def add(*cells: str) -> None:
        table.add_row(*(c for i, c in enumerate(cells) if hosts or i != 1))

    for r in rows:
        extra = "\n".join(list(r.published) + list(r.notes))
        if not r.interfaces:
            add(r.container, r.host, r.mode, "-", "-", "-", "-", "-", r.default_route or "-", extra)
            continue
        for i, row in enumerate(r.interfaces):
            first = i == 0
            add(
                r.container if first else "", r.host if first else "", r.mode if first else "",
                row.interface, row.network, row.address, row.gateway or "-", ", ".join(row.names) or "-",
                (r.default_route or "-") if first else "", extra if first else "",
            )
    return _to_text(table, color, width)
