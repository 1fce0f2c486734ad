"""The netsim design format: model produced, locations, and loader-level errors."""

from __future__ import annotations

import json
import textwrap
from ipaddress import IPv4Address, IPv4Interface, IPv4Network
from pathlib import Path

import jsonschema
import pytest
import yaml

from simulator.errors import DesignError, DesignLoadError
from simulator.loaders import load_design, load_text
from simulator.model import Driver, Listener, ModeKind, PortMapping, Protocol
from simulator.schema import design_schema

DATA = Path(__file__).parents[1] / "data" / "loaders"


def problems(text: str, **kw) -> list[str]:
    """Every problem (errors and warnings) as text; [] when the design loads cleanly."""
    try:
        _, warnings = load_text(textwrap.dedent(text), "d.yaml", **kw)
        return [str(p) for p in warnings]
    except DesignError as exc:
        return [str(p) for p in exc.problems]


def one(text: str, fragment: str) -> str:
    found = [p for p in problems(text) if fragment in p]
    assert found, f"{fragment!r} not in {problems(text)}"
    return found[0]


@pytest.fixture(scope="module")
def shop():
    return load_design(DATA / "shop.yaml")


def test_shop_loads_without_warnings(shop):
    design, warnings = shop
    assert warnings == []
    assert design.name == "shop" and design.kind == "netsim"
    assert [n.name for n in design.networks] == ["bridge", "frontend", "backend", "lan"]
    assert [c.name for c in design.containers] == ["web", "db", "admin", "tool", "metrics", "legacy"]


def test_shop_hosts(shop):
    host = shop[0].host("docker1")
    assert host.lan_address == IPv4Interface("192.168.1.10/24")
    assert host.engine_version == "20.10"
    assert host.daemon.bip == IPv4Interface("172.17.0.1/16")
    assert host.daemon.default_address_pools[0].base == IPv4Network("172.80.0.0/16")
    assert host.routes == (IPv4Network("10.10.0.0/16"),)


def test_shop_networks(shop):
    design = shop[0]
    bridge = design.network("bridge")
    assert bridge.default_bridge and bridge.docker_name == "bridge" and bridge.hosts == ("docker1",)
    front = design.network("frontend")
    assert front.engine_name == "shop_frontend"
    assert front.subnet == IPv4Network("172.20.0.0/24") and front.gateway == IPv4Address("172.20.0.1")
    assert front.ip_range == IPv4Network("172.20.0.128/25")
    assert front.aux_addresses == (IPv4Address("172.20.0.5"),)
    assert front.labels == (("tier", "front"),)
    back = design.network("backend")
    assert back.internal and not back.icc
    lan = design.network("lan")
    assert (lan.driver, lan.parent, lan.vlan, lan.mode) == (Driver.MACVLAN, "eth0", 50, "bridge")
    assert lan.parent_interface == "eth0.50"


def test_shop_containers(shop):
    design = shop[0]
    web = design.container("web")
    assert web.engine_name == "shop-web" and web.hostname == "web" and web.host == "docker1"
    assert web.networks == ("frontend", "backend")
    assert web.attachment("frontend").aliases == ("www",)
    assert web.attachment("frontend").ipv4_address == IPv4Address("172.20.0.10")
    assert web.ports == (
        PortMapping(80, Protocol.TCP, 8080, None),
        PortMapping(443, Protocol.TCP, 8443, IPv4Address("127.0.0.1")),
        PortMapping(53, Protocol.UDP, 5353, IPv4Address("127.0.0.1")),
    )
    assert web.listeners == (
        Listener(53, Protocol.UDP), Listener(80), Listener(443), Listener(9000), Listener(9001), Listener(9002),
    )
    assert design.container("admin").networks == ("bridge",)
    assert design.container("legacy").networks == ("bridge",)  # neither networks nor network_mode
    tool = design.container("tool")
    assert (tool.mode.kind, tool.mode.target, tool.attachments) == (ModeKind.CONTAINER, "web", ())
    assert design.container("metrics").mode.kind is ModeKind.HOST


def test_shop_locations(shop):
    design = shop[0]
    loc = design.location
    assert (loc("networks", "frontend").line, loc("networks", "frontend").column) == (10, 3)
    assert (loc("networks", "frontend", "subnet").line, loc("networks", "frontend", "subnet").column) == (12, 13)
    assert loc("containers", "web").line == 25
    assert loc("containers", "web", "networks", "frontend").line == 29
    assert loc("containers", "web", "networks", "backend").line == 30
    assert loc("containers", "web", "ports", 1).line == 33
    assert loc("containers", "db", "networks", "backend").line == 38
    assert loc("hosts", "docker1").line == 5
    assert str(loc("containers", "web", "ports", 2)) == f"{DATA / 'shop.yaml'}:34:9"


def test_fixture_validates_against_schema():
    schema = design_schema()
    jsonschema.Draft202012Validator.check_schema(schema)
    data = yaml.safe_load((DATA / "shop.yaml").read_text())
    jsonschema.Draft202012Validator(schema).validate(data)
    assert "description" in schema["properties"]["networks"]["additionalProperties"]["properties"]["subnet"]


def test_schema_file_is_json_with_descriptions():
    text = (Path(__file__).parents[2] / "simulator" / "schema" / "design.schema.json").read_text()
    schema = json.loads(text)
    container = schema["properties"]["containers"]["additionalProperties"]["properties"]
    assert all("description" in spec for spec in container.values())


def test_defaults_one_host_and_default_bridge():
    design, warnings = load_text("name: tiny\ncontainers:\n  app: {}\n")
    assert [h.name for h in design.hosts] == ["docker1"]
    assert design.hosts[0].lan_address == IPv4Interface("192.168.1.10/24")
    assert design.container("app").networks == ("bridge",)
    assert design.network("bridge").default_bridge
    assert warnings == []


def test_engine_version_written_as_number_is_read_as_text():
    design, _ = load_text("name: v\nengine_version: 20.10\n")
    assert design.hosts[0].engine_version == "20.10"
    design, _ = load_text("name: v\nengine_version: 28\nhosts: {a: {engine_version: 28.2}, b: {}}\n")
    assert [h.engine_version for h in design.hosts] == ["28.2", "28"]


def test_network_mode_bridge_and_container_mode():
    design, _ = load_text("name: m\ncontainers:\n  aa: {network_mode: bridge}\n  bb: {network_mode: 'container:aa'}\n")
    assert design.container("aa").networks == ("bridge",)
    assert design.container("bb").mode.target == "aa"


def test_network_hosts_default_to_container_hosts():
    design, _ = load_text("""
name: multi
hosts: {h1: {}, h2: {}}
networks:
  ov: {driver: overlay, attachable: true}
  local: {hosts: [h1, h2]}
containers:
  app: {host: h2, networks: [ov, local]}
  bee: {host: h1, networks: [ov]}
""")
    assert design.network("ov").hosts == ("h1", "h2")
    assert design.network("local").hosts == ("h1", "h2")


def test_port_ranges_expand():
    design, _ = load_text("name: r\ncontainers:\n  app: {ports: ['7000-7002:8000-8002/udp', '9000-9001']}\n")
    ports = design.container("app").ports
    assert [(p.host_port, p.container_port) for p in ports] == [(7000, 8000), (7001, 8001), (7002, 8002),
                                                               (None, 9000), (None, 9001)]
    assert design.location("containers", "app", "ports", 4).line == 3


# --- loader-level errors -------------------------------------------------------------------

def test_bad_cidr_message_and_position():
    msg = one("name: s\nnetworks:\n  backend: {subnet: 10.0.0.0/33}\n", "not a CIDR")
    assert msg == 'd.yaml:3:21: networks.backend.subnet: "10.0.0.0/33" is not a CIDR block (e.g. 10.0.0.0/24)'


def test_host_bits_set():
    assert "has host bits set; the network is 10.0.0.0/24" in one(
        "name: s\nnetworks:\n  n: {subnet: 10.0.0.1/24}\n", "host bits")


def test_unknown_key_did_you_mean():
    msg = one("name: s\ncontainers:\n  web:\n    prots: ['80']\n", "unknown key")
    assert msg == 'd.yaml:4:5: containers.web.prots: unknown key "prots" (did you mean "ports"?)'
    msg = one("name: s\nnetwork:\n  a: {}\n", "unknown key")
    assert msg.startswith('d.yaml:2:1: network: unknown key "network" (did you mean "networks"?)')


def test_unknown_key_without_close_match_lists_keys():
    assert "expected one of driver" in one("name: s\nnetworks:\n  n: {zzz: 1}\n", "unknown key")


def test_missing_name_and_bad_name():
    assert one("containers: {}\n", "missing") == 'd.yaml:1:1: missing required key "name"'
    assert "d.yaml:1:7: name:" in one("name: Shop!\n", "not a valid design name")


def test_enum_did_you_mean():
    assert 'd.yaml:3:15: networks.n.driver: "bridg" is not one of bridge, macvlan, ipvlan, overlay (did you mean "bridge"?)' \
        == one("name: s\nnetworks:\n  n: {driver: bridg}\n", "not one of")


def test_type_errors():
    assert "expected a list, not the string" in one("name: s\ncontainers:\n  a: {ports: '80'}\n", "expected")
    assert "expected true or false, not the string \"yes\"" in one(
        "name: s\nnetworks:\n  n: {internal: yes}\n", "expected")


def test_predefined_networks_cannot_be_declared():
    msg = one("name: s\nnetworks:\n  bridge: {}\n", "predefined")
    assert msg.startswith("d.yaml:3:3: networks.bridge:")
    assert "networks: [bridge]" in msg
    assert "network_mode: host" in one("name: s\nnetworks:\n  host: {}\n", "predefined")


def test_host_or_none_under_networks():
    msg = one("name: s\ncontainers:\n  a: {networks: [host]}\n", "network_mode")
    assert msg == 'd.yaml:3:18: containers.a.networks[0]: "host" is not a network to join; use network_mode: host instead'


def test_network_mode_bridge_with_networks():
    assert "cannot be combined" in one(
        "name: s\nnetworks: {n: {}}\ncontainers:\n  a: {network_mode: bridge, networks: [n]}\n", "combined")


def test_driver_specific_fields():
    msg = one("name: s\nnetworks:\n  m: {driver: macvlan, icc: false}\n", "applies only")
    assert msg == "d.yaml:3:24: networks.m.icc: icc applies only to bridge networks (this one is macvlan); remove it"
    assert "attachable applies only to overlay" in one("name: s\nnetworks:\n  b: {attachable: true}\n", "applies")
    assert '"l2" is not a macvlan mode' in one("name: s\nnetworks:\n  m: {driver: macvlan, mode: l2}\n", "mode")


def test_parent_with_vlan_suffix_is_split():
    design, _ = load_text("name: s\nnetworks:\n  m: {driver: ipvlan, parent: ens3.7}\n")
    net = design.network("m")
    assert (net.parent, net.vlan, net.mode) == ("ens3", 7, "l2")


def test_host_and_hosts_exclusive():
    assert "give host or hosts, not both" in one(
        "name: s\nhosts: {a: {}}\nnetworks:\n  n: {host: a, hosts: [a]}\n", "not both")


def test_ports_errors():
    assert "invalid ranges specified for container and host Ports: 80-81 and 8080-8082" in one(
        "name: s\ncontainers:\n  a: {ports: ['8080-8082:80-81']}\n", "invalid ranges")
    assert "has 2000 ports; netsim models at most 1000" in one(
        "name: s\ncontainers:\n  a: {ports: ['1000-2999']}\n", "ports;")
    assert '"sctpp" is not a protocol (did you mean "sctp"?)' in one(
        "name: s\ncontainers:\n  a: {ports: ['80/sctpp']}\n", "protocol")
    assert 'container port "70000" is not a port number' in one(
        "name: s\ncontainers:\n  a: {ports: ['70000']}\n", "port number")
    assert "too many colons" in one("name: s\ncontainers:\n  a: {ports: ['::1:80:80']}\n", "colons")
    assert 'host IP "1.2.3" is not an IP address' in one("name: s\ncontainers:\n  a: {ports: ['1.2.3:80:80']}\n", "IP")


def test_host_port_range_for_one_container_port_warns():
    msg = one("name: s\ncontainers:\n  a: {ports: ['8000-8010:80']}\n", "first free")
    assert msg.startswith("d.yaml:3:15: warning: containers.a.ports[0]:")


def test_ipv6_host_ip_is_read():
    design, warnings = load_text("name: s\ncontainers:\n  app: {ports: ['[::1]:8080:80']}\n")
    assert design.container("app").ports == (PortMapping(80, host_port=8080, host_ip="::1"),)
    assert design.container("app").listeners == (Listener(80),) and warnings == []


def test_listens_errors():
    assert 'd.yaml:3:17: containers.a.listens[0]: "http" is not valid: write a port like 80' in one(
        "name: s\ncontainers:\n  a: {listens: [http]}\n", "not valid")


def test_duplicate_key_is_load_error():
    with pytest.raises(DesignLoadError) as exc:
        load_text("name: s\ncontainers:\n  a: {}\n  a: {}\nname: t\n", "d.yaml")
    assert str(exc.value) == ('d.yaml:4:3: duplicate key "a" (first written at line 3); keep one\n'
                              'd.yaml:5:1: duplicate key "name" (first written at line 1); keep one')


def test_every_problem_reported_at_once():
    found = problems("""
        name: s
        networks:
          a: {subnet: 10.0.0.0/33, gateway: nope}
        containers:
          web: {networks: [b], prots: []}
          db: {ports: ['x']}
        """)
    assert len([p for p in found if "warning" not in p]) == 5
    lines = [int(p.split(":")[1]) for p in found]
    assert lines == sorted(lines)


def test_multi_host_container_needs_host():
    msg = one("name: s\nhosts: {a: {}, b: {}}\ncontainers:\n  web: {}\n", "no host given")
    assert msg == ("d.yaml:4:3: containers.web: no host given and the design has several hosts (a, b); add host: a")


def test_lan_address_must_be_interface():
    assert '"192.168.1.0/24" is the network or broadcast address' in one(
        "name: s\nhosts:\n  h: {lan: {address: 192.168.1.0/24}}\n", "network or broadcast")
    assert "is not an address with prefix" in one("name: s\nhosts:\n  h: {lan: {address: 192.168.1.9}}\n", "prefix")


def test_pool_size_smaller_than_base():
    assert "size /8 is larger than the pool 10.0.0.0/16" in one(
        "name: s\nhosts:\n  h: {daemon: {default_address_pools: [{base: 10.0.0.0/16, size: 8}]}}\n", "size")


def test_unused_network_on_multi_host_warns():
    assert "exists nowhere" in one("name: s\nhosts: {a: {}, b: {}}\nnetworks: {n: {}}\n", "nowhere")


def test_x_keys_allowed_for_anchors():
    design, _ = load_text("name: s\nx-net: &n {networks: [bridge]}\ncontainers:\n  aa: *n\n  bb: {<<: *n, listens: [1]}\n")
    assert design.container("bb").networks == ("bridge",)


def test_top_level_must_be_mapping():
    assert problems("- a\n- b\n") == ["d.yaml:1:1: a netsim design is a mapping with name, hosts, networks and "
                                      "containers, not a list"]


def test_load_design_errors(tmp_path):
    with pytest.raises(DesignLoadError) as exc:
        load_design(tmp_path / "missing.yaml")
    assert "cannot read the file" in str(exc.value)
    with pytest.raises(DesignLoadError) as exc:
        load_design(DATA / "notutf8.yaml")
    assert str(exc.value).endswith("notutf8.yaml:2:1: file is not UTF-8 text (byte 0xff); save it as UTF-8")


def test_kind_can_be_forced_and_is_checked():
    with pytest.raises(DesignError):
        load_text("services: {web: {image: x}}\nname: x\n", kind="netsim")  # a compose service read as netsim
    with pytest.raises(ValueError):
        load_text("name: x\n", kind="helm")
