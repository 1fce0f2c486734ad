"""Intent: frozen expectations a design must meet, and the outcome of checking one.

An :class:`Intent` comes from a design's ``expect:``/``audit:`` keys or from an intent
file beside a compose file (:mod:`.parse`); :mod:`.evaluate` checks each expectation
against the model and returns one :class:`Outcome` per expectation.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..engine.trace import Hop, Trace
from ..model import Location

AUDIENCES = ("external", "host", "other-networks")
AUDIENCE_ALIASES = {"lan": "external", "other networks": "other-networks", "other_networks": "other-networks"}
FAMILIES = ("any", "both", "4", "6")  # an expectation's address family, as written (4 and 6 as text)


def family_text(family: str) -> str:
    """How an expectation's family reads in its text: "" (any), " over IPv4", " over IPv6",
    " over IPv4 and IPv6" (both)."""
    return {"4": " over IPv4", "6": " over IPv6", "both": " over IPv4 and IPv6"}.get(family, "")


def family_matches(family: str, probe_family: int) -> bool:
    """Whether a probe of ``probe_family`` (4 or 6) counts for an expectation of ``family``."""
    return family in ("any", "both") or family == str(probe_family)


@dataclass(frozen=True, slots=True)
class Selector:
    """One way of naming containers as written: a name, a glob, label:K=V, network:N, a group."""

    text: str
    location: Location | None = field(default=None, compare=False)

    def __str__(self) -> str:
        return self.text


@dataclass(frozen=True, slots=True, order=True)
class PortSpec:
    port: int
    protocol: str = "tcp"

    def __str__(self) -> str:
        return f"{self.port}/{self.protocol}"


@dataclass(frozen=True, slots=True, kw_only=True)
class Expectation:
    """What every expectation has: where it is written and why it is expected."""

    location: Location | None = field(default=None, compare=False)
    path: str = ""  # e.g. "expect.deny[0]"
    why: str = ""

    @property
    def kind(self) -> str:
        raise NotImplementedError

    @property
    def text(self) -> str:
        """One line saying what is expected."""
        raise NotImplementedError


def _sel(selectors: tuple[Selector, ...]) -> str:
    return ", ".join(s.text for s in selectors)


def _ports(ports: tuple[PortSpec, ...]) -> str:
    return ", ".join(str(p) for p in ports) if ports else "any port"


@dataclass(frozen=True, slots=True, kw_only=True)
class ReachExpectation(Expectation):
    """allow (``allowed``) or deny reaching ``targets`` from ``sources``."""

    allowed: bool
    sources: tuple[Selector, ...]
    targets: tuple[Selector, ...]
    ports: tuple[PortSpec, ...] = ()  # empty: every port the target listens on
    via: str = "any"
    family: str = "any"  # one of FAMILIES: allow holds over either family (any) or each (both); deny looks at both

    @property
    def kind(self) -> str:
        return "allow" if self.allowed else "deny"

    @property
    def text(self) -> str:
        verb = "reaches" if self.allowed else "does not reach"
        how = "" if self.via == "any" else f" via {self.via}"
        return f"{_sel(self.sources)} {verb} {_sel(self.targets)} on {_ports(self.ports)}{how}{family_text(self.family)}"


@dataclass(frozen=True, slots=True, kw_only=True)
class ExposureExpectation(Expectation):
    """A ceiling: nothing (or only ``only_ports``) of ``services`` reachable from ``audiences``."""

    services: tuple[Selector, ...]
    audiences: tuple[str, ...] = ()
    only_ports: tuple[PortSpec, ...] = ()  # with audiences: the ports allowed; () = none
    published: bool | None = None  # False: nothing of these services is published
    family: str = "any"  # one of FAMILIES: the exposures that count (any and both: every one)

    @property
    def kind(self) -> str:
        return "exposure"

    @property
    def text(self) -> str:
        parts = []
        if self.audiences:
            who = " or ".join(self.audiences) + family_text(self.family)
            parts.append(f"only {_ports(self.only_ports)} of {_sel(self.services)} reachable from {who}"
                         if self.only_ports else f"{_sel(self.services)} never reachable from {who}")
        if self.published is False:
            parts.append(f"nothing of {_sel(self.services)} is published")
        return "; ".join(parts) or f"{_sel(self.services)}: no constraint"


@dataclass(frozen=True, slots=True, kw_only=True)
class ResolveExpectation(Expectation):
    """``name`` resolves (or not) from ``sources``; optionally only to ``targets``."""

    sources: tuple[Selector, ...]
    name: str
    resolves: bool = True
    targets: tuple[Selector, ...] = ()

    @property
    def kind(self) -> str:
        return "resolve"

    @property
    def text(self) -> str:
        if not self.resolves:
            return f"{self.name} does not resolve from {_sel(self.sources)}"
        to = f" to {_sel(self.targets)}" if self.targets else ""
        return f"{self.name} resolves{to} from {_sel(self.sources)}"


@dataclass(frozen=True, slots=True, kw_only=True)
class StructureExpectation(Expectation):
    """A rule on the shape of the design: ``networks_per_container``, ``host_mode``, ``default_bridge``."""

    rule: str
    exactly: int | None = None
    maximum: int | None = None
    exceptions: tuple[Selector, ...] = ()

    @property
    def kind(self) -> str:
        return "structure"

    @property
    def text(self) -> str:
        but = f" (except {_sel(self.exceptions)})" if self.exceptions else ""
        if self.rule == "networks_per_container":
            n = f"exactly {self.exactly}" if self.exactly is not None else f"at most {self.maximum}"
            return f"every container has {n} network(s){but}"
        what = "host network mode" if self.rule == "host_mode" else "the default bridge"
        return f"no container uses {what}{but}"


@dataclass(frozen=True, slots=True)
class Intent:
    """Everything the user stated: expectations, groups, audit rules switched off."""

    source: str
    expectations: tuple[Expectation, ...] = ()
    groups: tuple[tuple[str, tuple[Selector, ...]], ...] = ()
    audit_disable: tuple[str, ...] = ()
    audit_disable_locations: tuple[Location | None, ...] = field(default=(), compare=False)


@dataclass(frozen=True, slots=True)
class Evidence:
    """One observation behind an outcome: what was tried, what happened, and the proof itself:
    a packet's ``trace`` or a name ``lookup`` (its hops), from which every text is rendered."""

    what: str  # e.g. "proxy -> 172.30.2.10:5432/tcp (ip, db on backend)"
    result: str  # e.g. "DELIVERED: delivered: bridged on br-backend"
    trace: Trace | None = None  # the packet's walk
    lookup: tuple[Hop, ...] = ()  # a name lookup: the hop of the asking namespace

    def __str__(self) -> str:
        return f"{self.what}: {self.result}"

    @property
    def trace_text(self) -> str | None:
        """The proof as ``netsim trace`` prints it (None when there is none)."""
        if self.trace is not None:
            return str(self.trace)
        return "\n".join(str(h) for h in self.lookup) or None

    def to_json(self) -> dict[str, Any]:
        """``what``, ``result``, ``trace`` (the one trace shape, docs/reach-json.md), ``lookup`` (hops
        in the trace's hop shape) and ``trace_text`` (what the table prints under the evidence)."""
        return {"what": self.what, "result": self.result,
                "trace": self.trace.to_json() if self.trace is not None else None,
                "lookup": [h.to_json() for h in self.lookup] if self.lookup else None,
                "trace_text": self.trace_text}


@dataclass(frozen=True, slots=True)
class Outcome:
    expectation: Expectation
    passed: bool
    message: str  # one line: why it holds or fails
    evidence: tuple[Evidence, ...] = ()
