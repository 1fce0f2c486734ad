"""Run the audit: every enabled rule's check over one design and engine version.

    findings, problems = run_audit(design, warnings, engine_version, disable=("NS003",))

``problems`` name disabled rule IDs that do not exist (errors, with a "did you mean").
"""

from __future__ import annotations

from ..analysis.reachability import ReachResult, compute_reach
from ..errors import Problem
from ..intent.evidence import TraceBook
from ..loaders.yamlsource import did_you_mean
from ..model import Design, Location
from .checks import CHECKS, AuditContext
from .finding import Finding
from .rules import BY_ID, RULES

SEVERITY_ORDER = {"high": 0, "medium": 1, "low": 2}


def check_disabled(ids, locations=()) -> list[Problem]:
    """A problem for every ID in ``ids`` that names no rule."""
    problems = []
    locs = list(locations) + [None] * len(ids)
    for rid, loc in zip(ids, locs[: len(ids)], strict=True):
        if rid not in BY_ID:
            hint = did_you_mean(rid, BY_ID) or f"; rules are {RULES[0].id}-{RULES[-1].id}"
            problems.append(Problem(f'"{rid}" is not an audit rule{hint}', "audit.disable", loc))
    return problems


def run_audit(design: Design, warnings: list[Problem] | tuple = (), engine_version: str | None = None,
              disable: tuple[str, ...] | list[str] = (), result: ReachResult | None = None) -> list[Finding]:
    """Every finding of every rule not in ``disable``, most severe first, then by rule and place
    (``result``: the design's reachability matrix when the caller has it)."""
    result = result or compute_reach(design, engine_version)
    ctx = AuditContext(design, list(warnings), result, TraceBook(design, engine_version, result.world))
    findings: list[Finding] = []
    for rule in RULES:
        if rule.id in disable:
            continue
        findings.extend(CHECKS[rule.id](ctx))
    fallback = Location(design.source, 1, 1)
    findings = [f if f.location else _at(f, fallback) for f in findings]
    return sorted(findings, key=lambda f: (SEVERITY_ORDER[f.rule.severity], f.sort_key))


def _at(f: Finding, loc: Location) -> Finding:
    from dataclasses import replace

    return replace(f, location=loc)
