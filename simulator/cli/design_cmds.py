"""Commands that read a design and answer from the model: check, reach, trace, exposure, addresses."""

from __future__ import annotations

import json
from enum import Enum
from pathlib import Path

import typer

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
    --images reads their images' ports from the local engine.

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
        typer.echo(f"{design}: ok ({len(model.hosts)} host(s), {n_n} network(s), {n_c} container(s){used})")


def _world(design: Path, engine_version: str | None, kernel: KernelChoice = KernelChoice.default, images: bool = False):
    """The world of the design, loaded and validated as every command does (common.load_checked):
    the one the engine checks built for ``engine_version``, not a second one. ``images``: image
    ports from the local engine (--images)."""
    from ..loaders.listeners import using_images

    with using_images(engine_images(images)):
        return load_checked(design, engine_version, kernel).world(engine_version)


@app.command()
def reach(
    design: Path = DesignArg,
    engine_version: str | None = EngineOpt,
    format: Format = typer.Option(Format.table, "--format", "-f", help="table (for people) or json (the stable contract)."),
    trace: bool = typer.Option(False, "--trace", help="Include the full hop-by-hop trace of every probe (json)."),
    source: list[str] | None = typer.Option(None, "--source", "-s", help="Only probes from these sources."),
    only: str | None = typer.Option(None, "--only", help="reachable | unreachable: only these probes (tables and json; not with --matrix)."),
    matrix: bool = typer.Option(False, "--matrix", help="A compact grid instead of the per-source tables."),
    kernel: KernelChoice = KernelOpt,
    color: bool | None = ColorOpt,
    wide: bool = WideOpt,
    images: bool = ImagesOpt,
) -> None:
    """The reachability matrix: every source × target listener × way of addressing it.

    A container whose listeners are unknown (docs/listeners.md) is named under the table
    ("listens: unknown"), with the listeners learnt elsewhere than the file; in JSON each probe
    says where the listener it dials was learnt (listener_origin; docs/reach-json.md).

    Examples:

        netsim reach designs/frontend-backend.yaml --only unreachable
        netsim reach designs/compose-shop/compose.yaml --format json
    """
    from ..analysis.reachability import reach_of
    from ..render.tables import reach_matrix, reach_table

    if only is not None and only not in ("reachable", "unreachable"):
        raise UsageError(f'--only: "{only}" is not one of: reachable, unreachable')
    if only is not None and matrix:
        raise UsageError("--only and --matrix do not go together: the grid shows both outcomes; "
                         "use --only with the tables or --format json")
    world = _world(design, engine_version, kernel, images)
    model = world.design
    result = reach_of(world, with_traces=trace)
    _check_sources(source, result)
    if source or only:
        from dataclasses import replace

        result = replace(result, probes=tuple(
            p for p in result.probes
            if (not source or p.source in source) and (only is None or p.reachable == (only == "reachable"))))
    if format is Format.json:
        data = result.to_json()
        data["kernel"] = kernel_json(model)
        _with_listener_origins(data, model)
        typer.echo(json.dumps(data, indent=1))
        return
    from ..render.listeners import reach_footer
    from .terminal import output_width

    use, width = _color(color), output_width(wide)
    if matrix:
        _table(reach_matrix(result, use, width), use)
    else:
        _table(reach_table(result, use, only, source, width), use)
    typer.echo(reach_footer(model), nl=False)


def _with_listener_origins(data: dict, model) -> None:
    """reach JSON: each probe's ``listener_origin`` and the design's ``listeners_unknown`` (docs/reach-json.md)."""
    from ..analysis.listeners import ListenerOrigins, unknown_listeners

    origins = ListenerOrigins(model)
    for row in data["probes"]:
        row["listener_origin"] = origins.at(row["via"], row["responder"], row["target"], row["port"], row["protocol"])
    data["listeners_unknown"] = [{"container": name, "reason": why} for name, why in unknown_listeners(model)]


def _check_sources(sources: list[str] | None, result) -> None:
    known = list(dict.fromkeys(p.source for p in result.probes))
    for s in sources or []:
        if s not in known:
            raise unknown("source", s, known)


class Protocol(str, Enum):
    tcp = "tcp"
    udp = "udp"


@app.command()
def trace(
    design: Path = DesignArg,
    source: str = typer.Argument(..., help="A container, `host`, `external` or a host name."),
    target: str = typer.Argument(..., help="TARGET[:PORT] — a container, a DNS name, an address, or `host`."),
    protocol: Protocol | None = typer.Option(None, "--protocol", "-p", case_sensitive=False,
                                                help="tcp or udp (default: tcp with a port; without one, every listener)."),
    engine_version: str | None = EngineOpt,
    format: Format = typer.Option(Format.table, "--format", "-f"),
    kernel: KernelChoice = KernelOpt,
) -> None:
    """Hop by hop: the path from SOURCE to TARGET and the rule that decided.

    Examples:

        netsim trace designs/frontend-backend.yaml proxy db:5432
        netsim trace designs/frontend-backend.yaml external proxy:443
    """
    from ..analysis.paths import traces_in

    world = _world(design, engine_version, kernel)
    from .render_cmds import split_target  # (render_cmds imports this module: imported here)

    name, port = split_target(target)
    proto = protocol.value if protocol is not None else ("tcp" if port else None)
    results = traces_in(world, source, name, port, proto)
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
) -> None:
    """Every listener reachable from the host, the LAN or other container networks, and through what.

    Examples:

        netsim exposure designs/frontend-backend.yaml
        netsim exposure designs/compose-shop/compose.yaml -e 28.2 --wide
    """
    from ..analysis.exposure import compute_exposure
    from ..analysis.reachability import reach_of
    from ..render.tables import exposure_table

    world = _world(design, engine_version, kernel)
    model = world.design
    entries = compute_exposure(reach_of(world))
    if format is Format.json:
        from ..analysis.exposure import Through
        from ..analysis.listeners import ListenerOrigins

        origins = ListenerOrigins(model)
        rows = [{**e.to_json(), "listener_origin": origins.at("host" if e.through_kind is Through.PUBLISHED_PORT else "ip",
                                                              e.container, e.container, e.port, e.protocol)}
                for e in entries]
        typer.echo(json.dumps({"design": model.name, "kernel": kernel_json(model), "exposure": rows}, indent=1))
        return
    from .terminal import output_width

    _table(exposure_table(model.name, entries, _color(color), output_width(wide)), _color(color))


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
    from ..render.tables import addressing_table

    world = _world(design, engine_version, kernel)
    model = world.design
    rows = compute_addressing(world)
    if format is Format.json:
        typer.echo(json.dumps({"design": model.name, "kernel": kernel_json(model),
                               "containers": [r.to_json() for r in rows]}, indent=1))
        return
    from .terminal import output_width

    _table(addressing_table(model.name, rows, _color(color), output_width(wide)), _color(color))


@app.command()
def rules(
    design: Path = DesignArg,
    engine_version: str | None = EngineOpt,
    host: str | None = typer.Option(None, "--host", help="Which host (multi-host designs)."),
    kernel: KernelChoice = KernelOpt,
) -> None:
    """The iptables rules the engine would program for the design (iptables-save form).

    Examples:

        netsim rules designs/frontend-backend.yaml
        netsim rules designs/frontend-backend.yaml -e 28.2
    """
    world = _world(design, engine_version, kernel)
    names = [h.name for h in world.design.hosts]
    chosen = host or names[0]
    if chosen not in names:
        raise unknown("host", chosen, names)
    typer.echo(world.host_ns(chosen).ruleset.save(), nl=False)


@app.command()
def schema() -> None:
    """Print the JSON Schema of the netsim design format (for editors).

    Examples:

        netsim schema > design.schema.json
    """
    from ..schema import design_schema

    typer.echo(json.dumps(design_schema(), indent=2))
