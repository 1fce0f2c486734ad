"""The diagram as a Mermaid flowchart (renders on GitHub and on the docs site).

Reads the same :class:`~simulator.render.diagram.Scene` as the DOT renderer: one
subgraph per host and per network (its switch, a subroutine-shaped node, and its containers,
boxes coloured by exposure), a highlighted path as coloured links. Node ids are numbered in
scene order, so the text is deterministic.
"""

from __future__ import annotations

from html import escape

from ..engine.topology import EXTERNAL
from .diagram import (
    NET_STYLE,
    OTHER_EDGES_UP_TO,
    PATH_COLOR,
    SERVICE_FILL,
    SERVICE_LINE,
    TIER_FILL,
    TIER_LINE,
    Box,
    HostNode,
    NetNode,
    Scene,
    ServiceCard,
    groups_of,
    title_on,
    wrapping,
)
from .text import printable

_LINKS = {"peer": "---", "lan": "===", "gateway": "---", "internal": "-.-", "attach": "---",
          "parent": "===", "vxlan": "-.-", "hostns": "===", "task": "-.-", "mesh": "-.-"}


def render_mermaid(scene: Scene) -> str:
    """A ``flowchart TB``: a subgraph per host and per network (its boxes wrapped into rows by invisible
    links, as in the DOT), class styles for exposure and network kinds; an overview scene draws each
    network of a host as one node listing its classes."""
    ids: dict[str, str] = {}

    def nid(key: str) -> str:
        return ids.setdefault(key, f"n{len(ids)}")

    lines = ["flowchart TB"]
    lines.append(f'  {nid(EXTERNAL)}(["{_text(scene.peer)}"])')
    for lan_id, label in scene.lans:
        lines.append(f'  {nid(lan_id)}[/"{_text(label)}"/]')
    if scene.router:
        lines.append(f'  {nid("router")}(["{_text(scene.router)}"])')
    if scene.grouped:
        lines.append(f'  {nid("legend")}["<i>{_text(scene.grouped)}</i>"]')
    classes: dict[str, list[str]] = {}
    links: list[str] = []  # every link in order: linkStyle numbers them all, invisible ones too
    homes: dict[str, str] = {}
    rows = wrapping(scene).rows if not scene.overview else 1
    for host in scene.hosts:
        lines.append(f'  subgraph {nid("host/" + host.name)}["{_text(host.title)}"]')
        lines.append(f"    {_nic(nid(host.nic), host)}")
        classes.setdefault("hostns", []).append(nid(host.nic))
        for number, group in enumerate(groups_of(scene, host)):
            key = f"group/{host.name}/{number}"
            if scene.overview:
                lines.append(f"    {_overview_node(nid(key), scene, host, group)}")
                classes.setdefault(_style_class(group.style), []).append(nid(key))
                links.append(f"  {nid(host.nic)} --- {nid(key)}")
                continue
            lines.append(f'    subgraph {nid(key)}["{_text(group.label) or " "}"]')
            if group.head_inside:
                net = next(n for n in host.networks if n.id == group.key)
                lines.append(f"      {_net(nid(net.id), net)}")
                classes.setdefault(f"net_{net.kind.replace('-', '_')}", []).append(nid(net.id))
            for box in group.boxes:
                homes[box.id] = group.key
                lines.append(f"      {_box(nid(box.id), box)}")
                classes.setdefault(f"tier_{box.tier}", []).append(nid(box.id))
            lines.append("    end")
            cols = max(1, -(-len(group.boxes) // rows))
            above = group.key if group.head_inside else host.nic
            for i, box in enumerate(group.boxes):
                links.append(f"  {nid(group.boxes[i - cols].id if i >= cols else above)} ~~~ {nid(box.id)}")
        lines.append("  end")
    if not scene.overview:
        for net in scene.overlays:
            lines.append(f"  {_net(nid(net.id), net)}")
            classes.setdefault("net_overlay", []).append(nid(net.id))
    if scene.ingress is not None:
        lines.append(f"  {_net(nid(scene.ingress.id), scene.ingress)}")
        classes.setdefault("net_ingress", []).append(nid(scene.ingress.id))
    if scene.services:
        lines.append(f'  subgraph {nid("services")}["swarm services"]')
        lines.extend(f"    {_service(nid(card.id), card)}" for card in scene.services)
        if scene.services_left_out:
            lines.append(f'    {nid("services/more")}["<i>… and {scene.services_left_out} more service(s): '
                         'netsim report lists every one</i>"]')
        lines.append("  end")
        classes.setdefault("service", []).extend(nid(card.id) for card in scene.services)
    on_path = {frozenset(e) for e in scene.path.edges} if scene.path else set()
    others = sum(len(h.boxes) for h in scene.hosts) <= OTHER_EDGES_UP_TO
    highlighted = []
    for e in scene.edges:
        on = frozenset((e.a, e.b)) in on_path
        if scene.overview and e.kind not in ("peer", "lan", "mesh"):
            continue
        if e.kind == "attach" and (homes.get(e.b) == e.a or not others) and not on:
            continue  # the box sits in that network's subgraph, or its rows name its other networks
        if on:
            highlighted.append(str(len(links)))
        links.append(f"  {nid(e.a)} {_LINKS[e.kind]} {nid(e.b)}")
    lines.extend(links)
    if scene.path:
        verdict = nid("verdict")
        lines.append(f'  {verdict}["{_text(scene.path.verdict)}"]')
        lines.append(f"  {nid(scene.path.nodes[-1])} -.- {verdict}")
        lines.append(f"  linkStyle {','.join(highlighted + [str(len(links))])} stroke:{PATH_COLOR},stroke-width:4px")
        lines.append(f"  style {verdict} fill:#fce4ec,stroke:{PATH_COLOR},stroke-width:2px")
        lines.extend(f"  style {nid(n)} stroke:{PATH_COLOR},stroke-width:4px" for n in scene.path.nodes if n in ids)
    lines.extend(_class_defs(bool(scene.services), scene.ingress is not None))
    lines.extend(f"  class {','.join(members)} {name}" for name, members in sorted(classes.items()))
    return "\n".join(lines) + "\n"


def _style_class(style: str) -> str:
    return "hostns" if style == "host" else f"net_{style.replace('-', '_')}"


def _overview_node(node: str, scene: Scene, host, group) -> str:
    """A network of an overview as one node: its title, subnet and count, then its classes."""
    if group.style == "host":
        title, first = "host namespace", "host networking"
    else:
        net = next(n for n in (*host.networks, *scene.overlays) if n.id == group.key)
        title, first = net.title, net.lines[0] if net.lines else ""
    count = sum(len(b.members) for b in group.boxes)
    rows = [f"<b>{_text(title)}</b>", f"{_text(first)} · {count} container{'s' * (count != 1)}"]
    for box in group.boxes:
        mark = "⚠ " if any(p.scope == "lan" for p in box.published) else ""
        rows.append(f"{mark}{_text(title_on(box, host.name))}" + (f" · {_text(box.listens)}" if box.listens else ""))
    return f'{node}["{"<br/>".join(rows)}"]'


def _nic(node: str, host: HostNode) -> str:
    """A host's namespace: its name, LAN address and the routing-mesh ports open on it."""
    rows = [f"<b>{_text(host.name)} host namespace</b>", _text(host.lan)]
    rows += [f"<b>⚠ {_text(m)}</b>" for m in host.mesh]
    return f'{node}["{"<br/>".join(rows)}"]'


def _service(node: str, card: ServiceCard) -> str:
    """A swarm service, drawn once: its title, then its lines (a port the LAN reaches in bold)."""
    rows = [f"<b>{_text(card.title)}</b>"]
    rows += [f"<b>{_text(line)}</b>" if line.startswith("⚠") else _text(line) for line in card.lines]
    return f'{node}["{"<br/>".join(rows)}"]'


def _net(node: str, net: NetNode) -> str:
    body = "<br/>".join([f"<b>{_text(net.title)}</b>"] + [_text(line) for line in net.lines])
    return f'{node}[["{body}"]]'


def _box(node: str, box: Box) -> str:
    rows = [f"<b>{_text(title_on(box, box.host))}</b>"]
    rows += [f"{_text(network)} {_text(address)}" + (f"<br/>{_text(box.addresses6[i])}" if i < len(box.addresses6)
                                                      and box.addresses6[i] else "")
             for i, (_, network, address) in enumerate(box.addresses)]
    if box.listens:
        rows.append(f"listens {_text(box.listens)}")
    for p in box.published:
        mark = "⚠ " if p.scope == "lan" else ""
        rows.append(f"<b>{mark}publishes {_text(str(p))}</b>")
    rows += [f"<i>{_text(note)}</i>" for note in box.notes]
    return f'{node}["{"<br/>".join(rows)}"]'


def _class_defs(services: bool, ingress: bool) -> list[str]:
    """The class styles: exposure tiers and network kinds (the ingress only when drawn), the swarm
    services when there are some."""
    out = [f"  classDef tier_{t} fill:{TIER_FILL[t]},stroke:{TIER_LINE[t]},color:#000" for t in TIER_FILL]
    for kind, (fill, border) in NET_STYLE.items():
        if kind == "ingress" and not ingress:
            continue
        dash = ",stroke-dasharray:5 3" if kind in ("internal", "default-bridge") else ""
        out.append(f"  classDef net_{kind.replace('-', '_')} fill:{fill},stroke:{border},stroke-width:2px,color:#000{dash}")
    out.append("  classDef hostns fill:#cfd8dc,stroke:#263238,color:#000")
    if services:
        out.append(f"  classDef service fill:{SERVICE_FILL},stroke:{SERVICE_LINE},color:#000")
    return out


_ENTITIES = {"#": "#35;", '"': "#quot;", "%": "#37;", "`": "#96;"}


def _text(value: str) -> str:
    """Text safe inside a quoted Mermaid label, on one line.

    Control characters (newlines too) become visible escapes (:func:`~simulator.render.text.printable`);
    ``& < >`` are HTML-escaped; ``#`` (Mermaid's entity codes), ``"`` (the end of the label), ``%``
    (``%%{init}%%`` directives and comments are found anywhere in the text) and a backtick (a
    Markdown string) become Mermaid entity codes."""
    text = escape(printable(value), quote=False)
    return "".join(_ENTITIES.get(ch, ch) for ch in text) if any(ch in text for ch in _ENTITIES) else text
