"""Audit checks of IPv6 (NS017-NS020): what a reviewer raises about dual-stack designs.

Like every check (:mod:`.checks`), each reads the model and yields findings with their proof: the
LAN peer's (or a container's) probes over IPv6 that the engine's rules let through, or, for the
forwarding sysctls, what the engine does to the host when it creates an IPv6 network
(docs/confirmed-rules.md §18).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from ..analysis.exposure import service_port
from ..analysis.probes import Probe, Via
from ..engine.rules import Binding, ip6tables_managed
from ..engine.trace import host_port
from ..engine.versions import EngineVersion
from ..intent.model import Evidence
from ..model import Design

if TYPE_CHECKING:
    from .checks import AuditContext
    from .finding import Finding

SOURCE_FORWARDING = ("https://github.com/moby/moby/blob/v20.10.24/vendor/github.com/docker/libnetwork/drivers/bridge/"
                     "setup_ipv6.go")


def ipv6_networks(ctx: AuditContext) -> dict[str, list[str]]:
    """Host -> the networks with an IPv6 side there (:attr:`World.addressing` segments6), in order;
    an overlay counts on every host that runs one of its containers."""
    out: dict[str, list[str]] = {}
    addressing = ctx.world.addressing
    for (network, host) in addressing.segments6:
        hosts = [host] if host is not None else sorted({c.host for c in ctx.design.containers if network in c.networks})
        for h in hosts:
            out.setdefault(h, [])
            if network not in out[h]:
                out[h].append(network)
    return out


def _v6_containers(design: Design, ctx: AuditContext, host: str, networks: list[str]) -> list[str]:
    """The containers of ``host`` with an IPv6 address on one of ``networks``, in design order."""
    addressing = ctx.world.addressing
    return [c.name for c in design.containers if c.host == host
            and any(addressing.endpoint6(c.name, n) is not None for n in networks)]


def _lan_probes6(ctx: AuditContext) -> list[Probe]:
    """The LAN peer's delivered probes over IPv6, in matrix order."""
    return [p for p in ctx.lan_probes() if p.family == 6 and p.reachable and p.responder]


def _published(ctx: AuditContext, container: str, port: int, protocol: str, family: int = 4) -> list[Binding]:
    """The engine's publications of a container port on the host's addresses of ``family``."""
    world = ctx.world.v6 if family == 6 else ctx.world
    if world is None:
        return []
    c = ctx.design.container(container)
    return [b for b in world.bindings.get(c.host, ())
            if b.container == container and b.container_port == port and b.protocol == protocol]


def ns017_ipv6_reaches_what_ipv4_does_not(ctx: AuditContext) -> Iterator[Finding]:
    """A listener the LAN peer reaches over IPv6 and not over IPv4."""
    if not ctx.world.addressing.segments6:
        return
    families: dict[tuple[str, int, str], set[int]] = {}
    first6: dict[tuple[str, int, str], Probe] = {}
    for p in ctx.lan_probes():
        if not p.reachable or p.responder is None or not ctx.design.has_container(p.responder):
            continue
        key = (p.responder, service_port(ctx.result, p), p.protocol)
        families.setdefault(key, set()).add(p.family)
        if p.family == 6:
            first6.setdefault(key, p)
    for key, fams in families.items():
        container, port, proto = key
        if fams != {6} or any(not b.host_ip.is_loopback for b in _published(ctx, container, port, proto, 6)):
            continue  # reached over IPv4 too, or published on the host's IPv6 addresses on purpose
        p = first6[key]
        c = ctx.design.container(container)
        host = ctx.design.host(c.host)
        bound = [host_port(b.host_ip, b.host_port) for b in _published(ctx, container, port, proto)]
        v4 = (f"published only on {', '.join(bound)}" if bound else "not published") + ", so IPv4 does not get in"
        how = f"at {p.address}" + (f" on {p.network}" if p.network else "") + f" ({p.via})"
        seg = ctx.world.addressing.segment6_of(p.network, c.host) if p.network else None
        yield ctx.finding(
            "NS017", [container],
            f"a LAN peer reaches {container} {port}/{proto} over IPv6 {how}; over IPv4 it is {v4}",
            [], ctx.container_location(container), [p], (port, proto, p.via),
            service=container, port=port, host=host.name, lan_if=host.lan_interface,
            subnet6=seg.subnet if seg else "<its IPv6 subnet>", fix_ip6tables=_ip6tables_fix(ctx.version))


def _ip6tables_fix(version: EngineVersion) -> str:
    """How to turn on the engine's ip6tables rules (daemon.json keys)."""
    if version.ip6tables_needs_experimental:
        return '"ip6tables": true, "experimental": true'
    return '"ip6tables": true'


def ns018_ip6tables_unmanaged(ctx: AuditContext) -> Iterator[Finding]:
    """IPv6 networks on a host whose engine writes no ip6tables rules."""
    for host_name, networks in sorted(ipv6_networks(ctx).items()):
        host = ctx.design.host(host_name)
        if ip6tables_managed(host, ctx.version):
            continue
        services = _v6_containers(ctx.design, ctx, host_name, networks)
        if not services:
            continue
        on_host = set(services)
        lan6 = _lan_probes6(ctx)
        proof = next((p for p in lan6 if p.via == Via.IP and p.responder in on_host  # a port published on no address
                      and not _published(ctx, p.responder, p.port, p.protocol)
                      and not _published(ctx, p.responder, p.port, p.protocol, 6)), None)
        proof = proof or next((p for p in lan6 if p.responder in on_host), None)
        icc_off = [n for n in networks if ctx.design.has_network(n) and not ctx.design.network(n).icc]
        lost = "isolation between networks, internal networks"
        lost += f", enable_icc: false on {', '.join(icc_off)}" if icc_off else ""
        setting = "ip6tables: false" if host.daemon.ip6tables is False else f"ip6tables left at engine {host.engine_version}'s default (off)"
        ev = [Evidence(f"host {host_name} daemon", f"{setting}; IPv6 on {', '.join(networks)}")]
        yield ctx.finding(
            "NS018", services,
            f"host {host_name}'s engine writes no ip6tables rules ({setting}) while {', '.join(networks)} "
            f"{'has' if len(networks) == 1 else 'have'} IPv6: over IPv6 there is no {lost}, and the LAN reaches "
            "every port of every container's IPv6 address",
            ev, ctx.design.location("hosts", host_name), [proof] if proof else [], (host_name,),
            host=host_name, fix_ip6tables=_ip6tables_fix(ctx.version), lan_if=host.lan_interface)


def ns019_internal_network_open_over_ipv6(ctx: AuditContext) -> Iterator[Finding]:
    """An internal network with IPv6 on a host whose engine writes no ip6tables rules."""
    for host_name, networks in sorted(ipv6_networks(ctx).items()):
        host = ctx.design.host(host_name)
        if ip6tables_managed(host, ctx.version):
            continue
        for network in networks:
            if not ctx.design.has_network(network) or not ctx.design.network(network).internal:
                continue
            members = _v6_containers(ctx.design, ctx, host_name, [network])
            if not members:
                continue
            inside = set(members)
            lan6 = _lan_probes6(ctx)  # an address on the network itself first
            proof = next((p for p in lan6 if p.responder in inside and p.network == network), None) or \
                next((p for p in lan6 if p.responder in inside), None)
            seg = ctx.world.addressing.segment6_of(network, host_name)
            yield ctx.finding(
                "NS019", members,
                f"internal network {network} has IPv6 ({seg.subnet if seg else 'enable_ipv6'}) on host {host_name}, "
                "whose engine writes no ip6tables rules: over IPv6 its containers reach and are reached from "
                "other networks and the LAN",
                [Evidence(f"network {network}", f"internal: true, enable_ipv6: true; host {host_name}: ip6tables off")],
                ctx.design.location("networks", network), [proof] if proof else [], (network, host_name),
                network=network, host=host_name, fix_ip6tables=_ip6tables_fix(ctx.version))


def ns020_ipv6_forwarding_left_on(ctx: AuditContext) -> Iterator[Finding]:
    """A host where the engine turns on IPv6 forwarding (and never turns it off)."""
    for host_name, networks in sorted(ipv6_networks(ctx).items()):
        host = ctx.design.host(host_name)
        services = _v6_containers(ctx.design, ctx, host_name, networks)
        if not services:
            continue
        ev = Evidence(f"engine {host.engine_version} on host {host_name}, creating {networks[0]} (IPv6)",
                      "sets net.ipv6.conf.all.forwarding and net.ipv6.conf.default.forwarding to 1, and through "
                      f"'all' every interface's forwarding ({host.lan_interface} included); it never writes 0 back "
                      f"(setupIPv6Forwarding, {SOURCE_FORWARDING})")
        yield ctx.finding(
            "NS020", services,
            f"host {host_name} forwards IPv6 between all its interfaces from the first IPv6 network "
            f"({', '.join(networks)}) on, and keeps doing so after the networks are gone",
            [ev], ctx.design.location("hosts", host_name), alike=(host_name,), host=host_name,
            lan_if=host.lan_interface)
