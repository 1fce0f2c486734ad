"""A small generic JUnit XML writer (pure: returns text).

``<testsuites>`` with one ``<testsuite>``; each case passes, fails (``failure`` with a
message and the details as text), or is skipped. Shapes follow the common JUnit XSD
(Jenkins/Ant): tests, failures, errors, skipped counts on the suite.
"""

from __future__ import annotations

from dataclasses import dataclass
from xml.etree import ElementTree as ET


@dataclass(frozen=True, slots=True)
class Case:
    name: str
    classname: str
    failure: str | None = None  # the failure message (one line); None: passed
    details: str = ""  # failure text (evidence, traces) or system-out for passes
    skipped: str | None = None
    kind: str = "expectation"  # the failure type


def render_junit(suite: str, cases: list[Case], properties: dict[str, str] | None = None) -> str:
    failures = sum(1 for c in cases if c.failure is not None)
    skipped = sum(1 for c in cases if c.skipped is not None and c.failure is None)
    counts = {"tests": str(len(cases)), "failures": str(failures), "errors": "0", "skipped": str(skipped), "time": "0"}
    root = ET.Element("testsuites", {"name": suite, **counts})
    node = ET.SubElement(root, "testsuite", {"name": suite, **counts})
    if properties:
        props = ET.SubElement(node, "properties")
        for key, value in properties.items():
            ET.SubElement(props, "property", {"name": key, "value": value})
    for c in cases:
        case = ET.SubElement(node, "testcase", {"name": c.name, "classname": c.classname, "time": "0"})
        if c.failure is not None:
            fail = ET.SubElement(case, "failure", {"message": c.failure, "type": c.kind})
            fail.text = c.details
        elif c.skipped is not None:
            ET.SubElement(case, "skipped", {"message": c.skipped})
        elif c.details:
            ET.SubElement(case, "system-out").text = c.details
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"
