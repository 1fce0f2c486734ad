"""Drift: the intended design against the running engine, as a diff of two models.

The running side is an import (:mod:`.importer`).  Its containers and networks are
matched to the design's (by key — compose service / compose network key / netsim label —
then by engine name), renamed into the design's names, and compared field by field,
grouped by what matters (:data:`CATEGORIES`).  Swarm services are compared as services
(tasks running, mode, endpoint mode, ports, networks, constraints); where the scheduler put a
task is reported, not drift, and the design's model takes the running placement.  The consequence is
:func:`simulator.diff.diff_results` of the two reachability matrices: which answers
differ because of the drift.  Pure: no I/O.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from ipaddress import IPv4Address, IPv4Interface

from ..diff import DesignDiff, diff_results
from ..diff import render_text as render_diff_text
from ..model import Container, Design, Driver, ModeKind, Network, NetworkMode, SwarmService, namespace_owners
from ..render.junit import Case
from ..render.junit import render_junit as junit_text
from .importer import Imported

ANY = IPv4Address("0.0.0.0")
CATEGORIES = ("container", "network", "attachment", "port", "address", "option", "alias", "mode", "listener",
              "service", "placement")
TITLES = {
    "service": "swarm services", "placement": "where the swarm's scheduler placed tasks",
    "container": "containers missing or extra", "network": "networks missing or extra",
    "attachment": "containers on the wrong networks", "port": "published ports",
    "address": "addresses", "option": "network options that change behaviour", "alias": "aliases",
    "mode": "network modes", "listener": "listening ports",
}


@dataclass(frozen=True, slots=True)
class DriftItem:
    """One difference: ``kind`` missing | extra | changed | wider | added | removed."""

    category: str
    subject: str
    kind: str
    expected: str | None = None
    actual: str | None = None
    severity: str = "drift"  # drift | info (reported, not a failure)

    def __str__(self) -> str:
        if self.kind == "missing":
            text = f"{self.subject}: in the design, not running" + (f" ({self.expected})" if self.expected else "")
        elif self.kind == "extra":
            text = f"{self.subject}: running, not in the design" + (f" ({self.actual})" if self.actual else "")
        elif self.kind == "removed":
            text = f"{self.subject}: {self.expected} removed"
        elif self.kind == "added":
            text = f"{self.subject}: {self.actual} added"
        elif self.kind == "wider":
            text = f"{self.subject}: published on {self.actual}, wider than the design's {self.expected}"
        else:
            text = f"{self.subject}: design {self.expected}, running {self.actual}"
        return text + (" (info)" if self.severity == "info" else "")

    def to_json(self) -> dict:
        return {"category": self.category, "subject": self.subject, "kind": self.kind,
                "expected": self.expected, "actual": self.actual, "severity": self.severity, "text": str(self)}


@dataclass(frozen=True)
class Drift:
    design: str
    scope: str
    engine_version: str
    items: tuple[DriftItem, ...]
    consequence: DesignDiff | None
    notes: tuple[str, ...] = ()
    container_map: Mapping[str, str] = field(default_factory=dict)  # design key -> running key

    @property
    def drifted(self) -> bool:
        return any(i.severity == "drift" for i in self.items) or (
            self.consequence is not None and not self.consequence.empty)

    def of(self, category: str) -> list[DriftItem]:
        return [i for i in self.items if i.category == category]


# --- matching --------------------------------------------------------------------------


def match(intended: Design, actual: Design) -> tuple[dict[str, str], dict[str, str]]:
    """(design container key -> running key, design network key -> running key)."""
    nets: dict[str, str] = {}
    free = {n.name: n for n in actual.networks}
    for n in intended.networks:
        found = next((k for k, a in free.items() if a.default_bridge and n.default_bridge), None)
        found = found or next((k for k, a in free.items() if k == n.name and a.engine_name == n.engine_name), None)
        found = found or next((k for k, a in free.items() if a.engine_name == n.engine_name), None)
        found = found or (n.name if n.name in free and not n.default_bridge else None)
        if found:
            nets[n.name] = found
            free.pop(found)
    ctrs: dict[str, str] = {}
    cfree = {c.name: c for c in actual.containers}
    for c in intended.containers:
        found = next((k for k, a in cfree.items() if k == c.name and (a.service or None) == (c.service or None)), None)
        found = found or next((k for k, a in cfree.items() if a.engine_name == c.engine_name), None)
        found = found or (c.name if c.name in cfree else None)
        found = found or next((k for k, a in cfree.items() if c.task_of and a.task_of == c.task_of), None)
        found = found or next((k for k, a in cfree.items() if c.service and a.service == c.service), None)
        if found:
            ctrs[c.name] = found
            cfree.pop(found)
    return ctrs, nets


def align(intended: Design, actual: Design, ctrs: dict[str, str], nets: dict[str, str],
          imported: Imported | None = None) -> Design:
    """A compose design with the running project's engine names where the design left them
    to compose: a running (or stopped) container's own name, else the name the tool that
    started the project gives (docker-compose v1 ``<project>_<service>_1``, v2
    ``<project>-<service>-1``, told apart by the ``com.docker.compose.version`` label);
    networks ``<project>_<key>`` as running.  Explicit ``container_name`` / ``name`` stay."""
    if intended.kind != "compose":
        return intended
    names = dict(imported.compose_names) if imported is not None else {}
    project = (imported.compose_project if imported is not None else "") or intended.name
    containers = []
    for c in intended.containers:
        r = actual.container(ctrs[c.name]) if c.name in ctrs else None
        service = c.service or c.name
        slot = c.name[len(service) + 1:] if c.name.startswith(f"{service}.") else "1"  # a replica: <service>.<slot>
        if c.docker_name == f"{intended.name}-{service}-{slot}":
            if r is not None:
                c = replace(c, docker_name=r.docker_name)
            elif service in names and slot == "1" and c.name == service:
                c = replace(c, docker_name=names[service])
            elif imported is not None and imported.compose_v1:
                c = replace(c, docker_name=f"{project}_{service}_{slot}")
            elif imported is not None and imported.compose_project:
                c = replace(c, docker_name=f"{project}-{service}-{slot}")
        containers.append(c)
    networks = []
    for n in intended.networks:
        rn = actual.network(nets[n.name]) if n.name in nets else None
        if not n.default_bridge and n.docker_name == f"{intended.name}_{n.name}":
            if rn is not None:
                n = replace(n, docker_name=rn.docker_name)
            elif imported is not None and imported.compose_project:
                n = replace(n, docker_name=f"{project}_{n.name}")
        networks.append(n)
    return replace(intended, containers=tuple(containers), networks=tuple(networks))


def on_this_engine(intended: Design, running: Design, addresses: Mapping[tuple[str, str], IPv4Interface],
                   engine_hosts: tuple = ()) -> Design:
    """The design with what the engine assigned where the design leaves it to the engine:
    a network's subnet and gateway (when the design pins none), an endpoint's address
    (when the design pins none and the engine's lies in the network).  The model of this
    design speaks the running environment's addresses, so a consequence or a probe names
    the container that really holds an address.  (In memory only: the default bridge takes
    no pinned address in a written design.)"""
    rn = {n.name: n for n in running.networks}
    networks = []
    for n in intended.networks:
        r = rn.get(n.name)
        if r is not None and r.driver is n.driver and n.subnet is None and r.subnet is not None and not n.default_bridge:
            n = replace(n, subnet=r.subnet, gateway=r.gateway if n.gateway is None else n.gateway)
        networks.append(n)
    nets = {n.name: n for n in networks}
    taken = {(a.network, a.ipv4_address) for c in intended.containers for a in c.attachments if a.ipv4_address}
    containers = []
    for c in intended.containers:
        atts = []
        for a in c.attachments:
            got = addresses.get((c.name, a.network))
            on = nets.get(a.network)
            if (a.ipv4_address is None and got is not None and on is not None and (a.network, got.ip) not in taken
                    and (on.subnet is None or got.ip in on.subnet)):
                a = replace(a, ipv4_address=got.ip)
                taken.add((a.network, got.ip))
            atts.append(a)
        containers.append(replace(c, attachments=tuple(atts)))
    hosts = intended.hosts
    if engine_hosts and intended.hosts and intended.hosts[0].daemon.bip is None:
        hosts = (replace(intended.hosts[0], daemon=replace(intended.hosts[0].daemon, bip=engine_hosts[0].daemon.bip)),
                 *intended.hosts[1:])
    return replace(intended, hosts=hosts, networks=tuple(networks), containers=tuple(containers))


def placed_as_running(intended: Design, running: Design) -> Design:
    """The design with each task on the host the swarm's scheduler put it (``running`` is in the
    design's names and hosts): the scheduler's choice is no drift, so the model of the design
    answers for the placement that runs."""
    where = {c.name: c.host for c in running.containers if c.task_of is not None}
    if not any(c.task_of and where.get(c.name, c.host) != c.host for c in intended.containers):
        return intended
    return replace(intended, containers=tuple(replace(c, host=where[c.name]) if c.task_of and c.name in where else c
                                              for c in intended.containers))


def host_map(intended: Design, actual: Design) -> dict[str, str]:
    """Running host (swarm node) -> design host: the same name; else this engine's node (the
    import's first host) is the design's first manager; the others by role and labels, then
    in order."""
    free = [h.name for h in intended.hosts]
    out: dict[str, str] = {}
    for h in actual.hosts:
        if h.name in free:
            out[h.name] = h.name
            free.remove(h.name)
    rest = [h for h in actual.hosts if h.name not in out]
    if rest and rest[0] is actual.hosts[0] and free:
        first = next((n for n in free if intended.host(n).role == "manager"), free[0])
        out[rest[0].name] = first
        free.remove(first)
        rest = rest[1:]
    for h in list(rest):
        same = next((n for n in free if (intended.host(n).role, intended.host(n).labels) == (h.role, h.labels)), None)
        if same is not None:
            out[h.name] = same
            free.remove(same)
            rest.remove(h)
    for h, n in zip(rest, free, strict=False):
        out[h.name] = n
    return out


def translate(intended: Design, actual: Design, ctrs: dict[str, str], nets: dict[str, str]) -> Design:
    """The running design in the design's names, on the design's hosts (LAN, kernel),
    with the daemon options the engine shows."""
    cback = {v: k for k, v in ctrs.items()}
    nback = {v: k for k, v in nets.items()}
    taken_c = set(c.name for c in intended.containers)
    taken_n = set(n.name for n in intended.networks)

    def cname(key: str) -> str:
        if key in cback:
            return cback[key]
        return key if key not in taken_c else f"{key}~running"

    def nname(key: str) -> str:
        if key in nback:
            return nback[key]
        return key if key not in taken_n else f"{key}~running"

    host = intended.hosts[0] if intended.hosts else actual.hosts[0]
    hosts = tuple(replace(h, daemon=replace(h.daemon, icc=actual.hosts[0].daemon.icc,
                                            ip_masq=actual.hosts[0].daemon.ip_masq))
                  for h in intended.hosts) if intended.hosts else actual.hosts
    nodes = host_map(intended, actual) if intended.hosts else {}
    containers = []
    for c in actual.containers:
        mode = c.mode
        if mode.kind is ModeKind.CONTAINER:
            mode = NetworkMode(ModeKind.CONTAINER, cname(mode.target or ""))
        atts = tuple(replace(a, network=nname(a.network)) for a in c.attachments)
        on = nodes.get(c.host, host.name) if c.task_of else host.name
        containers.append(replace(c, name=cname(c.name), host=on, mode=mode, attachments=atts))
    containers = _share_listeners(intended, containers)
    everywhere = tuple(h.name for h in hosts)
    networks = [replace(n, name=nname(n.name), hosts=everywhere if n.driver is Driver.OVERLAY else (host.name,))
                for n in actual.networks]
    services = tuple(replace(s, networks=tuple(nname(n) for n in s.networks),
                             constraints=tuple((w, op, nodes.get(v, v) if w == "node.hostname" else v)
                                               for w, op, v in s.constraints))
                     for s in actual.services)
    # the design's order, so the model hands out dynamic addresses the same way for both
    corder = {c.name: i for i, c in enumerate(intended.containers)}
    norder = {n.name: i for i, n in enumerate(intended.networks)}
    containers.sort(key=lambda c: (corder.get(c.name, len(corder)), c.name))
    networks.sort(key=lambda n: (norder.get(n.name, len(norder)), n.name))
    return Design(intended.name, hosts, tuple(networks), tuple(containers), source="<engine>", kind=intended.kind,
                  services=services)


def _share_listeners(intended: Design, containers: list[Container]) -> list[Container]:
    """A namespace shared by several containers has one set of sockets: the network cannot
    tell which member holds one.  Each socket goes to the member the design gives it to
    (compose only lets the owner declare ``expose``), else stays where /proc found it."""
    owners = namespace_owners(containers)
    groups: dict[str, list[str]] = {}
    for c in containers:
        groups.setdefault(owners[c.name] or c.name, []).append(c.name)
    moved = {c.name: list(c.listeners) for c in containers}
    for members in groups.values():
        if len(members) < 2:
            continue
        for m in members:
            for lst in list(moved[m]):
                want = [o for o in members if intended.has_container(o) and lst in intended.container(o).listeners]
                if want and m not in want:
                    moved[m].remove(lst)
                    if lst not in moved[want[0]]:
                        moved[want[0]].append(lst)
    return [replace(c, listeners=tuple(sorted(moved[c.name], key=lambda x: (x.port, x.protocol.value))))
            for c in containers]


# --- comparing -------------------------------------------------------------------------


def _effective_ip(design: Design, c: Container, p) -> IPv4Address:
    if p.host_ip is not None:
        return p.host_ip
    for a in c.attachments:
        if design.has_network(a.network):
            return design.network(a.network).host_binding_ipv4
    return ANY


def _binding(ip: IPv4Address, p) -> str:
    port = p.host_port if p.host_port is not None else "(ephemeral)"
    return f"{ip}:{port}->{p.container_port}/{p.protocol.value}"


def _compare_ports(intended: Design, running: Design, c: Container, r: Container) -> list[DriftItem]:
    items = []
    want = [(_effective_ip(intended, c, p), p) for p in c.ports]
    have = [(_effective_ip(running, r, p), p) for p in r.ports]
    unmatched = list(have)
    missing = []
    for ip, p in want:
        hit = next((h for h in unmatched if h[1].container_port == p.container_port and h[1].protocol == p.protocol
                    and h[0] == ip and (p.host_port is None or h[1].host_port == p.host_port)), None)
        if hit:
            unmatched.remove(hit)
        else:
            missing.append((ip, p))
    for ip, p in missing:
        same = next((h for h in unmatched if h[1].container_port == p.container_port and h[1].protocol == p.protocol
                     and (p.host_port is None or h[1].host_port == p.host_port)), None)
        if same is not None:
            unmatched.remove(same)
            wider = same[0] == ANY and ip != ANY
            items.append(DriftItem("port", f"{c.name} {p.container_port}/{p.protocol.value}",
                                   "wider" if wider else "changed", _binding(ip, p), _binding(*same)))
        else:
            items.append(DriftItem("port", f"{c.name} {p.container_port}/{p.protocol.value}", "removed",
                                   f"published {_binding(ip, p)}"))
    for ip, p in unmatched:
        items.append(DriftItem("port", f"{c.name} {p.container_port}/{p.protocol.value}", "added",
                               actual=f"published {_binding(ip, p)}"))
    return items


def _compare_network(n: Network, r: Network) -> list[DriftItem]:
    items = []
    subject = f"network {n.name}"

    def check(what: str, want, have, pinned: bool = True) -> None:
        if pinned and want != have:
            items.append(DriftItem("option", f"{subject} {what}", "changed", str(want), str(have)))

    check("driver", n.driver.value, r.driver.value)
    check("internal", n.internal, r.internal)
    check("icc", n.icc, r.icc)
    check("masquerade", n.masquerade, r.masquerade)
    check("host_binding_ipv4", n.host_binding_ipv4, r.host_binding_ipv4)
    check("gateway_mode", n.gateway_mode, r.gateway_mode)
    check("gateway_mode6", n.gateway_mode6, r.gateway_mode6)
    check("subnet", n.subnet, r.subnet, n.subnet is not None)
    check("gateway", n.gateway, r.gateway, n.gateway is not None)
    check("ip_range", n.ip_range, r.ip_range, n.ip_range is not None)
    if n.driver.value in ("macvlan", "ipvlan"):
        check("parent", n.parent_interface, r.parent_interface, n.parent is not None and n.parent != "eth0")
        check("mode", n.mode, r.mode, n.mode is not None)
    if n.driver.value == "overlay":
        check("encrypted", n.encrypted, r.encrypted)
        check("attachable", n.attachable, r.attachable)
    return items


def compare_designs(intended: Design, running: Design,
                    addresses: Mapping[tuple[str, str], IPv4Interface]) -> list[DriftItem]:
    """Every drift item between ``intended`` and ``running`` (already in the design's names).

    ``addresses``: the running endpoints' addresses by (design container key, design network key)."""
    items: list[DriftItem] = []
    rn = {n.name: n for n in running.networks}
    rc = {c.name: c for c in running.containers}
    for n in intended.networks:
        if n.name not in rn:
            if any(n.name in c.networks for c in intended.containers) or n.default_bridge is False:
                items.append(DriftItem("network", f"network {n.name}", "missing", expected=n.engine_name))
            continue
        items += _compare_network(n, rn[n.name])
    for n in running.networks:
        if not intended.has_network(n.name):
            items.append(DriftItem("network", f"network {n.name}", "extra", actual=n.engine_name))
    for c in intended.containers:
        r = rc.get(c.name)
        if r is None:
            if c.task_of is None:  # a task: its service's count says it
                items.append(DriftItem("container", f"container {c.name}", "missing", expected=c.engine_name))
            continue
        if str(c.mode) != str(r.mode):
            items.append(DriftItem("mode", f"{c.name} network mode", "changed", str(c.mode), str(r.mode)))
        want, have = set(c.networks), set(r.networks)
        if c.task_of is not None:  # a task's networks and ports are its service's (compared there)
            want = have = want & have
        for net in sorted(want - have):
            pinned = c.attachments[c.networks.index(net)].ipv4_address
            items.append(DriftItem("attachment", f"{c.name} on {net}", "removed",
                                   expected=f"attached to {net}" + (f" at {pinned}" if pinned else "")))
        for net in sorted(have - want):
            got = addresses.get((c.name, net))
            items.append(DriftItem("attachment", f"{c.name} on {net}", "added",
                                   actual=f"attached to {net}" + (f" at {got.ip}" if got is not None else "")))
        names = {c.name, c.engine_name, r.engine_name}
        for net in sorted(want & have):
            a, b = c.attachments[c.networks.index(net)], r.attachments[r.networks.index(net)]
            user_net = not (intended.has_network(net) and intended.network(net).default_bridge)
            wa = (set(a.aliases) | ({c.service} if c.service and user_net else set())) - names
            ha = (set(b.aliases) | ({r.service} if r.service and user_net else set())) - names
            for alias in sorted(wa - ha):
                items.append(DriftItem("alias", f"{c.name} on {net}", "removed", expected=f"alias {alias}"))
            for alias in sorted(ha - wa):
                items.append(DriftItem("alias", f"{c.name} on {net}", "added", actual=f"alias {alias}"))
            got = addresses.get((c.name, net))
            got_ip = got.ip if got is not None else None
            if a.ipv4_address is not None:
                if got_ip != a.ipv4_address:
                    items.append(DriftItem("address", f"{c.name} on {net}", "changed", str(a.ipv4_address),
                                           str(got_ip)))
            elif got_ip is not None and intended.has_network(net) and intended.network(net).subnet is not None:
                subnet = intended.network(net).subnet
                if subnet is not None and got_ip not in subnet:
                    items.append(DriftItem("address", f"{c.name} on {net}", "changed", f"an address in {subnet}",
                                           str(got_ip)))
        if c.mode.kind is ModeKind.NETWORKS and r.mode.kind is ModeKind.NETWORKS and c.task_of is None:
            items += _compare_ports(intended, running, c, r)
        wl = {f"{x.port}/{x.protocol.value}" for x in c.listeners}
        hl = {f"{x.port}/{x.protocol.value}" for x in r.listeners}
        for x in sorted(wl - hl, key=lambda s: (int(s.split("/")[0]), s)):
            items.append(DriftItem("listener", f"{c.name} {x}", "removed", expected="a listener",
                                   actual="nothing listens"))
        for x in sorted(hl - wl, key=lambda s: (int(s.split("/")[0]), s)):
            items.append(DriftItem("listener", f"{c.name} {x}", "added", actual="listening"))
    for c in running.containers:
        if not intended.has_container(c.name) and c.task_of is None:
            where = [f"{n} at {addresses[(c.name, n)].ip}" for n in c.networks if (c.name, n) in addresses]
            items.append(DriftItem("container", f"container {c.name}", "extra",
                                   actual=c.engine_name + (f" on {', '.join(where)}" if where else "")))
    for what in ("icc", "ip_masq"):
        wanted = getattr(intended.hosts[0].daemon, what) if intended.hosts else True
        shown = getattr(running.hosts[0].daemon, what) if running.hosts else True
        if wanted != shown:
            items.append(DriftItem("option", f"daemon {what}", "changed", str(wanted), str(shown)))
    items += compare_services(intended, running)
    order = {c: i for i, c in enumerate(CATEGORIES)}
    return sorted(items, key=lambda i: (order.get(i.category, 99), i.subject, i.kind, i.expected or "", i.actual or ""))


def _service_ports(design: Design, s: SwarmService) -> dict[tuple[int | None, int, str], str]:
    """(published port, target port, protocol) -> its publish mode (``host`` | ``ingress``)."""
    tasks = design.tasks(s.name)
    out = {(p.host_port, p.container_port, p.protocol.value): "host" for p in (tasks[0].ports if tasks else ())}
    out.update({(p.host_port, p.container_port, p.protocol.value): "ingress" for p in s.ingress})
    return out


def compare_services(intended: Design, running: Design) -> list[DriftItem]:
    """Swarm services missing or extra; per service: tasks running, pending (info), mode,
    endpoint mode, published ports, networks, constraints, max_replicas_per_node (when the
    design states it); tasks the scheduler placed elsewhere than the model (info)."""
    items: list[DriftItem] = []
    have = {s.name: s for s in running.services}
    for s in intended.services:
        r = have.get(s.name)
        subject = f"service {s.name}"
        if r is None:
            items.append(DriftItem("service", subject, "missing", expected=f"{len(intended.tasks(s.name))} task(s)"))
            continue
        mine, theirs = intended.tasks(s.name), running.tasks(r.name)

        def check(what: str, want, got, severity: str = "drift", subject: str = subject) -> None:
            if want != got:
                items.append(DriftItem("service", f"{subject} {what}", "changed", str(want), str(got), severity))

        check("mode", "global" if s.global_mode else "replicated", "global" if r.global_mode else "replicated")
        check("tasks running", len(mine), len(theirs))
        check("tasks pending", s.pending, r.pending, "info")  # they run nowhere: no answer depends on them
        check("endpoint_mode", s.endpoint_mode, r.endpoint_mode)
        for net in sorted(set(s.networks) - set(r.networks)):
            items.append(DriftItem("service", f"{subject} on {net}", "removed", expected=f"attached to {net}"))
        for net in sorted(set(r.networks) - set(s.networks)):
            items.append(DriftItem("service", f"{subject} on {net}", "added", actual=f"attached to {net}"))
        want_ports, got_ports = _service_ports(intended, s), _service_ports(running, r)
        for (published, target, proto), mode in sorted(want_ports.items(), key=str):
            hit = next((k for k in got_ports if k[1:] == (target, proto) and published in (None, k[0])), None)
            where = f"{subject} {target}/{proto}"
            shown = f"{mode} {published or '(ephemeral)'}->{target}/{proto}"
            if hit is None:
                items.append(DriftItem("service", where, "removed", expected=f"published {shown}"))
                continue
            got = got_ports.pop(hit)
            if got != mode:
                items.append(DriftItem("service", where, "changed", f"published {shown}",
                                       f"published {got} {hit[0]}->{target}/{proto}"))
        for (published, target, proto), mode in sorted(got_ports.items(), key=str):
            items.append(DriftItem("service", f"{subject} {target}/{proto}", "added",
                                   actual=f"published {mode} {published}->{target}/{proto}"))
        check("constraints", sorted(" ".join(c) for c in s.constraints) or "none",
              sorted(" ".join(c) for c in r.constraints) or "none")
        if s.max_replicas_per_node is not None:
            check("max_replicas_per_node", s.max_replicas_per_node, r.max_replicas_per_node)
        placed = {t.name: t.host for t in theirs}
        for t in mine:
            if t.name in placed and placed[t.name] != t.host:
                items.append(DriftItem("placement", f"task {t.name}", "changed", f"on {t.host} (the model's spread)",
                                       f"on {placed[t.name]} (the scheduler's choice)", "info"))
    for r in running.services:
        if intended.service(r.name) is None:
            tasks = running.tasks(r.name)
            nets = ", ".join(r.networks)
            items.append(DriftItem("service", f"service {r.name}", "extra",
                                   actual=f"{len(tasks)} task(s)" + (f" on {nets}" if nets else "")))
    return items


def compute_drift(intended: Design, imported: Imported, engine_version: str, scope: str = "",
                  reach: Callable | None = None) -> Drift:
    """Drift items and their consequence for reachability and exposure."""
    from ..analysis.reachability import compute_reach

    model = reach or compute_reach
    ctrs, nets = match(intended, imported.design)
    intended = align(intended, imported.design, ctrs, nets, imported)
    running = translate(intended, imported.design, ctrs, nets)
    cback = {v: k for k, v in ctrs.items()}
    nback = {v: k for k, v in nets.items()}
    addresses = {(cback.get(c, c), nback.get(n, n)): a for (c, n), a in imported.addresses.items()}
    items = compare_designs(intended, running, addresses)
    here = placed_as_running(on_this_engine(intended, running, addresses, imported.design.hosts), running)
    consequence = _without_address_noise(diff_results(model(here, engine_version), model(running, engine_version)))
    return Drift(intended.name, scope, engine_version, tuple(items), consequence, imported.notes, ctrs)


_IP = re.compile(r"\b\d{1,3}(?:\.\d{1,3}){3}\b")


def _without_address_noise(d: DesignDiff) -> DesignDiff:
    """Drop exposure pairs that differ only in the addresses the model allocated."""
    def norm(e) -> tuple:
        return (e.container, e.port, e.protocol, e.audience, _IP.sub("<ip>", e.through))

    new = {norm(e) for e in d.exposed}
    old = {norm(e) for e in d.unexposed}
    same = new & old
    return replace(d, exposed=tuple(e for e in d.exposed if norm(e) not in same),
                   unexposed=tuple(e for e in d.unexposed if norm(e) not in same))


# --- rendering -------------------------------------------------------------------------


def render_text(d: Drift) -> str:
    lines = [f"drift of design {d.design!r} against {d.scope or 'the engine'} (engine {d.engine_version})"]
    drifts = [i for i in d.items if i.severity == "drift"]
    for cat in CATEGORIES:
        found = d.of(cat)
        if found:
            lines.append(f"\n{TITLES[cat]}:")
            lines += [f"  {i}" for i in found]
    if not d.items:
        lines.append("\nno drift: the running environment matches the design")
    lines.append("\nconsequence (model of the design -> model of what runs):")
    if d.consequence is None or d.consequence.empty:
        lines.append("  no change in reachability or exposure")
    else:
        lines += ["  " + line if line else "" for line in render_diff_text(d.consequence).rstrip("\n").splitlines()]
    if d.notes:
        lines.append("")
        lines += [f"note: {n}" for n in d.notes]
    c = d.consequence
    changes = 0 if c is None else len(c.changes) + len(c.exposed) + len(c.unexposed)
    lines.append("")
    lines.append(f"{len(drifts)} drift item(s), {len(d.items) - len(drifts)} informational; "
                 f"{changes} reachability/exposure change(s)")
    return "\n".join(lines) + "\n"


def render_json(d: Drift) -> dict:
    return {
        "design": d.design, "scope": d.scope, "engine_version": d.engine_version, "drift": d.drifted,
        "items": [i.to_json() for i in d.items],
        "by_category": {cat: [i.to_json() for i in d.of(cat)] for cat in CATEGORIES},
        "consequence": d.consequence.to_json() if d.consequence is not None else None,
        "containers": dict(sorted(d.container_map.items())),
        "notes": list(d.notes),
    }


def render_junit(d: Drift) -> str:
    """One testcase per category (failures: its drift items) and one for the consequence,
    in the one JUnit shape netsim writes (:mod:`simulator.render.junit`)."""
    cases = []
    classname = f"netsim.drift.{d.design}"
    for cat in CATEGORIES:
        bad = [i for i in d.of(cat) if i.severity == "drift"]
        info = [i for i in d.of(cat) if i.severity == "info"]
        cases.append(Case(TITLES[cat], classname, f"{len(bad)} drift item(s)" if bad else None,
                          "\n".join(str(i) for i in (bad or info)), kind="drift"))
    changed = d.consequence is not None and not d.consequence.empty
    cases.append(Case("reachability and exposure", classname,
                      "reachability or exposure differs" if changed else None,
                      render_diff_text(d.consequence) if d.consequence is not None and changed else "",
                      kind="consequence"))
    return junit_text(f"netsim drift {d.design}", cases)
