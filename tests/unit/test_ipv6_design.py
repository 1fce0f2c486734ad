"""IPv6 in the design (issue 14, first step): the model, both loaders, validation at file:line,
IPv6 addressing (simulator.engine.ipam6) and the addressing view. Reachability stays IPv4."""

from __future__ import annotations

import json
import textwrap
from dataclasses import replace
from ipaddress import IPv4Address, IPv6Address, IPv6Interface, IPv6Network
from pathlib import Path

import pytest

from simulator.analysis.addressing import compute_addressing
from simulator.engine.ipam import allocate
from simulator.engine.ipam6 import derived_ula, mac_of
from simulator.engine.topology import build_world
from simulator.engine.versions import parse_version
from simulator.errors import DesignError, ModelError
from simulator.loaders import load_design, load_text
from simulator.model import AddressPool, Attachment, DaemonOptions, Driver, Host, Network, PortMapping
from simulator.render.tables import addressing_table

ROOT = Path(__file__).resolve().parents[2]


def load(text: str, source: str = "v.yaml"):
    return load_text(textwrap.dedent(text), source)


def problems(text: str, source: str = "v.yaml") -> list[str]:
    try:
        _, found = load(text, source)
        return [str(p) for p in found]
    except DesignError as exc:
        return [str(p) for p in exc.problems]


def one(text: str, fragment: str, source: str = "v.yaml") -> str:
    found = [p for p in problems(text, source) if fragment in p]
    assert len(found) == 1, f"{fragment!r}: {problems(text, source)}"
    return found[0]


DUAL = """\
    name: d
    engine_version: "{version}"
    hosts:
      docker1:
        lan: {{address: 192.168.1.10/24, address6: "2001:db8:1::10/64"}}
    networks:
      front:
        subnet: 172.31.10.0/24
        enable_ipv6: true
        subnet6: "fd00:db8:10::/64"
    containers:
      web:
        networks:
          front: {{ipv6_address: "fd00:db8:10::80"}}
        ports: ["443:443", "[::1]:8080:80", "[2001:db8:1::10]:8443:443/udp"]
      api: {{networks: [front]}}
    """


# --- the model ---------------------------------------------------------------------------------

def test_model_fields_coerce_strings_and_refuse_the_wrong_family():
    n = Network("n", Driver.BRIDGE, enable_ipv6=True, subnet6="fd00::/64", gateway6="fd00::1", ip_range6="fd00::/120")
    assert (n.subnet6, n.gateway6, n.ip_range6) == (IPv6Network("fd00::/64"), IPv6Address("fd00::1"),
                                                    IPv6Network("fd00::/120"))
    assert Attachment("n", ipv6_address="fd00::5").ipv6_address == IPv6Address("fd00::5")
    assert Host("h", lan_address6="2001:db8::10/64").lan_address6 == IPv6Interface("2001:db8::10/64")
    assert PortMapping(80, host_port=8080, host_ip="::1").host_ip == IPv6Address("::1")
    assert PortMapping(80, host_port=8080, host_ip="127.0.0.1").host_ip == IPv4Address("127.0.0.1")
    assert PortMapping(80, host_port=8080, host_ip="::1").host_address == "[::1]"
    assert AddressPool("fd00:db8::/56", 64).base == IPv6Network("fd00:db8::/56")
    d = DaemonOptions(ipv6=True, fixed_cidr_v6="fd00:17::/64")
    assert d.fixed_cidr_v6 == IPv6Network("fd00:17::/64") and d.ip6tables is None
    with pytest.raises(ModelError, match="subnet6 '10.0.0.0/24' is not an IPv6 network"):
        Network("n", Driver.BRIDGE, subnet6="10.0.0.0/24")
    with pytest.raises(ModelError, match="ipv6_address '10.0.0.5' is not an IPv6 address"):
        Attachment("n", ipv6_address="10.0.0.5")
    with pytest.raises(ModelError, match="host_ip 'nope' is not an IPv4 address or an IPv6 address"):
        PortMapping(80, host_ip="nope")
    with pytest.raises(ModelError, match="size 129 is not a whole number from 0 to 128"):
        AddressPool("fd00::/48", 129)
    with pytest.raises(ModelError, match="enable_ipv6 'yes' is not true or false"):
        Network("n", Driver.BRIDGE, enable_ipv6="yes")  # type: ignore[arg-type]


def test_engine_version_flags_for_ipv6():
    old, v27, new = parse_version("20.10"), parse_version("27.0"), parse_version("28.5")
    assert (old.ip6tables_default, v27.ip6tables_default, new.ip6tables_default) == (False, True, True)
    assert (old.ip6tables_needs_experimental, v27.ip6tables_needs_experimental) == (True, False)
    assert (old.ipv6_ula_pool, v27.ipv6_ula_pool) == (False, True)
    assert (v27.default_bridge_ipv6_needs_fixed_cidr, new.default_bridge_ipv6_needs_fixed_cidr) == (True, False)
    assert (v27.default_bridge_ipv6_from_mac, new.default_bridge_ipv6_from_mac) == (True, False)


# --- the netsim loader -------------------------------------------------------------------------

def test_netsim_loader_reads_every_ipv6_field():
    design, found = load("""\
        name: d
        hosts:
          docker1:
            lan: {address: 192.168.1.10/24, address6: "2001:db8:1::10/64"}
            daemon:
              ipv6: true
              fixed_cidr_v6: "fd00:17::/64"
              ip6tables: true
              experimental: true
              default_address_pools:
                - {base: 172.80.0.0/16, size: 24}
                - {base: "fd00:99::/56", size: 64}
        networks:
          n:
            enable_ipv6: true
            subnet6: "fd00:db8:1::/64"
            gateway6: "fd00:db8:1::fe"
            ip_range6: "fd00:db8:1::100/120"
        containers:
          web:
            networks:
              n: {ipv6_address: "fd00:db8:1::10"}
            ports: ["[::1]:8080:80", {target: 443, published: 8443, host_ip: "2001:db8:1::10"}]
        """)
    assert found == []
    h = design.host("docker1")
    assert h.lan_address6 == IPv6Interface("2001:db8:1::10/64")
    assert (h.daemon.ipv6, h.daemon.ip6tables, h.daemon.experimental) == (True, True, True)
    assert h.daemon.fixed_cidr_v6 == IPv6Network("fd00:17::/64")
    assert [str(p.base) for p in h.daemon.default_address_pools] == ["172.80.0.0/16", "fd00:99::/56"]
    n = design.network("n")
    assert (n.enable_ipv6, str(n.subnet6), str(n.gateway6), str(n.ip_range6)) == (
        True, "fd00:db8:1::/64", "fd00:db8:1::fe", "fd00:db8:1::100/120")
    web = design.container("web")
    assert web.attachment("n").ipv6_address == IPv6Address("fd00:db8:1::10")
    assert [(str(p.host_ip), p.host_port, p.container_port) for p in web.ports] == [
        ("::1", 8080, 80), ("2001:db8:1::10", 8443, 443)]


def test_netsim_loader_reports_bad_ipv6_values_at_their_line():
    text = """\
        name: d
        hosts:
          docker1: {lan: {address6: "2001:db8::/64"}}
        networks:
          n: {enable_ipv6: true, subnet6: "fd00:db8:1::1/64", gateway6: "10.0.0.1"}
        containers:
          web: {networks: {n: {ipv6_address: "fd00::zz"}}}
        """
    assert one(text, "anycast") == ('v.yaml:3:29: hosts.docker1.lan.address6: "2001:db8::/64" is the subnet-router '
                                    "anycast address of 2001:db8::/64; use a host address such as 2001:db8::1/64")
    assert one(text, "invalid subnet") == ('v.yaml:5:35: networks.n.subnet6: invalid subnet "fd00:db8:1::1/64": it '
                                           "should be fd00:db8:1::/64 (host bits are set)")
    assert one(text, "10.0.0.1") == ('v.yaml:5:65: networks.n.gateway6: "10.0.0.1" is not an IPv6 address '
                                     "(e.g. fd00:db8:1::10)")
    assert one(text, "fd00::zz") == ('v.yaml:7:38: containers.web.networks.n.ipv6_address: "fd00::zz" is not an '
                                     "IPv6 address (e.g. fd00:db8:1::10)")


def test_unknown_ipv6_key_is_a_schema_error():
    assert "v.yaml:3:7: networks.n.subnet_v6: unknown key" in one("name: d\nnetworks:\n  n: {subnet_v6: 'fd00::/64'}\n", "subnet_v6")


def test_ipv6_ports_parse_in_short_and_long_syntax():
    design, found = load("""\
        name: d
        containers:
          web:
            ports: ["[::1]:8080:80", "[2001:db8::10]:443:443", "[::]:53:53/udp", {target: 80, host_ip: "[::1]"}]
        """)
    assert found == []
    got = [(p.host_address, p.host_port, p.container_port, p.protocol.value) for p in design.container("web").ports]
    assert got == [("[::1]", 8080, 80, "tcp"), ("[2001:db8::10]", 443, 443, "tcp"), ("[::]", 53, 53, "udp"),
                   ("[::1]", None, 80, "tcp")]


def test_ipv6_port_with_a_bad_address_is_an_error():
    assert one("name: d\ncontainers:\n  web: {ports: ['[fe::zz]:80:80']}\n", "not an IP address") == (
        'v.yaml:3:17: containers.web.ports[0]: host IP "fe::zz" is not an IP address (e.g. 127.0.0.1 or ::1)')


def test_ipv6_ports_clash_only_within_their_family():
    assert not [p for p in problems("""\
        name: d
        containers:
          ca: {ports: ["0.0.0.0:80:80"]}
          cb: {ports: ["[::1]:80:80"]}
        """) if "already allocated" in p]
    assert one("""\
        name: d
        containers:
          ca: {ports: ["[::]:80:80"]}
          cb: {ports: ["[::1]:80:80"]}
        """, "already allocated").startswith("v.yaml:4:16: containers.cb.ports[0]: Bind for ::1:80 failed")


# --- the compose loader ------------------------------------------------------------------------

COMPOSE = """\
    services:
      web:
        image: nginx
        ports: ["[::1]:8080:80"]
        networks:
          front:
            ipv4_address: 172.28.0.10
            ipv6_address: "fd00:28::10"
    networks:
      front:
        enable_ipv6: true
        ipam:
          config:
            - subnet: 172.28.0.0/24
            - subnet: "fd00:28::/64"
              gateway: "fd00:28::1"
              ip_range: "fd00:28::/120"
            - subnet: "fd00:29::/64"
    """


def test_compose_reads_enable_ipv6_subnets_and_ipv6_address():
    design, found = load(COMPOSE, "compose.yaml")
    n = design.network("front")
    assert (n.enable_ipv6, str(n.subnet), str(n.subnet6), str(n.gateway6), str(n.ip_range6)) == (
        True, "172.28.0.0/24", "fd00:28::/64", "fd00:28::1", "fd00:28::/120")
    assert design.container("web").attachment("front").ipv6_address == IPv6Address("fd00:28::10")
    assert design.container("web").ports[0].host_ip == IPv6Address("::1")
    assert [str(p) for p in found] == ["compose.yaml:18:11: warning: networks.front.ipam.config[2]: only the first "
                                       "IPv6 subnet of a network is modelled; this one is skipped"]


def test_compose_ipv6_subnet_without_enable_ipv6_points_at_the_ipam_config():
    text = COMPOSE.replace("        enable_ipv6: true\n", "")
    assert one(text, "without enable_ipv6", "compose.yaml") == (
        "compose.yaml:14:19: networks.front.ipam.config[1].subnet: IPv6 subnet fd00:28::/64 on a network without "
        "enable_ipv6: the engine skips a network's IPv6 settings unless IPv6 is enabled and creates it IPv4-only; "
        "add enable_ipv6: true or remove it")


# --- validation --------------------------------------------------------------------------------

def net(fields: str, version: str = "20.10", container: str = "") -> str:
    return (f'name: d\nengine_version: "{version}"\nnetworks:\n  n: {{{fields}}}\n'
            + (f"containers:\n  cc: {{networks: {{n: {{{container}}}}}}}\n" if container else ""))


def test_ipv6_subnet_without_enable_ipv6():
    assert one(net('subnet6: "fd00::/64"'), "enable_ipv6") == (
        "v.yaml:4:16: networks.n.subnet6: IPv6 subnet fd00::/64 on a network without enable_ipv6: the engine skips "
        "a network's IPv6 settings unless IPv6 is enabled and creates it IPv4-only; add enable_ipv6: true or "
        "remove it")


def test_enable_ipv6_without_subnet_per_version():
    msg = one(net("enable_ipv6: true", container="aliases: [x]"), "could not find")
    assert msg == ("v.yaml:4:20: networks.n.enable_ipv6: could not find an available, non-overlapping IPv6 address "
                   "pool among the defaults to assign to the network (engine 20.10 on host docker1 has no IPv6 "
                   "default pool before 27.0); add subnet6: or an IPv6 base to the daemon's default_address_pools")
    assert not [p for p in problems(net("enable_ipv6: true", "28.5", "aliases: [x]")) if "could not find" in p]
    with_pool = ('name: d\nhosts:\n  docker1: {daemon: {default_address_pools: [{base: "fd00:99::/56", size: 64}]}}\n'
                 "networks:\n  n: {enable_ipv6: true}\ncontainers:\n  cc: {networks: [n]}\n")
    assert not [p for p in problems(with_pool) if "could not find" in p]


def test_ipv6_slash_128_subnet():
    assert one(net('enable_ipv6: true, subnet6: "fd00::5/128"'), "failed to allocate gateway") == (
        "v.yaml:4:35: networks.n.subnet6: failed to allocate gateway (): No available addresses on this pool "
        "(subnet6 fd00::5/128 has one address, and the engine keeps the first address of an IPv6 subnet, the "
        "subnet-router anycast address); use a /64")
    assert "no available addresses on this pool" in one(net('enable_ipv6: true, subnet6: "fd00::5/128"', "28.5"),
                                                          "failed to allocate gateway")


def test_ipv6_gateway_and_range_outside_the_subnet():
    fields = 'enable_ipv6: true, subnet6: "fd00:1::/64", gateway6: "fd00:2::1", ip_range6: "fd00:3::/120"'
    assert one(net(fields), "gateway") == (
        "v.yaml:4:60: networks.n.gateway6: failed to allocate gateway (fd00:2::1): Requested address is out of "
        "range (subnet6 fd00:1::/64); use an address inside it such as fd00:1::1")
    assert one(net(fields, "28.5"), "gateway").endswith(
        "networks.n.gateway6: invalid gateway fd00:2::1: parent subnet fd00:1::/64 doesn't contain this address; "
        "use an address inside it such as fd00:1::1")
    assert one(net(fields), "ip-range") == (
        "v.yaml:4:84: networks.n.ip_range6: invalid ip-range fd00:3::/120: parent subnet fd00:1::/64 doesn't "
        "contain ip-range; use a range inside subnet6")
    assert "Address already in use" in one(net('enable_ipv6: true, subnet6: "fd00:1::/64", gateway6: "fd00:1::"'),
                                           "gateway")


def test_ipv6_address_outside_the_subnet_per_version():
    fields = 'enable_ipv6: true, subnet6: "fd00:1::/64"'
    assert one(net(fields, container='ipv6_address: "fd00:2::5"'), "fd00:2::5") == (
        "v.yaml:6:37: containers.cc.networks.n.ipv6_address: Invalid address fd00:2::5: It does not belong to any "
        "of this network's subnets (subnet6 fd00:1::/64)")
    assert one(net(fields, "28.5", 'ipv6_address: "fd00:2::5"'), "fd00:2::5").endswith(
        "no configured subnet or ip-range contain the IP address fd00:2::5 (subnet6 fd00:1::/64)")


def test_ipv6_address_on_a_network_without_ipv6_or_subnet():
    assert one(net("internal: false", container='ipv6_address: "fd00::5"'), "user specified") == (
        "v.yaml:6:37: containers.cc.networks.n.ipv6_address: user specified IP address is supported only when "
        'connecting to networks with user configured subnets (network "n": it has no IPv6 (add enable_ipv6: true '
        "and a subnet6))")
    assert "(network \"n\": add a subnet6)" in one(net("enable_ipv6: true", "28.5", 'ipv6_address: "fd00::5"'),
                                                    "user specified")
    assert one("name: d\ncontainers:\n  cc: {networks: {bridge: {ipv6_address: 'fd00::5'}}}\n", "user defined") == (
        "v.yaml:3:42: containers.cc.networks.bridge.ipv6_address: user specified IP address is supported on user "
        "defined networks only")


def test_ipv6_address_taken_twice_or_by_the_gateway():
    text = ('name: d\nnetworks:\n  n: {enable_ipv6: true, subnet6: "fd00:1::/64"}\ncontainers:\n'
            '  ca: {networks: {n: {ipv6_address: "fd00:1::9"}}}\n  cb: {networks: {n: {ipv6_address: "fd00:1::9"}}}\n'
            '  cc: {networks: {n: {ipv6_address: "fd00:1::1"}}}\n')
    assert one(text, "static IPv6 address") == (
        'v.yaml:6:37: containers.cb.networks.n.ipv6_address: Address already in use: fd00:1::9 is also the static '
        'IPv6 address of "ca" on network "n"; pick another address')
    assert one(text, "IPv6 gateway").startswith("v.yaml:7:37: containers.cc.networks.n.ipv6_address: Address already "
                                                'in use: fd00:1::1 is the IPv6 gateway of network "n"')


def test_overlapping_ipv6_subnets():
    text = ('name: d\nnetworks:\n  a: {enable_ipv6: true, subnet6: "fd00:1::/48"}\n'
            '  b: {enable_ipv6: true, subnet6: "fd00:1:0:5::/64"}\ncontainers:\n  cc: {networks: [a, b]}\n')
    assert one(text, "overlaps") == (
        'v.yaml:4:35: networks.b.subnet6: subnet6 fd00:1:0:5::/64 overlaps fd00:1::/48 of network "a" (Docker: '
        '"Pool overlaps with other one on this address space"); pick a subnet outside it')


def test_ipv6_subnet_overlapping_docker0_and_the_lan():
    text = ('name: d\nhosts:\n  docker1:\n    lan: {address6: "2001:db8:1::10/64"}\n'
            '    daemon: {ipv6: true, fixed_cidr_v6: "fd00:17::/64"}\n'
            'networks:\n  a: {enable_ipv6: true, subnet6: "fd00:17::/56"}\n'
            '  b: {enable_ipv6: true, subnet6: "2001:db8:1::/64"}\ncontainers:\n  cc: {networks: [a, b]}\n')
    assert "the fixed_cidr_v6 of the default bridge docker0 on host docker1" in one(text, "fixed_cidr_v6 of")
    assert one(text, "IPv6 LAN").startswith("v.yaml:8:35: warning: networks.b.subnet6: subnet6 2001:db8:1::/64 "
                                            "overlaps the IPv6 LAN 2001:db8:1::/64 of host docker1")


def daemon(fields: str, version: str = "20.10") -> str:
    return f'name: d\nengine_version: "{version}"\nhosts:\n  docker1:\n    daemon: {{{fields}}}\n'


def test_daemon_ipv6_without_fixed_cidr_v6_until_28():
    assert one(daemon("ipv6: true"), "fixed-cidr-v6") == (
        "v.yaml:5:20: hosts.docker1.daemon.ipv6: IPv6 is enabled for the default bridge, but no subnet is "
        "configured. Specify an IPv6 subnet using --fixed-cidr-v6 (dockerd 20.10 does not start; add fixed_cidr_v6:)")
    assert not [p for p in problems(daemon("ipv6: true", "28.5")) if "fixed-cidr-v6" in p]


def test_daemon_ip6tables_needs_experimental_before_27():
    assert one(daemon("ip6tables: true"), "experimental") == (
        "v.yaml:5:25: hosts.docker1.daemon.ip6tables: ip6tables rules are only available if experimental features "
        "are enabled (dockerd 20.10 does not start; add experimental: true, or leave ip6tables out)")
    assert not [p for p in problems(daemon("ip6tables: true, experimental: true")) if "experimental" in p]
    assert not [p for p in problems(daemon("ip6tables: true", "27.0")) if "experimental" in p]


def test_daemon_icc_off_needs_ip6tables_from_27():
    text = daemon('icc: false, ipv6: true, ip6tables: false, fixed_cidr_v6: "fd00:17::/64"', "27.0")
    assert "You specified --ip6tables=false with --icc=false" in one(text, "--icc=false")


def test_fixed_cidr_v6_without_ipv6_is_a_warning():
    assert "warning: hosts.docker1.daemon.fixed_cidr_v6: fixed_cidr_v6 without ipv6: true" in one(
        daemon('fixed_cidr_v6: "fd00:17::/64"'), "fixed_cidr_v6 without")


# --- IPv6 addressing ---------------------------------------------------------------------------

def test_ipam_gives_each_container_an_ipv6_address_in_ipv4_order():
    design, _ = load(DUAL.format(version="20.10"))
    a = allocate(design)
    seg = a.segment6_of("front", "docker1")
    assert (str(seg.subnet), str(seg.gateway), seg.origin) == ("fd00:db8:10::/64", "fd00:db8:10::1", "subnet6")
    assert (str(a.endpoint6("web", "front")), a.endpoint6("web", "front").origin) == ("fd00:db8:10::80/64", "static")
    assert str(a.endpoint6("api", "front")) == "fd00:db8:10::2/64"
    assert str(a.address("api", "front")) == "172.31.10.3"  # IPv4 as before


def test_ipv4_allocation_unchanged_by_ipv6():
    design, _ = load(DUAL.format(version="20.10"))
    v4 = {k: (str(e.address), e.prefixlen) for k, e in allocate(design).endpoints.items()}
    stripped = replace(design, networks=tuple(replace(n, enable_ipv6=False, subnet6=None) for n in design.networks),
                       containers=tuple(replace(c, attachments=tuple(replace(x, ipv6_address=None)
                                                                     for x in c.attachments))
                                        for c in design.containers))
    assert {k: (str(e.address), e.prefixlen) for k, e in allocate(stripped).endpoints.items()} == v4
    assert allocate(stripped).endpoints6 == {}


def test_ip_range6_and_gateway6():
    design, _ = load('name: d\nnetworks:\n  n: {enable_ipv6: true, subnet6: "fd00:1::/64", gateway6: "fd00:1::fe", '
                     'ip_range6: "fd00:1::100/120"}\ncontainers:\n  ca: {networks: [n]}\n  cb: {networks: [n]}\n')
    a = allocate(design)
    assert str(a.segment6_of("n", "docker1").gateway) == "fd00:1::fe"
    assert [str(a.endpoint6(c, "n").address) for c in ("ca", "cb")] == ["fd00:1::100", "fd00:1::101"]


def test_gateway6_is_the_first_address_of_ip_range6_when_not_given():
    design, _ = load('name: d\nnetworks:\n  n: {enable_ipv6: true, subnet6: "fd00:6::/64", ip_range6: "fd00:6::100/120"}\n'
                     "containers:\n  ca: {networks: [n]}\n")
    a = allocate(design)  # as confirmed on 20.10.24: gateway ::100, first container ::101
    assert (str(a.segment6_of("n", "docker1").gateway), str(a.endpoint6("ca", "n").address)) == ("fd00:6::100",
                                                                                                "fd00:6::101")


def test_subnet_from_ipv6_default_pool_and_the_ula_pool():
    text = ('name: d\nengine_version: "{v}"\nhosts:\n  docker1: {{daemon: {{default_address_pools: '
            '[{{base: 172.80.0.0/16, size: 24}}, {{base: "fd00:99::/56", size: 64}}]}}}}\n'
            "networks:\n  a: {{enable_ipv6: true}}\n  b: {{enable_ipv6: true}}\ncontainers:\n  cc: {{networks: [a, b]}}\n")
    a = allocate(load(text.format(v="20.10"))[0])
    assert [str(a.segment6_of(n, "docker1").subnet) for n in "ab"] == ["fd00:99::/64", "fd00:99:0:1::/64"]
    assert str(a.endpoint6("cc", "b").address) == "fd00:99:0:1::2"
    ula = load('name: d\nengine_version: "28.5"\nnetworks:\n  a: {enable_ipv6: true}\ncontainers:\n  cc: {networks: [a]}\n')[0]
    seg = allocate(ula).segment6_of("a", "docker1")
    base = derived_ula(ula.host("docker1"))
    assert base.prefixlen == 48 and base.subnet_of(IPv6Network("fd00::/8"))
    assert seg.subnet == next(base.subnets(new_prefix=64)) and "ULA pool" in seg.origin


def test_default_bridge_ipv6_from_the_mac_before_28_sequential_after():
    text = ('name: d\nengine_version: "{v}"\nhosts:\n  docker1: {{daemon: {{ipv6: true, fixed_cidr_v6: "fd00:17::/64"}}}}\n'
            "containers:\n  ca: {{}}\n  cb: {{}}\n")
    old = allocate(load(text.format(v="20.10"))[0])
    assert mac_of(IPv4Address("172.17.0.2")) == "02:42:ac:11:00:02"
    assert str(old.endpoint6("ca", "bridge").address) == "fd00:17::242:ac11:2"
    assert old.endpoint6("ca", "bridge").origin == "from the MAC address 02:42:ac:11:00:02"
    new = allocate(load(text.format(v="28.5"))[0])
    assert [str(new.endpoint6(c, "bridge").address) for c in ("ca", "cb")] == ["fd00:17::2", "fd00:17::3"]
    assert str(new.segment6_of("bridge", "docker1").gateway) == "fd00:17::1"


# --- the addressing view -----------------------------------------------------------------------

def test_addressing_view_shows_ipv6_beside_ipv4():
    design, _ = load(DUAL.format(version="20.10"))
    rows = {r.container: r for r in compute_addressing(build_world(design))}
    web = rows["web"].to_json()
    assert web["interfaces"] == [{"interface": "eth0", "network": "front", "address": "172.31.10.2/24",
                                  "subnet": "172.31.10.0/24", "gateway": "172.31.10.1", "names": ["web"],
                                  "address6": "fd00:db8:10::80/64", "subnet6": "fd00:db8:10::/64",
                                  "gateway6": "fd00:db8:10::1"}]
    assert web["published"] == ["0.0.0.0:443->443/tcp (front)", "[::]:443->443/tcp (front)",
                                "[::1]:8080->80/tcp (front)", "[2001:db8:1::10]:8443->443/udp (front)"]
    assert web["notes"] == []  # the IPv6 publications are modelled (docker-proxy on those addresses)
    table = addressing_table(design.name, list(rows.values()), width=None)
    assert "fd00:db8:10::2/64" in table and "fd00:db8:10::1" in table


def test_addressing_json_of_an_ipv4_interface_has_null_ipv6_fields():
    design, _ = load("name: d\nnetworks:\n  n: {subnet: 172.30.0.0/24}\ncontainers:\n  cc: {networks: [n]}\n")
    [row] = compute_addressing(build_world(design))
    iface = row.to_json()["interfaces"][0]
    assert (iface["address"], iface["address6"], iface["subnet6"], iface["gateway6"]) == ("172.30.0.2/24", None, None, None)


# --- the worked example ------------------------------------------------------------------------

def test_dual_stack_example_loads_clean_and_is_dual_stack():
    design, found = load_design(ROOT / "designs/ipv6/dual-stack.yaml")
    assert found == []
    a = allocate(design)
    assert sorted(c for c, _ in a.endpoints6) == ["api", "api", "db", "web"]
    assert json.dumps(str(a.endpoint6("db", "back"))) == '"fd00:db8:20::3/64"'
