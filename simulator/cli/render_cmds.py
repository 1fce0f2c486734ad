"""Commands that draw: diagram, report."""

from __future__ import annotations

from enum import Enum
from pathlib import Path

import typer

from ..fanout import default_workers
from . import app
from .common import ForceOpt, KernelChoice, KernelOpt, UsageError, check_output, fail, load_checked, write_output
from .design_cmds import DesignArg, EngineOpt

DOT_MISSING = "the `dot` program is missing: install Graphviz (Debian package graphviz, or `bash scripts/setup.sh`); " \
              "--format dot and --format mermaid work without it"


class DiagramFormat(str, Enum):
    svg = "svg"
    png = "png"
    pdf = "pdf"
    dot = "dot"
    mermaid = "mermaid"


def run_dot(source: str, fmt: str) -> bytes:
    """Lay out DOT source with Graphviz's `dot` (through the graphviz package).

    Raises FileNotFoundError(DOT_MISSING) when the `dot` program is missing and RuntimeError
    with dot's own message when it refuses the source; its warnings are not printed.
    """
    import graphviz  # only the commands that draw pay for it

    try:
        return graphviz.Source(source, engine="dot").pipe(format=fmt, encoding=None, quiet=True)
    except graphviz.ExecutableNotFound:
        raise FileNotFoundError(DOT_MISSING) from None
    except graphviz.CalledProcessError as exc:
        stderr = exc.stderr.decode(errors="replace") if isinstance(exc.stderr, bytes) else str(exc.stderr or "")
        raise RuntimeError(f"dot failed: {stderr.strip()}") from None


def split_target(target: str) -> tuple[str, int | None]:
    """TARGET[:PORT] → (target, port or None) for ``trace`` and ``diagram --path``; an IPv6 address
    takes a port in brackets (``[fd00::2]:5432``), without them it has none. UsageError on a port
    that is not 1-65535."""
    if target.startswith("[") and "]" in target:  # [IPv6 address] or [IPv6 address]:PORT
        inside, _, rest = target[1:].partition("]")
        if not rest:
            return inside, None
        target = f"{inside}{rest}" if rest.startswith(":") else target
        name, _, port_text = target.rpartition(":")
        sep = ":" if name == inside else ""
    else:
        name, sep, port_text = target.rpartition(":") if target.count(":") == 1 else (target, "", "")
    if not sep or not name:
        return target, None
    if not (port_text.isascii() and port_text.isdigit()) or len(port_text) > 5 or not 0 < int(port_text) < 65536:
        raise UsageError(f"{target!r}: the port after ':' must be a number from 1 to 65535")
    return name, int(port_text)


def diagram_source(model, engine_version: str | None, fmt: DiagramFormat, hide_default: bool = False,
                   group: bool | None = None, host: str | None = None,
                   path: tuple[str, str] | None = None, result=None, focus: str | None = None,
                   exposure=None) -> str:
    """The DOT (or Mermaid) text of a design's diagram, with an optional highlighted path.

    ``group``: one box per class of identical containers (None: when the design is large, see
    :data:`~simulator.render.diagram.GROUP_ABOVE`); ``focus``: a network or a host drawn alone in
    detail; ``result``: the design's reachability matrix when the caller has it (its world is
    reused for the path), ``exposure`` its exposure; without them, they are computed here."""
    from ..analysis.paths import traces_in
    from ..analysis.reachability import reach_of
    from ..engine.topology import build_world
    from ..render.diagram import DiagramOptions, build_scene, render_dot, with_path
    from ..render.mermaid import render_mermaid

    hosts = [h.name for h in model.hosts]
    if host is not None and host not in hosts:
        from .common import unknown

        raise unknown("host", host, hosts)
    network = None
    if focus is not None:
        if model.has_network(focus):
            network = focus
        elif focus in hosts:
            host = focus
        else:
            from .common import unknown

            raise unknown("network or host", focus, [n.name for n in model.networks] + hosts)
    result = result or reach_of(build_world(model, engine_version), workers=default_workers())
    scene = build_scene(model, engine_version, DiagramOptions(hide_default, group, host, network), result, exposure)
    if path:
        source, target = path
        name, port = split_target(target)
        traces = traces_in(result.world, source, name, port, "tcp" if port else None)
        scene = with_path(scene, f"{source} → {target}", traces)
    return render_mermaid(scene) if fmt is DiagramFormat.mermaid else render_dot(scene)


@app.command()
def diagram(
    design: Path = DesignArg,
    output: Path | None = typer.Option(None, "--output", "-o", help="Write here (default: stdout for dot/mermaid)."),
    format: DiagramFormat | None = typer.Option(None, "--format", "-f", help="svg | png | pdf | dot | mermaid (default: from -o's suffix, else dot)."),
    engine_version: str | None = EngineOpt,
    hide_default: bool = typer.Option(False, "--hide-default", help="Hide compose's implicit `default` network and an unused default bridge."),
    focus: str | None = typer.Option(None, "--focus", help="Draw this network (its containers) or this Docker host alone, in detail."),
    group: bool | None = typer.Option(None, "--group/--no-group", help="One box per class of identical containers, "
                                      "or every container in its own box (default: grouped above 80 containers)."),
    host: str | None = typer.Option(None, "--host", help="Draw this Docker host only (as --focus HOST)."),
    path: tuple[str, str] | None = typer.Option(None, "--path", help="FROM TO[:PORT]: highlight this trace hop by hop."),
    force: bool = ForceOpt,
    kernel: KernelChoice = KernelOpt,
) -> None:
    """Draw the design: hosts, networks per mode, containers, published ports, exposure (Graphviz or Mermaid).

    Containers sit in their networks, wrapped into rows; above 80 containers identical ones share a
    box with their count (--no-group draws every one), and when even those are too many the picture is
    an overview: each host a table of its networks and their classes (--focus draws one in detail).

    Examples:

        netsim diagram designs/frontend-backend.yaml -o frontend-backend.svg
        netsim diagram designs/frontend-backend.yaml -f mermaid --path proxy db:5432
        netsim diagram designs/compose-shop/compose.yaml --focus back --no-group -o back.svg
    """
    fmt = format or _format_from_suffix(output)
    check_output(output, force, (design,))
    from ..analysis.reachability import reach_of

    world = load_checked(design, engine_version, kernel).world(engine_version)
    text = diagram_source(world.design, engine_version, fmt, hide_default, group, host, path,
                         reach_of(world, workers=default_workers()), focus)
    if fmt in (DiagramFormat.dot, DiagramFormat.mermaid):
        data = text.encode()
    else:
        if output is None:
            fail(f"--format {fmt.value} needs -o FILE (-o - for standard output)", 2)
        data = _dot_or_exit(text, fmt.value)
    if output is None:
        typer.echo(text, nl=False)
        return
    write_output(output, data, force, (design,))


@app.command()
def report(
    design: Path = DesignArg,
    output: Path = typer.Option(..., "--output", "-o", help="The HTML file to write (- for standard output)."),
    engine_version: str | None = EngineOpt,
    force: bool = ForceOpt,
    kernel: KernelChoice = KernelOpt,
) -> None:
    """One self-contained HTML page: the diagram, the reachability matrix by class (click a cell for its probes and a trace), exposure, addressing.

    Examples:

        netsim report designs/frontend-backend.yaml -o report.html
    """
    from ..analysis.exposure import exposure_proofs
    from ..fanout import default_workers, ordered_map
    from ..render.report import diagram_part, fill_page, matrix_parts, world_parts

    check_output(output, force, (design,))  # before the work, not after it
    world = load_checked(design, engine_version, kernel).world(engine_version)
    model = world.design
    result = shared_pass(world)
    proofs = exposure_proofs(result)  # once, for the diagram's colours and the page's table (by class)
    exposure = [x.exposure for x in proofs]

    def picture() -> tuple[dict[str, str], str | None]:
        """The diagram and the parts read from the design alone; why there is no diagram, if not."""
        dot_text = diagram_source(model, engine_version, DiagramFormat.dot, result=result, exposure=exposure)
        try:
            svg, why = run_dot(dot_text, "svg").decode(), None
        except (FileNotFoundError, RuntimeError) as exc:  # no Graphviz, or it refused the DOT: the rest still helps
            svg, why = "", str(exc)
        return {**diagram_part(svg), **world_parts(result)}, why

    def matrix() -> tuple[dict[str, str], str | None]:
        return matrix_parts(result, exposure, proofs, result.__dict__.get("rows")), None

    parts: dict[str, str] = {}
    for made, why in ordered_map(lambda job: job(), [picture, matrix], min(2, default_workers()), chunk=1, least=1):
        parts.update(made)  # the two halves side by side, each in a process of its own on a machine of several CPUs
        if why is not None:
            from ..render.text import printable

            typer.echo(printable(f"netsim: warning: the report has no diagram: {why}", keep="\n"), err=True)
    write_output(output, fill_page(parts), force, (design,))


def shared_pass(world):
    """The world's reachability matrix on which the report's two readers of the coarse groups walk
    once: when the exposure reads each source class's groups (:meth:`ReachResult.map_coarse`, in
    :func:`default_workers` processes), the class's row of the page's matrix is made beside them
    (:func:`~simulator.render.report.row_reader`: only rows travel back, not the groups) and kept
    as ``rows`` once every class is read. The exposure is given every group of its ways, its
    delivered ones when it asks for those only (also those over the source's own links: it tells
    those apart itself)."""
    from dataclasses import dataclass

    from ..analysis.probes import Via
    from ..analysis.reachability import ReachResult
    from ..engine.trace import Disposition
    from ..render.report import row_reader

    @dataclass(frozen=True)
    class SharedPass(ReachResult):
        def map_coarse(self, work, sources=None, ways=(Via.IP, Via.DNS, Via.HOST), beyond_own_links=False,
                       answered_only=False):
            if sources is not None or "rows" in self.__dict__ or self.__dict__.get("_given") is not None:
                return super().map_coarse(work, sources, ways, beyond_own_links, answered_only)
            return self._with_rows(work, {Via(w) for w in ways}, answered_only)

        def _with_rows(self, work, ways, answered_only):
            row = row_reader(self)

            def both(cid, groups):
                mine = [g for g in groups if g.via in ways and (not answered_only or g.disposition is Disposition.DELIVERED)]
                return work(cid, mine), row(cid, groups)

            rows = []
            for got, r in super().map_coarse(both):
                rows.append(r)
                yield got
            self.__dict__["rows"] = rows

    return SharedPass(world.design, world, workers=default_workers())


SUFFIXES = {"svg": DiagramFormat.svg, "png": DiagramFormat.png, "pdf": DiagramFormat.pdf, "dot": DiagramFormat.dot,
            "gv": DiagramFormat.dot, "mmd": DiagramFormat.mermaid, "md": DiagramFormat.mermaid}


def _format_from_suffix(output: Path | None) -> DiagramFormat:
    """The format -o's suffix names; an unknown suffix is refused rather than filled with DOT."""
    if output is None or str(output) == "-":
        return DiagramFormat.dot
    suffix = output.suffix.lower().lstrip(".")
    if suffix not in SUFFIXES:
        raise UsageError(f"{output}: netsim cannot tell the format from "
                         f"{'.' + suffix if suffix else 'a name without a suffix'}; "
                         f"use one of .{', .'.join(SUFFIXES)} or name the format with --format")
    return SUFFIXES[suffix]


def _dot_or_exit(source: str, fmt: str) -> bytes:
    try:
        return run_dot(source, fmt)
    except (FileNotFoundError, RuntimeError) as exc:
        fail(str(exc), 2)
        raise  # unreachable: fail() exits
