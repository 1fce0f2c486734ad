"""Render a :class:`~simulator.verify.compare.Comparison`: three views as text, or JSON.

Pure functions returning text, sorted and deterministic (addresses chosen by the engine
aside): *expected* (the model), *observed* (the engine), *difference* (each mismatch with
the model's trace beside the observation), then the addressing view.
"""

from __future__ import annotations

from .compare import Comparison, ProbeRow


def describe(probe) -> str:
    """``web -> db@back 5432/tcp``, ``web -> name db 5432/tcp``, ``external -> host 8080/tcp``."""
    if probe.via == "ip":
        what = f"{probe.target}@{probe.network}"
    elif probe.via == "dns":
        what = f"name {probe.name}"
    else:
        what = f"host {probe.host}" if getattr(probe, "host", None) else "host"
    return f"{probe.source} -> {what} {probe.port}/{probe.protocol}"


def expected_text(row: ProbeRow) -> str:
    """What the model says of the row's probe: ``db answers`` or ``DROPPED_ISOLATION: <reason>``."""
    p = row.probe
    disp = getattr(p.disposition, "value", str(p.disposition))
    if p.reachable:
        return f"{'/'.join(row.expected_responders)} answers"
    return f"{disp}: {p.reason}"


def observed_text(row: ProbeRow) -> str:
    """What the engine showed: ``db answered at 172.30.2.10``, ``timeout at ...``, ``not observed``."""
    o = row.observation
    if o is None:
        return "not observed"
    at = f" at {o.address}" if o.address else ""
    if o.reachable:
        return f"{o.responder} answered{at}"
    return f"{o.status}{at}" + (f" ({o.detail})" if o.detail and o.status not in ("timeout", "refused") else "")


def _sorted(rows):
    return sorted(rows, key=lambda r: (r.probe.source, r.probe.via, describe(r.probe)))


def render_text(cmp: Comparison, show_agreeing: bool = True) -> str:
    lines: list[str] = []
    width = max((len(describe(r.probe)) for r in cmp.rows), default=20)
    if show_agreeing:
        live = cmp.live
        lines.append(f"== expected ({'the design' if live else 'model'}, engine {cmp.engine_version}) ==")
        lines += [f"{describe(r.probe):<{width}}  {expected_text(r)}" for r in _sorted(cmp.rows)]
        lines.append("")
        lines.append("== observed (the running environment) ==" if live else "== observed (engine) ==")
        lines += [f"{describe(r.probe):<{width}}  {observed_text(r)}" for r in _sorted(cmp.rows)]
        lines.append("")
    mism = _sorted(cmp.mismatches)
    if cmp.live:
        lines += live_difference_lines(cmp)
        mism = []
    else:
        lines.append("== difference ==")
        if not mism:
            lines.append("none: every compared probe agrees")
    for r in mism:
        lines.append(f"MISMATCH {describe(r.probe)}: {r.why}")
        lines.append(f"  observed: {observed_text(r)}")
        trace = getattr(r.probe, "trace", None)
        if trace is not None:
            lines += ["  model trace:"] + [f"    {t}" for t in str(trace).splitlines()]
        else:
            lines.append(f"  model: {expected_text(r)}")
    details = _sorted(cmp.with_verdict("detail"))
    if details:
        lines.append("")
        lines.append("== agree on reachability, differ in how (not failures) ==")
        lines += [f"{describe(r.probe)}: {r.why}" for r in details]
    skipped = _sorted(cmp.with_verdict("not-compared"))
    if skipped:
        lines.append("")
        lines.append(f"== not compared ({len(skipped)}) ==")
        lines += not_compared_lines(skipped)
    retried = _sorted(cmp.retried)
    if retried:
        lines.append("")
        lines.append(f"== retried with a longer timeout ({len(retried)}): the first try timed out "
                     "where the model expects otherwise ==")
        lines += [f"{describe(r.probe)}: then {observed_text(r)}" for r in retried]
    if cmp.addressing:
        live = cmp.live
        lines.append("")
        lines.append("== addressing (design vs running) ==" if live else "== addressing (model vs engine) ==")
        left, right = ("design", "running") if live else ("model", "engine")
        for a in cmp.addressing:
            mark = "  " if a.agree else "!="
            lines.append(f"{mark} {a.kind:<8} {a.subject:<36} {left} {a.expected or '-':<18} {right} {a.observed or '-'}")
        if live and cmp.address_mismatches:
            lines.append("   (a dynamic address the engine chose otherwise than the model's allocation is not a failure)")
    if cmp.notes:
        lines.append("")
        lines += [f"note: {n}" for n in cmp.notes]
    c = cmp.counts()
    lines.append("")
    lines.append(
        f"{c['probes']} probes: {c['agree']} agree, {c['mismatch']} mismatch, {c['detail']} differ in detail, "
        f"{c['not-compared']} not compared; {c['address-mismatch']} addressing difference(s); "
        f"{c['retried']} needed a retry"
    )
    return "\n".join(lines) + "\n"


EXAMPLES = 3


def _what(probe, address: str | None = None) -> str:
    if probe.via == "ip":
        what = f"{probe.target} on {probe.network}"
    elif probe.via == "dns":
        what = f"name {probe.name}"
    else:
        what = "the host"
    at = f" at {address}" if address else ""
    return f"{what}{at} {probe.port}/{probe.protocol}"


def plain_difference(row: ProbeRow) -> tuple[str, str]:
    """("design: web cannot reach db on back 5432/tcp", "running: web reaches db ... (db answered)")."""
    p, o = row.probe, row.observation
    addr = getattr(o, "address", None) if o is not None else None
    if p.reachable:
        design = f"design: {p.source} reaches {_what(p, addr)} ({'/'.join(row.expected_responders)} answers)"
    else:
        design = f"design: {p.source} cannot reach {_what(p, addr)}"
    if o is not None and o.reachable:
        running = f"running: {p.source} reaches {_what(p, addr)} ({o.responder} answered)"
    else:
        running = f"running: {p.source} cannot reach {_what(p, addr)} ({o.status if o is not None else 'not observed'})"
    return design, running


def live_groups(cmp) -> list[tuple[tuple[str, ...], list[ProbeRow]]]:
    """Mismatches grouped by the drift items that explain them (none: unexplained)."""
    groups: dict[tuple[str, ...], list[ProbeRow]] = {}
    for r in _sorted(cmp.mismatches):
        groups.setdefault(tuple(cmp.causes.get(r.probe.key, ())), []).append(r)
    return sorted(groups.items(), key=lambda kv: (not kv[0], kv[0]))


def live_difference_lines(cmp) -> list[str]:
    """verify --live: where the running environment breaks the design, by the drift behind it."""
    lines = ["== where the running environment differs from the design =="]
    if not cmp.mismatches:
        return lines + ["none: the running environment behaves as designed"]
    for cause, rows in live_groups(cmp):
        if cause:
            lines.append("because of drift: " + "; ".join(cause))
        else:
            lines.append("no drift explains these (the engine answers otherwise than the model of the design):")
        for r in rows:
            design, running = plain_difference(r)
            lines.append(f"  {design}")
            lines.append(f"  {running}")
    return lines


def not_compared_lines(rows) -> list[str]:
    """Probes not compared, grouped by reason: one line per reason with its count, and the
    probes themselves when there are few (else the first ``EXAMPLES`` of them)."""
    groups: dict[str, list] = {}
    for r in rows:
        groups.setdefault(r.why, []).append(r)
    out = []
    for why, members in sorted(groups.items(), key=lambda kv: (-len(kv[1]), kv[0])):
        names = [describe(r.probe) for r in members]
        shown = ", ".join(names[:EXAMPLES]) + (f", … ({len(names) - EXAMPLES} more)" if len(names) > EXAMPLES else "")
        out.append(f"{len(members)} × {why}")
        out.append(f"    {shown}")
    return out


def render_json(cmp: Comparison) -> dict:
    probes = []
    for r in _sorted(cmp.rows):
        data = r.probe.to_json(with_trace=r.verdict == "mismatch")  # its model trace, in the one trace shape
        data["observed"] = r.observation.to_json() if r.observation is not None else None
        data["verdict"] = r.verdict
        data["why"] = r.why
        probes.append(data)
    return {
        "design": cmp.design,
        "engine_version": cmp.engine_version,
        "ok": cmp.ok,
        "counts": cmp.counts(),
        "probes": probes,
        "addressing": [
            {"kind": a.kind, "subject": a.subject, "model": a.expected, "engine": a.observed, "agree": a.agree}
            for a in cmp.addressing
        ],
        "notes": list(cmp.notes),
        **({"placement": {c.name: c.host for c in cmp.placed.containers if c.task_of is not None}}
           if cmp.placed is not None else {}),
        **(_live_json(cmp) if cmp.live else {}),
    }


def _live_json(cmp) -> dict:
    """verify --live's additions: the mode, the plain differences grouped by drift, the drift."""
    groups = []
    for cause, rows in live_groups(cmp):
        groups.append({"drift": list(cause), "differences": [
            {"probe": describe(r.probe), "design": plain_difference(r)[0], "running": plain_difference(r)[1]}
            for r in rows]})
    drift = getattr(cmp, "drift", None)
    return {"mode": "live", "differences": groups,
            "drift_items": [i.to_json() for i in drift.items] if drift is not None else []}
