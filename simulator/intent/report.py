"""Outcomes of ``netsim test`` as text, JSON, JUnit XML and SARIF (pure functions)."""

from __future__ import annotations

import json
import textwrap

from ..render.junit import Case, render_junit
from ..render.sarif import SarifResult, SarifRule, render_sarif
from .model import Outcome

KINDS = {
    "allow": "a source must reach a target",
    "deny": "a source must not reach a target",
    "exposure": "a ceiling on what is reachable from outside a service's networks",
    "resolve": "a name must (not) resolve from a source",
    "structure": "a rule on the shape of the design",
}


def _indent(text: str, n: int) -> str:
    return textwrap.indent(text, " " * n)


def outcome_text(o: Outcome, traces: bool = True) -> str:
    e = o.expectation
    where = f"{e.location} " if e.location else ""
    lines = [f"{'PASS' if o.passed else 'FAIL'} {where}{e.kind}: {e.text}"]
    if o.passed:
        return lines[0]
    lines.append(f"     {o.message}")
    if e.why:
        lines.append(f"     why it is expected: {e.why}")
    for ev in o.evidence:
        lines.append(f"     - {ev}")
        shown = ev.trace_text if traces else None
        if shown:
            lines.append(_indent(shown, 8))
    return "\n".join(lines)


def render_text(design: str, engine_version: str, outcomes: list[Outcome], traces: bool = True) -> str:
    failed = [o for o in outcomes if not o.passed]
    head = (f"{design} (engine {engine_version}): {len(failed)} of {len(outcomes)} expectation(s) failed"
            if failed else f"{design} (engine {engine_version}): all {len(outcomes)} expectation(s) hold")
    body = [outcome_text(o, traces) for o in failed] + [outcome_text(o) for o in outcomes if o.passed]
    return "\n".join([head, *body]) + "\n"


def outcome_json(o: Outcome) -> dict:
    e = o.expectation
    return {
        "kind": e.kind, "expectation": e.text, "location": str(e.location) if e.location else None, "path": e.path,
        "why": e.why or None, "passed": o.passed, "message": o.message,
        "evidence": [ev.to_json() for ev in o.evidence],
    }


def render_json(design: str, engine_version: str, outcomes: list[Outcome]) -> str:
    return json.dumps({
        "design": design, "engine_version": engine_version,
        "passed": sum(o.passed for o in outcomes), "failed": sum(not o.passed for o in outcomes),
        "outcomes": [outcome_json(o) for o in outcomes],
    }, indent=1) + "\n"


def render_junit_report(design: str, engine_version: str, outcomes: list[Outcome]) -> str:
    cases = []
    for o in outcomes:
        e = o.expectation
        name = f"{e.kind}: {e.text}" + (f" ({e.location})" if e.location else "")
        details = outcome_text(o) if not o.passed else o.message
        cases.append(Case(name, f"netsim.{design}.{e.kind}", None if o.passed else o.message, details))
    return render_junit(f"netsim test {design}", cases, {"engine_version": engine_version})


def render_sarif_report(design: str, engine_version: str, outcomes: list[Outcome], version: str = "0.1.0") -> str:
    rules = [SarifRule(f"intent/{k}", f"intent-{k}", f"Expectation failed: {v}", level="error") for k, v in KINDS.items()]
    results = []
    for o in outcomes:
        if o.passed:
            continue
        e = o.expectation
        text = f"{e.text}: {o.message}" + (f" (expected because: {e.why})" if e.why else "")
        if o.evidence:
            text += "\n" + "\n".join(f"- {ev}" for ev in o.evidence)
        props = {"engine_version": engine_version, "design": design,
                 "traces": [t for t in (ev.trace_text for ev in o.evidence) if t]}
        results.append(SarifResult(f"intent/{e.kind}", "error", text, e.location, (), props))
    return render_sarif("netsim", version, "https://github.com/netsim/netsim/blob/main/docs/intent.md", rules, results)
