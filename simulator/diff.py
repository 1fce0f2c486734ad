"""What a change to a design does to reachability and exposure, for review before it lands.

Probes of the two matrices are matched by :attr:`Probe.key` (source, way, target,
network, name, host, port, protocol). A path is *opened* when a probe answers in the
new design and did not answer (or did not exist) in the old one, *closed* the other way
round, *changed* when both answer but another container does. Exposure entries (who can
reach which listener from outside its networks, and through what) are compared as sets.
"""

from __future__ import annotations

from dataclasses import dataclass

from .analysis.exposure import Exposure, compute_exposure
from .analysis.probes import Probe
from .analysis.reachability import ReachResult
from .intent.evidence import describe_probe, outcome_of


@dataclass(frozen=True, slots=True)
class Change:
    kind: str  # opened | closed | changed
    old: Probe | None
    new: Probe | None

    @property
    def probe(self) -> Probe:
        if self.new is not None:
            return self.new
        assert self.old is not None, "a change has an old or a new probe"
        return self.old

    def __str__(self) -> str:
        p, old, new = self.probe, self.old, self.new
        if self.kind == "opened":
            assert new is not None, "an opened path answers in the new design"
            was = "did not exist" if old is None else f"was {old.disposition.value}"
            return f"+ {describe_probe(p)}: now answered by {new.responder} ({was})"
        assert old is not None, "a closed or changed path answered in the old design"
        if self.kind == "closed":
            now = "no longer exists" if new is None else outcome_of(new)
            return f"- {describe_probe(p)}: was answered by {old.responder}, now {now}"
        assert new is not None, "a changed path answers in both designs"
        return f"~ {describe_probe(p)}: answered by {old.responder}, now by {new.responder}"

    def to_json(self) -> dict:
        return {"change": self.kind, "old": self.old.to_json() if self.old else None,
                "new": self.new.to_json() if self.new else None}


@dataclass(frozen=True, slots=True)
class DesignDiff:
    old: str
    new: str
    engine_version: str
    changes: tuple[Change, ...]
    exposed: tuple[Exposure, ...]  # newly exposed listeners
    unexposed: tuple[Exposure, ...]  # no longer exposed

    @property
    def empty(self) -> bool:
        return not (self.changes or self.exposed or self.unexposed)

    def of(self, kind: str) -> list[Change]:
        return [c for c in self.changes if c.kind == kind]

    def to_json(self) -> dict:
        return {
            "old": self.old, "new": self.new, "engine_version": self.engine_version,
            "opened": [c.to_json() for c in self.of("opened")],
            "closed": [c.to_json() for c in self.of("closed")],
            "changed": [c.to_json() for c in self.of("changed")],
            "newly_exposed": [e.to_json() for e in self.exposed],
            "no_longer_exposed": [e.to_json() for e in self.unexposed],
        }


def _exposure_key(e: Exposure) -> tuple:
    return (e.container, e.port, e.protocol, e.audience, e.through)


def diff_results(old: ReachResult, new: ReachResult) -> DesignDiff:
    """Every reachability and exposure change from ``old`` to ``new``."""
    before = {p.key: p for p in old.probes}
    after = {p.key: p for p in new.probes}
    changes = []
    for key in sorted(set(before) | set(after), key=lambda k: tuple("" if x is None else str(x) for x in k)):
        a, b = before.get(key), after.get(key)
        was, now = bool(a and a.reachable), bool(b and b.reachable)
        if now and not was:
            changes.append(Change("opened", a, b))
        elif was and not now:
            changes.append(Change("closed", a, b))
        elif a is not None and b is not None and was and now and a.responder != b.responder:
            changes.append(Change("changed", a, b))
    ex_old = {_exposure_key(e): e for e in compute_exposure(old)}
    ex_new = {_exposure_key(e): e for e in compute_exposure(new)}
    exposed = tuple(ex_new[k] for k in sorted(set(ex_new) - set(ex_old), key=str))
    unexposed = tuple(ex_old[k] for k in sorted(set(ex_old) - set(ex_new), key=str))
    return DesignDiff(old.design.source, new.design.source, str(new.world.version), tuple(changes), exposed, unexposed)


def render_text(d: DesignDiff) -> str:
    if d.empty:
        return f"{d.old} -> {d.new} (engine {d.engine_version}): no change in reachability or exposure\n"
    n = {k: len(d.of(k)) for k in ("opened", "closed", "changed")}
    lines = [f"{d.old} -> {d.new} (engine {d.engine_version}): {n['opened']} path(s) opened, {n['closed']} closed, "
             f"{n['changed']} answered by another container; {len(d.exposed)} newly exposed, "
             f"{len(d.unexposed)} no longer exposed"]
    for title, kind in (("Opened", "opened"), ("Closed", "closed"), ("Answered by another container", "changed")):
        if d.of(kind):
            lines.append(f"\n{title}:")
            lines.extend(f"  {c}" for c in d.of(kind))
    for title, items in (("Newly exposed", d.exposed), ("No longer exposed", d.unexposed)):
        if items:
            lines.append(f"\n{title}:")
            lines.extend(f"  {e.container} {e.port}/{e.protocol} from {e.audience} through {e.through} (e.g. {e.example})"
                         for e in items)
    return "\n".join(lines) + "\n"
