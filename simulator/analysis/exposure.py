"""Exposure: which listeners can be reached from outside their own networks, and how.

Read off the reachability matrix: a listener is exposed to ``external`` (the LAN), to
``host`` (the Docker host's own processes) or to ``other networks`` (containers that
share no network with it) when some probe from there is answered by it. Each entry
says through what: a published port and its bind address, host networking, a
macvlan/ipvlan address on the LAN, direct routing to the container address, or the
docker-proxy hairpin through a gateway address.

A dual-stack design has an IPv6 side (:attr:`ReachResult.v6`): its exposures are read off the same
way, each entry carries the ``family`` of its probe, and ``families`` says over which families the
same listener is reached from the same audience, so a listener reachable over IPv6 only (a port
kept off the LAN over IPv4, open over IPv6) reads as such.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, replace

from ..engine.trace import host_port
from ..model import Driver, ModeKind
from .mesh import mesh_ports
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
    family: int = 4  # the address family of the probe that proves it
    # the families over which this audience reaches the same listener (container, listening port):
    # (4,), (6,) or (4, 6); () in a design without IPv6
    families: tuple[int, ...] = ()

    @property
    def family_text(self) -> str:
        """For people: "" in a design without IPv6, else ``IPv4``/``IPv6``, with ``only`` when the
        audience reaches the listener over this family alone."""
        if not self.families:
            return ""
        return f"IPv{self.family}" + (" only" if len(self.families) == 1 else "")

    def to_json(self) -> dict:
        return {
            "container": self.container, "port": self.port, "protocol": self.protocol,
            "audience": self.audience, "through": self.through, "through_kind": self.through_kind.value,
            "example": self.example, "family": self.family, "families": list(self.families),
        }


def family_result(result: ReachResult, family: int) -> ReachResult:
    """The side of ``result`` whose probes are of ``family``: its IPv6 side for 6 when it has one
    (else itself)."""
    if family == 6 and result.world.family == 4 and result.v6 is not None:
        return result.v6
    return result


def sides(result: ReachResult) -> list[ReachResult]:
    """``result`` and, for a dual-stack design, its IPv6 side."""
    v6 = result.v6 if result.world.family == 4 else None
    return [result] if v6 is None else [result, v6]


def example_text(p: Probe) -> str:
    """``external -> 172.31.10.2:443/tcp (ip)``; an IPv6 address in brackets."""
    address = f"[{p.address}]" if p.family == 6 and p.address else p.address
    return f"{p.source} -> {address}:{p.port}/{p.protocol} ({p.via})"


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
    result = family_result(result, probe.family)
    world = result.world
    design = result.design
    if probe.via == "host":
        host_name = probe.host or design.hosts[0].name
        for b in world.bindings.get(host_name, ()):
            if b.host_port == probe.port and b.protocol == probe.protocol:
                return (Through.PUBLISHED_PORT,
                        f"published port {host_port(b.host_ip, b.host_port)}->{b.container_port}/{b.protocol} on {b.network}")
        return Through.HOST_NETWORK, f"host networking (listens on the host's {probe.port}/{probe.protocol})"
    if probe.via in ("ip", "dns") and probe.network:
        return _through_address(design, probe.network, probe.address, probe.source == "external", probe.family)
    return Through.OTHER, f"{probe.via} {probe.address or ''}".strip()


def _through_address(design, network: str, address: str | None, external: bool, family: int = 4) -> tuple[Through, str]:
    """How a container's own address on ``network`` is reached (from the LAN peer when ``external``)."""
    net = design.network(network) if design.has_network(network) else None
    if net is not None and net.driver in (Driver.MACVLAN, Driver.IPVLAN):
        return Through.LAN_ADDRESS, f"{net.driver.value} address on the LAN ({address})"
    if external and family == 6:
        return Through.DIRECT_ROUTING, f"its IPv6 address {address} on {network}, routed through the host (no NAT)"
    if external:
        return Through.DIRECT_ROUTING, f"direct routing to the container address {address} on {network}"
    return Through.ADDRESS, f"its address {address} on {network}"


def service_port(result: ReachResult, p: Probe) -> int:
    """The port the answering container listens on (a published port maps to its container port)."""
    if p.via != "host":
        return p.port
    result = family_result(result, p.family)
    if p.balanced_by == "ingress":  # the routing mesh: the tasks' target port
        mesh = mesh_ports(result.design).get((p.port, p.protocol))
        return mesh.target if mesh is not None else p.port
    host = p.host or result.design.hosts[0].name
    for b in result.world.bindings.get(host, ()):
        if b.host_port == p.port and b.protocol == p.protocol and (p.responder is None or _same_ns(result, b.container, p.responder)):
            return b.container_port
    return p.port


def _same_ns(result: ReachResult, a: str, b: str) -> bool:
    ns = result.world.ns_of
    return a == b or (a in ns and ns.get(a) == ns.get(b))


AUDIENCE_ORDER = {"external": 0, "other networks": 1, "host": 2}
NOT_KNOWN = "?"  # no audience: one told by :func:`audience` itself (a source that is no container, a namespace missing)


class Audiences:
    """:func:`audience` for many probes of one matrix: from the networks of the source's and the
    responder's namespaces, each namespace's set made once."""

    def __init__(self, result: ReachResult):
        self.result = result
        self.world = result.world
        self._containers = {c.name for c in result.design.containers}
        self._host_mode = {c.name for c in result.design.containers if c.mode.kind is ModeKind.HOST}
        self._hosts = {"host", *(h.name for h in result.design.hosts)}
        self._ns_networks: dict[str, tuple[bool, frozenset[str]]] = {}
        self._told: dict[tuple, str | None] = {}

    def __call__(self, p: Probe) -> str | None:
        """:func:`audience` of ``p``."""
        who = self.of(p.source, p.responder)
        if who == NOT_KNOWN:
            key = (p.source,) if p.source not in self._containers else (p.source, p.responder)
            if key not in self._told:
                self._told[key] = audience(self.result, p)
            return self._told[key]
        return who

    def of(self, source: str, responder: str | None) -> str | None:
        """:func:`audience` of a source and a responder: the LAN peer's and a host's at once, a
        container's when both have namespaces, else :data:`NOT_KNOWN`."""
        if source == "external":
            return "external"
        if source in self._hosts:
            return "host"
        ns_of = self.world.ns_of
        here = ns_of.get(source)
        there = ns_of.get(responder) if responder is not None else None
        if here is None or there is None or source not in self._containers:
            return NOT_KNOWN
        if here == there:
            return None
        if source in self._host_mode:
            return "host"
        there_host, there_nets = self.ns_networks(there)
        if there_host:
            return "other networks"
        return None if self.ns_networks(here)[1] & there_nets else "other networks"

    def plain(self, sources: list[str]) -> bool:
        """Whether every source is a container not in host mode with a namespace (its audience is
        never "host" nor one :func:`audience` tells)."""
        return all(s in self._containers and s not in self._host_mode and s in self.world.ns_of for s in sources)

    def ns_networks(self, ns_id: str) -> tuple[bool, frozenset[str]]:
        """Whether a namespace is a host's, and the networks of its interfaces."""
        got = self._ns_networks.get(ns_id)
        if got is None:
            ns = self.world.namespaces[ns_id]
            got = self._ns_networks[ns_id] = (ns.kind == "host", frozenset(i.network for i in ns.interfaces.values() if i.network))
        return got


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
        names = c.carried_names()
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

    The matrix's coarse groups (:meth:`ReachResult.coarse_groups`: per source class, way, port and
    outcome) say which source classes reach which responder classes; only delivered groups whose
    sources are outside their responders' networks matter (the LAN peer, a host, other networks).
    For each such group, the first member of its source class dials each address (or own name) of
    the target classes it covers, and members holding that address themselves on their own (:class:`PairProbes`,
    on the matrix's shared walks): never every source × every target. The result is the per-probe
    answer exactly (tests/unit/test_exposure_classes.py compares them).
    """
    if probes_given(result):  # observations or a filtered matrix: only its own probes say who answers
        return _with_families(result, _per_probe(result))
    out = []
    for side in sides(result):
        mine = pairs if side is result and pairs is not None else PairProbes(shared_matrix(side))
        out += _Listeners(side, mine).compute()
    return _with_families(result, sorted(out, key=_entry_order))


def _with_families(result: ReachResult, proofs: list[Exposed]) -> list[Exposed]:
    """The entries with their ``families`` (a design with IPv6 only): over which families each
    audience reaches each listener (its container and listening port)."""
    if not any(x.probe.family == 6 for x in proofs) and len(sides(result)) == 1:
        return proofs
    seen: dict[tuple, set[int]] = {}
    keys = []
    for x in proofs:
        e = x.exposure
        key = (e.container, service_port(result, x.probe), e.protocol, e.audience)
        seen.setdefault(key, set()).add(e.family)
        keys.append(key)
    return [replace(x, exposure=replace(x.exposure, families=tuple(sorted(seen[key])))) for x, key in zip(proofs, keys, strict=True)]


def _per_probe(result: ReachResult) -> list[Exposed]:
    """Exposure read off every probe of the result, in order: the first probe of each proves it."""
    seen: dict[tuple, Exposed] = {}
    for i, p in enumerate(result.iter_probes()):
        if not p.reachable or p.responder is None:
            continue
        who = audience(family_result(result, p.family), p)
        if who is None:
            continue
        kind, through = _through(result, p)
        key = (p.responder, p.port, p.protocol, who, through, p.family)
        if key not in seen:
            e = Exposure(p.responder, p.port, p.protocol, who, through, example_text(p), kind, p.family)
            cls = result.class_of(p.responder).id if result.design.has_container(p.responder) else p.responder
            seen[key] = Exposed(e, p, cls, (i,))
    return sorted(seen.values(), key=_entry_order)


def _entry_order(x: Exposed) -> tuple:
    e = x.exposure
    return (e.container, AUDIENCE_ORDER[e.audience], e.port, e.protocol, e.family, e.through)


class _Listeners:
    """Exposure from the matrix's coarse groups (:meth:`ReachResult.coarse_groups`): only the
    delivered groups whose sources are outside their responders' networks are read, and for
    those the exact first probe of each listener is made on request (:class:`PairProbes`)."""

    def __init__(self, result: ReachResult, pairs: PairProbes):
        self.result = result
        self.world = result.world
        self.pairs = pairs
        self.order = {name: i for i, name in enumerate(self.pairs.sources)}
        self.members = {c.id: c.members for c in result.classes}
        self.class_by_member = {m: c.id for c in result.classes for m in c.members}
        self._own: dict[str, list[str]] | None = None
        self._networks: dict[tuple[str, int, str], list[tuple[str, int, str]]] | None = None
        self._ip_places: dict[tuple, int] = {}
        self._holders: dict[str | None, dict[int, list[str]]] = {}
        self._class_addresses: dict[str, frozenset[int]] = {}
        self._host_addresses: frozenset[int] | None = None
        self._held: dict[str, frozenset[int]] = {}
        self.audiences = Audiences(result)
        self._through: dict[tuple, tuple[Through, str]] = {}
        self._by_engine_name: dict[str, str] | None = None
        self._carriers: dict[str, set[int]] | None = None
        self.best: dict[tuple, tuple[tuple, Probe, Through]] = {}
        self._changed: set[tuple] = set()  # the keys of best improved by the source class being read

    def sources_of(self, source_class: str) -> list[str]:
        """The sources of a class in matrix order (a source that is no container: itself)."""
        return [s for s in self.members.get(source_class, (source_class,)) if s in self.order]

    def own_names(self, target_class: str) -> list[str]:
        if self._own is None:
            self._own = own_names(self.result)
        return self._own.get(target_class, [])

    def audience(self, p: Probe) -> str | None:
        return self.audiences(p)

    def through(self, p: Probe) -> tuple[Through, str]:
        """:func:`_through`, once per host port (via host) or address on a network."""
        if p.via == Via.HOST:
            key: tuple = (p.via, p.host, p.port, p.protocol, p.family)
        elif p.via in (Via.IP, Via.DNS) and p.network:
            key = (Via.IP, p.network, p.address, p.source == "external", p.family)
        else:
            return _through(self.result, p)
        got = self._through.get(key)
        if got is None:
            got = self._through[key] = _through(self.result, p)
        return got

    def offer(self, p: Probe) -> None:
        """A delivered probe: kept when it is the first of its exposure in matrix order."""
        if not p.reachable or p.responder is None:
            return
        who = self.audience(p)
        if who is None:
            return
        kind, through = self.through(p)
        key = (p.responder, p.port, p.protocol, who, through, p.family)
        rank = self.pairs.position(p)
        held = self.best.get(key)
        if held is None or rank < held[0]:
            self.best[key] = (rank, p, kind)
            self._changed.add(key)

    def compute(self) -> list[Exposed]:
        """Each source class's groups read beside them (:meth:`ReachResult.map_coarse`, in worker
        processes on a large design): each class sends back the entries it improved, kept here when
        first in matrix order (the least rank wins whichever process found it)."""
        found = self.result.map_coarse(self.read, ways=(Via.IP, Via.HOST), beyond_own_links=True, answered_only=True)
        for improved in found:
            for key, held in improved:
                mine = self.best.get(key)
                if mine is None or held[0] < mine[0]:
                    self.best[key] = held
        out = []
        for (responder, port, proto, who, through, fam), (rank, p, kind) in self.best.items():
            e = Exposure(responder, port, proto, who, through, example_text(p), kind, fam)
            cls = self.result.class_of(responder).id if self.world.design.has_container(responder) else responder
            out.append(Exposed(e, p, cls, rank))
        return sorted(out, key=_entry_order)

    def read(self, source_class: str, groups: list[ProbeGroup]) -> list[tuple[tuple, tuple[tuple, Probe, Through]]]:
        """The first probes of the listeners one source class's delivered groups reach from outside
        their networks: the entries of :attr:`best` they improved."""
        self._changed = set()
        done: set[tuple] = set()
        # names resolve only on a network the source shares with whoever answers, and whoever answers
        # over the source's own bridge or overlay is on its network: never exposure
        family = self.world.family
        sources = self.sources_of(source_class)  # the groups are all of this class
        lead = min((self.order[s] for s in sources), default=0)
        plain = bool(sources) and self.audiences.plain(sources)
        for g in groups:
            if g.family != family:
                continue  # the other family's side reads its own
            if not g.reachable or g.responder_class is None:
                continue
            if g.via == Via.HOST and plain and self.outdone(g, lead):
                continue
            if self.audience(g.example) is None:
                continue  # who reaches whom in a group is alike for every member pair: nobody from outside here
            if g.via == Via.HOST or (g.via == Via.DNS and g.name is not None):
                self.offer(g.example)  # every probe of such a group dials the example's address
                one: tuple = (g.source_class, g.via, g.host, g.name, g.port, g.protocol)
                if one not in done and sources and g.example.source != sources[0]:
                    # and the first source of the class (the group's example need not be its first probe)
                    done.add(one)
                    self.first_answers(g, sources, (g.host if g.via == Via.HOST else g.name,), self.carrying(g.name))
                continue
            for target_class, _ in g.target_counts:
                for item, addresses in self.items(g, target_class):
                    key = (g.source_class, g.via, item, g.port, g.protocol)
                    if key in done or (g.via == Via.IP and self.settled(g, sources, item, addresses[0], lead)):
                        continue
                    done.add(key)
                    self.first_answers(g, sources, item, addresses)
        return [(key, self.best[key]) for key in self._changed]

    def outdone(self, g: ProbeGroup, lead: int) -> bool:
        """Whether no probe of a delivered group via host can be first of its exposure, its sources
        being containers not in host mode (:meth:`Audiences.plain`: each one's audience is "other
        networks" or none), the first of them at ``lead`` in matrix order: every probe reaches the
        example's responder (a published port, not the routing mesh) and that exposure is held from
        a source before theirs (the matrix orders probes by source first)."""
        p = g.example
        if p.balanced_by is not None or p.responder is None:
            return False
        _, through = self.through(p)
        held = self.best.get((p.responder, p.port, p.protocol, "other networks", through, p.family))
        return held is not None and held[0][0] < lead

    def settled(self, g: ProbeGroup, sources: list[str], item: tuple, address: int, lead: int) -> bool:
        """Whether a delivered group via ip can give this item (a target's address on a network)
        nothing better than what is held: each member of the group's responder class holding the
        address (whoever answers it in this group is one of them, the address being no host's) has
        its exposure through that address held from a place before any of the class's sources dials
        it, or none from this class. Then the item need not be probed (it is not marked done: a group
        of another responder class looks again)."""
        target, network, text = item
        held_by = self.holders(g.responder_class).get(address)
        if not held_by or address in self.host_addresses():
            return False
        standing = next((s for s in sources if address not in self.held(s)), None)
        if standing is None:
            return False
        _, through = _through_address(self.result.design, network, text, g.source_class == "external", g.family)
        bound = (lead, 0, self.ip_place(target, network, g.port, g.protocol))
        for responder in held_by:
            who = self.audiences.of(standing, responder)
            if who == NOT_KNOWN:
                return False
            if who is None:
                continue
            held = self.best.get((responder, g.port, g.protocol, who, through, g.family))
            if held is None or not held[0] < bound:
                return False
        return True

    def holders(self, class_id: str | None) -> dict[int, list[str]]:
        """An address (as an integer) -> the members of a class whose namespace holds it."""
        got = self._holders.get(class_id)
        if got is None:
            got = self._holders[class_id] = {}
            for m in self.members.get(class_id or "", ()):
                ns_id = self.world.ns_of.get(m)
                if ns_id is not None:
                    for a in self.world.namespaces[ns_id].addresses():
                        got.setdefault(int(a), []).append(m)
        return got

    def first_answers(self, g: ProbeGroup, sources: list[str], item: tuple, addresses: tuple[int, ...] | frozenset[int]) -> None:
        """Offer the probes of one item (a target's address, or an own name) from the sources of a
        class that can be first of their exposure: the members of a class that hold none of the
        item's addresses dial it alike (the matrix's classes, :class:`~.reachability.ClassGroups`),
        so the first of them stands for the others; a member holding one is probed on its own."""
        stood_for = False
        for source in sources:
            held = self.held(source)
            holds = any(a in held for a in addresses)
            if stood_for and not holds:
                continue
            p = self.probe(g, source, item)
            if p is None:
                continue
            stood_for = stood_for or not holds
            self.offer(p)

    def class_addresses(self, class_id: str) -> frozenset[int]:
        """The addresses of the namespaces of a class's members."""
        got = self._class_addresses.get(class_id)
        if got is None:
            ns_ids = {self.world.ns_of[m] for m in self.members.get(class_id, ()) if m in self.world.ns_of}
            got = self._class_addresses[class_id] = frozenset(
                int(a) for ns_id in ns_ids for a in self.world.namespaces[ns_id].addresses())
        return got

    def host_addresses(self) -> frozenset[int]:
        """Every address of the hosts' own namespaces (a packet to one may be rewritten to a container)."""
        if self._host_addresses is None:
            self._host_addresses = frozenset(int(a) for ns in self.world.namespaces.values() if ns.kind == "host"
                                             for a in ns.addresses())
        return self._host_addresses

    def held(self, source: str) -> frozenset[int]:
        """The addresses of a source's namespace (as integers)."""
        got = self._held.get(source)
        if got is None:
            ns = self.pairs.sources[source]
            got = self._held[source] = frozenset(int(a) for a in ns.addresses())
        return got

    def networks(self, target: str, port: int, proto: str) -> list[tuple[str, int, str]]:
        """(network, address, its text) of every address the matrix dials ``target`` at, on that port."""
        if self._networks is None:
            self._networks, self._ip_places = {}, {}
            for i, (t, n, addr, text, p, proto_, _) in enumerate(self.pairs.ip_targets()):
                self._networks.setdefault((t, p, proto_), []).append((n, int(addr), text))
                self._ip_places[(t, n, p, proto_)] = i
        return self._networks.get((target, port, proto), [])

    def ip_place(self, target: str, network: str, port: int, proto: str) -> int:
        """A target's address's place among the matrix's probes via ip of one source (:meth:`PairProbes.position`)."""
        self.networks(target, port, proto)
        return self._ip_places[(target, network, port, proto)]

    def items(self, g: ProbeGroup, target_class: str) -> list[tuple[tuple, tuple[int, ...]]]:
        """What the group's probes to one target class dial besides the source, each with the
        addresses a source holding would answer differently: a target's address on a network (ip),
        a member's own name (dns)."""
        members = self.members.get(target_class, ())
        if g.via == Via.IP:
            # a group naming its network dials only there (its other addresses are other groups')
            items: list[tuple[tuple, tuple[int, ...]]] = [((t, n, text), (a,)) for t in members for n, a, text in self.networks(t, g.port, g.protocol)
                                                          if g.network is None or n == g.network]
            if target_class == g.responder_class or g.responder_class is None:
                return items
            # answered by another class: the address dialled is one its members (or a host) hold
            answering, hosts = self.class_addresses(g.responder_class), self.host_addresses()
            return [(item, a) for item, a in items if a[0] in answering or a[0] in hosts]
        if self._by_engine_name is None:
            self._by_engine_name = {c.engine_name: c.name for c in self.result.design.containers}
        out = []
        for name in self.own_names(target_class):  # an own name is one container's engine name
            ns_id = self.world.ns_of.get(self._by_engine_name[name])
            addresses = tuple(int(a) for a in self.world.namespaces[ns_id].addresses()) if ns_id else ()
            out.append(((name,), addresses))
        return out

    def carrying(self, name: str | None) -> frozenset[int]:
        """The addresses of every container carrying ``name`` (none for None): a source holding one
        resolves the name to itself."""
        if name is None:
            return frozenset()
        if self._carriers is None:
            self._carriers = {}
            for c in self.result.design.containers:
                ns_id = self.world.ns_of.get(c.name)
                if ns_id is None:
                    continue
                held = {int(a) for a in self.world.namespaces[ns_id].addresses()}
                for n in [c.engine_name, c.service, c.hostname, *(a for att in c.attachments for a in att.aliases)]:
                    if n:
                        self._carriers.setdefault(n, set()).update(held)
        return frozenset(self._carriers.get(name, ()))

    def probe(self, g: ProbeGroup, source: str, item: tuple) -> Probe | None:
        if g.via == Via.IP:
            return self.pairs.ip(source, item[0], item[1], g.port, g.protocol)
        if g.via == Via.HOST:
            return self.pairs.host(source, item[0], g.port, g.protocol)
        return self.pairs.dns(source, item[0], g.port, g.protocol)


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
                "through_kind": self.through_kind.value, "family": self.first.family, "protocol": self.protocol,
                "ports": list(self.ports),
                "count": self.count, "containers": list(self.containers), "first": self.first.to_json()}


def exposure_groups(result: ReachResult, proofs: list[Exposed]) -> list[ExposureGroup]:
    """:func:`exposure_proofs` by class: one group per class, audience, way and listening port (a
    container alone in its class keeps one group per exposure), in the order of the entries."""
    sizes = {c.id: len(c.members) for c in result.classes}
    rows: dict[tuple, list[Exposed]] = {}
    for x in proofs:
        e = x.exposure
        size = sizes.get(x.container_class, 1)
        key: tuple = (x.container_class, e.audience, e.through_kind, service_port(result, x.probe), e.protocol, e.family)
        if size == 1:
            key += (e.port, e.through)
        rows.setdefault(key, []).append(x)
    out = []
    for (cls, who, kind, _, proto, *_), xs in rows.items():
        out.append(ExposureGroup(cls, sizes.get(cls, 1), who, kind, proto, tuple(dict.fromkeys(x.exposure.port for x in xs)),
                                 len(xs), xs[0].exposure, tuple(dict.fromkeys(x.exposure.container for x in xs))))
    return out
