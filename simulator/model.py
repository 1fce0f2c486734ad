"""The design model: frozen values that every loader produces and every analysis reads.

A :class:`Design` is what the user intends: Docker hosts, networks and containers.
It says nothing about what Docker will *do* with it; that is the engine package's job
(addresses come from :mod:`simulator.engine.ipam`, behaviour from the packet walk).

The same model comes out of a netsim YAML design, a docker-compose file and (later) a
running engine, so comparing intent with reality is comparing two of these.

The model checks itself, so netsim can be used as a library: every value checks its fields
when it is made (a valid string becomes its enum or address type, anything else raises
:class:`~simulator.errors.ModelError` naming the field, the value and what is allowed), and a
:class:`Design` refuses broken references (:func:`design_problems`), the same checks the
loaders report at file:line.
"""

from __future__ import annotations

import enum
import functools
import re
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field, replace
from functools import cached_property
from ipaddress import IPv4Address, IPv4Interface, IPv4Network, IPv6Address, IPv6Interface, IPv6Network
from types import MappingProxyType
from typing import Any

from .errors import ModelError, ModelProblem, UnknownName


class Driver(str, enum.Enum):
    """Docker network drivers, plus the two pseudo-networks ``host`` and ``none``."""

    BRIDGE = "bridge"
    HOST = "host"
    NONE = "none"
    MACVLAN = "macvlan"
    IPVLAN = "ipvlan"
    OVERLAY = "overlay"


class Protocol(str, enum.Enum):
    TCP = "tcp"
    UDP = "udp"
    SCTP = "sctp"


class ModeKind(str, enum.Enum):
    """How a container gets its network namespace."""

    NETWORKS = "networks"  # its own namespace, attached to the listed networks
    HOST = "host"  # the host's namespace
    NONE = "none"  # its own namespace with loopback only
    CONTAINER = "container"  # another container's namespace (compose service:X / container:X)


# The enums below replace fields that were plain strings: StrEnum members compare equal to,
# print as and serialise as their value, so `net.gateway_mode == "nat"`, f-strings and JSON
# output are unchanged.


class GatewayMode(enum.StrEnum):
    """A bridge network's gateway mode of one family (com.docker.network.bridge.gateway_mode_ipv4, _ipv6)."""

    NAT = "nat"
    NAT_UNPROTECTED = "nat-unprotected"
    ROUTED = "routed"
    ISOLATED = "isolated"


class LinkMode(enum.StrEnum):
    """A macvlan (bridge, vepa, private, passthru) or ipvlan (l2, l3, l3s) mode."""

    BRIDGE = "bridge"
    VEPA = "vepa"
    PRIVATE = "private"
    PASSTHRU = "passthru"
    L2 = "l2"
    L3 = "l3"
    L3S = "l3s"


class DesignKind(enum.StrEnum):
    """What a design was written as."""

    NETSIM = "netsim"
    COMPOSE = "compose"


class ListenerOrigin(enum.StrEnum):
    """Where netsim learnt that a container listens on a port (docs/listeners.md)."""

    DESIGN = "design"  # a netsim design's listens: or ports:
    COMPOSE = "compose"  # a compose file's expose: or ports: targets
    X_NETSIM = "x-netsim"  # a compose service's x-netsim: {listens: [...]}
    DOCKERFILE = "dockerfile"  # EXPOSE in the Dockerfile of the service's build context
    IMAGE = "image"  # ExposedPorts of the image, inspected on a reachable engine
    CATALOGUE = "catalogue"  # netsim's catalogue of well-known images' default ports


# --- field checks: every value checks its own fields when it is made ---------------------


def _refuse(where: tuple, message: str) -> ModelError:
    return ModelError([ModelProblem(where, message, "bad-value")])


def _enum(obj: Any, name: str, kind: type[enum.Enum], where: tuple, optional: bool = False) -> None:
    """Coerce a field to ``kind`` (its value given as a string is fine); refuse anything else."""
    value = getattr(obj, name)
    if type(value) is kind or (optional and value is None):
        return
    try:
        object.__setattr__(obj, name, kind(value))
    except (ValueError, TypeError):
        allowed = ", ".join(str(m.value) for m in kind)
        raise _refuse(where + (name,), f"{name} {value!r} is not a {kind.__name__}; use one of {allowed}") from None


_IP_TYPES = {IPv4Address: "an IPv4 address", IPv4Network: "an IPv4 network (CIDR, no host bits)",
             IPv4Interface: "an IPv4 interface address (address/prefix)", IPv6Address: "an IPv6 address",
             IPv6Network: "an IPv6 network (CIDR, no host bits)",
             IPv6Interface: "an IPv6 interface address (address/prefix)"}


def _ip(obj: Any, name: str, kind: type, where: tuple, optional: bool = False) -> None:
    """Coerce an address field given as a string to its ipaddress type; refuse anything else."""
    value = getattr(obj, name)
    if type(value) is kind or (optional and value is None):
        return
    object.__setattr__(obj, name, _as_ip(value, kind, where + (name,)))


def _as_ip(value: object, kind: type, where: tuple) -> Any:
    if isinstance(value, str) and not isinstance(value, enum.Enum):
        try:
            return kind(value)
        except ValueError:
            pass
    raise _refuse(where, f"{where[-1]} {value!r} is not {_IP_TYPES[kind]}")


def _ip_either(obj: Any, name: str, v4: type, v6: type, where: tuple, optional: bool = False) -> None:
    """Coerce a field that holds either family (``v4`` or ``v6``): a string with a ':' is IPv6."""
    value = getattr(obj, name)
    if type(value) in (v4, v6) or (optional and value is None):
        return
    kind = v6 if isinstance(value, str) and ":" in value else v4
    try:
        object.__setattr__(obj, name, _as_ip(value, kind, where + (name,)))
    except ModelError:
        raise _refuse(where + (name,), f"{name} {value!r} is not {_IP_TYPES[v4]} or {_IP_TYPES[v6]}") from None


def _ips(obj: Any, name: str, kind: type, where: tuple) -> None:
    value = getattr(obj, name)
    if type(value) is tuple and all(type(v) is kind for v in value):
        return
    if isinstance(value, (str, bytes)) or not hasattr(value, "__iter__"):
        raise _refuse(where + (name,), f"{name} {value!r} is not a list of {_IP_TYPES[kind]}es")
    object.__setattr__(obj, name, tuple(v if type(v) is kind else _as_ip(v, kind, where + (name, i))
                                        for i, v in enumerate(value)))


def _tuple(obj: Any, name: str, where: tuple) -> None:
    """A sequence field as a tuple (a frozen value holds nothing mutable); a mapping as its items."""
    value = getattr(obj, name)
    if type(value) is tuple:
        return
    if isinstance(value, Mapping):
        object.__setattr__(obj, name, tuple(value.items()))
    elif isinstance(value, (str, bytes)) or not hasattr(value, "__iter__"):
        raise _refuse(where + (name,), f"{name} {value!r} is not a list")
    else:
        object.__setattr__(obj, name, tuple(value))


def _text(obj: Any, name: str, where: tuple, optional: bool = False) -> None:
    value = getattr(obj, name)
    if not (isinstance(value, str) or (optional and value is None)):
        raise _refuse(where + (name,), f"{name} {value!r} is not a string")


def _int(obj: Any, name: str, where: tuple, low: int, high: int, optional: bool = False) -> None:
    value = getattr(obj, name)
    if optional and value is None:
        return
    if type(value) is not int or not low <= value <= high:
        raise _refuse(where + (name,), f"{name} {value!r} is not a whole number from {low} to {high}")


@dataclass(frozen=True, slots=True)
class Location:
    """Where a value was written: file, 1-based line and column."""

    file: str
    line: int
    column: int

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.column}"


_new_object = object.__new__
_set_file, _set_line, _set_column = (Location.__dict__[name].__set__ for name in ("file", "line", "column"))


def location_at(file: str, line: int, column: int) -> Location:
    """``Location(file, line, column)`` made in half the time (the slots are set directly, past the
    frozen class's guard): reading a design of 10,000 containers makes some 120,000 of them."""
    loc = _new_object(Location)
    _set_file(loc, file)
    _set_line(loc, line)
    _set_column(loc, column)
    return loc


@dataclass(frozen=True, slots=True)
class AddressPool:
    """A daemon default-address-pool entry: ``base`` split into networks of ``size`` bits (an IPv6
    base gives the networks of ``enable_ipv6`` networks that name no IPv6 subnet)."""

    base: IPv4Network | IPv6Network
    size: int

    def __post_init__(self) -> None:
        _ip_either(self, "base", IPv4Network, IPv6Network, ("AddressPool",))
        _int(self, "size", ("AddressPool",), 0, self.base.max_prefixlen)


DEFAULT_ADDRESS_POOLS: tuple[AddressPool, ...] = (
    AddressPool(IPv4Network("172.17.0.0/16"), 16),
    AddressPool(IPv4Network("172.18.0.0/16"), 16),
    AddressPool(IPv4Network("172.19.0.0/16"), 16),
    AddressPool(IPv4Network("172.20.0.0/14"), 16),
    AddressPool(IPv4Network("172.24.0.0/14"), 16),
    AddressPool(IPv4Network("172.28.0.0/14"), 16),
    AddressPool(IPv4Network("192.168.0.0/16"), 20),
)

SWARM_DEFAULT_POOL = AddressPool(IPv4Network("10.0.0.0/8"), 24)


@dataclass(frozen=True, slots=True)
class DaemonOptions:
    """dockerd options that change networking behaviour (daemon.json)."""

    icc: bool = True
    userland_proxy: bool = True
    iptables: bool = True
    ip_forward: bool = True
    ip_masq: bool = True
    allow_direct_routing: bool = False  # 28.2+
    forwarding_preset: bool = False  # the host already routed (ip_forward=1) before dockerd started
    bip: IPv4Interface | None = None  # default bridge address, e.g. 172.17.0.1/16
    default_address_pools: tuple[AddressPool, ...] = DEFAULT_ADDRESS_POOLS
    ipv6: bool = False  # daemon.json "ipv6": IPv6 on the default bridge (docker0)
    ip6tables: bool | None = None  # None: the engine line's default (off before 27.0, on from 27.0)
    fixed_cidr_v6: IPv6Network | None = None  # daemon.json "fixed-cidr-v6": docker0's IPv6 subnet
    experimental: bool = False  # daemon.json "experimental" (ip6tables needs it before 27.0)

    def __post_init__(self) -> None:
        _ip(self, "bip", IPv4Interface, ("DaemonOptions",), optional=True)
        _tuple(self, "default_address_pools", ("DaemonOptions",))
        _ip(self, "fixed_cidr_v6", IPv6Network, ("DaemonOptions",), optional=True)
        for name in ("ipv6", "experimental"):
            if type(getattr(self, name)) is not bool:
                raise _refuse(("DaemonOptions", name), f"{name} {getattr(self, name)!r} is not true or false")
        if self.ip6tables is not None and type(self.ip6tables) is not bool:
            raise _refuse(("DaemonOptions", "ip6tables"), f"ip6tables {self.ip6tables!r} is not true, false or None")


@dataclass(frozen=True, slots=True)
class KernelFeatures:
    """What a kernel can create for the drivers; a generic Linux host has all of it.

    The one kernel-features value: a design host states it (the engine model reads it),
    :mod:`simulator.adapters.kernel` reads this machine's from its configuration and
    :mod:`simulator.adapters.lanpeer` finds it by trying the links (deploy, verify).
    """

    ipvlan: bool = True
    vlan: bool = True  # 802.1q sub-interfaces (macvlan/ipvlan parent eth0.50)
    dummy: bool = True  # dummy links (macvlan/ipvlan without a parent)
    source: str = "generic Linux host"
    macvlan: bool = True
    ipvs: bool = True  # IP virtual server (CONFIG_IP_VS): swarm virtual IPs and the routing mesh

    def missing(self) -> tuple[str, ...]:
        return tuple(name for name in ("ipvlan", "vlan", "dummy") if not getattr(self, name))


DEFAULT_ENGINE_VERSION = "20.10"  # the engine line a design that names none is modelled on
_ENGINE_VERSION = re.compile(r"\s*v?(\d+)(?:\.(\d+))?(?:\.(\d+))?(?:[-+~].*)?\s*")


def engine_version_numbers(text: str) -> tuple[int, int, int] | None:
    """``"20.10"`` → (20, 10, 0), ``"20.10.24+dfsg1"`` → (20, 10, 24), ``"v29"`` → (29, 0, 0);
    None when ``text`` is not an engine version.  The one parser of version text (which lines
    netsim has rules for: :func:`simulator.engine.versions.parse_version`)."""
    return _version_numbers(str(text))


@functools.lru_cache(maxsize=256)  # read for every network and container of a design: few distinct texts
def _version_numbers(text: str) -> tuple[int, int, int] | None:
    m = _ENGINE_VERSION.fullmatch(text)
    return (int(m.group(1)), int(m.group(2) or 0), int(m.group(3) or 0)) if m else None


@dataclass(frozen=True, slots=True)
class Host:
    """A Docker host: a machine running dockerd, attached to the LAN by one interface."""

    name: str
    lan_interface: str = "eth0"
    lan_address: IPv4Interface = IPv4Interface("192.168.1.10/24")
    engine_version: str = DEFAULT_ENGINE_VERSION
    daemon: DaemonOptions = DaemonOptions()
    routes: tuple[IPv4Network, ...] = ()  # prefixes already routed on the host (IPAM skips them)
    gateways: tuple[tuple[IPv4Network, IPv4Address], ...] = ()  # routes "<prefix> via <LAN neighbour>"
    kernel: KernelFeatures = KernelFeatures()
    role: str = "manager"  # as a swarm node: manager | worker
    labels: tuple[tuple[str, str], ...] = ()  # node labels (placement constraints node.labels.<key>)
    lan_address6: IPv6Interface | None = None  # the host's IPv6 address on the LAN (lan: address6)

    def __post_init__(self) -> None:
        where = ("hosts", self.name)
        _text(self, "name", ("hosts",))
        _text(self, "lan_interface", where)
        _ip(self, "lan_address", IPv4Interface, where)
        _ip(self, "lan_address6", IPv6Interface, where, optional=True)
        _text(self, "engine_version", where)
        _tuple(self, "labels", where)
        if self.role not in ("manager", "worker"):
            raise _refuse(where + ("role",), f"role {self.role!r} is not manager or worker")
        _ips(self, "routes", IPv4Network, where)
        if type(self.gateways) is not tuple or not all(
                type(g) is tuple and len(g) == 2 and type(g[0]) is IPv4Network and type(g[1]) is IPv4Address
                for g in self.gateways):
            _tuple(self, "gateways", where)
            object.__setattr__(self, "gateways", tuple(
                (_as_ip(p, IPv4Network, where + ("gateways", i, 0)) if type(p) is not IPv4Network else p,
                 _as_ip(v, IPv4Address, where + ("gateways", i, 1)) if type(v) is not IPv4Address else v)
                for i, (p, v) in enumerate(self.gateways)))


@dataclass(frozen=True, slots=True)
class Network:
    """A Docker network as the design declares it.

    ``name`` is the design key (for compose: the key under top-level ``networks``);
    ``docker_name`` is the name the engine knows it by.  A local-scope network (bridge,
    macvlan, ipvlan) listed on several ``hosts`` is an independent instance on each host,
    as the default ``bridge`` is; an overlay is one network spanning its hosts.
    """

    name: str
    driver: Driver
    docker_name: str = ""
    hosts: tuple[str, ...] = ()
    subnet: IPv4Network | None = None
    gateway: IPv4Address | None = None
    ip_range: IPv4Network | None = None
    aux_addresses: tuple[IPv4Address, ...] = ()
    internal: bool = False
    icc: bool = True
    masquerade: bool = True
    host_binding_ipv4: IPv4Address = IPv4Address("0.0.0.0")
    gateway_mode: GatewayMode = GatewayMode.NAT
    parent: str | None = None  # macvlan/ipvlan parent interface (without the VLAN suffix)
    vlan: int | None = None  # 802.1q id: the parent becomes <parent>.<vlan>
    mode: LinkMode | None = None  # macvlan: bridge|vepa|private|passthru; ipvlan: l2|l3|l3s
    attachable: bool = False
    encrypted: bool = False
    external: bool = False
    default_bridge: bool = False  # Docker's predefined "bridge" network (docker0)
    labels: tuple[tuple[str, str], ...] = ()
    ingress: bool = False  # the swarm's routing-mesh overlay: the swarm makes it, netsim never does
    enable_ipv6: bool = False  # dual-stack: the network has an IPv6 subnet too
    subnet6: IPv6Network | None = None  # None with enable_ipv6: the engine picks one (simulator.engine.ipam)
    gateway6: IPv6Address | None = None
    ip_range6: IPv6Network | None = None
    gateway_mode6: GatewayMode = GatewayMode.NAT  # com.docker.network.bridge.gateway_mode_ipv6 (27.0+)

    def __post_init__(self) -> None:
        where = ("networks", self.name)
        _text(self, "name", ("networks",))
        _enum(self, "driver", Driver, where)
        _tuple(self, "hosts", where)
        _ip(self, "subnet", IPv4Network, where, optional=True)
        _ip(self, "gateway", IPv4Address, where, optional=True)
        _ip(self, "ip_range", IPv4Network, where, optional=True)
        if type(self.enable_ipv6) is not bool:
            raise _refuse(where + ("enable_ipv6",), f"enable_ipv6 {self.enable_ipv6!r} is not true or false")
        _ip(self, "subnet6", IPv6Network, where, optional=True)
        _ip(self, "gateway6", IPv6Address, where, optional=True)
        _ip(self, "ip_range6", IPv6Network, where, optional=True)
        _ips(self, "aux_addresses", IPv4Address, where)
        _ip(self, "host_binding_ipv4", IPv4Address, where)
        _enum(self, "gateway_mode", GatewayMode, where)
        _enum(self, "gateway_mode6", GatewayMode, where)
        _enum(self, "mode", LinkMode, where, optional=True)
        _int(self, "vlan", where, 0, 4095, optional=True)
        _tuple(self, "labels", where)

    @property
    def engine_name(self) -> str:
        return self.docker_name or self.name

    @property
    def parent_interface(self) -> str | None:
        if self.parent is None:
            return None
        return f"{self.parent}.{self.vlan}" if self.vlan is not None else self.parent

    @property
    def swarm_scope(self) -> bool:
        return self.driver is Driver.OVERLAY

    def gateway6_for(self, subnet: IPv6Network) -> IPv6Address:
        """The IPv6 gateway on ``subnet``: ``gateway6``, else the IPAM's first free address, which is in
        ``ip_range6`` when there is one (libnetwork ``ipamAllocateVersion`` asks the range's pool; confirmed
        on 20.10.24, docs/confirmed-rules.md §18a: ``--ip-range fd12:3456:6::100/120`` gives ``::100``)."""
        if self.gateway6 is not None and not self.default_bridge:
            return self.gateway6
        span = self.ip_range6 if self.ip_range6 is not None and self.ip_range6.subnet_of(subnet) else subnet
        first = span.network_address
        return first + 1 if first == subnet.network_address or self.default_bridge else first


SWARM_INGRESS = "ingress"  # the overlay that swarm init creates for the routing mesh
INGRESS_SUBNET = IPv4Network("10.0.0.0/24")  # its subnet on a default swarm (confirmed-rules §17e)


@dataclass(frozen=True, slots=True)
class Attachment:
    """A container's endpoint on one network."""

    network: str
    aliases: tuple[str, ...] = ()
    ipv4_address: IPv4Address | None = None
    gw_priority: int = 0
    ipv6_address: IPv6Address | None = None

    def __post_init__(self) -> None:
        if (type(self.network) is str and type(self.aliases) is tuple and type(self.gw_priority) is int
                and (self.ipv4_address is None or type(self.ipv4_address) is IPv4Address)
                and (self.ipv6_address is None or type(self.ipv6_address) is IPv6Address)):
            return  # the common case, kept cheap: designs hold tens of thousands of these
        where = ("Attachment", self.network)
        _text(self, "network", ("Attachment",))
        _tuple(self, "aliases", where)
        _ip(self, "ipv4_address", IPv4Address, where, optional=True)
        _ip(self, "ipv6_address", IPv6Address, where, optional=True)
        if type(self.gw_priority) is not int:
            raise _refuse(where + ("gw_priority",), f"gw_priority {self.gw_priority!r} is not a whole number")


@dataclass(frozen=True, slots=True)
class PortMapping:
    """One published port: ``host_ip:host_port -> container_port/protocol``.

    ``host_ip`` None means "not given" (the network's host_binding_ipv4, normally
    0.0.0.0); ``host_port`` None means an ephemeral port chosen by the engine. An IPv6
    ``host_ip`` (``"[::1]:8080:80"``) is a binding on one of the host's IPv6 addresses.
    """

    container_port: int
    protocol: Protocol = Protocol.TCP
    host_port: int | None = None
    host_ip: IPv4Address | IPv6Address | None = None

    def __post_init__(self) -> None:
        if (type(self.container_port) is int and 0 < self.container_port < 65536 and type(self.protocol) is Protocol
                and (self.host_port is None or (type(self.host_port) is int and 0 < self.host_port < 65536))
                and (self.host_ip is None or type(self.host_ip) in (IPv4Address, IPv6Address))):
            return
        where = ("PortMapping",)
        _int(self, "container_port", where, 1, 65535)
        _enum(self, "protocol", Protocol, where)
        _int(self, "host_port", where, 1, 65535, optional=True)
        _ip_either(self, "host_ip", IPv4Address, IPv6Address, where, optional=True)

    @property
    def host_address(self) -> str:
        """``host_ip`` as a port spec writes it: an IPv6 address in brackets ("" when not given)."""
        if self.host_ip is None:
            return ""
        return f"[{self.host_ip}]" if self.host_ip.version == 6 else str(self.host_ip)


@dataclass(frozen=True, slots=True)
class Listener:
    """A port a container's process listens on (on every address of its namespace).

    ``origin`` says where that was learnt; it is not part of the value's identity (two listeners
    on one port and protocol are equal whatever their origin)."""

    port: int
    protocol: Protocol = Protocol.TCP
    origin: ListenerOrigin = field(default=ListenerOrigin.DESIGN, compare=False)

    def __post_init__(self) -> None:
        if (type(self.port) is int and 0 < self.port < 65536 and type(self.protocol) is Protocol
                and type(self.origin) is ListenerOrigin):
            return
        _int(self, "port", ("Listener",), 1, 65535)
        _enum(self, "protocol", Protocol, ("Listener",))
        _enum(self, "origin", ListenerOrigin, ("Listener",))


@dataclass(frozen=True, slots=True)
class NetworkMode:
    kind: ModeKind = ModeKind.NETWORKS
    target: str | None = None  # the owner container, for ModeKind.CONTAINER

    def __post_init__(self) -> None:
        if type(self.kind) is not ModeKind:
            _enum(self, "kind", ModeKind, ("NetworkMode",))
        if self.kind is ModeKind.CONTAINER and not (isinstance(self.target, str) and self.target):
            raise _refuse(("NetworkMode", "target"), "network mode container needs the name of the container "
                          f"whose namespace it shares, not {self.target!r}")
        if self.kind is not ModeKind.CONTAINER and self.target is not None:
            raise _refuse(("NetworkMode", "target"), f"network mode {self.kind.value} takes no target "
                          f"(got {self.target!r}); only container:<name> does")

    def __str__(self) -> str:
        return f"container:{self.target}" if self.kind is ModeKind.CONTAINER else self.kind.value


@dataclass(frozen=True, slots=True)
class Container:
    """A container (a compose service with one replica) as the design declares it.

    ``name`` is the design key (compose: the service name), ``docker_name`` the
    container's name on the engine (compose: ``<project>-<service>-1``).
    """

    name: str
    host: str
    docker_name: str = ""
    mode: NetworkMode = NetworkMode()
    attachments: tuple[Attachment, ...] = ()
    ports: tuple[PortMapping, ...] = ()
    listeners: tuple[Listener, ...] = ()
    hostname: str | None = None
    service: str | None = None  # compose service name (a DNS name on every network)
    labels: tuple[tuple[str, str], ...] = ()
    task_of: str | None = None  # a swarm task: the :class:`SwarmService` it runs for (named <service>.<slot>)
    # why no source says what it listens on (compose: no expose/ports, x-netsim, Dockerfile EXPOSE,
    # image or catalogue entry); None when its listeners are known. Not part of the value's identity.
    listeners_unknown: str | None = field(default=None, compare=False)

    def __post_init__(self) -> None:
        if (type(self.name) is str and type(self.host) is str and type(self.mode) is NetworkMode
                and type(self.attachments) is tuple and type(self.ports) is tuple and type(self.listeners) is tuple
                and type(self.labels) is tuple and (self.listeners_unknown is None or type(self.listeners_unknown) is str)
                and all(type(a) is Attachment for a in self.attachments)
                and all(type(p) is PortMapping for p in self.ports) and all(type(x) is Listener for x in self.listeners)):
            return
        where = ("containers", self.name)
        _text(self, "name", ("containers",))
        _text(self, "host", where)
        if type(self.mode) is not NetworkMode:
            raise _refuse(where + ("mode",), f"mode {self.mode!r} is not a NetworkMode")
        _tuple(self, "attachments", where)
        _tuple(self, "ports", where)
        _tuple(self, "listeners", where)
        _tuple(self, "labels", where)
        _text(self, "listeners_unknown", where, optional=True)
        for name, kind in (("attachments", Attachment), ("ports", PortMapping), ("listeners", Listener)):
            for i, value in enumerate(getattr(self, name)):
                if type(value) is not kind:
                    raise _refuse(where + (name, i), f"{name}[{i}] {value!r} is not a {kind.__name__}")

    @property
    def engine_name(self) -> str:
        return self.docker_name or self.name

    @property
    def networks(self) -> tuple[str, ...]:
        return tuple([a.network for a in self.attachments])

    def attachment(self, network: str) -> Attachment | None:
        return next((a for a in self.attachments if a.network == network), None)

    def carried_names(self) -> list[str]:
        """Every name that leads to this container, on any of its networks: its own name (a swarm
        task: ``tasks.<service>``), its service's name (a swarm task's, through the virtual IP in
        vip mode), its aliases; in that order, each once."""
        names = [f"tasks.{self.task_of}", self.task_of] if self.task_of else [self.engine_name]
        if self.service:
            names.append(self.service)
        names += [a for att in self.attachments for a in att.aliases]
        if self.task_of:  # a service's aliases: tasks.<alias> too
            names += [f"tasks.{a}" for att in self.attachments for a in att.aliases]
        return list(dict.fromkeys(names))

    def dns_names(self, attachment: Attachment) -> tuple[str, ...]:
        """Names the embedded DNS answers with this container's address on one network (a swarm
        task: ``tasks.<service>``, its service's name and aliases in dnsrr mode, ``tasks.<alias>``; in
        vip mode the name and aliases lead to the virtual IP; its own name, ``<service>.<slot>.<task id>``,
        is the engine's to choose). A task's aliases are its service's (moby
        libnetwork/service_common.go, addEndpointNameResolution)."""
        names = [f"tasks.{self.task_of}"] if self.task_of else [self.engine_name]
        if self.service and self.service not in names:
            names.append(self.service)
        for alias in attachment.aliases:
            if alias not in names and (self.service or not self.task_of):
                names.append(alias)
            if self.task_of and f"tasks.{alias}" not in names:
                names.append(f"tasks.{alias}")
        return tuple(names)


@dataclass(frozen=True, slots=True)
class SwarmService:
    """A swarm service (``docker service create``): its tasks are the design's containers whose
    ``task_of`` names it, placed on the nodes its placement allows.

    ``endpoint_mode`` vip: the name resolves to one virtual IP per network, balanced over the
    tasks by IPVS in the client's namespace; dnsrr: to every task's address. ``ingress``: ports
    published in ingress mode (the routing mesh); a host-mode port is a task's own ``ports``.
    ``pending``: tasks no node can take (their constraints match no node, or every node has
    ``max_replicas_per_node``)."""

    name: str
    endpoint_mode: str = "vip"
    networks: tuple[str, ...] = ()
    ingress: tuple[PortMapping, ...] = ()
    pending: int = 0
    constraints: tuple[tuple[str, str, str], ...] = ()  # placement: (node.hostname|node.role|node.labels.K, ==|!=, value)
    global_mode: bool = False  # mode global: one task on every node the placement allows (named <service>.<node>)
    max_replicas_per_node: int | None = None  # placement.max_replicas_per_node (None: no limit)

    def __post_init__(self) -> None:
        where = ("services", self.name)
        _text(self, "name", ("services",))
        if self.endpoint_mode not in ("vip", "dnsrr"):
            raise _refuse(where + ("endpoint_mode",), f"endpoint_mode {self.endpoint_mode!r} is not vip or dnsrr")
        _tuple(self, "networks", where)
        _tuple(self, "ingress", where)
        _tuple(self, "constraints", where)


_UNCHECKED: ContextVar[bool] = ContextVar("netsim_design_unchecked", default=False)


@contextmanager
def _unchecked() -> Iterator[None]:
    token = _UNCHECKED.set(True)
    try:
        yield
    finally:
        _UNCHECKED.reset(token)


@dataclass(frozen=True)
class Design:
    """A whole design: what the user intends to run.

    Made with :class:`ModelError` when it breaks a rule of :func:`design_problems` (a name
    used twice, a reference to a host, network or container it does not declare, a
    ``container:`` chain that ends nowhere or in a cycle)."""

    name: str
    hosts: tuple[Host, ...]
    networks: tuple[Network, ...]
    containers: tuple[Container, ...]
    source: str = "<memory>"
    kind: DesignKind = DesignKind.NETSIM
    locations: Mapping[tuple, Location] = field(default_factory=lambda: _NO_LOCATIONS, compare=False, hash=False)
    services: tuple[SwarmService, ...] = ()  # swarm services; their tasks are among the containers

    def __post_init__(self) -> None:
        _text(self, "name", ())
        _enum(self, "kind", DesignKind, ())
        for name, kind in (("hosts", Host), ("networks", Network), ("containers", Container),
                           ("services", SwarmService)):
            _tuple(self, name, ())
            for value in getattr(self, name):
                if type(value) is not kind:
                    raise _refuse((name,), f"{name} holds {value!r}, not a {kind.__name__}")
        if type(self.locations) is not MappingProxyType:
            object.__setattr__(self, "locations", MappingProxyType(dict(self.locations)))
        if not _UNCHECKED.get():
            problems = design_problems(self)
            if problems:
                raise ModelError(problems)

    def with_hosts(self, hosts: tuple[Host, ...]) -> Design:
        """This design with ``hosts`` in its hosts' place (a kernel or daemon changed). Hosts of the
        same names in the same order leave every reference as it was checked (:func:`design_problems`
        reads only host names), so they are not checked again; any other change is."""
        if tuple(h.name for h in hosts) != tuple(h.name for h in self.hosts):
            return replace(self, hosts=hosts)
        with _unchecked():
            return replace(self, hosts=hosts)

    @classmethod
    def unchecked(cls, *args: Any, **kwargs: Any) -> Design:
        """A design whose references (:func:`design_problems`) are not checked: for loaders only.

        A loader builds the design the user wrote, broken references and all, so that
        :mod:`simulator.loaders.validate` reports each problem :func:`design_problems` finds at
        its file:line:column, together with every other problem of the file; the loader then
        raises :class:`~simulator.errors.DesignError` for any error, so such a design never
        leaves it.  Field values are checked regardless; a changed copy
        (``dataclasses.replace``) is checked again."""
        with _unchecked():
            return cls(*args, **kwargs)

    @cached_property
    def _by_name(self) -> tuple[dict, dict, dict]:
        return ({h.name: h for h in self.hosts}, {n.name: n for n in self.networks}, {c.name: c for c in self.containers})

    def host(self, name: str) -> Host:
        try:
            return self._by_name[0][name]
        except KeyError:
            raise UnknownName(f'design {self.name!r} has no host "{name}"') from None

    def network(self, name: str) -> Network:
        try:
            return self._by_name[1][name]
        except KeyError:
            raise UnknownName(f'design {self.name!r} has no network "{name}"') from None

    def container(self, name: str) -> Container:
        try:
            return self._by_name[2][name]
        except KeyError:
            raise UnknownName(f'design {self.name!r} has no container "{name}"') from None

    def has_host(self, name: str) -> bool:
        return name in self._by_name[0]

    def has_network(self, name: str) -> bool:
        return name in self._by_name[1]

    def has_container(self, name: str) -> bool:
        return name in self._by_name[2]

    def service(self, name: str) -> SwarmService | None:
        """The swarm service of that name (None: there is none)."""
        return next((s for s in self.services if s.name == name), None)

    def tasks(self, service: str) -> tuple[Container, ...]:
        """The containers running a swarm service's tasks, in slot order."""
        return self._tasks.get(service, ())

    def location(self, *path: object) -> Location | None:
        """The location of a field path, or of its nearest written ancestor."""
        for end in range(len(path), -1, -1):
            loc = self.locations.get(tuple(path[:end]))
            if loc is not None:
                return loc
        return None

    @property
    def engine_versions(self) -> tuple[str, ...]:
        return tuple(sorted({h.engine_version for h in self.hosts}))

    @cached_property
    def _owners(self) -> Mapping[str, str | None]:
        return MappingProxyType(namespace_owners(self.containers))

    @cached_property
    def _on_host(self) -> Mapping[str, tuple[Container, ...]]:
        by_host: dict[str, list[Container]] = {}
        for c in self.containers:
            by_host.setdefault(c.host, []).append(c)
        return MappingProxyType({h: tuple(cs) for h, cs in by_host.items()})

    @cached_property
    def _tasks(self) -> Mapping[str, tuple[Container, ...]]:
        by_service: dict[str, list[Container]] = {}
        for c in self.containers:
            if c.task_of is not None:
                by_service.setdefault(c.task_of, []).append(c)
        return MappingProxyType({s: tuple(cs) for s, cs in by_service.items()})

    def containers_on(self, host: str) -> tuple[Container, ...]:
        """The containers of one host, in design order (a host's rules look only at its own)."""
        return self._on_host.get(host, ())

    def namespace_owner(self, name: str) -> str | None:
        """The container whose network namespace ``name`` lives in: itself, or the end of its
        ``container:X`` chain (None for a chain that ends nowhere or loops, which only a
        loader's unchecked design can hold)."""
        return self._owners[name]


_NO_LOCATIONS: Mapping[tuple, Location] = MappingProxyType({})


def namespace_owners(containers: tuple[Container, ...] | list[Container]) -> dict[str, str | None]:
    """Every container's namespace owner: the end of its ``container:X`` chain (itself when it
    has a namespace of its own); None when the chain names a container not in ``containers``
    or comes back to itself.  One pass: each chain is followed once."""
    by_name = {c.name: c for c in containers}
    owner: dict[str, str | None] = {}
    for c in containers:
        if c.name in owner:
            continue
        chain: list[str] = []
        on_chain: set[str] = set()
        cur: Container | None = c
        found: str | None = None
        while cur is not None:
            if cur.name in owner:
                found = owner[cur.name]
                break
            if cur.name in on_chain:  # came back: a cycle
                found = None
                break
            if cur.mode.kind is not ModeKind.CONTAINER:
                found = cur.name
                break
            chain.append(cur.name)
            on_chain.add(cur.name)
            cur = by_name.get(cur.mode.target or "")
        for name in chain:
            owner[name] = found
        owner.setdefault(c.name, found)
    return owner


def design_problems(design: Design) -> list[ModelProblem]:
    """Every broken reference of a design, in design order (the one place these are found;
    :mod:`simulator.loaders.validate` words them for the file the user wrote).

    Rules (``code``): a name used twice (``duplicate``); a network on a host not declared
    (``unknown-host``); a container without a host (``no-host``) or on a host not declared
    (``unknown-host``); an attachment to a network not declared (``unknown-network``); a
    ``container:X`` mode naming itself (``self-target``), no container (``unknown-target``), or
    leading round a cycle (``cycle``, reported once, at the cycle's first container)."""
    problems: list[ModelProblem] = []
    for kind, values in (("hosts", design.hosts), ("networks", design.networks), ("containers", design.containers)):
        seen: set[str] = set()
        for v in values:
            if v.name in seen:
                problems.append(ModelProblem((kind, v.name), f"{kind[:-1]} {v.name!r} is declared twice",
                                             "duplicate", v.name, v.name))
            seen.add(v.name)
    hosts = {h.name for h in design.hosts}
    networks = {n.name for n in design.networks}
    containers = {c.name: c for c in design.containers}
    for n in design.networks:
        for i, h in enumerate(n.hosts):
            if h not in hosts:
                problems.append(ModelProblem(("networks", n.name, "hosts", i), f"network {n.name!r} names host {h!r}, "
                                             "which the design does not declare", "unknown-host", n.name, h))
    cycles = _cycles(design.containers, containers)
    for c in design.containers:
        where = ("containers", c.name)
        if c.host == "":
            problems.append(ModelProblem(where + ("host",), f"container {c.name!r} has no host", "no-host", c.name, ""))
        elif c.host not in hosts:
            problems.append(ModelProblem(where + ("host",), f"container {c.name!r} names host {c.host!r}, which the "
                                         "design does not declare", "unknown-host", c.name, c.host))
        for i, a in enumerate(c.attachments):
            if a.network not in networks:
                problems.append(ModelProblem(where + ("attachments", i, "network"), f"container {c.name!r} is attached "
                                             f"to network {a.network!r}, which the design does not declare",
                                             "unknown-network", c.name, a.network))
        if c.mode.kind is not ModeKind.CONTAINER:
            continue
        target = c.mode.target or ""
        mode_path = where + ("mode", "target")
        if target == c.name:
            problems.append(ModelProblem(mode_path, f"container {c.name!r} shares the namespace of itself",
                                         "self-target", c.name, target))
        elif target not in containers:
            problems.append(ModelProblem(mode_path, f"container {c.name!r} shares the namespace of {target!r}, which "
                                         "the design does not declare", "unknown-target", c.name, target))
        elif c.name in cycles:
            loop = cycles[c.name]
            problems.append(ModelProblem(mode_path, "containers share namespaces in a cycle ("
                                         + " -> ".join(loop) + ")", "cycle", c.name, loop))
    return problems


def _cycles(containers: tuple[Container, ...], by_name: Mapping[str, Container]) -> dict[str, tuple[str, ...]]:
    """Each ``container:X`` cycle (of two or more containers), keyed by its first container
    in design order, as ``(first, ..., first)``.  Every container is walked once."""
    order: dict[str, int] = {}  # design order, filled when the first cycle is found
    done: set[str] = set()
    found: dict[str, tuple[str, ...]] = {}
    for c in containers:
        if c.mode.kind is not ModeKind.CONTAINER or c.name in done:
            continue
        walk: dict[str, int] = {}  # name -> position on this walk
        cur: Container | None = c
        while cur is not None and cur.name not in done and cur.mode.kind is ModeKind.CONTAINER:
            if cur.name in walk:
                ring = list(walk)[walk[cur.name]:]
                if len(ring) > 1:
                    order = order or {c.name: i for i, c in enumerate(containers)}
                    start = ring.index(min(ring, key=order.__getitem__))
                    ring = ring[start:] + ring[:start]
                    found[ring[0]] = tuple(ring + [ring[0]])
                break
            walk[cur.name] = len(walk)
            cur = by_name.get(cur.mode.target or "")
        done.update(walk)
    return found
