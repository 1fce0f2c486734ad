"""IPv6 address allocation as Docker's default IPAM does it, beside the IPv4 of :mod:`.ipam`.

A network with ``enable_ipv6`` gets its ``subnet6``, or else a subnet from the daemon's IPv6
default pools: an IPv6 base in ``default_address_pools``, or from 27.0, when there is none, the
ULA /48 the daemon derives from its host ID, split in /64s (moby daemon/daemon.go
``deriveULABaseNetwork``, v27.0.1). netsim derives that /48 the same way from the host's *name*,
so the prefix stands in for the engine's, which differs. The gateway is the subnet's first
address after the subnet-router anycast address (``::1``; with ``ip_range6``, the range's first free
address), which the IPAM keeps (libnetwork
ipam/allocator.go ``insertBitMask`` at v20.10.24; ipams/defaultipam ``newPoolData`` at v28.5.2).

Containers get their IPv6 addresses in the order they get their IPv4 ones: static addresses
first, then the lowest free address of ``subnet6`` (or ``ip_range6``); an IPv6 subnet has no
broadcast address, so its last address is handed out too. The default bridge is the exception
before 28.0: with ``fixed_cidr_v6`` of /80 or shorter a container's address is the prefix with
its MAC address (02:42 and its IPv4 address) in the low 48 bits
(:attr:`~.versions.EngineVersion.default_bridge_ipv6_from_mac`).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from ipaddress import IPv4Address, IPv6Address, IPv6Network

from ..errors import UnknownEngineVersion
from ..model import Design, Driver, Host, Network
from .versions import EngineVersion, parse_version

ULA_BASE = IPv6Network("fd00::/8")


@dataclass(frozen=True, slots=True)
class Segment6:
    """The IPv6 side of one network segment (a local network on one host, or an overlay)."""

    network: str
    host: str | None
    subnet: IPv6Network
    gateway: IPv6Address | None  # None: a macvlan/ipvlan network without a gateway given, from 29.0
    origin: str  # where the subnet came from, as a person reads it

    @property
    def key(self) -> tuple[str, str | None]:
        return (self.network, self.host)


@dataclass(frozen=True, slots=True)
class Endpoint6:
    """A container's IPv6 address on one network segment."""

    container: str
    network: str
    segment: tuple[str, str | None]
    address: IPv6Address
    prefixlen: int
    origin: str = "allocated"  # static | allocated | from the MAC address <mac>

    def __str__(self) -> str:
        return f"{self.address}/{self.prefixlen}"


@dataclass
class Allocation6:
    segments: dict[tuple[str, str | None], Segment6]
    endpoints: dict[tuple[str, str], Endpoint6]
    problems: list[tuple[tuple, str]]  # (model path, message)


def engine_of(host: Host) -> EngineVersion:
    """The engine line's rules for a host (a version netsim has no rules for reads as 20.10: the
    loader has reported it)."""
    try:
        return parse_version(host.engine_version)
    except UnknownEngineVersion:
        return EngineVersion(20, 10)


def derived_ula(host: Host) -> IPv6Network:
    """The ULA /48 a 27.0+ daemon adds to its pools: fd00::/8 plus 40 bits of SHA-256 of its host ID
    (moby daemon/daemon.go ``deriveULABaseNetwork``); netsim hashes the host's name instead."""
    gid = int.from_bytes(hashlib.sha256(host.name.encode()).digest()[:8], "big") & ((1 << 40) - 1)
    return IPv6Network((int(ULA_BASE.network_address) | (gid << 80), 48))


def ipv6_pools(host: Host) -> list[tuple[IPv6Network, int, str]]:
    """The host's IPv6 default pools as (base, size, origin), in the order the IPAM tries them."""
    pools = [(p.base, p.size, f"default pool {p.base}") for p in host.daemon.default_address_pools
             if isinstance(p.base, IPv6Network)]
    if not pools and engine_of(host).ipv6_ula_pool:
        ula = derived_ula(host)
        pools.append((ula, 64, f"the ULA pool {ula} (the engine derives its /48 from its host ID; netsim from the "
                               "host's name, so the real prefix differs)"))
    return pools


def mac_of(ipv4: IPv4Address) -> str:
    """The MAC address the bridge driver gives an endpoint before 28.0: 02:42 and its IPv4 address
    (libnetwork netutils ``genMAC`` at v20.10.24)."""
    return ":".join(f"{b:02x}" for b in bytes([0x02, 0x42]) + ipv4.packed)


class _Pools6:
    """One host's IPv6 subnets taken so far, and the search for a free one in its pools."""

    def __init__(self, host: Host) -> None:
        self.host = host
        self.taken: list[tuple[IPv6Network, str]] = []
        self.cursor: dict[tuple[IPv6Network, int], int] = {}

    def clash(self, subnet: IPv6Network) -> str | None:
        return next((owner for s, owner in self.taken if s.overlaps(subnet)), None)

    def take(self, subnet: IPv6Network, owner: str) -> None:
        self.taken.append((subnet, owner))

    def next_free(self, owner: str) -> tuple[IPv6Network, str] | None:
        for base, size, origin in ipv6_pools(self.host):
            if size < base.prefixlen:
                continue
            block = 1 << (128 - size)
            c = self.cursor.get((base, size), int(base.network_address))
            while c + block - 1 <= int(base.broadcast_address):
                candidate = IPv6Network((c, size))
                over = [s for s, _ in self.taken if s.overlaps(candidate)]
                if not over:
                    self.cursor[(base, size)] = c + block
                    self.take(candidate, owner)
                    return candidate, origin
                c = max(int(s.broadcast_address) for s in over) + 1
                c = (c + block - 1) // block * block
            self.cursor[(base, size)] = c
        return None


def default_bridge_v6(host: Host) -> tuple[IPv6Network | None, bool]:
    """docker0's IPv6 subnet from the daemon's settings (None: from the pools, or no IPv6) and
    whether its containers' addresses come from their MAC addresses."""
    d = host.daemon
    if not d.ipv6 or d.fixed_cidr_v6 is None:
        return None, False
    return d.fixed_cidr_v6, engine_of(host).default_bridge_ipv6_from_mac and d.fixed_cidr_v6.prefixlen <= 80


def has_ipv6(net: Network, host: Host | None) -> bool:
    """Whether a network instance is dual-stack: ``enable_ipv6``, or docker0 on a daemon with ``ipv6``."""
    if net.default_bridge:
        return host is not None and host.daemon.ipv6
    return net.enable_ipv6


def allocate6(design: Design, segments: Iterable[tuple[Network, str | None]],
              endpoints: Iterable[tuple[str, str, tuple[str, str | None]]],
              ipv4: Mapping[tuple[str, str], IPv4Address]) -> Allocation6:
    """The IPv6 side of every dual-stack segment and endpoint.

    ``segments``: (network, host; None for an overlay) in the order the engine creates them;
    ``endpoints``: (container, network, segment key) in the order the IPv4 allocation placed them;
    ``ipv4``: each endpoint's IPv4 address (docker0's MAC-derived IPv6 addresses before 28.0)."""
    out = Allocation6({}, {}, [])
    pools = {h.name: _Pools6(h) for h in design.hosts}
    swarm: list[IPv6Network] = []
    mac_derived: set[tuple[str, str | None]] = set()
    for net, host_name in segments:
        host = design.host(host_name) if host_name is not None else None
        if not has_ipv6(net, host):
            continue
        subnet, origin = net.subnet6, "subnet6"
        if net.default_bridge and host is not None:
            subnet, from_mac = default_bridge_v6(host)
            origin = "the daemon's fixed_cidr_v6"
            if from_mac:
                mac_derived.add((net.name, host_name))
        if host_name is None:  # an overlay: one subnet for the swarm, written in the design (validation says so)
            if subnet is None:
                continue
            if any(s.overlaps(subnet) for s in swarm):
                out.problems.append((("networks", net.name, "subnet6"),
                                     f"subnet6 {subnet} overlaps another overlay network: choose a free range"))
            swarm.append(subnet)
        elif subnet is not None:
            owner = pools[host_name].clash(subnet)
            pools[host_name].take(subnet, f"network {net.name} ({subnet})")
            if owner is not None and not net.external and net.subnet6 is not None:
                out.problems.append((("networks", net.name, "subnet6"),
                                     f"subnet6 {subnet} overlaps {owner} on host {host_name}: the engine refuses it "
                                     "(\"Pool overlaps with other one on this address space\"); choose a free range"))
        else:
            assert host is not None
            found = pools[host_name].next_free(f"network {net.name}")
            if found is None:  # before 27.0 without an IPv6 pool: validation reports it at the network
                if ipv6_pools(host):
                    out.problems.append((("networks", net.name, "enable_ipv6"),
                                         f"host {host_name}'s IPv6 default pools have no free subnet left for network "
                                         f"{net.name}: give it a subnet6 or widen default_address_pools"))
                continue
            subnet, origin = found
        if subnet.prefixlen == 128:
            continue  # no address for the gateway: validation reports it
        gateway = None if (net.gateway6 is None and host is not None and net.driver in (Driver.MACVLAN, Driver.IPVLAN)
                           and engine_of(host).macvlan_gateway_only_when_given) else net.gateway6_for(subnet)
        out.segments[(net.name, host_name)] = Segment6(net.name, host_name, subnet, gateway, origin)
    _endpoints(design, out, list(endpoints), ipv4, mac_derived)
    return out


def _endpoints(design: Design, out: Allocation6, endpoints: list[tuple[str, str, tuple[str, str | None]]],
               ipv4: Mapping[tuple[str, str], IPv4Address], mac_derived: set[tuple[str, str | None]]) -> None:
    used: dict[tuple[str, str | None], dict[int, str]] = {k: {int(s.gateway): "the gateway"} if s.gateway is not None else {}
                                                          for k, s in out.segments.items()}
    cursor: dict[tuple[tuple[str, str | None], bool], int] = {}
    wanted = [(c, n, key) for c, n, key in endpoints if key in out.segments]
    static: dict[tuple[str, str], IPv6Address] = {}
    for c, n, key in wanted:  # static addresses first, as the IPv4 ones are
        att = design.container(c).attachment(n) if design.has_container(c) else None
        ip = att.ipv6_address if att is not None else None
        if ip is None or key in mac_derived or ip not in out.segments[key].subnet:
            continue  # outside the subnet: reported by validation
        holder = used[key].get(int(ip))
        if holder is not None:
            if holder != "the gateway":  # the gateway: reported by validation
                out.problems.append((("containers", c, "networks", n, "ipv6_address"),
                                     f"{ip} is already taken by {holder} on network {n}: the engine refuses it "
                                     "(\"Address already in use\"); choose another address"))
            continue
        used[key][int(ip)] = f"container {c}"
        static[(c, n)] = ip
    for c, n, key in wanted:
        seg = out.segments[key]
        if (c, n) in static:
            out.endpoints[(c, n)] = Endpoint6(c, n, key, static[(c, n)], seg.subnet.prefixlen, "static")
            continue
        if key in mac_derived and (c, n) in ipv4:
            mac = mac_of(ipv4[(c, n)])
            address = IPv6Address(int(seg.subnet.network_address) | int.from_bytes(bytes.fromhex(mac.replace(":", "")), "big"))
            used[key][int(address)] = f"container {c}"
            out.endpoints[(c, n)] = Endpoint6(c, n, key, address, seg.subnet.prefixlen, f"from the MAC address {mac}")
            continue
        net = design.network(n) if design.has_network(n) else None
        ip_range = net.ip_range6 if net is not None and not net.default_bridge else None
        span = ip_range if ip_range is not None else seg.subnet
        lo, hi = int(span.network_address), int(span.broadcast_address)
        first = int(seg.subnet.network_address)  # the subnet-router anycast address, kept by the IPAM
        at = max(lo, cursor.get((key, ip_range is not None), lo))
        taken = used[key]
        while at <= hi and (at == first or at in taken):
            at += 1
        cursor[(key, ip_range is not None)] = at
        if at > hi:
            out.problems.append((("containers", c, "networks", n),
                                 f"network {n} has no free IPv6 address left for container {c} "
                                 f"(subnet6 {seg.subnet}): widen subnet6 or ip_range6"))
            continue
        taken[at] = f"container {c}"
        out.endpoints[(c, n)] = Endpoint6(c, n, key, IPv6Address(at), seg.subnet.prefixlen)


def overlay_segments(design: Design) -> list[tuple[Network, str | None]]:
    """The dual-stack overlays, each one segment for the whole swarm."""
    return [(n, None) for n in design.networks if n.driver is Driver.OVERLAY and n.enable_ipv6]
