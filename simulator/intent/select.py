"""Selectors → container names: a name, a glob (``db*``), ``label:K=V``, ``label:K``,
``network:N``, a group, ``*``, a service (its replicas); as sources also ``host``, ``external`` and host names."""

from __future__ import annotations

from fnmatch import fnmatchcase

from ..errors import Problem, Severity
from ..loaders.yamlsource import did_you_mean
from ..model import Design
from .model import Intent, Selector

SPECIAL_SOURCES = ("host", "external")


class Scope:
    """Resolves selectors against one design; unknown ones become problems."""

    def __init__(self, design: Design, intent: Intent):
        self.design = design
        self.groups = dict(intent.groups)
        self.problems: list[Problem] = []
        self._reported: set[tuple] = set()

    def _problem(self, sel: Selector, message: str, severity: Severity = Severity.ERROR) -> None:
        key = (sel.text, sel.location, message)
        if key not in self._reported:
            self._reported.add(key)
            self.problems.append(Problem(message, "", sel.location, severity))

    def containers(self, selectors, what: str = "to", _seen: frozenset = frozenset()) -> list[str]:
        """Container names selected by any of ``selectors`` (design order, no duplicates)."""
        out: list[str] = []
        for sel in selectors:
            for name in self._one(sel, what, _seen):
                if name not in out:
                    out.append(name)
        return out

    def sources(self, selectors) -> list[str]:
        """Like :meth:`containers`, plus ``host``/``external``/host names as probe sources."""
        out: list[str] = []
        hosts = [h.name for h in self.design.hosts]
        for sel in selectors:
            if sel.text == "host":
                names = ["host"] if len(hosts) == 1 else hosts
            elif sel.text == "external":
                names = ["external"]
            elif sel.text in hosts and not self.design.has_container(sel.text):
                names = [sel.text] if len(hosts) > 1 else ["host"]
            else:
                names = self._one(sel, "from", frozenset())
            out.extend(n for n in names if n not in out)
        return out

    def _one(self, sel: Selector, what: str, seen: frozenset) -> list[str]:
        d, text = self.design, sel.text
        names = [c.name for c in d.containers]
        if text in SPECIAL_SOURCES and what != "from":
            self._problem(sel, f'"{text}" is a source, not a container: {what}: names containers '
                          "(write it under from:)")
            return []
        if text in self.groups:
            if text in seen:
                self._problem(sel, f'group "{text}" includes itself')
                return []
            return self.containers(self.groups[text], what, seen | {text})
        if text == "*":
            return names
        if text.startswith("label:"):
            key, eq, value = text[len("label:"):].partition("=")
            found = [c.name for c in d.containers if any(k == key and (not eq or v == value) for k, v in c.labels)]
            if not found:
                labels = sorted({f"label:{k}={v}" for c in d.containers for k, v in c.labels})
                hint = did_you_mean(text, labels) or (f"; labels in the design: {', '.join(labels)}" if labels else
                                                      "; no container has labels")
                self._problem(sel, f'"{text}" matches no container{hint}')
            return found
        if text.startswith("network:"):
            net = text[len("network:"):]
            if not d.has_network(net):
                self._problem(sel, f'"{net}" is not a network of the design'
                              f"{did_you_mean(net, [n.name for n in d.networks])}")
                return []
            found = [c.name for c in d.containers if net in c.networks]
            if not found:
                self._problem(sel, f'no container is attached to network "{net}"', Severity.WARNING)
            return found
        if any(ch in text for ch in "*?["):
            found = [n for n in names if fnmatchcase(n, text)]
            if not found:
                self._problem(sel, f'"{text}" matches no container; containers: {", ".join(names)}')
            return found
        if d.has_container(text):
            return [text]
        by_engine = [c.name for c in d.containers if c.engine_name == text]
        if by_engine:
            return by_engine
        replicas = [c.name for c in d.containers if text in (c.service, c.task_of)]  # a service: every replica or task
        if replicas:
            return replicas
        choices = names + list(self.groups) + ([*SPECIAL_SOURCES] if what == "from" else [])
        hint = did_you_mean(text, choices) or f"; containers: {', '.join(names)}"
        self._problem(sel, f'"{text}" is not a container or group of the design{hint}')
        return []


def check_references(intent: Intent, scope: Scope) -> None:
    """Resolve every selector of ``intent`` in ``scope``, which records what names nothing."""
    from .model import ExposureExpectation, ReachExpectation, ResolveExpectation, StructureExpectation

    for e in intent.expectations:
        if isinstance(e, (ReachExpectation, ResolveExpectation)):
            scope.sources(e.sources)
            scope.containers(e.targets, "to")
        elif isinstance(e, ExposureExpectation):
            scope.containers(e.services, "service")
        elif isinstance(e, StructureExpectation):
            scope.containers(e.exceptions, "except")


def reference_problems(intent: Intent, design: Design) -> list[Problem]:
    """Selectors of ``intent`` that name nothing in ``design`` (errors) and names defined
    nowhere (warnings): checked on every load, so `check` and `test` agree."""
    scope = Scope(design, intent)
    check_references(intent, scope)
    return list(scope.problems)
