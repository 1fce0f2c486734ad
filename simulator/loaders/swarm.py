"""Swarm services: each task becomes a container of the design, named ``<service>.<slot>`` (a global
service: ``<service>.<node>``), on the node its placement gives it.

Two places write swarm services, and both come here through :func:`build_service`: a netsim design's
``services:`` section (:func:`swarm_services`) and the compose files of its ``stacks:``
(:mod:`.stack`, as ``docker stack deploy`` converts them).

Placement follows the scheduler's spread strategy: a replicated service's tasks go one by one to the
eligible node running the fewest of them (design order breaks ties), at most
``max_replicas_per_node`` per node; a global service runs one task on every eligible node. A node
is eligible when every constraint holds (``node.hostname``, ``node.role``, ``node.labels.KEY``
with ``==`` or ``!=``) and no task placed there holds the service's host-mode ports. Tasks no node
can take stay pending, as on the engine.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

from ..model import (
    INGRESS_SUBNET,
    SWARM_INGRESS,
    Attachment,
    Container,
    Driver,
    Host,
    Listener,
    Network,
    PortMapping,
    SwarmService,
)
from .ports import PortBudget, Published, merge_listeners, parse_listens, parse_ports
from .yamlsource import Report, shown, to_labels

if TYPE_CHECKING:
    from .native import SourceMap

_CONSTRAINT = re.compile(r"\s*node\.(hostname|role|labels\.([A-Za-z0-9_.-]+))\s*(==|!=)\s*(\S+)\s*")


@dataclass
class Nodes:
    """The swarm's nodes (the design's hosts) and the host-mode ports the tasks placed so far hold
    on each: one per design, shared by its ``services:`` and its stacks."""

    hosts: list[Host]
    used: dict[str, set[tuple[int, str]]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.used = {h.name: set() for h in self.hosts}


@dataclass(frozen=True)
class ServiceDefinition:
    """One swarm service as its file writes it, read into what :func:`build_service` needs.

    ``src`` is where it is written (its path in that file), ``model`` its path in the design
    (``("services", name)``); ``marked`` is the source map's :meth:`~.native.SourceMap.mark_count`
    before its fields were marked under ``model``. ``placement`` is the written mapping (constraints,
    max_replicas_per_node) at ``placement_at``; ``ports`` the written list at ``ports_at``, read into
    ``published``; ``replicas_at`` is None when no replica count is written."""

    name: str
    src: tuple
    model: tuple
    marked: int
    attachments: tuple[Attachment, ...]
    ports: object
    ports_at: tuple
    published: Published
    listeners: tuple[Listener, ...]
    endpoint_mode: str = "vip"
    global_mode: bool = False
    replicas: int = 1
    replicas_at: tuple | None = None
    placement: object = None
    placement_at: tuple = ()
    labels: tuple[tuple[str, str], ...] = ()
    listeners_unknown: str | None = None


def swarm_services(report: Report, smap: SourceMap, value: object, nodes: Nodes
                   ) -> tuple[list[SwarmService], list[Container]]:
    """The ``services:`` section of a netsim design: the services and their tasks (containers)."""
    from .native import container_attachments, section_items

    services: list[SwarmService] = []
    tasks: list[Container] = []
    for name, spec in section_items(report, ("services",), value):
        src = ("services", name)
        smap.mark(src, src, key=True)
        smap.fields(src, src, spec)
        marked = smap.mark_count()
        attachments = container_attachments(report, smap, src, spec.get("networks"))
        budget = PortBudget(report)
        published = parse_ports(spec.get("ports"), report, (*src, "ports"), budget=budget)
        listeners = merge_listeners(parse_listens(spec.get("listens"), report, (*src, "listens"), budget=budget),
                                    published.listeners)
        replicas = spec.get("replicas", 1)
        definition = ServiceDefinition(
            name, src, src, marked, tuple(attachments), spec.get("ports"), (*src, "ports"), published, listeners,
            endpoint_mode=spec["endpoint_mode"] if spec.get("endpoint_mode") in ("vip", "dnsrr") else "vip",
            global_mode=spec.get("mode") == "global", replicas=replicas if type(replicas) is int else 1,
            replicas_at=(*src, "replicas") if "replicas" in spec else None,
            placement=spec.get("placement"), placement_at=(*src, "placement"),
            labels=to_labels(report, (*src, "labels"), spec.get("labels")))
        service, placed = build_service(report, smap, definition, nodes)
        services.append(service)
        tasks += placed
    return services, tasks


def build_service(report: Report, smap: SourceMap, d: ServiceDefinition, nodes: Nodes
                  ) -> tuple[SwarmService, list[Container]]:
    """A swarm service and its tasks, placed on ``nodes`` (whose held host-mode ports it updates);
    what the engine refuses or leaves pending is reported where ``d`` is written."""
    name, src = d.name, d.src
    if not d.attachments:
        report.error(src, f"service {name} joins no network: a swarm service's tasks are on overlay networks "
                     "(list them under networks:)", key=True)
    items = d.ports if isinstance(d.ports, list) else []
    ingress: list[PortMapping] = []
    host_mode: list[PortMapping] = []
    for m, at in zip(d.published.mappings, d.published.origin, strict=True):
        item = items[at]
        mode = item.get("mode", "ingress") if isinstance(item, dict) else "ingress"
        (host_mode if mode == "host" else ingress).append(m)
    if d.global_mode and d.replicas_at is not None:
        report.error(d.replicas_at, "the CLI refuses it (\"replicas can only be used with replicated or "
                     "replicated-job mode\"): a global service runs one task on every node its placement allows; "
                     "drop replicas or mode", key=True)
    if d.endpoint_mode == "dnsrr" and ingress:
        report.error(d.ports_at, "rpc error: code = InvalidArgument desc = EndpointSpec: port published with "
                     "ingress mode can't be used with dnsrr mode (the engine refuses the service); publish in "
                     "host mode ({target: 80, published: 8080, mode: host}) or use endpoint_mode vip")
    eligible, constraints = _eligible(report, d.placement_at, d.placement, nodes.hosts, name)
    bound = {(m.host_port, m.protocol.value) for m in host_mode if m.host_port is not None}
    cap = d.placement.get("max_replicas_per_node") if isinstance(d.placement, dict) else None
    cap = cap if type(cap) is int and cap > 0 else None
    placed, pending, port_bound = _place(d, eligible, cap, bound, nodes.used)
    tasks = []
    for slot, host in placed:
        task = f"{name}.{host if d.global_mode else slot}"
        smap.mark(("containers", task), src, key=True)
        smap.copy_since(d.marked, d.model, ("containers", task))
        tasks.append(Container(task, host, docker_name=task, attachments=d.attachments, ports=tuple(host_mode),
                               listeners=d.listeners, labels=d.labels, listeners_unknown=d.listeners_unknown,
                               service=name if d.endpoint_mode == "dnsrr" else None, task_of=name))
    if pending and port_bound:
        ports = ", ".join(f"{p}/{proto}" for p, proto in sorted(bound))
        report.warning(d.ports_at, f"{pending} task(s) of service {name} stay pending: \"no suitable node "
                       f"(host-mode port already in use on {port_bound} node{'s' if port_bound > 1 else ''})\": a "
                       f"node holds host-mode port {ports} for one task only; they run nowhere and netsim leaves "
                       "them out (publish in ingress mode, or leave the published port out)")
    elif pending:
        report.warning(src, f"{pending} task(s) of service {name} stay pending: no node can take them (its "
                       "placement constraints and max_replicas_per_node leave no room); they run nowhere and "
                       "netsim leaves them out", key=True)
    service = SwarmService(name, d.endpoint_mode, tuple(a.network for a in d.attachments), tuple(ingress), pending,
                           constraints, d.global_mode, cap)
    return service, tasks


def _eligible(report: Report, at: tuple, placement: object, hosts: list[Host], name: str
              ) -> tuple[list[Host], tuple[tuple[str, str, str], ...]]:
    """The nodes every constraint of ``placement`` (written at ``at``) allows, and the constraints
    read: (what, ==|!=, value), ``what`` being ``node.hostname``, ``node.role`` or ``node.labels.KEY``."""
    constraints = placement.get("constraints") if isinstance(placement, dict) else None
    nodes = list(hosts)
    read: list[tuple[str, str, str]] = []
    for i, text in enumerate(constraints if isinstance(constraints, list) else []):
        path = (*at, "constraints", i)
        m = _CONSTRAINT.fullmatch(text) if isinstance(text, str) else None
        if m is None:
            report.error(path, f'"{shown(str(text))}" is not a constraint netsim models: write node.hostname, '
                         "node.role or node.labels.KEY, then == or !=, then a value (e.g. \"node.role == worker\")")
            continue
        what, label, op, want = m.groups()
        read.append((f"node.{what}", op, want))

        def value(h: Host, what: str = what, label: str | None = label) -> str | None:
            if label is not None:
                return dict(h.labels).get(label)
            return h.name if what == "hostname" else h.role

        nodes = [h for h in nodes if (value(h) == want) == (op == "==")]
    if not nodes and hosts:
        report.warning(at, f"no node satisfies the placement constraints of service {name}: its "
                       "tasks stay pending (the engine says \"no suitable node\")", key=True)
    return nodes, tuple(read)


def _place(d: ServiceDefinition, nodes: list[Host], cap: int | None, bound: set[tuple[int, str]],
           used: dict[str, set[tuple[int, str]]]) -> tuple[list[tuple[int, str]], int, int]:
    """(slot, node) of each task that runs (at most ``cap`` per node), how many stay pending, and on
    how many of the eligible nodes a host-mode port (``bound``) was what stopped them (the scheduler's
    host port filter: a node's tasks never share one; ``used`` holds what the tasks placed so far
    hold, and is updated)."""

    def free(node: str) -> bool:
        return not bound & used[node]

    def take(node: str) -> None:
        used[node] |= bound

    if d.global_mode:
        every = [(i, h.name) for i, h in enumerate(nodes, 1) if free(h.name)]
        for _, node in every:
            take(node)
        return every, len(nodes) - len(every), len(nodes) - len(every)
    count = {h.name: 0 for h in nodes}
    out: list[tuple[int, str]] = []
    for slot in range(1, max(d.replicas, 0) + 1):
        room = [h.name for h in nodes if (cap is None or count[h.name] < cap) and free(h.name)]
        if not room:
            return out, d.replicas - len(out), sum(1 for h in nodes if not free(h.name))
        node = min(room, key=lambda n: count[n])
        count[node] += 1
        take(node)
        out.append((slot, node))
    return out, 0, 0


def with_ingress(report: Report, services: list[SwarmService], networks: list[tuple[Network, tuple | None]],
                 tasks: list[Container]) -> tuple[list[tuple[Network, tuple | None]], list[Container]]:
    """The swarm's ``ingress`` overlay, when a service publishes a port in ingress mode: every such
    service's tasks join it (swarm init makes it, 10.0.0.0/24; it carries no names). A design network
    of that name is refused, as the engine refuses a second network of one name."""
    mesh = {s.name for s in services if s.ingress}
    if not mesh:
        return networks, tasks
    if any(n.name == SWARM_INGRESS for n, _ in networks):
        report.error(("networks", SWARM_INGRESS), f'network with name {SWARM_INGRESS} already exists: the swarm\'s '
                     "routing-mesh network has that name, and services here publish ports in ingress mode; "
                     "rename this network", key=True)
        return networks, tasks
    ingress = Network(SWARM_INGRESS, Driver.OVERLAY, subnet=INGRESS_SUBNET, gateway=next(INGRESS_SUBNET.hosts()),
                      ingress=True)
    joined = [replace(t, attachments=(*t.attachments, Attachment(SWARM_INGRESS))) if t.task_of in mesh else t
              for t in tasks]
    return [*networks, (ingress, None)], joined
