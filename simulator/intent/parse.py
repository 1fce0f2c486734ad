"""Read intent: ``expect:``/``audit:`` of a design, or an intent file, into an :class:`Intent`.

Structure is checked with ``simulator/schema/intent.schema.json`` (jsonschema); every
problem is a :class:`~simulator.errors.Problem` at file:line:column, with a "did you
mean" for unknown keys. Values (ports, audiences) are checked here. Nothing raises on bad
input except :class:`~simulator.errors.DesignLoadError` for unreadable YAML.
"""

from __future__ import annotations

import json
import re
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING

from ..errors import DesignLoadError, Problem
from ..loaders.schema_errors import report_schema_error
from ..loaders.yamlsource import Doc, Report, describe, did_you_mean, format_path, read_bytes, read_yaml
from ..model import Location
from .model import (
    AUDIENCE_ALIASES,
    AUDIENCES,
    FAMILIES,
    Expectation,
    ExposureExpectation,
    Intent,
    PortSpec,
    ReachExpectation,
    ResolveExpectation,
    Selector,
    StructureExpectation,
)

if TYPE_CHECKING:
    import jsonschema

# key in the file -> section of the intent schema
SECTIONS = {"expect": "expect", "audit": "audit", "x-netsim-expect": "expect", "x-netsim-audit": "audit"}
PORT = re.compile(r"^([0-9]{1,5})(?:/(tcp|udp|sctp))?\Z")  # \Z: no trailing newline
SCHEMA_PORT = re.compile(r"^[0-9]{1,5}(/(tcp|udp|sctp))?$")  # the intent schema's port pattern, searched as jsonschema does


@lru_cache(maxsize=1)
def intent_schema() -> dict:
    """The parsed intent schema (read-only)."""
    text = resources.files("simulator.schema").joinpath("intent.schema.json").read_text(encoding="utf-8")
    return json.loads(text)


def load_intent_file(path: str | Path) -> tuple[Intent, list[Problem]]:
    """Read an intent file (top-level ``expect:`` and ``audit:``)."""
    source = str(path)
    data = read_bytes(path, "intent file")
    if not data.strip():
        raise DesignLoadError([Problem("the intent file is empty; write an expect: section (see docs/intent.md)", "",
                                       Location(source, 1, 1))])
    doc = read_yaml(data, source)
    report = Report(doc)
    if not isinstance(doc.data, dict):
        report.error((), f"an intent file is a mapping with expect: and audit:, not {describe(doc.data)}")
        return Intent(source), report.problems
    if not any(k in doc.data for k in SECTIONS):
        report.error((), "an intent file needs an expect: (or audit:) section; see docs/intent.md")
    return intent_from_doc(doc, report, whole_file=True), report.problems


def load_intent_text(text: str, source: str = "<intent>") -> tuple[Intent, list[Problem]]:
    """Like :func:`load_intent_file`, from text."""
    doc = read_yaml(text, source)
    report = Report(doc)
    if not isinstance(doc.data, dict):
        report.error((), f"an intent file is a mapping with expect: and audit:, not {describe(doc.data)}")
        return Intent(source), report.problems
    return intent_from_doc(doc, report, whole_file=True), report.problems


def intent_from_doc(doc: Doc, report: Report | None = None, whole_file: bool = False) -> Intent:
    """The intent written in ``doc`` (a design or an intent file); problems go to ``report``."""
    report = report or Report(doc)
    data = doc.data if isinstance(doc.data, dict) else {}
    sections = {k: v for k, v in data.items() if k in SECTIONS}
    for key in sections:
        if sections.get(SECTIONS[key]) is not None and key != SECTIONS[key]:
            report.error((key,), f"{key} and {SECTIONS[key]} are both given; keep one", key=True)
    _schema_pass(sections, report, {k: v for k, v in data.items() if k not in SECTIONS} if whole_file else {})
    return _build(doc.source, sections, report)


def _schema_pass(sections: dict, report: Report, others: dict) -> None:
    if sections:  # jsonschema (a tenth of a second to import) only for a design that has intent sections
        import jsonschema

        validator = jsonschema.Draft202012Validator(intent_schema())
    for key, value in sections.items():
        sub = {SECTIONS[key]: value}
        for err in validator.iter_errors(sub):
            path = (key, *list(err.absolute_path)[1:])
            _report_error(report, path, err)
    if others:
        known = list(intent_schema()["properties"])
        for key in others:
            if not str(key).startswith("x-"):
                hint = did_you_mean(key, known) or f"; expected {' or '.join(known)}"
                report.error((key,), f'unknown key "{key}"{hint}', key=True)


def _report_error(report: Report, path: tuple, err: jsonschema.ValidationError) -> None:
    report_schema_error(report, path, err)


# --- building the model ------------------------------------------------------------------


def _build(source: str, sections: dict, report: Report) -> Intent:
    expectations: list[Expectation] = []
    groups: list[tuple[str, tuple[Selector, ...]]] = []
    disable: list[str] = []
    disable_locs: list = []
    for key, value in sections.items():
        if SECTIONS[key] == "audit" and isinstance(value, dict) and isinstance(value.get("disable"), list):
            for i, rid in enumerate(value["disable"]):
                if isinstance(rid, str):
                    disable.append(rid)
                    disable_locs.append(report.doc.loc((key, "disable", i)))
        if SECTIONS[key] != "expect" or not isinstance(value, dict):
            continue
        b = _Builder(report, key)
        if isinstance(value.get("groups"), dict):
            for name, sels in value["groups"].items():
                groups.append((name, b.selectors(("groups", name), sels)))
        for kind in ("allow", "deny"):
            for i, item in b.items(kind, value.get(kind)):
                expectations.append(b.reach(kind, i, item))
        for i, item in b.items("exposure", value.get("exposure")):
            if (e := b.exposure(i, item)) is not None:
                expectations.append(e)
        for i, item in b.items("resolve", value.get("resolve")):
            expectations.append(b.resolve(i, item))
        if isinstance(value.get("structure"), dict):
            expectations.extend(b.structure(value["structure"]))
    expectations.sort(key=lambda e: (e.location.line, e.location.column) if e.location else (0, 0))
    return Intent(source, tuple(expectations), tuple(groups), tuple(disable), tuple(disable_locs))


class _Builder:
    """Turns one validated ``expect`` mapping into expectations (values checked here)."""

    def __init__(self, report: Report, key: str):
        self.report, self.key = report, key

    def where(self, *path, key: bool = False) -> dict:
        full = (self.key, *path)
        loc = self.report.doc.key_loc(full) if key else self.report.doc.loc(full)
        return {"location": loc, "path": format_path(full)}

    def items(self, section: str, value):
        if isinstance(value, list):
            for i, item in enumerate(value):
                if isinstance(item, dict):
                    yield i, item

    def selectors(self, path: tuple, value) -> tuple[Selector, ...]:
        full = (self.key, *path)
        if isinstance(value, str):
            return (Selector(value, self.report.doc.loc(full)),)
        if isinstance(value, list):
            return tuple(Selector(v, self.report.doc.loc((*full, i))) for i, v in enumerate(value) if isinstance(v, str))
        return ()

    def ports(self, path: tuple, value) -> tuple[PortSpec, ...]:
        if value is None:
            return ()
        items = value if isinstance(value, list) else [value]
        out = []
        for i, item in enumerate(items):
            at = (self.key, *path, i) if isinstance(value, list) else (self.key, *path)
            m = PORT.match(str(item)) if isinstance(item, (int, str)) and not isinstance(item, bool) else None
            if m is None or not 1 <= int(m.group(1)) <= 65535:
                if isinstance(item, str) and SCHEMA_PORT.search(item):  # what the schema refuses it reports
                    self.report.error(at, f"{describe(item)} is not a port: write a number from 1 to 65535, "
                                      'optionally with /tcp, /udp or /sctp (e.g. 443, "53/udp")')
                continue
            out.append(PortSpec(int(m.group(1)), m.group(2) or "tcp"))
        return tuple(out)

    def audiences(self, path: tuple, value) -> tuple[str, ...]:
        items = value if isinstance(value, list) else [value]
        out = []
        for i, item in enumerate(items):
            at = (self.key, *path, i) if isinstance(value, list) else (self.key, *path)
            name = AUDIENCE_ALIASES.get(item, item) if isinstance(item, str) else item
            if name not in AUDIENCES:
                if not isinstance(item, str):
                    continue  # the schema: an audience is a string
                choices = (*AUDIENCES, *AUDIENCE_ALIASES)
                self.report.error(at, f"{describe(item)} is not an audience; use one of {', '.join(AUDIENCES)} "
                                  f"(lan means external){did_you_mean(item, choices)}")
                continue
            if name not in out:
                out.append(name)
        return tuple(out)

    def family(self, path: tuple, item: dict) -> str:
        """An expectation's ``family`` as text (one of FAMILIES; 4, "4" and ipv4 alike), any when not given."""
        value = item.get("family", "any")
        text = str(value).lower() if isinstance(value, (int, str)) and not isinstance(value, bool) else None
        text = {"ipv4": "4", "ipv6": "6"}.get(text or "", text)
        if text in FAMILIES:
            return text
        if text is not None:  # the schema reports the other types
            self.report.error((self.key, *path), f"{describe(value)} is not an address family: write 4 (IPv4), 6 (IPv6), "
                              "any (either family; the default) or both (each family)"
                              f"{did_you_mean(text, FAMILIES)}")
        return "any"

    def reach(self, kind: str, i: int, item: dict) -> ReachExpectation:
        at = (kind, i)
        return ReachExpectation(
            allowed=kind == "allow", sources=self.selectors((*at, "from"), item.get("from")),
            targets=self.selectors((*at, "to"), item.get("to")), ports=self.ports((*at, "ports"), item.get("ports")),
            via=item.get("via", "any") if item.get("via") in ("any", "ip", "dns", "host") else "any",
            family=self.family((*at, "family"), item),
            why=item.get("why", "") if isinstance(item.get("why"), str) else "", **self.where(*at),
        )

    def exposure(self, i: int, item: dict) -> ExposureExpectation | None:
        at = ("exposure", i)
        if ("service" in item) == ("network" in item):
            self.report.error((self.key, *at), "give service: or network: (one of them) to say whose exposure this limits")
            return None
        if "service" in item:
            services = self.selectors((*at, "service"), item["service"])
        else:
            net = item["network"]
            services = (Selector(f"network:{net}", self.report.doc.loc((self.key, *at, "network"))),) if isinstance(net, str) else ()
        never = self.audiences((*at, "never_from"), item["never_from"]) if "never_from" in item else ()
        frm = self.audiences((*at, "from"), item["from"]) if "from" in item else ()
        if "only_ports" in item and "from" not in item:
            self.report.error((self.key, *at, "only_ports"), "only_ports needs from: (who may reach only these ports)", key=True)
        if "from" in item and "only_ports" not in item:
            self.report.error((self.key, *at, "from"), "from: needs only_ports: [...] (or use never_from: for none)", key=True)
        if never and frm:
            self.report.error((self.key, *at, "from"), "give never_from: or from: with only_ports:, not both", key=True)
        if not any(k in item for k in ("never_from", "from", "published")):
            self.report.error((self.key, *at), "say what is limited: never_from:, from: with only_ports:, or published: false")
        published = item.get("published") if isinstance(item.get("published"), bool) else None
        if published is True:
            self.report.error((self.key, *at, "published"), "published: true states nothing; write published: false "
                              "to require that nothing is published, or remove it", key=True)
            published = None
        why = item.get("why", "") if isinstance(item.get("why"), str) else ""
        return ExposureExpectation(services=services, audiences=never or frm,
                                   only_ports=self.ports((*at, "only_ports"), item.get("only_ports")) if frm else (),
                                   published=published, family=self.family((*at, "family"), item), why=why,
                                   **self.where(*at))

    def resolve(self, i: int, item: dict) -> ResolveExpectation:
        at = ("resolve", i)
        resolves = item.get("resolves", True) if isinstance(item.get("resolves", True), bool) else True
        if "to" in item and not resolves:
            self.report.error((self.key, *at, "to"), "to: says where the name resolves; drop it with resolves: false", key=True)
        name = item.get("name")
        return ResolveExpectation(
            sources=self.selectors((*at, "from"), item.get("from")),
            name=name if isinstance(name, str) else "", resolves=resolves,
            targets=self.selectors((*at, "to"), item.get("to")),
            why=item.get("why", "") if isinstance(item.get("why"), str) else "", **self.where(*at),
        )

    def structure(self, spec: dict) -> list[StructureExpectation]:
        out = []
        why = spec.get("why", "") if isinstance(spec.get("why"), str) else ""
        npc = spec.get("networks_per_container")
        at = ("structure", "networks_per_container")
        if isinstance(npc, int) and not isinstance(npc, bool):
            out.append(StructureExpectation(rule="networks_per_container", exactly=npc, why=why, **self.where(*at, key=True)))
        elif isinstance(npc, dict):
            if ("exactly" in npc) == ("max" in npc):
                self.report.error((self.key, *at), "give exactly: N or max: N (one of them)")
            else:
                out.append(StructureExpectation(
                    rule="networks_per_container", exactly=npc.get("exactly"), maximum=npc.get("max"),
                    exceptions=self.selectors((*at, "except"), npc.get("except")), why=why, **self.where(*at, key=True)))
        for rule in ("host_mode", "default_bridge"):
            value = spec.get(rule)
            at = ("structure", rule)
            if value is False:
                out.append(StructureExpectation(rule=rule, why=why, **self.where(*at, key=True)))
            elif isinstance(value, dict):
                out.append(StructureExpectation(rule=rule, exceptions=self.selectors((*at, "except"), value.get("except")),
                                                why=why, **self.where(*at, key=True)))
        return out
