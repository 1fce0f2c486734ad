"""Swarm services as the diagram and the report show them, read from the design and its world.

For each service: its mode (replicated N, global), endpoint mode and virtual IPs, where its tasks run
and how many stay pending, its placement constraints, and its published ports with the nodes that
bind each one: a host-mode port on the nodes that run a task (as ``docker run -p``), an ingress-mode
port through the routing mesh on every node whose kernel has IPVS and on none other (the engine binds
nothing without it: docs/confirmed-rules.md §17e, docs/modes/swarm-services.md).
"""

from __future__ import annotations

from dataclasses import dataclass

from ..engine.ipam import network_hosts
from ..engine.topology import World
from ..model import SWARM_INGRESS, Design, PortMapping, SwarmService

MESH_HOW = ("routing mesh: open on every node with IPVS, balanced over every task; the task sees the "
            "ingress sandbox's address as the source (the client's address is lost)")
NODES_LISTED = 6  # nodes named in one line, at most (then how many more)
TASKS_LISTED = 6  # task slots named for one node, at most


@dataclass(frozen=True, slots=True)
class IngressPort:
    """A port published in ingress mode: the nodes whose routing mesh opens it, the nodes that bind
    nothing (their kernel has no IPVS)."""

    mapping: PortMapping
    open_on: tuple[str, ...]
    unbound_on: tuple[str, ...]

    @property
    def text(self) -> str:
        return port_text(self.mapping)


@dataclass(frozen=True, slots=True)
class HostPort:
    """A port published in host mode and the nodes that bind it (those running a task)."""

    text: str  # "7001 → 7000/tcp"
    nodes: tuple[str, ...]
    loopback: bool = False  # bound on 127.0.0.1 only: not reachable from the LAN


@dataclass(frozen=True, slots=True)
class ServiceView:
    """One swarm service as a reader sees it; ``no_ipvs``: nodes of its networks whose kernel has no
    IPVS, where a connection to its virtual IP gets no route to host."""

    name: str
    global_mode: bool
    replicas: int  # tasks asked for: placed and pending (global: the nodes it runs on)
    endpoint_mode: str
    vips: tuple[tuple[str, str], ...]  # (network, virtual IP)
    networks: tuple[str, ...]
    placement: tuple[tuple[str, tuple[str, ...]], ...]  # (node, its tasks' names), in the design's host order
    pending: int
    constraints: tuple[str, ...]
    ingress: tuple[IngressPort, ...]
    host_ports: tuple[HostPort, ...]
    no_ipvs: tuple[str, ...]

    @property
    def mode_text(self) -> str:
        if self.global_mode:
            return f"global ({len(self.placement)} node{'s' * (len(self.placement) != 1)})"
        return f"replicated {self.replicas}"

    @property
    def endpoint_text(self) -> str:
        if self.endpoint_mode == "dnsrr":
            return f"dnsrr: {self.name} resolves to every task's address (no virtual IP)"
        vips = ", ".join(f"{vip} on {net}" for net, vip in self.vips) or "none allocated"
        caveat = f" (no IPVS on {nodes_text(self.no_ipvs)}: the VIP answers nobody there)" if self.no_ipvs else ""
        return f"vip {vips}{caveat}"

    @property
    def pending_text(self) -> str:
        """How many tasks stay pending and why ("" when none)."""
        if not self.pending:
            return ""
        return f"{self.pending} task(s) pending: no node can take them (constraints, max per node)"

    def placement_lines(self) -> list[str]:
        """Which node runs which tasks."""
        out = []
        if self.global_mode:
            out.append(f"tasks on {nodes_text(tuple(n for n, _ in self.placement)) or 'no node'}")
        else:
            for node, tasks in self.placement[:NODES_LISTED]:
                out.append(f"on {node}: {tasks_text(tasks)}")
            if len(self.placement) > NODES_LISTED:
                out.append(f"… and {len(self.placement) - NODES_LISTED} more node(s)")
        return out

    def port_lines(self) -> list[str]:
        """Each published port and where it is bound (``⚠`` where the LAN reaches it)."""
        out = []
        for m in self.ingress:
            if not m.open_on:
                where = f"bound on no node (no IPVS on {nodes_text(m.unbound_on)})"
            else:
                where = f"open on {nodes_text(m.open_on)}" + \
                    (f"; not on {nodes_text(m.unbound_on)} (no IPVS)" if m.unbound_on else " (every node)")
            out.append(f"{'⚠ ' if m.open_on else ''}ingress {m.text}: {where}")
        for p in self.host_ports:
            where = f"on {nodes_text(p.nodes)} (nodes running a task)" if p.nodes else "bound nowhere"
            out.append(f"{'⚠ ' if p.nodes and not p.loopback else ''}host {p.text}: {where}")
        return out

    def lines(self) -> list[str]:
        """The service's card: mode, endpoint, networks, constraints, placement, ports."""
        out = [self.mode_text, self.endpoint_text, f"networks {', '.join(self.networks)}"]
        if self.constraints:
            out.append(f"constraints {'; '.join(self.constraints)}")
        pending = [self.pending_text] if self.pending else []
        return out + self.placement_lines() + pending + self.port_lines()


def port_text(m: PortMapping) -> str:
    """``8080 → 80/tcp`` (an ephemeral published port: ``ephemeral``)."""
    published = m.host_port if m.host_port is not None else "ephemeral"
    bind = f"{m.host_address}:" if m.host_ip is not None else ""
    return f"{bind}{published} → {m.container_port}/{m.protocol.value}"


def nodes_text(nodes: tuple[str, ...]) -> str:
    """``node-1, node-2`` (more than :data:`NODES_LISTED`: the first ones and how many in all)."""
    if len(nodes) <= NODES_LISTED:
        return ", ".join(nodes)
    return f"{', '.join(nodes[:NODES_LISTED])} … ({len(nodes)} nodes)"


def tasks_text(tasks: tuple[str, ...]) -> str:
    """A node's tasks: ``api.1, api.3`` (more than :data:`TASKS_LISTED`: the first and how many)."""
    if len(tasks) <= TASKS_LISTED:
        return ", ".join(tasks)
    return f"{', '.join(tasks[:TASKS_LISTED])} … ({len(tasks)} tasks)"


def service_views(design: Design, world: World) -> list[ServiceView]:
    """Every swarm service of ``design``, in design order."""
    order = [h.name for h in design.hosts]
    return [_view(design, world, svc, order) for svc in design.services]


def _view(design: Design, world: World, svc: SwarmService, order: list[str]) -> ServiceView:
    tasks = design.tasks(svc.name)
    by_node: dict[str, list[str]] = {}
    for t in tasks:
        by_node.setdefault(t.host, []).append(t.name)
    placement = tuple((n, tuple(by_node[n])) for n in order if n in by_node)
    ipvs = {h.name: h.kernel.ipvs for h in design.hosts}
    ingress = tuple(IngressPort(m, tuple(n for n in order if ipvs[n]), tuple(n for n in order if not ipvs[n]))
                 for m in svc.ingress)
    names = {t.name for t in tasks}
    host_ports: dict[str, list[str]] = {}
    loopback: set[str] = set()
    for node in order:
        for b in world.bindings.get(node, ()):
            if b.container in names:
                nodes = host_ports.setdefault(port_text(b.mapping), [])
                if node not in nodes:
                    nodes.append(node)
                if b.host_ip.is_loopback:
                    loopback.add(port_text(b.mapping))
    for t in tasks:  # a host-mode port no binding carries (the engine refused it): bound nowhere
        for m in t.ports:
            host_ports.setdefault(port_text(m), [])
    own = {net: str(vip) for (name, net), vip in world.addressing.vips.items() if name == svc.name}
    vips = tuple((net, own[net]) for net in svc.networks if net in own)  # its networks', then the ingress's
    vips += tuple((net, vip) for net, vip in own.items() if net not in svc.networks)
    clients: set[str] = set()
    for net in svc.networks:
        if design.has_network(net):
            clients.update(network_hosts(design, design.network(net)))
    no_ipvs = tuple(n for n in order if n in clients and not ipvs[n]) if vips else ()
    replicas = len(tasks) + svc.pending
    constraints = [" ".join(c) for c in svc.constraints]
    if svc.max_replicas_per_node is not None:
        constraints.append(f"max {svc.max_replicas_per_node} per node")
    return ServiceView(svc.name, svc.global_mode, replicas, svc.endpoint_mode, vips, svc.networks, placement,
                       svc.pending, tuple(constraints), ingress,
                       tuple(HostPort(text, tuple(nodes), text in loopback) for text, nodes in host_ports.items()),
                       no_ipvs)


def ingress_network(design: Design) -> str:
    """The name of the swarm's routing-mesh overlay: the design's network marked ``ingress``."""
    return next((n.name for n in design.networks if n.ingress), SWARM_INGRESS)


def ingress_lines(design: Design, world: World, views: list[ServiceView], limit: int = 8) -> list[str]:
    """The ingress network's note: its subnet, each ingress-mode port and the nodes it is open on
    (at most ``limit`` ports), how the routing mesh answers; empty when no service publishes in
    ingress mode."""
    ports = [(v.name, m) for v in views for m in v.ingress]
    if not ports:
        return []
    seg = world.addressing.segments.get((ingress_network(design), None))
    out = [str(seg.subnet)] if seg is not None else []
    for name, m in ports[:limit]:
        where = f"open on {'every node' if not m.unbound_on else nodes_text(m.open_on)}" if m.open_on \
            else "bound on no node"
        out.append(f"{m.text} → {name}: {where}")
    if len(ports) > limit:
        out.append(f"… and {len(ports) - limit} more port(s)")
    unbound = tuple(n for n in (h.name for h in design.hosts) if not design.host(n).kernel.ipvs)
    if unbound:
        out.append(f"not bound on {nodes_text(unbound)}: no IPVS (CONFIG_IP_VS) in the kernel")
    out.append(MESH_HOW)
    return out
