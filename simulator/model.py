"""The design model: frozen values that every loader produces and every analysis reads.

A :class:`Design` is what the user intends: Docker hosts, networks and containers.
It says nothing about what Docker will *do* with it; that is the engine package's job
(addresses come from :mod:`simulator.engine.ipam`, behaviour from the packet walk).

The same model comes out of a netsim YAML design, a docker-compose file and (later) a
running engine, so comparing intent with reality is comparing two of these.
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass, field
from functools import cached_property
from ipaddress import IPv4Address, IPv4Interface, IPv4Network
from typing import Mapping


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


@dataclass(frozen=True, slots=True)
class Location:
    """Where a value was written: file, 1-based line and column."""

    file: str
    line: int
    column: int

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.column}"


@dataclass(frozen=True, slots=True)
class AddressPool:
    """A daemon default-address-pool entry: ``base`` split into networks of ``size`` bits."""

    base: IPv4Network
    size: int


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

    def missing(self) -> tuple[str, ...]:
        return tuple(name for name in ("ipvlan", "vlan", "dummy") if not getattr(self, name))


DEFAULT_ENGINE_VERSION = "20.10"  # the engine line a design that names none is modelled on
_ENGINE_VERSION = re.compile(r"\s*v?(\d+)(?:\.(\d+))?(?:\.(\d+))?(?:[-+~].*)?\s*")


def engine_version_numbers(text: str) -> tuple[int, int, int] | None:
    """``"20.10"`` → (20, 10, 0), ``"20.10.24+dfsg1"`` → (20, 10, 24), ``"v29"`` → (29, 0, 0);
    None when ``text`` is not an engine version.  The one parser of version text (which lines
    netsim has rules for: :func:`simulator.engine.versions.parse_version`)."""
    m = _ENGINE_VERSION.fullmatch(str(text))
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
    gateway_mode: str = "nat"  # nat | routed | nat-unprotected | isolated
    parent: str | None = None  # macvlan/ipvlan parent interface (without the VLAN suffix)
    vlan: int | None = None  # 802.1q id: the parent becomes <parent>.<vlan>
    mode: str | None = None  # macvlan: bridge|vepa|private|passthru; ipvlan: l2|l3|l3s
    attachable: bool = False
    encrypted: bool = False
    external: bool = False
    default_bridge: bool = False  # Docker's predefined "bridge" network (docker0)
    labels: tuple[tuple[str, str], ...] = ()

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


@dataclass(frozen=True, slots=True)
class Attachment:
    """A container's endpoint on one network."""

    network: str
    aliases: tuple[str, ...] = ()
    ipv4_address: IPv4Address | None = None
    gw_priority: int = 0


@dataclass(frozen=True, slots=True)
class PortMapping:
    """One published port: ``host_ip:host_port -> container_port/protocol``.

    ``host_ip`` None means "not given" (the network's host_binding_ipv4, normally
    0.0.0.0); ``host_port`` None means an ephemeral port chosen by the engine.
    """

    container_port: int
    protocol: Protocol = Protocol.TCP
    host_port: int | None = None
    host_ip: IPv4Address | None = None


@dataclass(frozen=True, slots=True)
class Listener:
    """A port a container's process listens on (on every address of its namespace)."""

    port: int
    protocol: Protocol = Protocol.TCP


@dataclass(frozen=True, slots=True)
class NetworkMode:
    kind: ModeKind = ModeKind.NETWORKS
    target: str | None = None  # the owner container, for ModeKind.CONTAINER

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

    @property
    def engine_name(self) -> str:
        return self.docker_name or self.name

    @property
    def networks(self) -> tuple[str, ...]:
        return tuple(a.network for a in self.attachments)

    def attachment(self, network: str) -> Attachment | None:
        return next((a for a in self.attachments if a.network == network), None)

    def dns_names(self, attachment: Attachment) -> tuple[str, ...]:
        """Names the embedded DNS answers with this container's address on one network."""
        names = [self.engine_name]
        if self.service and self.service not in names:
            names.append(self.service)
        for alias in attachment.aliases:
            if alias not in names:
                names.append(alias)
        return tuple(names)


@dataclass(frozen=True)
class Design:
    """A whole design: what the user intends to run."""

    name: str
    hosts: tuple[Host, ...]
    networks: tuple[Network, ...]
    containers: tuple[Container, ...]
    source: str = "<memory>"
    kind: str = "netsim"  # netsim | compose
    locations: Mapping[tuple, Location] = field(default_factory=dict, compare=False, hash=False)

    @cached_property
    def _by_name(self) -> tuple[dict, dict, dict]:
        return ({h.name: h for h in self.hosts}, {n.name: n for n in self.networks}, {c.name: c for c in self.containers})

    def host(self, name: str) -> Host:
        return self._by_name[0][name]

    def network(self, name: str) -> Network:
        return self._by_name[1][name]

    def container(self, name: str) -> Container:
        return self._by_name[2][name]

    def has_network(self, name: str) -> bool:
        return name in self._by_name[1]

    def has_container(self, name: str) -> bool:
        return name in self._by_name[2]

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
