"""Answers that explain themselves: a Trace is a list of Hops, each a list of typed Steps.

Modelled on pybatfish's Trace → Hop → Step (``datamodel/flow.py``): every step is a frozen
record of one mechanism's decision (a route lookup, link-layer delivery, a netfilter rule,
a NAT, a socket lookup, docker-proxy, a name lookup), and the trace ends with a
:class:`Disposition` saying why the packet was delivered or where it was dropped.

The records hold the facts; every text a person reads (``detail``, ``rule``, ``str()``) is
rendered from them here, and code that decides anything reads the fields, never the text
(tests/unit/test_no_text_decisions.py keeps it so). :meth:`Trace.to_json` is the one JSON
shape of a trace (docs/reach-json.md).

A new kind of step (services, IPv6) is one more frozen dataclass deriving from
:class:`Step`: it sets ``kind`` (the mechanism, as shown before the colon) and ``type``
(its record name in JSON) and renders ``detail`` (and ``rule`` when a rule decided).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, fields
from ipaddress import IPv4Address, IPv4Network, IPv6Address, IPv6Network
from typing import TYPE_CHECKING, Any, ClassVar

from ..values import quick_init

if TYPE_CHECKING:
    from .topology import Namespace

Address = IPv4Address | IPv6Address
Prefix = IPv4Network | IPv6Network


def host_port(address: Address, port: int) -> str:
    """``address:port`` as a socket address is written: an IPv6 address in brackets."""
    return f"[{address}]:{port}" if address.version == 6 else f"{address}:{port}"


class Disposition(str, enum.Enum):
    DELIVERED = "DELIVERED"  # a listener accepted the connection
    REFUSED = "REFUSED"  # reached the namespace, nothing listens there
    DROPPED_FILTER = "DROPPED_FILTER"  # a netfilter rule or policy dropped it
    DROPPED_ISOLATION = "DROPPED_ISOLATION"  # network isolation (bridge isolation, internal)
    DROPPED_L2 = "DROPPED_L2"  # the link layer never carries it (macvlan/ipvlan parent)
    NO_ROUTE = "NO_ROUTE"  # no route to the destination from the sender
    NAME_NOT_RESOLVED = "NAME_NOT_RESOLVED"
    LEFT_MODEL = "LEFT_MODEL"  # handed to something outside the design (the LAN router)
    LOOP = "LOOP"  # routed in a circle until the hop limit (in the kernel: TTL exceeded)

    @property
    def delivered(self) -> bool:
        return self is Disposition.DELIVERED


# --- where a hop happens --------------------------------------------------------------------

@quick_init
@dataclass(frozen=True, slots=True)
class Place:
    """The network namespace of a hop: a container's (with the containers sharing it), a host's
    or the external LAN peer's."""

    kind: str  # container | host | external
    name: str  # the container owning the namespace, the host, or "external"
    shared_with: tuple[str, ...] = ()  # containers joined to it with network_mode container:NAME

    @classmethod
    def of(cls, ns: Namespace) -> Place:
        kind, _, name = ns.id.partition(":")
        if kind == "ctr":
            return cls("container", name, tuple(ns.members[1:]))
        if kind == "host":
            return cls("host", name)
        return cls("external", "external")

    @property
    def label(self) -> str:
        if self.kind == "container":
            return f"container {self.name}" + (f" (shared by {', '.join(self.shared_with)})" if self.shared_with else "")
        if self.kind == "host":
            return f"host {self.name}"
        return "external LAN peer"

    def to_json(self) -> dict[str, Any]:
        return {"kind": self.kind, "name": self.name, "shared_with": list(self.shared_with)}


# --- steps ----------------------------------------------------------------------------------

class Step:
    """One decision: which mechanism (``kind``) decided what (``detail``), under which ``rule``.

    The base of the typed step records; ``detail`` and ``rule`` are rendered from a record's fields.
    """

    __slots__ = ()
    kind: ClassVar[str] = ""  # the mechanism: dns | route | l2 | netfilter | socket | proxy
    type: ClassVar[str] = ""  # the record in JSON: route, hop-limit, l2, forged-frame, filter, unmanaged, nat, socket, proxy, dns

    @property
    def detail(self) -> str:
        raise NotImplementedError

    @property
    def rule(self) -> str:
        """The rule that decided, written as the engine would show it ("" when no rule did)."""
        return ""

    def __str__(self) -> str:
        rule = self.rule
        return f"{self.kind}: {self.detail}" + (f"  [{rule}]" if rule else "")

    def to_json(self) -> dict[str, Any]:
        """``kind``, ``type``, ``detail``, ``rule``, ``text`` (the line a person reads), then the record's fields."""
        data: dict[str, Any] = {"kind": self.kind, "type": self.type, "detail": self.detail, "rule": self.rule,
                                "text": str(self)}
        for f in fields(self):  # type: ignore[arg-type]
            data[f.name] = _json_value(getattr(self, f.name))
        return data


def _json_value(value: Any) -> Any:
    if value is None or (isinstance(value, (bool, int, str)) and not isinstance(value, enum.Enum)):
        return value
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, (tuple, list)):
        return [_json_value(v) for v in value]
    if isinstance(value, Place):
        return value.to_json()
    return str(value)  # addresses and prefixes


class RouteOutcome(str, enum.Enum):
    LOCAL = "local"  # the destination is an address of the sending namespace (lo)
    CONNECTED = "connected"  # on a connected route
    GATEWAY = "gateway"  # via a gateway (the default route or a prefix)
    NONE = "none"  # no route to the destination
    NOT_ROUTER = "not-router"  # arrived for an address it does not own, and it does not forward
    MARTIAN = "martian"  # a loopback destination arriving from outside
    HOST_LOCAL = "host-local"  # an address of the host: delivered locally (INPUT)
    FORWARD_OFF = "forward-off"  # the host does not route (ip_forward off)
    FORWARD = "forward"  # the host forwards it out of ``device``
    TO_LAN_ROUTER = "to-lan-router"  # the host's default route: the LAN router, outside the design
    REROUTED = "rerouted"  # routed again after nat OUTPUT changed the destination
    NO_ADDRESS = "no-address"  # nothing to dial (no default gateway to reach the host)


@quick_init
@dataclass(frozen=True, slots=True)
class RouteStep(Step):
    """A route lookup and what it decided."""

    outcome: RouteOutcome
    destination: Address | None = None
    device: str | None = None  # the interface the packet leaves (or arrived) on
    via: Address | None = None  # the gateway (outcome gateway)
    prefix: Prefix | None = None  # the route that matched (connected, gateway)

    kind = "route"
    type = "route"

    @property
    def default(self) -> bool:
        return self.prefix is not None and self.prefix.prefixlen == 0

    @property
    def detail(self) -> str:
        d, o = self.destination, self.outcome
        if o is RouteOutcome.LOCAL:
            return f"{d} is local to this namespace (lo)"
        if o is RouteOutcome.CONNECTED:
            return f"{d} dev {self.device}: connected ({self.prefix})"
        if o is RouteOutcome.GATEWAY:
            return f"{d} via {self.via} dev {self.device}" + (" (default route)" if self.default else f" ({self.prefix})")
        if o is RouteOutcome.NONE:
            return f"no route to {d}"
        if o is RouteOutcome.NOT_ROUTER:
            return f"{d} is not an address of this namespace and it does not forward"
        if o is RouteOutcome.MARTIAN:
            if self.destination is not None and not self.destination.is_loopback:  # the source is (::1 after a DNAT)
                return f"to {d}: a packet from a loopback address may not leave through {self.device} (martian): the kernel drops it"
            return f"{d} arriving on {self.device} is a martian (loopback address from outside): the kernel drops it"
        if o is RouteOutcome.HOST_LOCAL:
            return f"{d} is an address of the host: delivered locally (INPUT)"
        if o is RouteOutcome.FORWARD_OFF:
            return "ip_forward is off: the host does not route"
        if o is RouteOutcome.FORWARD:
            return f"forward {d} out of {self.device}"
        if o is RouteOutcome.TO_LAN_ROUTER:
            return "default route: towards the LAN router"
        if o is RouteOutcome.REROUTED:
            return f"{d} via dev {self.device}"
        return "no address to dial"


@quick_init
@dataclass(frozen=True, slots=True)
class HopLimitStep(Step):
    """The walk stopped: the packet entered ``limit`` namespaces (``cycle``: the repeating part, once)."""

    limit: int
    cycle: tuple[Place, ...] = ()

    kind = "route"
    type = "hop-limit"

    @property
    def detail(self) -> str:
        where = "round " + " -> ".join(p.label for p in self.cycle) if self.cycle else "without reaching its destination"
        return f"hop limit: the packet has entered {self.limit} namespaces, {where}"


class L2Outcome(str, enum.Enum):
    DELIVERED = "delivered"  # delivered on a segment to the neighbour owning the next hop
    BRIDGED = "bridged"  # between two containers on a bridge (br_netfilter: the host's FORWARD chain)
    LEAVES_LAN = "leaves-lan"  # nothing in the design owns the next hop: out on the LAN
    NO_NEIGHBOUR = "no-neighbour"  # nothing answers ARP for the next hop
    PARENT_ISOLATION = "parent-isolation"  # a macvlan/ipvlan child and its parent cannot talk


@quick_init
@dataclass(frozen=True, slots=True)
class L2Step(Step):
    """Link-layer delivery on one segment."""

    outcome: L2Outcome
    neighbour: Address | None = None  # the next hop's address
    segment: str | None = None  # the kind of segment: lan, bridge, overlay, l2, ipvlan-l3, dummy
    bridge: str | None = None  # bridged: the bridge device
    device: str | None = None  # delivered: the neighbour's interface; parent isolation: the parent
    driver: str | None = None  # parent isolation: macvlan | ipvlan

    kind = "l2"
    type = "l2"

    @property
    def detail(self) -> str:
        o = self.outcome
        if o is L2Outcome.DELIVERED:
            return f"delivered on the {self.segment} segment to {self.neighbour} ({self.device})"
        if o is L2Outcome.BRIDGED:
            return f"bridged on {self.bridge} to {self.neighbour}"
        if o is L2Outcome.LEAVES_LAN:
            return f"{self.neighbour} is not part of the design: the packet leaves on the LAN"
        if o is L2Outcome.NO_NEIGHBOUR:
            return f"no neighbour answers ARP for {self.neighbour} on {self.segment} segment"
        return f"{self.driver} child and its parent {self.device} cannot talk: the kernel does not pass frames between them"


@quick_init
@dataclass(frozen=True, slots=True)
class ForgedFrameStep(Step):
    """A LAN peer sends a frame for ``destination`` to a host's MAC address (moby#45610)."""

    destination: Address
    port: int
    protocol: str
    host: str
    device: str  # the host's LAN interface

    kind = "l2"
    type = "forged-frame"

    @property
    def detail(self) -> str:
        return (f"sends to {self.destination}:{self.port}/{self.protocol} with the MAC address of host "
                f"{self.host}'s {self.device}")


@quick_init
@dataclass(frozen=True, slots=True)
class FilterStep(Step):
    """A netfilter chain's verdict: the rule that matched, or the chain's policy."""

    table: str  # raw | filter
    chain: str  # the built-in chain: PREROUTING, INPUT, FORWARD
    verdict: str  # ACCEPT | DROP | REJECT
    path: tuple[str, ...]  # the chains traversed, from ``chain`` to the one holding the rule
    matched: str | None = None  # the rule as `iptables -S` prints it; None: the policy decided
    policy: str = ""  # the chain's policy, when it decided

    kind = "netfilter"
    type = "filter"

    @property
    def detail(self) -> str:
        return f"{self.table} {self.chain}: {self.verdict}" + (f" (via {' > '.join(self.path)})" if len(self.path) > 1 else "")

    @property
    def rule(self) -> str:
        if self.matched is not None:
            return f"-t {self.table} {self.matched}"
        return f"-t {self.table} -P {self.chain} {self.policy}"


@quick_init
@dataclass(frozen=True, slots=True)
class UnmanagedStep(Step):
    """A chain the engine writes no rule in, because it does not manage ip6tables (20.10's default):
    only the host's own policy applies, which netsim takes to be ACCEPT (docs/confirmed-rules.md §18c, §18f)."""

    table: str  # filter
    chain: str  # FORWARD

    kind = "netfilter"
    type = "unmanaged"

    @property
    def detail(self) -> str:
        return (f"{self.table} {self.chain}: ACCEPT — the engine writes no ip6tables rules (ip6tables off): "
                "only the host's own policy applies")

    @property
    def rule(self) -> str:
        return f"-t {self.table} -P {self.chain} ACCEPT"


class NatAction(str, enum.Enum):
    DNAT = "DNAT"  # the destination is rewritten (published ports)
    MASQUERADE = "MASQUERADE"  # the source becomes the outgoing interface's address


@quick_init
@dataclass(frozen=True, slots=True)
class NatStep(Step):
    """An address translation in the nat table: ``before`` → ``after`` (address, port)."""

    chain: str  # PREROUTING | OUTPUT | POSTROUTING
    action: NatAction
    matched: str  # the rule as `iptables -S` prints it
    before_address: Address
    after_address: Address | None  # masquerade: the outgoing interface's address (None: it has none)
    before_port: int | None = None  # DNAT: the port dialled; masquerade: None (the source port)
    after_port: int | None = None
    device: str | None = None  # masquerade: the outgoing interface

    kind = "netfilter"
    type = "nat"

    @property
    def detail(self) -> str:
        if self.action is NatAction.DNAT:
            if self.after_address is not None and self.after_port is not None:
                return f"nat {self.chain}: DNAT to {host_port(self.after_address, self.after_port)}"
            return f"nat {self.chain}: DNAT to {self.after_address}:{self.after_port}"
        return f"nat {self.chain}: source masqueraded to {self.device}'s address"

    @property
    def rule(self) -> str:
        return f"-t nat {self.matched}"


@quick_init
@dataclass(frozen=True, slots=True)
class SocketStep(Step):
    """The socket lookup in the receiving namespace: who listens on the port (``owner`` None: nobody)."""

    address: Address
    port: int
    protocol: str
    owner: str | None = None

    kind = "socket"
    type = "socket"

    @property
    def detail(self) -> str:
        if self.owner is not None:
            return f"{self.owner} listens on {self.port}/{self.protocol}"
        return f"nothing listens on {self.port}/{self.protocol}"


class ProxyOutcome(str, enum.Enum):
    CONNECTS = "connects"  # docker-proxy accepts and connects to the container
    UDP_REPLY_LOST = "udp-reply-lost"  # its reply leaves from another address: the client drops it


@quick_init
@dataclass(frozen=True, slots=True)
class ProxyStep(Step):
    """docker-proxy on the host: ``listen_address``:``port`` → ``container_address``:``container_port``."""

    outcome: ProxyOutcome
    dialled: Address  # the host address the client dialled
    listen_address: Address  # the address docker-proxy is bound to (0.0.0.0: every address)
    port: int
    protocol: str
    container_address: Address
    container_port: int

    kind = "proxy"
    type = "proxy"

    @property
    def detail(self) -> str:
        if self.outcome is ProxyOutcome.UDP_REPLY_LOST:
            return (f"docker-proxy answers {self.port}/udp from the address routing picks towards the client, "
                    f"not {self.dialled}: the client drops the reply")
        return (f"docker-proxy listening on {host_port(self.listen_address, self.port)}/{self.protocol} connects to "
                f"{host_port(self.container_address, self.container_port)}")


class DnsOutcome(str, enum.Enum):
    ANSWERED = "answered"
    NO_RESOLVER = "no-resolver"  # no embedded DNS in the asking namespace
    NXDOMAIN = "nxdomain"  # the embedded DNS knows no such name on the asker's networks
    NO_AAAA = "no-aaaa"  # an IPv6 lookup: the name is on a network without IPv6, which ends the search


NO_RESOLVER_WHY = {
    "host": "the host's resolver knows no container names",
    "external": "a LAN peer's resolver knows no container names",
    "container": "no embedded DNS here (default bridge, host or none mode): resolv.conf is the host's, "
                 "which knows no container names",
}


@quick_init
@dataclass(frozen=True, slots=True)
class DnsStep(Step):
    """A name lookup: ``query`` asked from a namespace of kind ``asker``, and the answer."""

    query: str
    outcome: DnsOutcome
    asker: str  # container | host | external
    resolver: Address | None = None  # 127.0.0.11 (the embedded DNS) when there is one
    answers: tuple[Address, ...] = ()
    network: str | None = None  # the network whose records answered
    qualified: bool = False  # the query was NAME.NETWORK

    kind = "dns"
    type = "dns"

    @property
    def failure(self) -> str | None:
        """Why the name was not resolved (None when it was)."""
        if self.outcome is DnsOutcome.NO_RESOLVER:
            return NO_RESOLVER_WHY.get(self.asker, NO_RESOLVER_WHY["container"])
        if self.outcome is DnsOutcome.NXDOMAIN:
            return "no network this container is attached to carries the name"
        if self.outcome is DnsOutcome.NO_AAAA:
            return (f"network {self.network} carries the name but has no IPv6: the embedded DNS answers the AAAA "
                    "query with no address and looks no further")
        return None

    @property
    def detail(self) -> str:
        if self.outcome is DnsOutcome.NO_RESOLVER:
            return f"{self.query}: not resolved — {self.failure}"
        if self.outcome is DnsOutcome.NXDOMAIN:
            return f"{self.query}: NXDOMAIN — {self.failure}"
        if self.outcome is DnsOutcome.NO_AAAA:
            return f"{self.query}: no AAAA record — {self.failure}"
        shown = ", ".join(str(a) for a in self.answers)
        if self.qualified:
            return f"{self.resolver} answers {self.query} → {shown} (name qualified by network {self.network})"
        rr = " (round robin: the client takes one)" if len(self.answers) > 1 else ""
        return f"{self.resolver} answers {self.query} → {shown} from network {self.network}{rr}"


# --- hops and traces --------------------------------------------------------------------------

@quick_init
@dataclass(frozen=True, slots=True)
class Hop:
    """Everything that happened inside one network namespace."""

    place: Place
    steps: tuple[Step, ...]

    @property
    def node(self) -> str:
        """The namespace as a person reads it, e.g. "container web", "host docker1"."""
        return self.place.label

    def __str__(self) -> str:
        lines = [self.node]
        lines.extend(f"  {step}" for step in self.steps)
        return "\n".join(lines)

    def to_json(self) -> dict[str, Any]:
        return {"node": self.node, "place": self.place.to_json(), "steps": [s.to_json() for s in self.steps]}


@quick_init
@dataclass(frozen=True, slots=True)
class Trace:
    hops: tuple[Hop, ...]
    disposition: Disposition
    reason: str  # one line a person understands
    responder: str | None = None  # the container (or "host") whose listener answered

    @property
    def delivered(self) -> bool:
        return self.disposition is Disposition.DELIVERED

    def __str__(self) -> str:
        body = "\n".join(str(hop) for hop in self.hops)
        return f"{body}\n=> {self.disposition.value}: {self.reason}"

    def to_json(self) -> dict[str, Any]:
        """The one JSON shape of a trace (docs/reach-json.md): ``disposition``, ``reason``,
        ``responder``, ``hops`` (each ``node``, ``place``, ``steps``) and ``text``, the trace as printed."""
        return {"disposition": self.disposition.value, "reason": self.reason, "responder": self.responder,
                "hops": [h.to_json() for h in self.hops], "text": str(self)}
