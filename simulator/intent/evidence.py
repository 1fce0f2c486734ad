"""Probes as evidence: one line saying what was tried, and its full trace (a Trace) on demand."""

from __future__ import annotations

from ..analysis.paths import PairProbes
from ..analysis.probes import Probe
from ..analysis.reachability import Matrix, compute_reach, reach_of
from ..engine.topology import World
from ..engine.trace import Trace
from ..model import Design
from .model import Evidence


def describe_probe(p: Probe) -> str:
    """``proxy -> db at 172.30.2.10 on backend, 5432/tcp (ip)``; a probe over IPv6 says so
    (``(ip, IPv6)``; a name looked up for AAAA: ``(dns AAAA)``)."""
    where = f"{p.port}/{p.protocol}"
    v6 = p.family == 6
    if p.via == "ip":
        return f"{p.source} -> {p.target} at {p.address} on {p.network}, {where} (ip{', IPv6' if v6 else ''})"
    if p.via == "dns":
        return f"{p.source} -> name {p.name} ({p.address or 'unresolved'}), {where} (dns{' AAAA' if v6 else ''})"
    host = f"host {p.host} " if p.host else "the host "
    return f"{p.source} -> {host}at {p.address or '-'}, {where} (published/host port{', IPv6' if v6 else ''})"


def outcome_of(p: Probe) -> str:
    answered = f" (answered by {p.responder})" if p.responder else ""
    return f"{p.disposition.value}: {p.reason}{answered}"


class TraceBook:
    """Full traces for probes, walked again one by one (only for the probes shown as evidence)."""

    def __init__(self, design: Design, engine_version: str | None, world: World | None = None):
        self.design, self.engine_version, self.world = design, engine_version, world
        self._by_key: dict[tuple, Probe] | None = None
        self._pairs: dict[int, PairProbes] = {}  # by family

    def trace(self, p: Probe) -> Trace | None:
        """``p``'s full trace: its own, walked again alone (on the world of its family), or from the
        whole matrix with traces (computed once, on the book's world when it has one)."""
        if p.trace is not None:
            return p.trace
        world = self.world.v6 if self.world is not None and p.family == 6 and self.world.family == 4 else self.world
        if world is not None:
            if p.family not in self._pairs:
                self._pairs[p.family] = PairProbes(Matrix(world, with_traces=True))
            t = self._pairs[p.family].retrace(p)
            if t is not None:
                return t
        if self._by_key is None:
            full = (reach_of(self.world, with_traces=True) if self.world is not None
                    else compute_reach(self.design, self.engine_version, with_traces=True))
            self._by_key = {q.key: q for q in full.probes}
        q = self._by_key.get(p.key)
        return q.trace if q is not None else None

    def evidence(self, p: Probe) -> Evidence:
        return Evidence(describe_probe(p), outcome_of(p), self.trace(p))
