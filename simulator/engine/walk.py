"""Walk one connection attempt through the simulated namespaces, hop by hop.

The walk follows what the kernel does: route lookup in the sender, link-layer delivery
on a segment (bridge, LAN, macvlan/ipvlan, overlay), and in a Docker host raw → nat
PREROUTING → routing → filter FORWARD/INPUT → nat POSTROUTING, then a socket lookup
(a container's listener, docker-proxy, or a host-network process). Every decision is
recorded as a Step, and the walk ends in a :class:`Disposition`.

Reasons are written without the names of the sender and the receiver, so that the
reachability matrix can reuse one walk for every probe of the same class.
"""

from __future__ import annotations

from ipaddress import IPv4Address, IPv6Address

from .netfilter import Packet, Verdict
from .topology import Interface, Namespace, Route, World
from .trace import (
    Address,
    Disposition,
    FilterStep,
    ForgedFrameStep,
    Hop,
    HopLimitStep,
    L2Outcome,
    L2Step,
    NatAction,
    NatStep,
    Place,
    ProxyOutcome,
    ProxyStep,
    RouteOutcome,
    RouteStep,
    SocketStep,
    Step,
    Trace,
    UnmanagedStep,
)

MAX_HOPS = 12  # namespaces a packet may enter; a design's longest real path is a handful
_LOCALHOST: dict[int, Address] = {4: IPv4Address("127.0.0.1"), 6: IPv6Address("::1")}
_ANY: dict[int, Address] = {4: IPv4Address("0.0.0.0"), 6: IPv6Address("::")}  # docker-proxy bound to every address of the family
_INDEX = "_walk_index"  # the attribute of a World holding its _Index


class _Index:
    """What every walk of one world looks up, computed once: who holds an address on each segment,
    each namespace's routes as integers and its Place. A world is only read once built (topology.py),
    so nothing here goes stale; an index lives as long as its world."""

    __slots__ = ("any", "holders", "localhost", "namespaces", "onward", "owned", "places", "routes", "v4", "world")

    def __init__(self, world: World):
        self.world = world
        self.namespaces = world.namespaces
        self.holders: dict[tuple, dict[int, list[tuple[Interface, Address]]]] = {}
        self.routes: dict[str, _Routes] = {}
        self.places: dict[str, Place] = {}
        self.owned: dict[str, frozenset[int]] = {}
        self.v4 = world.family == 4
        self.localhost = _LOCALHOST[world.family]
        self.any = _ANY[world.family]
        self.onward: dict[tuple, tuple] = {}  # docker-proxy's own connections, as walked (_onward)

    def loopback(self, n: int) -> bool:
        """Whether address ``n`` (an int of the world's family) is a loopback address: 127.0.0.0/8, ::1."""
        return n >> 24 == 127 if self.v4 else n == 1

    def on_segment(self, segment: tuple) -> dict[int, list[tuple[Interface, Address]]]:
        """The interfaces of ``segment`` holding each address (as an int), in segment order, with the address."""
        found = self.holders.get(segment)
        if found is None:
            found = {}
            for iface in self.world.segments.get(segment, ()):
                if iface.address is not None:
                    ip = iface.address.ip
                    found.setdefault(int(ip), []).append((iface, ip))
            self.holders[segment] = found
        return found

    def route_table(self, ns: Namespace) -> _Routes:
        """``ns``'s routes by prefix (:class:`_Routes`)."""
        table = self.routes.get(ns.id)
        if table is None:
            table = self.routes[ns.id] = _Routes(ns.routes)
        return table

    def owns(self, ns: Namespace, addr: Address) -> bool:
        """Whether ``addr`` is local to ``ns`` (:meth:`Namespace.owns`, on integers; ::1 is lo's own)."""
        owned = self.owned.get(ns.id)
        if owned is None:
            owned = self.owned[ns.id] = frozenset(int(a) for a in ns.addresses())
        n = int(addr)
        return n in owned or (n >> 24 == 127 and self.v4)

    def place(self, ns: Namespace) -> Place:
        found = self.places.get(ns.id)
        if found is None:
            found = self.places[ns.id] = Place.of(ns)
        return found


class _Routes:
    """A namespace's routes by prefix: for each prefix length (longest first) its netmask, and the routes
    of each network in their order, so a lookup is one probe per length rather than a scan of every route."""

    __slots__ = ("by_net", "lengths")

    def __init__(self, routes: list[Route]):
        self.by_net: dict[tuple[int, int], list[Route]] = {}
        for r in routes:
            self.by_net.setdefault((r.dest.prefixlen, int(r.dest.network_address)), []).append(r)
        self.lengths = sorted({(r.dest.prefixlen, int(r.dest.netmask)) for r in routes}, reverse=True)

    def lookup(self, dst: int, prefer_host: str | None) -> Route | None:
        """The longest prefix holding ``dst``; of several routes with that prefix, the first, unless a later
        one's host hint is ``prefer_host`` (None matching None): then the last such one."""
        for length, mask in self.lengths:
            found = self.by_net.get((length, dst & mask))
            if found is not None:
                best = found[0]
                for r in found[1:]:
                    if r.host_hint == prefer_host:
                        best = r
                return best
        return None


def _index(world: World) -> _Index:
    index = world.__dict__.get(_INDEX)
    if index is None:
        index = world.__dict__[_INDEX] = _Index(world)
    return index


class _Done(Exception):
    def __init__(self, disposition: Disposition, reason: str, responder: str | None = None):
        self.disposition = disposition
        self.reason = reason
        self.responder = responder


class _Walk:
    """One walk under way: the hops done, the namespace it is in and that namespace's steps so far."""

    __slots__ = ("arrival_iface", "hops", "index", "place", "prefer_host", "steps", "world")

    def __init__(self, world: World, prefer_host: str | None, index: _Index):
        self.world = world
        self.prefer_host = prefer_host
        self.index = index
        self.hops: list[Hop] = []
        self.place: Place | None = None
        self.steps: list[Step] = []
        self.arrival_iface: str | None = None  # where the packet entered the current namespace

    def enter(self, ns: Namespace) -> None:
        self.flush()
        self.place = self.index.place(ns)
        if len(self.hops) >= MAX_HOPS:
            self.step(HopLimitStep(MAX_HOPS, _cycle([h.place for h in self.hops] + [self.place])))
            raise _Done(Disposition.LOOP, "routing loop: the address is routed in a circle, "
                                          "until its TTL runs out (the kernel answers ICMP time exceeded)")

    def cross_family(self, ns: Namespace) -> Namespace:
        """Go on in the other family's world (docker-proxy on ``::`` relaying to a container's IPv4
        address): ``ns`` there, whose steps so far stay in this hop."""
        other = self.world.ipv4
        assert other is not None, "only a family-6 world's docker-proxy relays to the other family"
        self.world, self.index = other, _index(other)
        return self.index.namespaces[ns.id]

    def flush(self) -> None:
        if self.place is not None:
            self.hops.append(Hop(self.place, tuple(self.steps)))
        self.place, self.steps = None, []

    def step(self, step: Step) -> None:
        self.steps.append(step)


def walk(world: World, src_ns: str, dst: Address, port: int, proto: str, prefer_host: str | None = None) -> Trace:
    """Simulate a connection from namespace ``src_ns`` to ``dst:port/proto`` (an address of the world's family)."""
    w = _Walk(world, prefer_host, _index(world))
    ns = w.index.namespaces[src_ns]
    w.enter(ns)
    try:
        _originate(w, ns, dst, port, proto)
    except _Done as done:
        w.flush()
        return Trace(tuple(w.hops), done.disposition, done.reason, done.responder)
    raise AssertionError("walk ended without a disposition")  # pragma: no cover


def walk_arriving(world: World, host: str, dst: Address, port: int, proto: str) -> Trace:
    """A LAN peer's frame for ``dst``, sent to ``host``'s MAC address, arriving on its LAN interface.

    For crafted packets the matrix never sends (moby#45610: 127.0.0.1 with the host's MAC).
    """
    from .topology import EXTERNAL

    w = _Walk(world, host, _index(world))
    ext = world.namespaces[EXTERNAL]
    w.enter(ext)
    lan_name = world.design.host(host).lan_interface
    w.step(ForgedFrameStep(dst, port, proto, host, lan_name))
    host_ns = world.host_ns(host)
    lan = host_ns.interfaces[lan_name]
    src = next(i.address.ip for i in ext.interfaces.values() if i.address is not None)
    w.enter(host_ns)
    try:
        _arrive(w, host_ns, lan, Packet(src, dst, proto, port))
    except _Done as done:
        w.flush()
        return Trace(tuple(w.hops), done.disposition, done.reason, done.responder)
    raise AssertionError("walk ended without a disposition")  # pragma: no cover


def _cycle(places: list[Place]) -> tuple[Place, ...]:
    """The repeating part of the places entered, once (host a, host b, host a); () when none repeats."""
    last = places[-1]
    before = [i for i, p in enumerate(places[:-1]) if p == last]
    return tuple(places[before[-1]:]) if before else ()


# --- sending -------------------------------------------------------------------------

def _route(w: _Walk, ns: Namespace, dst: Address):  # -> Route | None (callers that know one exists use it)
    """The route the kernel picks for ``dst`` in ``ns`` (:meth:`_Routes.lookup`)."""
    return w.index.route_table(ns).lookup(int(dst), w.prefer_host)


def _task_output(w: _Walk, ns: Namespace, pkt: Packet) -> None:
    """A routing-mesh task sends from its ingress address: its own filter rules drop it."""
    if ns.task_filter is not None:
        v = ns.task_filter.evaluate("OUTPUT", pkt)
        if v.rule is not None and v.target != "ACCEPT":
            _verdict_step(w, "filter", "OUTPUT", v)
            _drop(w, v, "filter", "packet from the task's ingress address")


def _originate(w: _Walk, ns: Namespace, dst: Address, port: int, proto: str) -> None:
    if w.index.owns(ns, dst):
        w.step(RouteStep(RouteOutcome.LOCAL, dst))
        _task_output(w, ns, Packet(dst, dst, proto, port, None, "lo"))
        if ns.kind == "host":
            local = Packet(dst, dst, proto, port, "lo", dst_local=True, src_local=True)
            # nat OUTPUT sees locally destined packets too: without docker-proxy its jump to DOCKER
            # also covers 127.0.0.0/8 and the bridge gets route_localnet=1, so 127.0.0.1:<published>
            # reaches the container (setupLoopbackAddressesRouting, moby bridge_linux.go at v28.5.2;
            # confirmed on 28.5.2 and 29.7.2, docs/verified-engines.md)
            new = _dnat(w, ns, "OUTPUT", local)
            if new.dst != local.dst:
                _rerouted(w, ns, new)
            _host_input(w, ns, local)
        _socket(w, ns, dst, port, proto)
    route = _route(w, ns, dst)
    if route is None:
        w.step(RouteStep(RouteOutcome.NONE, dst))
        raise _Done(Disposition.NO_ROUTE, "the sender has no route to the address (no default gateway)")
    iface = ns.interfaces[route.iface]
    src = iface.address.ip if iface.address else dst
    next_hop = route.via or dst
    if route.via is None:
        w.step(RouteStep(RouteOutcome.CONNECTED, dst, iface.name, prefix=route.dest))
    else:
        w.step(RouteStep(RouteOutcome.GATEWAY, dst, iface.name, route.via, route.dest))
    if ns.kind == "host":
        _host_output(w, ns, Packet(src, dst, proto, port, None, iface.name, src_local=True), iface, next_hop)
    _task_output(w, ns, Packet(src, dst, proto, port, None, iface.name))
    _transmit(w, ns, iface, next_hop, Packet(src, dst, proto, port))


def _transmit(w: _Walk, ns: Namespace, iface: Interface, next_hop: Address, pkt: Packet) -> None:
    """Link-layer delivery on ``iface``'s segment to whoever owns ``next_hop``."""
    if iface.segment is None:
        raise _Done(Disposition.NO_ROUTE, f"no link for {next_hop}")
    peers = [p for p in w.index.on_segment(iface.segment).get(int(next_hop), ()) if p[0] is not iface]
    if not peers:
        if iface.segment[0] == "lan":
            w.step(L2Step(L2Outcome.LEAVES_LAN, next_hop, iface.segment[0]))
            raise _Done(Disposition.LEFT_MODEL, "the packet leaves the design through the LAN (towards a router netsim does not model)")
        w.step(L2Step(L2Outcome.NO_NEIGHBOUR, next_hop, iface.segment[0]))
        raise _Done(Disposition.NO_ROUTE, "nothing on the segment owns the next hop")
    peer, peer_ip = peers[0]
    dest_ns = w.index.namespaces[peer.ns]
    _l2_checks(w, iface, peer, dest_ns)
    if iface.kind == "veth" and peer.kind == "veth":
        # bridged between two containers: br_netfilter sends it through the host's FORWARD chain
        assert dest_ns.host is not None, "a container's namespace is on a host"
        host_ns = w.world.host_ns(dest_ns.host)
        bridge = _bridge_of(w, iface)
        w.step(L2Step(L2Outcome.BRIDGED, peer_ip, iface.segment[0], bridge=bridge))
        fwd = pkt.via(bridge, bridge)
        _filter_forward(w, host_ns, fwd, "bridged")
        if not w.index.v4:  # a packet the rules let through may still find no neighbour
            _neighbour_discovery(w, host_ns, pkt.src, peer_ip, bridge)
    else:
        w.step(L2Step(L2Outcome.DELIVERED, peer_ip, iface.segment[0], device=peer.name))
    w.enter(dest_ns)
    _arrive(w, dest_ns, peer, pkt)


def _neighbour_discovery(w: _Walk, host_ns: Namespace, src: Address, target: Address, bridge: str) -> None:
    """IPv6 between two containers of a bridge: the sender first solicits the target's link-layer address,
    an ICMPv6 packet to the solicited-node multicast address ff02::1:ffXX:XXXX (RFC 4291 §2.7.1), which is
    bridged too, so br_netfilter sends it through the host's ip6tables FORWARD. An internal network's rules
    before 24.0.6 drop it (its destination is outside the subnet): no neighbour, no route to host
    (:attr:`~.versions.EngineVersion.ip6tables_internal_spares_bridged`; measured on 20.10.24). Asked
    after the packet's own FORWARD verdict: a packet the rules drop anyway (ICC off) is explained by that."""
    rs = host_ns.ruleset
    if rs is None or not rs.managed:
        return
    solicited = IPv6Address(int(IPv6Address("ff02::1:ff00:0")) | (int(target) & 0xFFFFFF))
    v = rs.filter.evaluate("FORWARD", Packet(src, solicited, "ipv6-icmp", 0, bridge, bridge))
    if v.target == "ACCEPT":
        return
    _verdict_step(w, "filter", "FORWARD", v)
    w.step(L2Step(L2Outcome.NO_NEIGHBOUR, target, "bridge", bridge=bridge))
    raise _Done(Disposition.NO_ROUTE, "neighbour discovery failed: the solicitation, sent to a multicast address outside "
                                      f"the subnet, was dropped by {v.describe('filter')}: no route to host")


def _bridge_of(w: _Walk, iface: Interface) -> str:
    for p in w.world.segments.get(iface.segment, ()) if iface.segment is not None else ():
        if p.kind == "bridge":
            return p.name
    return "bridge"


def _l2_checks(w: _Walk, a: Interface, b: Interface, b_ns: Namespace) -> None:
    kinds = {a.kind, b.kind}
    if kinds & {"macvlan", "ipvlan"}:
        child, other = (a, b) if a.kind in ("macvlan", "ipvlan") else (b, a)
        assert child.segment is not None, "a macvlan/ipvlan link is on a segment"
        other_ns = w.index.namespaces[other.ns]
        child_host = w.index.namespaces[child.ns].host
        if other.kind == "lan" and other_ns.kind == "host" and other_ns.host == child_host:
            w.step(L2Step(L2Outcome.PARENT_ISOLATION, other.address.ip if other.address else None, child.segment[0],
                          device=other.name, driver=child.kind))
            raise _Done(Disposition.DROPPED_L2, f"{child.kind} isolation: the host cannot reach its own {child.kind} containers through the parent interface (and vice versa)")
        if a.kind == b.kind == "macvlan" and (a.mode or "bridge") == "private":
            raise _Done(Disposition.DROPPED_L2, "macvlan private mode: containers on the same parent cannot talk")
        if a.kind == b.kind == "macvlan" and (a.mode or "bridge") == "vepa":
            raise _Done(Disposition.LEFT_MODEL, "macvlan vepa mode: frames between containers go through the external switch, which netsim does not model")


# --- receiving ------------------------------------------------------------------------

def _arrive(w: _Walk, ns: Namespace, iface: Interface, pkt: Packet) -> None:
    w.arrival_iface = iface.name
    if ns.kind == "host":  # only a host's rules read the interface a packet came in through
        _host_prerouting(w, ns, iface, pkt.via(iface.name, pkt.out_iface))
    if w.index.owns(ns, pkt.dst) and not w.index.loopback(int(pkt.dst)):
        _socket(w, ns, pkt.dst, pkt.dport, pkt.proto)
    w.step(RouteStep(RouteOutcome.NOT_ROUTER, pkt.dst))
    raise _Done(Disposition.NO_ROUTE, "the receiving namespace does not own the address and is not a router")


def _verdict_step(w: _Walk, table: str, chain: str, v: Verdict) -> None:
    w.step(FilterStep(table, chain, v.target, v.path, v.rule.text if v.rule is not None else None, v.policy))


def _drop(w: _Walk, v: Verdict, table: str, what: str) -> None:
    if any("ISOLATION" in c or "INTERNAL" in c for c in v.path):
        disposition, why = Disposition.DROPPED_ISOLATION, "network isolation"
    elif table == "raw":
        disposition, why = Disposition.DROPPED_FILTER, "the engine's raw-table protection"
    elif v.rule is None:
        disposition, why = Disposition.DROPPED_FILTER, f"the {v.path[0]} policy"
    else:
        disposition, why = Disposition.DROPPED_FILTER, "a filter rule"
    raise _Done(disposition, f"{what} dropped by {why}: {v.describe(table)}")


def _host_prerouting(w: _Walk, ns: Namespace, iface: Interface, pkt: Packet) -> None:
    rs = ns.ruleset
    if rs is not None:
        v = rs.raw.evaluate("PREROUTING", pkt)
        if v.target == "DROP":
            _verdict_step(w, "raw", "PREROUTING", v)
            _drop(w, v, "raw", "arriving packet")
    pkt = pkt.local(w.index.owns(ns, pkt.dst))
    pkt = _dnat(w, ns, "PREROUTING", pkt)
    if w.index.loopback(int(pkt.dst)):  # the martian check is in routing, after nat PREROUTING (moby#45610)
        w.step(RouteStep(RouteOutcome.MARTIAN, pkt.dst, iface.name))
        raise _Done(Disposition.DROPPED_FILTER, "loopback destination arriving from outside the host is dropped by the kernel")
    if w.index.owns(ns, pkt.dst):
        _host_input(w, ns, pkt)
    _host_forward(w, ns, pkt)


def _dnat(w: _Walk, ns: Namespace, chain: str, pkt: Packet) -> Packet:
    rs = ns.ruleset
    if rs is None:
        return pkt
    v = rs.nat.evaluate(chain, pkt)
    if v.target == "DNAT" and v.rule is not None and v.rule.to_destination:
        addr, port = v.rule.to_destination
        w.step(NatStep(chain, NatAction.DNAT, v.rule.text, pkt.dst, addr, pkt.dport, port))
        return pkt.with_(dst=addr, dport=port, dst_local=w.index.owns(ns, addr))
    return pkt


def _host_input(w: _Walk, ns: Namespace, pkt: Packet) -> None:
    if ns.ruleset is not None and pkt.in_iface != "lo":
        v = ns.ruleset.filter.evaluate("INPUT", pkt)
        if v.target != "ACCEPT":
            _verdict_step(w, "filter", "INPUT", v)
            _drop(w, v, "filter", "packet to the host")
    w.step(RouteStep(RouteOutcome.HOST_LOCAL, pkt.dst))
    _socket(w, ns, pkt.dst, pkt.dport, pkt.proto)


def _host_forward(w: _Walk, ns: Namespace, pkt: Packet) -> None:
    if not ns.ip_forward:
        w.step(RouteStep(RouteOutcome.FORWARD_OFF, pkt.dst))
        raise _Done(Disposition.DROPPED_FILTER, "the host does not forward packets (ip_forward off)")
    route = _route(w, ns, pkt.dst)
    iface = ns.interfaces[route.iface]
    w.step(RouteStep(RouteOutcome.FORWARD, pkt.dst, iface.name))
    fwd = pkt.via(pkt.in_iface, iface.name)
    if iface.kind == "lan" and route.via is None and (
        iface.segment is None or int(pkt.dst) not in w.index.on_segment(iface.segment)
    ):
        w.step(RouteStep(RouteOutcome.TO_LAN_ROUTER, pkt.dst, iface.name))
        raise _Done(Disposition.LEFT_MODEL, "the host routes the packet out of its LAN interface (no network of the design holds the address)")
    _filter_forward(w, ns, fwd, "forwarded packet")
    _postrouting(w, ns, fwd)
    _transmit(w, ns, iface, route.via or pkt.dst, pkt.via(None, None))


def _filter_forward(w: _Walk, ns: Namespace, pkt: Packet, what: str) -> None:
    if ns.ruleset is None:
        return
    if not ns.ruleset.managed:
        w.step(UnmanagedStep("filter", "FORWARD"))
        return
    v = ns.ruleset.filter.evaluate("FORWARD", pkt)
    _verdict_step(w, "filter", "FORWARD", v)
    if v.target != "ACCEPT":
        _drop(w, v, "filter", what)


def _postrouting(w: _Walk, ns: Namespace, pkt: Packet) -> None:
    if ns.ruleset is None:
        return
    v = ns.ruleset.nat.evaluate("POSTROUTING", pkt)
    if v.target == "MASQUERADE" and v.rule is not None:
        out = ns.interfaces.get(pkt.out_iface or "")
        w.step(NatStep("POSTROUTING", NatAction.MASQUERADE, v.rule.text, pkt.src,
                       out.address.ip if out is not None and out.address is not None else None, device=pkt.out_iface))


def _host_output(w: _Walk, ns: Namespace, pkt: Packet, iface: Interface, next_hop: Address) -> None:
    """A host process sends: nat OUTPUT may DNAT (published ports on host addresses)."""
    pkt = pkt.local(w.index.owns(ns, pkt.dst))
    new = _dnat(w, ns, "OUTPUT", pkt)
    if new.dst != pkt.dst:
        _rerouted(w, ns, new)


def _rerouted(w: _Walk, ns: Namespace, new: Packet) -> None:
    """A host's packet after nat OUTPUT changed its destination: delivered or sent again."""
    if w.index.owns(ns, new.dst):
        _host_input(w, ns, new)
    route = _route(w, ns, new.dst)
    out = ns.interfaces[route.iface]
    if not w.index.v4 and w.index.loopback(int(new.src)):
        # IPv6 has no route_localnet: a packet from ::1 never leaves lo (docs/confirmed-rules.md §18v)
        w.step(RouteStep(RouteOutcome.MARTIAN, new.dst, out.name))
        raise _Done(Disposition.DROPPED_FILTER, "the DNATed packet keeps its source ::1, which the kernel does not route "
                                                "off the loopback interface (IPv6 has no route_localnet): it is dropped")
    w.step(RouteStep(RouteOutcome.REROUTED, new.dst, out.name))
    _transmit(w, ns, out, route.via or new.dst, new.via(None, None))


# --- sockets -----------------------------------------------------------------------

def _socket(w: _Walk, ns: Namespace, dst: Address, port: int, proto: str) -> None:
    owner = ns.listeners.get((port, proto))
    if owner is not None:
        w.step(SocketStep(dst, port, proto, owner))
        raise _Done(Disposition.DELIVERED, _delivered_reason(w), owner)
    if ns.kind == "host":
        binding = _proxy_for(w.index, ns, dst, port, proto)
        if binding is not None and proto == "udp" and not _udp_reply_source_ok(w, ns, dst):
            w.step(_proxy_step(ProxyOutcome.UDP_REPLY_LOST, dst, binding, port, proto))
            raise _Done(Disposition.DROPPED_FILTER, "UDP through docker-proxy answers only when the client dials the host address facing it (its own gateway)")
        if binding is not None:
            w.step(_proxy_step(ProxyOutcome.CONNECTS, dst, binding, port, proto))
            if binding.container_ip.version != w.world.family:  # [::]:port relayed to an IPv4 address (§18e)
                _originate(w, w.cross_family(ns), binding.container_ip, binding.container_port, proto)
            else:
                _onward(w, ns, binding.container_ip, binding.container_port, proto)
    w.step(SocketStep(dst, port, proto))
    raise _Done(Disposition.REFUSED, f"reached the namespace, but nothing listens on {port}/{proto} there")


def _onward(w: _Walk, ns: Namespace, dst: Address, port: int, proto: str) -> None:
    """docker-proxy's own connection from host ``ns`` to ``dst:port``: walked once per world, then
    replayed. What it does reads nothing of the walk that led to the proxy but how many namespaces
    it entered (the hop limit) and, once delivered, the steps before it (the reason is made again);
    a leg that ends in a routing loop (whose reason names the places entered before) is not kept."""
    index = w.index
    key = (ns.id, int(dst), port, proto, w.prefer_host, len(w.hops))
    kept = index.onward.get(key)
    if kept is not None:
        steps, hops, place, last, disposition, reason, responder = kept
        w.steps.extend(steps)
        if place is not None:  # it entered other namespaces: the host's hop is done, theirs come as walked
            w.flush()
            w.hops.extend(hops)
            w.place, w.steps = place, list(last)
        raise _Done(disposition, _delivered_reason(w) if reason is None else reason, responder)
    hops_before, steps_before = len(w.hops), len(w.steps)
    try:
        _originate(w, ns, dst, port, proto)
    except _Done as done:
        if done.disposition is not Disposition.LOOP:
            if len(w.hops) == hops_before:  # it never left the host
                leg: tuple = (tuple(w.steps[steps_before:]), (), None, ())
            else:
                leg = (w.hops[hops_before].steps[steps_before:], tuple(w.hops[hops_before + 1:]), w.place, tuple(w.steps))
            reason = None if done.disposition is Disposition.DELIVERED else done.reason  # delivered: made from the steps
            index.onward[key] = (*leg, done.disposition, reason, done.responder)
        raise


def _udp_reply_source_ok(w: _Walk, ns: Namespace, dst: Address) -> bool:
    """docker-proxy's UDP socket is bound to 0.0.0.0: replies leave from the address routing chooses."""
    arrival = w.arrival_iface
    if arrival is None or arrival == "lo":
        return True
    iface = ns.interfaces.get(arrival)
    return iface is not None and iface.address is not None and iface.address.ip == dst


def _proxy_for(index: _Index, ns: Namespace, dst: Address, port: int, proto: str):
    exact = ns.proxies.get((dst, port, proto))
    if exact is not None:
        return exact
    if index.loopback(int(dst)) and dst != index.localhost:
        return None
    return ns.proxies.get((index.any, port, proto))


def _proxy_step(outcome: ProxyOutcome, dialled: Address, binding, port: int, proto: str) -> ProxyStep:
    return ProxyStep(outcome, dialled, binding.host_ip, port, proto, binding.container_ip, binding.container_port)


def _delivered_reason(w: _Walk) -> str:
    """How the packet got there, from the steps: published port, docker-proxy, bridge, routing, links."""
    parts: list[str] = []
    bridged = False
    for s in [*(step for hop in w.hops for step in hop.steps), *w.steps]:
        if isinstance(s, NatStep) and s.action is NatAction.DNAT:
            parts.append("published port (DNAT)")
        elif isinstance(s, ProxyStep):
            parts.append("docker-proxy")
        elif isinstance(s, L2Step) and s.outcome is L2Outcome.BRIDGED:
            parts.append(f"bridged on {s.bridge}")
            bridged = True
        elif isinstance(s, FilterStep) and s.chain == "FORWARD" and not bridged:
            parts.append("routed through the host")
        elif isinstance(s, UnmanagedStep) and not bridged:
            parts.append("routed through the host (no ip6tables rules)")
        elif isinstance(s, L2Step) and s.outcome is L2Outcome.DELIVERED:
            parts.append(f"{s.segment} link")
    seen = list(dict.fromkeys(parts))
    return "delivered" + (": " + ", ".join(seen) if seen else " locally")
