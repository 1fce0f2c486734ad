"""Address allocation as Docker's default IPAM does it.

Per host, in creation order: docker0 takes the first default pool (or ``bip``);
docker_gwbridge the next one when the host runs overlays; then each network gets its
explicit subnet or the first default-pool subnet that overlaps no other network and
no route of the host. Gateways are the first usable address unless given.
Containers get the lowest free address of the subnet (or ``ip_range``); static
addresses are reserved first, as netsim deploys static containers first.
Overlays come from the swarm pool 10.0.0.0/8 in /24s (10.0.0.0/24 is the ingress).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from ipaddress import IPv4Address, IPv4Interface, IPv4Network

from ..errors import Problem
from ..model import SWARM_DEFAULT_POOL, Design, Driver, Host, ModeKind, Network

GWBRIDGE = "docker_gwbridge"
INGRESS_SUBNET = IPv4Network("10.0.0.0/24")


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
        return IPv4Interface(f"{self.address}/{self.prefixlen}")


@dataclass
class Addressing:
    segments: dict[tuple[str, str | None], Segment] = field(default_factory=dict)
    endpoints: dict[tuple[str, str], Endpoint] = field(default_factory=dict)
    docker0: dict[str, IPv4Network] = field(default_factory=dict)  # per host, used by the design or not
    problems: list[Problem] = field(default_factory=list)

    def segment_of(self, network: str, host: str) -> Segment | None:
        return self.segments.get((network, host)) or self.segments.get((network, None))

    def endpoint(self, container: str, network: str) -> Endpoint | None:
        return self.endpoints.get((container, network))

    def address(self, container: str, network: str) -> IPv4Address | None:
        ep = self.endpoints.get((container, network))
        return ep.address if ep else None

    def endpoints_of(self, container: str) -> list[Endpoint]:
        return [ep for (c, _), ep in self.endpoints.items() if c == container]


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


def network_hosts(design: Design, network: Network) -> tuple[str, ...]:
    if network.hosts:
        return network.hosts
    used = {c.host for c in design.containers if network.name in c.networks}
    return tuple(h.name for h in design.hosts if h.name in used) or (design.hosts[0].name,)


def overlay_hosts(design: Design) -> tuple[str, ...]:
    """Hosts that run at least one container on an overlay (they get docker_gwbridge)."""
    overlays = {n.name for n in design.networks if n.driver is Driver.OVERLAY}
    used = {c.host for c in design.containers if overlays & set(c.networks)}
    return tuple(h.name for h in design.hosts if h.name in used)


class _Pools:
    """The daemon's default pools on one host, handing out non-overlapping subnets."""

    def __init__(self, host: Host):
        self.routes: list[IPv4Network] = list(host.routes) + [host.lan_address.network]
        self.taken: list[IPv4Network] = []

    def reserve(self, subnet: IPv4Network) -> IPv4Network | None:
        """Take an explicit subnet; the engine checks it against other networks only, not routes."""
        clash = next((t for t in self.taken if t.overlaps(subnet)), None)
        self.taken.append(subnet)
        return clash

    def route_clash(self, subnet: IPv4Network) -> IPv4Network | None:
        return next((r for r in self.routes if r.overlaps(subnet)), None)

    def next_free(self, host: Host) -> IPv4Network | None:
        for pool in host.daemon.default_address_pools:
            for candidate in pool.base.subnets(new_prefix=pool.size) if pool.size >= pool.base.prefixlen else ():
                if not any(candidate.overlaps(t) for t in self.taken + self.routes):
                    self.taken.append(candidate)
                    return candidate
        return None


def _first_usable(subnet: IPv4Network) -> IPv4Address:
    return subnet.network_address + 1 if subnet.num_addresses > 2 else subnet.network_address


def allocate(design: Design) -> Addressing:
    """Compute every segment's subnet and gateway and every endpoint's address."""
    out = Addressing()
    gw_hosts = overlay_hosts(design)
    local_order: list[tuple[Network, str]] = []
    defaults = [n for n in design.networks if n.default_bridge]
    for host in design.hosts:
        for net in defaults:
            if host.name in network_hosts(design, net) or not net.hosts:
                local_order.append((net, host.name))
        if host.name in gw_hosts:
            local_order.append((gwbridge_network(gw_hosts), host.name))
    for net in design.networks:
        if net.default_bridge or net.driver in (Driver.HOST, Driver.NONE, Driver.OVERLAY):
            continue
        local_order.extend((net, h) for h in network_hosts(design, net))

    pools = {h.name: _Pools(h) for h in design.hosts}
    for host in design.hosts:  # docker0 exists on every host, used or not
        if not any(net.default_bridge and h == host.name for net, h in local_order):
            if host.daemon.bip is not None:
                pools[host.name].reserve(host.daemon.bip.network)
                out.docker0[host.name] = host.daemon.bip.network
            else:
                out.docker0[host.name] = pools[host.name].next_free(host)
    swarm_taken = [INGRESS_SUBNET]
    for net, host_name in local_order:
        host = design.host(host_name)
        _allocate_segment(out, design, net, host_name, pools[host_name], host, swarm=False)
    for net in design.networks:
        if net.driver is Driver.OVERLAY:
            _allocate_overlay(out, design, net, swarm_taken, pools)

    _allocate_endpoints(out, design, gw_hosts)
    return out


def _allocate_segment(out: Addressing, design: Design, net: Network, host_name: str, pools: _Pools, host: Host, swarm: bool) -> None:
    subnet = net.subnet
    if net.default_bridge and host.daemon.bip is not None:
        subnet = host.daemon.bip.network
    if subnet is not None:
        clash = pools.reserve(subnet)
        route = pools.route_clash(subnet)
        if route is not None and net.driver is Driver.BRIDGE:
            out.problems.append(Problem(
                f"subnet {subnet} overlaps {route}, which host {host_name} already routes (its LAN or a route): "
                "the engine accepts it, but the host then has two routes for those addresses; choose a free range",
                path=f"networks.{net.name}.subnet", location=design.location("networks", net.name, "subnet"),
                severity="warning",
            ))
        if clash is not None and not net.external:
            other = _owner_of(out, clash, host_name)
            out.problems.append(Problem(
                f"subnet {subnet} overlaps {other} on host {host_name}: "
                f"the engine refuses it (\"Pool overlaps with other one on this address space\"); choose a free range",
                path=f"networks.{net.name}.subnet",
                location=design.location("networks", net.name, "subnet"),
            ))
    else:
        subnet = pools.next_free(host)
        if subnet is None:
            out.problems.append(Problem(
                "could not find an available, non-overlapping IPv4 address pool among the defaults to assign "
                f"to the network (host {host_name} has no free default pool left): give it a subnet or widen "
                "the daemon's default_address_pools",
                path=f"networks.{net.name}",
                location=design.location("networks", net.name),
            ))
            return
    gateway = net.gateway
    if net.default_bridge and host.daemon.bip is not None:
        gateway = host.daemon.bip.ip
    if gateway is None and net.gateway_mode != "isolated":
        gateway = _first_usable(subnet)
    bridge = bridge_device(net) if net.driver is Driver.BRIDGE else None
    out.segments[(net.name, host_name)] = Segment(net.name, host_name, subnet, gateway, bridge)
    if net.default_bridge:
        out.docker0[host_name] = subnet


def _owner_of(out: Addressing, subnet: IPv4Network, host_name: str) -> str:
    for seg in out.segments.values():
        if seg.subnet == subnet and seg.host in (host_name, None):
            return f"network {seg.network} ({subnet})"
    return f"a route of the host ({subnet})"


def _allocate_overlay(out: Addressing, design: Design, net: Network, swarm_taken: list[IPv4Network], pools: dict[str, _Pools]) -> None:
    subnet = net.subnet
    if subnet is None:
        for candidate in SWARM_DEFAULT_POOL.base.subnets(new_prefix=SWARM_DEFAULT_POOL.size):
            if not any(candidate.overlaps(t) for t in swarm_taken):
                subnet = candidate
                break
    assert subnet is not None
    if any(subnet.overlaps(t) for t in swarm_taken) and net.subnet is not None:
        out.problems.append(Problem(
            f"subnet {subnet} overlaps another overlay network: choose a free range",
            path=f"networks.{net.name}.subnet", location=design.location("networks", net.name, "subnet"),
        ))
    swarm_taken.append(subnet)
    for p in pools.values():
        p.taken.append(subnet)
    gateway = net.gateway or _first_usable(subnet)
    out.segments[(net.name, None)] = Segment(net.name, None, subnet, gateway, None)


def _free_addresses(seg: Segment, net: Network | None):
    """Candidates in allocation order; an ip_range hands out its own network address too."""
    if net is not None and net.ip_range is not None:
        edges = {seg.subnet.network_address, seg.subnet.broadcast_address}
        yield from (a for a in net.ip_range if a not in edges)
        return
    yield from (seg.subnet.hosts() if seg.subnet.num_addresses > 2 else seg.subnet)


def _allocate_endpoints(out: Addressing, design: Design, gw_hosts: tuple[str, ...]) -> None:
    used: dict[tuple[str, str | None], dict[IPv4Address, str]] = {}
    for key, seg in out.segments.items():
        reserved = used.setdefault(key, {})
        if seg.gateway is not None:
            reserved[seg.gateway] = "the gateway"
        net = _network_or_none(design, seg.network)
        for aux in net.aux_addresses if net else ():
            reserved[aux] = "an aux address"
        if seg.network == GWBRIDGE:  # swarm init: the ingress sandbox takes the first address
            reserved[next(a for a in _free_addresses(seg, None) if a not in reserved)] = "the ingress sandbox"

    def seg_key(network: str, host: str) -> tuple[str, str | None] | None:
        if (network, host) in out.segments:
            return (network, host)
        if (network, None) in out.segments:
            return (network, None)
        return None

    attached = [c for c in design.containers if c.mode.kind is ModeKind.NETWORKS]
    lb_done: set[tuple[str, str]] = set()
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
                out.problems.append(Problem(
                    f"{att.ipv4_address} is already taken by {holder} on network {att.network}: "
                    "the engine refuses it (\"Address already in use\"); choose another address",
                    path=f"containers.{c.name}.networks.{att.network}.ipv4_address",
                    location=design.location("containers", c.name, "networks", att.network),
                ))
                continue
            used[key][att.ipv4_address] = f"container {c.name}"
            out.endpoints[(c.name, att.network)] = Endpoint(c.name, att.network, key, att.ipv4_address, seg.subnet.prefixlen)
    for c in attached:
        for att in c.attachments:
            key = seg_key(att.network, c.host)
            if key is None or (c.name, att.network) in out.endpoints or att.ipv4_address is not None:
                continue
            seg = out.segments[key]
            addr = next((a for a in _free_addresses(seg, _network_or_none(design, att.network)) if a not in used[key]), None)
            if addr is None:
                out.problems.append(Problem(
                    f"network {att.network} has no free address left for container {c.name} "
                    f"(subnet {seg.subnet}): widen the subnet or ip_range",
                    path=f"containers.{c.name}.networks.{att.network}",
                    location=design.location("containers", c.name, "networks", att.network),
                ))
                continue
            used[key][addr] = f"container {c.name}"
            out.endpoints[(c.name, att.network)] = Endpoint(c.name, att.network, key, addr, seg.subnet.prefixlen)
            if seg.host is None and (att.network, c.host) not in lb_done:
                # the first container on an overlay on a node brings that node's load-balancer endpoint
                lb_done.add((att.network, c.host))
                lb = next((a for a in _free_addresses(seg, None) if a not in used[key]), None)
                if lb is not None:
                    used[key][lb] = f"the load-balancer endpoint of {c.host}"
        if c.host in gw_hosts and _needs_gwbridge(design, c.networks):
            key = (GWBRIDGE, c.host)
            seg = out.segments[key]
            addr = next(a for a in _free_addresses(seg, None) if a not in used[key])
            used[key][addr] = f"container {c.name}"
            out.endpoints[(c.name, GWBRIDGE)] = Endpoint(c.name, GWBRIDGE, key, addr, seg.subnet.prefixlen)


def _network_or_none(design: Design, name: str) -> Network | None:
    return next((n for n in design.networks if n.name == name), None)


def _needs_gwbridge(design: Design, networks: tuple[str, ...]) -> bool:
    """An overlay container gets a docker_gwbridge endpoint when no other network gives it a gateway."""
    nets = [_network_or_none(design, n) for n in networks]
    if not any(n is not None and n.driver is Driver.OVERLAY for n in nets):
        return False
    return not any(
        n is not None and n.driver is not Driver.OVERLAY and not n.internal for n in nets
    )
