"""Exposure: which listeners can be reached from outside their own networks, and how.

Read off the reachability matrix: a listener is exposed to ``external`` (the LAN), to
``host`` (the Docker host's own processes) or to ``other networks`` (containers that
share no network with it) when some probe from there is answered by it. Each entry
says through what: a published port and its bind address, host networking, a
macvlan/ipvlan address on the LAN, direct routing to the container address, or the
docker-proxy hairpin through a gateway address.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from ..model import Driver, ModeKind
from .paths import PairProbes, probes_given, shared_matrix
from .probes import Probe, Via
from .reachability import ProbeGroup, ReachResult


class Through(str, enum.Enum):
    """How a listener is reached from outside its networks."""

    PUBLISHED_PORT = "published-port"  # a port published on the host (DNAT or docker-proxy)
    HOST_NETWORK = "host-network"  # the container shares the host's namespace
    LAN_ADDRESS = "lan-address"  # a macvlan/ipvlan address on the LAN
    DIRECT_ROUTING = "direct-routing"  # the LAN routes the container subnet through the host
    ADDRESS = "address"  # its own address, routed through the host
    OTHER = "other"


@dataclass(frozen=True, slots=True)
class Exposure:
    container: str
    port: int  # the port dialled (the host port for published ports)
    protocol: str
    audience: str  # external | host | other networks
    through: str  # how, for people (rendered from the probe and the design by _through)
    example: str  # one probe that proves it
    through_kind: Through = Through.OTHER  # how, for code

    def to_json(self) -> dict:
        return {
            "container": self.container, "port": self.port, "protocol": self.protocol,
            "audience": self.audience, "through": self.through, "through_kind": self.through_kind.value,
            "example": self.example,
        }


def audience(result: ReachResult, probe: Probe) -> str | None:
    """Who a probe's source is, seen from its responder: external, host, other networks, or None."""
    design = result.design
    if probe.source == "external":
        return "external"
    if probe.source == "host" or any(h.name == probe.source for h in design.hosts):
        return "host"
    if not design.has_container(probe.source) or probe.responder is None:
        return None
    world = result.world
    if world.ns_of.get(probe.source) == world.ns_of.get(probe.responder):
        return None
    src = design.container(probe.source)
    if src.mode.kind is ModeKind.HOST:
        return "host"
    dst_ns = world.namespace_of(probe.responder)
    src_ns = world.namespace_of(probe.source)
    src_nets = {i.network for i in src_ns.interfaces.values() if i.network}
    dst_nets = {i.network for i in dst_ns.interfaces.values() if i.network}
    if dst_ns.kind == "host":
        return "other networks"
    return None if src_nets & dst_nets else "other networks"


def _through(result: ReachResult, probe: Probe) -> tuple[Through, str]:
    world = result.world
    design = result.design
    if probe.via == "host":
        host_name = probe.host or design.hosts[0].name
        for b in world.bindings.get(host_name, ()):
            if b.host_port == probe.port and b.protocol == probe.protocol:
                return (Through.PUBLISHED_PORT,
                        f"published port {b.host_ip}:{b.host_port}->{b.container_port}/{b.protocol} on {b.network}")
        return Through.HOST_NETWORK, f"host networking (listens on the host's {probe.port}/{probe.protocol})"
    if probe.via in ("ip", "dns") and probe.network:
        net = design.network(probe.network) if design.has_network(probe.network) else None
        if net is not None and net.driver in (Driver.MACVLAN, Driver.IPVLAN):
            return Through.LAN_ADDRESS, f"{net.driver.value} address on the LAN ({probe.address})"
        if probe.source == "external":
            return Through.DIRECT_ROUTING, f"direct routing to the container address {probe.address} on {probe.network}"
        return Through.ADDRESS, f"its address {probe.address} on {probe.network}"
    return Through.OTHER, f"{probe.via} {probe.address or ''}".strip()


def service_port(result: ReachResult, p: Probe) -> int:
    """The port the answering container listens on (a published port maps to its container port)."""
    if p.via != "host":
        return p.port
    host = p.host or result.design.hosts[0].name
    for b in result.world.bindings.get(host, ()):
        if b.host_port == p.port and b.protocol == p.protocol and (p.responder is None or _same_ns(result, b.container, p.responder)):
            return b.container_port
    return p.port


def _same_ns(result: ReachResult, a: str, b: str) -> bool:
    ns = result.world.ns_of
    return a == b or (a in ns and ns.get(a) == ns.get(b))


AUDIENCE_ORDER = {"external": 0, "other networks": 1, "host": 2}


@dataclass(frozen=True, slots=True)
class Exposed:
    """One exposure with the probe that proves it (the first in matrix order) and the class of its listener."""

    exposure: Exposure
    probe: Probe
    container_class: str
    position: tuple = ()  # the probe's place in matrix order (PairProbes.position)


def compute_exposure(result: ReachResult) -> list[Exposure]:
    """Every listener reachable from outside its networks, and through what (each with its first proof)."""
    return [x.exposure for x in exposure_proofs(result)]


def own_names(result: ReachResult) -> dict[str, list[str]]:
    """Class id -> the own names of its members (a container's engine name that no other container
    carries), in design order: the names a group via dns with no ``name`` stands for."""
    carriers: dict[str, list[str]] = {}
    for c in result.design.containers:
        names = [c.engine_name] + ([c.service] if c.service else []) + [a for att in c.attachments for a in att.aliases]
        if c.hostname:
            names.append(c.hostname)
        for n in dict.fromkeys(names):
            carriers.setdefault(n, []).append(c.name)
    out: dict[str, list[str]] = {}
    for n, cs in carriers.items():
        if len(cs) == 1 and result.design.container(cs[0]).engine_name == n:
            out.setdefault(result.class_of(cs[0]).id, []).append(n)
    return out


def exposure_proofs(result: ReachResult, pairs: PairProbes | None = None) -> list[Exposed]:
    """:func:`compute_exposure` with each entry's proof, computed from the listeners' side.

    The matrix's class-level groups say which (source class, target class, way, port) pairs
    answer; for each answered listener the first source of the matrix that reaches it is the
    first member of the earliest such source class, so only that member's probe to each listener
    is made (on the matrix's shared walks), never every source × every target. Where one pair
    of classes splits into several outcomes, its probes are made pair by pair. The result is
    the per-probe answer exactly (tests/unit/test_exposure_classes.py compares them).
    """
    if probes_given(result):  # observations or a filtered matrix: only its own probes say who answers
        return _per_probe(result)
    return _Listeners(result, pairs or PairProbes(shared_matrix(result))).compute()


def _per_probe(result: ReachResult) -> list[Exposed]:
    """Exposure read off every probe of the result, in order: the first probe of each proves it."""
    seen: dict[tuple, Exposed] = {}
    for i, p in enumerate(result.iter_probes()):
        if not p.reachable or p.responder is None:
            continue
        who = audience(result, p)
        if who is None:
            continue
        kind, through = _through(result, p)
        key = (p.responder, p.port, p.protocol, who, through)
        if key not in seen:
            e = Exposure(p.responder, p.port, p.protocol, who, through, f"{p.source} -> {p.address}:{p.port}/{p.protocol} ({p.via})", kind)
            cls = result.class_of(p.responder).id if result.design.has_container(p.responder) else p.responder
            seen[key] = Exposed(e, p, cls, (i,))
    return sorted(seen.values(), key=_entry_order)


def _entry_order(x: Exposed) -> tuple:
    e = x.exposure
    return (e.container, AUDIENCE_ORDER[e.audience], e.port, e.protocol, e.through)


class _Listeners:
    def __init__(self, result: ReachResult, pairs: PairProbes):
        self.result = result
        self.world = result.world
        self.pairs = pairs
        self.order = {name: i for i, name in enumerate(self.pairs.sources)}
        self.members = {c.id: c.members for c in result.classes}
        self._own: dict[str, list[str]] | None = None
        self.best: dict[tuple, tuple[tuple, Probe, Through]] = {}

    def sources_of(self, source_class: str) -> tuple[str, ...]:
        return self.members.get(source_class, (source_class,))

    def own_names(self, target_class: str) -> list[str]:
        if self._own is None:
            self._own = own_names(self.result)
        return self._own.get(target_class, [])

    def offer(self, p: Probe) -> None:
        """A delivered probe: kept when it is the first of its exposure in matrix order."""
        if not p.reachable or p.responder is None:
            return
        who = audience(self.result, p)
        if who is None:
            return
        kind, through = _through(self.result, p)
        key = (p.responder, p.port, p.protocol, who, through)
        rank = self.pairs.position(p)
        held = self.best.get(key)
        if held is None or rank < held[0]:
            self.best[key] = (rank, p, kind)

    def compute(self) -> list[Exposed]:
        split_done: set[tuple] = set()
        for g in self.result.groups():
            if not g.reachable or g.responder_class is None or audience(self.result, g.example) is None:
                continue  # who reaches whom in a group is alike for every member pair: nobody from outside here
            if g.via == Via.HOST or (g.via == Via.DNS and g.name is not None):
                self.offer(g.example)  # every probe of such a group has the example's address and responder
                continue
            sources = [s for s in self.sources_of(g.source_class) if s in self.order]
            items = self.items(g)
            if g.count == len(sources) * len(items):  # the group is every pair: the first source stands for its class
                for item in items:
                    p = self.probe(g, sources[0], item)
                    if p is not None:
                        self.offer(p)
                continue
            combo = (g.source_class, g.via, g.target_class, g.network, g.name, g.host, g.port, g.protocol)
            if combo in split_done:
                continue
            split_done.add(combo)
            for item in items:  # the pair of classes splits: pair by pair, the first source answered
                for source in sources:
                    p = self.probe(g, source, item)
                    if p is not None and p.reachable:
                        self.offer(p)
                        break
        out = []
        for (responder, port, proto, who, through), (rank, p, kind) in self.best.items():
            e = Exposure(responder, port, proto, who, through, f"{p.source} -> {p.address}:{p.port}/{p.protocol} ({p.via})", kind)
            cls = self.result.class_of(responder).id if self.world.design.has_container(responder) else responder
            out.append(Exposed(e, p, cls, rank))
        return sorted(out, key=_entry_order)

    def items(self, g: ProbeGroup) -> list[str]:
        """What the group's probes dial besides the source: target containers (ip) or own names (dns)."""
        if g.target_class is None:
            return []
        if g.via == Via.IP:
            return list(self.members.get(g.target_class, ()))
        return self.own_names(g.target_class)

    def probe(self, g: ProbeGroup, source: str, item: str) -> Probe | None:
        if g.via == Via.IP:
            assert g.network is not None  # a probe via ip dials an address on a network
            return self.pairs.ip(source, item, g.network, g.port, g.protocol)
        return self.pairs.dns(source, item, g.port, g.protocol)



@dataclass(frozen=True, slots=True)
class ExposureGroup:
    """Exposures of the containers of one class that are the same case: the same audience, the same
    way through (kind), the same listening port; ``first`` stands for them (its proof, its text)."""

    container_class: str
    members: int  # containers in the class
    audience: str
    through_kind: Through
    protocol: str
    ports: tuple[int, ...]  # the ports dialled (each replica's own host port when published), in order
    count: int  # exposures it stands for
    first: Exposure
    containers: tuple[str, ...]  # the exposed containers, in order

    def to_json(self) -> dict:
        return {"class": self.container_class, "members": self.members, "audience": self.audience,
                "through_kind": self.through_kind.value, "protocol": self.protocol, "ports": list(self.ports),
                "count": self.count, "containers": list(self.containers), "first": self.first.to_json()}


def exposure_groups(result: ReachResult, proofs: list[Exposed]) -> list[ExposureGroup]:
    """:func:`exposure_proofs` by class: one group per class, audience, way and listening port (a
    container alone in its class keeps one group per exposure), in the order of the entries."""
    sizes = {c.id: len(c.members) for c in result.classes}
    rows: dict[tuple, list[Exposed]] = {}
    for x in proofs:
        e = x.exposure
        size = sizes.get(x.container_class, 1)
        key: tuple = (x.container_class, e.audience, e.through_kind, service_port(result, x.probe), e.protocol)
        if size == 1:
            key += (e.port, e.through)
        rows.setdefault(key, []).append(x)
    out = []
    for (cls, who, kind, _, proto, *_), xs in rows.items():
        out.append(ExposureGroup(cls, sizes.get(cls, 1), who, kind, proto, tuple(dict.fromkeys(x.exposure.port for x in xs)),
                                 len(xs), xs[0].exposure, tuple(dict.fromkeys(x.exposure.container for x in xs))))
    return out
