"""docs/audit-rules.md, generated from the rule table (scripts/gen_audit_docs.py writes it)."""

from __future__ import annotations

from .rules import RULES

HEADER = """# Audit rules

<!-- Generated from simulator/audit/rules.py by `python scripts/gen_audit_docs.py`; do not edit by hand.
     tests/unit/test_audit_docs.py fails when this file is out of date. -->

`netsim audit DESIGN` reports these findings without any intent written. Each finding names
the affected services, why it matters, the probe or walk of the model that proves it (with
its trace) and a concrete fix. Rule IDs are stable.

Switch rules off per design with `audit: {disable: [NS003]}` (compose: `x-netsim-audit:`, or
the same key in an `--intent` file), or on the command line with `--disable NS003`.
Severities map to SARIF levels: high → error, medium → warning, low → note.
`--fail-on high|medium|low|never` (default low) sets which findings make the exit code 1.

Findings of one rule that are the same case on containers of the same classes (replicas of a
service: containers alike up to their names and addresses) are one finding: its header says how
many cases it stands for (`(×40 alike)`), it shows the first case with its proof and lists a few
others; `--all` lists every case in the table.

`--format json` writes `{design, engine_version, disabled, kernel, findings: [{rule, slug, title,
severity, services, message, why, fix, location, evidence: [{what, result, trace, lookup,
trace_text}], count, affects, instances: [{services, message, location}]}]}`: an evidence's `trace`
is the packet's walk in the one trace shape, `lookup` a name lookup's hops, `trace_text` what the
table prints under the proof (see [reach-json.md](reach-json.md#evidence-in-test-and-audit));
`count` is how many cases the finding stands for, `instances` every one of them (the first is the
finding itself), `affects` its containers with a whole class of several named by its class.
"""


def rules_markdown() -> str:
    lines = [HEADER, "| ID | name | severity | title |", "|---|---|---|---|"]
    lines += [f"| [{r.id}](#{r.id.lower()}) | `{r.slug}` | {r.severity} | {r.title} |" for r in RULES]
    for r in RULES:
        lines += ["", f"## {r.id}", "", f"**{r.title}** (`{r.slug}`, severity {r.severity})", "",
                  f"Why it matters: {r.rationale}", "", f"Fix: {_unformat(r.fix)}"]
    return "\n".join(lines) + "\n"


def _unformat(template: str) -> str:
    """The fix template as a reader sees it: {field} → <field>, {{ → {."""
    out, i = [], 0
    while i < len(template):
        two = template[i:i + 2]
        if two in ("{{", "}}"):
            out.append(two[0])
            i += 2
        elif template[i] == "{":
            end = template.index("}", i)
            out.append(f"<{template[i + 1:end]}>")
            i = end + 1
        else:
            out.append(template[i])
            i += 1
    return "".join(out)
