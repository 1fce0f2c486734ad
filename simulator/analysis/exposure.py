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
from .probes import Probe
from .reachability import ReachResult


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


def compute_exposure(result: ReachResult) -> list[Exposure]:
    seen: dict[tuple, Exposure] = {}
    for p in result.probes:
        if not p.reachable or p.responder is None:
            continue
        who = audience(result, p)
        if who is None:
            continue
        kind, through = _through(result, p)
        key = (p.responder, p.port, p.protocol, who, through)
        if key not in seen:
            seen[key] = Exposure(p.responder, p.port, p.protocol, who, through,
                                 f"{p.source} -> {p.address}:{p.port}/{p.protocol} ({p.via})", kind)
    order = {"external": 0, "other networks": 1, "host": 2}
    return sorted(seen.values(), key=lambda e: (e.container, order[e.audience], e.port, e.protocol, e.through))
