"""Commands that judge a design: test (intent), audit, diff.

Exit codes (the contract of simulator.cli.common): 0 all good; 1 the design or its intent
is invalid, an expectation failed (test), a finding at or above ``--fail-on`` (audit), a
change with ``--exit-code`` (diff); 2 a usage error (a missing file, unknown rule IDs on
the command line, an unknown option value).
"""

from __future__ import annotations

from enum import Enum
from pathlib import Path

import typer

from ..fanout import default_workers
from ..render.text import printable  # text outputs: control characters from names shown as escapes
from . import app
from .common import EXIT_FOUND, ForceOpt, KernelChoice, KernelOpt, fail, load_checked, print_problems, write_output
from .stdin import design_argument

DesignArg = typer.Argument(..., help="A netsim design (YAML) or a docker-compose file; - reads it from standard input.",
                           callback=design_argument)
EngineOpt = typer.Option(None, "--engine-version", "-e", help="Engine version whose rules apply (e.g. 20.10, 28.2); default: the design's.")
OutputOpt = typer.Option(None, "--output", "-o", help="Write the report to this file instead of standard output.")
IntentOpt = typer.Option(None, "--intent", "-i", help="An intent file (expect:, audit:) beside the design, e.g. for a compose file.")


class TestFormat(str, Enum):
    table = "table"
    json = "json"
    junit = "junit"
    sarif = "sarif"


class AuditFormat(str, Enum):
    table = "table"
    json = "json"
    sarif = "sarif"


class DiffFormat(str, Enum):
    table = "table"
    json = "json"


class FailOn(str, Enum):
    high = "high"
    medium = "medium"
    low = "low"
    never = "never"


def _emit(text: str, output: Path | None, force: bool = False, inputs: tuple = ()) -> None:
    write_output(output, text, force, inputs, announce=False)


def _with_kernel(text: str, model) -> str:
    """A JSON report with the field ``kernel`` (host name → the kernel the design was evaluated against)."""
    import json

    from .common import kernel_json

    return json.dumps({**json.loads(text), "kernel": kernel_json(model)}, indent=1) + "\n"


def _version(design, engine_version: str | None) -> str:
    from ..engine.versions import parse_version

    return str(parse_version(engine_version or design.hosts[0].engine_version))


@app.command("test")
def test_cmd(
    design: Path = DesignArg,
    intent: Path | None = IntentOpt,
    engine_version: str | None = EngineOpt,
    format: TestFormat = typer.Option(TestFormat.table, "--format", "-f", help="table, json, junit (XML) or sarif (2.1.0)."),
    output: Path | None = OutputOpt,
    no_trace: bool = typer.Option(False, "--no-trace", help="table: leave out the hop-by-hop traces of failures."),
    force: bool = ForceOpt,
    kernel: KernelChoice = KernelOpt,
) -> None:
    """Check the design's expectations (expect:, or --intent FILE) against the model; exit 1 if any fails.

    Examples:

        netsim test design.yaml
        netsim test compose.yaml --intent intent.yaml --format junit -o intent.xml
    """
    from ..analysis.reachability import reach_of
    from ..intent import report
    from ..intent.evaluation import evaluate

    loaded = load_checked(design, engine_version, kernel, intent)
    model, stated = loaded.design, loaded.intent
    if not stated.expectations:
        fail(f"{design}: no expectations to test; write an expect: section (compose: x-netsim-expect:) "
             "or pass --intent FILE (see docs/intent.md)", 2)
    outcomes, problems = evaluate(stated, model, engine_version, reach_of(loaded.world(engine_version), workers=default_workers()))
    print_problems(problems)
    if any(p.severity == "error" for p in problems):
        typer.echo(f"{len([p for p in problems if p.severity == 'error'])} error(s) in the intent; nothing was evaluated", err=True)
        raise typer.Exit(EXIT_FOUND)
    version = _version(model, engine_version)
    render = {TestFormat.json: report.render_json, TestFormat.junit: report.render_junit_report,
              TestFormat.sarif: report.render_sarif_report}.get(format)
    text = render(model.name, version, outcomes) if render else _printable_lines(report.render_text(model.name, version, outcomes, not no_trace))
    if format is TestFormat.json:
        text = _with_kernel(text, model)
    _emit(text, output, force, (design, intent))
    if any(not o.passed for o in outcomes):
        raise typer.Exit(1)


def _printable_lines(text: str) -> str:
    """``printable(text, "\\n")`` line by line: the same text, but a line with nothing to escape is
    passed over at C speed (the whole text's newlines would send every character through the slow path)."""
    return "\n".join(map(printable, text.split("\n")))


@app.command()
def audit(
    design: Path = DesignArg,
    intent: Path | None = IntentOpt,
    engine_version: str | None = EngineOpt,
    format: AuditFormat = typer.Option(AuditFormat.table, "--format", "-f", help="table, json or sarif (2.1.0)."),
    output: Path | None = OutputOpt,
    disable: list[str] | None = typer.Option(None, "--disable", "-d", help="Rule IDs to switch off (repeat, or NS003,NS011)."),
    fail_on: FailOn = typer.Option(FailOn.low, "--fail-on", help="Exit 1 when a finding is at least this severe (never: always 0)."),
    no_trace: bool = typer.Option(False, "--no-trace", help="table: leave out the hop-by-hop traces."),
    every: bool = typer.Option(False, "--all", help="table: list every case of a finding that stands for several alike "
                                                    "(replicas); json always has them."),
    force: bool = ForceOpt,
    kernel: KernelChoice = KernelOpt,
) -> None:
    """Find what a reviewer would: risky exposure, isolation bypasses, ignored ports, odd subnets.

    Examples:

        netsim audit designs/frontend-backend.yaml
        netsim audit compose.yaml --fail-on high --format sarif -o audit.sarif
    """
    from ..analysis.reachability import reach_of
    from ..audit import check_disabled, report, run_audit

    cli_ids = [part.strip() for item in disable or [] for part in item.split(",") if part.strip()]
    problems = check_disabled(cli_ids)
    if problems:  # a usage error: checked before the design is read
        print_problems(problems)
        raise typer.Exit(2)
    loaded = load_checked(design, engine_version, kernel, intent)
    model, warnings, stated = loaded.design, list(loaded.warnings), loaded.intent
    problems = check_disabled(stated.audit_disable, stated.audit_disable_locations)
    if problems:  # the design's (or intent file's) audit.disable: the input is invalid
        print_problems(problems)
        raise typer.Exit(EXIT_FOUND)
    off = tuple(dict.fromkeys(stated.audit_disable + tuple(cli_ids)))
    findings = run_audit(model, warnings, engine_version, off, reach_of(loaded.world(engine_version), workers=default_workers()))
    version = _version(model, engine_version)
    if format is AuditFormat.json:
        text = _with_kernel(report.render_json(model.name, version, findings, off), model)
    elif format is AuditFormat.sarif:
        text = report.render_sarif_report(model.name, version, findings)
    else:
        text = _printable_lines(report.render_text(model.name, version, findings, off, not no_trace, every))
    _emit(text, output, force, (design, intent))
    order = ("high", "medium", "low")
    if fail_on is not FailOn.never and any(order.index(f.rule.severity) <= order.index(fail_on.value) for f in findings):
        raise typer.Exit(1)


@app.command()
def diff(
    old: Path = typer.Argument(..., help="The design before the change (- : standard input).", callback=design_argument),
    new: Path = typer.Argument(..., help="The design after the change (- : standard input).", callback=design_argument),
    engine_version: str | None = EngineOpt,
    format: DiffFormat = typer.Option(DiffFormat.table, "--format", "-f", help="table or json."),
    output: Path | None = OutputOpt,
    exit_code: bool = typer.Option(False, "--exit-code", help="Exit 1 when anything changes (like git diff --exit-code)."),
    force: bool = ForceOpt,
    kernel: KernelChoice = KernelOpt,
) -> None:
    """What a change does: paths opened and closed, listeners newly exposed or no longer exposed.

    Examples:

        netsim diff old.yaml new.yaml
        netsim diff old.yaml - --exit-code < new.yaml    # the new design from standard input
    """
    import json

    from ..analysis.reachability import reach_of
    from ..diff import diff_results, render_text

    before = load_checked(old, engine_version, kernel).world(engine_version)
    after = load_checked(new, engine_version, kernel).world(engine_version)
    result = diff_results(reach_of(before, workers=default_workers()), reach_of(after, workers=default_workers()))
    text = json.dumps(result.to_json(), indent=1) + "\n" if format is DiffFormat.json else _printable_lines(render_text(result))
    _emit(text, output, force, (old, new))
    if exit_code and not result.empty:
        raise typer.Exit(1)
