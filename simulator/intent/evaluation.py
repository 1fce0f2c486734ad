"""Check an :class:`Intent` against the model: one :class:`Outcome` per expectation.

    outcomes, problems = evaluate(intent, design, engine_version)

``problems`` are selectors that name nothing (errors: nothing was evaluated) and
names defined nowhere (warnings). Failed outcomes carry their evidence: each probe that
proves the failure, its reason and its full trace.
"""

from __future__ import annotations

from dataclasses import replace

from ..analysis.exposure import exposure_proofs, service_port
from ..analysis.paths import PairProbes, probes_given, shared_matrix
from ..analysis.probes import Probe
from ..analysis.reachability import ReachResult, compute_reach
from ..engine.trace import Hop, Place, host_port
from ..errors import Problem
from ..model import Design, ModeKind
from .evidence import TraceBook
from .model import (
    Evidence,
    ExposureExpectation,
    Intent,
    Outcome,
    PortSpec,
    ReachExpectation,
    ResolveExpectation,
    StructureExpectation,
    family_matches,
    family_text,
)
from .select import Scope, check_references

MAX_EVIDENCE = 8


def evaluate(intent: Intent, design: Design, engine_version: str | None = None,
             result: ReachResult | None = None) -> tuple[list[Outcome], list[Problem]]:
    """Every expectation's outcome, or no outcomes and the problems when selectors name nothing."""
    scope = Scope(design, intent)
    check_references(intent, scope)
    if any(p.severity == "error" for p in scope.problems):
        return [], scope.problems
    result = result or compute_reach(design, engine_version)
    ctx = _Context(design, result, scope, TraceBook(design, engine_version, result.world))
    outcomes = []
    for e in intent.expectations:
        if isinstance(e, ReachExpectation):
            outcomes.append(ctx.reach(e))
        elif isinstance(e, ExposureExpectation):
            outcomes.append(ctx.exposure(e))
        elif isinstance(e, ResolveExpectation):
            outcomes.append(ctx.resolve(e))
        elif isinstance(e, StructureExpectation):
            outcomes.append(ctx.structure(e))
    return outcomes, scope.problems


def _way(p: Probe) -> str:
    """How a probe reached, for a failure's text: its way, and the family when it is IPv6."""
    return f"{p.via} over IPv6" if p.family == 6 else str(p.via)


class _Context:
    def __init__(self, design: Design, result: ReachResult, scope: Scope, book: TraceBook):
        self.design, self.result, self.scope, self.book = design, result, scope, book
        self.world = result.world
        self.given: dict[str, list[Probe]] | None = None  # the result's own probes (observations), by source
        if probes_given(result):
            self.given = {}
            for p in result.probes:
                self.given.setdefault(p.source, []).append(p)
        self.pairs = PairProbes(shared_matrix(result))
        v6 = result.v6 if self.given is None else None
        self.pairs6 = PairProbes(shared_matrix(v6)) if v6 is not None else None  # the IPv6 side's probes
        self.worlds = [w for w in (self.world, self.world.v6) if w is not None]  # both families' bindings

    def probes_from(self, source: str) -> list[Probe]:
        """Every probe of one source, in matrix order (IPv4, then IPv6): made for it alone (not the
        whole matrix), or the result's own when it was given probes."""
        if self.given is not None:
            return self.given.get(source, [])
        probes = list(self.pairs.from_source(source))
        if self.pairs6 is not None and source in self.pairs6.sources:
            probes += self.pairs6.from_source(source)
        return probes

    # --- helpers -------------------------------------------------------------------------
    def answered_by(self, p: Probe, target: str) -> bool:
        return p.reachable and (p.responder == target or target in p.responders)

    def listening(self, target: str) -> list[PortSpec]:
        ns_id = self.world.ns_of.get(target)
        if ns_id is None:
            return []
        ns = self.world.namespaces[ns_id]
        return sorted(PortSpec(port, proto) for (port, proto), who in ns.listeners.items() if who == target)

    def names_of(self, target: str) -> set[str]:
        c = self.design.container(target)
        names = {n.lower() for n in c.carried_names()}
        if c.hostname:
            names.add(c.hostname.lower())
        return names

    def host_ports(self, target: str, port: PortSpec) -> set[int]:
        c = self.design.container(target)
        if c.mode.kind is ModeKind.HOST:
            return {port.port}
        svc = self.design.service(c.task_of) if c.task_of is not None else None
        mesh = {m.host_port for m in (svc.ingress if svc is not None else ())  # the routing mesh, on every node
                if m.host_port is not None and m.container_port == port.port and m.protocol.value == port.protocol}
        return mesh | {b.host_port for w in self.worlds for b in w.bindings.get(c.host, ())
                       if b.container == target and b.container_port == port.port and b.protocol == port.protocol}

    def aimed(self, p: Probe, target: str, port: PortSpec) -> bool:
        if p.protocol != port.protocol:
            return False
        if p.via == "ip":
            return p.target == target and p.port == port.port
        if p.via == "dns":
            return p.port == port.port and (p.name or "").lower() in self.names_of(target)
        return p.port in self.host_ports(target, port)

    def evidence(self, probes: list[Probe]) -> tuple[Evidence, ...]:
        return tuple(self.book.evidence(p) for p in probes[:MAX_EVIDENCE])

    # --- allow / deny ----------------------------------------------------------------------
    def reach(self, e: ReachExpectation) -> Outcome:
        sources = self.scope.sources(e.sources)
        targets = self.scope.containers(e.targets)
        failures: list[str] = []
        shown: list[Probe] = []
        checked = 0
        for src in sources:
            probes = [p for p in self.probes_from(src) if e.via in ("any", p.via) and family_matches(e.family, p.family)]
            for tgt in targets:
                if tgt == src:
                    continue
                ports = list(e.ports) or self.listening(tgt)
                if not ports and e.allowed:
                    failures.append(f"{tgt} listens on no port; give ports: or add listens: to {tgt}")
                for port in ports:
                    checked += 1
                    if e.allowed:
                        self._allow(src, tgt, port, probes, e, failures, shown)
                    else:
                        self._deny(src, tgt, port, probes, failures, shown)
        if not failures:
            what = "reached" if e.allowed else "blocked"
            return Outcome(e, True, f"holds: {checked} source/target/port combination(s) {what}")
        head = f"{len(failures)} violation(s): " + "; ".join(failures[:3]) + (" …" if len(failures) > 3 else "")
        return Outcome(e, False, head, self.evidence(shown))

    def _allow(self, src, tgt, port, probes, e, failures, shown) -> None:
        if e.family == "both":  # each family on its own
            for family in (4, 6):
                self._allow(src, tgt, port, [p for p in probes if p.family == family],
                            replace(e, family=str(family)), failures, shown)
            return
        cands = [p for p in probes if self.aimed(p, tgt, port)]
        if any(self.answered_by(p, tgt) for p in cands):
            return
        if port not in self.listening(tgt):
            heard = ", ".join(str(p) for p in self.listening(tgt)) or "nothing"
            failures.append(f"{tgt} does not listen on {port} (it listens on {heard})")
            return
        if not cands:
            how = {"host": f"{tgt} publishes nothing to {port} on the host",
                   "dns": f"no name of {tgt} is carried to {src}"}.get(e.via, f"no way from {src} to {tgt} {port}")
            failures.append(f"{src} -> {tgt} {port}: {how}{family_text(e.family)}")
            return
        failures.append(f"{src} -> {tgt} {port}{family_text(e.family)}: {cands[0].disposition.value} ({cands[0].reason})")
        shown.extend(cands)

    def _deny(self, src, tgt, port, probes, failures, shown) -> None:
        bad = [p for p in probes if self.answered_by(p, tgt) and p.protocol == port.protocol
               and service_port(self.result, p) == port.port]
        if bad:
            ways = ", ".join(sorted({_way(p) for p in bad}))
            failures.append(f"{src} reaches {tgt} {port} ({ways})")
            shown.extend(bad)

    # --- exposure -----------------------------------------------------------------------------
    def exposure(self, e: ExposureExpectation) -> Outcome:
        services = self.scope.containers(e.services, "service")
        failures: list[str] = []
        shown: list[Probe] = []
        if e.audiences:
            first: dict[tuple, tuple[tuple, Probe]] = {}
            wanted = set(services)
            for x in exposure_proofs(self.result, self.pairs):  # each exposure's first probe in matrix order
                p = x.probe
                if p.responder not in wanted:
                    continue
                aud = x.exposure.audience.replace(" ", "-")
                if aud not in e.audiences or not family_matches(e.family, p.family):
                    continue
                port = PortSpec(service_port(self.result, p), p.protocol)
                if e.only_ports and port in e.only_ports:
                    continue
                key = (p.responder, port, aud, _way(p))
                if key not in first or x.position < first[key][0]:
                    first[key] = (x.position, p)
            for (responder, port, aud, way), (_, p) in sorted(first.items(), key=lambda kv: kv[1][0]):
                failures.append(f"{responder} {port} is reachable from {aud} ({way})")
                shown.append(p)
        extra: list[Evidence] = []
        if e.published is False:
            for host, bindings in sorted(((h, bs) for w in self.worlds for h, bs in w.bindings.items()), key=lambda x: x[0]):
                for b in bindings:
                    if b.container in services:
                        bind = host_port(b.host_ip, b.host_port)
                        failures.append(f"{b.container} publishes {bind}->{b.container_port}/{b.protocol}")
                        extra.append(Evidence(f"published port on host {host}",
                                              f"{bind} -> {b.container} {host_port(b.container_ip, b.container_port)}/{b.protocol} on {b.network}"))
        if not failures:
            return Outcome(e, True, f"holds for {len(services)} container(s)")
        head = f"{len(failures)} violation(s): " + "; ".join(failures[:3]) + (" …" if len(failures) > 3 else "")
        return Outcome(e, False, head, tuple(extra) + self.evidence(shown))

    # --- names ------------------------------------------------------------------------------------
    def resolve(self, e: ResolveExpectation) -> Outcome:
        matrix = self.pairs.matrix
        srcs = self.pairs.sources
        targets = set(self.scope.containers(e.targets, "to")) if e.targets else set()
        failures, evidence = [], []
        for src in self.scope.sources(e.sources):
            ns = srcs.get(src)
            if ns is None:
                failures.append(f"{src} has no network namespace of its own")
                continue
            res = matrix.names.resolve(ns, e.name)
            got = {ctr for _, ctr, _ in res.records}
            bad = (not res.resolved) if e.resolves else res.resolved
            if e.resolves and res.resolved and targets and not got <= targets:
                bad = True
            if bad:
                said = f"resolves to {', '.join(sorted(got))}" if res.resolved else "does not resolve"
                failures.append(f"from {src}, {e.name} {said}")
                evidence.append(Evidence(f"{src} looks up {e.name}", res.step.detail, lookup=(Hop(Place.of(ns), (res.step,)),)))
        if not failures:
            return Outcome(e, True, "holds")
        return Outcome(e, False, f"{len(failures)} violation(s): " + "; ".join(failures[:3]), tuple(evidence[:MAX_EVIDENCE]))

    # --- structure --------------------------------------------------------------------------------
    def structure(self, e: StructureExpectation) -> Outcome:
        exempt = set(self.scope.containers(e.exceptions, "except")) if e.exceptions else set()
        failures, evidence = [], []
        for c in self.design.containers:
            if c.name in exempt:
                continue
            where = self.design.location("containers", c.name)
            bad = None
            if e.rule == "networks_per_container" and c.mode.kind is ModeKind.NETWORKS:
                n = len(c.attachments)
                if (e.exactly is not None and n != e.exactly) or (e.maximum is not None and n > e.maximum):
                    bad = f"{c.name} has {n} network(s): {', '.join(c.networks) or 'none'}"
            elif e.rule == "host_mode" and c.mode.kind is ModeKind.HOST:
                bad = f"{c.name} uses network_mode: host"
            elif e.rule == "default_bridge" and any(self.design.has_network(a.network) and self.design.network(a.network).default_bridge
                                                    for a in c.attachments):
                bad = f"{c.name} is on the default bridge"
            if bad:
                failures.append(bad)
                evidence.append(Evidence(f"container {c.name}" + (f" ({where})" if where else ""), bad))
        if not failures:
            return Outcome(e, True, "holds")
        return Outcome(e, False, f"{len(failures)} violation(s): " + "; ".join(failures[:3]) + (" …" if len(failures) > 3 else ""),
                       tuple(evidence))
