"""The network diagram: a scene built from the simulated world, written as Graphviz DOT.

:func:`build_scene` decides *what* is drawn (hosts, networks per mode, containers with
their addresses and ports, exposure tiers, a highlighted trace); :func:`render_dot`
writes it as DOT (Mermaid in :mod:`simulator.render.mermaid` reads the same scene).
Everything is sorted and free of ids that change between runs, so the output is
byte-identical for the same design.

Layout: left to right — the LAN and its peer, each host's LAN interface, its networks
in one column, its containers in the next; one cluster per host, overlays between them.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field, replace
from html import escape as _html_escape
from ipaddress import IPv4Address
from itertools import pairwise

import graphviz
import networkx as nx

from ..analysis.exposure import Through, compute_exposure
from ..analysis.reachability import ReachResult, compute_reach
from ..engine.ipam import GWBRIDGE, network_hosts
from ..engine.topology import EXTERNAL, World
from ..engine.trace import Place, Trace
from ..model import Design, Driver, ModeKind
from .listeners import ORIGIN_TEXT, learnt_elsewhere, listens_text
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
}
PATH_COLOR = "#d81b60"
FONT = "Helvetica"


@dataclass(frozen=True)
class DiagramOptions:
    hide_default: bool = False  # hide compose's implicit `default` network and an unused docker0
    group_replicas: bool = False  # one box for containers that differ only by a numeric suffix
    host: str | None = None  # draw this host only


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
        return "host" if IPv4Address(self.bind).is_loopback else "lan"

    def __str__(self) -> str:
        where = "all interfaces" if self.bind == "0.0.0.0" else ("loopback only" if self.scope == "host" else "this address only")
        return f"{self.bind}:{self.host_port} → {self.container_port}/{self.protocol} ({where})"


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


@dataclass(frozen=True)
class Edge:
    a: str
    b: str
    kind: str  # peer | lan | gateway | internal | attach | parent | vxlan | hostns
    port: str = ""  # the row of ``b`` the edge ends at (a container's address on that network)


@dataclass(frozen=True)
class HostNode:
    name: str
    nic: str  # node id of the host's LAN interface (the host namespace)
    title: str
    lan: str  # "eth0 192.168.1.10/24"
    networks: tuple[NetNode, ...]
    boxes: tuple[Box, ...]


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
    listener_origins: tuple[str, ...] = ()  # the legend's lines: listeners learnt elsewhere than the file


# --- the scene --------------------------------------------------------------------------

def build_scene(design: Design, engine_version: str | None = None, options: DiagramOptions = DiagramOptions(),
                result: ReachResult | None = None) -> Scene:
    """Decide what the diagram shows, from the world and the exposure of ``design`` (``result``: its
    reachability matrix when the caller has it already)."""
    result = result or compute_reach(design, engine_version)
    world = result.world
    tiers = _tiers(compute_exposure(result))
    hosts = [h for h in design.hosts if options.host in (None, h.name)]
    hidden = _hidden_networks(design, world, options)
    edges: list[Edge] = []
    lans = {}
    for h in hosts:
        lan_id = f"lan/{h.lan_address.network}"
        lans[lan_id] = f"LAN {h.lan_address.network}"
    for lan_id in sorted(lans):
        edges.append(Edge(EXTERNAL, lan_id, "peer"))
    router = _router(design)
    if router:
        edges.extend(Edge(lan_id, "router", "peer") for lan_id in sorted(lans))

    overlays: dict[str, NetNode] = {}
    host_nodes, owner_of = [], {}
    for h in hosts:
        nic = f"nic/{h.name}"
        edges.append(Edge(f"lan/{h.lan_address.network}", nic, "lan"))
        nets = []
        for node in _networks(design, world, h.name, hidden):
            if node.host is None:
                overlays[node.id] = node
                edges.append(Edge(nic, node.id, "vxlan"))
                continue
            nets.append(node)
            kind = "parent" if node.kind in ("macvlan", "ipvlan") else ("internal" if node.kind == "internal" else "gateway")
            edges.append(Edge(nic, node.id, kind))
        boxes = _boxes(design, world, h.name, hidden, tiers, options.group_replicas)
        for box in boxes:
            owner_of.update({m: box.id for m in box.members})
            edges.extend(_box_edges(box, nic))
        title = f"host {h.name} · engine {world.version}"
        host_nodes.append(HostNode(h.name, nic, title, f"{h.lan_interface} {h.lan_address}", tuple(nets), tuple(boxes)))
    peer = _peer_label(world)
    return Scene(f"{design.name} — engine {world.version}", tuple(sorted(lans.items())), peer, router,
                 tuple(host_nodes), tuple(overlays[k] for k in sorted(overlays)), tuple(_dedupe(edges)), None, owner_of,
                 listener_origins=tuple(ORIGIN_TEXT[o] for o in learnt_elsewhere(design)))


def with_path(scene: Scene, label: str, traces: list[tuple[str, Trace]]) -> Scene:
    """The scene with the first trace of ``traces`` highlighted hop by hop; the others listed."""
    graph = nx.Graph()
    graph.add_edges_from((e.a, e.b) for e in scene.edges)
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


def _tiers(entries) -> dict[str, tuple[str, tuple[str, ...]]]:
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
    return f"LAN peer ({', '.join(addrs)})"


def _networks(design: Design, world: World, host: str, hidden: set[str]) -> list[NetNode]:
    """The network instances on ``host``: local segments, docker0 when unused, overlays."""
    out = []
    segs = [s for s in world.addressing.segments.values() if s.host in (host, None) and s.network not in hidden]
    for seg in segs:
        if seg.host is None and host not in network_hosts(design, design.network(seg.network)):
            continue
        out.append(_net_node(design, seg, host))
    if "docker0" not in hidden and not any(n.default_bridge for n in design.networks):
        subnet = world.addressing.docker0[host]
        out.append(NetNode(f"net/{host}/docker0", "docker0", "default-bridge", host, "⇆ docker0 · default bridge",
                           (f"{subnet}", "no containers")))
    return sorted(out, key=lambda n: (n.kind == "overlay", n.kind != "default-bridge", n.name))


def _net_node(design: Design, seg, host: str) -> NetNode:
    gw = f"gateway {seg.gateway}" if seg.gateway else "no gateway"
    if seg.network == GWBRIDGE:
        return NetNode(f"net/{host}/{GWBRIDGE}", GWBRIDGE, "gwbridge", host, f"⇆ {GWBRIDGE} · overlay egress",
                       (str(seg.subnet), gw, "ICC off; carries published ports"))
    net = design.network(seg.network)
    if net.driver is Driver.OVERLAY:
        notes = [str(seg.subnet), f"VXLAN udp/4789 between {', '.join(net.hosts)}"]
        if net.encrypted:
            notes.append("encrypted (IPsec)")
        return NetNode(f"net/{net.name}", net.name, "overlay", None, f"⇄ overlay {net.name}", tuple(notes))
    if net.driver in (Driver.MACVLAN, Driver.IPVLAN):
        mode = net.mode or ("bridge" if net.driver is Driver.MACVLAN else "l2")
        parent = net.parent_interface or design.host(host).lan_interface
        notes = [str(seg.subnet), gw, f"on the LAN through {parent} ({mode} mode)"]
        if net.driver is Driver.MACVLAN:
            notes.append("the host cannot reach its children")
        return NetNode(f"net/{host}/{net.name}", net.name, net.driver.value, host, f"⇅ {net.driver.value} {net.name}", tuple(notes))
    device = seg.bridge or ""
    if net.default_bridge:
        return NetNode(f"net/{host}/{net.name}", net.name, "default-bridge", host, f"⇆ {device} · default bridge",
                       (str(seg.subnet), gw, "no embedded DNS"))
    notes = [str(seg.subnet), gw]
    if net.internal:
        notes.append("INTERNAL: no route in or out")
    if not net.icc:
        notes.append("ICC off")
    if net.gateway_mode != "nat":
        notes.append(f"gateway mode {net.gateway_mode}")
    return NetNode(f"net/{host}/{net.name}", net.name, "internal" if net.internal else "bridge", host,
                   f"⇆ {device} · {net.name}", tuple(notes))


def _net_id(world: World, network: str, host: str) -> str:
    seg = world.addressing.segment_of(network, host)
    return f"net/{network}" if seg is not None and seg.host is None else f"net/{host}/{network}"


def _boxes(design: Design, world: World, host: str, hidden: set[str], tiers: dict, group: bool) -> list[Box]:
    boxes = []
    for c in design.containers:
        if c.host != host:
            continue
        ns_id = world.ns_of.get(c.name)
        if c.mode.kind is ModeKind.CONTAINER and ns_id is not None:
            continue  # drawn inside its owner's box
        members = tuple(world.namespaces[ns_id].members) if ns_id and ns_id.startswith("ctr:") else (c.name,)
        boxes.append(_box(design, world, c, members, hidden, tiers))
    if group:
        boxes = _group(boxes)
    return boxes


def _box(design: Design, world: World, c, members: tuple[str, ...], hidden: set[str], tiers: dict) -> Box:
    notes: list[str] = []
    addresses: list[tuple[str, str, str]] = []
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
        gateway = world.namespace_of(c.name).gateway_network
        if len(eps) > 1 and gateway:
            notes.append(f"default route via {gateway}")
    notes.extend(f"shares {c.name}'s namespace: {m}" for m in members[1:])
    published = tuple(Published(str(b.host_ip), str(b.host_port), b.container_port, b.protocol)
                      for b in sorted(world.bindings.get(c.host, ()), key=lambda b: (b.host_port, b.protocol, str(b.host_ip)))
                      if b.container in members)
    notes.extend(f"port ignored: {why}" for name, why in world.ignored_ports.get(c.host, ()) if name in members)
    tier = min((tiers.get(m, ("internal",))[0] for m in members), key=TIERS.index)
    notes.extend(why for m in members for why in tiers.get(m, ("", ()))[1])
    title = " + ".join(members)
    return Box(f"ctr/{c.name}", c.host, title, members, mode, tuple(addresses), _listens(design, members), published,
               tuple(notes), tier)


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


# --- replicas -----------------------------------------------------------------------------

_SUFFIX = re.compile(r"^(.*?)[-_.]?(\d+)$")
_IPV4 = re.compile(r"\d+\.\d+\.\d+\.\d+")


def _group(boxes: list[Box]) -> list[Box]:
    """Merge boxes that differ only in a numeric name suffix and their addresses/host ports."""
    groups: dict[tuple, list[Box]] = {}
    for box in boxes:
        m = _SUFFIX.match(box.title) if len(box.members) == 1 else None
        stem = m.group(1) if m else box.title
        notes = tuple(_IPV4.sub("<address>", n) for n in box.notes)
        shape = (stem, box.mode, tuple(a[:2] for a in box.addresses), box.listens,
                 tuple((p.bind, p.container_port, p.protocol) for p in box.published), notes, box.tier, m is None)
        groups.setdefault(shape, []).append(box)
    out = []
    for members in groups.values():
        first = members[0]
        if len(members) == 1:
            out.append(first)
            continue
        names = tuple(m for b in members for m in b.members)
        addresses = tuple((net_id, name, _span([b.addresses[i][2] for b in members]))
                          for i, (net_id, name, _) in enumerate(first.addresses))
        published = tuple(Published(p.bind, _span([b.published[i].host_port for b in members]), p.container_port, p.protocol)
                          for i, p in enumerate(first.published))
        notes = first.notes
        for (_, _, address), (_, _, span) in zip(first.addresses, addresses, strict=True):
            notes = tuple(re.sub(rf"(?<![\d.]){re.escape(address)}(?![\d])", span, n) for n in notes)
        title = f"{members[0].title} … {members[-1].title} (×{len(members)})"
        out.append(Box(first.id, first.host, title, names, first.mode, addresses, first.listens, published, notes, first.tier))
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


def render_dot(scene: Scene) -> str:
    """The scene as Graphviz DOT source (left to right, one cluster per host, a legend).

    Node ids come from :func:`dot_id`; every text from the design goes through :func:`escape`."""
    g = graphviz.Digraph("netsim", graph_attr={
        "rankdir": "LR", "ordering": "out", "nodesep": "0.3", "ranksep": "1.1", "newrank": "true",
        "fontname": FONT, "fontsize": "16", "labelloc": "t", "label": _graph_label(scene), "bgcolor": "white",
    }, node_attr={"shape": "plain", "fontname": FONT, "fontsize": "10"}, edge_attr={"arrowhead": "none", "color": "#78909c"})
    path = scene.path
    on_path = set(path.nodes) if path else set()
    g.node(dot_id(EXTERNAL), _simple_label(scene.peer, "#fafafa", "#424242", EXTERNAL in on_path, shape="⌂"))
    if scene.router:
        g.node(dot_id("router"), _simple_label(scene.router, "#fafafa", "#424242", "router" in on_path))
    for lan_id, label in scene.lans:
        g.node(dot_id(lan_id), _simple_label(label, "#eceff1", "#37474f", lan_id in on_path, shape="═"))
    for host in scene.hosts:
        with g.subgraph(name=f"cluster_{dot_id(host.name)}") as sub:
            sub.attr(label=f"<<B>{escape(host.title)}</B>>", style="rounded", color="#37474f", penwidth="2",
                     fontname=FONT, fontsize="13", labeljust="l", margin="14")
            sub.node(dot_id(host.nic), _nic_label(host, host.nic in on_path))
            for net in host.networks:
                sub.node(dot_id(net.id), _net_label(net, net.id in on_path))
            for box in host.boxes:
                sub.node(dot_id(box.id), _box_label(box, box.id in on_path))
    for net in scene.overlays:
        g.node(dot_id(net.id), _net_label(net, net.id in on_path))
    on_edges = {frozenset(e) for e in path.edges} if path else set()
    for e in scene.edges:
        head = f"{dot_id(e.b)}:{e.port}:w" if e.port else dot_id(e.b)
        g.edge(dot_id(e.a), head, **_edge_attrs(e.kind, frozenset((e.a, e.b)) in on_edges))
    if path:
        last = path.nodes[-1]
        g.node("verdict", _simple_label(path.verdict, "#ffffff" if path.delivered else "#fce4ec",
                                        "#2e7d32" if path.delivered else PATH_COLOR, True, wrap=60))
        g.edge(dot_id(last), "verdict", color=PATH_COLOR, style="dashed", penwidth="2")
    g.node("legend", _legend(origins=scene.listener_origins))
    return g.source


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
    return _table(rows, "#263238", highlighted)


def _net_label(net: NetNode, highlighted: bool) -> str:
    fill, border = NET_STYLE[net.kind]
    rows = [f'<TR><TD BGCOLOR="{border}"><FONT COLOR="white"><B>{escape(net.title)}</B></FONT></TD></TR>']
    rows.extend(f'<TR><TD BGCOLOR="{fill}">{escape(line)}</TD></TR>' for line in net.lines)
    style = "dashed" if net.kind in ("internal", "default-bridge") else "rounded"
    return _table(rows, border, highlighted, style)


def _box_label(box: Box, highlighted: bool) -> str:
    fill, line = TIER_FILL[box.tier], TIER_LINE[box.tier]
    rows = [f'<TR><TD COLSPAN="2" BGCOLOR="{fill}"><B>{escape(box.title)}</B></TD></TR>']
    for i, (_, network, address) in enumerate(box.addresses):
        rows.append(f'<TR><TD ALIGN="LEFT" PORT="a{i}">{escape(network)}</TD><TD ALIGN="LEFT">{escape(address)}</TD></TR>')
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


def _legend(origins: tuple[str, ...] = ()) -> str:
    rows = ['<TR><TD COLSPAN="2"><B>legend</B></TD></TR>']
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
