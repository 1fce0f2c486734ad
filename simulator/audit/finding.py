"""A finding: one case of one audit rule, with the probe that proves it and a concrete fix.

In a large design many findings are the same case on containers of one class (replicas publishing
alike, each reachable the same way): :func:`~.run.run_audit` gathers them into one finding that
stands for all of them (``instances``, itself first), with one proof.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..analysis.probes import Probe
from ..intent.model import Evidence
from ..model import Location
from .rules import Rule


@dataclass(frozen=True, slots=True)
class Instance:
    """One case a grouped finding stands for: its containers, its message, where it is."""

    services: tuple[str, ...]
    message: str
    location: Location | None = None

    def to_json(self) -> dict:
        return {"services": list(self.services), "message": self.message,
                "location": str(self.location) if self.location else None}


@dataclass(frozen=True, slots=True)
class Finding:
    rule: Rule
    services: tuple[str, ...]  # the containers (compose: services) affected
    message: str  # what exactly is wrong here
    fix: str  # the rule's fix template, filled in
    evidence: tuple[Evidence, ...] = ()
    location: Location | None = None  # where in the design
    proofs: tuple[Probe, ...] = ()  # probes still to be shown as evidence (run_audit turns them into evidence)
    alike: tuple = ()  # what, besides the classes of its containers, makes findings one case (set by the check)
    instances: tuple[Instance, ...] = ()  # grouped: every case it stands for, itself first
    affects: tuple[str, ...] = ()  # the containers for people: a whole class of several by its id

    @property
    def count(self) -> int:
        """How many cases the finding stands for."""
        return len(self.instances) or 1

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
            "count": self.count,
            "affects": list(self.affects or self.services),
            "instances": [i.to_json() for i in self.instances or (Instance(self.services, self.message, self.location),)],
        }
