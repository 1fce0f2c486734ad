"""SARIF 2.1.0 for code-scanning dashboards (pure: returns text).

One run of one tool; each result points at the line and column of the design or intent
file that states what failed, so CI annotates the right line.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from ..model import Location

SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"


@dataclass(frozen=True, slots=True)
class SarifRule:
    id: str
    name: str  # a short slug, e.g. published-on-all-addresses
    short: str  # one line
    full: str = ""  # why it matters
    help: str = ""  # how to fix
    level: str = "warning"


@dataclass(frozen=True, slots=True)
class SarifResult:
    rule_id: str
    level: str
    message: str
    location: Location | None
    related: tuple[tuple[Location, str], ...] = ()
    properties: dict = field(default_factory=dict, compare=False)


def _artifact(file: str) -> dict:
    p = Path(file)
    if p.is_absolute():
        return {"uri": p.as_uri()}
    return {"uri": PurePosixPath(*p.parts).as_posix() if p.parts else file, "uriBaseId": "%SRCROOT%"}


def _physical(loc: Location) -> dict:
    return {"artifactLocation": _artifact(loc.file),
            "region": {"startLine": max(1, loc.line), "startColumn": max(1, loc.column)}}


def render_sarif(tool: str, version: str, info_uri: str, rules: list[SarifRule], results: list[SarifResult]) -> str:
    """A SARIF log with one run; ``results`` keep their order."""
    index = {r.id: i for i, r in enumerate(rules)}
    run_rules: list[dict[str, object]] = []
    for r in rules:
        entry: dict[str, object] = {"id": r.id, "name": r.name, "shortDescription": {"text": r.short},
                                    "defaultConfiguration": {"level": r.level}}
        if r.full:
            entry["fullDescription"] = {"text": r.full}
        if r.help:
            entry["help"] = {"text": r.help}
        run_rules.append(entry)
    out_results: list[dict[str, object]] = []
    for res in results:
        result: dict[str, object] = {"ruleId": res.rule_id, "ruleIndex": index.get(res.rule_id, -1), "level": res.level,
                                     "message": {"text": res.message}}
        if res.location is not None:
            result["locations"] = [{"physicalLocation": _physical(res.location)}]
        if res.related:
            result["relatedLocations"] = [{"id": i, "physicalLocation": _physical(loc), "message": {"text": text}}
                                          for i, (loc, text) in enumerate(res.related)]
        if res.properties:
            result["properties"] = res.properties
        out_results.append(result)
    log = {
        "$schema": SCHEMA,
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {"name": tool, "version": version, "informationUri": info_uri, "rules": run_rules}},
            "originalUriBaseIds": {"%SRCROOT%": {"description": {"text": "the directory netsim ran in"}}},
            "results": out_results,
        }],
    }
    return json.dumps(log, indent=2, ensure_ascii=False) + "\n"
