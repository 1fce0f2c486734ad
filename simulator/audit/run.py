"""Run the audit: every enabled rule's check over one design and engine version.

    findings, problems = run_audit(design, warnings, engine_version, disable=("NS003",))

``problems`` name disabled rule IDs that do not exist (errors, with a "did you mean").
"""

from __future__ import annotations

from dataclasses import replace

from ..analysis.reachability import ReachResult, compute_reach
from ..errors import Problem
from ..intent.evidence import TraceBook
from ..loaders.yamlsource import did_you_mean
from ..model import Design, Location
from .checks import CHECKS, AuditContext
from .finding import Finding, Instance
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
              disable: tuple[str, ...] | list[str] = (), result: ReachResult | None = None,
              grouped: bool = True) -> list[Finding]:
    """Every finding of every rule not in ``disable``, most severe first, then by rule and place
    (``result``: the design's reachability matrix when the caller has it).

    ``grouped``: findings of one rule that are the same case on containers of the same classes
    (replicas) become one finding standing for all of them (its ``instances``, itself first), with
    the first one's proof; otherwise every case is its own finding with its own proof.
    """
    result = result or compute_reach(design, engine_version)
    ctx = AuditContext(design, list(warnings), result, TraceBook(design, engine_version, result.world))
    findings: list[Finding] = []
    for rule in RULES:
        if rule.id in disable:
            continue
        findings.extend(CHECKS[rule.id](ctx))
    fallback = Location(design.source, 1, 1)
    findings = sorted((f if f.location else replace(f, location=fallback) for f in findings), key=_order)
    if grouped:
        findings = _grouped(ctx, findings)
    return [_proved(ctx, f) for f in findings]


def _order(f: Finding) -> tuple:
    return (SEVERITY_ORDER[f.rule.severity], f.sort_key)


def _grouped(ctx: AuditContext, findings: list[Finding]) -> list[Finding]:
    """One finding per rule, classes of its containers and case (the check's ``alike``); the first
    in order leads and stands for the others."""
    groups: dict[tuple, list[Finding]] = {}
    for f in findings:
        classes = tuple(ctx.result.class_of(s).id if ctx.design.has_container(s) else s for s in f.services)
        groups.setdefault((f.rule.id, classes, f.alike), []).append(f)
    out = []
    for members in groups.values():
        lead = members[0]
        if len(members) == 1 and all(len(ctx.class_members(c)) <= 1 for c in ctx.labels(lead.services)):
            out.append(lead)
            continue
        instances = tuple(Instance(f.services, f.message, f.location) for f in members)
        affected = [s for f in members for s in f.services]
        out.append(replace(lead, instances=instances if len(members) > 1 else (), affects=tuple(ctx.labels(affected))))
    return sorted(out, key=_order)


def _proved(ctx: AuditContext, f: Finding) -> Finding:
    """The finding with its probes shown as evidence (each walked again with its full trace)."""
    if not f.proofs:
        return f
    return replace(f, evidence=f.evidence + tuple(ctx.book.evidence(p) for p in f.proofs), proofs=())
