"""The simulated machines: namespaces, interfaces, routes, L2 segments and listeners.

Built once per design and engine version from the addressing and the rules; the
packet walk (:mod:`simulator.engine.walk`) only reads it. One world holds one address
family: a dual-stack design's IPv6 side is a second world (:attr:`World.v6`) laid out the
same way from the IPv6 addresses, the host's ip6tables rules and docker-proxy's IPv6 listeners.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from ipaddress import IPv4Interface, IPv4Network, IPv6Address, IPv6Interface, IPv6Network, ip_interface

from ..cidr import highest_free
from ..errors import UnknownEngineVersion
from ..model import Container, Design, Driver, GatewayMode, Host, ModeKind, Network
from .ipam import GWBRIDGE, Addressing, Endpoint, allocate, gwbridge_network, ipv6_view
from .netfilter import Ruleset, Table
from .ondemand import OnDemand
from .rules import Binding, build_ruleset, gateway_endpoints, ingress_filter, ordered_endpoints, published_bindings
from .trace import Address, Place, Prefix
from .versions import EngineVersion, parse_version

EXTERNAL = "external"
LOOPBACK = IPv4Network("127.0.0.0/8")
LOOPBACK_ADDRESS = IPv4Interface("127.0.0.1/8")  # shared values: parsing them per namespace was a hot spot
DEFAULT_ROUTE = IPv4Network("0.0.0.0/0")
LOOPBACK6_ADDRESS = IPv6Interface("::1/128")
DEFAULT_ROUTE6 = IPv6Network("::/0")
IfaceAddress = IPv4Interface | IPv6Interface


@dataclass
class Interface:
    name: str
    ns: str
    address: IfaceAddress | None  # of the world's family (None: no address of that family on the link)
    segment: tuple | None  # L2 domain key; None for lo
    kind: str  # lo | veth | bridge | lan | macvlan | ipvlan | overlay
    network: str | None = None  # the design network of a container endpoint
    parent: str | None = None  # macvlan/ipvlan: the parent device on the host
    mode: str | None = None  # macvlan/ipvlan mode


@dataclass
class Route:
    dest: Prefix
    iface: str
    via: Address | None = None
    host_hint: str | None = None  # external: the Docker host this route goes through


@dataclass
class Namespace:
    id: str  # "ctr:<name>" | "host:<name>" | "external"
    kind: str  # container | host | external
    host: str | None
    interfaces: dict[str, Interface] = field(default_factory=dict)
    routes: list[Route] = field(default_factory=list)
    listeners: dict[tuple[int, str], str] = field(default_factory=dict)  # (port, proto) -> responder
    members: list[str] = field(default_factory=list)  # containers living in this namespace
    _ruleset: Ruleset | None = field(default=None, repr=False, compare=False)
    _make_ruleset: Callable[[], Ruleset] | None = field(default=None, repr=False, compare=False)
    proxies: dict[tuple[Address, int, str], Binding] = field(default_factory=dict)
    ip_forward: bool = False
    has_embedded_dns: bool = False
    gateway_network: str | None = None
    task_filter: Table | None = None  # a routing-mesh task: the filter rules of its ingress address
    _owned: frozenset | None = field(default=None, repr=False)  # filled on first use, after the build

    @property
    def ruleset(self) -> Ruleset | None:
        """The host's netfilter rules (host namespaces only; None elsewhere), built the first time
        they are asked for: `check` needs none, a trace only the hosts its packet crosses."""
        if self._make_ruleset is not None:
            self._ruleset, self._make_ruleset = self._make_ruleset(), None
        return self._ruleset

    @property
    def label(self) -> str:
        """The namespace as a trace names it (its :class:`~simulator.engine.trace.Place`)."""
        return Place.of(self).label

    def addresses(self) -> list[Address]:
        return [i.address.ip for i in self.interfaces.values() if i.address is not None]

    def interface_holding(self, addr: Address, segment: tuple | None = None) -> Interface | None:
        """The interface holding ``addr`` (on ``segment``, when given), None when none does."""
        for i in self.interfaces.values():
            if i.address is not None and (segment is None or i.segment == segment) and i.address.ip == addr:
                return i
        return None

    def owns(self, addr: Address) -> bool:
        """Whether ``addr`` is local here: one of its addresses, or loopback (127.0.0.0/8; ::1 is lo's)."""
        if self._owned is None:
            self._owned = frozenset(self.addresses())
        return addr in self._owned or (int(addr) >> 24 == 127 and addr.version == 4)


@dataclass
class Layout:
    """The namespaces of a world, their interfaces and routes, and the L2 segments joining them."""

    namespaces: dict[str, Namespace]
    segments: dict[tuple, list[Interface]]
    ns_of: dict[str, str]  # container -> namespace id


@dataclass(eq=False)
class World:
    """A design laid out for one engine version: its addressing and published ports at once, its
    namespaces, interfaces and segments (:class:`Layout`) the first time one of them is read: the
    engine checks (and so `netsim check`) need only the addressing and the ports.

    A world holds one address family. :func:`build_world` gives the IPv4 one (``family`` 4); its
    :attr:`v6` is the same design's IPv6 side, a world of ``family`` 6 whose addressing, bindings
    and namespaces are the IPv6 ones (:func:`~simulator.engine.ipam.ipv6_view`), so that the walk
    and the reachability matrix run on it unchanged."""

    design: Design
    version: EngineVersion
    addressing: Addressing
    bindings: dict[str, list[Binding]]  # per host
    ephemeral: dict[str, list[Binding]]  # per host: published to a host port the engine picks (port 0 here)
    ignored_ports: dict[str, list[tuple[str, str]]]
    _layout: Layout | None = field(default=None, repr=False)
    family: int = 4
    ipv4: World | None = field(default=None, repr=False)  # a family-6 world's IPv4 side (docker-proxy relays to it)
    _v6: list = field(default_factory=list, repr=False)  # [] until v6 is read, then [the IPv6 world or None]

    @property
    def v6(self) -> World | None:
        """The IPv6 side of the design (a world of family 6), None when the design has no IPv6
        (:func:`design_has_ipv6`) or this world is itself the IPv6 side. Built the first time it is read."""
        if self.family != 4:
            return None
        if not self._v6:
            self._v6.append(_ipv6_world(self))
        return self._v6[0]

    @property
    def loopback(self) -> IfaceAddress:
        """The loopback address of this world's family (127.0.0.1/8 or ::1/128)."""
        return LOOPBACK_ADDRESS if self.family == 4 else LOOPBACK6_ADDRESS

    @property
    def layout(self) -> Layout:
        """The namespaces, segments and container → namespace map, built the first time they are read."""
        if self._layout is None:
            self._layout = _lay_out(self)
        return self._layout

    @property
    def laid_out(self) -> bool:
        """Whether :attr:`layout` has been built, all of it (not only what was read of an on-demand one)."""
        layout = self._layout
        return layout is not None and all(not isinstance(d, OnDemand) or d.filled for d in (layout.namespaces, layout.segments))

    def lay_out(self) -> None:
        """:attr:`layout`, all of it, now (an on-demand one is completed)."""
        for whole in (self.layout.namespaces, self.layout.segments):
            if isinstance(whole, OnDemand):
                whole.fill()

    def lay_out_on_demand(self) -> None:
        """Lay each namespace and segment out the first time it is read, not all at once: a trace
        reads the few its packet crosses (at 10,000 containers laying them all out took a tenth of
        `netsim trace`). Each is the one :attr:`layout` would hold; reading a whole dict (iterating,
        its length) lays out all of it first, in layout order."""
        if self._layout is None:
            self._layout = _on_demand_layout(self)

    @property
    def namespaces(self) -> dict[str, Namespace]:
        return self.layout.namespaces

    @property
    def segments(self) -> dict[tuple, list[Interface]]:
        return self.layout.segments

    @property
    def ns_of(self) -> dict[str, str]:  # container -> namespace id
        return self.layout.ns_of

    def namespace_of(self, container: str) -> Namespace:
        return self.namespaces[self.ns_of[container]]

    def host_ns(self, host: str) -> Namespace:
        return self.namespaces[f"host:{host}"]


def lan_segment(subnet: IPv4Network) -> tuple:
    return ("lan", str(subnet))


def _external_address(subnet: IPv4Network | IPv6Network, taken: set) -> Address:
    """The highest usable address of ``subnet`` not in ``taken`` (its broadcast address when none is free).
    An IPv6 subnet has no broadcast address: its last address is usable, its first (the subnet-router
    anycast address) is not."""
    if isinstance(subnet, IPv4Network):
        return highest_free(subnet, taken) or subnet.broadcast_address
    first = int(subnet.network_address)
    at = int(subnet.broadcast_address)
    while at > first and IPv6Address(at) in taken:
        at -= 1
    return IPv6Address(at) if at > first else subnet.broadcast_address


def design_has_ipv6(design: Design, addressing: Addressing) -> bool:
    """Whether the design has an IPv6 side: a dual-stack network, a host with an IPv6 LAN address or
    IPv6 on docker0, a port published on an IPv6 host address. Without one, netsim models IPv4 only
    (docker-proxy's ``[::]`` listeners of such a design are not probed)."""
    return bool(addressing.segments6) or any(h.lan_address6 is not None or h.daemon.ipv6 for h in design.hosts) or any(
        isinstance(pm.host_ip, IPv6Address) for c in design.containers for pm in c.ports)


def lan_peer_address6(design: Design, host_name: str, addressing: Addressing | None = None) -> IPv6Interface | None:
    """The LAN peer's IPv6 address on host ``host_name``'s LAN (the model's ``external`` over IPv6): the
    highest address of the host's ``lan_address6`` network that no host and no container holds, chosen
    as the IPv4 one is. None when the host has no IPv6 LAN address. ``addressing``: the design's, when
    the caller has it (else allocated here)."""
    lan6 = design.host(host_name).lan_address6
    if lan6 is None:
        return None
    taken = _peer_taken6(design, addressing if addressing is not None else allocate(design))
    return IPv6Interface((_external_address(lan6.network, taken), lan6.network.prefixlen))


def _peer_taken6(design: Design, addressing: Addressing) -> set:
    return {h.lan_address6.ip for h in design.hosts if h.lan_address6 is not None} | {
        ep.address for ep in addressing.endpoints6.values()}


def build_world(design: Design, engine_version: str | None = None) -> World:
    """The design on one engine version: addresses and published ports now, every namespace,
    interface and rule when first read (:attr:`World.layout`)."""
    version = parse_version(engine_version or design.hosts[0].engine_version)
    design = as_engine_sees_it(design, version)
    addressing = allocate(design)
    bindings: dict[str, list[Binding]] = {}
    ephemeral: dict[str, list[Binding]] = {}
    ignored: dict[str, list[tuple[str, str]]] = {}
    for host in design.hosts:
        hb, ign, eph = published_bindings(design, addressing, host, version)
        ephemeral[host.name] = eph
        bindings[host.name] = hb
        ignored[host.name] = ign
    return World(design, version, addressing, bindings, ephemeral, ignored)


def _ipv6_world(world: World) -> World | None:
    """The IPv6 side of a family-4 world (:attr:`World.v6`), whose networks have their IPv6 gateway modes
    (:func:`ipv6_side`)."""
    design, addressing, version = world.design, world.addressing, world.version
    if not design_has_ipv6(design, addressing):
        return None
    design = ipv6_side(design)
    bindings: dict[str, list[Binding]] = {}
    ephemeral: dict[str, list[Binding]] = {}
    ignored: dict[str, list[tuple[str, str]]] = {}
    for host in design.hosts:
        bindings[host.name], ignored[host.name], ephemeral[host.name] = published_bindings(
            design, addressing, host, version, family=6)
    return World(design, version, ipv6_view(design, addressing), bindings, ephemeral, ignored, family=6, ipv4=world)


def _lay_out(world: World) -> Layout:
    """Every namespace, interface, route and listener of the world, and its hosts' rules (built when
    first read: :attr:`Namespace.ruleset`)."""
    build = _Builder(world)
    namespaces: dict[str, Namespace] = {}
    segments: dict[tuple, list[Interface]] = {}
    for ns_id in build.order():
        ns = namespaces[ns_id] = build.namespace(ns_id, segments.get)
        for iface in ns.interfaces.values():
            if iface.segment is not None:
                segments.setdefault(iface.segment, []).append(iface)
    return Layout(namespaces, segments, build.ns_of)


class _Builder:
    """Builds the namespaces of a world one at a time, each the same whether all are built in order
    (:func:`_lay_out`) or one is asked for (:class:`OnDemand`): a namespace reads only the design,
    the addressing and the published ports, never another namespace (the external peer reads which
    interfaces a macvlan/ipvlan segment has, through the ``segment`` function it is given)."""

    def __init__(self, world: World):
        self.world = world
        self.design, self.version, self.addressing = world.design, world.version, world.addressing
        self.family = world.family
        # the whole addressing (IPv4, with the IPv6 side): what orders a container's endpoints
        self.base = world.ipv4.addressing if world.ipv4 is not None else world.addressing
        self.bridges_on: dict[str | None, list] = {}  # host -> its bridge segments, in allocation order
        for seg in self.addressing.segments.values():
            if seg.bridge is not None:
                self.bridges_on.setdefault(seg.host, []).append(seg)
        # container -> namespace id (in layout order: own namespaces and host mode, then shared ones)
        ns_of: dict[str, str] = {}
        self.own: dict[str, Container] = {}  # a namespace of its own (networks or none) -> its container
        sharing: list[Container] = []  # network_mode container:X
        hosted = False  # a container in host mode
        for c in self.design.containers:
            kind = c.mode.kind
            if kind is ModeKind.HOST:
                ns_of[c.name] = f"host:{c.host}"
                hosted = True
            elif kind is ModeKind.CONTAINER:
                sharing.append(c)
            else:
                ns_of[c.name] = ns_id = f"ctr:{c.name}"
                self.own[ns_id] = c
        for c in sharing:  # shared namespaces join their owner's
            owner = self.design.namespace_owner(c.name)
            if owner is not None and owner in ns_of:
                ns_of[c.name] = ns_of[owner]
        self.ns_of = ns_of
        # the containers living in each namespace, in design order, where they are not just its own
        self.residents: dict[str, list[Container]] = {}
        if sharing or hosted:
            crowded = {ns_of[c.name] for c in sharing if c.name in ns_of} | {
                ns_id for ns_id in ns_of.values() if ns_id.startswith("host:")}
            for c in self.design.containers:
                home = ns_of.get(c.name)
                if home is not None and home in crowded:
                    self.residents.setdefault(home, []).append(c)

    def order(self) -> list[str]:
        """Every namespace id, in layout order: hosts, containers (design order), the external peer."""
        return [f"host:{h.name}" for h in self.design.hosts] + list(self.own) + [EXTERNAL]

    def namespace(self, ns_id: str, segment: Callable[[tuple], list[Interface] | None]) -> Namespace:
        """The namespace ``ns_id`` (one of :meth:`order`); ``segment``: the interfaces laid out on a
        segment, read by the external peer only (the interfaces of the other namespaces)."""
        if ns_id == EXTERNAL:
            return self._external(segment)
        kind, _, name = ns_id.partition(":")
        ns = self._host(self.design.host(name)) if kind == "host" else self._container(self.own[ns_id])
        own = self.own.get(ns_id)
        residents = self.residents.get(ns_id, [own] if own is not None else ())
        for c in residents:  # every container listens in its namespace (host mode: the host's)
            if c.mode.kind is ModeKind.CONTAINER:
                ns.members.append(c.name)
            for lst in c.listeners:
                ns.listeners.setdefault((lst.port, lst.protocol.value), c.name)
        return ns

    def hosts_on(self, key: tuple) -> list[str]:
        """The host namespaces that may have an interface on segment ``key`` (:meth:`_host`: a LAN
        interface, bridges), in layout order."""
        if key[0] == "lan":
            return [f"host:{h.name}" for h in self.design.hosts if lan_segment(h.lan_address.network) == key]
        if key[0] == "bridge" and len(key) == 3 and self.design.has_host(key[2]):
            return [f"host:{key[2]}"]
        return []

    def networks_on(self, key: tuple) -> list[str]:
        """The networks whose containers' interfaces may be on segment ``key`` (:meth:`interface_segment`)."""
        if key[0] in ("bridge", "overlay") and len(key) >= 2:
            return [key[1]]
        return [n.name for n in self.design.networks if n.driver in (Driver.MACVLAN, Driver.IPVLAN)]

    def interface_segment(self, net: Network, ep, host_name: str) -> tuple:
        """The L2 segment of a container's interface for endpoint ``ep`` on ``net``."""
        if net.driver is Driver.OVERLAY:
            return ("overlay", net.name)
        if net.driver in (Driver.MACVLAN, Driver.IPVLAN):
            return lan_segment_for(self.design, net, host_name)
        return ("bridge", ep.segment[0], host_name)

    def _lan_address(self, host: Host) -> IfaceAddress | None:
        """The host's LAN address of the world's family (None: it has no IPv6 one)."""
        return host.lan_address if self.family == 4 else host.lan_address6

    def _host(self, host: Host) -> Namespace:
        design, world = self.design, self.world
        v4 = self.family == 4
        bridges = self.bridges_on.get(host.name, ())
        # IPv6: the engine turns forwarding on with the first IPv6 bridge (§18h, §18m), when ip_forward lets it
        # (setupIPv6Forwarding runs only with EnableIPForwarding, bridge_linux.go at v28.5.2)
        forwards = host.daemon.ip_forward and (v4 or bool(bridges))
        ns = Namespace(f"host:{host.name}", "host", host.name, ip_forward=forwards)
        _attach(ns, Interface("lo", ns.id, world.loopback, None, "lo"))
        lan = self._lan_address(host)
        _attach(ns, Interface(host.lan_interface, ns.id, lan, lan_segment(host.lan_address.network), "lan"))
        for seg in bridges:
            addr = ip_interface((seg.gateway, seg.subnet.prefixlen)) if seg.gateway else None
            _attach(ns, Interface(seg.bridge, ns.id, addr, ("bridge", seg.network, host.name), "bridge", network=seg.network))
        # rules and published ports
        hb, eph = world.bindings[host.name], world.ephemeral[host.name]
        ns._make_ruleset = _ruleset_maker(design, self.addressing, host, self.version, hb, tuple(eph), self.family)
        if v4:
            ns.routes.append(Route(DEFAULT_ROUTE, host.lan_interface, None))
            ns.routes.extend(Route(prefix, host.lan_interface, via) for prefix, via in host.gateways)
        elif lan is not None:
            ns.routes.append(Route(DEFAULT_ROUTE6, host.lan_interface, None))
        if host.daemon.userland_proxy:
            for b in hb:
                if design.has_network(b.network) and design.network(b.network).gateway_mode == "routed":
                    continue  # NAT disabled: the host port is ignored, no docker-proxy (getNATDisabled, moby 28.5.2)
                ns.proxies[(b.host_ip, b.host_port, b.protocol)] = b
        return ns

    def _endpoint_address(self, ep: Endpoint) -> IfaceAddress | None:
        """A container's address of the world's family on the network of (IPv4) endpoint ``ep``."""
        if self.family == 4:
            return ep.interface
        ep6 = self.addressing.endpoints.get((ep.container, ep.network))
        return ip_interface((ep6.address, ep6.prefixlen)) if ep6 is not None else None

    def _container(self, c) -> Namespace:
        design, addressing = self.design, self.addressing
        ns = Namespace(f"ctr:{c.name}", "container", c.host, members=[c.name])
        _attach(ns, Interface("lo", ns.id, self.world.loopback, None, "lo"))
        if c.mode.kind is ModeKind.NONE:
            return ns
        host = design.host(c.host)
        default = DEFAULT_ROUTE if self.family == 4 else DEFAULT_ROUTE6
        gw_net = None  # the first endpoint that offers a gateway (the embedded DNS searches its network first)
        order = ordered_endpoints(design, self.base, c, self.version)
        gw4, gw6 = gateway_endpoints(design, self.base, c, self.version, order)
        gw_ep = gw4 if self.family == 4 else gw6  # the endpoint giving this family's default route
        gw_ifname = None
        for idx, (ep, has_gw) in enumerate(order):
            net = _network(design, ep.network)
            ifname = f"eth{idx}"
            address = self._endpoint_address(ep)  # IPv6: None on a network without IPv6 (the link is there all the same)
            seg_key = self.interface_segment(net, ep, c.host) if address is not None else None
            if net.driver is Driver.OVERLAY:
                _attach(ns, Interface(ifname, ns.id, address, seg_key, "overlay", network=net.name))
                ns.has_embedded_dns = True
                if net.ingress and c.task_of is not None and (svc := design.service(c.task_of)) is not None and self.family == 4:
                    ns.task_filter = ingress_filter(ep.address, svc.ingress)
            elif net.driver in (Driver.MACVLAN, Driver.IPVLAN):
                parent = net.parent_interface or host.lan_interface
                _attach(ns, Interface(ifname, ns.id, address, seg_key, net.driver.value, network=net.name,
                                      parent=parent, mode=net.mode or ("bridge" if net.driver is Driver.MACVLAN else "l2")))
                ns.has_embedded_dns = True
            else:
                _attach(ns, Interface(ifname, ns.id, address, seg_key, "veth", network=net.name))
                if not net.default_bridge:
                    ns.has_embedded_dns = True
            if has_gw and gw_net is None:
                gw_net = ep.network
            if gw_ep is not None and ep.network == gw_ep.network:
                gw_ifname = ifname
        ns.gateway_network = gw_net
        if gw_ep is not None and gw_ifname is not None:
            # the family's gateway endpoint (rules.gateway_endpoints: one for both families until 27.x, §18i, §18u)
            seg = addressing.segments.get(gw_ep.segment) if ns.interfaces[gw_ifname].address is not None else None
            if seg is not None:
                ns.routes.append(Route(default, gw_ifname, seg.gateway))
        elif gw4 is None:
            for iface in list(ns.interfaces.values()):
                if iface.kind == "ipvlan" and iface.mode in ("l3", "l3s") and iface.address is not None:
                    ns.routes.append(Route(default, iface.name))
        return ns

    def _external(self, segment: Callable[[tuple], list[Interface] | None]) -> Namespace:
        """The external LAN peer: an address on each LAN, and on each macvlan/ipvlan subnet whose
        segment has an interface of another namespace."""
        design, addressing = self.design, self.addressing
        ext = Namespace(EXTERNAL, "external", None)
        if self.family == 4:
            taken = {h.lan_address.ip for h in design.hosts} | {
                ep.address for ep in addressing.endpoints.values()
            }
        else:
            taken = _peer_taken6(design, self.base)
        lans = {a.network: lan_segment(h.lan_address.network) for h in design.hosts if (a := self._lan_address(h)) is not None}
        for idx, subnet in enumerate(sorted(lans, key=str)):
            ext_addr = _external_address(subnet, taken)
            _attach(ext, Interface(f"eth{idx}", EXTERNAL, ip_interface((ext_addr, subnet.prefixlen)), lans[subnet], "lan"))
        # a macvlan/ipvlan parent is on the LAN: the peer also holds an address in those subnets
        for seg in addressing.segments.values():
            seg_net = design.network(seg.network) if design.has_network(seg.network) else None
            if seg_net is None or seg_net.driver not in (Driver.MACVLAN, Driver.IPVLAN):
                continue
            members = [i for i in segment(lan_segment_for(design, seg_net, seg.host)) or () if i.ns != EXTERNAL]
            if not members or any(i.address and seg.subnet == i.address.network for i in ext.interfaces.values()):
                continue
            ext_addr = _external_address(seg.subnet, taken | {seg.gateway} if seg.gateway else taken)
            _attach(ext, Interface(f"eth{len(ext.interfaces)}", EXTERNAL, ip_interface((ext_addr, seg.subnet.prefixlen)),
                                   members[0].segment, "lan"))
        for host in design.hosts:
            lan = self._lan_address(host)
            if lan is None:
                continue
            lan_if = next(i.name for i in ext.interfaces.values() if i.segment == lan_segment(host.lan_address.network)
                          and i.address is not None and i.address.network == lan.network)
            ext.routes.extend(Route(seg.subnet, lan_if, lan.ip, host_hint=host.name)
                              for seg in self.bridges_on.get(host.name, ()))
        return ext


def _on_demand_layout(world: World) -> Layout:
    """A :class:`Layout` whose namespaces and segments are built when first read (:class:`OnDemand`)."""
    build = _Builder(world)
    order = build.order()
    known = set(order)
    position = {ns_id: i for i, ns_id in enumerate(order)}
    by_network: dict[str, set[str]] = {}  # network -> the namespaces of containers with an endpoint on it

    def touching(key: tuple) -> list[str]:
        """The namespaces that may have an interface on segment ``key``, in layout order."""
        if not by_network:
            for (container, _), ep in build.addressing.endpoints.items():
                ns_id = f"ctr:{container}"
                if ns_id in build.own:
                    by_network.setdefault(ep.network, set()).add(ns_id)
                    by_network.setdefault(ep.segment[0], set()).add(ns_id)
        ctrs = set().union(*(by_network.get(net, ()) for net in build.networks_on(key)))
        return build.hosts_on(key) + sorted(ctrs, key=position.__getitem__)

    def others_on(key: tuple) -> list[Interface] | None:  # the interfaces on a segment, but the external peer's
        found = [i for ns_id in touching(key) for i in namespaces[ns_id].interfaces.values() if i.segment == key]
        return found or None

    def make_namespace(ns_id: object) -> Namespace | None:
        return build.namespace(ns_id, others_on) if isinstance(ns_id, str) and ns_id in known else None

    def make_segment(key: object) -> list[Interface] | None:
        if not isinstance(key, tuple):
            return None
        found = (others_on(key) or []) + [i for i in namespaces[EXTERNAL].interfaces.values() if i.segment == key]
        return found or None

    def all_segments() -> dict[tuple, list[Interface]]:
        whole: dict[tuple, list[Interface]] = {}
        for ns in namespaces.values():  # every namespace, in layout order
            for iface in ns.interfaces.values():
                if iface.segment is not None:
                    whole.setdefault(iface.segment, []).append(iface)
        return whole

    namespaces: OnDemand = OnDemand(make_namespace, lambda: {ns_id: namespaces[ns_id] for ns_id in order})
    segments: OnDemand = OnDemand(make_segment, all_segments)
    return Layout(namespaces, segments, build.ns_of)


def _attach(ns: Namespace, iface: Interface) -> None:
    """``iface`` in ``ns``, with the connected route of its address."""
    ns.interfaces[iface.name] = iface
    if iface.address is not None:
        ns.routes.append(Route(iface.address.network, iface.name))


def _ruleset_maker(design: Design, addressing: Addressing, host: Host, version: EngineVersion,
                   bindings: list[Binding], ephemeral: tuple[Binding, ...], family: int = 4) -> Callable[[], Ruleset]:
    return lambda: build_ruleset(design, addressing, host, version, bindings, ephemeral, family)


def as_engine_sees_it(design: Design, version: EngineVersion) -> Design:
    """The design with the options this engine version ignores taken out: an unknown bridge
    gateway mode is an unknown driver option to older engines, which then behave as nat. Its hosts
    run ``version`` (the addressing reads a host's engine line: docker0's IPv6 addresses, the ULA
    pool, macvlan gateways), which a world built for another version than the design names needs."""
    if any(_line_of(h.engine_version) != version for h in design.hosts):
        design = replace(design, hosts=tuple(replace(h, engine_version=str(version)) for h in design.hosts))
    modes = version.gateway_modes
    if all(n.gateway_mode in modes and n.gateway_mode6 in modes for n in design.networks):
        return design
    nets = tuple(replace(n, gateway_mode=n.gateway_mode if n.gateway_mode in modes else GatewayMode.NAT,
                         gateway_mode6=n.gateway_mode6 if n.gateway_mode6 in modes else GatewayMode.NAT)
                 for n in design.networks)
    return replace(design, networks=nets)


def ipv6_side(design: Design) -> Design:
    """The design as its IPv6 side reads it: each network's gateway mode is its IPv6 one
    (``gateway_mode6``, com.docker.network.bridge.gateway_mode_ipv6), independent of the IPv4 one
    (confirmed on 28.5.2 and 29.7.2: a network routed over IPv4 publishes over IPv6 with NAT, §18t)."""
    if all(n.gateway_mode == n.gateway_mode6 for n in design.networks):
        return design
    return replace(design, networks=tuple(replace(n, gateway_mode=n.gateway_mode6) for n in design.networks))


def _line_of(text: str) -> EngineVersion | None:
    try:
        return parse_version(text)
    except UnknownEngineVersion:
        return None


def lan_segment_for(design: Design, net: Network, host_name: str | None) -> tuple:
    """The L2 segment of a macvlan/ipvlan network's children on one host."""
    host = design.host(host_name) if host_name else design.hosts[0]
    if net.parent is None:  # no parent: the engine makes a dummy link, an island of its own
        return ("dummy", host.name, net.name)
    parent = net.parent_interface
    assert parent is not None  # net.parent is set
    if net.driver is Driver.IPVLAN and (net.mode or "l2") in ("l3", "l3s"):
        return ("ipvlan-l3", host.name, parent)
    if parent == host.lan_interface or (net.vlan is None and "." not in parent):
        return lan_segment(host.lan_address.network)
    return ("l2", host.name, parent)


def _network(design: Design, name: str) -> Network:
    if name == GWBRIDGE:
        return gwbridge_network(())
    return design.network(name)

