"""validate(): one test per rule, asserting message fragments and where they point."""

from __future__ import annotations

import textwrap
from ipaddress import IPv4Address, IPv4Network

import pytest

from simulator.errors import DesignError
from simulator.loaders import load_text, validate
from simulator.loaders.validate import CHECKS
from simulator.model import Attachment, Container, Design, Driver, Host, ModeKind, Network, NetworkMode, PortMapping


def problems(text: str) -> list[str]:
    try:
        _, warnings = load_text(textwrap.dedent(text), "v.yaml")
        return [str(p) for p in warnings]
    except DesignError as exc:
        return [str(p) for p in exc.problems]


def one(text: str, fragment: str) -> str:
    found = [p for p in problems(text) if fragment in p]
    assert len(found) == 1, f"{fragment!r}: {problems(text)}"
    return found[0]


def test_checks_are_a_list_of_functions():
    assert len(CHECKS) >= 10 and all(callable(c) for c in CHECKS)


def test_programmatic_design_gets_derived_paths():
    d = Design.unchecked("p", (Host("docker1"),), (), (Container("web", "docker1", attachments=(Attachment("nope"),)),))
    [p] = validate(d)
    assert p.path == "containers.web.networks.nope" and p.location is None
    assert 'unknown network "nope"' in p.message


# --- references ----------------------------------------------------------------------------

def test_unknown_network_did_you_mean():
    assert one("""\
        name: s
        networks: {frontend: {}}
        containers:
          web: {networks: [frontnd]}
        """, "unknown network") == ('v.yaml:4:20: containers.web.networks[0]: unknown network "frontnd" '
                                    '(did you mean "frontend"?); declare it under networks: (or use bridge, the '
                                    'default bridge)')


def test_unknown_host():
    assert one("name: s\nhosts: {alpha: {}}\ncontainers:\n  web: {host: alfa}\n", "unknown host") == (
        'v.yaml:4:15: containers.web.host: unknown host "alfa" (did you mean "alpha"?); hosts are alpha')
    assert "v.yaml:3:13: networks.n.host: unknown host" in one(
        "name: s\nnetworks:\n  n: {host: nowhere}\n", "unknown host")


def test_unknown_container_in_network_mode():
    assert one("name: s\ncontainers:\n  web: {}\n  side: {network_mode: 'container:wbe'}\n", "names no") == (
        'v.yaml:4:24: containers.side.network_mode: network_mode container:wbe names no container in the design '
        '(did you mean "web"?)')
    assert "network_mode service:ap names no service" in one(
        "name: p\nservices:\n  app: {}\n  side: {network_mode: 'service:ap'}\n", "names no")


# --- network modes -------------------------------------------------------------------------

def test_container_mode_self_reference_and_cycle():
    assert "v.yaml:3:23: containers.web.network_mode: network_mode refers to the container itself" in one(
        "name: s\ncontainers:\n  web: {network_mode: 'container:web'}\n", "itself")
    msg = one("name: s\ncontainers:\n  aa: {network_mode: 'container:bb'}\n  bb: {network_mode: 'container:aa'}\n",
              "cycle")
    assert msg.startswith("v.yaml:3:22: containers.aa.network_mode: network_mode forms a cycle (aa -> bb -> aa)")


def test_owner_with_network_mode_none_is_fine():
    assert problems("name: s\ncontainers:\n  own: {network_mode: none}\n  side: {network_mode: 'container:own'}\n") == []


def test_networks_with_host_mode():
    assert one("name: s\nnetworks: {n: {}}\ncontainers:\n  web: {network_mode: host, networks: [n]}\n",
               "cannot join") == ("v.yaml:4:39: containers.web.networks: a host-mode container cannot join other "
                                  "networks; drop networks: or network_mode: host")
    assert "networks cannot be combined with network_mode: none" in one(
        "name: s\nnetworks: {n: {}}\ncontainers:\n  web: {network_mode: none, networks: [n]}\n", "combined")


def test_container_mode_on_another_host_and_hostname():
    text = """\
        name: s
        hosts: {h1: {}, h2: {}}
        containers:
          web: {host: h1}
          side: {host: h2, network_mode: 'container:web', hostname: side}
        """
    assert 'shares the namespace of "web" on host h1, but runs on host h2' in one(text, "namespace")
    assert "v.yaml:5:61: containers.side.hostname: conflicting options: hostname and the network mode" in one(text, "hostname")


# --- published ports -----------------------------------------------------------------------

def test_ports_with_host_mode_warn():
    msg = one("name: s\ncontainers:\n  web: {network_mode: host, ports: ['80:80']}\n", "discarded")
    assert msg.startswith("v.yaml:3:36: warning: containers.web.ports: Published ports are discarded when using "
                          "host network mode")


def test_ports_with_none_mode_warn():
    assert "warning: containers.web.ports: published ports are ignored with network_mode: none" in one(
        "name: s\ncontainers:\n  web: {network_mode: none, ports: ['80']}\n", "ignored")


def test_ports_with_container_mode_error():
    assert one("name: s\ncontainers:\n  web: {}\n  side: {network_mode: 'container:web', ports: ['80:80']}\n",
               "conflicting") == ('v.yaml:4:48: containers.side.ports: conflicting options: port publishing and the '
                                  'container type network mode; publish the ports on "web"')


def test_ports_on_macvlan_warn():
    assert "macvlan driver does not support port mappings; these ports are ignored" in one(
        "name: s\nnetworks: {m: {driver: macvlan, subnet: 192.168.1.0/24}}\n"
        "containers:\n  web: {networks: [m], ports: ['80:80']}\n", "port mappings")


def test_ports_on_internal_only_warn():
    assert "every network of this container is internal, so nothing is bound" in one(
        "name: s\nnetworks: {n: {internal: true}}\ncontainers:\n  web: {networks: [n], ports: ['80:80']}\n",
        "internal")


def test_internal_plus_public_network_publishes_without_warning():
    assert problems("name: s\nnetworks: {n: {internal: true}, p: {}}\n"
                    "containers:\n  web: {networks: [n, p], ports: ['80:80']}\n") == []


# --- port conflicts ------------------------------------------------------------------------

CONFLICT = """\
    name: s
    containers:
      web: {ports: ['%s']}
      api: {ports: ['%s']}
    """


@pytest.mark.parametrize("first, second, clash", [
    ("8080:80", "8080:81", "0.0.0.0:8080"),
    ("8080:80", "127.0.0.1:8080:81", "127.0.0.1:8080"),
    ("127.0.0.1:8080:80", "8080:81", "0.0.0.0:8080"),
    ("10.0.0.1:8080:80", "10.0.0.1:8080:80", "10.0.0.1:8080"),
    ("53:53/udp", "53:53/udp", "0.0.0.0:53"),
])
def test_port_conflicts(first, second, clash):
    msg = one(CONFLICT % (first, second), "already allocated")
    assert msg.startswith(f"v.yaml:4:17: containers.api.ports[0]: Bind for {clash} failed: port is already allocated")
    assert 'is published by "web" too on host docker1' in msg


@pytest.mark.parametrize("first, second", [
    ("8080:80", "8080:80/udp"),
    ("10.0.0.1:8080:80", "10.0.0.2:8080:80"),
    ("80", "80"),
])
def test_no_port_conflict(first, second):
    assert [p for p in problems(CONFLICT % (first, second)) if "allocated" in p] == []


def test_port_conflict_within_one_container_and_across_hosts():
    assert "published twice by this container" in one(
        "name: s\ncontainers:\n  web: {ports: ['80:80', '80:81']}\n", "allocated")
    assert problems("name: s\nhosts: {a: {}, b: {}}\ncontainers:\n  web: {host: a, ports: ['80:80']}\n"
                    "  api: {host: b, ports: ['80:80']}\n") == []


def test_port_conflict_uses_host_binding_ipv4():
    text = ("name: s\nnetworks: {lo: {host_binding_ipv4: 127.0.0.1}}\ncontainers:\n  web: {networks: [lo], "
            "ports: ['80:80']}\n  api: {ports: ['127.0.0.2:80:80']}\n")
    assert problems(text) == []


def test_port_conflict_in_compose():
    msg = one("name: p\nservices:\n  web: {ports: ['80:80']}\n  api: {ports: [{target: 81, published: 80}]}\n",
              "allocated")
    assert msg.startswith("v.yaml:4:17: services.api.ports[0]: Bind for 0.0.0.0:80 failed")


# --- subnets -------------------------------------------------------------------------------

def test_gateway_ip_range_aux_outside_subnet():
    text = """\
        name: s
        networks:
          n:
            subnet: 10.1.0.0/24
            gateway: 10.2.0.1
            ip_range: 10.1.1.0/25
            aux_addresses: {r: 10.9.9.9}
        """
    assert one(text, "gateway 10.2.0.1") == ("v.yaml:5:14: networks.n.gateway: gateway 10.2.0.1 is outside subnet "
                                             "10.1.0.0/24; use an address inside it such as 10.1.0.1")
    assert "v.yaml:6:15: networks.n.ip_range: ip_range 10.1.1.0/25 is outside subnet 10.1.0.0/24" in one(text, "ip_range")
    assert "aux address 10.9.9.9 is outside subnet 10.1.0.0/24" in one(text, "aux address")


def test_gateway_without_subnet():
    assert "gateway 10.0.0.1 needs an explicit subnet" in one("name: s\nnetworks:\n  n: {gateway: 10.0.0.1}\n", "needs")


def test_gateway_is_network_address():
    assert "is the network or broadcast address" in one(
        "name: s\nnetworks:\n  n: {subnet: 10.0.0.0/24, gateway: 10.0.0.255}\n", "broadcast")


def test_overlapping_subnets_same_host():
    msg = one("name: s\nnetworks:\n  a: {subnet: 10.0.0.0/16}\n  b: {subnet: 10.0.5.0/24}\n", "overlaps")
    assert msg == ('v.yaml:4:15: networks.b.subnet: subnet 10.0.5.0/24 overlaps 10.0.0.0/16 of network "a" '
                   '(Docker: "Pool overlaps with other one on this address space"); pick a subnet outside it')


def test_local_subnets_on_different_hosts_may_overlap_but_overlays_not():
    text = """\
        name: s
        hosts: {h1: {}, h2: {}}
        networks:
          a: {host: h1, subnet: 10.0.0.0/24}
          b: {host: h2, subnet: 10.0.0.0/24}
          o: {driver: overlay, attachable: true, hosts: [h1, h2], subnet: 10.0.0.0/25}
        """
    found = [p for p in problems(text) if "overlaps" in p]
    assert [p.split(": ")[1] for p in found] == ["networks.o.subnet", "networks.o.subnet"]


def test_subnet_overlaps_docker0():
    assert "overlaps 172.17.0.0/16 of the default bridge docker0 on host docker1" in one(
        "name: s\nnetworks:\n  n: {subnet: 172.17.5.0/24}\n", "docker0")
    assert problems("name: s\nhosts: {h: {daemon: {bip: 10.99.0.1/24}}}\nnetworks:\n  n: {subnet: 172.17.5.0/24}\n") == []


def test_subnet_overlaps_lan_and_routes_warn():
    text = "name: s\nhosts: {h: {routes: [10.10.0.0/16]}}\nnetworks:\n  a: {subnet: 192.168.1.0/25}\n  b: {subnet: 10.10.1.0/24}\n"
    assert one(text, "LAN").startswith("v.yaml:4:15: warning: networks.a.subnet: subnet 192.168.1.0/25 overlaps the LAN "
                                       "192.168.1.0/24 of host h")
    assert "subnet 10.10.1.0/24 overlaps 10.10.0.0/16, already routed on host h" in one(text, "routed")


def test_macvlan_on_lan_subnet_is_fine():
    assert problems("name: s\nnetworks:\n  m: {driver: macvlan, subnet: 192.168.1.0/24, gateway: 192.168.1.1}\n") == []


def test_compose_subnet_points_at_ipam_config():
    text = ("name: p\nservices:\n  web: {networks: [a, b]}\nnetworks:\n  a: {ipam: {config: [{subnet: 10.0.0.0/16}]}}\n"
            "  b:\n    ipam:\n      config:\n        - subnet: 10.0.1.0/24\n")
    assert one(text, "overlaps").startswith("v.yaml:9:19: networks.b.ipam.config[0].subnet: subnet 10.0.1.0/24 overlaps")


# --- static addresses ----------------------------------------------------------------------

STATIC = """\
    name: s
    engine_version: "%s"
    networks:
      n: {subnet: 10.0.0.0/24, aux_addresses: {r: 10.0.0.5}}
      auto: {}
    containers:
      web:
        networks:
          %s: {ipv4_address: %s}
    """


def test_static_address_outside_subnet_2010_and_28():
    assert one(STATIC % ("20.10", "n", "10.0.1.9"), "Invalid address") == (
        "v.yaml:9:25: containers.web.networks.n.ipv4_address: Invalid address 10.0.1.9: It does not belong to any "
        "of this network's subnets (subnet 10.0.0.0/24)")
    assert "no configured subnet or ip-range contain the IP address 10.0.1.9" in one(
        STATIC % ("28", "n", "10.0.1.9"), "no configured")


def test_static_address_on_gateway_or_aux():
    assert 'Address already in use: 10.0.0.1 is the gateway of network "n"' in one(STATIC % ("20.10", "n", "10.0.0.1"), "gateway")
    assert 'Address already in use: 10.0.0.5 is an aux address of network "n"' in one(STATIC % ("20.10", "n", "10.0.0.5"), "aux")


def test_static_address_without_subnet_depends_on_version():
    assert "v.yaml:9:28: containers.web.networks.auto.ipv4_address: user specified IP address is supported only " \
           "when connecting to networks with user configured subnets" in one(STATIC % ("20.10", "auto", "10.0.0.9"),
                                                                              "user configured")
    assert problems(STATIC % ("29.1", "auto", "10.0.0.9")) == []


def test_duplicate_static_address():
    text = """\
        name: s
        networks: {n: {subnet: 10.0.0.0/24}}
        containers:
          web: {networks: {n: {ipv4_address: 10.0.0.9}}}
          api: {networks: {n: {ipv4_address: 10.0.0.9}}}
        """
    assert one(text, "static address of") == ('v.yaml:5:38: containers.api.networks.n.ipv4_address: Address already '
                                              'in use: 10.0.0.9 is also the static address of "web" on network "n"; '
                                              'pick another address')


def test_default_bridge_refuses_aliases_and_addresses():
    text = "name: s\ncontainers:\n  web:\n    networks:\n      bridge: {aliases: [w], ipv4_address: 172.17.0.9}\n"
    assert "v.yaml:5:25: containers.web.networks.bridge.aliases: network-scoped alias is supported only for containers " \
           "in user defined networks" in one(text, "alias")
    assert "user specified IP address is supported on user defined networks only" in one(text, "user defined networks only")


# --- placement, overlays, macvlan ----------------------------------------------------------

def test_container_on_network_of_other_host():
    text = "name: s\nhosts: {h1: {}, h2: {}}\nnetworks:\n  n: {host: h1}\ncontainers:\n  web: {host: h2, networks: [n]}\n"
    assert one(text, "does not exist") == ('v.yaml:6:30: containers.web.networks[0]: network "n" does not exist on '
                                           "host h2 (it is on h1); add h2 to the network's hosts")


def test_overlay_needs_attachable():
    msg = one("name: s\nnetworks:\n  o: {driver: overlay}\ncontainers:\n  web: {networks: [o]}\n", "attachable")
    assert msg.endswith('only attachable overlays accept standalone containers; set attachable: true on network "o"')


# --- names ---------------------------------------------------------------------------------

def test_duplicate_container_and_network_names():
    text = "name: s\nnetworks:\n  a: {name: same}\n  b: {name: same}\ncontainers:\n  web: {name: x1}\n  api: {name: x1}\n"
    assert 'v.yaml:7:3: containers.api: Conflict. The container name "/x1" is already in use by "web"' in one(text, "Conflict")
    assert 'v.yaml:4:3: networks.b: network with name same already exists ("a" uses it)' in one(text, "already exists")


def test_invalid_names():
    assert "Invalid container name (w b)" in one("name: s\ncontainers:\n  web: {name: 'w b'}\n", "Invalid container")
    assert '"-x" is not a valid hostname' in one("name: s\ncontainers:\n  web: {hostname: '-x'}\n", "hostname")
    assert '"bad net!" is not a valid network name' in one("name: s\nnetworks:\n  n: {name: 'bad net!'}\n", "network name")


def test_programmatic_overlay_scope_and_modes():
    net = Network("o", Driver.OVERLAY, hosts=("docker1",), attachable=True, subnet=IPv4Network("10.5.0.0/24"))
    web = Container("web", "docker1", attachments=(Attachment("o", ipv4_address=IPv4Address("10.5.0.9")),),
                    ports=(PortMapping(80, host_port=80),))
    side = Container("side", "docker1", mode=NetworkMode(ModeKind.CONTAINER, "web"))
    assert validate(Design("p", (Host("docker1"),), (net,), (web, side))) == []
