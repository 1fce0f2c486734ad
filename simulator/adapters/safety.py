"""The probe guard: no probe may leave the networks netsim created for a deployment.

Both families: IPv4 and IPv6 addresses are checked alike (a network of one family never
holds an address of the other; ``::1`` is loopback); link-local and IPv4-mapped IPv6
addresses are refused.  Verify also asks the kernel before it dials an IPv6 address from
this machine's engine: what ``ip -6 route get`` sends out of the uplink is never dialled
(:func:`simulator.adapters.lanpeer.leaves_by_uplink`).

Every address verify dials passes :meth:`ProbeGuard.check` first.  Allowed: loopback, a
subnet of a network netsim created for this deployment, the emulated LAN's subnet, and
single addresses netsim owns on networks it did not create (its containers and their
gateway on the default bridge).  Anything inside a ``forbidden`` prefix (the machine's
own uplink networks, its DNS resolver) is refused even if it is also allowed.

Probes from the host's namespace (the host, host-network containers) are not forwarded,
so no DOCKER-USER rule sees them: they must also fall inside ``host_local``, the
prefixes this machine routes through something other than its uplink.  (An overlay's
subnet, say, is netsim's but not routed on the host: dialled from the host it would
leave by the default route.)
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from ipaddress import IPv4Address, IPv4Network, IPv6Address, IPv6Network, ip_address, ip_network

from ..errors import UnsafeTarget

LOOPBACK = IPv4Network("127.0.0.0/8")
LOOPBACK6 = IPv6Address("::1")

Net = IPv4Network | IPv6Network
Addr = IPv4Address | IPv6Address


def _inside(addr: Addr, nets: Iterable[Net]) -> Net | None:
    """The first of ``nets`` of the address's family that holds it (never across families)."""
    return next((n for n in nets if n.version == addr.version and addr in n), None)


@dataclass(frozen=True, slots=True)
class ProbeGuard:
    allowed_networks: tuple[Net, ...]
    allowed_addresses: frozenset[Addr] = frozenset()
    forbidden: tuple[Net, ...] = ()
    host_local: tuple[Net, ...] = ()

    @classmethod
    def build(
        cls,
        networks: Iterable[Net | str],
        addresses: Iterable[Addr | str] = (),
        forbidden: Iterable[Net | str] = (),
        host_local: Iterable[Net | str] = (),
    ) -> ProbeGuard:
        return cls(
            tuple(ip_network(n, strict=False) for n in networks),
            frozenset(ip_address(a) for a in addresses),
            tuple(ip_network(n, strict=False) for n in forbidden),
            tuple(ip_network(n, strict=False) for n in host_local),
        )

    def check(self, address: str | Addr, source: str = "", host_ns: bool = False) -> Addr:
        """The address, if a probe may dial it; UnsafeTarget (naming why) otherwise.

        ``host_ns``: the probe leaves from the host's namespace (see the module doc)."""
        where = f" from {source}" if source else ""
        try:
            addr = ip_address(str(address))
        except ValueError:
            raise UnsafeTarget(f"probe{where} to {address!r}: not an IP address") from None
        if addr.is_unspecified or addr.is_multicast or addr == IPv4Address("255.255.255.255"):
            raise UnsafeTarget(f"probe{where} to {addr}: not a unicast address")
        if isinstance(addr, IPv6Address):
            if addr.ipv4_mapped is not None or addr.is_link_local:
                raise UnsafeTarget(f"probe{where} to {addr}: an IPv4-mapped or link-local IPv6 address; not probed")
            if addr == LOOPBACK6:
                return addr
        elif addr in LOOPBACK:
            return addr
        net = _inside(addr, self.forbidden)
        if net is not None:
            raise UnsafeTarget(f"probe{where} to {addr}: inside {net}, a network of this machine "
                               "netsim did not create (its uplink or resolver); refused")
        if addr in self.allowed_addresses or _inside(addr, self.allowed_networks) is not None:
            if host_ns and _inside(addr, self.host_local) is None:
                raise UnsafeTarget(f"probe{where} to {addr}: not routed on this machine except by its "
                                   "uplink (default route); not sent")
            return addr
        allowed = ", ".join(str(n) for n in self.allowed_networks) or "none"
        raise UnsafeTarget(f"probe{where} to {addr}: outside every network netsim created for this "
                           f"deployment ({allowed}) and the emulated LAN; refused")

    def allows(self, address: str | Addr) -> bool:
        try:
            self.check(address)
        except UnsafeTarget:
            return False
        return True
