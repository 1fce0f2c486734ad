"""The small interface netsim uses to drive a container engine, and the values it speaks.

Deploy, verify and destroy only ever talk to an :class:`Engine`; the Docker SDK lives in
:mod:`docker_engine`, an in-memory stand-in in :mod:`fake_engine`.  An engine reports what
*is*; it never decides what should be reachable.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Protocol

LABEL_MANAGED = "netsim.managed"
LABEL_DESIGN = "netsim.design"
LABEL_NETWORK = "netsim.network"
LABEL_CONTAINER = "netsim.container"
LABEL_SWARM = "netsim.swarm-initialised-by"


def design_labels(design_name: str) -> dict[str, str]:
    """The labels that mark an object as netsim's, for one design."""
    return {LABEL_MANAGED: "1", LABEL_DESIGN: design_name}


@dataclass(frozen=True, slots=True)
class NetworkSpec:
    """A network to create: everything the engine needs, already translated to this machine."""

    key: str  # the design's network key
    name: str  # the engine's name
    driver: str
    subnet: str | None = None
    gateway: str | None = None
    ip_range: str | None = None
    aux_addresses: tuple[tuple[str, str], ...] = ()
    internal: bool = False
    attachable: bool = False
    options: tuple[tuple[str, str], ...] = ()
    labels: tuple[tuple[str, str], ...] = ()
    host: str = ""  # multi-host designs: the design host whose engine creates it ("" = this machine's)
    enable_ipv6: bool = False  # dual-stack: EnableIPv6, and the IPv6 pool below beside the IPv4 one
    subnet6: str | None = None
    gateway6: str | None = None
    ip_range6: str | None = None


@dataclass(frozen=True, slots=True)
class EndpointSpec:
    network: str  # engine network name
    aliases: tuple[str, ...] = ()
    ipv4_address: str | None = None
    ipv6_address: str | None = None
    gw_priority: int = 0  # 28.0+: the endpoint with the highest one gives the default gateway (API GwPriority)


@dataclass(frozen=True, slots=True)
class PortSpec:
    container_port: int
    protocol: str = "tcp"
    host_ip: str | None = None
    host_port: int | None = None


@dataclass(frozen=True, slots=True)
class ContainerSpec:
    """A probe container standing in for one container of the design."""

    key: str  # the design's container key (also the identity the probe answers with)
    name: str  # the engine's name
    image: str
    command: tuple[str, ...]
    network_mode: str  # "host" | "none" | "container:<engine name>" | first network's name
    endpoints: tuple[EndpointSpec, ...] = ()  # first one given at create, others connected
    ports: tuple[PortSpec, ...] = ()
    env: tuple[tuple[str, str], ...] = ()
    labels: tuple[tuple[str, str], ...] = ()
    hostname: str | None = None
    dns: tuple[str, ...] = ("127.0.0.1",)
    host: str = ""  # multi-host designs: the design host it runs on ("" = this machine's engine)


@dataclass(frozen=True, slots=True)
class ServiceSpec:
    """A swarm service of probe tasks standing in for one service of the design; each task answers
    as ``<service>.<slot>`` (its ``NAME``, a swarm template)."""

    key: str  # the design's service name (also the engine's: clients resolve it)
    image: str
    command: tuple[str, ...]
    networks: tuple[str, ...]  # engine network names
    replicas: int
    endpoint_mode: str = "vip"
    ports: tuple[tuple[int, int, str, str], ...] = ()  # (published, target, protocol, mode: ingress | host)
    labels: tuple[tuple[str, str], ...] = ()  # on the service and on each task's container
    dns: tuple[str, ...] = ("127.0.0.1",)
    constraints: tuple[str, ...] = ()  # placement constraints, as docker service create --constraint
    max_replicas: int = 0  # placement: at most this many tasks per node (0: no limit), --replicas-max-per-node
    pending: int = 0  # of ``replicas``, the tasks the design says no node can take (asked for, not waited for)
    global_mode: bool = False  # a task on every node its placement allows, answering as <service>.<node id>
    aliases: tuple[tuple[str, ...], ...] = ()  # the service's aliases on each of ``networks`` (a stack: its short name)

    @property
    def answer_template(self) -> str:
        """Each task's ``NAME`` (what its listener answers), a swarm template: the slot, or the node."""
        return f"{self.key}.{{{{.Node.ID}}}}" if self.global_mode else f"{self.key}.{{{{.Task.Slot}}}}"


@dataclass(frozen=True, slots=True)
class EngineObject:
    """A container or network as listed by the engine."""

    kind: str  # "container" | "network" | "service"
    id: str
    name: str
    labels: Mapping[str, str] = field(default_factory=dict)
    subnets: tuple[str, ...] = ()  # networks: their IPv4 subnets
    status: str = ""  # containers: running | exited | created ...
    driver: str = ""


@dataclass(frozen=True, slots=True)
class ExecResult:
    exit_code: int
    output: str
    error: str = ""


@dataclass(frozen=True, slots=True)
class SwarmState:
    active: bool
    labels: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class SwarmInventory:
    """What a swarm manager lists, as the API returns it (``docker service inspect``, ``docker
    inspect`` of each task and node): every service, every task, every node. Empty when the
    engine is not a swarm manager (a worker cannot list them)."""

    services: tuple[dict, ...] = ()
    tasks: tuple[dict, ...] = ()
    nodes: tuple[dict, ...] = ()


class Engine(Protocol):
    """What deploy/verify/destroy need from a container engine."""

    def version(self) -> str: ...

    def info(self) -> dict:
        """``docker info``: the daemon's facts (host name, forwarding, address pools)."""

    def ensure_image(self, name: str, build_default: bool) -> tuple[str, ...]:
        """Make ``name`` available (building the default probe image if allowed); notes."""

    def image_supports_udp(self, name: str) -> bool: ...

    def image_exposed_ports(self, name: str) -> tuple[str, ...] | None:
        """The ``ExposedPorts`` keys ("80/tcp", ...) of image ``name`` when the engine has it, None when it
        does not; never pulls (docker image inspect, Config.ExposedPorts)."""

    def create_network(self, spec: NetworkSpec) -> str: ...

    def create_container(self, spec: ContainerSpec) -> str: ...

    def start(self, container: str) -> None: ...

    def exec_batch(self, container: str, script: str, timeout: float = 60.0) -> ExecResult: ...

    def inspect_container(self, container: str) -> dict: ...

    def inspect_network(self, network: str) -> dict: ...

    def list_by_label(self, labels: Mapping[str, str]) -> list[EngineObject]: ...

    def list_networks(self) -> list[EngineObject]: ...

    def find(self, kind: str, name: str) -> EngineObject | None: ...

    def remove(self, obj: EngineObject) -> None: ...

    def create_service(self, spec: ServiceSpec) -> str: ...

    def service_tasks(self, service: str) -> list[tuple[int, str, str, str]]:
        """(slot, container id, state, node id) of each task of ``service`` that has a container
        (state ``running`` when it runs), in slot order."""

    def swarm_state(self) -> SwarmState: ...

    def swarm_node_id(self) -> str:
        """This engine's node id in its swarm ("" when it is in none)."""

    def swarm_inventory(self) -> SwarmInventory:
        """Every service, task and node of the swarm this engine manages (empty when it manages none)."""

    def label_node(self, node_id: str, labels: Mapping[str, str]) -> None:
        """Set a swarm node's labels (a manager's call: ``docker node update --label-add``)."""

    def swarm_init(self, advertise_addr: str, labels: Mapping[str, str]) -> None: ...

    def swarm_join_token(self) -> str:
        """The worker join token of the swarm this (manager) engine belongs to."""

    def swarm_join(self, advertise_addr: str, manager_addr: str, token: str) -> None: ...

    def swarm_leave(self) -> None: ...
