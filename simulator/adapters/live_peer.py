"""A LAN peer for ``verify --live``: the design's ``external`` vantage point, emulated
without touching the real LAN.

A network namespace ``netsim-live-<pid>`` joined to the host by its own veth pair
(``nsl<pid>h`` / ``nsl<pid>p``) on a /30 of 198.18.0.0/15 (RFC 2544's benchmarking range)
that no route of this machine overlaps.  The namespace has no default route and no IPv6:
it routes only the environment's subnets that this machine routes through something other
than its uplink (a bridge), and the host's own LAN address when the machine delivers it
locally (``ip route get`` type ``local``), so a published port is dialled as a LAN host
would dial it, and nothing it sends can leave the machine.  Forwarded packets still pass
the uplink guard (DOCKER-USER), which is active while the peer probes.

Everything is removed on exit, also on errors and Ctrl-C (the caller's ``finally``); a
peer left by a killed run (its pid gone) is removed by the next one.  Root only.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from ipaddress import IPv4Address, IPv4Interface, IPv4Network

from . import lanpeer

PREFIX = "netsim-live-"
LINK_POOL = IPv4Network("198.18.0.0/15")


@dataclass(frozen=True, slots=True)
class LivePeer:
    """The emulated LAN peer (the shape :func:`lanpeer.setup` / ``teardown`` take)."""

    namespace: str
    host_if: str
    peer_if: str
    host_address: IPv4Interface
    peer_address: IPv4Interface
    routed: tuple[IPv4Network, ...] = ()  # what the peer can reach through the host
    lan_address: IPv4Address | None = None  # the host's LAN address (delivered locally), dialled for published ports
    vlans: tuple[int, ...] = ()

    def vlan_if(self, vlan: int) -> str:
        return f"{self.host_if}.{vlan}"


def names(pid: int | None = None) -> tuple[str, str, str]:
    pid = os.getpid() if pid is None else pid
    return f"{PREFIX}{pid}", f"nsl{pid}h", f"nsl{pid}p"


def remove_stale() -> list[str]:
    """Peers of killed runs (their pid is gone): namespace and veth removed."""
    removed: list[str] = []
    try:
        found = os.listdir("/run/netns")
    except OSError:
        return removed
    for ns in found:
        m = re.fullmatch(re.escape(PREFIX) + r"([0-9]{1,10})", ns)
        if m and not os.path.exists(f"/proc/{m.group(1)}"):
            namespace, host_if, peer_if = names(int(m.group(1)))
            removed += lanpeer.teardown(LivePeer(namespace, host_if, peer_if, IPv4Interface("198.18.0.1/30"),
                                                 IPv4Interface("198.18.0.2/30")))
    return removed


def _link_subnet(routes: Sequence[IPv4Network]) -> IPv4Network | None:
    start = (os.getpid() * 4) % LINK_POOL.num_addresses
    for i in range(0, 4096 * 4, 4):
        cand = IPv4Network(((int(LINK_POOL.network_address) + (start + i) % LINK_POOL.num_addresses), 30))
        if not any(cand.overlaps(r) for r in routes):
            return cand
    return None


def _local(address: IPv4Address) -> bool:
    """Does this machine deliver ``address`` to itself (never out of an interface)?"""
    try:
        proc = subprocess.run(["ip", "-j", "-4", "route", "get", str(address)], capture_output=True, text=True,
                              timeout=10)
        found = json.loads(proc.stdout or "[]")
    except (OSError, subprocess.TimeoutExpired, ValueError):
        return False
    return bool(found) and found[0].get("type") == "local"


def routed_here(subnets: Sequence[IPv4Network]) -> list[IPv4Network]:
    """The subnets this machine routes through something other than its uplink."""
    uplink = lanpeer.uplink_interface()
    routes = lanpeer.host_routes()
    out = []
    for s in subnets:
        via = [dev for r, dev in routes if s.subnet_of(r)]
        inside = [dev for r, dev in routes if r.subnet_of(s) and r != s]
        if via and all(d and d != uplink for d in via + inside) and s not in out:
            out.append(s)
    return out


@contextmanager
def live_peer(subnets: Sequence[IPv4Network], lan_address: IPv4Address | None) -> Iterator[LivePeer | str]:
    """The emulated LAN peer while the block runs, or a sentence saying why there is none."""
    why = lanpeer.unavailable_reason()
    if why is not None:
        yield why
        return
    remove_stale()
    routed = routed_here(subnets)
    local = lan_address if lan_address is not None and _local(lan_address) else None
    if not routed and local is None:
        yield "none of the environment's subnets is routed on this machine except by its uplink"
        return
    link = _link_subnet([r for r, _ in lanpeer.host_routes()] + list(subnets))
    if link is None:
        yield f"no free /30 in {LINK_POOL} for the peer's link"
        return
    namespace, host_if, peer_if = names()
    hosts = list(link.hosts())
    peer = LivePeer(namespace, host_if, peer_if, IPv4Interface((hosts[0], 30)), IPv4Interface((hosts[1], 30)),
                    tuple(routed), local)
    try:
        lanpeer.setup(peer)
        lanpeer.run_in_namespace(namespace, ["sysctl", "-qw", "net.ipv6.conf.all.disable_ipv6=1"])
        lanpeer.add_routes(peer, [*routed, *([IPv4Network(f"{local}/32")] if local is not None else [])])
        if lanpeer.has_default_route(namespace):
            yield "the peer's namespace has a default route (refused)"
        else:
            yield peer
    finally:
        lanpeer.teardown(peer)
