"""Audit findings as text, JSON and SARIF (pure functions)."""

from __future__ import annotations

import json
import textwrap

from ..render.sarif import SarifResult, SarifRule, render_sarif
from .finding import Finding
from .rules import RULES

LEVEL = {"high": "error", "medium": "warning", "low": "note"}


SHOWN_ALIKE = 3  # cases of a grouped finding listed under it unless every one is asked for


def finding_text(f: Finding, traces: bool = True, every: bool = False) -> str:
    """One finding; a grouped one with its count, a few of the other cases (``every``: all of them)
    and the first case's proof."""
    many = f" (×{f.count} alike)" if f.count > 1 else ""
    lines = [f"{f.rule.id} {f.rule.severity.upper()} {f.location}: {f.rule.title}{many}", f"  {f.message}"]
    others = f.instances[1:]
    listed = others if every else others[:SHOWN_ALIKE]
    lines += [f"  alike: {i.message} ({i.location})" for i in listed]
    if len(others) > len(listed):
        lines.append(f"  … and {len(others) - len(listed)} more alike (--all lists every one; --format json has them all)")
    affected = f.affects or f.services
    lines += [f"  affects: {', '.join(affected) if affected else '-'}",
              f"  why it matters: {f.rule.rationale}"]
    for ev in f.evidence:
        lines.append(f"  proof: {ev}")
        shown = ev.trace_text if traces else None
        if shown:
            lines.append(textwrap.indent(shown, "      "))
    lines.append(f"  fix: {f.fix}")
    return "\n".join(lines)


def render_text(design: str, engine_version: str, findings: list[Finding], disabled=(), traces: bool = True,
                every: bool = False) -> str:
    off = f" ({', '.join(disabled)} disabled)" if disabled else ""
    if not findings:
        return f"{design} (engine {engine_version}): no findings{off}\n"
    counts = {s: sum(f.rule.severity == s for f in findings) for s in ("high", "medium", "low")}
    cases = sum(f.count for f in findings)
    also = f" standing for {cases} cases" if cases > len(findings) else ""
    head = f"{design} (engine {engine_version}): {len(findings)} finding(s){also}: " + \
        ", ".join(f"{n} {s}" for s, n in counts.items() if n) + off
    return "\n\n".join([head, *(finding_text(f, traces, every) for f in findings)]) + "\n"


def render_json(design: str, engine_version: str, findings: list[Finding], disabled=()) -> str:
    return json.dumps({"design": design, "engine_version": engine_version, "disabled": list(disabled),
                       "findings": [f.to_json() for f in findings]}, indent=1) + "\n"


def render_sarif_report(design: str, engine_version: str, findings: list[Finding], version: str = "0.1.0") -> str:
    rules = [SarifRule(r.id, r.slug, r.title, r.rationale, f"Fix: {r.fix}", LEVEL[r.severity]) for r in RULES]
    results = []
    for f in findings:
        text = f"{f.message}. Fix: {f.fix}"
        if f.evidence:
            text += "\n" + "\n".join(f"- {ev}" for ev in f.evidence)
        if f.count > 1:
            text += f"\n({f.count} alike cases: " + "; ".join(i.message for i in f.instances[1:SHOWN_ALIKE + 1]) + \
                ("; …" if f.count > SHOWN_ALIKE + 1 else "") + ")"
        props: dict[str, object] = {"severity": f.rule.severity, "services": list(f.services), "engine_version": engine_version,
                 "traces": [t for t in (ev.trace_text for ev in f.evidence) if t]}
        if f.count > 1:
            props["count"] = f.count
        results.append(SarifResult(f.rule.id, LEVEL[f.rule.severity], text, f.location, (), props))
    return render_sarif("netsim", version, "https://github.com/netsim/netsim/blob/main/docs/audit-rules.md", rules, results)
