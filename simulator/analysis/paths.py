"""Paths on request: every way one source can dial one target, each with its full trace."""

from __future__ import annotations

from collections.abc import Iterator
from ipaddress import ip_address

from ..engine.dns import NameTable
from ..engine.topology import EXTERNAL, Namespace, World, build_world
from ..engine.trace import Address, Disposition, DnsStep, RouteOutcome, RouteStep, Step, Trace
from ..engine.walk import walk
from ..errors import QueryError
from ..model import Design
from .probes import Probe, Via
from .reachability import LOCALHOST, LOCALHOST6, Matrix, ReachResult, after_lookup, dns_hop


def trace_between(design: Design, source: str, target: str, port: int | None, protocol: str | None = "tcp",
                  engine_version: str | None = None, family: int | None = None) -> list[tuple[str, Trace]]:
    """:func:`traces_in` a world built here from ``design`` under ``engine_version`` (for a caller
    holding a design only; a command passes the world it built once to :func:`traces_in`)."""
    return traces_in(build_world(design, engine_version), source, target, port, protocol, family)


def traces_in(world: World, source: str, target: str, port: int | None,
              protocol: str | None = "tcp", family: int | None = None) -> list[tuple[str, Trace]]:
    """Full traces from ``source`` to ``target`` (a container, a name, an address, or ``host``).

    Without a ``port``: the target's listeners of ``protocol`` (None: of either protocol).
    ``family`` 6: over IPv6 (the container's IPv6 addresses, the name's AAAA records, the host's
    IPv6 addresses); None: IPv6 when ``target`` is an IPv6 address, else IPv4.
    """
    world = family_world(world, target, family)
    design = world.design
    names = NameTable(world)  # the names a trace looks up (the matrix's own table, without the matrix)
    ns = _source(world, source)
    if ns is None:
        from ..loaders.yamlsource import did_you_mean

        srcs = dict(Matrix(world).sources())
        raise QueryError(f"unknown source {source!r}{did_you_mean(source, srcs)}; choose one of: {', '.join(sorted(srcs))}")
    dials: list[tuple[str, Address | None, list[DnsStep]]] = []
    if design.has_container(target):
        owner_ns_id = world.ns_of.get(target)
        if owner_ns_id is None:
            raise QueryError(f"{target} has no network namespace of its own")
        owner_ns = world.namespaces[owner_ns_id]
        if owner_ns.kind == "host":
            assert owner_ns.host is not None  # a host namespace is its host's
            dials.append((f"{target} (host network) at the host's address", _host_address(world, ns, owner_ns.host), []))
        else:
            for ep in world.addressing.endpoints_of(owner_ns.members[0]):
                dials.append((f"{target} on {ep.network} ({ep.address})", ep.address, []))
        c = design.container(target)
        res = names.resolve(ns, c.service or c.engine_name)
        own = [addr for addr, ctr, _ in res.records if ctr == target] if res.resolved else []
        dials.append((f"name {res.name}", (own or [res.records[0][0]])[0] if res.resolved else None, [res.step]))
    elif target in ("host",) or any(h.name == target for h in design.hosts):
        host = design.hosts[0].name if target == "host" else target
        dials.append((f"host {host}", _host_address(world, ns, host), []))
    else:
        try:
            dials.append((target, ip_address(target), []))
        except ValueError:
            res = names.resolve(ns, target)
            if not any(target.lower() in t for t in names.by_network.values()):
                from ..loaders.yamlsource import did_you_mean

                known = [c.name for c in design.containers] + [h.name for h in design.hosts]
                known += [n for by_name in names.by_network.values() for n in by_name]
                raise QueryError(f"{target!r} is neither a container, a host, an address nor a name of the design"
                                 f"{did_you_mean(target, known)}") from None
            dials.append((f"name {target}", res.records[0][0] if res.resolved else None, [res.step]))
    if port:
        ports = [(port, protocol or "tcp")]
    else:
        ports = [p for p in _default_ports(world, target) if protocol in (None, p[1])]
        if not ports:
            raise QueryError(f"{target!r} has no {protocol} listener: name the port, {target}:PORT")
    out = []
    for label, addr, pre in dials:
        for p, proto in ports:
            if addr is None:
                step: Step = pre[0] if pre else RouteStep(RouteOutcome.NO_ADDRESS)
                disp = Disposition.NAME_NOT_RESOLVED if pre else Disposition.NO_ROUTE
                out.append((f"{label} port {p}/{proto}", Trace((dns_hop(ns, step),), disp, step.detail)))
                continue
            t = walk(world, ns.id, addr, p, proto, None)
            if pre:
                t = Trace(after_lookup(ns, pre[0], t.hops), t.disposition, t.reason, t.responder)
            out.append((f"{label} port {p}/{proto}", t))
    return out


def _source(world: World, name: str) -> Namespace | None:
    """The namespace of the source ``name`` as :meth:`Matrix.sources` names them (a later entry there
    wins: the external peer, then a host, then a container), without laying out every source's."""
    design = world.design
    if name == "external":
        return world.namespaces[EXTERNAL]
    if len(design.hosts) == 1:
        if name == "host":
            return world.host_ns(design.hosts[0].name)
    elif design.has_host(name):
        return world.host_ns(name)
    if design.has_container(name) and name in world.ns_of:
        return world.namespace_of(name)
    return None


def family_world(world: World, target: str, family: int | None) -> World:
    """The side of ``world`` a query of ``family`` reads (None: IPv6 for an IPv6 address ``target``)."""
    try:
        version = ip_address(target).version
    except ValueError:
        version = None
    if family is not None and version is not None and version != family:
        raise QueryError(f"{target} is an IPv{version} address, not IPv{family}")
    if (family or version or 4) == 4:
        return world.ipv4 or world
    base = world.ipv4 or world
    six = base.v6
    if six is None:
        raise QueryError(f"design {world.design.name!r} has no IPv6 (no dual-stack network, no host IPv6 address): "
                         "nothing to trace over IPv6")
    six.lay_out_on_demand()  # laid out as far as the trace reads (nothing when already laid out)
    return six


def _host_address(world: World, ns: Namespace, host: str) -> Address | None:
    """The address ``ns`` dials a host at (:meth:`Matrix._host_dials`): its loopback address from the
    host itself, a container's gateway (over IPv6 its host's LAN address), the LAN address from elsewhere."""
    h = world.design.host(host)
    lan = h.lan_address if world.family == 4 else h.lan_address6
    if ns.kind == "host" and ns.host == host:
        return LOCALHOST if world.family == 4 else LOCALHOST6
    if ns.kind == "container" and ns.host == host:
        default = next((r for r in ns.routes if r.dest.prefixlen == 0), None)
        if default is None or world.family == 4:
            return default.via if default else None
        return lan.ip if lan is not None else default.via
    return lan.ip if lan is not None else None


def _default_ports(world: World, target: str) -> list[tuple[int, str]]:
    if world.design.has_container(target):
        ns_id = world.ns_of.get(target)
        if ns_id:
            return sorted(world.namespaces[ns_id].listeners) or [(80, "tcp")]
    ports = set()
    for bs in world.bindings.values():
        ports |= {(b.host_port, b.protocol) for b in bs}
    return sorted(ports) or [(80, "tcp")]


def shared_matrix(result: ReachResult) -> Matrix:
    """The matrix behind ``result``: its walks are the ones :meth:`ReachResult.groups` already made
    (ReachResult keeps it privately; this is the one place outside it that asks for it)."""
    return result._matrix()


def probes_given(result: ReachResult) -> bool:
    """Whether ``result`` carries probes given to it (``dataclasses.replace(result, probes=...)``:
    observations, a filtered matrix) rather than its matrix's: then only its probes say what is
    reachable, and a probe made again from the matrix would not."""
    return result.__dict__.get("_given") is not None


class PairProbes:
    """Exact probes of the matrix one at a time, on one :class:`Matrix`'s shared walks: the probes
    of one source, or of one source to one target, without computing every source's.

    Each probe is the one :meth:`Matrix.iter_probes` makes for the same source and target (a test
    compares them, source by source); consumers that need a few probes (exposure's proofs, audit,
    intent) ask here instead of walking the whole matrix.
    """

    def __init__(self, matrix: Matrix):
        self.matrix = matrix
        self.world = matrix.world
        self.sources = dict(matrix.sources())
        self._targets: list[tuple] | None = None
        self._names: list[tuple[str, list[tuple[int, str]]]] | None = None
        self._host_ports: dict[str, list[tuple[int, str]]] | None = None
        self._places: dict[str, dict] | None = None

    def ip_targets(self) -> list[tuple]:
        """(target, network, address, address text, port, protocol, host) in matrix order."""
        if self._targets is None:
            self._targets = self.matrix._ip_targets()
        return self._targets

    def names(self) -> list[tuple[str, list[tuple[int, str]]]]:
        """Every name the matrix looks up, with its ports, in matrix order."""
        if self._names is None:
            self._names = self.matrix._names()
        return self._names

    def position(self, p: Probe) -> tuple:
        """Where ``p`` stands in matrix order: its source's place, then (ip, dns, host) and its place
        among that source's probes of that way."""
        if self._places is None:
            hosts = {h.name: i for i, h in enumerate(self.world.design.hosts)}
            self._places = {
                "source": {name: i for i, name in enumerate(self.sources)},
                "ip": {(t, n, port, proto): i for i, (t, n, _, _, port, proto, _) in enumerate(self.ip_targets())},
                "name": {name: i for i, (name, _) in enumerate(self.names())},
                "host": {**hosts, None: 0},
            }
        places = self._places
        if p.via == Via.IP:
            return (places["source"][p.source], 0, places["ip"][(p.target, p.network, p.port, p.protocol)])
        if p.via == Via.DNS:
            return (places["source"][p.source], 1, places["name"][p.name], p.port, p.protocol)
        return (places["source"][p.source], 2, places["host"][p.host], p.port, p.protocol)

    def ip(self, source: str, target: str, network: str, port: int, proto: str) -> Probe | None:
        """``source`` dialling ``target``'s address on ``network`` (None: no such address)."""
        ns = self.sources.get(source)
        owner_ns = self.world.namespaces.get(self.world.ns_of.get(target, ""))
        if ns is None or owner_ns is None or owner_ns.kind != "container":
            return None
        ep = self.world.addressing.endpoint(owner_ns.members[0], network)
        if ep is None:
            return None
        t = self.matrix.probe(ns, ep.address, port, proto, self.matrix._host_of(target))
        return self.matrix._make(source, Via.IP, port, proto, t, target=target, network=network, address=str(ep.address))

    def dns(self, source: str, name: str, port: int, proto: str) -> Probe | None:
        """``source`` looking ``name`` up and dialling the first address (None: not a source)."""
        ns = self.sources.get(source)
        if ns is None:
            return None
        return self.matrix._dns_probe(source, ns, name, self.matrix.names.resolve(ns, name), port, proto)

    def host(self, source: str, host: str | None, port: int, proto: str) -> Probe | None:
        """``source`` dialling a Docker host's port (``host``: the host's name in designs of several,
        None in one-host designs), None when the source does not dial that host."""
        ns = self.sources.get(source)
        if ns is None:
            return None
        m = self.matrix
        if self._host_ports is None:
            self._host_ports = m._host_ports()
        for host_name, dial, ports in m._host_dials(source, ns, self._host_ports):
            if host_name != host or (port, proto) not in ports:
                continue
            return m.host_probe(source, ns, host_name, dial, port, proto)
        return None

    def retrace(self, p: Probe) -> Trace | None:
        """:meth:`Matrix.retrace` without listing every source per call: ``p`` walked again on its
        own (on a matrix with traces: its full trace); None when it cannot be redone alone."""
        ns = self.sources.get(p.source)
        if ns is None:
            return None
        if p.via == Via.DNS and p.name:
            return self.matrix._dns_probe(p.source, ns, p.name, self.matrix.names.resolve(ns, p.name), p.port, p.protocol).trace
        if p.address is None:
            return None
        prefer = self.matrix._host_of(p.target) if p.via == Via.IP else p.host
        return self.matrix.probe(ns, ip_address(p.address), p.port, p.protocol, prefer)

    def from_source(self, source: str) -> Iterator[Probe]:
        """Every probe of one source, in matrix order (as :meth:`Matrix.iter_probes` makes them)."""
        ns = self.sources.get(source)
        if ns is None:
            return
        m = self.matrix
        for target, network, addr, addr_text, port, proto, hint in self.ip_targets():
            t = m.probe(ns, addr, port, proto, hint)
            yield m._make(source, Via.IP, port, proto, t, target=target, network=network, address=addr_text)
        for name, ports in self.names():
            res = m.names.resolve(ns, name)
            if not res.resolved and m.family != 4:
                continue  # over IPv6, only the names that get an AAAA answer (as Matrix.probes_of)
            for port, proto in ports:
                yield m._dns_probe(source, ns, name, res, port, proto)
        if self._host_ports is None:
            self._host_ports = m._host_ports()
        yield from m.host_probes(source, ns, self._host_ports)
