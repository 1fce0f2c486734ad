"""JUnit XML for a verification: one testcase per probe (pure: returns text)."""

from __future__ import annotations

from ..render.junit import Case
from ..render.junit import render_junit as render_cases
from .compare import Comparison
from .report import describe, expected_text, observed_text, plain_difference


def render_junit(cmp: Comparison) -> str:
    cases = []
    for row in sorted(cmp.rows, key=lambda r: describe(r.probe)):
        classname, name = f"netsim.{cmp.design}.{row.probe.source}", describe(row.probe)
        if row.verdict == "mismatch":
            trace = getattr(row.probe, "trace", None)
            if cmp.live:  # verify --live: the running environment breaks the design
                design, running = plain_difference(row)
                cases.append(Case(name, classname, failure=f"{design}; {running}", details=f"{design}\n{running}",
                                  kind="difference from the design"))
                continue
            details = f"observed: {observed_text(row)}\nmodel: {expected_text(row)}" + (f"\n{trace}" if trace else "")
            cases.append(Case(name, classname, failure=row.why, details=details, kind="mismatch"))
        elif row.verdict == "not-compared":
            cases.append(Case(name, classname, skipped=row.why))
        else:
            details = row.why if row.verdict == "detail" else ""
            if row.observation is not None and getattr(row.observation, "attempts", 1) > 1:
                details = (details + "\n" if details else "") + "retried with a longer timeout (first try timed out)"
            cases.append(Case(name, classname, details=details))
    return render_cases(f"netsim verify {cmp.design}", cases,
                        {"engine_version": cmp.engine_version, "retried": str(len(cmp.retried))})
