"""Swarm services of a netsim design (``services:``): each task becomes a container of the design,
named ``<service>.<slot>`` (a global service: ``<service>.<node>``), on the node its placement gives it.

Placement follows the scheduler's spread strategy: a replicated service's tasks go one by one to the
eligible node running the fewest of them (design order breaks ties), at most
``max_replicas_per_node`` per node; a global service runs one task on every eligible node. A node
is eligible when every constraint holds (``node.hostname``, ``node.role``, ``node.labels.KEY``
with ``==`` or ``!=``). Tasks no node can take stay pending, as on the engine.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from ..model import Container, Host, PortMapping, SwarmService
from .ports import PortBudget, merge_listeners, parse_listens, parse_ports
from .yamlsource import Report, shown, to_labels

if TYPE_CHECKING:
    from .native import SourceMap

_CONSTRAINT = re.compile(r"\s*node\.(hostname|role|labels\.([A-Za-z0-9_.-]+))\s*(==|!=)\s*(\S+)\s*")


def swarm_services(report: Report, smap: SourceMap, value: object, hosts: list[Host]
                   ) -> tuple[list[SwarmService], list[Container]]:
    """The ``services:`` section: the services and their tasks (containers)."""
    from .native import container_attachments, section_items

    services: list[SwarmService] = []
    tasks: list[Container] = []
    for name, spec in section_items(report, ("services",), value):
        src = ("services", name)
        smap.mark(src, src, key=True)
        smap.fields(src, src, spec)
        marked = smap.mark_count()
        attachments = container_attachments(report, smap, src, spec.get("networks"))
        if not attachments:
            report.error(src, f"service {name} joins no network: a swarm service's tasks are on overlay networks "
                         "(list them under networks:)", key=True)
        budget = PortBudget(report)
        published = parse_ports(spec.get("ports"), report, (*src, "ports"), budget=budget)
        items = spec.get("ports") if isinstance(spec.get("ports"), list) else []
        ingress: list[PortMapping] = []
        host_mode: list[PortMapping] = []
        for m, at in zip(published.mappings, published.origin, strict=True):
            item = items[at]
            mode = item.get("mode", "ingress") if isinstance(item, dict) else "ingress"
            (host_mode if mode == "host" else ingress).append(m)
        if spec.get("mode") == "global" and "replicas" in spec:
            report.error((*src, "replicas"), "docker service create refuses it (\"replicas can only be used with "
                         "replicated or replicated-job mode\"): a global service runs one task on every node its "
                         "placement allows; drop replicas or mode", key=True)
        endpoint = spec.get("endpoint_mode", "vip") if spec.get("endpoint_mode") in ("vip", "dnsrr") else "vip"
        if endpoint == "dnsrr" and ingress:
            report.error((*src, "ports"), "rpc error: code = InvalidArgument desc = EndpointSpec: port published with "
                         "ingress mode can't be used with dnsrr mode (the engine refuses the service); publish in "
                         "host mode ({target: 80, published: 8080, mode: host}) or use endpoint_mode vip")
        listeners = merge_listeners(parse_listens(spec.get("listens"), report, (*src, "listens"), budget=budget),
                                    published.listeners)
        nodes, constraints = _eligible(report, src, spec.get("placement"), hosts, name)
        placed, pending = _place(spec, nodes)
        labels = to_labels(report, (*src, "labels"), spec.get("labels"))
        global_mode = spec.get("mode") == "global"
        for slot, host in placed:
            task = f"{name}.{host if global_mode else slot}"
            smap.mark(("containers", task), src, key=True)
            smap.copy_since(marked, src, ("containers", task))
            tasks.append(Container(task, host, docker_name=task, attachments=tuple(attachments),
                                   ports=tuple(host_mode), listeners=tuple(listeners), labels=labels,
                                   service=name if endpoint == "dnsrr" else None, task_of=name))
        if pending:
            report.warning(src, f"{pending} task(s) of service {name} stay pending: no node can take them (its "
                           "placement constraints and max_replicas_per_node leave no room); they run nowhere and "
                           "netsim leaves them out", key=True)
        services.append(SwarmService(name, endpoint, tuple(a.network for a in attachments), tuple(ingress), pending,
                                     constraints, global_mode))
    return services, tasks


def _eligible(report: Report, src: tuple, placement: object, hosts: list[Host], name: str
              ) -> tuple[list[Host], tuple[tuple[str, str, str], ...]]:
    """The nodes every constraint of ``placement`` allows, and the constraints read: (what, ==|!=,
    value), ``what`` being ``node.hostname``, ``node.role`` or ``node.labels.KEY``."""
    constraints = placement.get("constraints") if isinstance(placement, dict) else None
    nodes = list(hosts)
    read: list[tuple[str, str, str]] = []
    for i, text in enumerate(constraints if isinstance(constraints, list) else []):
        path = (*src, "placement", "constraints", i)
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
        report.warning((*src, "placement"), f"no node satisfies the placement constraints of service {name}: its "
                       "tasks stay pending (the engine says \"no suitable node\")", key=True)
    return nodes, tuple(read)


def _place(spec: dict, nodes: list[Host]) -> tuple[list[tuple[int, str]], int]:
    """(slot, node) of each task that runs, and how many stay pending."""
    placement = spec.get("placement")
    cap = placement.get("max_replicas_per_node") if isinstance(placement, dict) else None
    cap = cap if type(cap) is int and cap > 0 else None
    if spec.get("mode") == "global":
        return [(i, h.name) for i, h in enumerate(nodes, 1)], 0
    wanted = spec.get("replicas", 1) if type(spec.get("replicas", 1)) is int else 1
    count = {h.name: 0 for h in nodes}
    out: list[tuple[int, str]] = []
    for slot in range(1, max(wanted, 0) + 1):
        room = [h.name for h in nodes if cap is None or count[h.name] < cap]
        if not room:
            return out, wanted - len(out)
        node = min(room, key=lambda n: count[n])
        count[node] += 1
        out.append((slot, node))
    return out, 0
