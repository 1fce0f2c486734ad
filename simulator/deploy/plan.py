"""Deploy plan: a pure translation of a design into ordered steps for this machine.

``plan(design)`` decides everything (names, labels, the LAN emulation, which parts can't
be deployed here and why) without touching anything; :mod:`simulator.deploy.apply`
executes the steps through an :class:`~simulator.adapters.engine.Engine`.

Translation to one machine:

* the design host's LAN is a network namespace (``netsim-lan-<design>``) joined by a veth
  pair: the host side gets the host's ``lan_address``, the peer side the highest free
  address of that subnet (the model's "external" vantage point);
* macvlan parents (whatever the design names) become the host-side veth, with an 802.1q
  sub-interface ``<veth>.<vlan>`` when a vlan is set;
* ipvlan is not available in this kernel: those networks, and containers attached to
  them, are skipped with a note;
* overlays need a single-node swarm, initialised by netsim when the engine has none.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from ipaddress import IPv4Address, IPv4Interface, IPv4Network

from ..adapters.engine import (
    LABEL_CONTAINER,
    LABEL_NETWORK,
    ContainerSpec,
    EndpointSpec,
    NetworkSpec,
    PortSpec,
    design_labels,
)
from ..adapters.probe_agent import listener_command
from ..adapters.probe_image import DEFAULT_PROBE_IMAGE
from ..errors import EngineError
from ..model import Container, Design, Driver, ModeKind, Network

DEFAULT_BRIDGE = "bridge"
LAN_PEER_AUX = "netsim-lan-peer"


class DeployRefused(EngineError):
    """The design can't be deployed on this engine (multi-host, cycles, ...): says why."""


@dataclass(frozen=True, slots=True)
class Capabilities:
    """What this machine's kernel can create (see lanpeer.kernel_capabilities)."""

    macvlan: bool = True
    ipvlan: bool = False
    vlan: bool = True


@dataclass(frozen=True, slots=True)
class LanSpec:
    """The emulated LAN: a namespace and a veth pair."""

    namespace: str
    host_if: str
    peer_if: str
    host_address: IPv4Interface
    peer_address: IPv4Interface
    vlans: tuple[int, ...] = ()  # sub-interfaces <host_if>.<vlan> for macvlan parents

    def vlan_if(self, vlan: int) -> str:
        return f"{self.host_if}.{vlan}"


@dataclass(frozen=True, slots=True)
class Step:
    """One thing apply() does; ``text`` is what --dry-run prints."""

    kind: str  # lan | swarm | network | containers | start | routes
    text: str
    items: tuple[str, ...] = ()  # network names / container keys the step covers


@dataclass(frozen=True, slots=True)
class Plan:
    design: str
    image: str
    labels: tuple[tuple[str, str], ...]
    lan: LanSpec
    swarm: bool
    networks: tuple[NetworkSpec, ...]
    containers: tuple[ContainerSpec, ...]
    start_order: tuple[str, ...]  # container keys, the order addresses are handed out
    steps: tuple[Step, ...]
    notes: tuple[str, ...] = ()
    skipped: frozenset[str] = field(default_factory=frozenset)  # container/network keys

    def container(self, key: str) -> ContainerSpec:
        return next(c for c in self.containers if c.key == key)

    def network_spec(self, key: str) -> NetworkSpec | None:
        return next((n for n in self.networks if n.key == key), None)

    def describe(self) -> str:
        lines = [f"deploy plan for design {self.design!r} (probe image {self.image})"]
        lines += [f"{i}. {s.text}" for i, s in enumerate(self.steps, 1)]
        lines += [f"note: {n}" for n in self.notes]
        return "\n".join(lines)


def slug(text: str) -> str:
    """A name fragment safe for netns and interface names."""
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", text).strip("-") or "design"


def lan_names(design_name: str) -> tuple[str, str, str]:
    """(namespace, host-side veth, peer veth) for a design; veth names fit IFNAMSIZ with a vlan."""
    digest = hashlib.sha1(design_name.encode()).hexdigest()[:6]
    return f"netsim-lan-{slug(design_name)}", f"ns{digest}h", f"ns{digest}p"


def peer_address(design: Design, lan: IPv4Interface) -> IPv4Interface:
    """The highest usable LAN address not taken by the host, a gateway or a static address."""
    taken = {h.lan_address.ip for h in design.hosts}
    taken |= {n.gateway for n in design.networks if n.gateway is not None}
    taken |= {a.ipv4_address for c in design.containers for a in c.attachments if a.ipv4_address}
    for addr in reversed(list(lan.network.hosts())):
        if addr not in taken:
            return IPv4Interface(f"{addr}/{lan.network.prefixlen}")
    raise DeployRefused(f"the LAN {lan.network} has no free address for the emulated LAN peer")


def deploy_host(design: Design):
    """The one host whose containers are deployed; refuses designs that need several."""
    used = sorted({c.host for c in design.containers})
    if len(used) > 1:
        raise DeployRefused(
            f"design {design.name!r} places containers on {len(used)} hosts ({', '.join(used)}); "
            "one engine can't stand in for several hosts faithfully (separate host namespaces, "
            "LAN between them): deploy one host's part as its own design"
        )
    if used:
        return design.host(used[0])
    if not design.hosts:
        raise DeployRefused(f"design {design.name!r} has no host")
    return design.hosts[0]


def plan(design: Design, image: str = DEFAULT_PROBE_IMAGE, caps: Capabilities = Capabilities()) -> Plan:
    """Translate ``design`` into the ordered steps that deploy it on this machine."""
    host = deploy_host(design)
    labels = design_labels(design.name)
    namespace, host_if, peer_if = lan_names(design.name)
    notes: list[str] = []
    skipped: set[str] = set()

    vlans = sorted({n.vlan for n in design.networks
                    if n.driver is Driver.MACVLAN and n.vlan is not None and not _missing_capability(n, caps)})
    lan = LanSpec(namespace, host_if, peer_if, host.lan_address, peer_address(design, host.lan_address), tuple(vlans))

    networks: list[NetworkSpec] = []
    engine_net: dict[str, str] = {}  # design key -> engine name (created or predefined)
    for net in design.networks:
        if net.default_bridge:
            engine_net[net.name] = DEFAULT_BRIDGE
            continue
        if net.driver in (Driver.HOST, Driver.NONE):
            engine_net[net.name] = net.driver.value
            continue
        missing = _missing_capability(net, caps)
        if missing:
            skipped.add(net.name)
            notes.append(
                f"network {net.name}: {missing} is not available in this machine's kernel; "
                "it and the containers attached to it are not deployed (their probes are not compared)"
            )
            continue
        if net.external:
            notes.append(f"network {net.name} is external in the design: netsim creates it (labelled) as declared")
        networks.append(_network_spec(net, lan, labels))
        engine_net[net.name] = net.engine_name

    swarm = any(n.driver == "overlay" for n in networks)
    containers, order = _containers(design, image, engine_net, labels, skipped, notes)

    steps: list[Step] = [
        Step("lan", f"create LAN namespace {lan.namespace}: veth {lan.host_if} ({lan.host_address}) "
             f"<-> {lan.peer_if} ({lan.peer_address}) in the namespace, no default route"
             + "".join(f"; vlan sub-interface {lan.vlan_if(v)}" for v in lan.vlans)),
    ]
    if swarm:
        steps.append(Step("swarm", "initialise a single-node swarm (advertise 127.0.0.1) unless one is active"))
    for n in networks:
        steps.append(Step("network", f"create network {n.name} ({_net_summary(n)})", (n.name,)))
    specs = {c.key: c for c in containers}
    if containers:
        steps.append(Step("containers", "create probe containers in parallel: "
                          + ", ".join(f"{specs[k].name} [{specs[k].network_mode}]" for k in order), tuple(order)))
        steps.append(Step("start", "start them (addresses handed out in this order): "
                          + ", ".join(order), tuple(order)))
    routed = [n.name for n in networks if n.driver == "bridge"]
    if any(engine_net.get(a.network) == DEFAULT_BRIDGE for c in design.containers for a in c.attachments) or any(
        c.mode.kind is ModeKind.NETWORKS and not c.attachments for c in design.containers
    ):
        routed.insert(0, DEFAULT_BRIDGE)
    if routed:
        steps.append(Step("routes", f"route bridge subnets in {lan.namespace} via {lan.host_address.ip}: "
                          + ", ".join(routed), tuple(routed)))
    return Plan(
        design=design.name, image=image, labels=tuple(labels.items()), lan=lan, swarm=swarm,
        networks=tuple(networks), containers=tuple(containers), start_order=tuple(order),
        steps=tuple(steps), notes=tuple(notes), skipped=frozenset(skipped),
    )


def _missing_capability(net: Network, caps: Capabilities) -> str | None:
    if net.driver is Driver.IPVLAN and not caps.ipvlan:
        return "ipvlan"
    if net.driver is Driver.MACVLAN and not caps.macvlan:
        return "macvlan"
    if net.driver in (Driver.MACVLAN, Driver.IPVLAN) and net.vlan is not None and not caps.vlan:
        return f"802.1q (vlan {net.vlan} sub-interface)"
    return None


def _net_summary(n: NetworkSpec) -> str:
    bits = [n.driver]
    if n.subnet:
        bits.append(n.subnet)
    if n.internal:
        bits.append("internal")
    if n.attachable:
        bits.append("attachable")
    bits += [f"{k}={v}" for k, v in n.options]
    return ", ".join(bits)


def _network_spec(net: Network, lan: LanSpec, labels: dict[str, str]) -> NetworkSpec:
    options: list[tuple[str, str]] = []
    aux = [(f"aux{i}", str(a)) for i, a in enumerate(net.aux_addresses)]
    if net.driver is Driver.BRIDGE:
        if not net.icc:
            options.append(("com.docker.network.bridge.enable_icc", "false"))
        if not net.masquerade:
            options.append(("com.docker.network.bridge.enable_ip_masquerade", "false"))
        if net.host_binding_ipv4 != IPv4Address("0.0.0.0"):
            options.append(("com.docker.network.bridge.host_binding_ipv4", str(net.host_binding_ipv4)))
        if net.gateway_mode != "nat":
            options.append(("com.docker.network.bridge.gateway_mode_ipv4", net.gateway_mode))
    elif net.driver is Driver.MACVLAN:
        parent = lan.vlan_if(net.vlan) if net.vlan is not None else lan.host_if
        options.append(("parent", parent))
        if net.mode:
            options.append(("macvlan_mode", net.mode))
        if net.subnet is not None and lan.peer_address.ip in net.subnet:
            aux.append((LAN_PEER_AUX, str(lan.peer_address.ip)))  # never hand the peer's address out
    all_labels = dict(net.labels) | labels | {LABEL_NETWORK: net.name}
    return NetworkSpec(
        key=net.name, name=net.engine_name, driver=net.driver.value,
        subnet=str(net.subnet) if net.subnet else None,
        gateway=str(net.gateway) if net.gateway else None,
        ip_range=str(net.ip_range) if net.ip_range else None,
        aux_addresses=tuple(aux), internal=net.internal, attachable=net.attachable,
        options=tuple(options), labels=tuple(sorted(all_labels.items())),
    )


def _containers(design, image, engine_net, labels, skipped, notes):
    """Container specs and the start order: static addresses first, then design order,
    shared-namespace containers after their owner."""
    by_name = {c.name: c for c in design.containers}
    for c in design.containers:  # skip containers on undeployable networks (and their joiners)
        if any(a.network in skipped for a in c.attachments):
            skipped.add(c.name)
            notes.append(f"container {c.name} is not deployed: it is attached to an undeployable network")
    changed = True
    while changed:
        changed = False
        for c in design.containers:
            if c.mode.kind is ModeKind.CONTAINER and c.name not in skipped and (
                c.mode.target in skipped or c.mode.target not in by_name
            ):
                skipped.add(c.name)
                notes.append(f"container {c.name} is not deployed: it shares the namespace of "
                             f"{c.mode.target}, which is not deployed")
                changed = True

    order: list[str] = []
    placed: set[str] = set()
    static = [c for c in design.containers if any(a.ipv4_address for a in c.attachments)]
    rest = [c for c in design.containers if c not in static]
    pending = [c for c in static + rest if c.name not in skipped]
    while pending:
        progress = False
        for c in list(pending):
            if c.mode.kind is ModeKind.CONTAINER and c.mode.target not in placed:
                continue
            order.append(c.name)
            placed.add(c.name)
            pending.remove(c)
            progress = True
        if not progress:
            raise DeployRefused("containers share namespaces in a cycle: "
                                + ", ".join(f"{c.name} -> {c.mode.target}" for c in pending))
    specs = [_container_spec(by_name[k], by_name, image, engine_net, labels, notes) for k in order]
    return specs, order


def _container_spec(c: Container, by_name, image, engine_net, labels, notes) -> ContainerSpec:
    kind = c.mode.kind
    endpoints: tuple[EndpointSpec, ...] = ()
    ports = tuple(
        PortSpec(p.container_port, p.protocol.value, str(p.host_ip) if p.host_ip else None, p.host_port)
        for p in c.ports if p.protocol.value in ("tcp", "udp")
    )
    hostname = c.hostname
    if kind is ModeKind.HOST:
        mode = "host"
    elif kind is ModeKind.NONE:
        mode = "none"
    elif kind is ModeKind.CONTAINER:
        mode = f"container:{by_name[c.mode.target].engine_name}"
    else:
        endpoints = tuple(
            EndpointSpec(engine_net.get(a.network, a.network), _aliases(c, a, engine_net),
                         str(a.ipv4_address) if a.ipv4_address else None)
            for a in c.attachments
        )
        mode = endpoints[0].network if endpoints else DEFAULT_BRIDGE
    if kind in (ModeKind.HOST, ModeKind.NONE, ModeKind.CONTAINER) and ports:
        notes.append(f"container {c.name}: published ports are not passed in network mode {c.mode} "
                     "(the engine discards or rejects them)")
        ports = ()
    if kind is ModeKind.CONTAINER and hostname:
        notes.append(f"container {c.name}: hostname not passed (rejected with network mode {c.mode})")
        hostname = None
    sctp = [lst for lst in c.listeners if lst.protocol.value not in ("tcp", "udp")]
    if sctp:
        notes.append(f"container {c.name}: sctp listeners are not emulated by the probe image")
    all_labels = dict(c.labels) | labels | {LABEL_CONTAINER: c.name}
    return ContainerSpec(
        key=c.name, name=c.engine_name, image=image,
        command=listener_command(c.name, [(lst.port, lst.protocol.value) for lst in c.listeners],
                                 dns_stub=kind is ModeKind.NETWORKS),
        network_mode=mode, endpoints=endpoints, ports=ports,
        env=(("NAME", c.name),), labels=tuple(sorted(all_labels.items())), hostname=hostname,
        dns=("127.0.0.1",),
    )


def _aliases(c: Container, attachment, engine_net) -> tuple[str, ...]:
    """Declared aliases, plus the compose service name as compose adds it (not on the
    default bridge, which rejects network-scoped aliases)."""
    aliases = list(attachment.aliases)
    if c.service and engine_net.get(attachment.network) != DEFAULT_BRIDGE and c.service not in aliases:
        aliases.insert(0, c.service)
    return tuple(aliases)
