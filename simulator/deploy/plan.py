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
* overlays need a single-node swarm, initialised by netsim when the engine has none;
* dual-stack networks are created with ``EnableIPv6`` and an IPv6 pool (``subnet6``,
  ``gateway6``, ``ip_range6``) beside the IPv4 one, and a static ``ipv6_address`` is passed as a
  static IPv4 address is (its container starts first); a host with ``lan_address6`` gives the
  LAN's host side that address too, the LAN peer the model's IPv6 address
  (:func:`~simulator.engine.topology.lan_peer_address6`), and the peer routes the IPv6 subnets
  through it;
* a first host with IPv6 daemon options this machine's engine does not run with is refused
  here (:func:`own_daemon_reason`): the CLI runs it as a daemon of its own instead.

A design with several hosts is deployed on several engines: the first design host is this
machine's engine, every other host an extra dockerd in a network namespace of its own
(:mod:`simulator.adapters.extra_daemon`).  The LAN namespace then holds a Linux bridge
(``lan0``, carrying the peer's address) that the machine's veth and each extra host's LAN
interface are ports of.  Overlays span the hosts through a real swarm: this machine's
engine is the manager (advertising its design LAN address), the extra daemons join as
workers; VXLAN runs over the emulated LAN.  Local networks are created on each host that
has them, overlays once on the manager.  The LAN peer routes every host's bridge subnets
via that host's LAN address, as the model does (the first host wins a subnet two hosts
share).  The machine's engine has handed out pools before (confirmed-rules 13a), so its
``docker_gwbridge`` is pre-created with the subnet a fresh daemon would pick (the model's);
the extra daemons are fresh and choose their own.

With an engine built from source (``plan(..., binaries=...)``, ``--dockerd``) every design
host, the first one and a single-host design's one host included, is such a daemon: the
LAN is the switched one, this machine's namespace has no port on it, and its own engine
holds nothing of the design (:attr:`Plan.on_daemons_only`).
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field, replace
from ipaddress import IPv4Address, IPv4Interface, IPv6Interface, IPv6Network

import networkx as nx

from ..adapters.engine import (
    LABEL_CONTAINER,
    LABEL_NETWORK,
    ContainerSpec,
    EndpointSpec,
    NetworkSpec,
    PortSpec,
    ServiceSpec,
    design_labels,
)
from ..adapters.extra_daemon import DaemonSpec, EngineBinaries, daemon_spec
from ..adapters.lanpeer import UNPROBED
from ..adapters.probe_agent import listener_command
from ..adapters.probe_image import DEFAULT_PROBE_IMAGE
from ..cidr import highest_free
from ..engine.ipam import allocate, network_hosts
from ..engine.topology import lan_peer_address6
from ..errors import DeployRefused
from ..model import Container, DaemonOptions, Design, Driver, KernelFeatures, ModeKind, Network

DEFAULT_BRIDGE = "bridge"
GWBRIDGE = "docker_gwbridge"
LAN_PEER_AUX = "netsim-lan-peer"
LAN_BRIDGE = "lan0"  # the LAN switch inside the LAN namespace (multi-host designs)


@dataclass(frozen=True, slots=True)
class LanSpec:
    """The emulated LAN: a namespace and a veth pair."""

    namespace: str
    host_if: str
    peer_if: str
    host_address: IPv4Interface
    peer_address: IPv4Interface
    vlans: tuple[int, ...] = ()  # sub-interfaces <host_if>.<vlan> for macvlan parents
    bridge: str | None = None  # multi-host: a bridge in the namespace joins every host and the peer
    machine_port: bool = True  # this machine's namespace joins the LAN by host_if (False: every host is a daemon)
    host_address6: IPv6Interface | None = None  # the host's lan_address6 (None: the LAN is IPv4 only)
    peer_address6: IPv6Interface | None = None  # the LAN peer's IPv6 address on that prefix

    def vlan_if(self, vlan: int) -> str:
        return f"{self.host_if}.{vlan}"


@dataclass(frozen=True, slots=True)
class Step:
    """One thing apply() does; ``text`` is what --dry-run prints."""

    kind: str  # lan | daemon | swarm | network | containers | start | routes
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
    host: str = ""  # the design host this machine's engine stands for
    extra_hosts: tuple[DaemonSpec, ...] = ()  # multi-host: the other hosts, one extra daemon each
    swarm_advertise: str = "127.0.0.1"  # the manager's advertise address
    gwbridge_subnet: str | None = None  # multi-host: docker_gwbridge pre-created on this machine
    peer_routes: tuple[tuple[str, str], ...] = ()  # multi-host: (design host, engine network) the peer routes
    joins: tuple[tuple[str, str], ...] = ()  # (container key, key of the container whose namespace it joins)
    services: tuple[ServiceSpec, ...] = ()  # swarm services, created in this order after the containers
    node_labels: tuple[tuple[str, tuple[tuple[str, str], ...]], ...] = ()  # (design host, its labels) for the nodes

    @property
    def multi_host(self) -> bool:
        return bool(self.extra_hosts)

    @property
    def on_daemons_only(self) -> bool:
        """Every design host is a daemon netsim starts (an engine built from source): this
        machine's engine holds nothing of the design."""
        return any(h.host == self.host for h in self.extra_hosts)

    def extra_host(self, name: str) -> DaemonSpec | None:
        return next((h for h in self.extra_hosts if h.host == name), None)

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
    free = highest_free(lan.network, taken)
    if free is not None:
        return IPv4Interface((int(free), lan.network.prefixlen))
    raise DeployRefused(f"the LAN {lan.network} has no free address for the emulated LAN peer")


def deploy_host(design: Design):
    """The host this machine's engine stands for: the one host in use, or the first host."""
    if not design.hosts:
        raise DeployRefused(f"design {design.name!r} has no host")
    if len(design.hosts) > 1:
        return design.hosts[0]
    used = sorted({c.host for c in design.containers})
    return design.host(used[0]) if used else design.hosts[0]


def extra_hosts(design: Design, binaries: EngineBinaries | None = None) -> tuple[DaemonSpec, ...]:
    """One extra daemon per design host after the first (with ``binaries``: per design host,
    from those binaries); refuses what the LAN can't join."""
    if binaries is None and len(design.hosts) < 2:
        return ()
    problems = []
    lans = {h.lan_address.network for h in design.hosts}
    if len(lans) > 1:
        problems.append("its hosts are on different LAN subnets (" + ", ".join(sorted(map(str, lans)))
                        + "): the emulated LAN is one segment without a router")
    seen: dict = {}
    for h in design.hosts:
        if h.lan_address.ip in seen:
            problems.append(f"hosts {seen[h.lan_address.ip]} and {h.name} share the LAN address {h.lan_address.ip}")
        seen.setdefault(h.lan_address.ip, h.name)
    daemons = design.hosts if binaries is not None else design.hosts[1:]
    for h in daemons:
        if not re.fullmatch(r"[A-Za-z0-9_.-]{1,15}", h.lan_interface):
            problems.append(f"host {h.name}: LAN interface name {h.lan_interface!r} is not a Linux interface name")
    if problems:
        raise DeployRefused(f"design {design.name!r} can't be deployed on emulated hosts here: " + "; ".join(problems))
    return tuple(daemon_spec(design.name, h.name, i, h.lan_interface, h.lan_address, binaries,
                             daemon_settings(h.daemon) if binaries is not None else daemon_settings6(h.daemon),
                             binaries is not None and h.daemon.forwarding_preset, h.lan_address6)
                 for i, h in enumerate(daemons, 1))


def daemon_settings(options: DaemonOptions) -> dict:
    """A design host's daemon options as the daemon.json keys of dockerd (only those that differ
    from dockerd's defaults; ``forwarding_preset`` is the namespace's sysctl, not a key)."""
    defaults = DaemonOptions()
    out: dict = {}
    for name, key in (("icc", "icc"), ("userland_proxy", "userland-proxy"), ("iptables", "iptables"),
                      ("ip_forward", "ip-forward"), ("ip_masq", "ip-masq"),
                      ("allow_direct_routing", "allow-direct-routing")):
        if getattr(options, name) != getattr(defaults, name):
            out[key] = getattr(options, name)
    if options.bip is not None:
        out["bip"] = str(options.bip)
    if options.default_address_pools != defaults.default_address_pools:
        out["default-address-pools"] = [{"base": str(p.base), "size": p.size} for p in options.default_address_pools]
    return out | daemon_settings6(options)


def daemon_settings6(options: DaemonOptions) -> dict:
    """A host's IPv6 daemon options as daemon.json keys: ``ipv6``, ``fixed-cidr-v6``, ``ip6tables``
    (when the design states it), ``experimental`` (20.10 refuses ``ip6tables`` without it), and
    ``default-address-pools`` when they hold an IPv6 base."""
    out: dict = {}
    if options.ipv6:
        out["ipv6"] = True
    if options.fixed_cidr_v6 is not None:
        out["fixed-cidr-v6"] = str(options.fixed_cidr_v6)
    if options.ip6tables is not None:
        out["ip6tables"] = options.ip6tables
    if options.experimental:
        out["experimental"] = True
    if any(isinstance(p.base, IPv6Network) for p in options.default_address_pools):
        out["default-address-pools"] = [{"base": str(p.base), "size": p.size} for p in options.default_address_pools]
    return out


def own_daemon_reason(design: Design) -> str | None:
    """Why the design's first host can't be this machine's engine, which runs with dockerd's
    defaults for IPv6 (no daemon.json): the IPv6 daemon options it states (None: it can be).

    Such a host runs as a daemon of its own started from this machine's dockerd, with those
    options (``netsim deploy``/``verify`` choose that by themselves; docs/engines-from-source.md)."""
    host = deploy_host(design)
    d = host.daemon
    wanted = []
    if d.ipv6:
        wanted.append("ipv6: true (IPv6 on docker0)")
    if d.fixed_cidr_v6 is not None:
        wanted.append(f"fixed_cidr_v6: {d.fixed_cidr_v6}")
    if d.ip6tables:
        wanted.append("ip6tables: true")
    if d.experimental:
        wanted.append("experimental: true")
    if any(isinstance(p.base, IPv6Network) for p in d.default_address_pools):
        wanted.append("default_address_pools with an IPv6 base")
    if not wanted:
        return None
    return f"host {host.name}'s daemon options " + ", ".join(wanted) + " are not those of this machine's engine"


def plan(design: Design, image: str = DEFAULT_PROBE_IMAGE, caps: KernelFeatures = UNPROBED,
         binaries: EngineBinaries | None = None) -> Plan:
    """Translate ``design`` into the ordered steps that deploy it on this machine (with
    ``binaries``: every host a daemon started from them)."""
    host = deploy_host(design) if binaries is None else design.hosts[0]
    if binaries is None and (why := own_daemon_reason(design)) is not None:
        raise DeployRefused(f"design {design.name!r}: {why}; it runs as a daemon of its own started with them: "
                            "pass --dockerd PATH (this machine's dockerd, e.g. /usr/sbin/dockerd)")
    extras = extra_hosts(design, binaries)
    multi = bool(extras)
    labels = design_labels(design.name)
    namespace, host_if, peer_if = lan_names(design.name)
    notes: list[str] = []
    skipped: set[str] = set()

    vlans = sorted({n.vlan for n in design.networks
                    if n.driver is Driver.MACVLAN and n.vlan is not None and not _missing_capability(n, caps)})
    if binaries is not None:
        vlans = []  # no host is this machine: vlan sub-interfaces exist on none (see below)
    lan = LanSpec(namespace, host_if, peer_if, host.lan_address, peer_address(design, host.lan_address), tuple(vlans),
                  bridge=LAN_BRIDGE if multi else None, machine_port=binaries is None,
                  host_address6=host.lan_address6, peer_address6=lan_peer_address6(design, host.name))

    networks: list[NetworkSpec] = []
    engine_net: dict[str, str] = {}  # design key -> engine name (created or predefined)
    for net in design.networks:
        if net.default_bridge:
            engine_net[net.name] = DEFAULT_BRIDGE
            continue
        if net.driver in (Driver.HOST, Driver.NONE):
            engine_net[net.name] = net.driver.value
            continue
        if net.ingress:  # the swarm's own: made by swarm init
            engine_net[net.name] = net.engine_name
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
        if not multi:
            networks.append(_network_spec(net, lan, labels))
        elif net.driver is Driver.OVERLAY:  # swarm scope: created once, on the manager
            networks.append(replace(_network_spec(net, lan, labels), host=host.name))
        else:  # local scope: an independent instance on each of its hosts
            for h in network_hosts(design, net):
                extra = next((e for e in extras if e.host == h), None)
                if extra is not None and net.driver is Driver.MACVLAN and net.vlan is not None:
                    notes.append(f"network {net.name} on host {h}: vlan sub-interfaces are not emulated on extra "
                                 "hosts; that instance and its containers are not deployed")
                    skipped.add(f"{net.name}@{h}")
                    continue
                parent = extra.lan_if if extra is not None else None
                networks.append(replace(_network_spec(net, lan, labels, parent), host=h))
        engine_net[net.name] = net.engine_name

    swarm = any(n.driver == "overlay" for n in networks)
    for c in design.containers:  # a container on a network instance that is not deployed
        if multi and any(f"{a.network}@{c.host}" in skipped for a in c.attachments) and c.name not in skipped:
            skipped.add(c.name)
            notes.append(f"container {c.name} is not deployed: its network instance on {c.host} is not")
    services = _services(design, image, engine_net, labels, skipped, notes, host.name, len(design.hosts) > 1)
    containers, order = _containers(design, image, engine_net, labels, skipped, notes)
    if multi:
        containers = [replace(c, host=design.container(c.key).host) for c in containers]
    advertise = str(host.lan_address.ip) if multi else "127.0.0.1"

    if multi:
        machine = (f"; veth {lan.host_if} ({lan.host_address}, host {host.name}) <-> {lan.peer_if} on the bridge"
                   if lan.machine_port else "")
        peer6 = f", {lan.peer_address6}" if lan.peer_address6 is not None else ""
        steps: list[Step] = [
            Step("lan", f"create LAN namespace {lan.namespace} with bridge {lan.bridge} ({lan.peer_address}{peer6}, "
                 f"the LAN peer), no default route (IPv4 or IPv6){machine}"),
        ]
        for e in extras:
            settings = f", host options {e.settings}" if e.settings != "{}" else ""
            dockerd = (f"{e.binaries.dockerd if e.binaries is not None else 'dockerd'} ({e.config_file}{settings})"
                       if e.configured else "dockerd")
            lan_addrs = f"{e.lan_address}, {e.lan_address6}" if e.lan_address6 else str(e.lan_address)
            steps.append(Step("daemon", f"host {e.host}: namespace {e.namespace}, {e.lan_if} ({lan_addrs}) "
                              f"<-> {e.switch_if} on the bridge, no default route; {dockerd} on {e.socket}", (e.host,)))
    else:
        host6 = f", {lan.host_address6}" if lan.host_address6 is not None else ""
        peer6 = f", {lan.peer_address6}" if lan.peer_address6 is not None else ""
        steps = [
            Step("lan", f"create LAN namespace {lan.namespace}: veth {lan.host_if} ({lan.host_address}{host6}) "
                 f"<-> {lan.peer_if} ({lan.peer_address}{peer6}) in the namespace, no default route (IPv4 or IPv6)"
                 + "".join(f"; vlan sub-interface {lan.vlan_if(v)}" for v in lan.vlans)),
        ]
    gwbridge_subnet = None
    peer_routes: tuple[tuple[str, str], ...] = ()
    if multi:
        gwbridge_subnet, peer_routes = _multi_host_addressing(design, host.name, engine_net, skipped)
        if binaries is not None:
            gwbridge_subnet = None  # the first host is a fresh daemon too: it picks the model's subnet itself
    if swarm and multi:
        if gwbridge_subnet:
            steps.append(Step("swarm", f"host {host.name}: create {GWBRIDGE} ({gwbridge_subnet}, as on a fresh "
                              "daemon) unless it exists"))
        steps.append(Step("swarm", f"initialise a swarm on host {host.name} (manager, advertise {advertise}); "
                          + ", ".join(f"{e.host} joins as a worker (advertise {e.lan_address.ip})" for e in extras)))
    elif swarm:
        steps.append(Step("swarm", "initialise a single-node swarm (advertise 127.0.0.1) unless one is active"))
    for n in networks:
        where = f" on host {n.host}" if multi else ""
        steps.append(Step("network", f"create network {n.name}{where} ({_net_summary(n)})", (n.name,)))
    specs = {c.key: c for c in containers}
    if containers:
        steps.append(Step("containers", "create probe containers in parallel: "
                          + ", ".join(f"{specs[k].name} [{specs[k].network_mode}]"
                                      + (f" on {specs[k].host}" if multi else "") for k in order), tuple(order)))
        steps.append(Step("start", "start them (addresses handed out in this order): "
                          + ", ".join(order), tuple(order)))
    for svc in services:
        steps.append(Step("services", f"create service {svc.key} ({svc.replicas} task(s), {svc.endpoint_mode}, on "
                          f"{', '.join(svc.networks)}) and wait for its tasks to run", (svc.key,)))
    if multi:
        if peer_routes:
            steps.append(Step("routes", f"route in {lan.namespace}: " + ", ".join(
                f"{net} via {design.host(h).lan_address.ip} ({h})" for h, net in peer_routes)))
    else:
        routed = [n.name for n in networks if n.driver == "bridge"]
        if any(engine_net.get(a.network) == DEFAULT_BRIDGE for c in design.containers for a in c.attachments) or any(
            c.mode.kind is ModeKind.NETWORKS and not c.attachments for c in design.containers
        ):
            routed.insert(0, DEFAULT_BRIDGE)
        if swarm:  # the model's LAN peer routes docker_gwbridge too (its overlay containers' published ports)
            routed.append(GWBRIDGE)
        if routed:
            via6 = f" (IPv6 subnets via {lan.host_address6.ip})" if lan.host_address6 is not None else ""
            steps.append(Step("routes", f"route bridge subnets in {lan.namespace} via {lan.host_address.ip}{via6}: "
                              + ", ".join(routed), tuple(routed)))
    return Plan(
        design=design.name, image=image, labels=tuple(labels.items()), lan=lan, swarm=swarm,
        networks=tuple(networks), containers=tuple(containers), start_order=tuple(order),
        steps=tuple(steps), notes=tuple(notes), skipped=frozenset(skipped),
        host=host.name, extra_hosts=extras, swarm_advertise=advertise,
        gwbridge_subnet=gwbridge_subnet if swarm else None, peer_routes=peer_routes,
        joins=tuple((k, target) for k in order if (target := design.container(k).mode.target) is not None),
        services=tuple(services),
        node_labels=tuple((h.name, h.labels) for h in design.hosts if h.labels) if services else (),
    )


def _services(design: Design, image, engine_net, labels, skipped, notes, manager: str, workers: bool) -> list[ServiceSpec]:
    """A probe service per swarm service of the design: tasks answering as ``<service>.<slot>``, as
    many as the model places (pending ones run nowhere); pinned to the manager (the first host)
    when the model places all of them there, else placed by the swarm's scheduler (verify reads
    the placement back)."""
    out = []
    for svc in design.services:
        tasks = design.tasks(svc.name)
        why = next((f"network {n} is not deployed" for n in svc.networks if n in skipped), None)
        pinned = bool(tasks) and all(t.host == manager for t in tasks)
        if why is not None:
            skipped.update(t.name for t in tasks)
            notes.append(f"service {svc.name} is not deployed: {why}; its tasks' probes are not compared")
            continue
        roles_as_deployed = all(h.role == ("manager" if h.name == manager else "worker") for h in design.hosts)
        constraints = ("node.role == manager",) if workers and pinned else tuple(
            f"{what} {op} {value}" for what, op, value in svc.constraints if what != "node.role" or roles_as_deployed)
        if not pinned and not roles_as_deployed and any(what == "node.role" for what, _, _ in svc.constraints):
            notes.append(f"service {svc.name}: its node.role constraints are not passed (the deployment's swarm has "
                         f"{manager} as its one manager, the design other roles); verify reads the placement back")
        listeners = sorted({(lst.port, lst.protocol.value) for t in tasks for lst in t.listeners})
        ports = [(m.host_port, m.container_port, m.protocol.value, "host") for m in (tasks[0].ports if tasks else ())
                 if m.host_port is not None] + [(m.host_port, m.container_port, m.protocol.value, "ingress")
                                                for m in svc.ingress if m.host_port is not None]
        out.append(ServiceSpec(svc.name, image, listener_command(svc.name, listeners, dns_stub=True),
                               tuple(engine_net.get(n, n) for n in svc.networks), len(tasks) + svc.pending, svc.endpoint_mode,
                               tuple(ports), tuple(sorted(labels.items())),
                               constraints=constraints, max_replicas=svc.max_replicas_per_node or 0, pending=svc.pending,
                               global_mode=svc.global_mode,
                               aliases=tuple(_service_aliases(tasks[0], n) if tasks else () for n in svc.networks)))
    return out


def _service_aliases(task, network: str) -> tuple[str, ...]:
    """A service's aliases on a network: its tasks carry them."""
    joined = task.attachment(network)
    return joined.aliases if joined is not None else ()


def _multi_host_addressing(design: Design, machine_host: str, engine_net: dict[str, str], skipped: set[str]):
    """From the model's addressing: the machine's docker_gwbridge subnet (what a fresh daemon
    picks) and the LAN peer's routes, host by host in design order (the model's order)."""
    addressing = allocate(design)
    seg = addressing.segments.get((GWBRIDGE, machine_host))
    gwbridge = str(seg.subnet) if seg is not None else None
    routes: list[tuple[str, str]] = []
    for h in design.hosts:
        for seg in addressing.segments.values():
            if seg.host != h.name or seg.bridge is None:
                continue
            if seg.network == GWBRIDGE:
                name = GWBRIDGE
            elif seg.network in skipped or f"{seg.network}@{h.name}" in skipped:
                continue
            else:
                name = engine_net.get(seg.network, seg.network)
            routes.append((h.name, name))
    return gwbridge, tuple(routes)


def _missing_capability(net: Network, caps: KernelFeatures) -> str | None:
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
    if n.enable_ipv6:
        bits.append("IPv6 " + (n.subnet6 or "from the daemon's pools")
                    + (f" gateway {n.gateway6}" if n.gateway6 else "") + (f" range {n.ip_range6}" if n.ip_range6 else ""))
    if n.internal:
        bits.append("internal")
    if n.attachable:
        bits.append("attachable")
    bits += [f"{k}={v}" for k, v in n.options]
    return ", ".join(bits)


def _network_spec(net: Network, lan: LanSpec, labels: dict[str, str], parent_if: str | None = None) -> NetworkSpec:
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
        if net.gateway_mode6 != "nat":
            options.append(("com.docker.network.bridge.gateway_mode_ipv6", net.gateway_mode6))
    elif net.driver is Driver.MACVLAN:
        parent = parent_if or (lan.vlan_if(net.vlan) if net.vlan is not None else lan.host_if)
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
        enable_ipv6=net.enable_ipv6,  # an IPv6 subnet without enable_ipv6 is passed as the engine takes it (§18a)
        subnet6=str(net.subnet6) if net.subnet6 else None,
        gateway6=str(net.gateway6) if net.gateway6 else None,
        ip_range6=str(net.ip_range6) if net.ip_range6 else None,
    )


def _containers(design: Design, image, engine_net, labels, skipped, notes):
    """Container specs and the start order: static addresses first, then design order, each
    shared-namespace container right after the container whose namespace it joins (a
    topological order of the ``container:X`` graph, smallest place first)."""
    for c in design.containers:  # skip containers on undeployable networks (and their joiners)
        if any(a.network in skipped for a in c.attachments):
            skipped.add(c.name)
            notes.append(f"container {c.name} is not deployed: it is attached to an undeployable network")
    static = [c for c in design.containers if any(a.ipv4_address or a.ipv6_address for a in c.attachments)]
    rest = [c for c in design.containers if not any(a.ipv4_address or a.ipv6_address for a in c.attachments)]
    place = {c.name: i for i, c in enumerate(static + rest)}
    graph = namespace_graph(design)
    for name in nx.lexicographical_topological_sort(graph, key=place.__getitem__):
        c = design.container(name)
        if c.mode.kind is ModeKind.CONTAINER and c.name not in skipped and c.mode.target in skipped:
            skipped.add(c.name)
            notes.append(f"container {c.name} is not deployed: it shares the namespace of "
                         f"{c.mode.target}, which is not deployed")
    graph.remove_nodes_from(skipped | {c.name for c in design.containers if c.task_of})  # tasks: their services'
    order = list(nx.lexicographical_topological_sort(graph, key=place.__getitem__))
    specs = [_container_spec(design.container(k), design, image, engine_net, labels, notes) for k in order]
    return specs, order


def namespace_graph(design: Design) -> nx.DiGraph:
    """Containers as nodes, an edge from each ``container:X`` target to the container joining
    its namespace (a forest: the design refuses cycles)."""
    graph = nx.DiGraph()
    graph.add_nodes_from(c.name for c in design.containers)
    graph.add_edges_from((c.mode.target, c.name) for c in design.containers if c.mode.kind is ModeKind.CONTAINER)
    return graph


def _container_spec(c: Container, design: Design, image, engine_net, labels, notes) -> ContainerSpec:
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
    elif c.mode.target is not None:  # ModeKind.CONTAINER: the model holds a target for it
        mode = f"container:{design.container(c.mode.target).engine_name}"
    else:
        endpoints = tuple(
            EndpointSpec(engine_net.get(a.network, a.network), _aliases(c, a, engine_net),
                         str(a.ipv4_address) if a.ipv4_address else None,
                         str(a.ipv6_address) if a.ipv6_address else None, a.gw_priority)
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
