"""Compose files for docker stack deploy in a netsim design (``stacks:``, issue 13): the services,
networks and aliases the docker CLI makes of them (cli/compose/convert/service.go, compose.go), their
placement on the design's nodes, what the CLI refuses or ignores said at the stack file's line, and the
worked example designs/swarm-stack/."""

from __future__ import annotations

import sys
import textwrap
from pathlib import Path

import pytest

from simulator.analysis.reachability import reach_of
from simulator.engine.dns import vip_of
from simulator.errors import DesignError
from simulator.loaders import load_design
from simulator.model import Driver
from simulator.pipeline import load

EXAMPLE = Path(__file__).parents[2] / "designs" / "swarm-stack" / "design.yaml"

DESIGN = """\
name: st
hosts:
  n1: {role: manager, lan: {address: 192.168.1.11/24}, kernel: {ipvs: IPVS}}
  n2: {role: worker, lan: {address: 192.168.1.12/24}, labels: {disk: ssd}, kernel: {ipvs: IPVS}}
  n3: {role: worker, lan: {address: 192.168.1.13/24}, kernel: {ipvs: IPVS}}
networks:
  ops: {driver: overlay, attachable: true}
stacks:
  shop: stack.yaml
"""

STACK = """\
version: "3.9"
services:
  web:
    image: nginx:1.25
    deploy: {replicas: 2}
    ports: ["8080:80", {target: 443, published: 8443, mode: host}]
    networks:
      front:
      back: {aliases: [www]}
  api:
    image: example/api:1
    x-netsim: {listens: [8080]}
    deploy: {replicas: 3}
    networks: [back, ops]
  cache:
    image: redis:7
    deploy: {replicas: 2, endpoint_mode: dnsrr}
    networks: [back]
  db:
    image: postgres:16
    deploy:
      placement: {constraints: ["node.labels.disk == ssd"]}
    networks: [back]
  agent:
    image: example/agent:1
    x-netsim: {listens: [9100]}
    deploy: {mode: global}
networks:
  front:
  back: {attachable: true}
  ops: {external: true}
"""


def write(tmp_path: Path, stack: str = STACK, design: str = DESIGN, ipvs: bool = False) -> Path:
    (tmp_path / "stack.yaml").write_text(stack)
    path = tmp_path / "design.yaml"
    path.write_text(design.replace("IPVS", "true" if ipvs else "false"))
    return path


def loaded(tmp_path: Path, **kw):
    return load_design(write(tmp_path, **kw))


def problems(path: Path) -> list[str]:
    try:
        return [str(p) for p in load_design(path)[1]]
    except DesignError as exc:
        return [str(p) for p in exc.problems]


def test_services_tasks_and_networks_are_named_after_the_stack(tmp_path):
    design, _ = loaded(tmp_path)
    assert [s.name for s in design.services] == ["shop_web", "shop_api", "shop_cache", "shop_db", "shop_agent"]
    assert [c.name for c in design.tasks("shop_web")] == ["shop_web.1", "shop_web.2"]
    nets = {n.name: n for n in design.networks if n.name != "ingress"}  # ingress: the swarm's routing mesh
    assert set(nets) == {"ops", "shop_front", "shop_back", "shop_default"}
    for name in ("shop_front", "shop_back", "shop_default"):  # the CLI's default driver: overlay
        assert nets[name].driver is Driver.OVERLAY and nets[name].engine_name == name
        assert ("com.docker.stack.namespace", "shop") in nets[name].labels
    assert nets["shop_back"].attachable and not nets["shop_front"].attachable
    assert design.service("shop_agent").networks == ("shop_default",)  # no networks: the stack's default
    assert design.service("shop_api").networks == ("shop_back", "ops")  # external: the design's own, by name


def test_the_service_name_is_an_alias_on_each_of_its_networks(tmp_path):
    design, _ = loaded(tmp_path)
    web = design.container("shop_web.1")
    assert {a.network: a.aliases for a in web.attachments if a.network != "ingress"} == {
        "shop_back": ("www", "web"), "shop_front": ("web",)}
    assert {a.network: a.aliases for a in design.container("shop_api.1").attachments} == {
        "shop_back": ("api",), "ops": ("api",)}


@pytest.mark.parametrize("ipvs", [False, True])
def test_an_alias_resolves_to_the_virtual_ip_in_vip_mode_and_to_the_tasks_in_dnsrr_mode(tmp_path, ipvs):
    """moby libnetwork/service_common.go: a service's aliases get the records its name gets (the VIP,
    or each task in dnsrr mode), and tasks.<alias> each task's address."""
    world = load(write(tmp_path, ipvs=ipvs).read_bytes(), source=str(tmp_path / "design.yaml")).world()
    from simulator.engine.dns import NameTable

    table = NameTable(world).by_network["shop_back"]
    vip = world.addressing.vips[("shop_api", "shop_back")]
    assert table["api"] == table["shop_api"] == [(vip, "vip:shop_api")] and vip_of(table["api"][0][1]) == "shop_api"
    assert sorted(c for _, c in table["tasks.api"]) == ["shop_api.1", "shop_api.2", "shop_api.3"]
    assert sorted(c for _, c in table["cache"]) == sorted(c for _, c in table["shop_cache"]) == ["shop_cache.1",
                                                                                                 "shop_cache.2"]
    assert "www" in table and table["www"][0][1] == "vip:shop_web"  # a written alias too
    result = reach_of(world)
    api = next(p for p in result.iter_probes() if p.source == "shop_web.1" and p.via == "dns" and p.name == "api")
    assert api.address == str(vip) and api.reachable is ipvs
    if ipvs:
        assert api.balanced_by == "vip" and api.responders == ("shop_api.1", "shop_api.2", "shop_api.3")
    cache = next(p for p in result.iter_probes() if p.source == "shop_web.1" and p.via == "dns" and p.name == "cache")
    assert cache.reachable and cache.balanced_by == "dns" and cache.responders == ("shop_cache.1", "shop_cache.2")


def test_replicas_global_mode_and_placement(tmp_path):
    design, _ = loaded(tmp_path)
    hosts = {c.name: c.host for c in design.containers}
    assert [hosts[f"shop_api.{n}"] for n in (1, 2, 3)] == ["n1", "n2", "n3"]  # spread in design order
    assert [c.name for c in design.tasks("shop_agent")] == ["shop_agent.n1", "shop_agent.n2", "shop_agent.n3"]
    assert design.service("shop_agent").global_mode
    assert [c.host for c in design.tasks("shop_db")] == ["n2"]
    assert design.service("shop_db").constraints == (("node.labels.disk", "==", "ssd"),)
    capped = STACK.replace("deploy: {replicas: 2, endpoint_mode: dnsrr}",
                           "deploy: {replicas: 4, endpoint_mode: dnsrr, placement: {max_replicas_per_node: 1}}")
    design, warnings = loaded(tmp_path, stack=capped)
    assert len(design.tasks("shop_cache")) == 3 and design.service("shop_cache").pending == 1
    said = [w for w in map(str, warnings) if "1 task(s) of service shop_cache stay pending" in w]
    assert said and said[0].startswith(f"{tmp_path / 'stack.yaml'}:15:"), said


def test_ports_short_syntax_is_ingress_and_long_syntax_says_its_mode(tmp_path):
    design, _ = loaded(tmp_path)
    web = design.service("shop_web")
    assert [(m.host_port, m.container_port) for m in web.ingress] == [(8080, 80)]
    assert [(m.host_port, m.container_port) for m in design.container("shop_web.1").ports] == [(8443, 443)]
    assert {lst.port for lst in design.container("shop_web.1").listeners} == {80, 443}  # ports, and nginx's image
    assert {lst.port for lst in design.container("shop_db.1").listeners} == {5432}  # postgres: the catalogue
    path = write(tmp_path)
    lan = [p for p in reach_of(load(path.read_bytes(), source=str(path)).world()).iter_probes()
           if p.source == "external" and p.via == "host" and p.port == 8443]
    assert {p.host for p in lan if p.reachable} == {c.host for c in design.tasks("shop_web")}


def stack_line(path: Path, fragment: str) -> list[str]:
    return [p for p in problems(path) if fragment in p]


@pytest.mark.parametrize("change, fragment, line", [
    (("    image: nginx:1.25\n", "    image: nginx:1.25\n    extends: api\n"),
     "Compose file contains unsupported options: extends: Support for `extends` is not implemented yet.", 5),
    (("    image: nginx:1.25\n", "    image: nginx:1.25\n    scale: 2\n"),
     "services.web Additional property scale is not allowed", 5),
    (("      back: {aliases: [www]}\n", "      back: {aliases: [www], priority: 1}\n"),
     "services.web.networks.back Additional property priority is not allowed", 9),
    (("    networks: [back, ops]\n", "    networks: [back, nowhere]\n"), 'service api: undefined network "nowhere"', 14),
    (("    deploy: {replicas: 2, endpoint_mode: dnsrr}\n",
      "    deploy: {replicas: 2, endpoint_mode: dnsrr}\n    ports: ['6379:6379']\n"),
     "port published with ingress mode can't be used with dnsrr mode", 18),
    (("    deploy: {mode: global}\n", "    deploy: {mode: global, replicas: 2}\n"),
     "replicas can only be used with replicated", 27),
    (("version: \"3.9\"\n", "version: \"2.4\"\n"), "unsupported Compose file version: 2.4", 1),
    (("version: \"3.9\"\n", ""), "unsupported Compose file version: 1.0", 1),
    (("  ops: {external: true}\n", "  ops: {external: true, name: elsewhere}\n"),
     'network "elsewhere" is declared as external, but could not be found', 31),
    (("      placement: {constraints: [\"node.labels.disk == ssd\"]}\n",
      "      placement: {constraints: [\"node.labels.disk == nvme\"]}\n"), "no node satisfies the placement", 22),
])
def test_refusals_are_the_clis_words_at_the_stack_files_line(tmp_path, change, fragment, line):
    path = write(tmp_path, stack=STACK.replace(*change))
    found = stack_line(path, fragment)
    assert found and found[0].startswith(f"{tmp_path / 'stack.yaml'}:{line}:"), problems(path)


def test_a_version_is_optional_from_engine_23(tmp_path):
    design = DESIGN.replace("name: st\n", "name: st\nengine_version: \"24.0\"\n")
    path = write(tmp_path, stack=STACK.replace("version: \"3.9\"\n", ""), design=design)
    assert not stack_line(path, "unsupported Compose file version")


def test_an_external_network_that_is_not_an_overlay_is_out_of_scope(tmp_path):
    path = write(tmp_path, design=DESIGN.replace("ops: {driver: overlay, attachable: true}", "ops: {driver: bridge}"))
    found = stack_line(path, 'network "ops" is declared as external, but it is not in the right scope: "local"')
    assert found and found[0].startswith(f"{tmp_path / 'stack.yaml'}:31:")


def test_ignored_keys_are_warnings_in_the_clis_words(tmp_path):
    stack = STACK.replace("    image: example/api:1\n", "    image: example/api:1\n    build: ./api\n"
                          "    container_name: api\n    depends_on: [cache]\n")
    _, warnings = loaded(tmp_path, stack=stack)
    said = {str(w).split(": warning: ", 1)[1] for w in warnings if "stack.yaml:" in str(w)}
    assert any(s.startswith("services.api.build: Ignoring unsupported options: build") for s in said), said
    assert any("Ignoring deprecated options: container_name: Setting the container name is not supported." in s
               for s in said)
    assert any(s.startswith("services.api.depends_on: depends_on is ignored when deploying a stack") for s in said)


def test_a_missing_stack_file_is_an_error_at_the_stacks_line(tmp_path):
    path = write(tmp_path, design=DESIGN.replace("shop: stack.yaml", "shop: nowhere.yaml"))
    found = stack_line(path, 'stack shop: compose file "nowhere.yaml": no such file')
    assert found and found[0].startswith(f"{path}:9:"), problems(path)


def test_a_stack_name_the_engine_cannot_prefix_is_refused(tmp_path):
    path = write(tmp_path, design=DESIGN.replace("shop: stack.yaml", "\"-shop\": stack.yaml"))
    assert stack_line(path, "is not a stack name netsim models")


def test_the_design_services_section_and_stacks_share_the_nodes(tmp_path):
    """One placement for both: a host-mode port a design service holds on a node keeps a stack's task off it."""
    design = DESIGN + ("services:\n  edge: {networks: [ops], listens: [443], mode: global,\n"
                       "         ports: [{target: 443, published: 8443, mode: host}]}\n")
    loaded_design, warnings = loaded(tmp_path, design=design)
    assert not loaded_design.tasks("shop_web") and loaded_design.service("shop_web").pending == 2
    assert any("host-mode port already in use on 3 nodes" in str(w) for w in warnings)


def test_the_example_loads_and_its_intent_holds():
    design, _ = load_design(EXAMPLE)
    assert {s.name for s in design.services} == {"shop_web", "shop_api", "shop_cache", "shop_db", "shop_agent"}
    assert [c.host for c in design.tasks("shop_db")] == ["node-3"]
    assert {c.host for c in design.tasks("shop_web")} == {"node-2", "node-3"}


@pytest.mark.parametrize("command", [["check"], ["reach"], ["test"]])
def test_netsim_commands_run_on_the_example(command):
    from typer.testing import CliRunner

    from simulator.cli import app

    result = CliRunner().invoke(app, [*command, str(EXAMPLE)])
    assert result.exit_code == 0, result.output
    if command == ["check"]:
        assert "5 swarm service(s)" in result.output
    if command == ["test"]:
        assert "all 5 expectation(s) hold" in result.output


def test_class_groups_equal_the_probes_on_the_example():
    sys.path.insert(0, str(Path(__file__).parent))
    from test_classes_property import assert_classes_exact
    from test_coarse_groups import assert_coarse_exact

    world = load(EXAMPLE.read_bytes(), source=str(EXAMPLE)).world()
    assert assert_classes_exact(world) > 0 and assert_coarse_exact(world) > 0


def test_a_stack_file_written_with_yaml_anchors_keeps_its_lines(tmp_path):
    stack = textwrap.dedent("""\
        version: "3.9"
        x-base: &base
          image: example/api:1
          x-netsim: {listens: [80]}
        services:
          one: {<<: *base, deploy: {mode: global, replicas: 1}}
        """)
    path = write(tmp_path, stack=stack)
    found = stack_line(path, "replicas can only be used with replicated")
    assert found and found[0].startswith(f"{tmp_path / 'stack.yaml'}:6:"), problems(path)
