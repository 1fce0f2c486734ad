"""JUnit XML for a verification: one testcase per probe (pure: returns text)."""

from __future__ import annotations

from xml.etree import ElementTree as ET

from .compare import Comparison
from .report import _expected, _observed, describe


def render_junit(cmp: Comparison) -> str:
    c = cmp.counts()
    suite = ET.Element("testsuite", {
        "name": f"netsim verify {cmp.design}",
        "tests": str(c["probes"]),
        "failures": str(c["mismatch"]),
        "skipped": str(c["not-compared"]),
        "errors": "0",
    })
    props = ET.SubElement(suite, "properties")
    ET.SubElement(props, "property", {"name": "engine_version", "value": cmp.engine_version})
    for row in sorted(cmp.rows, key=lambda r: describe(r.probe)):
        case = ET.SubElement(suite, "testcase", {
            "classname": f"netsim.{cmp.design}.{row.probe.source}",
            "name": describe(row.probe),
        })
        if row.verdict == "mismatch":
            fail = ET.SubElement(case, "failure", {"message": row.why, "type": "mismatch"})
            trace = getattr(row.probe, "trace", None)
            fail.text = f"observed: {_observed(row)}\nmodel: {_expected(row)}" + (f"\n{trace}" if trace else "")
        elif row.verdict == "not-compared":
            ET.SubElement(case, "skipped", {"message": row.why})
        elif row.verdict == "detail":
            out = ET.SubElement(case, "system-out")
            out.text = row.why
    ET.indent(suite)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(suite, encoding="unicode") + "\n"
