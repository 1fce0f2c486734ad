"""A finding: one case of one audit rule, with the probe that proves it and a concrete fix."""

from __future__ import annotations

from dataclasses import dataclass

from ..intent.model import Evidence
from ..model import Location
from .rules import Rule


@dataclass(frozen=True, slots=True)
class Finding:
    rule: Rule
    services: tuple[str, ...]  # the containers (compose: services) affected
    message: str  # what exactly is wrong here
    fix: str  # the rule's fix template, filled in
    evidence: tuple[Evidence, ...] = ()
    location: Location | None = None  # where in the design

    @property
    def sort_key(self) -> tuple:
        line = (self.location.line, self.location.column) if self.location else (0, 0)
        return (self.rule.id, line, self.services, self.message)

    def to_json(self) -> dict:
        return {
            "rule": self.rule.id, "slug": self.rule.slug, "title": self.rule.title, "severity": self.rule.severity,
            "services": list(self.services), "message": self.message, "why": self.rule.rationale, "fix": self.fix,
            "location": str(self.location) if self.location else None,
            "evidence": [e.to_json() for e in self.evidence],  # each trace in the one trace shape
        }
