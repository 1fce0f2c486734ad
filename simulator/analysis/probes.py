"""The unit of the reachability matrix: one source dialling one target one way.

This is the output contract of ``netsim reach --format json`` (docs/reach-json.md):
``source``, ``via`` (ip | dns | host), ``target``/``network`` (via ip), ``name``
(via dns), ``port``, ``protocol``, ``family`` (4 or 6), ``reachable``, ``responder``, ``reason``.
"""

from __future__ import annotations

import enum
from typing import Any, NamedTuple

from ..engine.trace import Disposition, Trace


class Via(enum.StrEnum):
    """How a probe addresses its target (a StrEnum: its JSON and text are the value)."""

    IP = "ip"  # a container's address on one network
    DNS = "dns"  # a name, resolved as the source would
    HOST = "host"  # a Docker host's address (published ports)


_tuple_new = tuple.__new__


def via_text(via: Via | str) -> str:
    """A way's text (``ip``, ``dns``, ``host``), read off the member itself: ``.value`` is a property,
    slow at hundreds of thousands of rows, and a JSON encoder given the member asks it in Python."""
    return via._value_ if type(via) is Via else via


class Probe(NamedTuple):
    """Immutable (a NamedTuple: a matrix holds millions of these)."""

    source: str  # container name, "host", "external" or a host name (multi-host designs)
    via: Via
    port: int
    protocol: str
    disposition: Disposition
    reason: str
    responder: str | None = None
    target: str | None = None  # via ip: the container whose address is dialled
    network: str | None = None  # via ip: the network of that address
    name: str | None = None  # via dns: the name looked up
    host: str | None = None  # via host: the Docker host whose address is dialled
    address: str | None = None  # the address dialled, when there is one
    responders: tuple[str, ...] = ()  # via dns with several records: every container that would answer
    trace: Trace | None = None  # the full trace, when computed
    balanced_by: str | None = None  # several may answer: "dns" (a name with several records), "vip", "ingress"
    family: int = 4  # the address family dialled: 4 (A records, IPv4 addresses) or 6 (AAAA, IPv6 addresses)

    @property
    def reachable(self) -> bool:
        return self.disposition is Disposition.DELIVERED

    def made_by(self, source: str) -> Probe:
        """This probe as ``source`` makes it (the members of a class probe alike): ``_replace(source=...)``
        without its per-field work (made for every coarse group's example)."""
        return self if self[0] == source else _tuple_new(Probe, (source, *self[1:]))

    @property
    def key(self) -> tuple:
        """Identity of the probe, independent of its outcome (used to match observations)."""
        return (self.source, self.via, self.target, self.network, self.name, self.host, self.port, self.protocol,
                self.family)

    def to_json(self, with_trace: bool = False) -> dict[str, Any]:
        # every field, in order: a NamedTuple unpacks faster than it reads 16 attributes (reach JSON at scale)
        (source, via, port, protocol, disposition, reason, responder, target, network, name, host, address, responders,
         trace, balanced_by, family) = self
        data: dict[str, Any] = {
            "source": source,
            "via": via_text(via),
            "target": target,
            "network": network,
            "name": name,
            "host": host,
            "address": address,
            "port": port,
            "protocol": protocol,
            "family": family,
            "reachable": disposition is Disposition.DELIVERED,
            "responder": responder,
            "responders": list(responders) if responders else ([responder] if responder else []),
            "disposition": disposition._value_,
            "reason": reason,
        }
        if balanced_by is not None:
            data["balanced_by"] = balanced_by
        if with_trace and trace is not None:
            data["trace"] = trace.to_json()  # the one JSON shape of a trace (docs/reach-json.md)
        return data
