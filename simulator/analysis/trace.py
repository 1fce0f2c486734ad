"""Answers that explain themselves: a Trace is a list of Hops, each a list of Steps.

Modelled on pybatfish's Trace → Hop → Step: every step names the mechanism (DNS,
routing, a netfilter rule, a socket lookup) and what it decided; the trace ends with a
:class:`Disposition` saying why the packet was delivered or where it was dropped.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass


class Disposition(str, enum.Enum):
    DELIVERED = "DELIVERED"  # a listener accepted the connection
    REFUSED = "REFUSED"  # reached the namespace, nothing listens there
    DROPPED_FILTER = "DROPPED_FILTER"  # a netfilter rule or policy dropped it
    DROPPED_ISOLATION = "DROPPED_ISOLATION"  # network isolation (bridge isolation, internal)
    DROPPED_L2 = "DROPPED_L2"  # the link layer never carries it (macvlan/ipvlan parent)
    NO_ROUTE = "NO_ROUTE"  # no route to the destination from the sender
    NAME_NOT_RESOLVED = "NAME_NOT_RESOLVED"
    LEFT_MODEL = "LEFT_MODEL"  # handed to something outside the design (the LAN router)
    LOOP = "LOOP"  # routed in a circle until the hop limit (in the kernel: TTL exceeded)

    @property
    def delivered(self) -> bool:
        return self is Disposition.DELIVERED


@dataclass(frozen=True, slots=True)
class Step:
    """One decision: which mechanism (``kind``) decided what (``detail``)."""

    kind: str  # dns | route | l2 | netfilter | socket | proxy | namespace
    detail: str
    rule: str = ""  # the rule that matched, written as the engine would show it

    def __str__(self) -> str:
        return f"{self.kind}: {self.detail}" + (f"  [{self.rule}]" if self.rule else "")


@dataclass(frozen=True, slots=True)
class Hop:
    """Everything that happened inside one network namespace."""

    node: str  # e.g. "container web", "host docker1", "external"
    steps: tuple[Step, ...]

    def __str__(self) -> str:
        lines = [self.node]
        lines.extend(f"  {step}" for step in self.steps)
        return "\n".join(lines)


@dataclass(frozen=True, slots=True)
class Trace:
    hops: tuple[Hop, ...]
    disposition: Disposition
    reason: str  # one line a person understands
    responder: str | None = None  # the container (or "host") whose listener answered

    @property
    def delivered(self) -> bool:
        return self.disposition is Disposition.DELIVERED

    def __str__(self) -> str:
        body = "\n".join(str(hop) for hop in self.hops)
        return f"{body}\n=> {self.disposition.value}: {self.reason}"
