"""Commands that read a running engine: import (engine -> design) and drift (design vs engine)."""

from __future__ import annotations

import json
import re
from enum import Enum
from pathlib import Path

import typer

from ..render.text import printable  # text outputs: control characters from names shown as escapes
from . import app
from .common import KernelChoice, check_output, fail, is_stdout, kernel_json, load_or_exit, write_output
from .stdin import design_argument


class DriftFormat(str, Enum):
    table = "table"
    json = "json"
    junit = "junit"


def _engine():
    from ..adapters.docker_engine import DockerEngine

    return DockerEngine()


def scope_for(engine, design=None, project: str | None = None, all_: bool = False):
    """Which running containers form the environment (see docs/live.md)."""
    from ..live.snapshot import Scope, list_projects

    found = list_projects(engine)
    if all_:
        return Scope("all")
    if project:
        if project in found["compose"]:
            return Scope("compose", project)
        if project in found["netsim"]:
            return Scope("netsim", project)
        fail(f"no running compose project or netsim deployment named {project!r} "
             f"(running: {_running(found)})", 2)
    if design is not None:
        if design.kind == "compose":
            for candidate in (design.name, re.sub(r"[^a-z0-9]", "", design.name)):
                if candidate in found["compose"]:
                    return Scope("compose", candidate)
            fail(f"compose project {design.name!r} is not running (running: {_running(found)}); "
                 "name it with --project", 2)
        if design.name in found["netsim"]:
            return Scope("netsim", design.name)
        return Scope("names", names=tuple(c.engine_name for c in design.containers if c.task_of is None)
                     + tuple(s.name for s in design.services))
    projects = sorted(("compose", p) for p in found["compose"]) + sorted(("netsim", p) for p in found["netsim"])
    if len(projects) == 1:
        return Scope(*projects[0])
    fail(f"{len(projects)} projects are running ({_running(found)}): pick one with --project NAME, or --all", 2)


def _running(found: dict) -> str:
    names = [f"compose {p}" for p in sorted(found["compose"])] + [f"netsim {p}" for p in sorted(found["netsim"])]
    return ", ".join(names) or "none"


@app.command("import")
def import_(
    project: str | None = typer.Option(None, "--project", "-P", help="A compose project or netsim design name."),
    all_: bool = typer.Option(False, "--all", help="Every container on the engine."),
    output: Path | None = typer.Option(None, "--output", "-o", help="Write the design here (default: stdout)."),
    force: bool = typer.Option(False, "--force", help="Overwrite an existing output file."),
    name: str | None = typer.Option(None, "--name", help="The design's name (default: the project's)."),
) -> None:
    """Read the running engine into a netsim design (networks, containers, ports, listeners, swarm services).

    Examples:

        netsim import --project shop -o shop.yaml
        netsim import --all
    """
    from ..live.importer import import_snapshot
    from ..live.snapshot import read_snapshot
    from ..live.writer import render_yaml

    check_output(output, force)
    engine = _engine()
    scope = scope_for(engine, project=project, all_=all_)
    snap = read_snapshot(engine, scope)
    imported = import_snapshot(snap, scope, name)
    header = (f"Imported by `netsim import` from Docker {snap.engine_version}: {scope.describe()}.",
              "Addresses (ipv4_address, subnets, gateways) are what the engine assigned, not static requests;",
              "x-netsim.imported says what was read from where and what is assumed.")
    text = render_yaml(imported.design, header + tuple(f"note: {n}" for n in imported.notes),
                       dict(imported.provenance))
    for note in imported.notes:
        typer.echo(f"note: {note}", err=True)
    write_output(output, text, force, announce=False)
    if not is_stdout(output):
        d = imported.design
        tasks = sum(1 for c in d.containers if c.task_of is not None)
        services = f", {len(d.services)} swarm service(s) with {tasks} running task(s)" if d.services else ""
        typer.echo(f"wrote {output}: {len(d.networks)} network(s), {len(d.containers) - tasks} container(s){services}",
                   err=True)


@app.command()
def drift(
    design: Path = typer.Argument(..., help="The intended design: netsim YAML or a docker-compose file; - reads it from standard input.",
                                  callback=design_argument),
    format: DriftFormat = typer.Option(DriftFormat.table, "--format", "-f", help="table, json or junit."),
    project: str | None = typer.Option(None, "--project", "-P", help="The running compose project / netsim design."),
    engine_version: str | None = typer.Option(None, "--engine-version", "-e", help="Model rules (default: the daemon's)."),
) -> None:
    """Compare the design with what runs: missing/extra objects, changed options, and their consequence; exit 1 on drift.

    Examples:

        netsim drift compose.yaml
        netsim drift design.yaml --project shop --format junit > drift.xml
    """
    from ..engine.versions import engine_line
    from ..live.drift import compute_drift, render_json, render_junit, render_text
    from ..live.importer import import_snapshot
    from ..live.snapshot import read_snapshot

    if not design.exists():
        fail(f"{design}: no such file", 2)
    from ..loaders.listeners import using_images
    from .images import engine_images

    with using_images(engine_images(True, "drift")):  # the engine is used anyway: images' ports from it (docs/listeners.md)
        model = load_or_exit(design, engine_version=engine_version, kernel=KernelChoice.local, run_here=True)
    engine = _engine()
    scope = scope_for(engine, model, project)
    snap = read_snapshot(engine, scope)
    imported = import_snapshot(snap, scope)
    version = engine_version or engine_line(engine.version())
    result = compute_drift(model, imported, version, scope.describe())
    if format is DriftFormat.json:
        typer.echo(json.dumps({**render_json(result), "kernel": kernel_json(model)}, indent=2, sort_keys=True))
    elif format is DriftFormat.junit:
        typer.echo(render_junit(result), nl=False)
    else:
        typer.echo(printable(render_text(result), "\n"), nl=False)
    raise typer.Exit(1 if result.drifted else 0)


def live_verify(model, project: str | None, engine_version: str | None, probe_image: str | None, progress):
    """``netsim verify --live``: called by the verify command."""
    from ..adapters import live_peer
    from ..live.live_observe import run_live_verify

    engine = _engine()
    scope = scope_for(engine, model, project)
    return run_live_verify(model, engine, scope, engine_version, progress, probe_image=probe_image,
                           peer_ops=live_peer)
