"""Commands that read a design and answer from the model: check, reach, trace, exposure, addresses."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from enum import Enum
from pathlib import Path

import typer

from ..fanout import default_workers
from ..render.jsontext import dumps_indented, dumps_lines
from . import app
from .common import (
    KernelChoice,
    KernelOpt,
    UsageError,
    kernel_json,
    kernel_matters,
    kernel_summary,
    load_checked,
    print_problems,
    unknown,
)
from .images import ImagesOpt, engine_images
from .stdin import design_argument

DesignArg = typer.Argument(..., help="A netsim design (YAML) or a docker-compose file; - reads it from standard input.",
                           exists=False, callback=design_argument)
EngineOpt = typer.Option(None, "--engine-version", "-e", help="Engine version whose rules apply (e.g. 20.10, 28.2, 29.0); default: the design's.")


class Format(str, Enum):
    table = "table"
    json = "json"


def _color(color: bool | None) -> bool:
    from .terminal import use_color

    return use_color(color)


def _table(text: str, color: bool) -> None:
    """Print a rendered table; its colour codes survive a pipe only when colour was chosen."""
    typer.echo(text, nl=False, color=color)


WideOpt = typer.Option(False, "--wide", "-w", help="Do not fit the terminal's width: every cell on one line.")
ColorOpt = typer.Option(None, "--color/--no-color", help="Colour the table (default: on a terminal, unless NO_COLOR is set or TERM=dumb).")


@app.command()
def check(
    design: Path = DesignArg,
    engine_version: str | None = EngineOpt,
    kernel: KernelChoice = KernelOpt,
    quiet: bool = typer.Option(False, "--quiet", "-q", help="Print nothing when the design is valid."),
    images: bool = ImagesOpt,
) -> None:
    """Validate a design: exit 0 when the engine would accept it, 1 listing every problem.

    Services whose listeners no source states (docs/listeners.md) are listed as warnings, with why;
    --images reads their images' ports from the local engine. A warning met at four places or more
    (one per replica, say) is shown at the first, the others named on the line after it.

    Examples:

        netsim check designs/frontend-backend.yaml
        netsim check - < designs/compose-shop/compose.yaml    # the design from standard input
    """
    from ..analysis.listeners import unknown_listener_problems
    from ..loaders.listeners import using_images

    with using_images(engine_images(images)):
        model = load_checked(design, engine_version, kernel, show_warnings=True, announce_kernel=False).design
    print_problems(unknown_listener_problems(model))
    if not quiet:
        n_c, n_n = len(model.containers), len([n for n in model.networks])
        used = f"; kernel: {kernel_summary(model)}" if kernel_matters(model) else ""
        services = f", {len(model.services)} swarm service(s)" if model.services else ""
        typer.echo(f"{design}: ok ({len(model.hosts)} host(s), {n_n} network(s), {n_c} container(s){services}{used})")


def _world(design: Path, engine_version: str | None, kernel: KernelChoice = KernelChoice.default, images: bool = False):
    """The world of the design, loaded and validated as every command does (common.load_checked):
    the one the engine checks built for ``engine_version``, not a second one. ``images``: image
    ports from the local engine (--images)."""
    from ..loaders.listeners import using_images

    with using_images(engine_images(images)):
        return load_checked(design, engine_version, kernel).world(engine_version)


class By(str, Enum):
    probe = "probe"
    class_ = "class"
    outcome = "outcome"


CLASS_PAIRS_HINT = 40_000  # pairs of classes above which `--by class` says that `--by outcome` is the compact form


def _hint_by_class(result) -> None:
    """On standard error: ``--by class`` over a design of many classes lists every pair of them."""
    n = len(result.classes)
    if n * n > CLASS_PAIRS_HINT:
        typer.echo(f"netsim: --by class lists a group for every source class, target class, way, port and outcome: "
                   f"{n} classes make up to {n * n:,} pairs; --by outcome is the compact form for a design this "
                   "large (docs/reach-json.md)", err=True)


@app.command()
def reach(
    design: Path = DesignArg,
    engine_version: str | None = EngineOpt,
    format: Format = typer.Option(Format.table, "--format", "-f", help="table (for people) or json (the stable contract)."),
    trace: bool = typer.Option(False, "--trace", help="Include the full hop-by-hop trace of every probe (json)."),
    source: list[str] | None = typer.Option(None, "--source", "-s", help="Only these sources: a container, a class (as the summary names it), a scaled service (its replicas), host, external."),
    target: list[str] | None = typer.Option(None, "--target", help="Only probes to these targets: a container, a class or a scaled service (its replicas)."),
    every: bool = typer.Option(False, "--all", help="Every probe, one table per source (with --source/--target: theirs)."),
    by: By = typer.Option(By.probe, "--by", help="json: probe (every probe, streamed), class (one entry per group of alike probes, with counts) or outcome (per source class, one entry per way, port and outcome, whatever the target: the compact form for large designs); table: class lists every group, outcome is the summary."),
    only: str | None = typer.Option(None, "--only", help="reachable | unreachable: only these probes (tables and json; not with --matrix)."),
    matrix: bool = typer.Option(False, "--matrix", help="A compact grid instead of the per-source tables."),
    kernel: KernelChoice = KernelOpt,
    color: bool | None = ColorOpt,
    wide: bool = WideOpt,
    images: bool = ImagesOpt,
) -> None:
    """The reachability matrix: every source × target listener × way of addressing it.

    The table summarises by class: containers alike up to their addresses (replicas) form one
    class, and each source class gets one row per target class and outcome, with how many
    probes it stands for and the reason that decided it. --source/--target drill down to one
    row per way, network and port; --all prints every probe. JSON streams every probe
    (--by class: the groups with counts; --by outcome: per source class, one group per way,
    port and outcome with its target classes counted; docs/reach-json.md).

    A container whose listeners are unknown (docs/listeners.md) is named under the table
    ("listens: unknown"), with the listeners learnt elsewhere than the file; in JSON each probe
    says where the listener it dials was learnt (listener_origin; docs/reach-json.md).

    Examples:

        netsim reach designs/frontend-backend.yaml --source proxy --all
        netsim reach designs/compose-shop/compose.yaml --format json
        netsim reach designs/compose-shop/compose.yaml --by class --format json
    """
    from ..analysis.reachability import reach_of

    if only is not None and only not in ("reachable", "unreachable"):
        raise UsageError(f'--only: "{only}" is not one of: reachable, unreachable')
    if only is not None and matrix:
        raise UsageError("--only and --matrix do not go together: the grid shows both outcomes; "
                         "use --only with the tables or --format json")
    world = _world(design, engine_version, kernel, images)
    model = world.design
    result = reach_of(world, with_traces=trace, workers=default_workers())
    pick = _ReachPick(result, source, target, only)
    if by is By.class_ and not (source or target):
        _hint_by_class(result)
    if format is Format.json:
        classes: dict[str, object] = {"classes": [{"id": c.id, "size": c.size, "members": list(c.members)} for c in result.classes]}
        if by is By.outcome:
            classes["target_sets"] = result.target_sets()
            rows = _JsonRows(model, groups=True)
            chunks = result.map_coarse(lambda _, gs: rows.text(g.to_json(trace) for g in gs if pick.group(g)),
                                       pick.source_classes)
            _stream_json(result, model, "groups", chunks, classes)
        elif by is By.class_:
            rows = _JsonRows(model, groups=True)
            chunks = result.map_groups(lambda _, gs: rows.text(g.to_json(trace) for g in gs if pick.group(g)),
                                       pick.source_classes)
            _stream_json(result, model, "groups", chunks, classes)
        else:
            rows = _JsonRows(model)
            chunks = result.map_probes(lambda ps: rows.text(p.to_json(trace) for p in ps if pick.probe(p)),
                                       pick.sources)
            _stream_json(result, model, "probes", chunks)
        return
    from ..render.listeners import reach_footer
    from ..render.tables import reach_groups_table, reach_header, reach_matrix, reach_probe_tables, reach_summary, reach_totals
    from .terminal import output_width

    use, width = _color(color), output_width(wide)
    if matrix:
        if source or only or target:
            from dataclasses import replace

            result = replace(result, probes=tuple(p for p in result.iter_probes() if pick.probe(p)))
        _table(reach_matrix(result, use, width), use)
    elif every:
        for text in reach_probe_tables(result, (p for p in result.iter_probes() if pick.probe(p)), use, width):
            _table(text, use)
    else:
        _table(reach_header(result), use)
        detail = by is By.class_ or bool(source or target)
        draw = reach_groups_table if detail else reach_summary

        def one_class(cid: str, groups: list) -> tuple[str, int, int, int]:
            kept = [g for g in groups if pick.group(g)]
            text = draw(result, cid, kept, use, width) if kept else ""
            return text, sum(g.count for g in kept), sum(g.count for g in kept if g.reachable), len(kept)

        drawn: Iterator[tuple[str, int, int, int]]
        if detail:
            drawn = result.map_groups(one_class, pick.source_classes)
        else:
            drawn = result.map_coarse(one_class, pick.source_classes)
        probes = answered = n_groups = 0
        for text, n, ok, k in drawn:  # each source class's table as it is made
            if text:
                _table(text, use)
            probes, answered, n_groups = probes + n, answered + ok, n_groups + k
        _table(reach_totals(probes, answered, n_groups), use)
    typer.echo(reach_footer(model), nl=False)


class _ReachPick:
    """What --source, --target and --only keep: sources and targets named as containers or classes."""

    def __init__(self, result, sources: list[str] | None, targets: list[str] | None, only: str | None):
        self.only = only
        self.sources: set[str] | None = None
        self.source_classes: set[str] | None = None
        self.targets: set[str] | None = None
        self.target_classes: set[str] | None = None
        self.target_names: set[str] = set()
        if sources or targets:  # else nothing to look up (the matrix's sources of a large design take a while)
            self._named(result, sources, targets)

    def _named(self, result, sources: list[str] | None, targets: list[str] | None) -> None:
        classes = {c.id: c for c in result.classes}
        containers = {m for c in result.classes for m in c.members}
        names = result.source_names()
        replicas: dict[str, list[str]] = {}  # a scaled service's name stands for its replicas
        for c in result.design.containers:
            if c.service is not None and c.service != c.name and c.service not in containers:
                replicas.setdefault(c.service, []).append(c.name)
        sources = [m for s in sources or () for m in replicas.get(s, [s])]
        targets = [m for t in targets or () for m in replicas.get(t, [t])]
        if sources:
            known = list(dict.fromkeys([*names, *classes]))
            for s in sources:
                if s not in known:
                    raise unknown("source", s, [*known, *replicas])
            self.sources = {m for s in sources for m in (classes[s].members if s in classes else (s,))}
            self.source_classes = {s if s in classes or s not in containers else result.class_of(s).id for s in sources}
        if targets:
            known = list(dict.fromkeys([*containers, *classes]))
            for t in targets:
                if t not in known:
                    raise unknown("target", t, [*known, *replicas])
            self.targets = {m for t in targets for m in (classes[t].members if t in classes else (t,))}
            self.target_classes = {t if t in classes else result.class_of(t).id for t in targets}
            design = result.design
            self.target_names = {design.container(m).engine_name for m in self.targets}

    def _outcome(self, reachable: bool) -> bool:
        return self.only is None or reachable == (self.only == "reachable")

    def probe(self, p) -> bool:
        if self.sources is not None and p.source not in self.sources:
            return False
        if self.targets is not None and not (p.target in self.targets or p.responder in self.targets
                                             or (p.via == "dns" and p.name in self.target_names)):
            return False
        return self._outcome(p.reachable)

    def group(self, g) -> bool:
        if self.source_classes is not None and g.source_class not in self.source_classes:
            return False
        if self.target_classes is not None and not (
                g.responder_class in self.target_classes
                or any(part in self.target_classes for t, _ in g.target_counts for part in t.split(" + "))):
            return False
        return self._outcome(g.reachable)


class _JsonRows:
    """Rows of the reach JSON as the stream writes them: each with where its listener was learnt.
    Probes are laid out as json.dumps(indent=1) lays them out, two levels down; groups (``groups``:
    a group's example probe takes the listener's origin) each on one line (docs/reach-json.md)."""

    def __init__(self, model, groups: bool = False) -> None:
        from ..analysis.listeners import ListenerOrigins

        self.origins = ListenerOrigins(model)
        self.groups = groups

    def text(self, rows: Iterable[dict]) -> bytes:
        """``rows`` as entries of the list, one after another (:data:`_ENTRY` between them), in
        UTF-8: the bytes the stream writes as they are (b"" for none)."""
        groups, at = self.groups, self.origins.at
        kept = []
        for row in rows:
            probe = row["example"] if groups else row
            origin = at(probe["via"], probe["responder"], probe["target"], probe["port"], probe["protocol"])
            probe["listener_origin"] = None if origin is None else origin._value_  # its text (as Probe.to_json's via)
            kept.append(row)
        if groups:
            return _ENTRY_BYTES.join(dumps_lines(kept))
        return _ENTRY.join(dumps_indented(row, 2) for row in kept).encode()


_ENTRY = ",\n  "  # between two entries of the streamed list
_ENTRY_BYTES = _ENTRY.encode()


def _stream_json(result, model, key: str, chunks: Iterable[bytes], extra: dict | None = None) -> None:
    """Write the reach JSON object as ``json.dumps(data, indent=1)`` would, the list under ``key``
    a chunk at a time (``chunks``: runs of its entries as :meth:`_JsonRows.text` writes them, in
    order: probes as that dump would too, groups a line each; memory does not grow with the
    number of probes). The chunks go out as the bytes they came as: the text was made, escaped
    and encoded where it was computed."""
    from ..analysis.listeners import unknown_listeners

    head = {"design": result.design.name, "engine_version": result.engine_version, **(extra or {})}
    out = ["{\n"]
    for k, v in head.items():
        out.append(f" {json.dumps(k)}: {_indented(v, 1)},\n")
    out.append(f" {json.dumps(key)}: [")
    _echo_bytes("".join(out).encode())
    first, held = True, 0
    pending: list[bytes] = []
    between, after_first = _ENTRY_BYTES, b"\n  "
    for chunk in chunks:
        if not chunk:
            continue
        pending += (after_first if first else between, chunk)
        first = False
        held += len(chunk)
        if held >= 1 << 20:
            _echo_bytes(b"".join(pending))
            pending, held = [], 0
    out = ["]" if first else "\n ]"]
    tail = {"kernel": kernel_json(model),
            "listeners_unknown": [{"container": name, "reason": why} for name, why in unknown_listeners(model)]}
    for k, v in tail.items():
        out.append(f",\n {json.dumps(k)}: {_indented(v, 1)}")
    out.append("\n}\n")
    _echo_bytes(b"".join([*pending, "".join(out).encode()]))


def _echo_bytes(data: bytes) -> None:
    """Write text already encoded (UTF-8) to standard output as it is: JSON escapes every control
    character, so there is nothing for the text layer to strip or translate."""
    typer.echo(data, nl=False)


def _indented(value, depth: int) -> str:
    """``value`` as json.dumps(indent=1) writes it ``depth`` levels down."""
    return dumps_indented(value, depth)


class Protocol(str, Enum):
    tcp = "tcp"
    udp = "udp"


@app.command()
def trace(
    design: Path = DesignArg,
    source: str = typer.Argument(..., help="A container, `host`, `external` or a host name."),
    target: str = typer.Argument(..., help="TARGET[:PORT] — a container, a DNS name, an address ([IPv6]:PORT), or `host`."),
    protocol: Protocol | None = typer.Option(None, "--protocol", "-p", case_sensitive=False,
                                                help="tcp or udp (default: tcp with a port; without one, every listener)."),
    family: int | None = typer.Option(None, "--family", min=4, max=6,
                                      help="4 or 6: over IPv4 or IPv6 (a container's IPv6 addresses, AAAA records, the "
                                           "host's IPv6 addresses). Default: 6 for an IPv6 address, else 4."),
    engine_version: str | None = EngineOpt,
    format: Format = typer.Option(Format.table, "--format", "-f"),
    kernel: KernelChoice = KernelOpt,
) -> None:
    """Hop by hop: the path from SOURCE to TARGET and the rule that decided.

    Examples:

        netsim trace designs/frontend-backend.yaml proxy db:5432
        netsim trace designs/frontend-backend.yaml external proxy:443
        netsim trace designs/ipv6/dual-stack.yaml external db:5432 --family 6
    """
    if family is not None and family not in (4, 6):
        raise UsageError(f"--family {family}: choose 4 or 6")
    from ..analysis.paths import traces_in
    from ..loaders.listeners import using_images

    with using_images(None):  # loaded as _world loads it; laid out as far as the trace reads
        world = load_checked(design, engine_version, kernel).world(engine_version, on_demand=True)
    from .render_cmds import split_target  # (render_cmds imports this module: imported here)

    name, port = split_target(target)
    proto = protocol.value if protocol is not None else ("tcp" if port else None)
    results = traces_in(world, source, name, port, proto, family)
    if format is Format.json:  # each path: its label, then the one JSON shape of a trace (docs/reach-json.md)
        typer.echo(json.dumps([{"path": label, **t.to_json()} for label, t in results], indent=1))
        return
    from ..render.text import printable  # names reach the terminal with their control characters escaped

    for label, t in results:
        typer.echo(printable(f"── {source} → {label}"))
        typer.echo(printable(str(t), keep="\n"))
        typer.echo("")


@app.command()
def exposure(
    design: Path = DesignArg,
    engine_version: str | None = EngineOpt,
    format: Format = typer.Option(Format.table, "--format", "-f"),
    color: bool | None = ColorOpt,
    wide: bool = WideOpt,
    kernel: KernelChoice = KernelOpt,
    every: bool = typer.Option(False, "--all", help="table: one row per exposed container, not per class of containers alike."),
) -> None:
    """Every listener reachable from the host, the LAN or other container networks, and through what.

    Containers alike (replicas) share one row per class; --all gives each its own. JSON has both:
    exposure (every entry) and by_class.

    Examples:

        netsim exposure designs/frontend-backend.yaml
        netsim exposure designs/compose-shop/compose.yaml -e 28.2 --wide
    """
    from ..analysis.exposure import exposure_groups, exposure_proofs
    from ..analysis.reachability import reach_of
    from ..render.tables import exposure_group_table, exposure_table

    world = _world(design, engine_version, kernel)
    model = world.design
    result = reach_of(world, workers=default_workers())
    proofs = exposure_proofs(result)
    entries = [x.exposure for x in proofs]
    if format is Format.json:
        from ..analysis.exposure import Through
        from ..analysis.listeners import ListenerOrigins

        origins = ListenerOrigins(model)  # where each exposed listener was learnt (docs/listeners.md)
        rows = [{**e.to_json(), "listener_origin": origins.at("host" if e.through_kind is Through.PUBLISHED_PORT else "ip",
                                                              e.container, e.container, e.port, e.protocol)}
                for e in entries]
        typer.echo(json.dumps({"design": model.name, "kernel": kernel_json(model), "exposure": rows,
                               "by_class": [g.to_json() for g in exposure_groups(result, proofs)]}, indent=1))
        return
    from .terminal import output_width

    use, width = _color(color), output_width(wide)
    if every:
        _table(exposure_table(model.name, entries, use, width), use)
    else:
        _table(exposure_group_table(model.name, exposure_groups(result, proofs), use, width), use)


@app.command()
def addresses(
    design: Path = DesignArg,
    engine_version: str | None = EngineOpt,
    format: Format = typer.Option(Format.table, "--format", "-f"),
    color: bool | None = ColorOpt,
    wide: bool = WideOpt,
    kernel: KernelChoice = KernelOpt,
) -> None:
    """Each container's interfaces, addresses, gateways, names and published ports.

    Examples:

        netsim addresses designs/multi-homed.yaml
        netsim addresses designs/frontend-backend.yaml --format json
    """
    from ..analysis.addressing import compute_addressing
    from ..render.tables import addressing_text

    world = _world(design, engine_version, kernel)
    model = world.design
    rows = compute_addressing(world)
    if format is Format.json:
        typer.echo(json.dumps({"design": model.name, "kernel": kernel_json(model),
                               "containers": [r.to_json() for r in rows]}, indent=1))
        return
    from .terminal import output_width

    use = _color(color)
    for text in addressing_text(model.name, rows, use, output_width(wide)):  # printed as it is laid out
        _table(text, use)


@app.command()
def rules(
    design: Path = DesignArg,
    engine_version: str | None = EngineOpt,
    host: str | None = typer.Option(None, "--host", help="Which host (multi-host designs)."),
    family: int = typer.Option(4, "--family", help="4: the iptables rules; 6: the ip6tables rules (none when the "
                                                   "engine does not manage ip6tables: 20.10's default)."),
    kernel: KernelChoice = KernelOpt,
) -> None:
    """The iptables rules the engine would program for the design (iptables-save form).

    Examples:

        netsim rules designs/frontend-backend.yaml
        netsim rules designs/frontend-backend.yaml -e 28.2
        netsim rules designs/ipv6/dual-stack.yaml --family 6
    """
    if family not in (4, 6):
        raise UsageError(f"--family {family}: choose 4 or 6")
    world = _world(design, engine_version, kernel)
    names = [h.name for h in world.design.hosts]
    chosen = host or names[0]
    if chosen not in names:
        raise unknown("host", chosen, names)
    if family == 6:
        if world.v6 is None:
            raise UsageError(f"design {world.design.name!r} has no IPv6: no ip6tables rules to show")
        world = world.v6
    typer.echo(world.host_ns(chosen).ruleset.save(), nl=False)


@app.command()
def schema() -> None:
    """Print the JSON Schema of the netsim design format (for editors).

    Examples:

        netsim schema > design.schema.json
    """
    from ..schema import design_schema

    typer.echo(json.dumps(design_schema(), indent=2))
