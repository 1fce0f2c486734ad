"""The diagram as a Mermaid flowchart (renders on GitHub and on the docs site).

Reads the same :class:`~simulator.render.diagram.Scene` as the DOT renderer: one
subgraph per host, networks as subroutine-shaped nodes, containers as boxes coloured by
exposure, a highlighted path as coloured links. Node ids are numbered in scene order,
so the text is deterministic.
"""

from __future__ import annotations

from html import escape

from ..engine.topology import EXTERNAL
from .diagram import NET_STYLE, PATH_COLOR, TIER_FILL, TIER_LINE, Box, NetNode, Scene
from .text import printable

_LINKS = {"peer": "---", "lan": "===", "gateway": "---", "internal": "-.-", "attach": "---",
          "parent": "===", "vxlan": "-.-", "hostns": "==="}


def render_mermaid(scene: Scene) -> str:
    """A ``flowchart LR`` with subgraphs per host, class styles for exposure and network kinds."""
    ids: dict[str, str] = {}

    def nid(key: str) -> str:
        return ids.setdefault(key, f"n{len(ids)}")

    lines = ["flowchart LR"]
    lines.append(f'  {nid(EXTERNAL)}(["{_text(scene.peer)}"])')
    for lan_id, label in scene.lans:
        lines.append(f'  {nid(lan_id)}[/"{_text(label)}"/]')
    if scene.router:
        lines.append(f'  {nid("router")}(["{_text(scene.router)}"])')
    classes: dict[str, list[str]] = {}
    for host in scene.hosts:
        lines.append(f'  subgraph {nid("host/" + host.name)}["{_text(host.title)}"]')
        lines.append(f'    {nid(host.nic)}["<b>{_text(host.name)} host namespace</b><br/>{_text(host.lan)}"]')
        classes.setdefault("hostns", []).append(nid(host.nic))
        for net in host.networks:
            lines.append(f"    {_net(nid(net.id), net)}")
            classes.setdefault(f"net_{net.kind.replace('-', '_')}", []).append(nid(net.id))
        for box in host.boxes:
            lines.append(f"    {_box(nid(box.id), box)}")
            classes.setdefault(f"tier_{box.tier}", []).append(nid(box.id))
        lines.append("  end")
    for net in scene.overlays:
        lines.append(f"  {_net(nid(net.id), net)}")
        classes.setdefault("net_overlay", []).append(nid(net.id))
    on_path = {frozenset(e) for e in scene.path.edges} if scene.path else set()
    highlighted = []
    for index, e in enumerate(scene.edges):
        lines.append(f"  {nid(e.a)} {_LINKS[e.kind]} {nid(e.b)}")
        if frozenset((e.a, e.b)) in on_path:
            highlighted.append(str(index))
    if scene.path:
        verdict = nid("verdict")
        lines.append(f'  {verdict}["{_text(scene.path.verdict)}"]')
        lines.append(f"  {nid(scene.path.nodes[-1])} -.- {verdict}")
        lines.append(f"  linkStyle {','.join(highlighted + [str(len(scene.edges))])} stroke:{PATH_COLOR},stroke-width:4px")
        lines.append(f"  style {verdict} fill:#fce4ec,stroke:{PATH_COLOR},stroke-width:2px")
        lines.extend(f"  style {nid(n)} stroke:{PATH_COLOR},stroke-width:4px" for n in scene.path.nodes)
    lines.extend(_class_defs())
    lines.extend(f"  class {','.join(members)} {name}" for name, members in sorted(classes.items()))
    return "\n".join(lines) + "\n"


def _net(node: str, net: NetNode) -> str:
    body = "<br/>".join([f"<b>{_text(net.title)}</b>"] + [_text(line) for line in net.lines])
    return f'{node}[["{body}"]]'


def _box(node: str, box: Box) -> str:
    rows = [f"<b>{_text(box.title)}</b>"]
    rows += [f"{_text(network)} {_text(address)}" for _, network, address in box.addresses]
    if box.listens:
        rows.append(f"listens {_text(box.listens)}")
    for p in box.published:
        mark = "⚠ " if p.scope == "lan" else ""
        rows.append(f"<b>{mark}publishes {_text(str(p))}</b>")
    rows += [f"<i>{_text(note)}</i>" for note in box.notes]
    return f'{node}["{"<br/>".join(rows)}"]'


def _class_defs() -> list[str]:
    out = [f"  classDef tier_{t} fill:{TIER_FILL[t]},stroke:{TIER_LINE[t]},color:#000" for t in TIER_FILL]
    for kind, (fill, border) in NET_STYLE.items():
        dash = ",stroke-dasharray:5 3" if kind in ("internal", "default-bridge") else ""
        out.append(f"  classDef net_{kind.replace('-', '_')} fill:{fill},stroke:{border},stroke-width:2px,color:#000{dash}")
    out.append("  classDef hostns fill:#cfd8dc,stroke:#263238,color:#000")
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
