"""One function per audit rule: each reads the model and yields findings with their proof.

Every check takes an :class:`AuditContext` and yields :class:`~.finding.Finding` values; a
finding is only raised with evidence from the model (a probe, a walk, the engine's
bindings), so a clean design yields nothing.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterator
from ipaddress import IPv4Address, IPv4Network

from ..analysis.exposure import Audiences
from ..analysis.paths import PairProbes, shared_matrix
from ..analysis.probes import Probe, Via
from ..analysis.reachability import ProbeGroup, ReachResult
from ..engine.ipam import GWBRIDGE
from ..engine.rules import Binding
from ..engine.trace import Disposition, Hop, Place
from ..engine.walk import walk
from ..errors import Problem
from ..intent.evidence import TraceBook
from ..intent.model import Evidence
from ..model import Design, Driver, ModeKind
from .finding import Finding
from .ipv6 import (
    ns017_ipv6_reaches_what_ipv4_does_not,
    ns018_ip6tables_unmanaged,
    ns019_internal_network_open_over_ipv6,
    ns020_ipv6_forwarding_left_on,
)
from .lanloop import lan_loopback_trace
from .rules import BY_ID
from .services import (
    ns013_mesh_port_on_idle_nodes,
    ns014_dnsrr_clients_cache,
    ns015_mesh_hides_client_address,
    ns016_replicas_on_one_node,
)

ANY = IPv4Address("0.0.0.0")
LINK_DRIVERS = (Driver.MACVLAN, Driver.IPVLAN)


def _read(g: ProbeGroup) -> bool:
    """Whether a check reads this coarse group: delivered ones, the LAN peer's dials of the hosts'
    ports, names not resolved (the rest only count what does not get through)."""
    return g.reachable or (g.source_class == "external" and g.via == Via.HOST) or \
        (g.via == Via.DNS and g.disposition is Disposition.NAME_NOT_RESOLVED)


class AuditContext:
    """What every check reads: the design, its world, the matrix's coarse groups
    (:meth:`ReachResult.coarse_groups`, the ones :func:`_read` keeps), and exact probes one at a
    time (never every probe of the matrix, nor every pair of classes).

    Only the groups a check reads are computed: via host from every source (NS001, NS002, NS005),
    via ip and dns from the LAN peer (NS003) and the classes on the default bridge (NS006)."""

    def __init__(self, design: Design, warnings: list[Problem], result: ReachResult, book: TraceBook,
                 pairs: PairProbes | None = None):
        self.design, self.warnings, self.result, self.book = design, warnings, result, book
        self.world = result.world
        self.version = result.world.version
        on = set(on_default_bridge(design))
        read_ip = [c.id for c in result.classes if c.members[0] in on] + ["external"]
        # the IPv4 side's: NS001-NS016 read IPv4 (their exact probes are made on it); NS017-NS020 read IPv6
        self.groups: list[ProbeGroup] = [g for g in result.coarse_groups(ways=(Via.HOST,)) if _read(g) and g.family == 4]
        self.groups += [g for g in result.coarse_groups(read_ip, ways=(Via.IP, Via.DNS)) if _read(g) and g.family == 4]
        self.pairs = pairs or PairProbes(shared_matrix(result))
        self.source_index = {name: i for i, name in enumerate(self.pairs.sources)}
        self.members = {c.id: c.members for c in result.classes}
        self._ip_index: dict[tuple, int] | None = None
        self._by_network: dict[str, list[tuple[int, tuple]]] | None = None
        self._by_target: dict[tuple[str, int, str], list[str]] | None = None
        self._hosts: dict[str, int] | None = None
        self._lan: list[Probe] | None = None

    def finding(self, rule_id: str, services, message: str, evidence=(), location=None, proofs=(), alike=(),
                **fields) -> Finding:
        rule = BY_ID[rule_id]
        fix = rule.fix.format_map(_Blank(fields))
        return Finding(rule, tuple(services), message, fix, tuple(evidence), location, tuple(proofs), tuple(alike))

    def class_members(self, class_id: str | None) -> tuple[str, ...]:
        """The containers of a class (a source that is no container: itself)."""
        if class_id is None:
            return ()
        return self.members.get(class_id, (class_id,))

    def is_container_class(self, class_id: str | None) -> bool:
        return class_id in self.members

    def labels(self, names) -> list[str]:
        """Containers for people: a class of several whose every member is named, by its id."""
        names = list(dict.fromkeys(names))
        chosen = set(names)
        whole: dict[str, bool] = {}  # class id -> every member named
        out: list[str] = []
        for n in names:
            cls = self.result.class_of(n) if self.design.has_container(n) else None
            if cls is not None and len(cls.members) > 1:
                if cls.id not in whole:
                    whole[cls.id] = chosen.issuperset(cls.members)
                    if whole[cls.id]:
                        out.append(cls.id)
                if whole[cls.id]:
                    continue
            out.append(n)
        return out

    def ip_position(self, p: Probe) -> tuple[int, int]:
        """Where a probe via ip stands in the matrix: its source's place, then its target's."""
        if self._ip_index is None:
            self._ip_index = {(t, n, port, proto): i for i, (t, n, _, _, port, proto, _) in enumerate(self.pairs.ip_targets())}
        return self.source_index[p.source], self._ip_index[(p.target, p.network, p.port, p.protocol)]

    def ip_targets_on(self, network: str) -> list[tuple[int, tuple]]:
        """(place in the matrix, ip target) of every address on ``network``, in matrix order."""
        if self._by_network is None:
            self._by_network = {}
            for i, item in enumerate(self.pairs.ip_targets()):
                self._by_network.setdefault(item[1], []).append((i, item))
        return self._by_network.get(network, [])

    def ip_items(self, g: ProbeGroup, networks: Callable[[str], bool] = lambda n: True) -> Iterator[tuple[str, str]]:
        """(target, network) of every address a group via ip may dial: each member of the target
        classes it covers, on each of its networks (those ``networks`` keeps) where the matrix dials
        the group's port. A superset of the group's own probes: a caller keeps the probes that answer."""
        if self._by_target is None:
            self._by_target = {}
            for t, n, _, _, port, proto, _ in self.pairs.ip_targets():
                self._by_target.setdefault((t, port, proto), []).append(n)
        for target_class, _ in g.target_counts:
            for t in self.class_members(target_class):
                for n in self._by_target.get((t, g.port, g.protocol), ()):
                    if networks(n):
                        yield t, n

    def port_location(self, b: Binding):
        c = self.design.container(b.container)
        index = next((i for i, m in enumerate(c.ports) if m is b.mapping or m == b.mapping), None)
        if index is not None:
            return self.design.location("containers", c.name, "ports", index)
        return self.design.location("containers", c.name)

    def container_location(self, name: str):
        return self.design.location("containers", name)

    def bindings(self) -> Iterator[tuple[str, Binding]]:
        for host, bs in sorted(self.world.bindings.items()):
            for b in bs:
                yield host, b

    def lan_ip(self, host: str) -> str:
        return str(self.design.host(host).lan_address.ip)

    def host_position(self, p: Probe) -> tuple:
        """:meth:`PairProbes.position` of a probe via host (without laying out every address's place)."""
        if self._hosts is None:
            self._hosts = {h.name: i for i, h in enumerate(self.design.hosts)}
        return (self.source_index[p.source], 2, self._hosts.get(p.host, 0) if p.host is not None else 0, p.port, p.protocol)

    def earliest(self, groups: list[ProbeGroup]) -> Probe:
        """The first probe in matrix order of these groups via host (:meth:`first_of` each): at least
        where its class's first source dials the group's host port, exactly there when that probe is
        the group's; groups are probed from the earliest such place until one is exactly there."""
        def bound(g: ProbeGroup) -> tuple:
            sources = [s for s in self.class_members(g.source_class) if s in self.source_index]
            at = min((self.source_index[s] for s in sources), default=len(self.source_index))
            return (at, 2, self._hosts.get(g.host, 0) if g.host is not None and self._hosts else 0, g.port, g.protocol)

        self.host_position(groups[0].example)  # the hosts' places
        best: Probe | None = None
        for g in sorted(groups, key=bound):
            if best is not None and self.host_position(best) <= bound(g):
                break
            p = self.first_of(g)
            if best is None or self.host_position(p) < self.host_position(best):
                best = p
        assert best is not None  # groups is never empty
        return best

    def first_of(self, g: ProbeGroup) -> Probe:
        """The first probe of a group via host in matrix order: its source class's first member
        dialling the group's host port, when that is the group's outcome (the members of a class dial
        a host alike), else the group's example."""
        sources = [s for s in self.class_members(g.source_class) if s in self.source_index]
        if not sources or g.example.source == sources[0]:
            return g.example
        p = self.pairs.host(sources[0], g.host, g.port, g.protocol)
        if p is not None and p.disposition is g.disposition and p.responder == g.example.responder:
            return p
        return g.example

    def lan_probes(self) -> list[Probe]:
        """Every probe of the LAN peer, in matrix order, IPv4 then IPv6 (made once, on request; none
        without a LAN peer)."""
        if self._lan is None:
            v6 = self.result.v6
            sides = [self.pairs] + ([PairProbes(shared_matrix(v6))] if v6 is not None else [])
            self._lan = [p for pairs in sides if "external" in pairs.sources for p in pairs.from_source("external")]
        return self._lan

    def external_host_probes(self) -> list[Probe]:
        """The LAN peer's probes of the hosts' ports, in matrix order (one source: one probe per group)."""
        return sorted((g.example for g in self.groups if g.source_class == "external" and g.via == Via.HOST),
                      key=self.host_position)


class _Blank(dict):
    def __missing__(self, key: str) -> str:
        return f"<{key}>"


# --- the checks ---------------------------------------------------------------------------


def ns001_published_on_all_addresses(ctx: AuditContext):
    single = len(ctx.design.hosts) == 1
    answered = {(p.host, p.port, p.protocol): p for p in ctx.external_host_probes() if p.reachable}
    for host, b in ctx.bindings():
        if b.host_ip != ANY:
            continue
        proof = answered.get((None if single else host, b.host_port, b.protocol))
        if proof is None or proof.responder != b.container:
            continue
        both = ctx.world.v6 is not None and any(  # a dual-stack container: docker-proxy on [::] too (§18e)
            v.container == b.container and v.host_port == b.host_port and v.protocol == b.protocol and v.host_ip.is_unspecified
            for v in ctx.world.v6.bindings.get(host, ()))
        yield ctx.finding(
            "NS001", [b.container],
            f"{b.container} publishes {b.host_port}/{b.protocol} on 0.0.0.0 (every address of host {host})"
            + (" and on [::] (every IPv6 address too)" if both else ""),
            [], ctx.port_location(b), [proof], (b.container_port, b.protocol, b.network),
            lan_ip=ctx.lan_ip(host), host_port=b.host_port, container_port=b.container_port, network=b.network)


def ns002_published_port_bypasses_isolation(ctx: AuditContext):
    by_target: dict[tuple, list[ProbeGroup]] = defaultdict(list)
    outside: dict[tuple[str, str], bool] = {}  # (source class, responder) -> from other networks (alike for members)
    audiences = Audiences(ctx.result)
    for g in ctx.groups:  # every probe of such a group has the example's responder and audience
        p = g.example
        if g.via != Via.HOST or not g.reachable or not p.responder or not ctx.is_container_class(g.source_class):
            continue
        if ctx.design.container(p.responder).mode.kind is ModeKind.HOST:
            continue  # host mode: NS005
        key = (g.source_class, p.responder)
        if key not in outside:
            outside[key] = audiences(p) == "other networks"
        if outside[key]:
            by_target[(p.responder, p.port, p.protocol)].append(g)
    published = {(h, b.host_port, b.protocol): b for h, b in reversed(list(ctx.bindings()))}  # the first of each
    for (service, port, proto), groups in sorted(by_target.items()):
        others = sorted({s for g in groups for s in ctx.class_members(g.source_class)})
        first = ctx.earliest(groups)
        host = ctx.design.container(service).host
        b = published.get((host, port, proto))
        who = ", ".join(sorted(ctx.labels(others)))
        yield ctx.finding(
            "NS002", [service, *others],
            f"{who} reach{'es' if len(others) == 1 else ''} {service} through the host's published "
            f"port {port}/{proto} although they share no network with it",
            [], ctx.port_location(b) if b else ctx.container_location(service), [first],
            (b.container_port if b else port, proto, tuple(sorted({ctx.result.class_of(o).id for o in others}))),
            others=who, service=service, host_port=port, protocol=proto,
            container_port=b.container_port if b else port)


def ns003_direct_routing(ctx: AuditContext):
    def routed(network: str) -> bool:
        return ctx.design.has_network(network) and ctx.design.network(network).driver not in LINK_DRIVERS

    found: dict[tuple, list[Probe]] = defaultdict(list)
    done: set[tuple] = set()
    for g in ctx.groups:  # one source: each address's own probe, for the addresses its delivered groups cover
        if g.source_class != "external" or g.via != Via.IP or not g.reachable:
            continue
        for target, network in ctx.ip_items(g, routed):
            if (target, network, g.port, g.protocol) in done:
                continue
            done.add((target, network, g.port, g.protocol))
            p = ctx.pairs.ip("external", target, network, g.port, g.protocol)
            if p is not None and p.reachable:
                found[(target, network)].append(p)
    for (target, network), probes in sorted(found.items()):
        probes.sort(key=lambda p: (p.port, p.protocol))  # the matrix's order of one address's ports
        c = ctx.design.container(target)
        seg = ctx.world.addressing.segment_of(network, c.host)
        ports = ", ".join(sorted({f"{p.port}/{p.protocol}" for p in probes}))
        yield ctx.finding(
            "NS003", [target],
            f"a LAN peer reaches {target} at {probes[0].address} on {network} ({ports}) without going through "
            f"a published host address (engine {ctx.version})",
            [], ctx.container_location(target), [probes[0]], (network, ports),
            lan_if=ctx.design.host(c.host).lan_interface, subnet=seg.subnet if seg else network, host=c.host)


def ns004_loopback_binding_exposed(ctx: AuditContext):
    for host, b in ctx.bindings():
        if not b.host_ip.is_loopback:
            continue
        trace = lan_loopback_trace(ctx.world, host, b.host_port, b.protocol)
        if trace is None or not trace.delivered:
            continue
        ev = Evidence(f"LAN peer -> 127.0.0.1:{b.host_port}/{b.protocol} via host {host}'s MAC address",
                      f"{trace.disposition.value}: {trace.reason} (answered by {trace.responder})", trace)
        yield ctx.finding(
            "NS004", [b.container],
            f"{b.container} publishes {b.host_port}/{b.protocol} on 127.0.0.1, but engine {ctx.version} lets a host on "
            f"the LAN segment reach it (moby#45610)",
            [ev], ctx.port_location(b), alike=(b.container_port, b.protocol), protocol=b.protocol, host_port=b.host_port,
            host=host)


def ns005_host_network_mode(ctx: AuditContext):
    lan_probes = ctx.external_host_probes()
    for c in ctx.design.containers:
        if c.mode.kind is not ModeKind.HOST:
            continue
        proof = [p for p in lan_probes if p.responder == c.name]
        heard = ", ".join(f"{lst.port}/{lst.protocol.value}" for lst in c.listeners) or "nothing the design declares"
        what = (f"every port it listens on ({heard}) is open on every address of host {c.host}"
                if proof else f"it listens on {heard}, and would on every address of host {c.host}")
        yield ctx.finding("NS005", [c.name], f"{c.name} uses the host's network namespace: {what}",
                          [], ctx.container_location(c.name), proof[:4], (heard, bool(proof)),
                          service=c.name, lan_ip=ctx.lan_ip(c.host))


def on_default_bridge(design: Design) -> list[str]:
    """The containers attached to a default bridge, in design order."""
    return [c.name for c in design.containers
            if any(design.has_network(a.network) and design.network(a.network).default_bridge for a in c.attachments)]


def ns006_default_bridge(ctx: AuditContext):
    on = on_default_bridge(ctx.design)
    if not on:
        return
    on_set = set(on)

    def from_on(class_id: str | None) -> bool:  # a class is on the default bridge whole or not at all
        return ctx.is_container_class(class_id) and ctx.class_members(class_id)[0] in on_set

    proofs = []
    open_ = _first_between_others(ctx, [g for g in ctx.groups if g.via == Via.IP and g.reachable
                                         and from_on(g.source_class) and from_on(g.responder_class)], on_set)
    if open_ is not None:
        proofs.append(open_)
    nodns = _first_not_resolved(ctx, [g for g in ctx.groups if g.via == Via.DNS and from_on(g.source_class)
                                      and g.disposition is Disposition.NAME_NOT_RESOLVED])
    if nodns is not None:
        proofs.append(nodns)
    who = ctx.labels(on)
    yield ctx.finding("NS006", on, f"{', '.join(who)} {'is' if len(on) == 1 else 'are'} on the default bridge: "
                      "no name resolution, and every container there reaches every other on every port",
                      [], ctx.container_location(on[0]), proofs, service=on[0])


def _first_not_resolved(ctx: AuditContext, groups: list[ProbeGroup]) -> Probe | None:
    """The first probe in matrix order of these groups (names not resolved): the first source of
    their earliest source class looks up every name in order (a class's members resolve alike)."""
    firsts = [s for g in groups for s in ctx.class_members(g.source_class)[:1] if s in ctx.source_index]
    if not firsts:
        return None
    source = min(firsts, key=ctx.source_index.__getitem__)
    ports = {(g.port, g.protocol) for g in groups if source in ctx.class_members(g.source_class)}
    for name, name_ports in ctx.pairs.names():
        for port, proto in name_ports:
            if (port, proto) in ports:
                p = ctx.pairs.dns(source, name, port, proto)
                if p is not None and p.disposition is Disposition.NAME_NOT_RESOLVED:
                    return p
    return min((g.example for g in groups), key=ctx.pairs.position)


def _first_between_others(ctx: AuditContext, groups: list[ProbeGroup], on: set[str]) -> Probe | None:
    """The first probe via ip in matrix order, among these delivered groups, that one container's
    listener (of ``on``) answers for another container (not for itself): each source class dials
    the addresses its groups cover, source by source, until one has such a probe; classes in the
    order of their first source, until no later class can start earlier than what was found."""
    items: dict[str, dict[tuple, None]] = {}
    for g in groups:
        mine = items.setdefault(g.source_class, {})
        for t, n in ctx.ip_items(g):
            mine[(t, n, g.port, g.protocol)] = None
    first = {c: min(at) for c in items if (at := [ctx.source_index[s] for s in ctx.class_members(c) if s in ctx.source_index])}
    best: Probe | None = None
    for c in sorted(first, key=first.__getitem__):
        if best is not None and ctx.source_index[best.source] < first[c]:
            break
        for s in ctx.class_members(c):  # sources in matrix order: the first that has one
            if s not in ctx.source_index:
                continue
            found = [p for t, n, port, proto in items[c] if (p := ctx.pairs.ip(s, t, n, port, proto)) is not None
                     and p.reachable and p.responder not in (None, s) and p.responder in on]
            if found:
                p = min(found, key=ctx.ip_position)
                if best is None or ctx.ip_position(p) < ctx.ip_position(best):
                    best = p
                break
    return best


def _exposed_networks(ctx: AuditContext) -> dict[str, str]:
    """network -> why it is exposed (published ports, LAN driver)."""
    out: dict[str, str] = {}
    for _, b in ctx.bindings():
        out.setdefault(b.network, f"{b.container} publishes {b.host_port}/{b.protocol} there")
    for n in ctx.design.networks:
        if n.driver in LINK_DRIVERS and n.name not in out:
            out[n.name] = f"a {n.driver.value} network: its containers are on the LAN"
    return out


def ns007_multi_homed_across_trust(ctx: AuditContext):
    exposed = _exposed_networks(ctx)
    for c in ctx.design.containers:
        nets = [n for n in c.networks if ctx.design.has_network(n) and n != GWBRIDGE]
        if c.mode.kind is not ModeKind.NETWORKS or len(nets) < 2:
            continue
        open_ = [n for n in nets if n in exposed and not ctx.design.network(n).internal]
        closed = [n for n in nets if ctx.design.network(n).internal or n not in exposed]
        if not open_ or not closed:
            continue
        ev = [Evidence(f"network {n} is exposed", exposed[n]) for n in open_]
        inside = _first_inside(ctx, c.name, closed)
        soft = [n for n in closed if not ctx.design.network(n).internal]
        harden = f", and make {', '.join(soft)} internal: true" if soft else ""
        kinds = ", ".join(f"{n} ({'internal' if ctx.design.network(n).internal else 'nothing published'})" for n in closed)
        yield ctx.finding("NS007", [c.name], f"{c.name} joins exposed {', '.join(open_)} and protected {kinds}",
                          ev, ctx.container_location(c.name), [inside] if inside else [], (tuple(open_), tuple(closed)),
                          service=c.name, harden=harden)


def _first_inside(ctx: AuditContext, source: str, networks: list[str]) -> Probe | None:
    """The first probe via ip in matrix order from ``source`` to an address on one of ``networks``
    that another container answers."""
    found = []
    for network in networks:  # the first answered address of each network; then the earliest of them
        for place, (target, net, _, _, port, proto, _) in ctx.ip_targets_on(network):
            p = ctx.pairs.ip(source, target, net, port, proto)
            if p is not None and p.reachable and p.responder not in (None, source):
                found.append((place, p))
                break
    return min(found, key=lambda x: x[0])[1] if found else None


def ns008_published_port_ignored(ctx: AuditContext):
    warned: dict[str, Problem] = {}
    for warning in ctx.warnings:
        head = warning.path.split(".")
        if len(head) >= 3 and head[0] in ("containers", "services") and head[2].startswith("ports"):
            warned.setdefault(head[1], warning)
    for host, items in sorted(ctx.world.ignored_ports.items()):
        seen = set()
        for name, why in items:
            if "ephemeral" in why or name in seen:
                continue
            seen.add(name)
            w = warned.get(name)
            ev = [Evidence(f"engine on host {host}", why)]
            if w is not None:
                ev.append(Evidence("loader warning", str(w)))
            loc = w.location if w is not None else ctx.design.location("containers", name, "ports")
            yield ctx.finding("NS008", [name], f"{name} publishes ports that bind nothing: {why}", ev, loc, service=name)


def ns009_macvlan_host_unreachable(ctx: AuditContext):
    for c in ctx.design.containers:
        ns_id = ctx.world.ns_of.get(c.name)
        if ns_id is None or not ns_id.startswith("ctr:") or c.mode.kind is not ModeKind.NETWORKS:
            continue
        ns = ctx.world.namespaces[ns_id]
        port, proto = next(iter(sorted(ns.listeners)), (80, "tcp"))
        for iface in ns.interfaces.values():
            if iface.kind not in ("macvlan", "ipvlan") or iface.address is None or iface.network is None:
                continue
            t = walk(ctx.world, f"host:{c.host}", iface.address.ip, port, proto, c.host)
            if t.disposition is not Disposition.DROPPED_L2:
                continue
            net = ctx.design.network(iface.network)
            ev = Evidence(f"host {c.host} -> {c.name} at {iface.address.ip} on {iface.network}, {port}/{proto}",
                          f"{t.disposition.value}: {t.reason}", t)
            yield ctx.finding("NS009", [c.name], f"host {c.host} cannot reach {c.name} at {iface.address.ip} "
                              f"({net.driver.value} on {iface.parent})", [ev], ctx.container_location(c.name),
                              host=c.host, network=net.name, parent=iface.parent or "<parent>",
                              subnet=iface.address.network)


def ns010_ambiguous_name(ctx: AuditContext):
    matrix = ctx.pairs.matrix
    sources = ctx.pairs.sources
    first_on: dict[str, str] = {}  # network -> its first container (design order) that is a source
    for c in ctx.design.containers:
        if c.name in sources:
            for n in c.networks:
                first_on.setdefault(n, c.name)
    for network, table in sorted(matrix.names.by_network.items()):
        for name, records in sorted(table.items()):
            owners = sorted({ctr for _, ctr in records})
            if len(owners) < 2:
                continue
            asker = first_on.get(network)
            ev = []
            if asker is not None:
                res = matrix.names.resolve(sources[asker], name)
                ev.append(Evidence(f"{asker} looks up {name}", res.step.detail,
                                   lookup=(Hop(Place.of(sources[asker]), (res.step,)),)))
            yield ctx.finding("NS010", owners, f'"{name}" resolves to {", ".join(owners)} on {network}', ev,
                              ctx.container_location(owners[1]), alike=(name,), network=network, name=name,
                              carriers=", ".join(owners))


def ns011_unused_network(ctx: AuditContext):
    used = {a.network for c in ctx.design.containers for a in c.attachments}
    for n in ctx.design.networks:
        if n.name not in used and not n.default_bridge:
            yield ctx.finding("NS011", [], f"network {n.name} is declared but no container joins it", [],
                              ctx.design.location("networks", n.name), alike=(n.name,), network=n.name)


def ns012_surprising_subnet(ctx: AuditContext):
    segs = list(ctx.world.addressing.segments.values())
    for seg in sorted(segs, key=lambda s: (s.network, s.host or "")):
        if not ctx.design.has_network(seg.network):
            continue
        net = ctx.design.network(seg.network)
        if net.driver in LINK_DRIVERS:
            continue  # on the LAN by design
        hosts = [ctx.design.host(seg.host)] if seg.host else list(ctx.design.hosts)
        problems = []
        for h in hosts:
            if seg.subnet.overlaps(h.lan_address.network):
                problems.append((h.name, f"overlaps the LAN {h.lan_address.network} of host {h.name}"))
            problems += [(h.name, f"overlaps {r}, routed on host {h.name}") for r in h.routes if seg.subnet.overlaps(r)]
        if not seg.subnet.is_private:
            problems.append((hosts[0].name if hosts else "", "is not private address space (real internet addresses)"))
        if not problems:
            continue
        taken = [s.subnet for s in segs] + [h.lan_address.network for h in ctx.design.hosts] + \
                [r for h in ctx.design.hosts for r in h.routes]
        suggestion = next((s for s in IPv4Network("172.31.0.0/16").subnets(new_prefix=24)
                           if not any(s.overlaps(t) for t in taken)), "a free private /24")
        yield ctx.finding("NS012", [c.name for c in ctx.design.containers if seg.network in c.networks],
                          f"network {seg.network} subnet {seg.subnet} " + "; ".join(p for _, p in problems),
                          [Evidence(f"network {seg.network}", f"subnet {seg.subnet}, gateway {seg.gateway}")],
                          ctx.design.location("networks", seg.network, "subnet"), alike=(seg.network, seg.host),
                          host=problems[0][0], suggestion=suggestion)


CHECKS: dict[str, Callable[[AuditContext], Iterator[Finding]]] = {
    "NS001": ns001_published_on_all_addresses,
    "NS002": ns002_published_port_bypasses_isolation,
    "NS003": ns003_direct_routing,
    "NS004": ns004_loopback_binding_exposed,
    "NS005": ns005_host_network_mode,
    "NS006": ns006_default_bridge,
    "NS007": ns007_multi_homed_across_trust,
    "NS008": ns008_published_port_ignored,
    "NS009": ns009_macvlan_host_unreachable,
    "NS010": ns010_ambiguous_name,
    "NS011": ns011_unused_network,
    "NS012": ns012_surprising_subnet,
    "NS013": ns013_mesh_port_on_idle_nodes,
    "NS014": ns014_dnsrr_clients_cache,
    "NS015": ns015_mesh_hides_client_address,
    "NS016": ns016_replicas_on_one_node,
    "NS017": ns017_ipv6_reaches_what_ipv4_does_not,
    "NS018": ns018_ip6tables_unmanaged,
    "NS019": ns019_internal_network_open_over_ipv6,
    "NS020": ns020_ipv6_forwarding_left_on,
}
