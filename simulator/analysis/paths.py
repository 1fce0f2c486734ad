"""Paths on request: every way one source can dial one target, each with its full trace."""

from __future__ import annotations

from ipaddress import IPv4Address

from ..engine.topology import Namespace, World, build_world
from ..engine.trace import Disposition, DnsStep, RouteOutcome, RouteStep, Step, Trace
from ..engine.walk import walk
from ..errors import QueryError
from ..model import Design
from .reachability import LOCALHOST, Matrix, after_lookup, dns_hop


def trace_between(design: Design, source: str, target: str, port: int | None, protocol: str | None = "tcp",
                  engine_version: str | None = None) -> list[tuple[str, Trace]]:
    """:func:`traces_in` a world built here from ``design`` under ``engine_version`` (for a caller
    holding a design only; a command passes the world it built once to :func:`traces_in`)."""
    return traces_in(build_world(design, engine_version), source, target, port, protocol)


def traces_in(world: World, source: str, target: str, port: int | None,
              protocol: str | None = "tcp") -> list[tuple[str, Trace]]:
    """Full traces from ``source`` to ``target`` (a container, a name, an address, or ``host``).

    Without a ``port``: the target's listeners of ``protocol`` (None: of either protocol).
    """
    design = world.design
    matrix = Matrix(world, with_traces=True)
    srcs = dict(matrix.sources())
    if source not in srcs:
        from ..loaders.yamlsource import did_you_mean

        raise QueryError(f"unknown source {source!r}{did_you_mean(source, srcs)}; choose one of: {', '.join(sorted(srcs))}")
    ns = srcs[source]
    dials: list[tuple[str, IPv4Address | None, list[DnsStep]]] = []
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
        res = matrix.names.resolve(ns, c.service or c.engine_name)
        dials.append((f"name {res.name}", res.records[0][0] if res.resolved else None, [res.step]))
    elif target in ("host",) or any(h.name == target for h in design.hosts):
        host = design.hosts[0].name if target == "host" else target
        dials.append((f"host {host}", _host_address(world, ns, host), []))
    else:
        try:
            dials.append((target, IPv4Address(target), []))
        except ValueError:
            res = matrix.names.resolve(ns, target)
            if not any(target.lower() in t for t in matrix.names.by_network.values()):
                from ..loaders.yamlsource import did_you_mean

                known = [c.name for c in design.containers] + [h.name for h in design.hosts]
                known += [n for names in matrix.names.by_network.values() for n in names]
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


def _host_address(world: World, ns: Namespace, host: str) -> IPv4Address | None:
    if ns.kind == "host" and ns.host == host:
        return LOCALHOST
    if ns.kind == "container" and ns.host == host:
        default = next((r for r in ns.routes if r.dest.prefixlen == 0), None)
        return default.via if default else None
    return world.design.host(host).lan_address.ip


def _default_ports(world: World, target: str) -> list[tuple[int, str]]:
    if world.design.has_container(target):
        ns_id = world.ns_of.get(target)
        if ns_id:
            return sorted(world.namespaces[ns_id].listeners) or [(80, "tcp")]
    ports = set()
    for bs in world.bindings.values():
        ports |= {(b.host_port, b.protocol) for b in bs}
    return sorted(ports) or [(80, "tcp")]
