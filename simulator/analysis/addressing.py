"""The addressing view: each container's interfaces, addresses, gateway, names and ports.

A dual-stack interface shows its IPv6 address, subnet and gateway beside the IPv4 ones
(:mod:`simulator.engine.ipam6`); the JSON form adds ``address6``, ``subnet6`` and ``gateway6``
(null on an IPv4-only interface) and keeps every other field as it was."""

from __future__ import annotations

from dataclasses import dataclass

from ..engine.ipam import GWBRIDGE
from ..engine.topology import World
from ..engine.trace import host_port
from ..model import ModeKind


@dataclass(frozen=True, slots=True)
class InterfaceRow:
    interface: str
    network: str
    address: str
    subnet: str
    gateway: str | None
    names: tuple[str, ...]
    address6: str | None = None
    subnet6: str | None = None
    gateway6: str | None = None

    @property
    def addresses(self) -> str:
        """The address cell of a table: IPv4, and IPv6 on a second line when the interface has one."""
        return f"{self.address}\n{self.address6}" if self.address6 else self.address

    @property
    def gateways(self) -> str:
        """The gateway cell of a table: IPv4 (or -), and the IPv6 gateway on a second line."""
        return f"{self.gateway or '-'}\n{self.gateway6}" if self.gateway6 else self.gateway or "-"


@dataclass(frozen=True, slots=True)
class ContainerAddressing:
    container: str
    host: str
    mode: str
    interfaces: tuple[InterfaceRow, ...]
    default_route: str | None
    published: tuple[str, ...]
    notes: tuple[str, ...]

    def to_json(self) -> dict:
        return {
            "container": self.container, "host": self.host, "mode": self.mode,
            "interfaces": [
                {"interface": r.interface, "network": r.network, "address": r.address, "subnet": r.subnet,
                 "gateway": r.gateway, "names": list(r.names), "address6": r.address6, "subnet6": r.subnet6,
                 "gateway6": r.gateway6} for r in self.interfaces
            ],
            "default_route": self.default_route, "published": list(self.published), "notes": list(self.notes),
        }


def compute_addressing(world: World) -> list[ContainerAddressing]:
    design = world.design
    rows = []
    for c in design.containers:
        notes: list[str] = []
        ns_id = world.ns_of.get(c.name)
        if c.mode.kind is ModeKind.HOST:
            notes.append(f"shares host {c.host}'s network namespace: listens on every host address")
        if c.mode.kind is ModeKind.CONTAINER:
            notes.append(f"shares the network namespace of {c.mode.target}")
        if c.task_of:
            vips = [f"{vip} on {net}" for (svc, net), vip in world.addressing.vips.items() if svc == c.task_of]
            notes.append(f"a task of swarm service {c.task_of}" + (f"; {c.task_of} resolves to its virtual IP "
                                                                     f"{', '.join(vips)}" if vips else ""))
        ifaces: list[InterfaceRow] = []
        default = None
        if ns_id and ns_id.startswith("ctr:"):
            ns = world.namespaces[ns_id]
            owner = design.container(ns.members[0])
            for iface in ns.interfaces.values():
                if iface.network is None or iface.address is None:
                    continue
                seg = world.addressing.segment_of(iface.network, c.host)
                att = owner.attachment(iface.network)
                named = iface.network != GWBRIDGE and not design.network(iface.network).default_bridge \
                    and not design.network(iface.network).ingress  # no embedded DNS names there
                names = owner.dns_names(att) if att and named else ()
                if c.mode.kind is ModeKind.CONTAINER:
                    names = ()
                ep6 = world.addressing.endpoint6(owner.name, iface.network)
                seg6 = world.addressing.segment6_of(iface.network, c.host) if ep6 else None
                ifaces.append(InterfaceRow(iface.name, iface.network, str(iface.address), str(seg.subnet) if seg else "",
                                           str(seg.gateway) if seg and seg.gateway else None, tuple(names),
                                           str(ep6) if ep6 else None, str(seg6.subnet) if seg6 else None,
                                           str(seg6.gateway) if seg6 and seg6.gateway else None))
            route = next((r for r in ns.routes if r.dest.prefixlen == 0), None)
            if route is not None:
                default = f"via {route.via} dev {route.iface}" if route.via else f"dev {route.iface}"
        six = world.v6  # a dual-stack design: the publications on the host's IPv6 addresses too
        published = tuple(
            f"{host_port(b.host_ip, b.host_port)}->{b.container_port}/{b.protocol} ({b.network})"
            for side in (world, six) if side is not None for b in side.bindings.get(c.host, ()) if b.container == c.name
        )
        notes.extend(f"ports ignored: {why}" for name, why in world.ignored_ports.get(c.host, ()) if name == c.name)
        rows.append(ContainerAddressing(c.name, c.host, str(c.mode), tuple(ifaces), default, published, tuple(notes)))
    return rows
