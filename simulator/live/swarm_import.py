"""A swarm manager's services, tasks and nodes (a :class:`~.snapshot.Snapshot`) → the model's
:class:`~simulator.model.SwarmService` values, their tasks as containers, and the nodes as hosts.

Pure, like :mod:`.importer`, which calls it.  What the API shows
(`docker/docker` `api/types/swarm` of v20.10.24: ``service.go``, ``task.go``, ``node.go``):

* a service's ``Spec``: ``Mode`` (``Replicated.Replicas`` or ``Global``), ``EndpointSpec.Mode``
  (vip | dnsrr), ``TaskTemplate.Networks`` (targets by id, with aliases),
  ``TaskTemplate.Placement`` (``Constraints``, ``MaxReplicas``), ``Labels``; its ``Endpoint``:
  the published ports with the port each got (``PublishMode`` ingress | host) and one
  ``VirtualIPs`` entry per network (the ingress network's included);
* a task: ``Slot`` (replicated), ``NodeID``, ``DesiredState``, ``Status.State``
  (``running``; ``pending`` while no node can take it, ``Status.Err`` says why),
  ``NetworksAttachments`` (its address on each network), ``Status.ContainerStatus.ContainerID``;
* a node: ``Description.Hostname``, ``Spec.Role``, ``Spec.Labels``, ``Status.Addr``.

A task is named ``<service>.<slot>`` (a global service's ``<service>.<node>``) as the loader
names it; the engine's own name (``<service>.<slot>.<task id>``) stays its ``docker_name``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from ipaddress import IPv4Interface

from ..engine.versions import engine_line
from ..model import Attachment, Container, Host, Listener, PortMapping, Protocol, SwarmService

TASK_ID = "com.docker.swarm.task.id"  # on every task's container
SERVICE_NAME = "com.docker.swarm.service.name"
ENGINE_LABELS = ("com.docker.", "netsim.")  # what the engine, a stack or netsim put on a service
CONSTRAINT = re.compile(r"\s*node\.(id|hostname|role|labels\.([A-Za-z0-9_.-]+))\s*(==|!=)\s*(\S+)\s*")


def is_task(container: dict) -> bool:
    """Is this inspected container a swarm task's?"""
    return bool(((container.get("Config") or {}).get("Labels") or {}).get(TASK_ID))


@dataclass(frozen=True)
class SwarmPart:
    """The services, their running tasks (containers), the nodes (hosts, the local one first)."""

    hosts: tuple[Host, ...] = ()
    services: tuple[SwarmService, ...] = ()
    tasks: tuple[Container, ...] = ()
    addresses: Mapping[tuple[str, str], IPv4Interface] = field(default_factory=dict)  # (task, network) -> address
    virtual_ips: Mapping[tuple[str, str], IPv4Interface] = field(default_factory=dict)  # (service, network) -> VIP
    ids: Mapping[str, str] = field(default_factory=dict)  # task key -> container id (local) or task id
    notes: tuple[str, ...] = ()
    provenance: Mapping = field(default_factory=dict)


def node_names(nodes: tuple[dict, ...], local: str) -> dict[str, str]:
    """Node id -> host key: its host name, numbered (``vm-1``, ``vm-2``) where nodes share one
    (every daemon of a netsim deployment has this machine's), this engine's node first, then
    in the order they joined."""
    ordered = sorted(nodes, key=lambda n: (n.get("ID") != local, n.get("CreatedAt") or "", n.get("ID") or ""))
    hostnames = [((n.get("Description") or {}).get("Hostname") or "node") for n in ordered]
    seen: dict[str, int] = {}
    out: dict[str, str] = {}
    for node, hostname in zip(ordered, hostnames, strict=True):
        seen[hostname] = seen.get(hostname, 0) + 1
        out[node.get("ID") or ""] = hostname if hostnames.count(hostname) == 1 else f"{hostname}-{seen[hostname]}"
    return out


def node_hosts(nodes: tuple[dict, ...], local: str, local_host: Host, names: Mapping[str, str]) -> tuple[Host, ...]:
    """The nodes as hosts: this engine's node is ``local_host`` (its machine was read) with the
    node's role and labels; another node gets its engine version and, when it is no loopback
    address, its swarm address as LAN address (a /24: the prefix is not shown)."""
    out = []
    for n in sorted(nodes, key=lambda n: (n.get("ID") != local, n.get("CreatedAt") or "", n.get("ID") or "")):
        spec = n.get("Spec") or {}
        role = "worker" if spec.get("Role") == "worker" else "manager"
        labels = tuple(sorted((str(k), str(v)) for k, v in (spec.get("Labels") or {}).items()))
        name = names[n.get("ID") or ""]
        if n.get("ID") == local:
            out.append(replace(local_host, name=name, role=role, labels=labels))
            continue
        kw: dict = {}
        version = ((n.get("Description") or {}).get("Engine") or {}).get("EngineVersion")
        if version:
            kw["engine_version"] = engine_line(version)
        addr = (n.get("Status") or {}).get("Addr") or ""
        try:
            iface = IPv4Interface(f"{addr}/24")
            if not iface.ip.is_loopback and not iface.ip.is_unspecified:
                kw["lan_address"] = iface
        except ValueError:
            pass
        out.append(Host(name, role=role, labels=labels, **kw))
    return tuple(out)


def _ports(service: dict) -> tuple[list[PortMapping], list[PortMapping]]:
    """(host-mode ports, ingress-mode ports), each with the port it got (``Endpoint.Ports``)."""
    endpoint = service.get("Endpoint") or {}
    spec = (service.get("Spec") or {}).get("EndpointSpec") or {}
    host: list[PortMapping] = []
    ingress: list[PortMapping] = []
    for p in endpoint.get("Ports") or spec.get("Ports") or []:
        try:
            proto = Protocol(p.get("Protocol") or "tcp")
            mapping = PortMapping(int(p["TargetPort"]), proto, int(p["PublishedPort"]) if p.get("PublishedPort") else None)
        except (KeyError, ValueError, TypeError):
            continue
        (host if p.get("PublishMode") == "host" else ingress).append(mapping)
    return host, ingress


def _constraints(texts: list, name: str, names: Mapping[str, str], nodes: tuple[dict, ...],
                 notes: list[str]) -> tuple[tuple[str, str, str], ...]:
    """Placement constraints the model knows; ``node.id == X`` (what netsim deploy makes of a
    design's ``node.hostname``) as ``node.hostname == <X's host key>``."""
    by_hostname: dict[str, list[str]] = {}
    for n in nodes:
        by_hostname.setdefault((n.get("Description") or {}).get("Hostname") or "", []).append(names.get(n.get("ID") or "", ""))
    out = []
    for text in texts:
        m = CONSTRAINT.fullmatch(str(text))
        if m is None:
            notes.append(f"service {name}: placement constraint {text!r} is not modelled (netsim knows node.hostname, "
                         "node.role and node.labels.KEY); left out")
            continue
        what, _, op, value = m.groups()
        if what == "id":
            if value not in names:
                notes.append(f"service {name}: placement constraint {text!r} names no node of the swarm; left out")
                continue
            what, value = "hostname", names[value]
        elif what == "hostname" and value not in names.values() and len(by_hostname.get(value, ())) == 1:
            value = by_hostname[value][0]
        out.append((f"node.{what}", op, value))
    return tuple(out)


def import_swarm(snap_services: tuple[dict, ...], snap_tasks: tuple[dict, ...], nodes: tuple[dict, ...], local: str,
                 local_host: Host, network_key: Callable[[str], str | None],
                 containers: Mapping[str, dict], listeners_of: Callable[[dict], tuple[Listener, ...]],
                 mesh: str | None = None) -> SwarmPart:
    """Services, tasks and nodes as the model's values.

    ``network_key``: a network id or name -> its key in the import (None: not imported, e.g.
    the ingress network); ``containers``: the inspected task containers of this engine by id;
    ``listeners_of``: a task container's listeners (its sockets); ``mesh``: the key of the
    ingress network (the routing mesh), which the tasks of a service publishing a port in ingress
    mode join, as the loader has them join it."""
    notes: list[str] = []
    names = node_names(nodes, local)
    hosts = node_hosts(nodes, local, local_host, names)
    services, tasks = [], []
    addresses: dict[tuple[str, str], IPv4Interface] = {}
    vips: dict[tuple[str, str], IPv4Interface] = {}
    ids: dict[str, str] = {}
    placed: dict[str, dict] = {}
    for svc in sorted(snap_services, key=lambda s: (s.get("Spec") or {}).get("Name") or ""):
        spec = svc.get("Spec") or {}
        name = spec.get("Name") or svc.get("ID") or "service"
        mode = spec.get("Mode") or {}
        global_mode = "Global" in mode
        replicas = int(((mode.get("Replicated") or {}).get("Replicas")) or 0)
        endpoint_mode = ((spec.get("EndpointSpec") or {}).get("Mode") or "vip").lower()
        if endpoint_mode not in ("vip", "dnsrr"):
            notes.append(f"service {name}: endpoint mode {endpoint_mode!r} is not modelled; taken as vip")
            endpoint_mode = "vip"
        template = spec.get("TaskTemplate") or {}
        attachments = []
        net_ids: dict[str, str] = {}  # network id -> key
        for att in template.get("Networks") or []:
            key = network_key(att.get("Target") or "")
            if key is None:
                notes.append(f"service {name}: network {att.get('Target')} is not imported; left out")
                continue
            net_ids[att.get("Target") or ""] = key
            attachments.append(Attachment(key, tuple(a for a in att.get("Aliases") or [] if a != name)))
        host_ports, ingress = _ports(svc)
        placement = template.get("Placement") or {}
        constraints = _constraints(placement.get("Constraints") or [], name, names, nodes, notes)
        cap = placement.get("MaxReplicas")
        labels = tuple(sorted((k, str(v)) for k, v in (spec.get("Labels") or {}).items() if not k.startswith(ENGINE_LABELS)))
        for vip in (svc.get("Endpoint") or {}).get("VirtualIPs") or []:
            key = network_key(vip.get("NetworkID") or "")
            if key is not None and key in {a.network for a in attachments} and vip.get("Addr"):
                vips[(name, key)] = IPv4Interface(vip["Addr"])
        mine = [t for t in snap_tasks if t.get("ServiceID") == svc.get("ID") and t.get("DesiredState") == "running"]
        running = sorted((t for t in mine if (t.get("Status") or {}).get("State") == "running"),
                         key=lambda t: (int(t.get("Slot") or 0), names.get(t.get("NodeID") or "", "")))
        waiting = [t for t in mine if t not in running]
        for t in waiting:
            status = t.get("Status") or {}
            why = status.get("Err") or status.get("Message") or ""
            notes.append(f"service {name}: a task is {status.get('State') or 'not running'}"
                         + (f" ({why})" if why else "") + ": it runs nowhere yet")
        local_listeners = [listeners_of(containers[cid]) for t in running
                           if (cid := _container_id(t) or "") in containers]
        union = tuple(sorted({x for found in local_listeners for x in found}, key=lambda x: (x.port, x.protocol.value)))
        if running and not local_listeners:
            notes.append(f"service {name}: no task runs on this engine, so no socket was read; its tasks listen on "
                         "the published target ports only, as far as the import knows")
            union = tuple(sorted({Listener(p.container_port, p.protocol) for p in host_ports + ingress},
                                 key=lambda x: (x.port, x.protocol.value)))
        for t in running:
            node = names.get(t.get("NodeID") or "")
            if node is None:
                notes.append(f"service {name}: task {t.get('ID')} runs on node {t.get('NodeID')}, not in the swarm's "
                             "node list; left out")
                continue
            key = f"{name}.{node}" if global_mode else f"{name}.{t.get('Slot')}"
            container_id = _container_id(t)
            inspected = containers.get(container_id or "")
            engine_name = ((inspected or {}).get("Name") or "").lstrip("/") or f"{name}.{t.get('Slot') or node}.{t.get('ID')}"
            atts = []
            got: dict[str, str] = {}
            for a in attachments + ([Attachment(mesh)] if mesh is not None and ingress else []):
                for na in t.get("NetworksAttachments") or []:
                    if network_key(((na.get("Network") or {}).get("ID")) or "") == a.network and na.get("Addresses"):
                        iface = IPv4Interface(na["Addresses"][0])
                        addresses[(key, a.network)] = iface
                        got[a.network] = str(iface.ip)
                        a = Attachment(a.network, a.aliases, iface.ip)
                atts.append(a)
            listens = listeners_of(inspected) if inspected is not None else union
            tasks.append(Container(key, node, docker_name=engine_name, attachments=tuple(atts), ports=tuple(host_ports),
                                   listeners=listens, labels=labels,
                                   service=name if endpoint_mode == "dnsrr" else None, task_of=name))
            ids[key] = container_id if inspected is not None and container_id else str(t.get("ID") or "")
            placed[key] = {"node": node, "addresses": got, "engine_name": engine_name}
        pending = max(replicas - len(running), 0) if not global_mode else len(waiting)
        if not global_mode and len(running) > replicas:
            notes.append(f"service {name}: {len(running)} tasks run for {replicas} replica(s) (the service is being "
                         "scaled down or updated)")
        services.append(SwarmService(name, endpoint_mode, tuple(a.network for a in attachments), tuple(ingress), pending,
                                     constraints, global_mode, cap if type(cap) is int and cap > 0 else None))
    provenance = {
        "nodes": {names[n.get("ID") or ""]: {"id": n.get("ID"), "hostname": (n.get("Description") or {}).get("Hostname"),
                                            "role": (n.get("Spec") or {}).get("Role"),
                                            "address": (n.get("Status") or {}).get("Addr")}
                  for n in nodes},
        "virtual_ips": {s: {n: str(v) for (s2, n), v in sorted(vips.items()) if s2 == s}
                        for s in sorted({s for s, _ in vips})},
        "tasks": {k: placed[k] for k in sorted(placed)},
    }
    return SwarmPart(hosts, tuple(services), tuple(tasks), addresses, vips, ids, tuple(notes), provenance)


def _container_id(task: dict) -> str | None:
    return ((task.get("Status") or {}).get("ContainerStatus") or {}).get("ContainerID") or None
