"""Swarm services in the diagram (DOT and Mermaid), the HTML report and `netsim diff`: a service drawn
once with its placement, virtual IPs, the ingress network and which nodes publish which port."""

from __future__ import annotations

import re
from pathlib import Path

from simulator.analysis.paths import trace_between
from simulator.analysis.reachability import compute_reach
from simulator.diff import diff_results, render_text, service_changes
from simulator.loaders import load_design, load_text
from simulator.render import diagram, report
from simulator.render.diagram import build_scene, render_dot, with_path
from simulator.render.mermaid import render_mermaid
from simulator.render.report import render_report
from simulator.render.services import service_views

ROOT = Path(__file__).resolve().parents[2]

# three nodes, node-3 without IPVS: a vip service publishing in ingress mode, a constrained one with
# tasks left pending, a dnsrr one publishing in host mode, a global one on an encrypted overlay
THREE = """
name: three-nodes
hosts:
  node-1: {role: manager, lan: {address: 192.168.1.11/24}, labels: {zone: a}}
  node-2: {role: worker, lan: {address: 192.168.1.12/24}, labels: {zone: b}}
  node-3: {role: worker, lan: {address: 192.168.1.13/24}, labels: {zone: b}, kernel: {ipvs: false}}
networks:
  front: {driver: overlay, attachable: true}
  back: {driver: overlay, attachable: true, encrypted: true}
containers:
  client: {host: node-1, networks: [front]}
services:
  web:
    replicas: 3
    networks: [front, back]
    listens: [80]
    ports: ["8080:80"]
  api:
    replicas: 4
    networks: [back]
    listens: [9000]
    placement: {constraints: ["node.labels.zone == b"], max_replicas_per_node: 1}
  rr:
    replicas: 2
    endpoint_mode: dnsrr
    networks: [front]
    listens: [7000]
    ports: [{target: 7000, published: 7001, mode: host}]
  agent:
    mode: global
    networks: [back]
    listens: [5000]
"""


def three():
    design, _ = load_text(THREE)
    return design


def cards(scene):
    return {c.name: c for c in scene.services}


def test_each_service_is_drawn_once_with_its_placement_vips_and_ports():
    design = three()
    scene = build_scene(design)
    vips = compute_reach(design, None).world.addressing.vips
    web, api, rr, agent = (cards(scene)[n] for n in ("web", "api", "rr", "agent"))
    assert [c.name for c in scene.services] == ["web", "api", "rr", "agent"]
    assert web.title == "⚙ web · replicated 3 · vip"
    assert web.lines[0] == (f"vip {vips[('web', 'front')]} on front, {vips[('web', 'back')]} on back, "
                            f"{vips[('web', 'ingress')]} on ingress (no IPVS on node-3: the VIP answers nobody there)")
    assert web.lines[2:5] == ("on node-1: web.1", "on node-2: web.2", "on node-3: web.3")
    assert "⚠ ingress 8080 → 80/tcp: open on node-1, node-2; not on node-3 (no IPVS)" in web.lines
    assert api.title == "⚙ api · replicated 4 · vip"
    assert "constraints node.labels.zone == b; max 1 per node" in api.lines
    assert tuple(x for x in api.lines if x.startswith("on ")) == ("on node-2: api.1", "on node-3: api.2")
    assert "2 task(s) pending: no node can take them (constraints, max per node)" in api.lines
    assert rr.title == "⚙ rr · replicated 2 · dnsrr"
    assert rr.lines[0] == "dnsrr: rr resolves to every task's address (no virtual IP)"
    assert "⚠ host 7001 → 7000/tcp: on node-1, node-2 (nodes running a task)" in rr.lines
    assert agent.title == "⚙ agent · global (3 nodes) · vip" and "tasks on node-1, node-2, node-3" in agent.lines
    tasks = {(e.a, e.b) for e in scene.edges if e.kind == "task"}
    assert {b for a, b in tasks if a == "svc/web"} == {"ctr/web.1", "ctr/web.2", "ctr/web.3"}
    assert {b for a, b in tasks if a == "svc/api"} == {"ctr/api.1", "ctr/api.2"}
    assert any(line == "encrypted (IPsec)" for o in scene.overlays if o.name == "back" for line in o.lines)


def test_the_ingress_network_says_which_nodes_publish_and_why_not():
    scene = build_scene(three())
    assert scene.ingress is not None and scene.ingress.lines[:3] == (
        "10.0.0.0/24", "8080 → 80/tcp → web: open on node-1, node-2",
        "not bound on node-3: no IPVS (CONFIG_IP_VS) in the kernel")
    assert {e.b for e in scene.edges if e.kind == "mesh"} == {"nic/node-1", "nic/node-2"}
    assert {e.a for e in scene.edges if e.b == "net/ingress" and e.kind == "vxlan"} <= {"nic/node-3"}
    assert "net/ingress" not in {o.id for o in scene.overlays}  # drawn once, as the routing mesh
    assert {h.name: h.mesh for h in scene.hosts} == {"node-1": ("8080 → 80/tcp → web (routing mesh)",),
                                                     "node-2": ("8080 → 80/tcp → web (routing mesh)",),
                                                     "node-3": ()}


def test_without_ipvs_anywhere_the_ingress_port_is_bound_on_no_node():
    design, _ = load_design(ROOT / "designs/swarm-services.yaml")
    scene = build_scene(design)
    web = cards(scene)["web"]
    assert "ingress 8082 → 80/tcp: bound on no node (no IPVS on node-1)" in web.lines
    assert "⚠ host 8081 → 80/tcp: on node-1 (nodes running a task)" in web.lines
    assert scene.ingress is not None and "8082 → 80/tcp → web: bound on no node" in scene.ingress.lines
    assert not any(e.kind == "mesh" for e in scene.edges) and all(h.mesh == () for h in scene.hosts)
    assert "1 task(s) pending: no node can take them (constraints, max per node)" in cards(scene)["batch"].lines


def test_no_ingress_network_without_an_ingress_port_and_no_services_without_services():
    design = three()
    plain = design.__class__(design.name, design.hosts, design.networks,
                             tuple(c for c in design.containers if c.task_of is None))
    scene = build_scene(plain)
    assert scene.services == () and scene.ingress is None
    assert "swarm services" not in render_dot(scene) and "swarm services" not in render_mermaid(scene)
    text = THREE.replace('    ports: ["8080:80"]\n', "")
    assert build_scene(load_text(text)[0]).ingress is None


def test_dot_draws_the_services_table_with_an_edge_from_each_service_row_to_its_tasks():
    dot = render_dot(build_scene(three()))
    assert dot.count("swarm services") == 1
    assert 'PORT="s0"' in dot and 'PORT="s3"' in dot
    assert re.search(r'services:s0:w -> "ctr/web\.1"', dot)
    assert re.search(r'services:s1:w -> "ctr/api\.2"', dot)
    assert "ingress · routing mesh" in dot
    assert re.search(r'"net/ingress" -> "nic/node-1"', dot) and not re.search(r'"net/ingress" -> "nic/node-3"', dot)


def test_mermaid_draws_a_subgraph_of_services_the_ingress_and_their_links():
    text = render_mermaid(build_scene(three()))
    assert len(re.findall(r'  n\d+\[\["<b>⇄ overlay ingress · routing mesh</b><br/>10\.0\.0\.0/24', text)) == 1
    assert '["swarm services"]' in text
    web = re.search(r'(n\d+)\["<b>⚙ web · replicated 3 · vip</b>', text).group(1)
    box = re.search(r'(n\d+)\["<b>web\.1</b>', text).group(1)
    assert f"  {web} -.- {box}" in text
    assert "<b>⚠ 8080 → 80/tcp → web (routing mesh)</b>" in text
    assert "classDef service " in text and "class " in text


def test_a_path_never_takes_a_service_or_the_mesh_as_a_shortcut():
    design = three()
    scene = build_scene(design)
    traces = trace_between(design, "client", "web.2", 80)
    view = with_path(scene, "client → web.2", traces).path
    assert view is not None and not any(n.startswith("svc/") or n == "net/ingress" for n in view.nodes)


def test_the_services_drawn_are_bounded_and_the_rest_counted(monkeypatch):
    monkeypatch.setattr(diagram, "SERVICES_DRAWN", 2)
    scene = build_scene(three())
    assert [c.name for c in scene.services] == ["web", "api"] and scene.services_left_out == 2
    assert "… and 2 more service(s): netsim report lists every one" in render_dot(scene)
    assert not any(e.a in ("svc/rr", "svc/agent") for e in scene.edges)


def test_report_has_a_services_section_with_tasks_and_the_ipvs_caveat():
    design = three()
    html = render_report(design, None, "")
    assert '<a href="#services-h">services</a>' in html
    section = html[html.index('<h2 id="services-h">'):html.index('<h2 id="addressing-h">')]
    assert "Host(s) node-3 have no IPVS" in section
    assert "<td>web</td><td>replicated 3</td>" in section
    assert "<td>api</td><td>replicated 4</td>" in section
    assert "2 task(s) pending" in section and "node.labels.zone == b; max 1 per node" in section
    assert "⚠ ingress 8080 → 80/tcp: open on node-1, node-2; not on node-3 (no IPVS)" in section
    assert "⚠ host 7001 → 7000/tcp: on node-1, node-2 (nodes running a task)" in section
    world = compute_reach(design, None).world
    address = {e.network: e.address for e in world.addressing.endpoints_of("web.2")}
    assert f"<td>web.2</td><td>web</td><td>node-2</td><td>back {address['back']}; front {address['front']}" in section
    plain = render_report(load_design(ROOT / "designs/frontend-backend.yaml")[0], None, "")
    assert "services-h" not in plain and "@@" not in plain


def test_the_services_tables_are_bounded(monkeypatch):
    monkeypatch.setattr(report, "TABLE_ROWS", 3)
    html = render_report(three(), None, "")
    section = html[html.index('<h2 id="services-h">'):html.index('<h2 id="addressing-h">')]
    assert "The first 3 rows (services) of 4." in section
    assert "The first 3 rows (tasks) of 10" in section
    assert section.count("<td>agent</td>") == 0


def test_service_views_follow_the_design_order_and_count_pending_tasks():
    design = three()
    views = service_views(design, compute_reach(design, None).world)
    assert [(v.name, v.replicas, v.pending, v.global_mode) for v in views] == [
        ("web", 3, 0, False), ("api", 4, 2, False), ("rr", 2, 0, False), ("agent", 3, 0, True)]


def _variant(old: str, new: str) -> str:
    assert old in THREE
    return THREE.replace(old, new)


def test_diff_reports_services_added_removed_and_changed_field_by_field():
    before = three()
    text = _variant("    replicas: 3\n    networks: [front, back]", "    replicas: 5\n    networks: [front, back]")
    text = text.replace("    endpoint_mode: dnsrr\n", "").replace('    ports: ["8080:80"]\n', "")
    text = text.replace("  agent:\n    mode: global\n    networks: [back]\n    listens: [5000]\n",
                        "  cache:\n    replicas: 1\n    networks: [back]\n    listens: [6379]\n")
    after = load_text(text)[0]
    changes = {c.service: c for c in service_changes(before, after)}
    assert set(changes) == {"web", "rr", "agent", "cache"}
    web = changes["web"]
    assert web.kind == "changed"
    assert dict((f, (a, b)) for f, a, b in web.fields) == {
        "replicas": (3, 5), "ingress_ports": (("8080 → 80/tcp",), ()),
        "placement": (("node-1 ×1", "node-2 ×1", "node-3 ×1"), ("node-1 ×2", "node-2 ×2", "node-3 ×1"))}
    assert str(changes["rr"]) == "~ service rr: endpoint mode from dnsrr to vip"
    assert changes["agent"].kind == "removed" and str(changes["agent"]).startswith(
        "- service agent (was mode global; endpoint mode vip; networks back; placement node-1 ×1, node-2 ×1, node-3 ×1")
    assert str(changes["cache"]) == ("+ service cache: mode replicated; replicas 1; endpoint mode vip; networks back; "
                                     "placement node-1 ×1")
    assert changes["cache"].to_json()["fields"]["replicas"] == {"old": None, "new": 1}


def test_a_service_change_that_moves_no_probe_still_makes_the_diff():
    before = three()
    after = load_text(_variant('["node.labels.zone == b"]', '["node.role == worker"]'))[0]
    d = diff_results(compute_reach(before, None), compute_reach(after, None))
    assert not d.changes and not d.exposed and not d.unexposed
    assert not d.empty and [s.service for s in d.services] == ["api"]
    assert d.to_json()["services"] == [{"change": "changed", "service": "api", "fields": {"constraints": {
        "old": ["node.labels.zone == b", "max 1 per node"], "new": ["node.role == worker", "max 1 per node"]}}}]
    assert render_text(d).splitlines()[:3] == [
        f"{before.source} -> {after.source} (engine 20.10): 1 swarm service(s) added, removed or changed; "
        "0 path(s) opened, 0 closed, 0 answered by another container; 0 newly exposed, 0 no longer exposed",
        "", "Swarm services:"]
    same = diff_results(compute_reach(before, None), compute_reach(before, None))
    assert same.empty and same.services == ()
