"""moby#45610: a LAN-segment peer sends to 127.0.0.1 with the Docker host's MAC address.

The reachability matrix never dials another machine's loopback, so this walk is built
here from the packet walk's parts: the frame arrives on the host's LAN interface and
goes through raw/nat PREROUTING like any other (confirmed on 20.10, docs/confirmed-rules.md
§7f). It uses the walk's internals; if they change, :func:`lan_loopback_trace` returns None.
"""

from __future__ import annotations

from ipaddress import IPv4Address

from ..analysis.trace import Trace
from ..engine.topology import EXTERNAL, World

LOCALHOST = IPv4Address("127.0.0.1")


def lan_loopback_trace(world: World, host: str, port: int, protocol: str) -> Trace | None:
    """The walk of a LAN peer's packet to 127.0.0.1:port arriving on ``host``'s LAN interface."""
    try:
        from ..engine import walk as w
        from ..engine.netfilter import Packet

        ext = world.namespaces[EXTERNAL]
        host_ns = world.host_ns(host)
        lan_name = world.design.host(host).lan_interface
        lan = host_ns.interfaces[lan_name]
        src = next(i.address.ip for i in ext.interfaces.values() if i.address is not None)
        walk = w._Walk(world, host)
        walk.enter(ext)
        walk.step("l2", f"sends to {LOCALHOST}:{port}/{protocol} with the MAC address of host {host}'s {lan_name}")
        walk.enter(host_ns)
        try:
            w._arrive(walk, host_ns, lan, Packet(src, LOCALHOST, protocol, port))
        except w._Done as done:
            walk.flush()
            return Trace(tuple(walk.hops), done.disposition, done.reason, done.responder)
    except (AttributeError, KeyError, StopIteration, TypeError):
        return None
    return None
