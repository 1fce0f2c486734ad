"""Commands that read a design and answer from the model: check, reach, trace, exposure, addresses."""

from __future__ import annotations

import json
from enum import Enum
from pathlib import Path
from typing import Optional

import typer

from . import app
from .stdin import design_argument
from .common import fail, load_or_exit, print_problems, stdout_is_tty

DesignArg = typer.Argument(..., help="A netsim design (YAML) or a docker-compose file; - reads it from standard input.",
                           exists=False, callback=design_argument)
EngineOpt = typer.Option(None, "--engine-version", "-e", help="Engine version whose rules apply (e.g. 20.10, 28.2, 29.0); default: the design's.")


class Format(str, Enum):
    table = "table"
    json = "json"


def _color(color: Optional[bool]) -> bool:
    from .terminal import use_color

    return use_color(color)


def _table(text: str, color: bool) -> None:
    """Print a rendered table; its colour codes survive a pipe only when colour was chosen."""
    typer.echo(text, nl=False, color=color)


WideOpt = typer.Option(False, "--wide", "-w", help="Do not fit the terminal's width: every cell on one line.")
ColorOpt = typer.Option(None, "--color/--no-color", help="Colour the table (default: on a terminal, unless NO_COLOR is set or TERM=dumb).")


def _check_path(path: Path) -> None:
    if not path.exists():
        fail(f"{path}: no such file", 2)


def _problems(design, engine_version):
    """Engine-level problems (addressing, version rules) on top of what the loader found."""
    from ..engine.checks import engine_problems

    return engine_problems(design, engine_version)


@app.command()
def check(
    design: Path = DesignArg,
    engine_version: Optional[str] = EngineOpt,
    quiet: bool = typer.Option(False, "--quiet", "-q", help="Print nothing when the design is valid."),
) -> None:
    """Validate a design: exit 0 when the engine would accept it, 1 listing every problem.

    Examples:

        netsim check designs/frontend-backend.yaml
        netsim check - < designs/compose-shop/compose.yaml    # the design from standard input
    """
    _check_path(design)
    model = load_or_exit(design)
    problems = _problems(model, engine_version)
    errors = [p for p in problems if p.severity == "error"]
    print_problems(problems)
    if errors:
        typer.echo(f"{design}: {len(errors)} error(s)", err=True)
        raise typer.Exit(1)
    if not quiet:
        n_c, n_n = len(model.containers), len([n for n in model.networks])
        typer.echo(f"{design}: ok ({len(model.hosts)} host(s), {n_n} network(s), {n_c} container(s))")


def _load_valid(design: Path, engine_version: Optional[str]):
    _check_path(design)
    model = load_or_exit(design, show_warnings=False)
    errors = [p for p in _problems(model, engine_version) if p.severity == "error"]
    if errors:
        print_problems(errors)
        typer.echo(f"{design}: {len(errors)} error(s); run `netsim check` for details", err=True)
        raise typer.Exit(1)
    return model


@app.command()
def reach(
    design: Path = DesignArg,
    engine_version: Optional[str] = EngineOpt,
    format: Format = typer.Option(Format.table, "--format", "-f", help="table (for people) or json (the stable contract)."),
    trace: bool = typer.Option(False, "--trace", help="Include the full hop-by-hop trace of every probe (json)."),
    source: Optional[list[str]] = typer.Option(None, "--source", "-s", help="Only probes from these sources."),
    only: Optional[str] = typer.Option(None, "--only", help="reachable | unreachable"),
    matrix: bool = typer.Option(False, "--matrix", help="A compact grid instead of the per-source tables."),
    color: Optional[bool] = ColorOpt,
    wide: bool = WideOpt,
) -> None:
    """The reachability matrix: every source × target listener × way of addressing it.

    Examples:

        netsim reach designs/frontend-backend.yaml --only unreachable
        netsim reach designs/compose-shop/compose.yaml --format json
    """
    from ..analysis.reachability import compute_reach
    from ..render.tables import reach_matrix, reach_table

    model = _load_valid(design, engine_version)
    result = compute_reach(model, engine_version, with_traces=trace)
    if format is Format.json:
        data = result.to_json()
        if source:
            data["probes"] = [p for p in data["probes"] if p["source"] in source]
        typer.echo(json.dumps(data, indent=1))
        return
    from .terminal import output_width

    use, width = _color(color), output_width(wide)
    if matrix:
        _table(reach_matrix(result, use, width), use)
    else:
        _table(reach_table(result, use, only, source, width), use)


@app.command()
def trace(
    design: Path = DesignArg,
    source: str = typer.Argument(..., help="A container, `host`, `external` or a host name."),
    target: str = typer.Argument(..., help="TARGET[:PORT] — a container, a DNS name, an address, or `host`."),
    protocol: str = typer.Option("tcp", "--protocol", "-p", help="tcp or udp"),
    engine_version: Optional[str] = EngineOpt,
    format: Format = typer.Option(Format.table, "--format", "-f"),
) -> None:
    """Hop by hop: the path from SOURCE to TARGET and the rule that decided.

    Examples:

        netsim trace designs/frontend-backend.yaml proxy db:5432
        netsim trace designs/frontend-backend.yaml external proxy:443
    """
    from ..analysis.paths import trace_between

    model = _load_valid(design, engine_version)
    name, _, port_text = target.rpartition(":") if target.count(":") == 1 else (target, "", "")
    if not name:
        name, port_text = target, ""
    port = None
    if port_text:
        if not port_text.isdigit() or not 0 < int(port_text) < 65536:
            fail(f"{target!r}: the port after ':' must be a number from 1 to 65535", 2)
        port = int(port_text)
    results = trace_between(model, source, name, port, protocol.lower(), engine_version)
    if format is Format.json:
        typer.echo(json.dumps([
            {"path": label, "disposition": t.disposition.value, "reason": t.reason, "responder": t.responder,
             "hops": [{"node": h.node, "steps": [{"kind": s.kind, "detail": s.detail, "rule": s.rule} for s in h.steps]} for h in t.hops]}
            for label, t in results
        ], indent=1))
        return
    for label, t in results:
        typer.echo(f"── {source} → {label}")
        typer.echo(str(t))
        typer.echo("")


@app.command()
def exposure(
    design: Path = DesignArg,
    engine_version: Optional[str] = EngineOpt,
    format: Format = typer.Option(Format.table, "--format", "-f"),
    color: Optional[bool] = ColorOpt,
    wide: bool = WideOpt,
) -> None:
    """Every listener reachable from the host, the LAN or other container networks, and through what.

    Examples:

        netsim exposure designs/frontend-backend.yaml
        netsim exposure designs/compose-shop/compose.yaml -e 28.2 --wide
    """
    from ..analysis.exposure import compute_exposure
    from ..analysis.reachability import compute_reach
    from ..render.tables import exposure_table

    model = _load_valid(design, engine_version)
    entries = compute_exposure(compute_reach(model, engine_version))
    if format is Format.json:
        typer.echo(json.dumps({"design": model.name, "exposure": [e.to_json() for e in entries]}, indent=1))
        return
    from .terminal import output_width

    _table(exposure_table(model.name, entries, _color(color), output_width(wide)), _color(color))


@app.command()
def addresses(
    design: Path = DesignArg,
    engine_version: Optional[str] = EngineOpt,
    format: Format = typer.Option(Format.table, "--format", "-f"),
    color: Optional[bool] = ColorOpt,
    wide: bool = WideOpt,
) -> None:
    """Each container's interfaces, addresses, gateways, names and published ports.

    Examples:

        netsim addresses designs/multi-homed.yaml
        netsim addresses designs/frontend-backend.yaml --format json
    """
    from ..analysis.addressing import compute_addressing
    from ..engine.topology import build_world
    from ..render.tables import addressing_table

    model = _load_valid(design, engine_version)
    rows = compute_addressing(build_world(model, engine_version))
    if format is Format.json:
        typer.echo(json.dumps({"design": model.name, "containers": [r.to_json() for r in rows]}, indent=1))
        return
    from .terminal import output_width

    _table(addressing_table(model.name, rows, _color(color), output_width(wide)), _color(color))


@app.command()
def rules(
    design: Path = DesignArg,
    engine_version: Optional[str] = EngineOpt,
    host: Optional[str] = typer.Option(None, "--host", help="Which host (multi-host designs)."),
) -> None:
    """The iptables rules the engine would program for the design (iptables-save form).

    Examples:

        netsim rules designs/frontend-backend.yaml
        netsim rules designs/frontend-backend.yaml -e 28.2
    """
    from ..engine.topology import build_world

    model = _load_valid(design, engine_version)
    world = build_world(model, engine_version)
    names = [h.name for h in model.hosts]
    chosen = host or names[0]
    if chosen not in names:
        fail(f"unknown host {chosen!r}; the design has: {', '.join(names)}", 2)
    typer.echo(world.host_ns(chosen).ruleset.save(), nl=False)


@app.command()
def schema() -> None:
    """Print the JSON Schema of the netsim design format (for editors).

    Examples:

        netsim schema > design.schema.json
    """
    from ..schema import load_schema

    typer.echo(json.dumps(load_schema(), indent=2))
