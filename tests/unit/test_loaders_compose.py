"""docker-compose files → the same model: golden-ish summaries and compose-specific rules."""

from __future__ import annotations

import textwrap
from ipaddress import IPv4Address, IPv4Network
from pathlib import Path


from simulator.errors import DesignError
from simulator.loaders import load_design, load_text
from simulator.loaders.compose import SERVICE_KEYS, project_name
from simulator.model import Driver, ModeKind

DATA = Path(__file__).parents[1] / "data" / "loaders"


def problems(text: str) -> list[str]:
    try:
        _, warnings = load_text(textwrap.dedent(text), "c.yaml", kind="compose")
        return [str(p) for p in warnings]
    except DesignError as exc:
        return [str(p) for p in exc.problems]


def one(text: str, fragment: str) -> str:
    found = [p for p in problems(text) if fragment in p]
    assert found, f"{fragment!r} not in {problems(text)}"
    return found[0]


def summary(design) -> list[str]:
    """A stable text picture of a design for golden-ish comparisons."""
    lines = [f"project {design.name} ({design.kind})"]
    for n in design.networks:
        extra = [f"{k}={v}" for k, v in (("subnet", n.subnet), ("gateway", n.gateway), ("parent", n.parent_interface),
                                          ("mode", n.mode)) if v is not None]
        flags = [f for f in ("internal", "external", "default_bridge") if getattr(n, f)]
        lines.append(" ".join([f"net {n.name}", n.driver.value, n.engine_name, *extra, *flags]))
    for c in design.containers:
        nets = ",".join(a.network + (f"@{a.ipv4_address}" if a.ipv4_address else "")
                        + (f"~{'/'.join(a.aliases)}" if a.aliases else "") for a in c.attachments)
        ports = ",".join(f"{p.host_ip or ''}:{p.host_port}->{p.container_port}/{p.protocol.value}" for p in c.ports)
        listens = ",".join(f"{l.port}/{l.protocol.value}" for l in c.listeners)
        lines.append(f"ctr {c.name} {c.engine_name} mode={c.mode} nets={nets} ports={ports} listens={listens}")
    return lines


def test_shopapp_golden():
    design, warnings = load_design(DATA / "shopapp" / "docker-compose.yml")
    assert warnings == []
    assert summary(design) == [
        "project shopapp (compose)",
        "net default bridge shopapp_default",
        "net front bridge shopapp_front",
        "net back bridge shopapp_back subnet=172.28.0.0/16 gateway=172.28.0.1 internal",
        "ctr web shopapp-web-1 mode=networks nets=back,front ports=:8080->80/tcp,127.0.0.1:8443->443/tcp "
        "listens=80/tcp,443/tcp",
        "ctr api shopapp-api-1 mode=networks nets=front,back@172.28.0.20~backend-api ports= "
        "listens=3000/tcp,9000/udp,9001/udp",
        "ctr db shopapp-db-1 mode=networks nets=default ports= listens=5432/tcp",  # postgres: the catalogue
        "ctr sidecar shopapp-sidecar-1 mode=container:api nets= ports= listens=",
    ]
    web = design.container("web")
    assert web.service == "web" and web.host == "docker1"
    assert design.location("containers", "web", "ports", 1).line == 7
    assert design.location("networks", "back", "subnet").line == 35
    assert design.location("containers", "api", "networks", "back").line == 18


def test_lanpub_golden():
    design, warnings = load_design(DATA / "lanpub.compose.yaml")
    assert summary(design) == [
        "project lanpub (compose)",
        "net bridge bridge bridge default_bridge",
        "net lan macvlan lanpub_lan subnet=192.168.50.0/24 gateway=192.168.50.1 parent=eth0.50 mode=bridge",
        "ctr dns dns mode=networks nets=lan@192.168.50.53 ports= listens=",
        "ctr probe lanpub-probe-1 mode=container:dns nets= ports= listens=",
        "ctr tools lanpub-tools-1 mode=host nets= ports= listens=",
        "ctr old lanpub-old-1 mode=networks nets=bridge ports=:2222->22/tcp listens=22/tcp",
    ]
    assert design.network("lan").aux_addresses == (IPv4Address("192.168.50.2"),)
    assert [str(w) for w in warnings] == [
        f"{DATA / 'lanpub.compose.yaml'}:29:3: warning: networks.outside: no service uses this network, "
        "so compose does not create it"]


def test_project_name_from_directory(tmp_path):
    folder = tmp_path / "My App!.v2"
    folder.mkdir()
    (folder / "compose.yaml").write_text("services:\n  web: {image: nginx}\n")
    design, _ = load_design(folder / "compose.yaml")
    assert design.name == "myappv2"
    assert design.container("web").docker_name == "myappv2-web-1"
    assert design.network("default").docker_name == "myappv2_default"
    assert project_name(str(folder / "compose.yaml")) == "myappv2"


def test_detects_compose_by_services_key():
    design, _ = load_text("name: p\nservices:\n  web: {image: x}\n")
    assert design.kind == "compose"


def test_every_spec_service_key_is_accepted():
    body = "\n".join(f"    {k}: null" for k in SERVICE_KEYS if k not in ("networks", "network_mode", "profiles"))
    found = problems(f"name: p\nservices:\n  web:\n{body}\n")
    assert not [p for p in found if "unknown key" in p or "warning" not in p], found
    assert len(SERVICE_KEYS) > 90


def test_unknown_service_key_did_you_mean():
    msg = one("name: p\nservices:\n  web:\n    imgae: nginx\n", "unknown key")
    assert msg == 'c.yaml:4:5: services.web.imgae: unknown key "imgae" in a service (did you mean "image"?)'


def test_x_keys_allowed_everywhere():
    found = problems("""\
        name: p
        x-top: {anything: 1}
        services:
          web:
            x-note: hi
            ports: [{target: 80, x-why: doc}]
            networks: {front: {x-a: 1}}
        networks:
          front: {x-b: 2, ipam: {x-c: 3, config: [{subnet: 10.5.0.0/24, x-d: 4}]}}
        """)
    assert found == []


def test_top_level_unknown_key():
    assert 'unknown key "servics" in a compose file (did you mean "services"?)' in one(
        "name: p\nservices: {}\nservics: {}\n", "unknown")


def test_version_is_obsolete_warning():
    assert "c.yaml:1:1: warning: version: the attribute `version` is obsolete" in one(
        "version: '3.8'\nname: p\nservices:\n  web: {image: x}\n", "obsolete")


def test_interpolation():
    design, warnings = load_text(textwrap.dedent("""\
        name: p
        services:
          web:
            ports: ["${HOST_PORT:-8080}:${CPORT-80}"]
            image: "$${NOT}"
            container_name: "${NAME}web"
        """), "c.yaml")
    web = design.container("web")
    assert (web.ports[0].host_port, web.ports[0].container_port) == (8080, 80)
    assert web.docker_name == "web"
    assert [str(w) for w in warnings][0].startswith("c.yaml:6:21: warning: services.web.container_name: variable NAME "
                                                    "is not set, substituting an empty string")
    assert len(warnings) == 1


def test_interpolation_errors():
    assert "required variable DB is missing a value: need it" in one(
        "name: p\nservices:\n  web: {image: '${DB:?need it}'}\n", "required")
    assert 'invalid interpolation format in "${oops"' in one("name: p\nservices:\n  web: {image: '${oops'}\n", "invalid")
    assert "write $$ for a literal $" in one("name: p\nservices:\n  web: {image: 'a$ b'}\n", "literal")


def test_nested_default():
    design, _ = load_text("name: p\nservices:\n  web: {container_name: '${A:-${B:-inner}}'}\n")
    assert design.container("web").docker_name == "inner"


def test_replicas_are_containers():
    """Scaled services are read (tests/unit/test_replicas.py has the rest); one replica is named as before."""
    design, _ = load_text("name: p\nservices:\n  web: {image: x, scale: 3}\n", "c.yaml", kind="compose")
    assert [c.name for c in design.containers] == ["web.1", "web.2", "web.3"]
    assert problems("name: p\nservices:\n  web: {deploy: {replicas: 1, resources: {}}}\n") == []


def test_not_modelled_keys_warn():
    found = problems("name: p\nservices:\n  web: {links: [db], extra_hosts: ['a:1.2.3.4'], dns: 8.8.8.8}\n"
                     "  db: {image: x}\n")
    assert [p.split(": ", 3)[3] for p in found] == ["links is not modelled; netsim ignores it",
                                                    "extra_hosts is not modelled; netsim ignores it",
                                                    "dns is not modelled; netsim ignores it"]


def test_network_modes():
    design, _ = load_text(textwrap.dedent("""\
        name: p
        services:
          app: {image: x, container_name: the-app}
          s1: {network_mode: "service:app"}
          s2: {network_mode: "container:the-app"}
          s3: {network_mode: host}
          s4: {network_mode: none}
          s5: {network_mode: bridge}
        """))
    modes = {c.name: (c.mode.kind, c.mode.target) for c in design.containers}
    assert modes["s1"] == modes["s2"] == (ModeKind.CONTAINER, "app")
    assert modes["s3"] == (ModeKind.HOST, None) and modes["s4"] == (ModeKind.NONE, None)
    assert design.container("s5").networks == ("bridge",) and design.network("bridge").default_bridge


def test_container_mode_outside_the_file():
    msg = one("name: p\nservices:\n  web: {network_mode: 'container:elsewhere'}\n", "not in the design")
    assert msg.startswith("c.yaml:3:23: services.web.network_mode: container elsewhere is not in the design")


def test_bad_network_mode():
    assert '"mynet" is not a network mode' in one("name: p\nservices:\n  web: {network_mode: mynet}\n", "mode")


def test_network_mode_bridge_with_networks():
    assert "declares mutually exclusive `network_mode` and `networks`" in one(
        "name: p\nservices:\n  web: {network_mode: bridge, networks: [default]}\n", "exclusive")


def test_expose_with_service_mode():
    assert "conflicting options: port exposing and the container type network mode" in one(
        "name: p\nservices:\n  app: {image: x}\n  side: {network_mode: 'service:app', expose: [80]}\n", "exposing")


def test_networks_priority_orders_attachments():
    design, _ = load_text(textwrap.dedent("""\
        name: p
        services:
          web:
            networks:
              zeta: {priority: 5, gw_priority: 3}
              alpha:
              beta: {priority: 9}
        networks: {alpha: {}, beta: {}, zeta: {}}
        """))
    web = design.container("web")
    assert web.networks == ("beta", "zeta", "alpha")
    assert web.attachment("zeta").gw_priority == 3


def test_service_network_ignored_keys_warn():
    msg = one("name: p\nservices:\n  web:\n    networks:\n      default: {mac_address: 'aa:bb:cc:dd:ee:ff'}\n", "mac")
    assert msg == "c.yaml:5:17: warning: services.web.networks.default.mac_address: mac_address is not modelled; ignored"


def test_undefined_network_reference():
    msg = one("name: p\nservices:\n  web: {networks: [frontt]}\n  api: {networks: [front]}\nnetworks: {front: {}}\n",
              "undefined network")
    assert msg == ('c.yaml:3:20: services.web.networks[0]: service "web" refers to undefined network frontt '
                   '(did you mean "front"?); declare it under top-level networks:')


def test_default_network_customised():
    design, _ = load_text("name: p\nservices:\n  web: {image: x}\nnetworks:\n  default: {name: shared, internal: true}\n")
    net = design.network("default")
    assert (net.docker_name, net.internal) == ("shared", True)


def test_external_networks():
    design, _ = load_text(textwrap.dedent("""\
        name: p
        services:
          web: {networks: [a, b, c]}
        networks:
          a: {external: true}
          b: {external: true, name: corp}
          c: {external: {name: legacy}}
        """))
    assert [(n.name, n.docker_name, n.external) for n in design.networks] == [
        ("a", "a", True), ("b", "corp", True), ("c", "legacy", True)]
    assert "external.name is deprecated" in one(
        "name: p\nservices:\n  web: {networks: [c]}\nnetworks:\n  c: {external: {name: legacy}}\n", "deprecated")
    assert 'conflicting parameters "external" and "driver"' in one(
        "name: p\nservices:\n  web: {networks: [a]}\nnetworks:\n  a: {external: true, driver: bridge}\n", "conflicting")


def test_driver_opts():
    design, warnings = load_text(textwrap.dedent("""\
        name: p
        services:
          web: {networks: [b, ov, iv]}
        networks:
          b:
            driver_opts:
              com.docker.network.bridge.enable_icc: "false"
              com.docker.network.bridge.enable_ip_masquerade: 0
              com.docker.network.bridge.host_binding_ipv4: 127.0.0.1
              com.docker.network.bridge.gateway_mode_ipv4: routed
              com.docker.network.bridge.name: br-shop
          ov: {driver: overlay, attachable: "true", driver_opts: {encrypted: ""}}
          iv: {driver: ipvlan, driver_opts: {parent: ens4, ipvlan_mode: l3}}
        """), "c.yaml")
    b, ov, iv = design.network("b"), design.network("ov"), design.network("iv")
    assert (b.icc, b.masquerade, b.host_binding_ipv4, b.gateway_mode) == (False, False, IPv4Address("127.0.0.1"), "routed")
    assert (ov.driver, ov.attachable, ov.encrypted) == (Driver.OVERLAY, True, True)
    assert (iv.parent, iv.vlan, iv.mode) == ("ens4", None, "l3")
    assert [str(w) for w in warnings] == [
        'c.yaml:11:7: warning: networks.b.driver_opts.com.docker.network.bridge.name: driver option '
        '"com.docker.network.bridge.name" is not modelled for bridge networks; ignored']


def test_driver_opt_errors():
    assert 'expected true or false, not the string "maybe"' in one(
        "name: p\nservices:\n  web: {}\nnetworks:\n  default:\n    driver_opts: "
        "{com.docker.network.bridge.enable_icc: maybe}\n", "maybe")
    assert '"vepaa" is not a macvlan mode; use one of bridge, vepa, private, passthru (did you mean "vepa"?)' in one(
        "name: p\nservices:\n  web: {}\nnetworks:\n  default: {driver: macvlan, driver_opts: {macvlan_mode: vepaa}}\n",
        "vepaa")
    assert 'driver "weave" is not modelled' in one(
        "name: p\nservices:\n  web: {}\nnetworks:\n  default: {driver: weave}\n", "weave")


def test_ipam_variants():
    found = problems(textwrap.dedent("""\
        name: p
        services:
          web: {}
        networks:
          default:
            enable_ipv6: true
            ipam:
              driver: custom
              config:
                - subnet: fd00:1::/64
                - subnet: 10.9.0.0/24
                  ip_range: 10.9.0.128/25
                - subnet: 10.10.0.0/24
        """))
    assert [p.split("warning: ")[1] for p in found] == [
        "networks.default.ipam.driver: IPAM driver the string \"custom\" is not modelled; addresses are simulated "
        "with Docker's default IPAM",
        "networks.default.ipam.config[2]: only the first IPv4 subnet of a network is modelled; this one is skipped",
    ]  # the IPv6 subnet is read (tests/unit/test_ipv6_design.py)
    design, _ = load_text("name: p\nservices:\n  web: {}\nnetworks:\n  default:\n    ipam: {config: "
                          "[{subnet: 10.9.0.0/24, ip_range: 10.9.0.128/25}]}\n")
    assert design.network("default").ip_range == IPv4Network("10.9.0.128/25")


def test_profiles_leave_service_out():
    design, warnings = load_text("name: p\nservices:\n  web: {}\n  debug: {profiles: [dbg]}\n")
    assert [c.name for c in design.containers] == ["web"]
    assert any("services.debug.profiles: profiles dbg: none is active, so compose does not start this service"
               in str(w) for w in warnings), warnings


def test_depends_on_unknown_service():
    assert 'service "web" depends on undefined service "dbb" (did you mean "db"?)' in one(
        "name: p\nservices:\n  web: {depends_on: [dbb]}\n  db: {}\n", "depends")


def test_long_port_syntax_keys():
    design, _ = load_text("name: p\nservices:\n  web:\n    ports:\n      - {target: '80', published: '8000-8001', "
                          "protocol: udp, mode: host, name: web, app_protocol: http}\n")
    assert design.container("web").ports[0].host_port == 8000
    assert 'unknown key "targt" in a port mapping (did you mean "target"?)' in one(
        "name: p\nservices:\n  web: {ports: [{targt: 80}]}\n", "targt")
    assert "needs target" in one("name: p\nservices:\n  web: {ports: [{published: 80}]}\n", "needs target")


def test_labels_list_form():
    design, _ = load_text("name: p\nservices:\n  web: {labels: ['a=1', 'b=two=2']}\n")
    assert design.container("web").labels == (("a", "1"), ("b", "two=2"))


def test_services_must_be_mappings():
    # the compose-spec schema decides this one (a service is "type": "object"), in the schema errors' words
    assert "c.yaml:3:7: services.web: expected a mapping, not nothing (null)" in problems(
        "name: p\nservices:\n  web:\n")
    assert problems("name: p\nservices: [web]\n") == ["c.yaml:2:11: services: expected a mapping, not a list"]


def test_include_of_a_missing_file():
    assert 'c.yaml:2:11: include[0]: include "other.yaml": no such file' in one(
        "name: p\ninclude: [other.yaml]\nservices: {}\n", "include")


def test_yaml_1_2_scalars_stay_strings():
    design, _ = load_text("name: p\nservices:\n  web: {ports: [22:22], hostname: on}\n")
    web = design.container("web")
    assert (web.ports[0].host_port, web.hostname) == (22, "on")


def test_compose_name_rules():
    assert "is not a valid project name" in one("name: My_Proj\nservices:\n  web: {}\n", "project name")


# --- the compose-spec schema ------------------------------------------------------------------


def test_the_shipped_compose_spec_names_its_source():
    from simulator.schema import compose_schema

    spec = compose_schema()
    assert "github.com/compose-spec/compose-spec/blob/" in spec["$comment"] and "schema/compose-spec.json" in spec["$comment"]
    assert spec["$schema"].startswith("https://json-schema.org/draft-07") and "service" in spec["definitions"]


def test_spec_errors_at_file_line_column_and_field():
    found = problems("name: p\nservices:\n  s:\n    image: x\n    labels: [a, a]\n    restart: 5\n"
                     "    networks: {n: {ipv4_adress: 10.0.0.2}}\nnetworks:\n  n: {}\n")
    assert 'c.yaml:5:13: services.s.labels: the string "a" is listed more than once; each item must be unique' in found
    assert "c.yaml:6:14: services.s.restart: expected a string, not the number 5" in found
    assert ('c.yaml:7:20: services.s.networks.n.ipv4_adress: unknown key "ipv4_adress" in a service network '
            '(did you mean "ipv4_address"?)') in found


def test_a_type_the_spec_refuses_is_reported_once():
    found = problems("name: p\nservices:\n  s: {image: x, networks: 5}\n")
    assert [p for p in found if "services.s.networks" in p] == [
        "c.yaml:3:27: services.s.networks: expected a list or a mapping, not the number 5"]


def test_intent_sections_are_allowed_beside_the_spec():
    found = problems("name: p\nservices:\n  s: {image: x}\nexpect:\n  deny: []\nfoo: 1\n")
    assert [p for p in found if "unknown key" in p] == ['c.yaml:6:1: foo: unknown key "foo" in a compose file']
