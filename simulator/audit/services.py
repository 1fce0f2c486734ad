"""Audit checks of swarm services (NS013-NS016): the routing mesh, DNS round robin, placement.

Like every check (:mod:`.checks`), each reads the model and yields findings with their evidence:
the LAN peer's probes of the nodes for the routing mesh, a name lookup for DNS round robin, the
model's placement for replicas on one node.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from ..analysis.mesh import mesh_ports
from ..engine.trace import Hop, Place
from ..intent.model import Evidence

if TYPE_CHECKING:
    from .checks import AuditContext
    from .finding import Finding


def _mesh_probes(ctx: AuditContext) -> dict[tuple[int, str], list]:
    """(port, protocol) -> the LAN peer's probes of each node at that routing-mesh port that the mesh answers."""
    out: dict[tuple[int, str], list] = {}
    for p in ctx.external_host_probes():
        if p.balanced_by == "ingress" and p.reachable:
            out.setdefault((p.port, p.protocol), []).append(p)
    return out


def ns013_mesh_port_on_idle_nodes(ctx: AuditContext) -> Iterator[Finding]:
    probes = _mesh_probes(ctx)
    design = ctx.design
    for (port, proto), mesh in sorted(mesh_ports(design).items()):
        running = {t.host for t in design.tasks(mesh.service)}
        for p in probes.get((port, proto), ()):
            host = p.host or design.hosts[0].name
            if host in running:
                continue
            yield ctx.finding(
                "NS013", [t.name for t in design.tasks(mesh.service)],
                f"node {host} answers {port}/{proto} for service {mesh.service}, which runs no task there "
                f"(its tasks run on {', '.join(sorted(running))})", [],
                design.location("services", mesh.service, "ports"), [p], (port, proto),
                service=mesh.service, port=port, target=mesh.target, nodes=", ".join(sorted(running)))


def ns014_dnsrr_clients_cache(ctx: AuditContext) -> Iterator[Finding]:
    design = ctx.design
    matrix = ctx.pairs.matrix
    sources = ctx.pairs.sources
    for svc in design.services:
        tasks = design.tasks(svc.name)
        if svc.endpoint_mode != "dnsrr" or len(tasks) < 2:
            continue
        asker = next((c.name for c in design.containers if c.name in sources and c.task_of != svc.name
                      and set(c.networks) & set(svc.networks)), None)
        ev = []
        if asker is not None:
            res = matrix.names.resolve(sources[asker], svc.name)
            ev.append(Evidence(f"{asker} looks up {svc.name}", res.step.detail,
                               lookup=(Hop(Place.of(sources[asker]), (res.step,)),)))
        yield ctx.finding(
            "NS014", [t.name for t in tasks],
            f"service {svc.name} (dnsrr) resolves to its {len(tasks)} tasks' addresses: a client that resolves "
            "once and keeps the address sends everything to one task, and to a dead one after a reschedule", ev,
            design.location("services", svc.name, "endpoint_mode"), alike=(svc.name,), service=svc.name)


def ns015_mesh_hides_client_address(ctx: AuditContext) -> Iterator[Finding]:
    probes = _mesh_probes(ctx)
    design = ctx.design
    for (port, proto), mesh in sorted(mesh_ports(design).items()):
        found = probes.get((port, proto))
        if not found:
            continue
        yield ctx.finding(
            "NS015", [t.name for t in design.tasks(mesh.service)],
            f"service {mesh.service} is published on {port}/{proto} through the routing mesh: its tasks see the "
            "ingress sandbox's address as the source of every connection, never the client's", [],
            design.location("services", mesh.service, "ports"), [found[0]], (port, proto),
            service=mesh.service, port=port, target=mesh.target)


def ns016_replicas_on_one_node(ctx: AuditContext) -> Iterator[Finding]:
    design = ctx.design
    if len(design.hosts) < 2:
        return
    for svc in design.services:
        tasks = design.tasks(svc.name)
        nodes = {t.host for t in tasks}
        if svc.global_mode or len(tasks) < 2 or len(nodes) > 1:
            continue
        node = next(iter(nodes))
        why = (f"its placement constraints ({'; '.join(' '.join(c) for c in svc.constraints)}) allow no other node"
               if svc.constraints else "the scheduler put them together")
        yield ctx.finding(
            "NS016", [t.name for t in tasks],
            f"all {len(tasks)} replicas of service {svc.name} run on node {node} of {len(design.hosts)}: {why}",
            [Evidence(f"placement of {svc.name}", ", ".join(f"{t.name} on {t.host}" for t in tasks))],
            design.location("services", svc.name), alike=(svc.name,), service=svc.name, node=node)
