"""The diagram scene and its DOT: what each network mode looks like, exposure, options, paths."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from simulator.analysis.paths import trace_between
from simulator.cli import app
from simulator.loaders import load_design, load_text
from simulator.render import diagram
from simulator.render.diagram import GROUP_ABOVE, DiagramOptions, build_scene, render_dot, with_path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "benchmarks"))
from render_bench import generate  # noqa: E402


def scene_of(name: str, version: str | None = None, **options):
    design, _ = load_design(ROOT / "designs" / name)
    return design, build_scene(design, version, DiagramOptions(**options))


def boxes(scene):
    return {b.title: b for h in scene.hosts for b in h.boxes}


def nets(scene):
    return {n.id: n for h in scene.hosts for n in h.networks} | {n.id: n for n in scene.overlays}


def test_dot_is_deterministic():
    design, scene = scene_of("overlay-two-hosts.yaml")
    assert render_dot(scene) == render_dot(build_scene(design))


def test_default_bridge_differs_from_user_defined():
    _, scene = scene_of("default-vs-user-bridge.yaml")
    n = nets(scene)
    assert n["net/docker1/bridge"].kind == "default-bridge"
    assert n["net/docker1/bridge"].title == "⇆ docker0 · default bridge"
    assert "no embedded DNS" in n["net/docker1/bridge"].lines
    assert n["net/docker1/apps"].kind == "bridge"
    dot = render_dot(scene)
    assert 'COLOR="#616161" STYLE="dashed"' in dot and 'COLOR="#1565c0" STYLE="rounded"' in dot


def test_unused_docker0_is_drawn_and_hidden_on_request():
    _, scene = scene_of("frontend-backend.yaml")
    assert nets(scene)["net/docker1/docker0"].lines == ("172.17.0.0/16", "no containers")
    _, hidden = scene_of("frontend-backend.yaml", hide_default=True)
    assert "net/docker1/docker0" not in nets(hidden)


def test_compose_default_network_hidden_on_request():
    _, scene = scene_of("compose-shop/compose.yaml")
    assert [a[1] for a in boxes(scene)["web"].addresses] == ["back", "default"]
    _, hidden = scene_of("compose-shop/compose.yaml", hide_default=True)
    assert [a[1] for a in boxes(hidden)["web"].addresses] == ["back"]
    assert "net/docker1/default" not in nets(hidden)


def test_internal_network_marked():
    _, scene = scene_of("internal-network.yaml")
    vault = nets(scene)["net/docker1/vault"]
    assert vault.kind == "internal" and "INTERNAL: no route in or out" in vault.lines
    assert any(e.b == "net/docker1/vault" and e.kind == "internal" for e in scene.edges)
    assert any(n.startswith("port ignored: its gateway network vault is internal") for n in boxes(scene)["secrets"].notes)


def test_published_ports_show_their_bind_address():
    _, scene = scene_of("compose-shop/compose.yaml")
    published = [str(p) for p in boxes(scene)["web"].published]
    assert published == ["0.0.0.0:8080 → 80/tcp (all interfaces)", "127.0.0.1:8443 → 443/tcp (loopback only)"]
    assert [p.scope for p in boxes(scene)["web"].published] == ["lan", "host"]


def test_exposure_tiers_follow_the_engine_version():
    _, scene = scene_of("frontend-backend.yaml")
    assert {t: b.tier for t, b in boxes(scene).items()} == {"proxy": "lan", "app": "internal", "db": "internal", "cache": "internal"}
    assert boxes(scene)["proxy"].notes == ("LAN: direct routing to the container address 172.30.1.2 on frontend",)
    _, old = scene_of("host-mode.yaml")
    _, new = scene_of("host-mode.yaml", "28.2")
    assert boxes(old)["admin-ui"].tier == "lan"  # direct routing to a 127.0.0.1-published port (≤ 27)
    assert boxes(new)["admin-ui"].tier == "host"


def test_host_mode_container_sits_on_the_host_namespace():
    _, scene = scene_of("host-mode.yaml")
    agent = boxes(scene)["monitoring-agent"]
    assert agent.mode == "host" and agent.addresses == () and agent.listens == "9100/tcp · 8125/udp"
    assert any(e.a == "nic/docker1" and e.b == agent.id and e.kind == "hostns" for e in scene.edges)


def test_macvlan_on_the_lan_through_its_parent():
    _, scene = scene_of("macvlan-lan.yaml")
    lan = nets(scene)["net/docker1/lan"]
    assert lan.kind == "macvlan"
    assert lan.lines == ("192.168.1.0/24", "gateway 192.168.1.1", "on the LAN through eth0 (bridge mode)",
                         "the host cannot reach its children")
    assert any(e.a == "nic/docker1" and e.b == lan.id and e.kind == "parent" for e in scene.edges)
    assert scene.router == "router 192.168.1.1 → Internet"
    assert boxes(scene)["printer-service"].tier == "lan"


def test_overlay_spans_hosts_with_vxlan_and_gwbridge():
    _, scene = scene_of("overlay-two-hosts.yaml")
    assert [n.id for n in scene.overlays] == ["net/mesh"]
    assert {e.a for e in scene.edges if e.b == "net/mesh" and e.kind == "vxlan"} == {"nic/node-a", "nic/node-b"}
    assert {"net/node-a/docker_gwbridge", "net/node-b/docker_gwbridge"} <= set(nets(scene))
    assert boxes(scene)["api"].addresses == (("net/mesh", "mesh", "10.0.1.4"),
                                             ("net/node-b/docker_gwbridge", "docker_gwbridge", "172.18.0.3"))


def test_shared_namespace_grouped_with_its_owner():
    _, scene = scene_of("compose-shop/compose.yaml")
    box = boxes(scene)["api + sidecar"]
    assert box.members == ("api", "sidecar") and "shares api's namespace: sidecar" in box.notes
    assert scene.owner_of["sidecar"] == box.id


def test_one_host_only():
    _, scene = scene_of("overlay-two-hosts.yaml", host="node-b")
    assert [h.name for h in scene.hosts] == ["node-b"]
    assert set(boxes(scene)) == {"api"}


def test_replicas_grouped_by_class():
    design, _ = load_text(generate(100, 10))
    scene = build_scene(design, None, DiagramOptions(group=True))
    titles = boxes(scene)
    assert len(titles) == 20
    group = titles["svc006×5 (net06) on node-a"]
    assert group.members == tuple(f"svc006-{i}" for i in range(1, 6))
    assert group.addresses == (("net/node-a/net06", "net06", "10.106.0.2 … 10.106.0.6"),)
    assert [str(p) for p in group.published] == ["0.0.0.0:20030 … 20034 → 8006/tcp (all interfaces)"]
    assert scene.grouped.startswith("100 containers drawn as 20 boxes: ×N is N identical containers")
    dot = render_dot(scene)
    assert "<B>svc006×5 (net06)</B>" in dot  # the host's cluster says "on node-a"
    assert "100 containers drawn as 20 boxes" in dot  # in the legend


def test_grouping_is_automatic_above_a_size_and_can_be_refused():
    small, _ = load_text(generate(60, 8))
    assert boxes(build_scene(small)).keys() == {c.name for c in small.containers}
    assert build_scene(small).grouped == ""
    large, _ = load_text(generate(GROUP_ABOVE + 5, 10))
    auto = build_scene(large)
    assert len(boxes(auto)) < len(large.containers) and auto.grouped
    every = build_scene(large, None, DiagramOptions(group=False))
    assert len(boxes(every)) == len(large.containers) and every.grouped == ""


def test_containers_sit_in_their_first_network_wrapped_into_rows():
    design, _ = load_text(generate(60, 8))
    scene = build_scene(design)
    assert boxes(scene)["svc001-1"].home == "net/node-b/net01"  # on net01 and the overlay: in net01
    assert boxes(scene)["svc000-1"].home == "net/node-a/net00"
    dot = render_dot(scene)
    assert "cluster_node-a_0" in dot and "rankdir=TB" in dot
    heights = re.findall(r"minlen=(\d+)", dot)
    assert heights and max(map(int, heights)) < 40  # rows, not one column of 60


def test_overview_draws_each_host_as_a_table_of_its_classes(monkeypatch):
    monkeypatch.setattr(diagram, "OVERVIEW_ABOVE", 10)  # 20 classes: too many for boxes here
    design, _ = load_text(generate(100, 10))
    scene = build_scene(design, None, DiagramOptions(group=None))
    assert scene.overview
    dot = render_dot(scene)
    assert "cluster_" not in dot  # no cluster per host or network: one table per host
    assert dot.count("▣ host node-a") == 1 and "svc006×5 (net06) · 8006/tcp" in dot
    assert "--focus NETWORK|HOST draws one in detail" in dot
    assert not build_scene(design, None, DiagramOptions(group=True)).overview  # asked for boxes: boxes


def test_focus_on_a_network_draws_its_containers_only():
    design, _ = load_text(generate(100, 10))
    scene = build_scene(design, None, DiagramOptions(network="mesh"))
    drawn = boxes(scene)
    assert drawn and all(any(a[1] == "mesh" for a in b.addresses) for b in drawn.values())
    assert all(b.home == "net/mesh" for b in drawn.values())
    assert {c.name for c in design.containers if "mesh" in c.networks} == set(drawn)
    assert scene.title.endswith("— network mesh")


def test_path_highlighted_to_where_it_is_dropped():
    design, scene = scene_of("frontend-backend.yaml")
    traced = with_path(scene, "proxy → db:5432", trace_between(design, "proxy", "db", 5432))
    assert traced.path.nodes == ("ctr/proxy", "net/docker1/frontend", "nic/docker1")
    assert traced.path.verdict.startswith("✘ DROPPED_ISOLATION: forwarded packet dropped by network isolation")
    assert traced.path.others == ("✘ name db port 5432/tcp: NAME_NOT_RESOLVED",)
    dot = render_dot(traced)
    assert re.search(r'color="#d81b60" (constraint=false )?penwidth=4', dot) and "verdict" in dot


def test_path_delivered_across_the_overlay():
    design, scene = scene_of("overlay-two-hosts.yaml")
    traced = with_path(scene, "web → api:8080", trace_between(design, "web", "api", 8080))
    assert traced.path.delivered
    assert traced.path.nodes == ("ctr/web", "net/mesh", "ctr/api")


@pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz is not installed")
def test_hundred_containers_lay_out_cleanly():
    design, _ = load_text(generate(100, 10))
    for options in (DiagramOptions(), DiagramOptions(group=True)):
        done = subprocess.run(["dot", "-Tsvg"], input=render_dot(build_scene(design, None, options)).encode(),
                              capture_output=True, timeout=120)
        assert done.returncode == 0 and done.stderr == b""  # no warnings (ports, labels)


def test_cli_writes_formats_and_explains_a_missing_dot(tmp_path, monkeypatch):
    runner = CliRunner()
    design = str(ROOT / "designs/frontend-backend.yaml")
    out = runner.invoke(app, ["diagram", design, "-f", "mermaid"])
    assert out.exit_code == 0 and out.output.startswith("flowchart TB\n")
    assert runner.invoke(app, ["diagram", design, "-o", str(tmp_path / "d.dot")]).exit_code == 0
    assert (tmp_path / "d.dot").read_text().startswith("digraph netsim {")
    monkeypatch.setenv("PATH", str(tmp_path))
    out = runner.invoke(app, ["diagram", design, "-o", str(tmp_path / "d.svg")])
    assert out.exit_code == 2
    assert "the `dot` program is missing: install Graphviz (Debian package graphviz" in out.output


def test_cli_focus_names_a_network_or_a_host_and_says_which_exist():
    runner = CliRunner()
    design = str(ROOT / "designs/overlay-two-hosts.yaml")
    out = runner.invoke(app, ["diagram", design, "--focus", "mesh", "--no-group"])
    assert out.exit_code == 0 and "network mesh" in out.output and '"ctr/metrics"' not in out.output
    out = runner.invoke(app, ["diagram", design, "--focus", "node-b"])
    assert out.exit_code == 0 and '"ctr/api"' in out.output and '"ctr/web"' not in out.output
    out = runner.invoke(app, ["diagram", design, "--focus", "mesj"])
    assert out.exit_code == 2
    assert 'unknown network or host "mesj" (did you mean "mesh"?)' in out.output
    assert runner.invoke(app, ["diagram", design, "--group-replicas"]).exit_code == 2  # one flag: --group
