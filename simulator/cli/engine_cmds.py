"""Commands that drive a real Docker engine: deploy, verify, destroy."""

from __future__ import annotations

import json
from enum import Enum
from pathlib import Path

import typer

from ..render.text import printable  # text outputs: control characters from names shown as escapes
from . import app
from .common import ForceOpt, KernelChoice, check_output, kernel_json, load_checked, load_or_exit, write_output
from .stdin import design_argument

DesignArg = typer.Argument(..., help="A netsim design (YAML) or a docker-compose file; - reads it from standard input.",
                           callback=design_argument)
ImageOpt = typer.Option(None, "--probe-image", help="Probe image to use (default: netsim-probe:1, built locally when missing).")
DockerdOpt = typer.Option(None, "--dockerd", envvar="NETSIM_DOCKERD", metavar="PATH",
                          help="Run every design host as a daemon started from this dockerd binary (an engine built "
                               "from source) in a network namespace of its own; this machine's engine is not used "
                               "(env NETSIM_DOCKERD). docs/engines-from-source.md.")
RuntimeOpt = typer.Option(None, "--runtime", envvar="NETSIM_RUNTIME", metavar="PATH",
                          help="--dockerd: the OCI runtime (runc) its containers run with (default: runc from PATH; "
                               "env NETSIM_RUNTIME).")
ProxyOpt = typer.Option(None, "--docker-proxy", envvar="NETSIM_DOCKER_PROXY", metavar="PATH",
                        help="--dockerd: its docker-proxy (default: docker-proxy beside the dockerd binary; "
                             "env NETSIM_DOCKER_PROXY).")


class Format(str, Enum):
    table = "table"
    json = "json"


def _engine():
    from ..adapters.docker_engine import DockerEngine

    return DockerEngine()


def _design(path: Path):
    """deploy/destroy run on this machine: every host gets this machine's kernel."""
    return load_or_exit(path, kernel=KernelChoice.local, run_here=True)


def _binaries(dockerd: Path | None, runtime: Path | None, proxy: Path | None, model=None):
    """The engine built from source the options name (checked), or None.

    Without ``--dockerd``, a design whose first host states IPv6 daemon options this machine's
    engine does not run with (``ipv6``, ``fixed_cidr_v6``, ``ip6tables``, ``experimental``, an
    IPv6 address pool) gets a daemon of its own started from this machine's dockerd with them
    (said on stderr); never the machine's engine with other settings than the design's."""
    from ..adapters.extra_daemon import engine_binaries, local_dockerd

    found = engine_binaries(str(dockerd) if dockerd else None, str(runtime) if runtime else None,
                            str(proxy) if proxy else None)
    if found is not None or model is None:
        return found
    from ..deploy.plan import own_daemon_reason

    why = own_daemon_reason(model)
    if why is None:
        return None
    local = local_dockerd()
    if local is None:
        from ..errors import UsageError

        raise UsageError(f"design {model.name!r}: {why}, and no dockerd binary was found to start a daemon with "
                         "them: pass --dockerd PATH")
    typer.echo(f"note: {why}: it runs as a daemon of its own started from {local.dockerd} with them "
               "(docs/engines-from-source.md)", err=True)
    return local


@app.command()
def deploy(
    design: Path = DesignArg,
    dry_run: bool = typer.Option(False, "--dry-run", help="Print the plan, touch nothing."),
    probe_image: str | None = ImageOpt,
    dockerd: Path | None = DockerdOpt,
    runtime: Path | None = RuntimeOpt,
    docker_proxy: Path | None = ProxyOpt,
) -> None:
    """Create the design's networks and probe containers on the local engine (labelled).

    Examples:

        netsim deploy designs/frontend-backend.yaml --dry-run    # the plan only
        netsim deploy designs/frontend-backend.yaml
    """
    from ..adapters.probe_image import DEFAULT_PROBE_IMAGE
    from ..deploy.apply import apply, sigterm_as_interrupt
    from ..deploy.plan import plan

    model = _design(design)
    binaries = _binaries(dockerd, runtime, docker_proxy, model)
    if dry_run:  # touches nothing: the kernel's link types are read from its configuration, not tried
        from ..adapters.kernel import link_capabilities

        caps, where = link_capabilities()
        typer.echo(printable(plan(model, probe_image or DEFAULT_PROBE_IMAGE, caps, binaries).describe(), "\n"))
        typer.echo(f"note: link types (macvlan, ipvlan, 802.1q) as {where} says; deploy tries them")
        return
    from ..adapters.lanpeer import kernel_capabilities

    the_plan = plan(model, probe_image or DEFAULT_PROBE_IMAGE, kernel_capabilities(), binaries)
    # with --dockerd this machine's engine is only the source of a --probe-image
    engine = _engine() if binaries is None or probe_image is not None else None
    from .progress import phase_progress

    with sigterm_as_interrupt(), phase_progress("deploy") as progress:
        if binaries is not None:
            dep = apply(the_plan, None, progress=progress, build_image=probe_image is None, image_source=engine)
        else:
            dep = apply(the_plan, engine, progress=progress, build_image=probe_image is None)
    for note in list(the_plan.notes) + dep.notes:
        typer.echo(f"note: {note}", err=True)
    services = f", {len(the_plan.services)} service(s)" if the_plan.services else ""
    typer.echo(f"deployed {model.name!r}: {len(dep.network_ids)} network(s), {len(dep.container_ids)} container(s)"
               + services + ("" if dep.lan_ready else " (no emulated LAN)"))


@app.command()
def destroy(
    design: Path = DesignArg,
    dockerd: Path | None = DockerdOpt,
    runtime: Path | None = RuntimeOpt,
    docker_proxy: Path | None = ProxyOpt,
) -> None:
    """Remove everything netsim created for the design (found by label), nothing else.

    The daemons of a deployment on an engine built from source (--dockerd) are found by
    their records; this machine's engine is then left alone, with or without --dockerd.

    Examples:

        netsim destroy designs/frontend-backend.yaml
    """
    from ..adapters.extra_daemon import discover
    from ..deploy.apply import destroy as destroy_design

    model = _design(design)
    binaries = _binaries(dockerd, runtime, docker_proxy)
    own = binaries is not None or any(s.binaries is not None for s in discover(model.name))
    removed = destroy_design(model.name, None if own else _engine())
    typer.echo(f"removed {len(removed)} object(s)" + (": " + ", ".join(removed) if removed else ""))


@app.command()
def verify(
    design: Path = DesignArg,
    no_deploy: bool = typer.Option(False, "--no-deploy", help="Probe an existing deployment."),
    keep: bool = typer.Option(False, "--keep", help="Leave the deployment in place afterwards."),
    format: Format = typer.Option(Format.table, "--format", "-f", help="table or json."),
    junit: Path | None = typer.Option(None, "--junit", help="Also write JUnit XML (one testcase per probe)."),
    engine_version: str | None = typer.Option(None, "--engine-version", "-e",
                                                 help="Model rules to compare with (default: the daemon's, e.g. 20.10)."),
    probe_image: str | None = ImageOpt,
    only_differences: bool = typer.Option(False, "--only-differences", help="Table: skip the expected/observed views."),
    intent_file: Path | None = typer.Option(None, "--intent", "-i", help="Also judge this intent file (and the design's expect:) on what the engine did."),
    live: bool = typer.Option(False, "--live", help="Probe the running environment in place, without deploying or changing it."),
    project: str | None = typer.Option(None, "--project", "-P", help="--live: the running compose project / netsim design."),
    force: bool = ForceOpt,
    dockerd: Path | None = DockerdOpt,
    runtime: Path | None = RuntimeOpt,
    docker_proxy: Path | None = ProxyOpt,
) -> None:
    """Deploy, probe every source/target pair for real, compare with the model; exit 1 on mismatch.

    When the design states intent (expect:, or --intent), each expectation is judged on the model
    and on the observations: it holds, the design breaks it, or the engine disagrees with the model.

    Examples:

        netsim verify designs/frontend-backend.yaml --junit verify.xml
        netsim verify compose.yaml --live --project shop    # probe what runs, change nothing
        netsim verify designs/frontend-backend.yaml --dockerd /opt/moby-29/dockerd --runtime /opt/runc/runc
    """
    from ..analysis.reachability import reach_of
    from ..engine.topology import build_world
    from ..verify.intent_check import judge_intent, render_verdicts
    from ..verify.junit import render_junit
    from ..verify.report import render_json, render_text
    from ..verify.session import VerifyOptions, run_verify

    # one world per engine version for the whole command: the model verify compares with, the
    # traces of its mismatches and the intent verdicts all come from the pipeline's Loaded.world
    binaries = _binaries(dockerd, runtime, docker_proxy)
    if binaries is not None and live:
        from ..errors import UsageError

        raise UsageError("--live probes the running engine in place; --dockerd starts engines of its own")
    loaded = load_checked(design, engine_version, KernelChoice.local, intent_file, run_here=True)
    model, intent = loaded.design, loaded.intent
    if binaries is None and not live:
        binaries = _binaries(None, None, None, model)
    if junit is not None:
        check_output(junit, force, (design, intent_file))  # refuses before deploying anything
    opts = VerifyOptions(deploy=not no_deploy, keep=keep, engine_version=engine_version, probe_image=probe_image,
                         binaries=binaries)
    from .progress import phase_progress

    with phase_progress("verify") as progress:
        if live:
            from .live_cmds import live_verify

            result = live_verify(model, project, engine_version, probe_image, progress)
        elif binaries is not None:  # this machine's engine: only the source of a --probe-image
            result = run_verify(model, None, opts, progress, world=loaded.world,
                                image_source=_engine() if probe_image is not None else None)
        else:
            result = run_verify(model, _engine(), opts, progress, world=loaded.world)
    world = build_world(result.placed, result.engine_version) if result.placed else loaded.world(result.engine_version)
    verdicts = judge_intent(intent, reach_of(world), result) if intent.expectations else []  # as the tasks ran
    if format is Format.json:
        data = render_json(result)
        data["kernel"] = kernel_json(model)
        data["intent"] = [{"expectation": v.model.expectation.text, "path": v.model.expectation.path,
                           "verdict": v.kind, "model": v.model.message, "engine": v.observed.message} for v in verdicts]
        typer.echo(json.dumps(data, indent=2, sort_keys=True))
    else:
        typer.echo(printable(render_text(result, show_agreeing=not only_differences), "\n"), nl=False)
        typer.echo(printable(render_verdicts(verdicts), "\n"), nl=False)
    if junit is not None:
        write_output(junit, render_junit(result), force, (design, intent_file))
    intent_ok = all(v.kind == "holds" for v in verdicts)
    raise typer.Exit(0 if result.ok and intent_ok else 1)
