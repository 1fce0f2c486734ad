"""The routing mesh: a port a swarm service publishes in ingress mode.

With IPVS in a node's kernel, the engine programs every node of the swarm alike: a connection to
any of the node's addresses at the published port is sent (``DOCKER-INGRESS``, nat table) into the
node's ingress sandbox, whose IPVS balances it over the service's tasks on every node through the
``ingress`` overlay, masquerading it there, so a task sees the ingress sandbox's address as the
source. Without IPVS the engine binds nothing for the port (confirmed on 20.10.24,
docs/confirmed-rules.md §17e). Sources: moby ``libnetwork/service_linux.go`` (ingress rules, IPVS
in the ingress sandbox) and ``libnetwork/service_common.go``.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..engine.topology import World
from ..engine.trace import Disposition, Trace
from ..model import Design


@dataclass(frozen=True)
class MeshPort:
    """A port of the routing mesh: the service publishing it and the tasks' port behind it."""

    service: str
    target: int


def mesh_ports(design: Design) -> dict[tuple[int, str], MeshPort]:
    """(published port, protocol) -> the service publishing it in ingress mode (the first, when
    several claim one port: the engine refuses the others)."""
    out: dict[tuple[int, str], MeshPort] = {}
    for svc in design.services:
        for m in svc.ingress:
            if m.host_port is not None:
                out.setdefault((m.host_port, m.protocol.value), MeshPort(svc.name, m.container_port))
    return out


def through_mesh(world: World, host: str, port: int, proto: str, mesh: MeshPort, arrived: Trace
                 ) -> tuple[Trace, tuple[str, ...]]:
    """The outcome of a connection that reached ``host`` at a routing-mesh port where nothing
    else listens (``arrived``: the walk that got there), and every task that can answer it."""
    design = world.design
    kernel = design.host(host).kernel
    what = f"service {mesh.service} publishes {port}/{proto} in ingress mode (the routing mesh)"
    if not kernel.ipvs:
        return Trace(arrived.hops, Disposition.REFUSED,
                     f"nothing answers: {what}, which needs IPVS; host {host}'s kernel has none ({kernel.source}), "
                     "so the engine binds nothing for it"), ()
    tasks = design.tasks(mesh.service)
    answering = tuple(t.name for t in tasks if (mesh.target, proto) in _listeners(world, t.name))
    if not tasks:
        return Trace(arrived.hops, Disposition.REFUSED,
                     f"{what}: no task of it runs, so IPVS in host {host}'s ingress sandbox has no server to pick "
                     "and answers port unreachable"), ()
    if not answering:
        return Trace(arrived.hops, Disposition.REFUSED,
                     f"{what}: IPVS in host {host}'s ingress sandbox sends it to one of {len(tasks)} task(s), and "
                     f"none listens on {mesh.target}/{proto}"), ()
    nodes = sorted({t.host for t in tasks if t.name in answering})
    return Trace(arrived.hops, Disposition.DELIVERED,
                 f"{what}: IPVS in host {host}'s ingress sandbox balances it over {len(answering)} task(s) on port "
                 f"{mesh.target} (on {', '.join(nodes)}), through the ingress network; the task sees the ingress "
                 "sandbox's address as the source, not the client's", answering[0]), answering


def _listeners(world: World, container: str) -> dict[tuple[int, str], str]:
    ns_id = world.ns_of.get(container)
    return world.namespaces[ns_id].listeners if ns_id is not None else {}


def scheduled_host_ports(design: Design) -> dict[tuple[int, str], str]:
    """(published port, protocol) -> the service publishing it in host mode whose tasks' nodes are the
    scheduler's choice (not global, not pinned to a node by name): where it is open depends on it."""
    out: dict[tuple[int, str], str] = {}
    for svc in design.services:
        tasks = design.tasks(svc.name)
        pinned = any(what == "node.hostname" and op == "==" for what, op, _ in svc.constraints)
        if svc.global_mode or pinned or not tasks:
            continue
        for m in tasks[0].ports:
            if m.host_port is not None:
                out.setdefault((m.host_port, m.protocol.value), svc.name)
    return out


def placement_note(design: Design, service: str, host: str, t: Trace) -> Trace:
    """``t`` of a host-mode port of ``service`` on ``host``, saying that the answer depends on where
    the scheduler puts the tasks."""
    runs = any(task.host == host for task in design.tasks(service))
    where = "runs one of its tasks" if runs else "runs none of its tasks"
    note = (f"host-mode port of service {service}: open only on nodes that run one of its tasks; {host} {where} "
            "in the model's spread placement, the scheduler may choose other nodes (verify reads its placement back)")
    return Trace(t.hops, t.disposition, f"{t.reason} ({note})", t.responder)
