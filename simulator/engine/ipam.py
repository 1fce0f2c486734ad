"""Address allocation as Docker's default IPAM does it.

Per host, in creation order: docker0 takes the first default pool (or ``bip``);
docker_gwbridge the next one when the host runs overlays; then each network gets its
explicit subnet or the first default-pool subnet that overlaps no other network and
no route of the host. Gateways are the first usable address unless given.
Containers get the lowest free address of the subnet (or ``ip_range``); static
addresses are reserved first, as netsim deploys static containers first.
Overlays come from the swarm pool 10.0.0.0/8 in /24s (10.0.0.0/24 is the ingress).

The work is bounded by the number of networks and containers, not by the size of a pool:
a search for a free subnet jumps past whole taken ranges and resumes where the previous
one stopped (nothing is ever given back), and so does a segment's search for a free
address. A pool with nothing left is a problem naming the network (or the daemon's pools).
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right, insort
from collections.abc import Callable
from dataclasses import dataclass, field
from ipaddress import IPv4Address, IPv4Interface, IPv4Network
from typing import cast

from ..cidr import interface_of
from ..model import INGRESS_SUBNET, SWARM_DEFAULT_POOL, Container, Design, Driver, Host, ModeKind, Network
from .ipam6 import Endpoint6, Segment6, allocate6, default_bridge_v6, engine_of, has_ipv6, overlay_segments

GWBRIDGE = "docker_gwbridge"


@dataclass(frozen=True, slots=True)
class Segment:
    """One instance of a network: a local network on one host, or an overlay everywhere."""

    network: str
    host: str | None  # None for swarm-scope (overlay) networks
    subnet: IPv4Network
    gateway: IPv4Address | None
    bridge: str | None  # host-side bridge device for bridge networks (docker0, br-<name>)

    @property
    def key(self) -> tuple[str, str | None]:
        return (self.network, self.host)


@dataclass(frozen=True, slots=True)
class Endpoint:
    """A container's address on one network segment."""

    container: str
    network: str
    segment: tuple[str, str | None]
    address: IPv4Address
    prefixlen: int

    @property
    def interface(self) -> IPv4Interface:
        return interface_of(int(self.address), self.prefixlen)


@dataclass(frozen=True, slots=True)
class Issue:
    """A problem found while allocating addresses, at a model path such as ("networks", "db", "subnet").

    The engine knows the model, not the file: the pipeline turns the model path into the field path
    and line the user wrote (in a compose file ``networks.db.ipam.config[0].subnet``).
    """

    model: tuple
    message: str
    severity: str = "error"


@dataclass
class Addressing:
    segments: dict[tuple[str, str | None], Segment] = field(default_factory=dict)
    endpoints: dict[tuple[str, str], Endpoint] = field(default_factory=dict)
    docker0: dict[str, IPv4Network | None] = field(default_factory=dict)  # per host, used or not (None: no pool left)
    problems: list[Issue] = field(default_factory=list)
    vips: dict[tuple[str, str], IPv4Address] = field(default_factory=dict)  # (swarm service, network) -> its virtual IP
    held: dict[tuple[str, str], tuple[IPv4Address, ...]] = field(default_factory=dict)  # (service, network) -> its pending tasks'
    segments6: dict[tuple[str, str | None], Segment6] = field(default_factory=dict)  # the IPv6 side (simulator.engine.ipam6)
    endpoints6: dict[tuple[str, str], Endpoint6] = field(default_factory=dict)
    _by_container: dict[str, list[Endpoint]] = field(default_factory=dict, repr=False, compare=False)
    _indexed: int = field(default=-1, repr=False, compare=False)

    def segment_of(self, network: str, host: str) -> Segment | None:
        return self.segments.get((network, host)) or self.segments.get((network, None))

    def endpoint(self, container: str, network: str) -> Endpoint | None:
        return self.endpoints.get((container, network))

    def address(self, container: str, network: str) -> IPv4Address | None:
        ep = self.endpoints.get((container, network))
        return ep.address if ep else None

    def segment6_of(self, network: str, host: str) -> Segment6 | None:
        """The IPv6 side of a network's segment on a host (None: the network has no IPv6 there)."""
        return self.segments6.get((network, host)) or self.segments6.get((network, None))

    def endpoint6(self, container: str, network: str) -> Endpoint6 | None:
        """A container's IPv6 address on a network (None: it has none there)."""
        return self.endpoints6.get((container, network))

    def endpoints_of(self, container: str) -> list[Endpoint]:
        if self._indexed != len(self.endpoints):  # an index by container, rebuilt when endpoints were added
            index: dict[str, list[Endpoint]] = {}
            for (c, _), ep in self.endpoints.items():
                index.setdefault(c, []).append(ep)
            self._by_container, self._indexed = index, len(self.endpoints)
        return list(self._by_container.get(container, ()))


def ipv6_view(design: Design, addressing: Addressing) -> Addressing:
    """The IPv6 side of ``addressing`` as an :class:`Addressing` of its own, for a family-6 world
    (:attr:`simulator.engine.topology.World.v6`): the same segment and endpoint keys, each segment
    with its IPv6 subnet and gateway (and its IPv4 twin's bridge device), each endpoint with its
    IPv6 address; docker0's subnet is the daemon's ``fixed_cidr_v6`` where docker0 has IPv6.
    Only the engine's family-generic code reads it (the walk, the rules, the names), so its values
    are IPv6 where the fields are written for the IPv4 side."""
    view = Addressing()
    for key, seg6 in addressing.segments6.items():
        twin = addressing.segments.get(key)
        view.segments[key] = Segment(seg6.network, seg6.host, cast(IPv4Network, seg6.subnet),
                                     cast(IPv4Address, seg6.gateway), twin.bridge if twin is not None else None)
    for key, ep6 in addressing.endpoints6.items():
        view.endpoints[key] = Endpoint(ep6.container, ep6.network, ep6.segment, cast(IPv4Address, ep6.address),
                                       ep6.prefixlen)
    for host in design.hosts:
        subnet, _ = default_bridge_v6(host)
        view.docker0[host.name] = cast(IPv4Network, subnet)
    return view


def bridge_device(network: Network) -> str:
    """The host-side bridge name netsim shows: docker0, docker_gwbridge, or br-<name>."""
    if network.default_bridge:
        return "docker0"
    if network.name == GWBRIDGE:
        return GWBRIDGE
    return f"br-{network.name}"[:15]


def gwbridge_network(hosts: tuple[str, ...]) -> Network:
    """docker_gwbridge: the egress bridge of overlay containers (ICC off, masquerading)."""
    return Network(name=GWBRIDGE, driver=Driver.BRIDGE, docker_name=GWBRIDGE, hosts=hosts, icc=False)


def network_hosts(design: Design, network: Network, users: dict[str, set[str]] | None = None) -> tuple[str, ...]:
    """The hosts a network exists on: its ``hosts``, else every host with a container on it
    (``users``: :func:`network_users` of the design, when the caller asks for many networks)."""
    if network.hosts:
        return network.hosts
    used = users.get(network.name, set()) if users is not None else \
        {c.host for c in design.containers if network.name in c.networks}
    return tuple(h.name for h in design.hosts if h.name in used) or (design.hosts[0].name,)


def network_users(design: Design) -> dict[str, set[str]]:
    """Network name -> the hosts of the containers attached to it (one pass over the containers)."""
    out: dict[str, set[str]] = {}
    for c in design.containers:
        for name in c.networks:
            out.setdefault(name, set()).add(c.host)
    return out


def overlay_hosts(design: Design) -> tuple[str, ...]:
    """Hosts that run at least one container on an overlay (they get docker_gwbridge)."""
    overlays = {n.name for n in design.networks if n.driver is Driver.OVERLAY}
    used = {c.host for c in design.containers if overlays & set(c.networks)}
    return tuple(h.name for h in design.hosts if h.name in used)


class _Ranges:
    """A union of integer address ranges, kept as sorted disjoint ``[start, end]`` pairs.

    Allocation asks "the first aligned block of a pool that touches none of them": it jumps past
    a whole taken range at once instead of trying every candidate, so the work is bounded by the
    number of ranges, not by the size of the pool (a 0.0.0.0/0 pool of /32s is no slower).
    """

    def __init__(self) -> None:
        self.starts: list[int] = []
        self.ends: list[int] = []

    def add(self, start: int, end: int) -> None:
        lo = bisect_left(self.ends, start - 1)  # first range ending at or after start - 1 (touching merges)
        hi = bisect_right(self.starts, end + 1)  # ranges [lo, hi) touch or overlap [start, end]
        if lo < hi:
            start, end = min(start, self.starts[lo]), max(end, self.ends[hi - 1])
        self.starts[lo:hi] = [start]
        self.ends[lo:hi] = [end]

    def intersects(self, start: int, end: int) -> int | None:
        """The end of a range that intersects ``[start, end]`` (the last such one), or None."""
        i = bisect_right(self.starts, end) - 1
        return self.ends[i] if i >= 0 and self.ends[i] >= start else None

    def first_free(self, lo: int, hi: int, block: int) -> int | None:
        """The lowest ``block``-aligned start in ``[lo, hi]`` whose block intersects no range."""
        c = lo
        while c + block - 1 <= hi:
            end = self.intersects(c, c + block - 1)
            if end is None:
                return c
            c = (end + block) // block * block  # the first aligned start after that range
        return None


class _Blocks:
    """CIDR blocks in the order they were taken, answering "which one overlaps this block".

    Two CIDR blocks overlap only when one contains the other, so the blocks overlapping ``b``
    are its supernets (one lookup per prefix length) and the blocks starting inside ``b``.
    """

    DESCENDANTS = 64  # blocks inside the asked one looked at (the earliest of them is reported)

    def __init__(self, blocks=()) -> None:
        self.order: dict[tuple[int, int], tuple[int, IPv4Network]] = {}  # (start, prefixlen) -> (index, block)
        self.by_start: list[tuple[int, int]] = []  # sorted (start, prefixlen)
        self.union = _Ranges()
        for b in blocks:
            self.add(b)

    def add(self, block: IPv4Network) -> None:
        key = (int(block.network_address), block.prefixlen)
        if key not in self.order:
            self.order[key] = (len(self.order), block)
            insort(self.by_start, key)
        self.union.add(key[0], int(block.broadcast_address))

    def overlapping(self, block: IPv4Network) -> IPv4Network | None:
        """The earliest-taken block overlapping ``block`` (among its supernets and a bounded number
        of the blocks inside it), or None."""
        start, plen = int(block.network_address), block.prefixlen
        end = int(block.broadcast_address)
        if self.union.intersects(start, end) is None:
            return None
        found = [self.order[k] for k in ((start & ~((1 << (32 - p)) - 1) & 0xFFFFFFFF, p) for p in range(plen + 1))
                 if k in self.order]
        i = bisect_left(self.by_start, (start, plen))
        for key in self.by_start[i:i + self.DESCENDANTS]:
            if key[0] > end:
                break
            found.append(self.order[key])
        return min(found, key=lambda f: f[0])[1] if found else None


class _Pools:
    """The daemon's default pools on one host, handing out non-overlapping subnets."""

    def __init__(self, host: Host):
        self.routes = _Blocks(list(host.routes) + [host.lan_address.network])
        self.taken = _Blocks()
        self.busy = _Ranges()  # taken subnets and routes: what allocation must avoid
        for start, end in zip(self.routes.union.starts, self.routes.union.ends, strict=True):
            self.busy.add(start, end)
        self.cursor: dict[tuple[int, int, int], int] = {}  # per pool: nothing free below this start

    def take(self, subnet: IPv4Network) -> None:
        self.taken.add(subnet)
        self.busy.add(int(subnet.network_address), int(subnet.broadcast_address))

    def reserve(self, subnet: IPv4Network) -> IPv4Network | None:
        """Take an explicit subnet; the engine checks it against other networks only, not routes."""
        clash = self.taken.overlapping(subnet)
        self.take(subnet)
        return clash

    def route_clash(self, subnet: IPv4Network) -> IPv4Network | None:
        return self.routes.overlapping(subnet)

    def next_free(self, host: Host) -> IPv4Network | None:
        """The first subnet of the first default pool that overlaps no taken subnet and no route.

        Taken subnets only ever accumulate, so a pool's first free candidate never moves back:
        each pool keeps a cursor, and a search resumes where the last one stopped.
        """
        for pool in host.daemon.default_address_pools:
            if pool.size < pool.base.prefixlen or pool.base.version != 4:  # IPv6 pools: simulator.engine.ipam6
                continue
            lo, hi = int(pool.base.network_address), int(pool.base.broadcast_address)
            key = (lo, hi, pool.size)
            block = 1 << (32 - pool.size)
            start = self.busy.first_free(self.cursor.get(key, lo), hi, block)
            if start is None:
                self.cursor[key] = hi + 1
                continue
            self.cursor[key] = start + block
            subnet = IPv4Network((start, pool.size))
            self.take(subnet)
            return subnet
        return None


class _Addresses:
    """The addresses of one segment handed out so far, and where the next free one may be."""

    def __init__(self, seg: Segment) -> None:
        self.seg = seg
        self.used: dict[int, str] = {}  # address (as an integer: IPv4Address hashes through a string) -> holder
        self.cursor: dict[bool, int] = {}

    def __contains__(self, address: IPv4Address) -> bool:
        return int(address) in self.used

    def get(self, address: IPv4Address) -> str | None:
        return self.used.get(int(address))

    def __setitem__(self, address: IPv4Address, holder: str) -> None:
        self.used[int(address)] = holder

    def next_free(self, net: Network | None) -> IPv4Address | None:
        """The lowest free address in allocation order (``net``'s ip_range when it has one).

        Addresses are only ever added, so the scan resumes where the previous one stopped.
        """
        subnet = self.seg.subnet
        ip_range = net.ip_range if net is not None else None
        ranged = ip_range is not None
        if ip_range is not None:
            lo, hi = int(ip_range.network_address), int(ip_range.broadcast_address)
            edges = {int(subnet.network_address), int(subnet.broadcast_address)}
        else:
            lo, hi = int(subnet.network_address), int(subnet.broadcast_address)
            if subnet.num_addresses > 2:
                lo, hi = lo + 1, hi - 1
            edges = set()
        c = max(lo, self.cursor.get(ranged, lo))
        taken = self.used
        while c <= hi and (c in edges or c in taken):
            c += 1
        self.cursor[ranged] = c
        return IPv4Address(c) if c <= hi else None


def _first_usable(subnet: IPv4Network) -> IPv4Address:
    return subnet.network_address + 1 if subnet.num_addresses > 2 else subnet.network_address


def _first_of(ip_range: IPv4Network | None, subnet: IPv4Network) -> IPv4Address:
    """The gateway the IPAM hands out when none is given: its first free address, in ``ip_range`` when
    there is one (libnetwork ``ipamAllocateVersion`` asks the range's pool; confirmed on 28.5.2 for a
    macvlan network, docs/confirmed-rules.md §18w, as for IPv6 on 20.10, §18a)."""
    if ip_range is None or not ip_range.subnet_of(subnet) or ip_range.network_address == subnet.network_address:
        return _first_usable(subnet)
    return ip_range.network_address


def _no_gateway_unless_given(net: Network, host: Host) -> bool:
    """A macvlan/ipvlan network gets no gateway unless the design gives one, from 29.0
    (:attr:`~.versions.EngineVersion.macvlan_gateway_only_when_given`)."""
    return net.driver in (Driver.MACVLAN, Driver.IPVLAN) and engine_of(host).macvlan_gateway_only_when_given


def allocate(design: Design) -> Addressing:
    """Compute every segment's subnet and gateway and every endpoint's address."""
    out = Addressing()
    gw_hosts = overlay_hosts(design)
    local_order: list[tuple[Network, str]] = []
    defaults = [n for n in design.networks if n.default_bridge]
    users = network_users(design)
    for host in design.hosts:
        for net in defaults:
            if host.name in network_hosts(design, net, users) or not net.hosts:
                local_order.append((net, host.name))
        if host.name in gw_hosts:
            local_order.append((gwbridge_network(gw_hosts), host.name))
    for net in design.networks:
        if net.default_bridge or net.driver in (Driver.HOST, Driver.NONE, Driver.OVERLAY):
            continue
        local_order.extend((net, h) for h in network_hosts(design, net, users))

    pools = {h.name: _Pools(h) for h in design.hosts}
    for host in design.hosts:  # docker0 exists on every host, used or not
        if not any(net.default_bridge and h == host.name for net, h in local_order):
            if host.daemon.bip is not None:
                pools[host.name].reserve(host.daemon.bip.network)
                out.docker0[host.name] = host.daemon.bip.network
            else:
                out.docker0[host.name] = pools[host.name].next_free(host)
    swarm = _Blocks([] if any(n.ingress for n in design.networks) else [INGRESS_SUBNET])
    for net, host_name in local_order:
        host = design.host(host_name)
        _allocate_segment(out, design, net, host_name, pools[host_name], host, swarm=False)
    overlays = sorted((net for net in design.networks if net.driver is Driver.OVERLAY), key=lambda n: not n.ingress)
    cursor = [int(SWARM_DEFAULT_POOL.base.network_address)]
    for net in overlays:
        _allocate_overlay(out, design, net, swarm, pools, cursor, len(overlays))

    _allocate_endpoints(out, design, gw_hosts)
    if any(has_ipv6(net, design.host(h)) for net, h in local_order) or any(n.enable_ipv6 for n in overlays):
        six = allocate6(design, [*local_order, *overlay_segments(design)],
                        [(c, n, ep.segment) for (c, n), ep in out.endpoints.items()],
                        {k: ep.address for k, ep in out.endpoints.items()})
        out.segments6, out.endpoints6 = six.segments, six.endpoints
        out.problems.extend(Issue(path, message) for path, message in six.problems)
    return out


def _allocate_segment(out: Addressing, design: Design, net: Network, host_name: str, pools: _Pools, host: Host, swarm: bool) -> None:
    subnet = net.subnet
    if net.default_bridge and host.daemon.bip is not None:
        subnet = host.daemon.bip.network
    if subnet is not None:
        clash = pools.reserve(subnet)
        route = pools.route_clash(subnet)
        if route is not None and net.driver is Driver.BRIDGE and subnet != net.subnet:
            # a subnet written in the design is checked against the host's LAN and routes by the
            # loader's validation (check_overlaps); here only docker0's bip, which it does not see
            out.problems.append(Issue(
                ("hosts", host_name, "daemon", "bip"),
                f"subnet {subnet} overlaps {route}, which host {host_name} already routes (its LAN or a route): "
                "the engine accepts it, but the host then has two routes for those addresses; choose a free range",
                severity="warning",
            ))
        if clash is not None and not net.external:
            other = _owner_of(out, clash, host_name)
            out.problems.append(Issue(
                ("networks", net.name, "subnet"),
                f"subnet {subnet} overlaps {other} on host {host_name}: "
                f"the engine refuses it (\"Pool overlaps with other one on this address space\"); choose a free range",
            ))
    else:
        subnet = pools.next_free(host)
        if subnet is None and net.name == GWBRIDGE:
            pools_text = ", ".join(f"{p.base} in /{p.size}s" for p in host.daemon.default_address_pools) or "none"
            out.problems.append(Issue(
                ("hosts", host_name, "daemon", "default_address_pools"),
                f"address pool exhausted on host {host_name}: docker_gwbridge (the egress bridge of its overlay "
                f"containers) needs a subnet and the daemon's default_address_pools ({pools_text}) have none left; "
                "widen default_address_pools",
            ))
            return
        if subnet is None:
            out.problems.append(Issue(
                ("networks", net.name),
                "could not find an available, non-overlapping IPv4 address pool among the defaults to assign "
                f"to the network (host {host_name} has no free default pool left): give it a subnet or widen "
                "the daemon's default_address_pools",
            ))
            return
    gateway = net.gateway
    if net.default_bridge and host.daemon.bip is not None:
        gateway = host.daemon.bip.ip
    if gateway is None and net.gateway_mode != "isolated" and not _no_gateway_unless_given(net, host):
        gateway = _first_of(net.ip_range, subnet)
    bridge = bridge_device(net) if net.driver is Driver.BRIDGE else None
    out.segments[(net.name, host_name)] = Segment(net.name, host_name, subnet, gateway, bridge)
    if net.default_bridge:
        out.docker0[host_name] = subnet


def _owner_of(out: Addressing, subnet: IPv4Network, host_name: str) -> str:
    for seg in out.segments.values():
        if seg.subnet == subnet and seg.host in (host_name, None):
            return f"network {seg.network} ({subnet})"
    return f"a route of the host ({subnet})"


def _allocate_overlay(out: Addressing, design: Design, net: Network, swarm: _Blocks, pools: dict[str, _Pools],
                      cursor: list[int], count: int) -> None:
    subnet = net.subnet
    if subnet is None:
        pool = SWARM_DEFAULT_POOL
        block = 1 << (32 - pool.size)
        start = swarm.union.first_free(cursor[0], int(pool.base.broadcast_address), block)
        if start is None:
            cursor[0] = int(pool.base.broadcast_address) + 1
            out.problems.append(Issue(
                ("networks", net.name),
                f"address pool {pool.base} exhausted: {count} overlay network(s) need a /{pool.size} each from the "
                f"swarm pool and none is left for network {net.name} (explicit subnets inside {pool.base} use it "
                "up too): give it a subnet outside the pool, or use fewer overlays",
            ))
            return
        cursor[0] = start + block
        subnet = IPv4Network((start, pool.size))
    elif swarm.overlapping(subnet) is not None:
        out.problems.append(Issue(("networks", net.name, "subnet"),
                                  f"subnet {subnet} overlaps another overlay network: choose a free range"))
    swarm.add(subnet)
    for p in pools.values():
        p.take(subnet)
    gateway = net.gateway or _first_usable(subnet)
    out.segments[(net.name, None)] = Segment(net.name, None, subnet, gateway, None)


def _allocate_endpoints(out: Addressing, design: Design, gw_hosts: tuple[str, ...]) -> None:
    used: dict[tuple[str, str | None], _Addresses] = {}
    for seg_id, seg in out.segments.items():
        reserved = used[seg_id] = _Addresses(seg)
        if seg.gateway is not None:
            reserved[seg.gateway] = "the gateway"
        net = _network_or_none(design, seg.network)
        for aux in net.aux_addresses if net else ():
            reserved[aux] = "an aux address"
        if seg.network == GWBRIDGE:  # swarm init: the ingress sandbox takes the first address
            first = reserved.next_free(None)
            if first is not None:
                reserved[first] = "the ingress sandbox"
        if net is not None and net.ingress:  # each node's ingress sandbox, as the nodes join (design order)
            for h in (h.name for h in design.hosts):
                sandbox = reserved.next_free(None)
                if sandbox is not None:
                    reserved[sandbox] = f"the ingress sandbox of {h}"

    def seg_key(network: str, host: str) -> tuple[str, str | None] | None:
        if (network, host) in out.segments:
            return (network, host)
        if (network, None) in out.segments:
            return (network, None)
        return None

    attached = [c for c in design.containers if c.mode.kind is ModeKind.NETWORKS]
    # on the ingress network a node's endpoint is its ingress sandbox (above), never a load balancer
    lb_done: set[tuple[str, str]] = {(n.name, h.name) for n in design.networks if n.ingress for h in design.hosts}
    needs_gwbridge = _gwbridge_need(design)
    # static addresses first (netsim deploys containers with static addresses first)
    for c in attached:
        for att in c.attachments:
            key = seg_key(att.network, c.host)
            if key is None or att.ipv4_address is None:
                continue
            seg = out.segments[key]
            if att.ipv4_address not in seg.subnet:
                continue  # reported by validation
            holder = used[key].get(att.ipv4_address)
            if holder is not None:
                out.problems.append(Issue(
                    ("containers", c.name, "networks", att.network, "ipv4_address"),
                    f"{att.ipv4_address} is already taken by {holder} on network {att.network}: "
                    "the engine refuses it (\"Address already in use\"); choose another address",
                ))
                continue
            used[key][att.ipv4_address] = f"container {c.name}"
            out.endpoints[(c.name, att.network)] = Endpoint(c.name, att.network, key, att.ipv4_address, seg.subnet.prefixlen)
    def load_balancer(network: str, host: str) -> None:
        """The first container on an overlay on a node brings that node's load-balancer endpoint."""
        key = seg_key(network, host)
        if key is None or out.segments[key].host is not None or (network, host) in lb_done:
            return
        lb_done.add((network, host))
        lb = used[key].next_free(None)
        if lb is not None:
            used[key][lb] = f"the load-balancer endpoint of {host}"

    def place(c: Container, lb: bool) -> None:
        for att in c.attachments:
            key = seg_key(att.network, c.host)
            if key is None or (c.name, att.network) in out.endpoints or att.ipv4_address is not None:
                continue
            seg = out.segments[key]
            addr = used[key].next_free(_network_or_none(design, att.network))
            if addr is None:
                out.problems.append(Issue(
                    ("containers", c.name, "networks", att.network),
                    f"network {att.network} has no free address left for container {c.name} "
                    f"(subnet {seg.subnet}): widen the subnet or ip_range",
                ))
                continue
            used[key][addr] = f"container {c.name}"
            out.endpoints[(c.name, att.network)] = Endpoint(c.name, att.network, key, addr, seg.subnet.prefixlen)
            if lb:
                load_balancer(att.network, c.host)
        if c.host in gw_hosts and needs_gwbridge(c):
            gateway_bridge(c)

    def gateway_bridge(c: Container) -> None:
        gw_key = (GWBRIDGE, c.host)
        gw_seg = out.segments.get(gw_key)
        if gw_seg is None:
            return  # no pool was left for docker_gwbridge: reported with the segments
        addr = used[gw_key].next_free(None)
        if addr is None:
            out.problems.append(Issue(
                ("containers", c.name, "networks"),
                f"docker_gwbridge on host {c.host} has no free address left for container {c.name} "
                f"(subnet {gw_seg.subnet}; every overlay container without another gateway network takes one): "
                "widen the daemon's default_address_pools",
            ))
            return
        used[gw_key][addr] = f"container {c.name}"
        out.endpoints[(c.name, GWBRIDGE)] = Endpoint(c.name, GWBRIDGE, gw_key, addr, gw_seg.subnet.prefixlen)

    for c in attached:
        if c.task_of is None:
            place(c, lb=True)
    # then each swarm service as netsim deploy creates it, waiting for its tasks to run: the manager
    # takes its virtual IP on each network and its tasks' addresses, then each node that runs a
    # task joins the network with its load-balancer endpoint
    mesh = next((n.name for n in design.networks if n.ingress), None)
    for svc in design.services:
        if svc.endpoint_mode == "vip":  # a routing-mesh service has a virtual IP on the ingress network too
            for network in (*((mesh,) if svc.ingress and mesh else ()), *svc.networks):
                key = seg_key(network, "")
                if key is None:
                    continue
                vip = used[key].next_free(_network_or_none(design, network))
                if vip is not None:
                    used[key][vip] = f"the virtual IP of service {svc.name}"
                    out.vips[(svc.name, network)] = vip
        tasks = [c for c in design.tasks(svc.name) if c.mode.kind is ModeKind.NETWORKS]
        for c in tasks:
            place(c, lb=False)
        # the manager gives every task its addresses when it creates them, before any is placed: a
        # task no node takes holds its own too (which of the tasks stay pending is the scheduler's)
        for network in (tasks[0].networks if tasks else svc.networks) if svc.pending else ():
            key = seg_key(network, "")
            if key is None:
                continue
            held: list[IPv4Address] = []
            for _ in range(svc.pending):
                addr = used[key].next_free(_network_or_none(design, network))
                if addr is not None:
                    used[key][addr] = f"a pending task of service {svc.name}"
                    held.append(addr)
            out.held[(svc.name, network)] = tuple(held)
        for c in tasks:
            for att in c.attachments:
                load_balancer(att.network, c.host)


def _network_or_none(design: Design, name: str) -> Network | None:
    return design.network(name) if design.has_network(name) else None


def _gwbridge_need(design: Design) -> Callable[[Container], bool]:
    """Whether a container needs a docker_gwbridge endpoint: it is on an overlay and no other network
    gives it a gateway (each network's part looked up once, not once per container)."""
    overlay = {n.name for n in design.networks if n.driver is Driver.OVERLAY}
    gateway = {n.name for n in design.networks if n.driver is not Driver.OVERLAY and not n.internal}

    def need(c: Container) -> bool:
        nets = [a.network for a in c.attachments]
        return not overlay.isdisjoint(nets) and gateway.isdisjoint(nets)

    return need
