"""The diagram (DOT, Mermaid) and the gallery with IPv6 (issue 14): IPv6 subnets and gateways on the
networks, IPv6 addresses on the containers, ports published on the host's IPv6 addresses, what
ip6tables off leaves unfiltered; IPv4-only designs are drawn as before (the gallery check)."""

from __future__ import annotations

import sys
from pathlib import Path

from simulator.cli.render_cmds import DiagramFormat, diagram_source
from simulator.loaders import load_design
from simulator.render.diagram import Published, build_scene

ROOT = Path(__file__).resolve().parents[2]
DUAL = ROOT / "designs/ipv6/dual-stack.yaml"
GUARDED = ROOT / "designs/ipv6/dual-stack-ip6tables.yaml"
sys.path.insert(0, str(ROOT / "scripts"))

import render_diagrams  # noqa: E402


def _scene(path: Path):
    design, _ = load_design(path)
    return build_scene(design)


def _box(scene, name: str):
    return next(b for h in scene.hosts for b in h.boxes if b.title == name)


def _net(scene, name: str):
    return next(n for h in scene.hosts for n in h.networks if n.name == name)


def test_networks_show_their_ipv6_subnet_and_what_ip6tables_off_leaves_open():
    scene = _scene(DUAL)
    back = _net(scene, "back")
    assert back.lines == ("172.31.20.0/24", "gateway 172.31.20.1", "IPv6 fd00:db8:20::/64, gateway fd00:db8:20::1",
                          "⚠ INTERNAL over IPv4 only: IPv6 routed in and out (ip6tables off)")
    assert _net(scene, "front").lines[-1] == "⚠ IPv6 not filtered (ip6tables off): no isolation"
    assert "IPv6 fd00:db8:17::/64" in _net(scene, "docker0").lines


def test_with_ip6tables_on_the_internal_network_reads_as_before():
    back = _net(_scene(GUARDED), "back")
    assert back.lines[-1] == "INTERNAL: no route in or out"
    assert not any("ip6tables off" in line for line in _net(_scene(GUARDED), "front").lines)


def test_containers_show_their_ipv6_addresses_and_ipv6_publications():
    scene = _scene(DUAL)
    web, api, db = _box(scene, "web"), _box(scene, "api"), _box(scene, "db")
    assert (web.addresses[0][1:], web.addresses6) == (("front", "172.31.10.2"), ("fd00:db8:10::80",))
    assert dict(zip([a[1] for a in api.addresses], api.addresses6, strict=True)) == \
        {"front": "fd00:db8:10::2", "back": "fd00:db8:20::2"}
    assert [str(p) for p in web.published] == ["[2001:db8:1::10]:80 → 80/tcp (this address only)",
                                               "0.0.0.0:443 → 443/tcp (all interfaces)",
                                               "[::]:443 → 443/tcp (all interfaces)"]
    assert [p.scope for p in api.published] == ["host", "host"]
    assert str(api.published[1]) == "[::1]:8080 → 8080/tcp (loopback only)"
    assert db.tier == "lan"  # the LAN reaches it over IPv6
    assert db.notes == ("LAN: its IPv6 address fd00:db8:20::3 on back, routed through the host (no NAT)",)


def test_with_ip6tables_on_db_stays_internal():
    assert _box(_scene(GUARDED), "db").tier == "internal"


def test_the_host_lan_and_peer_carry_their_ipv6_addresses():
    scene = _scene(DUAL)
    assert scene.hosts[0].lan == "eth0 192.168.1.10/24, 2001:db8:1::10/64"
    assert scene.lans == (("lan/192.168.1.0/24", "LAN 192.168.1.0/24 · 2001:db8:1::/64"),)
    assert scene.peer.startswith("LAN peer (192.168.1.254, 2001:db8:1:")


def test_dot_and_mermaid_draw_the_ipv6_addresses():
    design, _ = load_design(DUAL)
    dot = diagram_source(design, None, DiagramFormat.dot)
    assert '172.31.10.2<BR ALIGN="LEFT"/>fd00:db8:10::80' in dot
    assert "[::1]:8080 → 8080/tcp (loopback only)" in dot
    mermaid = diagram_source(design, None, DiagramFormat.mermaid)
    assert "front 172.31.10.2<br/>fd00:db8:10::80" in mermaid
    assert "IPv6 fd00:db8:20::/64, gateway fd00:db8:20::1" in mermaid


def test_an_unspecified_or_loopback_ipv6_bind_reads_like_its_ipv4_twin():
    assert Published("::", "443", 443, "tcp").scope == "lan"
    assert str(Published("::", "443", 443, "tcp")) == "[::]:443 → 443/tcp (all interfaces)"
    assert Published("::1", "8080", 80, "tcp").scope == "host"


def test_the_ipv6_designs_are_in_the_gallery():
    stems = [stem for stem, _ in render_diagrams.designs()]
    assert {"dual-stack", "dual-stack-ip6tables"} <= set(stems)
    page = render_diagrams.GALLERY.read_text(encoding="utf-8")
    assert "## dual-stack\n\nA dual-stack front end with a published port and a back end that must stay private" in page
