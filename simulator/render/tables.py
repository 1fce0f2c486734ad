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
from ..analysis.exposure import Exposure
from ..analysis.probes import Probe
from ..analysis.reachability import ReachResult
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
        table = Table(title=f"from {source}", title_justify="left", show_lines=False, expand=False)
        table.add_column("via", no_wrap=True)
        table.add_column("target", overflow="fold")
        table.add_column("address", no_wrap=True)
        table.add_column("port", justify="right", no_wrap=True)
        table.add_column("result", overflow="fold")
        table.add_column("reason", overflow="fold", ratio=1)
        for p in probes:
            table.add_row(p.via, _dialled(p), p.address or "-", f"{p.port}/{p.protocol}", _outcome(p), p.reason)
        parts.append(table)
    return _to_text(Group(*parts), color, width)


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
