"""The network diagram: a scene built from the simulated world, written as Graphviz DOT.

:func:`build_scene` decides *what* is drawn (hosts, networks per mode, containers with
their addresses and ports, exposure tiers, a highlighted trace); :func:`render_dot`
writes it as DOT (Mermaid in :mod:`simulator.render.mermaid` reads the same scene).
Everything is sorted and free of ids that change between runs, so the output is
byte-identical for the same design.

Layout: top to bottom — the LAN, its peer and the overlays; one cluster per host (hosts
wrapped into bands when there are many); in a host, one cluster per network with the
network's switch at its head and the containers it holds wrapped into rows below it, so the
picture stays near the proportions of a page whatever the number of containers. A container
sits in the cluster of its first network; its other networks reach it with an edge.

Above :data:`GROUP_ABOVE` drawn containers the scene groups identical containers (one class
of :mod:`simulator.analysis.classes` per host, with a count) and says so in the legend;
``DiagramOptions(group=False)`` draws every box, ``focus`` draws one network or one host.
"""

from __future__ import annotations

import hashlib
import math
import re
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from html import escape as _html_escape
from ipaddress import IPv4Address, ip_address
from itertools import pairwise

from ..analysis.classes import ContainerClass
from ..analysis.exposure import Exposure, Through, compute_exposure
from ..analysis.reachability import ReachResult, compute_reach
from ..engine.ipam import GWBRIDGE, network_hosts
from ..engine.rules import ip6tables_managed
from ..engine.topology import EXTERNAL, World
from ..engine.trace import Place, Trace
from ..model import Design, Driver, ModeKind
from .listeners import ORIGIN_TEXT, learnt_elsewhere, listens_text
from .services import ServiceView, ingress_lines, ingress_network, service_views
from .text import printable

TIERS = ("lan", "host", "internal")
TIER_TEXT = {"lan": "reachable from the LAN", "host": "reachable from the host (and other networks through it)",
             "internal": "internal: its own networks (and the host owning them)"}
TIER_FILL = {"lan": "#ffcdd2", "host": "#ffe0b2", "internal": "#c8e6c9"}
TIER_LINE = {"lan": "#c62828", "host": "#ef6c00", "internal": "#2e7d32"}
NET_STYLE = {  # kind -> (fill, border)
    "default-bridge": ("#eeeeee", "#616161"),
    "bridge": ("#e3f2fd", "#1565c0"),
    "internal": ("#f3e5f5", "#6a1b9a"),
    "gwbridge": ("#f5f5f5", "#455a64"),
    "macvlan": ("#fff8e1", "#f9a825"),
    "ipvlan": ("#fff8e1", "#f9a825"),
    "overlay": ("#e0f7fa", "#00838f"),
    "ingress": ("#ede7f6", "#4527a0"),
}
PATH_COLOR = "#d81b60"
FONT = "Helvetica"


SERVICES_DRAWN = 12  # swarm services in the diagram's table, at most (the report lists every one)
GROUP_ABOVE = 80  # containers drawn; above it identical containers are grouped unless group=False
OVERVIEW_ABOVE = 150  # boxes after grouping; above it the scene is an overview (hosts as tables of classes)


@dataclass(frozen=True)
class DiagramOptions:
    hide_default: bool = False  # hide compose's implicit `default` network and an unused docker0
    group: bool | None = None  # one box per class of identical containers (None: above GROUP_ABOVE containers)
    host: str | None = None  # draw this host only
    network: str | None = None  # draw this network's containers only (with the networks they also join)


@dataclass(frozen=True)
class NetNode:
    id: str
    name: str
    kind: str  # a key of NET_STYLE
    host: str | None  # None: spans hosts (overlay)
    title: str
    lines: tuple[str, ...]


@dataclass(frozen=True)
class Published:
    bind: str
    host_port: str
    container_port: int
    protocol: str

    @property
    def scope(self) -> str:
        """``lan`` when bound on every address (or a non-loopback one), ``host`` on loopback."""
        return "host" if ip_address(self.bind).is_loopback else "lan"

    def __str__(self) -> str:
        where = "all interfaces" if ip_address(self.bind).is_unspecified else \
            ("loopback only" if self.scope == "host" else "this address only")
        bind = f"[{self.bind}]" if ":" in self.bind else self.bind
        return f"{bind}:{self.host_port} → {self.container_port}/{self.protocol} ({where})"


@dataclass(frozen=True)
class Box:
    """A container namespace (its members share it), or a group of identical replicas."""

    id: str
    host: str
    title: str
    members: tuple[str, ...]
    mode: str
    addresses: tuple[tuple[str, str, str], ...]  # (network node id, network name, address)
    listens: str
    published: tuple[Published, ...]
    notes: tuple[str, ...]
    tier: str
    home: str = ""  # node id of the group it is drawn in: its first network, an overlay, or the host's nic
    addresses6: tuple[str, ...] = ()  # the IPv6 address beside each of ``addresses`` ("" where it has none)


@dataclass(frozen=True)
class Edge:
    a: str
    b: str
    kind: str  # peer | lan | gateway | internal | attach | parent | vxlan | hostns | task | mesh
    port: str = ""  # the row of ``b`` the edge ends at (a container's address on that network)


@dataclass(frozen=True)
class HostNode:
    name: str
    nic: str  # node id of the host's LAN interface (the host namespace)
    title: str
    lan: str  # "eth0 192.168.1.10/24"
    networks: tuple[NetNode, ...]
    boxes: tuple[Box, ...]
    mesh: tuple[str, ...] = ()  # routing-mesh ports open on this node's addresses ("8080 → 80/tcp → web")


@dataclass(frozen=True)
class PathView:
    """A trace laid over the scene: nodes and edges in hop order, and the verdict."""

    title: str
    nodes: tuple[str, ...]
    edges: tuple[tuple[str, str], ...]
    verdict: str
    delivered: bool
    others: tuple[str, ...] = ()


@dataclass(frozen=True)
class ServiceCard:
    """A swarm service, drawn once: its lines (mode, endpoint, placement, ports) and the boxes of its
    tasks (``task`` edges join them)."""

    id: str  # "svc/<name>"
    name: str
    title: str
    lines: tuple[str, ...]


@dataclass(frozen=True)
class Scene:
    title: str
    lans: tuple[tuple[str, str], ...]  # (node id, label)
    peer: str  # label of the external LAN peer
    router: str | None
    hosts: tuple[HostNode, ...]
    overlays: tuple[NetNode, ...]
    edges: tuple[Edge, ...]
    path: PathView | None = None
    owner_of: dict = field(default_factory=dict, compare=False)  # container -> box id
    grouped: str = ""  # the legend's line when identical containers share a box ("" when every box is drawn)
    overview: bool = False  # too many boxes even grouped: each host drawn as one table of networks and classes
    listener_origins: tuple[str, ...] = ()  # the legend's lines: listeners learnt elsewhere than the file
    services: tuple[ServiceCard, ...] = ()  # swarm services, at most SERVICES_DRAWN
    services_left_out: int = 0  # swarm services not drawn (above SERVICES_DRAWN)
    ingress: NetNode | None = None  # the routing mesh's network, when a service publishes in ingress mode


# --- the scene --------------------------------------------------------------------------

def build_scene(design: Design, engine_version: str | None = None, options: DiagramOptions = DiagramOptions(),
                result: ReachResult | None = None, exposure: list[Exposure] | None = None) -> Scene:
    """Decide what the diagram shows, from the world and the exposure of ``design`` (``result``: its
    reachability matrix, ``exposure``: its exposure, when the caller has them already)."""
    result = result or compute_reach(design, engine_version)
    world = result.world
    tiers = _tiers(compute_exposure(result) if exposure is None else exposure)
    focus = options.network
    hidden = _hidden_networks(design, world, options)
    hosts = [h for h in design.hosts if options.host in (None, h.name)
             and (focus is None or _network_on(design, world, focus, h.name))]
    facts = _host_facts(design, world)
    per_host = {h.name: _boxes(design, world, facts[h.name], hidden, tiers, focus) for h in hosts}
    drawn = sum(len(b.members) for boxes in per_host.values() for b in boxes)
    before_boxes = per_host
    group = options.group if options.group is not None else drawn > GROUP_ABOVE
    grouped = ""
    overview = False
    if group:
        class_of = _class_of(result)
        before = sum(len(boxes) for boxes in per_host.values())
        per_host = {h: _group(boxes, class_of) for h, boxes in per_host.items()}
        shown = sum(len(boxes) for boxes in per_host.values())
        overview = options.group is None and shown > OVERVIEW_ABOVE
        if shown < before:
            grouped = (f"{drawn:,} containers drawn as {shown:,} boxes: ×N is N identical containers "
                       "(same networks, mode, ports; addresses as ranges); --no-group draws every one")
    elif options.group is None and any(c.service not in (None, c.name) or c.task_of for c in design.containers):
        # a scaled service is drawn once, with its replicas' addresses and ports as ranges
        class_of = _class_of(result)
        per_host = {h: _group(boxes, class_of, _replicas_only(design)) for h, boxes in per_host.items()}
        if sum(len(boxes) for boxes in per_host.values()) < sum(len(boxes) for boxes in before_boxes.values()):
            grouped = ("a service with replicas is drawn once: ×N is its N replicas (addresses and host ports as "
                       "ranges); --no-group draws every one")
    edges: list[Edge] = []
    lans: dict[str, str] = {}
    for h in hosts:
        lan_id = f"lan/{h.lan_address.network}"
        lans.setdefault(lan_id, f"LAN {h.lan_address.network}")
        if h.lan_address6 and str(h.lan_address6.network) not in lans[lan_id]:
            lans[lan_id] += f" · {h.lan_address6.network}"
    for lan_id in sorted(lans):
        edges.append(Edge(EXTERNAL, lan_id, "peer"))
    router = _router(design)
    if router:
        edges.extend(Edge(lan_id, "router", "peer") for lan_id in sorted(lans))

    overlays: dict[str, NetNode] = {}
    host_nodes, owner_of = [], {}
    views = [v for v in service_views(design, world) if focus is None or focus in v.networks]
    mesh = _mesh_by_node(views)
    for h in hosts:
        nic = f"nic/{h.name}"
        edges.append(Edge(f"lan/{h.lan_address.network}", nic, "lan"))
        boxes = per_host[h.name]
        wanted = None if focus is None else {a[1] for b in boxes for a in b.addresses} | {focus}
        nets = []
        for node in _networks(design, world, h.name, hidden):
            if wanted is not None and node.name not in wanted:
                continue
            if node.host is None:
                overlays[node.id] = node
                edges.append(Edge(nic, node.id, "vxlan"))
                continue
            nets.append(node)
            kind = "parent" if node.kind in ("macvlan", "ipvlan") else ("internal" if node.kind == "internal" else "gateway")
            edges.append(Edge(nic, node.id, kind))
        for box in boxes:
            owner_of.update({m: box.id for m in box.members})
            edges.extend(_box_edges(box, nic))
        title = f"host {h.name} · engine {world.version}"
        lan = f"{h.lan_interface} {h.lan_address}" + (f", {h.lan_address6}" if h.lan_address6 else "")
        host_nodes.append(HostNode(h.name, nic, title, lan, tuple(nets), tuple(boxes),
                                   tuple(mesh.get(h.name, ()))))
    if overview:  # the containers are rows of their host's table
        owner_of = {m: f"nic/{box.host}" for boxes in per_host.values() for box in boxes for m in box.members}
    cards = tuple(_card(v) for v in views[:SERVICES_DRAWN])
    if not overview:  # each drawn service joined to the boxes of its tasks
        edges.extend(Edge(card.id, owner_of[t.name], "task") for card in cards for t in design.tasks(card.name)
                     if t.name in owner_of)
    ingress = None
    if any(v.ingress for v in views):  # the ingress overlay, drawn with the ports it publishes on which nodes
        name = ingress_network(design)
        ingress = NetNode(f"net/{name}", name, "ingress", None, f"⇄ overlay {name} · routing mesh",
                          tuple(ingress_lines(design, world, views)))
        overlays.pop(ingress.id, None)
        meshed = {f"nic/{h.name}" for h in hosts if h.name in mesh}
        edges = [e for e in edges if not (e.b == ingress.id and e.kind == "vxlan" and e.a in meshed)]
        edges.extend(Edge(ingress.id, nic, "mesh") for nic in sorted(meshed))
    peer = _peer_label(world)
    title = f"{design.name} — engine {world.version}" + (f" — network {focus}" if focus else "")
    return Scene(title, tuple(sorted(lans.items())), peer, router, tuple(host_nodes),
                 tuple(overlays[k] for k in sorted(overlays)), tuple(_dedupe(edges)), None, owner_of, grouped, overview,
                 listener_origins=tuple(ORIGIN_TEXT[o] for o in learnt_elsewhere(design)),
                 services=cards, services_left_out=len(views) - len(cards), ingress=ingress)


def _card(view: ServiceView) -> ServiceCard:
    """A service's card: its name, mode and endpoint mode in the title; the rest as lines."""
    return ServiceCard(f"svc/{view.name}", view.name, f"⚙ {view.name} · {view.mode_text} · {view.endpoint_mode}",
                       tuple(view.lines()[1:]))


def _mesh_by_node(views: list[ServiceView]) -> dict[str, list[str]]:
    """Node -> the routing-mesh ports open on its addresses, as its namespace lists them."""
    out: dict[str, list[str]] = {}
    for v in views:
        for m in v.ingress:
            for node in m.open_on:
                out.setdefault(node, []).append(f"{m.text} → {v.name} (routing mesh)")
    return out


def _network_on(design: Design, world: World, network: str, host: str) -> bool:
    """Whether ``network`` has an instance on ``host`` (a local network's host, an overlay's hosts)."""
    seg = world.addressing.segment_of(network, host)
    if seg is None:
        return False
    return seg.host == host or host in network_hosts(design, design.network(network))


def with_path(scene: Scene, label: str, traces: list[tuple[str, Trace]]) -> Scene:
    """The scene with the first trace of ``traces`` highlighted hop by hop; the others listed."""
    import networkx as nx  # only a diagram with a path pays for it (a third of a second)

    graph = nx.Graph()
    graph.add_edges_from((e.a, e.b) for e in scene.edges if e.kind != "task")  # a service is no hop
    first_label, trace = traces[0]
    nodes: list[str] = []
    for hop in trace.hops:
        node = _hop_node(scene, hop.place)
        if node is not None and (not nodes or nodes[-1] != node):
            nodes.append(node)
    edges: list[tuple[str, str]] = []
    walked: list[str] = nodes[:1]
    for a, b in pairwise(nodes):
        try:
            steps = nx.shortest_path(graph, a, b)
        except (nx.NetworkXNoPath, nx.NodeNotFound):
            continue
        edges.extend(pairwise(steps))
        walked.extend(steps[1:])
    mark = "✔" if trace.delivered else "✘"
    verdict = f"{mark} {trace.disposition.value}: {trace.reason}"
    others = tuple(f"{'✔' if t.delivered else '✘'} {lbl}: {t.disposition.value}" for lbl, t in traces[1:])
    view = PathView(f"{label} — {first_label}", tuple(dict.fromkeys(walked)), tuple(edges), verdict, trace.delivered, others)
    return replace(scene, path=view)


def _hop_node(scene: Scene, place: Place) -> str | None:
    if place.kind == "container":
        return scene.owner_of.get(place.name)
    if place.kind == "host":
        return f"nic/{place.name}" if any(h.name == place.name for h in scene.hosts) else None
    return EXTERNAL


def _tiers(entries: list[Exposure]) -> dict[str, tuple[str, tuple[str, ...]]]:
    """Each container's worst audience, with how the LAN reaches it other than a published port.

    The host dialling an address on a bridge it owns does not count: every bridged container has that.
    """
    out: dict[str, tuple[str, tuple[str, ...]]] = {}
    for e in entries:
        if e.audience == "host" and e.through_kind is Through.ADDRESS:
            continue
        tier, why = out.get(e.container, ("internal", ()))
        if e.audience == "external":
            tier = "lan"
            if e.through_kind is not Through.PUBLISHED_PORT:
                why = tuple(dict.fromkeys((*why, f"LAN: {e.through}")))
        elif tier != "lan":
            tier = "host"
        out[e.container] = (tier, why)
    return out


def _hidden_networks(design: Design, world: World, options: DiagramOptions) -> set[str]:
    if not options.hide_default:
        return set()
    used = {ep.network for ep in world.addressing.endpoints.values()}
    hidden = {n.name for n in design.networks if n.default_bridge and n.name not in used}
    if design.kind == "compose" and design.has_network("default"):
        hidden.add("default")
    return hidden | {"docker0"}


def _router(design: Design) -> str | None:
    """A LAN router the design names: the gateway of a macvlan/ipvlan network on the LAN."""
    lans = {h.lan_address.network for h in design.hosts}
    gws = sorted({str(n.gateway) for n in design.networks
                  if n.driver in (Driver.MACVLAN, Driver.IPVLAN) and n.gateway and any(n.gateway in lan for lan in lans)})
    return f"router {', '.join(gws)} → Internet" if gws else None


def _peer_label(world: World) -> str:
    addrs = sorted({str(i.address.ip) for i in world.namespaces[EXTERNAL].interfaces.values() if i.address}, key=IPv4Address)
    if world.v6 is not None and EXTERNAL in world.v6.namespaces:  # its IPv6 addresses (hosts with an IPv6 LAN address)
        addrs += sorted({str(i.address.ip) for i in world.v6.namespaces[EXTERNAL].interfaces.values() if i.address})
    return f"LAN peer ({', '.join(addrs)})"


def _networks(design: Design, world: World, host: str, hidden: set[str]) -> list[NetNode]:
    """The network instances on ``host``: local segments, docker0 when unused, overlays."""
    out = []
    segs = [s for s in world.addressing.segments.values() if s.host in (host, None) and s.network not in hidden]
    for seg in segs:
        if seg.host is None and host not in network_hosts(design, design.network(seg.network)):
            continue
        out.append(_net_node(design, world, seg, host))
    if "docker0" not in hidden and not any(n.default_bridge for n in design.networks):
        subnet = world.addressing.docker0[host]
        daemon = design.host(host).daemon
        v6 = [f"IPv6 {daemon.fixed_cidr_v6}"] if daemon.ipv6 and daemon.fixed_cidr_v6 is not None else []
        out.append(NetNode(f"net/{host}/docker0", "docker0", "default-bridge", host, "⇆ docker0 · default bridge",
                           (f"{subnet}", *v6, "no containers")))
    return sorted(out, key=lambda n: (n.kind == "overlay", n.kind != "default-bridge", n.name))


def _net_node(design: Design, world: World, seg, host: str) -> NetNode:
    gw = f"gateway {seg.gateway}" if seg.gateway else "no gateway"
    seg6 = world.addressing.segment6_of(seg.network, host)
    v6 = [f"IPv6 {seg6.subnet}, gateway {seg6.gateway}"] if seg6 is not None else []
    open6 = seg6 is not None and not ip6tables_managed(design.host(host), world.version)  # no IPv6 rules written
    if seg.network == GWBRIDGE:
        return NetNode(f"net/{host}/{GWBRIDGE}", GWBRIDGE, "gwbridge", host, f"⇆ {GWBRIDGE} · overlay egress",
                       (str(seg.subnet), gw, "ICC off; carries published ports"))
    net = design.network(seg.network)
    if net.driver is Driver.OVERLAY:
        notes = [str(seg.subnet), *v6, f"VXLAN udp/4789 between {', '.join(net.hosts)}"]
        if net.encrypted:
            notes.append("encrypted (IPsec)")
        return NetNode(f"net/{net.name}", net.name, "overlay", None, f"⇄ overlay {net.name}", tuple(notes))
    if net.driver in (Driver.MACVLAN, Driver.IPVLAN):
        mode = net.mode or ("bridge" if net.driver is Driver.MACVLAN else "l2")
        parent = net.parent_interface or design.host(host).lan_interface
        notes = [str(seg.subnet), gw, *v6, f"on the LAN through {parent} ({mode} mode)"]
        if net.driver is Driver.MACVLAN:
            notes.append("the host cannot reach its children")
        return NetNode(f"net/{host}/{net.name}", net.name, net.driver.value, host, f"⇅ {net.driver.value} {net.name}", tuple(notes))
    device = seg.bridge or ""
    if net.default_bridge:
        return NetNode(f"net/{host}/{net.name}", net.name, "default-bridge", host, f"⇆ {device} · default bridge",
                       (str(seg.subnet), gw, *v6, "no embedded DNS", *(["⚠ IPv6 not filtered (ip6tables off)"] if open6 else [])))
    notes = [str(seg.subnet), gw, *v6]
    if net.internal:
        notes.append("⚠ INTERNAL over IPv4 only: IPv6 routed in and out (ip6tables off)" if open6
                     else "INTERNAL: no route in or out")
    elif open6:
        notes.append("⚠ IPv6 not filtered (ip6tables off): no isolation")
    if not net.icc:
        notes.append("ICC off (IPv4 only: ip6tables off)" if open6 else "ICC off")
    if net.gateway_mode != "nat":
        notes.append(f"gateway mode {net.gateway_mode}")
    return NetNode(f"net/{host}/{net.name}", net.name, "internal" if net.internal else "bridge", host,
                   f"⇆ {device} · {net.name}", tuple(notes))


def _net_id(world: World, network: str, host: str) -> str:
    seg = world.addressing.segment_of(network, host)
    return f"net/{network}" if seg is not None and seg.host is None else f"net/{host}/{network}"


@dataclass(frozen=True)
class _HostFacts:
    """What the boxes of one host read, gathered once: its containers, publications and ignored ports."""

    containers: tuple
    published: dict  # container -> its Published, by host port
    ignored: dict  # container -> why each of its ports was ignored


def _host_facts(design: Design, world: World) -> dict[str, _HostFacts]:
    by_host: dict[str, list] = {h.name: [] for h in design.hosts}
    for c in design.containers:
        by_host.setdefault(c.host, []).append(c)
    out = {}
    for host, containers in by_host.items():
        published: dict[str, list[Published]] = {}
        v6 = world.v6.bindings.get(host, []) if world.v6 is not None else []  # on the host's IPv6 addresses
        for b in sorted([*world.bindings.get(host, ()), *v6], key=lambda b: (b.host_port, b.protocol, b.host_ip.version, str(b.host_ip))):
            published.setdefault(b.container, []).append(Published(str(b.host_ip), str(b.host_port), b.container_port,
                                                                   b.protocol))
        ignored: dict[str, list[str]] = {}
        for name, why in world.ignored_ports.get(host, ()):
            ignored.setdefault(name, []).append(why)
        out[host] = _HostFacts(tuple(containers), published, ignored)
    return out


def _boxes(design: Design, world: World, facts: _HostFacts, hidden: set[str], tiers: dict,
           focus: str | None) -> list[Box]:
    """The boxes of one host's containers (with ``focus``: those on that network, drawn in its group)."""
    boxes = []
    for c in facts.containers:
        ns_id = world.ns_of.get(c.name)
        if c.mode.kind is ModeKind.CONTAINER and ns_id is not None:
            continue  # drawn inside its owner's box
        members = tuple(world.namespaces[ns_id].members) if ns_id and ns_id.startswith("ctr:") else (c.name,)
        box = _box(design, world, c, members, hidden, tiers, facts)
        if focus is not None:
            home = next((net_id for net_id, name, _ in box.addresses if name == focus), None)
            if home is None:
                continue
            box = replace(box, home=home)
        boxes.append(box)
    return boxes


def _box(design: Design, world: World, c, members: tuple[str, ...], hidden: set[str], tiers: dict,
         facts: _HostFacts) -> Box:
    notes: list[str] = []
    addresses: list[tuple[str, str, str]] = []
    addresses6: list[str] = []
    if c.mode.kind is ModeKind.HOST:
        mode = "host"
        notes.append("host network namespace: listens on every host address")
    elif c.mode.kind is ModeKind.NONE:
        mode = "none"
        notes.append("network none: loopback only")
    elif c.mode.kind is ModeKind.CONTAINER:
        mode = "container"
        notes.append(f"namespace of {c.mode.target}, which is not in the design")
    else:
        mode = "networks"
        eps = sorted(world.addressing.endpoints_of(c.name), key=lambda e: (e.network == GWBRIDGE, e.network))
        addresses = [(_net_id(world, ep.network, c.host), ep.network, str(ep.address)) for ep in eps if ep.network not in hidden]
        v6 = [world.addressing.endpoint6(c.name, ep.network) for ep in eps if ep.network not in hidden]
        addresses6 = [str(ep6.address) if ep6 is not None else "" for ep6 in v6] if any(v6) else []
        gateway = world.namespace_of(c.name).gateway_network
        if len(eps) > 1 and gateway:
            notes.append(f"default route via {gateway}")
    notes.extend(f"shares {c.name}'s namespace: {m}" for m in members[1:])
    if c.task_of:
        notes.append(f"a task of swarm service {c.task_of}")
    published = tuple(p for m in members for p in facts.published.get(m, ()))
    if len(members) > 1:
        published = tuple(sorted(published, key=lambda p: (int(p.host_port), p.protocol, p.bind)))
    notes.extend(f"port ignored: {why}" for m in members for why in facts.ignored.get(m, ()))
    tier = min((tiers.get(m, ("internal",))[0] for m in members), key=TIERS.index)
    notes.extend(why for m in members for why in tiers.get(m, ("", ()))[1])
    title = " + ".join(members)
    first = [a for name in c.networks for a in addresses if a[1] == name]  # its first network in the design
    home = (first or addresses)[0][0] if addresses else f"nic/{c.host}"
    return Box(f"ctr/{c.name}", c.host, title, members, mode, tuple(addresses), _listens(design, members), published,
               tuple(notes), tier, home, tuple(addresses6))


def _listens(design: Design, members: tuple[str, ...]) -> str:
    """A box's listens line: ports by protocol, marked with their origin when learnt elsewhere than the file
    ("3306/tcp [catalogue]"), or "unknown" (docs/listeners.md)."""
    return listens_text([lst for m in members for lst in design.container(m).listeners],
                        any(design.container(m).listeners_unknown for m in members))


def _listens_text(listens: list[tuple[int, str]]) -> str:
    by_proto: dict[str, list[str]] = {}
    for port, proto in listens:
        by_proto.setdefault(proto, []).append(str(port))
    return " · ".join(f"{', '.join(ports)}/{proto}" for proto, ports in sorted(by_proto.items()))


def _box_edges(box: Box, nic: str) -> list[Edge]:
    if box.mode == "host":
        return [Edge(nic, box.id, "hostns")]
    return [Edge(net_id, box.id, "attach", f"a{i}") for i, (net_id, _, _) in enumerate(box.addresses)]


# --- classes of identical containers ----------------------------------------------------------

_IPV4 = re.compile(r"\d+\.\d+\.\d+\.\d+")


def _class_of(result: ReachResult) -> dict[str, ContainerClass]:
    """Container name -> its class of identical containers (:mod:`simulator.analysis.classes`)."""
    return {m: cls for cls in result.classes for m in cls.members}


def _replicas_only(design: Design) -> Callable[[Box], bool]:
    """Whether a box is a replica of a scaled service (a compose service or a netsim container with
    replicas) or a task of a swarm service."""
    def replica(box: Box) -> bool:
        return all(design.has_container(m) and (design.container(m).service not in (None, m) or design.container(m).task_of)
                   for m in box.members)
    return replica


def _group(boxes: list[Box], class_of: dict[str, ContainerClass], which: Callable[[Box], bool] | None = None) -> list[Box]:
    """One box per class of identical containers (a box of several members: the classes of all of them),
    with its addresses and host ports as ranges; the group keeps its first member's place. ``which``:
    only these boxes are grouped, the others drawn as they are."""
    groups: dict[tuple, list[Box]] = {}
    for at, box in enumerate(boxes):
        shape = (len(box.addresses), len(box.published), len(box.addresses6))
        classes = tuple(class_of[m].id for m in box.members)
        key = (box.home, classes, shape) if which is None or which(box) else (at,)
        groups.setdefault(key, []).append(box)
    out = []
    for members in groups.values():
        first = members[0]
        if len(members) == 1:
            out.append(first)
            continue
        names = tuple(m for b in members for m in b.members)
        addresses = tuple((net_id, name, _span([b.addresses[i][2] for b in members]))
                          for i, (net_id, name, _) in enumerate(first.addresses))
        addresses6 = tuple(_span([b.addresses6[i] for b in members]) if first.addresses6[i] else ""
                           for i in range(len(first.addresses6)))
        published = tuple(Published(p.bind, _span([b.published[i].host_port for b in members]), p.container_port, p.protocol)
                          for i, p in enumerate(first.published))
        alike = set.intersection(*(set(b.notes) for b in members))  # the same for all (a service's virtual IP)
        notes = tuple(dict.fromkeys(n if n in alike else _IPV4.sub("…", n) for b in members for n in b.notes))
        owner = class_of[first.members[0]]  # the class of the namespace's owner names the group
        title = owner.id if len(members) == owner.size else f"{owner.id}: {len(members)} of them"
        out.append(Box(first.id, first.host, title, names, first.mode, addresses, first.listens, published, notes,
                       first.tier, first.home, addresses6))
    return out


def _span(values: list[str]) -> str:
    return values[0] if len(values) == 1 else f"{values[0]} … {values[-1]}"


def _dedupe(edges: list[Edge]) -> list[Edge]:
    return list(dict.fromkeys(edges))


# --- DOT ------------------------------------------------------------------------------------

_SAFE_ID = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_./-]*")


def dot_id(key: str) -> str:
    """The DOT node id of a scene node: the key itself when it is made of letters, digits and
    ``_./-`` (every Docker name is), else ``h-`` and a hash of it. Names are shown in labels only,
    so a name holding ``:`` (DOT's port syntax), quotes, backslashes or control characters
    cannot break the DOT text or make Graphviz refuse it."""
    if _SAFE_ID.fullmatch(key):
        return key
    return "h-" + hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()[:20]


def escape(text: str) -> str:
    """Text for a Graphviz HTML-like label: control characters shown as escapes, markup escaped."""
    return _html_escape(printable(text))


# sizes in points for choosing the wrapping: a network's switch (head), the host's namespace, the top
# (title, legend, LAN), graphviz's nodesep and ranksep as set in render_dot, gaps around clusters
NET_W, HEAD_H, NIC_H, TOP_H, NODESEP, RANKSEP, GAP = 170.0, 110.0, 70.0, 260.0, 18.0, 32.0, 40.0
AREA_WEIGHT = 0.25  # how much a smaller picture counts against the aspect
OTHER_EDGES_UP_TO = 30  # boxes; above it a box's other networks are its rows only, not edges across the picture
ASPECT = 1.5  # the width/height the wrapping aims at (a landscape page)
SIDE_BY_SIDE = 4  # up to this many hosts sit side by side (graphviz cannot align bands of clusters below each other)


@dataclass(frozen=True)
class _Group:
    """The boxes drawn under one head (a network's switch, an overlay, the host's namespace), in rows."""

    key: str  # the node id of the head
    head_inside: bool  # the head is a node of this group's cluster (a local network)
    label: str  # the cluster's label ("" for a local network: its switch says it)
    style: str  # a key of NET_STYLE, or "host"
    boxes: tuple[Box, ...]


def groups_of(scene: Scene, host: HostNode) -> list[_Group]:
    by_home: dict[str, list[Box]] = {}
    for box in host.boxes:
        by_home.setdefault(box.home, []).append(box)
    groups = [_Group(host.nic, False, "on the host's namespace", "host", tuple(by_home.pop(host.nic)))] \
        if host.nic in by_home else []
    groups.extend(_Group(n.id, True, "", n.kind, tuple(by_home.pop(n.id, ()))) for n in host.networks)
    groups.extend(_Group(o.id, False, f"{o.title} · on {host.name}", "overlay", tuple(by_home.pop(o.id)))
                  for o in scene.overlays if o.id in by_home)
    for home, boxes in by_home.items():  # a home not drawn (cannot happen with the scene's own boxes)
        groups.append(_Group(home, False, "", "host", tuple(boxes)))
    return [g for g in groups if not g.boxes] + [g for g in groups if g.boxes]  # the empty ones share the first shelf


@dataclass(frozen=True)
class _Wrap:
    """How the picture wraps: rows of boxes per group, the width of a shelf of groups (points), hosts per band."""

    rows: int
    shelf: float
    per_band: int


@dataclass(frozen=True)
class _Block:
    """A group's size for the wrapping: its boxes and the largest box (points, as laid out)."""

    count: int
    width: float
    height: float

    def cols(self, rows: int) -> int:
        return max(1, -(-self.count // rows))

    def size(self, rows: int) -> tuple[float, float]:
        deep = min(rows, self.count)
        return self.cols(rows) * (self.width + NODESEP), HEAD_H + deep * (self.height + RANKSEP)


def _box_size(box: Box) -> tuple[float, float]:
    """About the size graphviz gives :func:`_box_label` (10 pt Helvetica: ~5.6 pt a character)."""
    widths = [len(box.title) + 4, *(len(n) + len(a) + 4 for _, n, a in box.addresses),
              *(len(a) + 12 for a in box.addresses6)]
    lines = 1 + len(box.addresses) + sum(1 for a in box.addresses6 if a)
    if box.listens:
        widths.append(len(box.listens) + 10)
        lines += 1
    widths += [len(str(p)) + 14 for p in box.published]
    lines += len(box.published)
    for note in box.notes:
        wrapped = _wrap(note, 48)
        widths.extend(len(x) for x in wrapped)
        lines += len(wrapped)
    return max(widths) * 5.6 + 12, lines * 15.5 + 8


def _blocks(scene: Scene, host: HostNode) -> list[_Block]:
    out = []
    for group in groups_of(scene, host):
        sizes = [_box_size(b) for b in group.boxes]
        out.append(_Block(len(sizes), max((w for w, _ in sizes), default=NET_W), max((h for _, h in sizes), default=0)))
    return out


def _shelves(blocks: list[_Block], rows: int, shelf: float) -> list[list[int]]:
    """Group indices packed in order into shelves at most ``shelf`` points wide (one group at least)."""
    out: list[list[int]] = [[]]
    used = 0.0
    for i, block in enumerate(blocks):
        width = max(block.size(rows)[0], NET_W)
        if out[-1] and used + width > shelf:
            out.append([])
            used = 0.0
        out[-1].append(i)
        used += width
    return out


def _host_size(blocks: list[_Block], rows: int, shelf: float) -> tuple[float, float, int]:
    """(width, height, ranks) of one host drawn with this wrapping, in points and ranks."""
    width = height = 0.0
    ranks = 1
    for part in _shelves(blocks, rows, shelf):
        width = max(width, sum(max(blocks[i].size(rows)[0], NET_W) for i in part))
        height += max(blocks[i].size(rows)[1] for i in part)
        ranks += 2 + max(min(rows, blocks[i].count) for i in part)
    return width + GAP, height + NIC_H + GAP, ranks


def wrapping(scene: Scene) -> _Wrap:
    """The wrapping that brings the picture nearest :data:`ASPECT` (a little weight on its area)."""
    hosts = [_blocks(scene, h) for h in scene.hosts]
    if not hosts:
        return _Wrap(1, 1.0, 1)
    biggest = max((b.count for bs in hosts for b in bs), default=1) or 1
    widest = max(sum(max(b.size(1)[0], NET_W) for b in bs) for bs in hosts)
    best = (float("inf"), _Wrap(1, widest, 1))
    row_choices = sorted({max(1, -(-biggest // c)) for c in range(1, min(biggest, 24) + 1)})
    band_choices = sorted({min(len(hosts), k) for k in range(1, 13)} | {len(hosts)})
    for rows in row_choices:
        widest = max(sum(max(b.size(rows)[0], NET_W) for b in bs) for bs in hosts)
        for shelf in sorted({widest / k for k in range(1, 13)}):
            dims = [_host_size(bs, rows, shelf) for bs in hosts]
            for per_band in band_choices:
                bands = [dims[i:i + per_band] for i in range(0, len(dims), per_band)]
                width = max(sum(d[0] for d in band) for band in bands)
                height = sum(max(d[1] for d in band) for band in bands) + TOP_H
                cost = abs(math.log(width / height / ASPECT)) + AREA_WEIGHT * math.log(width * height)
                if cost < best[0]:
                    best = (cost, _Wrap(rows, shelf, per_band))
    return best[1]


def render_dot(scene: Scene) -> str:
    """The scene as Graphviz DOT source (top to bottom, one cluster per host and per network, a legend);
    a scene at the overview level draws each host as one table (:func:`_overview_label`).

    Node ids come from :func:`dot_id`; every text from the design goes through :func:`escape`."""
    import graphviz  # only DOT pays for it (Mermaid does not)

    g = graphviz.Digraph("netsim", graph_attr={
        "rankdir": "TB", "ordering": "out", "nodesep": "0.25", "ranksep": "0.45", "newrank": "true", "compound": "true",
        "fontname": FONT, "fontsize": "16", "labelloc": "t", "label": _graph_label(scene), "bgcolor": "white",
    }, node_attr={"shape": "plain", "fontname": FONT, "fontsize": "10"}, edge_attr={"arrowhead": "none", "color": "#78909c"})
    path = scene.path
    on_path = set(path.nodes) if path else set()
    on_edges = {frozenset(e) for e in path.edges} if path else set()
    with g.subgraph(name="top") as top:
        top.attr(rank="same")
        top.node(dot_id(EXTERNAL), _simple_label(scene.peer, "#fafafa", "#424242", EXTERNAL in on_path, shape="⌂"))
        if scene.router:
            top.node(dot_id("router"), _simple_label(scene.router, "#fafafa", "#424242", "router" in on_path))
        rows_only = not scene.overview and sum(len(h.boxes) for h in scene.hosts) > OTHER_EDGES_UP_TO
        top.node("legend", _legend(scene.grouped, scene.overview, rows_only, origins=scene.listener_origins,
                                   services=bool(scene.services), ingress=scene.ingress is not None))
        if scene.services:
            top.node(SERVICES_NODE, _services_label(scene))
    with g.subgraph(name="lans") as lans:
        lans.attr(rank="same")
        for lan_id, label in scene.lans:
            lans.node(dot_id(lan_id), _simple_label(label, "#eceff1", "#37474f", lan_id in on_path, shape="═"))
        for net in () if scene.overview else scene.overlays:  # the overview lists them in each host
            lans.node(dot_id(net.id), _net_label(net, net.id in on_path))
        if scene.ingress is not None:
            lans.node(dot_id(scene.ingress.id), _net_label(scene.ingress, False))
    if scene.overview:
        _draw_overview(g, scene, on_path, on_edges)
    else:
        _draw_detail(g, scene, on_path, on_edges)
    if path:
        last = path.nodes[-1]
        g.node("verdict", _simple_label(path.verdict, "#ffffff" if path.delivered else "#fce4ec",
                                        "#2e7d32" if path.delivered else PATH_COLOR, True, wrap=60))
        g.edge(dot_id(last), "verdict", color=PATH_COLOR, style="dashed", penwidth="2", constraint="false")
    return g.source


def _draw_detail(g, scene: Scene, on_path: set[str], on_edges: set[frozenset]) -> None:
    """Hosts as clusters, each network a cluster with its boxes in rows, groups packed in shelves."""
    wrap = wrapping(scene)
    others = sum(len(h.boxes) for h in scene.hosts) <= OTHER_EDGES_UP_TO
    homes: dict[str, str] = {}  # box id -> its group's head
    ranks = {}  # host nic -> ranks it spans
    for index, host in enumerate(scene.hosts):
        groups = groups_of(scene, host)
        blocks = _blocks(scene, host)
        ranks[host.nic] = _host_size(blocks, wrap.rows, wrap.shelf)[2]
        if index >= wrap.per_band:  # the next band of hosts hangs below this host
            above = scene.hosts[index - wrap.per_band].nic
            g.edge(dot_id(above), dot_id(host.nic), style="invis", minlen=str(ranks[above] + 1), weight="10")
        with g.subgraph(name=f"cluster_{dot_id(host.name)}") as sub:
            sub.attr(label=f"<<B>{escape(host.title)}</B>>", style="rounded", color="#37474f", penwidth="2",
                     fontname=FONT, fontsize="13", labeljust="l", margin="12")
            sub.node(dot_id(host.nic), _nic_label(host, host.nic in on_path))
            offset = 0
            for part in _shelves(blocks, wrap.rows, wrap.shelf):
                for number in part:
                    group = groups[number]
                    homes.update({b.id: group.key for b in group.boxes})
                    _draw_group(g, sub, host, number, group, wrap.rows, offset, on_path)
                offset += 2 + max(min(wrap.rows, blocks[i].count) for i in part)
    ports = {card.id: f"s{i}" for i, card in enumerate(scene.services)}
    for e in scene.edges:
        highlighted = frozenset((e.a, e.b)) in on_edges
        attrs = _edge_attrs(e.kind, highlighted)
        if e.kind == "task":  # from the service's row of the services table
            g.edge(f"{SERVICES_NODE}:{ports[e.a]}:w", dot_id(e.b), constraint="false", **attrs)
            continue
        if e.kind == "attach" and (homes.get(e.b) == e.a or not others):
            if not highlighted:
                continue  # the box sits in that network's group, or its rows name its other networks
            attrs["constraint"] = "false"
        elif e.kind in ("attach", "hostns", "vxlan", "gateway", "internal", "parent", "mesh"):
            attrs["constraint"] = "false"  # the shelves place them (invisible edges with their lengths)
        head = f"{dot_id(e.b)}:{e.port}:w" if e.port else dot_id(e.b)
        g.edge(dot_id(e.a), head, **attrs)


def _draw_group(g, sub, host: HostNode, number: int, group: _Group, rows: int, offset: int, on_path: set[str]) -> None:
    """One group's cluster: its head (a local network's switch) and its boxes in ``rows`` rows, each
    row hung below the previous one by invisible edges (graphviz puts one rank in one row); ``offset``
    ranks below the host's first shelf."""
    fill, border = NET_STYLE.get(group.style, ("#fafafa", "#90a4ae"))
    with sub.subgraph(name=f"cluster_{dot_id(host.name)}_{number}") as cl:
        cl.attr(label=f"<<I>{escape(group.label)}</I>>" if group.label else "", style="rounded,filled",
                fillcolor=_lighter(fill), color=border, penwidth="1", fontsize="11", labeljust="l", margin="8")
        if group.head_inside:
            net = next(n for n in host.networks if n.id == group.key)
            cl.node(dot_id(net.id), _net_label(net, net.id in on_path))
        for box in group.boxes:
            cl.node(dot_id(box.id), _box_label(box, box.id in on_path))
    nic = dot_id(host.nic)
    if group.head_inside:
        g.edge(nic, dot_id(group.key), style="invis", minlen=str(1 + offset))
    cols = max(1, -(-len(group.boxes) // rows))
    for i, box in enumerate(group.boxes):
        if i >= cols:
            g.edge(dot_id(group.boxes[i - cols].id), dot_id(box.id), style="invis")
        elif group.head_inside:
            g.edge(dot_id(group.key), dot_id(box.id), style="invis")
        else:
            g.edge(nic, dot_id(box.id), style="invis", minlen=str(2 + offset))


def _draw_overview(g, scene: Scene, on_path: set[str], on_edges: set[frozenset]) -> None:
    """One node per host: a table of its networks (overlays included), each listing its classes with
    counts; hosts in rows chosen to bring the picture near :data:`ASPECT`."""
    labels = [_overview_label(scene, host, host.nic in on_path) for host in scene.hosts]
    sizes = [size for _, size in labels]
    per_row = _hosts_per_row(sizes)
    for index, host in enumerate(scene.hosts):
        if index >= per_row:
            g.edge(dot_id(scene.hosts[index - per_row].nic), dot_id(host.nic), style="invis")
        g.node(dot_id(host.nic), labels[index][0])
    many = len(scene.hosts) > SIDE_BY_SIDE  # a fan of LAN edges to every host says nothing the tables do not
    for e in scene.edges:
        if e.kind == "peer" or (e.kind == "lan" and not many):
            g.edge(dot_id(e.a), dot_id(e.b), **_edge_attrs(e.kind, frozenset((e.a, e.b)) in on_edges))
    if many and scene.hosts:  # hang the first row of hosts below the LAN, unseen
        for lan_id, _ in scene.lans:
            g.edge(dot_id(lan_id), dot_id(scene.hosts[0].nic), style="invis")


def _hosts_per_row(sizes: list[tuple[float, float]]) -> int:
    best = (float("inf"), 1)
    for per_row in range(1, len(sizes) + 1):
        rows = [sizes[i:i + per_row] for i in range(0, len(sizes), per_row)]
        width = max(sum(w for w, _ in row) for row in rows)
        height = sum(max(h for _, h in row) for row in rows) + TOP_H
        cost = abs(math.log(width / height / ASPECT))
        if cost < best[0]:
            best = (cost, per_row)
    return best[1]


def _overview_label(scene: Scene, host: HostNode, highlighted: bool) -> tuple[str, tuple[float, float]]:
    """A host as one table, and about its size in points: its LAN address, then its networks in rows,
    each a column of its classes (count, ports, published ports; coloured by exposure)."""
    cells: list[tuple[str, float, float]] = []
    for group in groups_of(scene, host):
        if not group.boxes and group.style in ("gwbridge", "default-bridge"):
            continue  # the engine's own bridges, unused: nothing to read in an overview
        lines: tuple[str, ...]
        if group.style == "host":
            title, fill, border, lines = "▣ host namespace", "#eceff1", "#37474f", ("host networking",)
        elif group.style == "overlay":
            net = next(o for o in scene.overlays if o.id == group.key)
            title, (fill, border), lines = net.title, NET_STYLE["overlay"], net.lines[:1]
        else:
            net = next(n for n in host.networks if n.id == group.key)
            title, (fill, border), lines = net.title, NET_STYLE[net.kind], net.lines[:1]
        count = sum(len(b.members) for b in group.boxes)
        first = lines[0] if lines else ""
        texts = [title, f"{first} · {count} container{'s' * (count != 1)}"]
        rows = [f'<TR><TD BGCOLOR="{border}" ALIGN="LEFT"><FONT COLOR="white"><B>{escape(title)}</B></FONT></TD></TR>',
                f'<TR><TD BGCOLOR="{fill}" ALIGN="LEFT">{escape(texts[1])}</TD></TR>']
        for box in group.boxes:
            text = title_on(box, host.name) + (f" · {box.listens}" if box.listens else "")
            texts.append(text)
            rows.append(f'<TR><TD BGCOLOR="{TIER_FILL[box.tier]}" ALIGN="LEFT">{escape(text)}</TD></TR>')
            for p in box.published:
                mark = "⚠ " if p.scope == "lan" else ""
                texts.append(f"   {mark}{p}")
                rows.append(f'<TR><TD BGCOLOR="{TIER_FILL[box.tier]}" ALIGN="LEFT"><FONT COLOR="{TIER_LINE[p.scope]}">'
                            f'   {mark}{escape(str(p))}</FONT></TD></TR>')
        table = (f'<TABLE BORDER="1" CELLBORDER="0" CELLSPACING="0" CELLPADDING="2" COLOR="{border}">'
                 + "".join(rows) + "</TABLE>")
        cells.append((table, max(len(t) for t in texts) * 5.6 + 16, len(texts) * 16.0 + 6))
    cells.sort(key=lambda c: -c[2])  # a row of cells is as tall as its tallest: like heights together
    per_row = _hosts_per_row([(w, h) for _, w, h in cells]) if cells else 1
    body, width, height = [], 0.0, 0.0
    for i in range(0, len(cells), per_row):
        part = cells[i:i + per_row]
        body.append("<TR>" + "".join(f'<TD VALIGN="TOP">{c}</TD>' for c, _, _ in part) + "</TR>")
        width = max(width, sum(w + 4 for _, w, _ in part))
        height += max(h for _, _, h in part) + 4
    span = min(len(cells), per_row) or 1
    members = sum(len(b.members) for b in host.boxes)
    head = (f'<TR><TD COLSPAN="{span}" BGCOLOR="#cfd8dc" ALIGN="LEFT"><B>▣ {escape(host.title)}</B> · '
            f'{escape(host.lan)} · {members} container{"s" * (members != 1)}</TD></TR>')
    color = PATH_COLOR if highlighted else "#263238"
    label = (f'<<TABLE BORDER="{3 if highlighted else 2}" CELLBORDER="0" CELLSPACING="4" CELLPADDING="0" COLOR="{color}">'
             + head + ("".join(body) or '<TR><TD>no networks</TD></TR>') + "</TABLE>>")
    return label, (max(width, 5.6 * (len(host.title) + len(host.lan) + 20)) + NODESEP, height + 30 + RANKSEP)


def title_on(box: Box, host: str) -> str:
    """A box's title inside its host's drawing: a class id's ``on HOST`` is said by the host already."""
    suffix = f" on {host}"
    return box.title[:-len(suffix)] if box.title.endswith(suffix) else box.title


def _lighter(color: str) -> str:
    """``color`` mixed half with white: a group's background behind its boxes."""
    r, gr, b = (int(color[i:i + 2], 16) for i in (1, 3, 5))
    return "#" + "".join(f"{(v + 255) // 2:02x}" for v in (r, gr, b))


def _graph_label(scene: Scene) -> str:
    rows = [f"<B>{escape(scene.title)}</B>"]
    if scene.path:
        rows.append(f'<FONT COLOR="{PATH_COLOR}">path: {escape(scene.path.title)}</FONT>')
        rows.extend(f'<FONT POINT-SIZE="11">{escape(o)}</FONT>' for o in scene.path.others)
    return "<" + "<BR/>".join(rows) + ">"


def _edge_attrs(kind: str, highlighted: bool) -> dict[str, str]:
    attrs = {
        "peer": {"color": "#9e9e9e"},
        "lan": {"color": "#37474f", "penwidth": "2"},
        "gateway": {"color": "#1565c0"},
        "internal": {"color": "#6a1b9a", "style": "dashed"},
        "attach": {"color": "#78909c"},
        "parent": {"color": "#f9a825", "penwidth": "2"},
        "vxlan": {"color": "#00838f", "penwidth": "3", "style": "dashed"},
        "hostns": {"color": "#37474f", "style": "bold"},
        "task": {"color": "#6d4c41", "style": "dotted", "penwidth": "1.5"},
        "mesh": {"color": NET_STYLE["ingress"][1], "penwidth": "3", "style": "dashed"},
    }[kind]
    if highlighted:
        attrs = {**attrs, "color": PATH_COLOR, "penwidth": "4"}
    return attrs


def _table(rows: list[str], border: str, highlighted: bool, style: str = "rounded") -> str:
    color = PATH_COLOR if highlighted else border
    width = "3" if highlighted else "1"
    return (f'<<TABLE BORDER="{width}" CELLBORDER="0" CELLSPACING="0" CELLPADDING="3" COLOR="{color}" STYLE="{style}">'
            + "".join(rows) + "</TABLE>>")


def _simple_label(text: str, fill: str, border: str, highlighted: bool, shape: str = "", wrap: int = 0) -> str:
    lines = _wrap(text, wrap) if wrap else [text]
    head = f"{shape} " if shape else ""
    body = "<BR/>".join(escape(line) for line in lines)
    return _table([f'<TR><TD BGCOLOR="{fill}"><B>{escape(head)}{body}</B></TD></TR>'], border, highlighted)


def _nic_label(host: HostNode, highlighted: bool) -> str:
    rows = [f'<TR><TD BGCOLOR="#cfd8dc"><B>▣ {escape(host.name)} host namespace</B></TD></TR>',
            f'<TR><TD BGCOLOR="#eceff1">{escape(host.lan)}</TD></TR>']
    rows.extend(f'<TR><TD BGCOLOR="#eceff1" ALIGN="LEFT"><FONT COLOR="{TIER_LINE["lan"]}"><B>⚠ {escape(m)}</B></FONT></TD></TR>'
                for m in host.mesh)
    return _table(rows, "#263238", highlighted)


SERVICES_NODE = "services"  # the DOT node of the swarm services' table
SERVICE_FILL, SERVICE_LINE = "#efebe9", "#6d4c41"


def _services_label(scene: Scene) -> str:
    """The swarm services as one table: a block per service (its title row is the port its dotted
    lines to its tasks leave from), lines wrapped; a ``⚠`` line (a port the LAN reaches) in red."""
    rows = [f'<TR><TD BGCOLOR="{SERVICE_LINE}" ALIGN="LEFT"><FONT COLOR="white"><B>swarm services</B></FONT></TD></TR>']
    for i, card in enumerate(scene.services):
        rows.append(f'<TR><TD PORT="s{i}" BGCOLOR="{SERVICE_FILL}" ALIGN="LEFT"><B>{escape(card.title)}</B></TD></TR>')
        for line in card.lines:
            text = "".join(f'{escape(x)}<BR ALIGN="LEFT"/>' for x in _wrap(line, 60))
            if line.startswith("⚠"):
                text = f'<FONT COLOR="{TIER_LINE["lan"]}">{text}</FONT>'
            rows.append(f'<TR><TD ALIGN="LEFT">{text}</TD></TR>')
    if scene.services_left_out:
        rows.append(f'<TR><TD ALIGN="LEFT"><I>… and {scene.services_left_out} more service(s): netsim report '
                    'lists every one</I></TD></TR>')
    return ('<<TABLE BORDER="1" CELLBORDER="0" CELLSPACING="0" CELLPADDING="2" COLOR="' + SERVICE_LINE + '">'
            + "".join(rows) + "</TABLE>>")


def _net_label(net: NetNode, highlighted: bool) -> str:
    fill, border = NET_STYLE[net.kind]
    rows = [f'<TR><TD BGCOLOR="{border}"><FONT COLOR="white"><B>{escape(net.title)}</B></FONT></TD></TR>']
    rows.extend(f'<TR><TD BGCOLOR="{fill}">{"<BR/>".join(escape(x) for x in _wrap(line, 48))}</TD></TR>'
                for line in net.lines)
    style = "dashed" if net.kind in ("internal", "default-bridge") else "rounded"
    return _table(rows, border, highlighted, style)


def _box_label(box: Box, highlighted: bool) -> str:
    fill, line = TIER_FILL[box.tier], TIER_LINE[box.tier]
    rows = [f'<TR><TD COLSPAN="2" BGCOLOR="{fill}"><B>{escape(title_on(box, box.host))}</B></TD></TR>']
    for i, (_, network, address) in enumerate(box.addresses):
        v6 = box.addresses6[i] if i < len(box.addresses6) else ""
        shown = escape(address) + (f'<BR ALIGN="LEFT"/>{escape(v6)}' if v6 else "")
        rows.append(f'<TR><TD ALIGN="LEFT" PORT="a{i}">{escape(network)}</TD><TD ALIGN="LEFT">{shown}</TD></TR>')
    if box.listens:
        rows.append(f'<TR><TD ALIGN="LEFT">listens</TD><TD ALIGN="LEFT">{escape(box.listens)}</TD></TR>')
    for p in box.published:
        color = TIER_LINE[p.scope]
        mark = "⚠ " if p.scope == "lan" else ""
        rows.append(f'<TR><TD ALIGN="LEFT"><FONT COLOR="{color}"><B>publishes</B></FONT></TD>'
                    f'<TD ALIGN="LEFT"><FONT COLOR="{color}"><B>{mark}{escape(str(p))}</B></FONT></TD></TR>')
    for note in box.notes:
        text = "".join(f'{escape(line)}<BR ALIGN="LEFT"/>' for line in _wrap(note, 48))
        rows.append(f'<TR><TD COLSPAN="2" ALIGN="LEFT"><I>{text}</I></TD></TR>')
    return _table(rows, line, highlighted, "solid")


def _legend(grouped: str = "", overview: bool = False, rows_only: bool = False, origins: tuple[str, ...] = (),
            services: bool = False, ingress: bool = False) -> str:
    rows = ['<TR><TD COLSPAN="2"><B>legend</B></TD></TR>']
    if services:
        rows.append(f'<TR><TD><FONT COLOR="{_edge_attrs("task", False)["color"]}"><B>⚙ ┈</B></FONT></TD>'
                    '<TD ALIGN="LEFT">a swarm service, drawn once; dotted lines lead to its tasks</TD></TR>')
    if ingress:
        rows.append(f'<TR><TD BGCOLOR="{NET_STYLE["ingress"][1]}"> </TD><TD ALIGN="LEFT">ingress: the routing mesh '
                    '(dashed to the nodes whose addresses publish its ports)</TD></TR>')
    if rows_only:
        rows.append('<TR><TD><B>⇆</B></TD><TD ALIGN="LEFT">a container sits in its first network; '
                    'its other networks are rows of its box</TD></TR>')
    if overview:
        rows.append('<TR><TD><B>▣</B></TD><TD ALIGN="LEFT">overview: each host lists its networks and their classes;<BR ALIGN="LEFT"/>'
                    'netsim diagram --focus NETWORK|HOST draws one in detail<BR ALIGN="LEFT"/></TD></TR>')
    if grouped:
        text = "".join(f'{escape(line)}<BR ALIGN="LEFT"/>' for line in _wrap(grouped, 56))
        rows.append(f'<TR><TD><B>×N</B></TD><TD ALIGN="LEFT">{text}</TD></TR>')
    for tier in TIERS:
        rows.append(f'<TR><TD BGCOLOR="{TIER_FILL[tier]}" WIDTH="28"> </TD><TD ALIGN="LEFT">{escape(TIER_TEXT[tier])}</TD></TR>')
    names = {"default-bridge": "default bridge (docker0: no DNS)", "bridge": "user-defined bridge",
             "internal": "internal network (no route in or out)", "gwbridge": "docker_gwbridge (overlay egress)",
             "macvlan": "macvlan / ipvlan: on the LAN", "overlay": "overlay: VXLAN between hosts"}
    for kind, text in names.items():
        rows.append(f'<TR><TD BGCOLOR="{NET_STYLE[kind][1]}"> </TD><TD ALIGN="LEFT">{escape(text)}</TD></TR>')
    rows.append(f'<TR><TD><FONT COLOR="{TIER_LINE["lan"]}"><B>⚠</B></FONT></TD>'
                f'<TD ALIGN="LEFT"><FONT COLOR="{TIER_LINE["lan"]}">published on 0.0.0.0 / a LAN address</FONT></TD></TR>')
    rows.append(f'<TR><TD> </TD><TD ALIGN="LEFT"><FONT COLOR="{TIER_LINE["host"]}">published on 127.0.0.1</FONT></TD></TR>')
    if origins:  # listeners not written in the file carry their origin in brackets (docs/listeners.md)
        text = "".join(f'{escape(line)}<BR ALIGN="LEFT"/>' for line in origins)
        rows.append(f'<TR><TD><B>[…]</B></TD><TD ALIGN="LEFT">listens 80/tcp [origin]: learnt from<BR ALIGN="LEFT"/>{text}</TD></TR>')
    return ('<<TABLE BORDER="1" CELLBORDER="0" CELLSPACING="2" CELLPADDING="2" COLOR="#9e9e9e">' + "".join(rows) + "</TABLE>>")


def _wrap(text: str, width: int) -> list[str]:
    lines, current = [], ""
    for word in text.split():
        if current and len(current) + 1 + len(word) > width:
            lines.append(current)
            current = word
        else:
            current = f"{current} {word}".strip()
    return lines + [current] if current else lines
