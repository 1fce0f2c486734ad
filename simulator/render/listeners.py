"""Listener origins and unknown listeners as text: under the reach table, in diagram boxes (docs/listeners.md).

Listeners written in the file itself (origin ``design`` or ``compose``) are shown as before, unmarked;
those learnt elsewhere carry their origin in brackets ("3306/tcp [catalogue]").
"""

from __future__ import annotations

from collections.abc import Iterable

from ..analysis.listeners import unknown_listeners
from ..model import Design, Listener, ListenerOrigin
from ..printable import printable

__all__ = ["FROM_THE_FILE", "learnt_elsewhere", "listens_text", "reach_footer", "unknown_listeners_text"]

FROM_THE_FILE = frozenset({ListenerOrigin.DESIGN, ListenerOrigin.COMPOSE})
ORIGIN_TEXT = {
    ListenerOrigin.X_NETSIM: "x-netsim: listens stated on the service",
    ListenerOrigin.DOCKERFILE: "dockerfile: EXPOSE in the build's Dockerfile",
    ListenerOrigin.IMAGE: "image: the image's ExposedPorts on the engine (--images)",
    ListenerOrigin.CATALOGUE: "catalogue: netsim's default ports of a well-known image",
}


def _mark(origin: ListenerOrigin) -> str:
    return "" if origin in FROM_THE_FILE else f" [{origin.value}]"


def listens_text(listeners: Iterable[Listener], unknown: bool = False) -> str:
    """"80, 443/tcp · 3306/tcp [catalogue] · 53/udp": ports grouped by protocol and origin (unmarked:
    written in the file); "unknown" when no source states them."""
    groups: dict[tuple[str, str], list[int]] = {}
    for lst in sorted(set(listeners), key=lambda x: (x.protocol.value, x.port)):
        groups.setdefault((lst.protocol.value, _mark(lst.origin)), []).append(lst.port)
    text = " · ".join(f"{', '.join(map(str, ports))}/{proto}{mark}" for (proto, mark), ports in sorted(groups.items()))
    if unknown:
        return f"{text} · unknown" if text else "unknown (netsim check says why)"
    return text


def learnt_elsewhere(design: Design) -> list[ListenerOrigin]:
    """The origins, other than the file itself, of the design's listeners (in the order of ORIGIN_TEXT)."""
    found = {lst.origin for c in design.containers for lst in c.listeners} - FROM_THE_FILE
    return [o for o in ORIGIN_TEXT if o in found]


def unknown_listeners_text(design: Design) -> str:
    """Empty when every container's listeners are known; else one line per container, saying that no
    probe targets it and why."""
    rows = unknown_listeners(design)
    if not rows:
        return ""
    lines = [f"listens: unknown for {len(rows)} container(s); no probe targets them (netsim check says why):"]
    lines += [f"  {printable(name)}: listens: unknown ({printable(why)})" for name, why in rows]
    return "\n".join(lines) + "\n"


def reach_footer(design: Design) -> str:
    """Under the reach table: listeners not written in the file, with their origin, then the unknown ones."""
    lines = []
    for c in design.containers:
        elsewhere = [lst for lst in c.listeners if lst.origin not in FROM_THE_FILE]
        if elsewhere:
            lines.append(f"  {printable(c.name)}: {listens_text(elsewhere)}")
    head = ["listeners not written in the file (docs/listeners.md):"] if lines else []
    return "\n".join(head + lines) + ("\n" if lines else "") + unknown_listeners_text(design)
