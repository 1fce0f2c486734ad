"""Questions about many CIDR blocks at once, answered without comparing every pair.

Two CIDR blocks overlap only when one contains the other, so a sweep over the blocks sorted
by (first address, prefix length) keeps a stack of the blocks still open, each containing
the next: the blocks overlapping the current one are exactly those on the stack.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator, Sequence
from ipaddress import IPv4Address, IPv4Interface, IPv4Network, IPv6Network


def overlapping_pairs(blocks: Sequence[IPv4Network | IPv6Network]) -> Iterator[tuple[int, int]]:
    """Every pair of indices ``(i, j)``, ``i < j``, whose blocks overlap: O(n log n + pairs)."""
    order = sorted(range(len(blocks)), key=lambda k: (int(blocks[k].network_address), blocks[k].prefixlen, k))
    stack: list[tuple[int, int]] = []  # (last address, index), each containing the next
    for k in order:
        start = int(blocks[k].network_address)
        while stack and stack[-1][0] < start:
            stack.pop()
        for _, other in stack:
            yield (other, k) if other < k else (k, other)
        stack.append((int(blocks[k].broadcast_address), k))


def highest_free(subnet: IPv4Network, taken: set[IPv4Address]) -> IPv4Address | None:
    """The highest usable address of ``subnet`` not in ``taken``, or None when all are taken.

    Counted down one address at a time, never a list of every address (a /1 LAN is no slower).
    Usable as ``subnet.hosts()`` counts: no network or broadcast address, except in a /31 or /32."""
    edge = 1 if subnet.num_addresses > 2 else 0
    for value in range(int(subnet.broadcast_address) - edge, int(subnet.network_address) + edge - 1, -1):
        if IPv4Address(value) not in taken:
            return IPv4Address(value)
    return None


@functools.lru_cache(maxsize=4096)
def _network(first: int, prefixlen: int) -> IPv4Network:
    return IPv4Network((first, prefixlen))


def interface_of(address: int, prefixlen: int) -> IPv4Interface:
    """``IPv4Interface((address, prefixlen))``, equal in every way, its network shared with every
    other address of the subnet instead of parsed again: a 10,000-container world makes one per
    endpoint, and the parse was a fifth of laying the world out."""
    first = address & (0xFFFFFFFF << (32 - prefixlen)) & 0xFFFFFFFF
    network = _network(first, prefixlen)
    iface = IPv4Interface.__new__(IPv4Interface)
    IPv4Address.__init__(iface, address)
    iface.network = network
    iface.netmask = network.netmask
    iface.__dict__["_prefixlen"] = prefixlen  # as IPv4Interface.__init__ sets it
    return iface
