"""The Mermaid flowchart: subgraphs per host, exposure classes, escaped labels, a highlighted path."""

from __future__ import annotations

from pathlib import Path

from simulator.analysis.paths import trace_between
from simulator.loaders import load_design
from simulator.render.diagram import build_scene, with_path
from simulator.render.mermaid import _text, render_mermaid

ROOT = Path(__file__).resolve().parents[2]


def test_structure_of_a_two_host_design():
    design, _ = load_design(ROOT / "designs/overlay-two-hosts.yaml")
    text = render_mermaid(build_scene(design))
    assert text.startswith("flowchart TB\n")
    assert text.count("\n  subgraph ") == 2 and text.count("\n  end\n") == 2  # the hosts
    assert text.count("\n    subgraph ") == text.count("\n    end\n") == 7  # their networks, the overlay on each
    assert '[["<b>⇄ overlay mesh</b><br/>10.0.1.0/24<br/>VXLAN udp/4789 between node-a, node-b"]]' in text
    assert "classDef tier_lan fill:#ffcdd2,stroke:#c62828,color:#000" in text
    assert text == render_mermaid(build_scene(design))


def test_labels_are_escaped():
    assert _text('a<b "c" & d') == "a&lt;b #quot;c#quot; &amp; d"


def test_path_links_are_styled():
    design, _ = load_design(ROOT / "designs/frontend-backend.yaml")
    scene = with_path(build_scene(design), "external → proxy:443", trace_between(design, "external", "proxy", 443))
    text = render_mermaid(scene)
    # links 0-3 are the invisible ones hanging each network's boxes below it; 4 the peer, 5 the LAN,
    # 8 the host to frontend, 9 frontend to proxy (drawn because it is on the path), 11 the verdict
    assert "linkStyle 4,5,8,9,11 stroke:#d81b60,stroke-width:4px" in text
    assert text.count(" ~~~ ") == 4 and "  n11 --- n12\n" in text
    assert '["✔ DELIVERED: delivered: lan link, routed through the host, bridge link"]' in text
