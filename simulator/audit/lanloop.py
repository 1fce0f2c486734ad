"""moby#45610: a LAN-segment peer sends to 127.0.0.1 with the Docker host's MAC address.

The reachability matrix never dials another machine's loopback, so this walk is asked of
the engine directly: the frame arrives on the host's LAN interface and goes through
raw/nat PREROUTING like any other (confirmed on 20.10, docs/confirmed-rules.md §7f).
"""

from __future__ import annotations

from ipaddress import IPv4Address

from ..engine.topology import World
from ..engine.trace import Trace
from ..engine.walk import walk_arriving

LOCALHOST = IPv4Address("127.0.0.1")


def lan_loopback_trace(world: World, host: str, port: int, protocol: str) -> Trace:
    """The walk of a LAN peer's packet to 127.0.0.1:port arriving on ``host``'s LAN interface."""
    return walk_arriving(world, host, LOCALHOST, port, protocol)
