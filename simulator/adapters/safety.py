"""The probe guard: no probe may leave the networks netsim created for a deployment.

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
from ipaddress import IPv4Address, IPv4Network, ip_address

from ..errors import UnsafeTarget

LOOPBACK = IPv4Network("127.0.0.0/8")


@dataclass(frozen=True, slots=True)
class ProbeGuard:
    allowed_networks: tuple[IPv4Network, ...]
    allowed_addresses: frozenset[IPv4Address] = frozenset()
    forbidden: tuple[IPv4Network, ...] = ()
    host_local: tuple[IPv4Network, ...] = ()

    @classmethod
    def build(
        cls,
        networks: Iterable[IPv4Network | str],
        addresses: Iterable[IPv4Address | str] = (),
        forbidden: Iterable[IPv4Network | str] = (),
        host_local: Iterable[IPv4Network | str] = (),
    ) -> ProbeGuard:
        return cls(
            tuple(IPv4Network(n, strict=False) for n in networks),
            frozenset(IPv4Address(a) for a in addresses),
            tuple(IPv4Network(n, strict=False) for n in forbidden),
            tuple(IPv4Network(n, strict=False) for n in host_local),
        )

    def check(self, address: str | IPv4Address, source: str = "", host_ns: bool = False) -> IPv4Address:
        """The address, if a probe may dial it; UnsafeTarget (naming why) otherwise.

        ``host_ns``: the probe leaves from the host's namespace (see the module doc)."""
        where = f" from {source}" if source else ""
        try:
            addr = ip_address(str(address))
        except ValueError:
            raise UnsafeTarget(f"probe{where} to {address!r}: not an IP address") from None
        if not isinstance(addr, IPv4Address):
            raise UnsafeTarget(f"probe{where} to {addr}: only IPv4 targets are probed")
        if addr.is_unspecified or addr.is_multicast or addr == IPv4Address("255.255.255.255"):
            raise UnsafeTarget(f"probe{where} to {addr}: not a unicast address")
        if addr in LOOPBACK:
            return addr
        for net in self.forbidden:
            if addr in net:
                raise UnsafeTarget(f"probe{where} to {addr}: inside {net}, a network of this machine "
                                   "netsim did not create (its uplink or resolver); refused")
        if addr in self.allowed_addresses or any(addr in net for net in self.allowed_networks):
            if host_ns and not any(addr in net for net in self.host_local):
                raise UnsafeTarget(f"probe{where} to {addr}: not routed on this machine except by its "
                                   "uplink (default route); not sent")
            return addr
        allowed = ", ".join(str(n) for n in self.allowed_networks) or "none"
        raise UnsafeTarget(f"probe{where} to {addr}: outside every network netsim created for this "
                           f"deployment ({allowed}) and the emulated LAN; refused")

    def allows(self, address: str | IPv4Address) -> bool:
        try:
            self.check(address)
        except UnsafeTarget:
            return False
        return True
