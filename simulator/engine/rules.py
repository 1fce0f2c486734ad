"""The netfilter rules a Docker engine programs for a host, per engine version.

Three layouts (moby ``integration/network/bridge/iptablesdoc/generated/``):

* legacy (20.10–27.x): FORWARD → DOCKER-USER, DOCKER-ISOLATION-STAGE-1/2, per-bridge
  ACCEPT rules, DOCKER chain with one ACCEPT per published container port.
* 28.x: as legacy, plus a default ``! -i br -o br -j DROP`` per bridge in DOCKER and raw
  PREROUTING drops for container addresses arriving on other interfaces (direct
  routing) and for remote packets to ports published on loopback.
* 29.x: no ISOLATION chains; DOCKER-FORWARD/DOCKER-INTERNAL; isolation comes from the
  DOCKER default drops and the raw drops.
"""

from __future__ import annotations

from dataclasses import dataclass
from ipaddress import IPv4Address, IPv6Address

from ..model import Container, Design, Driver, Host, ModeKind, Network, PortMapping
from .ipam import GWBRIDGE, Addressing, Endpoint, Segment, gwbridge_network
from .netfilter import Ruleset, Table
from .trace import Address, host_port
from .versions import EngineVersion

ANY6 = IPv6Address("::")
LINK_LOCAL6 = "fe80::/10"


@dataclass(frozen=True, slots=True)
class Binding:
    """A published port as the engine programs it on one host."""

    container: str
    network: str
    host_ip: Address  # an IPv6 address in a family-6 world's bindings (:func:`published_bindings`)
    host_port: int
    container_ip: Address  # IPv4 in a family-6 binding when the container has no IPv6 address there
    container_port: int
    protocol: str
    bridge: str
    mapping: PortMapping


def bridge_segments(design: Design, addressing: Addressing, host: str) -> list[tuple[Network, Segment]]:
    """The bridge networks on ``host`` in creation order (docker0 first)."""
    out = []
    for seg in addressing.segments.values():
        if seg.host != host or seg.bridge is None:
            continue
        if seg.network == GWBRIDGE:
            out.append((gwbridge_network((host,)), seg))
        else:
            out.append((design.network(seg.network), seg))
    return out


def _uses_nat(net: Network) -> bool:
    return net.gateway_mode in ("nat", "nat-unprotected")


def _docker0_unused(design: Design, addressing: Addressing, host: Host) -> tuple[Network, Segment] | None:
    """docker0 when no container of the design uses it: the daemon creates it and programs its
    rules all the same (confirmed on 20.10, 28.5.2 and 29.7.2: every capture holds docker0's rules)."""
    subnet = addressing.docker0.get(host.name)
    if subnet is None:
        return None
    net = Network("bridge", Driver.BRIDGE, docker_name="bridge", hosts=(host.name,), default_bridge=True)
    return net, Segment("bridge", host.name, subnet, None, "docker0")  # only its rules: no interface, no endpoint


def ip6tables_managed(host: Host, version: EngineVersion) -> bool:
    """Whether the host's engine writes ip6tables rules: daemon.json ``ip6tables``, else the engine
    line's default (:attr:`EngineVersion.ip6tables_default`: off before 27.0)."""
    d = host.daemon
    return d.ip6tables if d.ip6tables is not None else version.ip6tables_default


def _forward_drop_policy(host: Host, version: EngineVersion, family: int, has_bridges: bool) -> bool:
    """Whether the engine sets the FORWARD policy of the family's filter table to DROP: when it turns
    forwarding on itself (the host did not forward before dockerd started, ``forwarding_preset``).
    IPv4: at start, with ``ip_forward`` (confirmed on 20.10, 28.5.2, 29.7.2). IPv6 until 27.x: at every
    start (§18c); from 28.0 with the first IPv6 bridge, which turns IPv6 forwarding on
    (:attr:`EngineVersion.ip6tables_drop_policy_with_forwarding`, §18m)."""
    daemon = host.daemon
    if family == 4:
        return daemon.ip_forward and not daemon.forwarding_preset
    if not version.ip6tables_drop_policy_with_forwarding:
        return True
    return has_bridges and daemon.ip_forward and not daemon.forwarding_preset


def build_ruleset(
    design: Design,
    addressing: Addressing,
    host: Host,
    version: EngineVersion,
    bindings: list[Binding],
    ephemeral: tuple[Binding, ...] = (),
    family: int = 4,
) -> Ruleset:
    """The host's iptables rules, or with ``family`` 6 its ip6tables rules (``addressing`` then the
    IPv6 view, :func:`~simulator.engine.ipam.ipv6_view`): none when the engine does not manage
    ip6tables, which leaves the forward path to the host's own policy (ACCEPT here); else the same
    chains with the IPv6 subnets, with what differs over IPv6 per engine line: no DOCKER-USER before
    24.0, the internal networks' drops sparing bridged traffic from 24.0.6, the FORWARD policy
    (:func:`_forward_drop_policy`), ``! -s fe80::/10`` on the DNAT rules from 28.0, no raw rule for
    ``::1`` publications (docs/confirmed-rules.md §18c, §18l)."""
    rs = Ruleset()
    daemon = host.daemon
    if family == 6 and not ip6tables_managed(host, version):
        rs.managed = False
        return rs
    if not daemon.iptables:
        return rs
    v6 = family == 6
    one = "/128" if v6 else "/32"  # a single address as iptables prints it
    gen = version.generation
    bridges = bridge_segments(design, addressing, host.name)
    if not any(net.default_bridge for net, _ in bridges):
        unused = _docker0_unused(design, addressing, host)
        if unused is not None:
            bridges.insert(0, unused)
    if _forward_drop_policy(host, version, family, bool(bridges)):
        rs.filter.policies["FORWARD"] = "DROP"

    nat, filt, raw = rs.nat, rs.filter, rs.raw
    nat.add("-A PREROUTING -m addrtype --dst-type LOCAL -j DOCKER")
    if daemon.userland_proxy:
        nat.add(f"-A OUTPUT ! -d {'::1/128' if v6 else '127.0.0.0/8'} -m addrtype --dst-type LOCAL -j DOCKER")
    else:
        nat.add("-A OUTPUT -m addrtype --dst-type LOCAL -j DOCKER")

    if not v6 or version.ip6tables_docker_user:
        filt.add("-A FORWARD -j DOCKER-USER")
        if version.docker_user_return:
            filt.add("-A DOCKER-USER -j RETURN")
    # 28+: the isolation chain DOCKER-FORWARD calls (29 keeps only the internal networks' rules)
    iso1 = "DOCKER-INTERNAL" if gen == "29" else "DOCKER-ISOLATION-STAGE-1"
    if version.forward_chain:
        filt.add("-A FORWARD -j DOCKER-FORWARD")
        filt.add("-A DOCKER-FORWARD -j DOCKER-CT")
        filt.add(f"-A DOCKER-FORWARD -j {iso1}")
        filt.add("-A DOCKER-FORWARD -j DOCKER-BRIDGE")
    else:
        filt.add("-A FORWARD -j DOCKER-ISOLATION-STAGE-1")

    for net, seg in bridges:
        br = seg.bridge
        subnet = seg.subnet
        icc = net.icc and (daemon.icc or not net.default_bridge)
        if net.internal:
            # IPv6 from 24.0.6: traffic that stays on the bridge (neighbour discovery) is spared
            spare = v6 and version.ip6tables_internal_spares_bridged
            not_in, not_out = (f"! -i {br} ", f"! -o {br} ") if spare else ("", "")
            drop_out = f"! -s {subnet} {not_in}-o {br} -j DROP"
            drop_in = f"! -d {subnet} -i {br} {not_out}-j DROP"
            if version.forward_chain:
                # inserted: they come before the jumps of the other bridges (as the engine's -I)
                filt.insert(f"-A {iso1} {drop_in}")
                filt.insert(f"-A {iso1} {drop_out}")
                filt.add(f"-A DOCKER-FORWARD -i {br} -o {br} -j {'ACCEPT' if icc else 'DROP'}")  # one rule (28.5.2, 29.7.2)
            else:
                filt.add(f"-A DOCKER-ISOLATION-STAGE-1 {drop_out}")
                filt.add(f"-A DOCKER-ISOLATION-STAGE-1 {drop_in}")
                filt.add(f"-A FORWARD -i {br} -o {br} -j {'ACCEPT' if icc else 'DROP'}")
            continue
        if version.forward_chain:
            filt.add(f"-A DOCKER-CT -o {br} -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT")
            filt.add(f"-A DOCKER-BRIDGE -o {br} -j DOCKER")
            if icc:
                filt.add(f"-A DOCKER-FORWARD -i {br} -j ACCEPT")
            else:
                filt.add(f"-A DOCKER-FORWARD -i {br} -o {br} -j DROP")
                filt.add(f"-A DOCKER-FORWARD -i {br} ! -o {br} -j ACCEPT")
            if gen == "28":
                if net.gateway_mode == "routed":
                    # other networks reach a routed network's published ports (28.5.2 iptabler network.go)
                    filt.insert(f"-A DOCKER-ISOLATION-STAGE-1 -o {br} -j RETURN")
                    filt.insert(f"-A DOCKER-ISOLATION-STAGE-1 -i {br} -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT")
                filt.add(f"-A DOCKER-ISOLATION-STAGE-1 -i {br} ! -o {br} -j DOCKER-ISOLATION-STAGE-2")
                filt.add(f"-A DOCKER-ISOLATION-STAGE-2 -o {br} -j DROP")
        else:
            filt.add(f"-A FORWARD -o {br} -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT")
            filt.add(f"-A FORWARD -o {br} -j DOCKER")
            filt.add(f"-A FORWARD -i {br} ! -o {br} -j ACCEPT")
            filt.add(f"-A FORWARD -i {br} -o {br} -j {'ACCEPT' if icc else 'DROP'}")
            filt.add(f"-A DOCKER-ISOLATION-STAGE-1 -i {br} ! -o {br} -j DOCKER-ISOLATION-STAGE-2")
            filt.add(f"-A DOCKER-ISOLATION-STAGE-2 -o {br} -j DROP")
        if net.masquerade and daemon.ip_masq and _uses_nat(net):
            nat.add(f"-A POSTROUTING -s {subnet} ! -o {br} -j MASQUERADE")
        if daemon.userland_proxy:
            if version.skip_dnat_return:
                nat.add(f"-A DOCKER -i {br} -j RETURN")
        else:
            # "MASQ LOCAL HOST": the host's own packets to a DNATed port (setupIPTablesInternal, hairpin mode)
            nat.add(f"-A POSTROUTING -o {br} -m addrtype --src-type LOCAL -j MASQUERADE")

    hairpin = not daemon.userland_proxy or version.hairpin_masquerade_with_proxy
    for b in bindings + list(ephemeral):
        bound_net = design.network(b.network) if design.has_network(b.network) else None
        routed = bound_net is not None and not _uses_nat(bound_net)
        unprotected = bound_net is not None and bound_net.gateway_mode == "nat-unprotected" and version.at_least(28)
        if b.container_ip.version != family:
            continue  # docker-proxy relays [::]:port to the IPv4 address: no ip6tables rule can (§18e)
        if not unprotected:  # 28+: a nat-unprotected bridge accepts every port, so no per-port rule (28.5.2, 29.7.2)
            filt.insert(
                f"-A DOCKER -d {b.container_ip}{one} ! -i {b.bridge} -o {b.bridge} -p {b.protocol} -m {b.protocol} "
                f"--dport {b.container_port} -j ACCEPT"
            )
        if routed:
            continue
        if hairpin:
            nat.add(
                f"-A POSTROUTING -s {b.container_ip}{one} -d {b.container_ip}{one} -p {b.protocol} -m {b.protocol} "
                f"--dport {b.container_port} -j MASQUERADE"
            )
        if not b.host_port:
            continue
        dest = "" if b.host_ip.is_unspecified else f"-d {b.host_ip}{one} "
        if v6 and version.ip6tables_dnat_skips_link_local:
            dest = f"! -s {LINK_LOCAL6} {dest}"  # link-local clients go to docker-proxy (moby#48570)
        not_in = f"! -i {b.bridge} " if daemon.userland_proxy else ""
        nat.add(
            f"-A DOCKER {dest}{not_in}-p {b.protocol} -m {b.protocol} --dport {b.host_port} "
            f"-j DNAT --to-destination {host_port(b.container_ip, b.container_port)}"
        )
        if version.protects_loopback_bindings and b.host_ip.is_loopback and not v6:  # none for ::1 (§18l, §18x)
            raw.add(f"-A PREROUTING -d {b.host_ip}{one} ! -i lo -p {b.protocol} -m {b.protocol} --dport {b.host_port} -j DROP")

    if version.isolation_chain_returns:
        filt.add("-A DOCKER-ISOLATION-STAGE-1 -j RETURN")
        filt.add("-A DOCKER-ISOLATION-STAGE-2 -j RETURN")
    if gen in ("28", "29"):
        for net, seg in bridges:
            if net.internal:
                continue
            if net.gateway_mode == "nat-unprotected":
                filt.add(f"-A DOCKER ! -i {seg.bridge} -o {seg.bridge} -j ACCEPT")
                continue
            if net.gateway_mode == "routed":
                # routed: ICMP in, published ports in (above), the rest dropped (28.5.2, 29.7.2)
                filt.add(f"-A DOCKER -o {seg.bridge} -p {'ipv6-icmp' if v6 else 'icmp'} -j ACCEPT")
            filt.add(f"-A DOCKER ! -i {seg.bridge} -o {seg.bridge} -j DROP")
        direct_ok = daemon.allow_direct_routing and version.supports_allow_direct_routing
        if version.blocks_direct_routing and not direct_ok:
            for net, seg in bridges:
                if net.gateway_mode != "nat" or net.internal:
                    continue  # routed, nat-unprotected and internal networks get no raw drops (28.5.2, 29.7.2)
                for ep in addressing.endpoints.values():
                    if ep.segment == seg.key:
                        raw.add(f"-A PREROUTING -d {ep.address}{one} ! -i {seg.bridge} -j DROP")
    return rs


def gateway_endpoint_network(design: Design, addressing: Addressing, container_name: str, version: EngineVersion) -> str | None:
    """The network whose endpoint gives the container its IPv4 default route (None: no default route)."""
    ep4, _ = gateway_endpoints(design, addressing, design.container(container_name), version)
    return ep4.network if ep4 is not None else None


def gateway_endpoints(design: Design, addressing: Addressing, c: Container, version: EngineVersion,
                      order: list[tuple[Endpoint, bool]] | None = None) -> tuple[Endpoint | None, Endpoint | None]:
    """The endpoints giving the container its IPv4 and its IPv6 default route, as the engine line chooses
    them (:attr:`EngineVersion.gateway_choice`) among its endpoints in libnetwork's order. ``addressing``:
    the whole (IPv4) one, its IPv6 side included. An endpoint offers an IPv6 gateway when it offers an
    IPv4 one and has an IPv6 address (netsim has no IPv6-only networks). ``order``: the container's
    :func:`ordered_endpoints`, when the caller has them."""
    if order is None:
        order = ordered_endpoints(design, addressing, c, version)
    with_gw = [ep for ep, has_gw in order if has_gw]
    if not with_gw:
        return None, None
    dual = [ep for ep in with_gw if addressing.endpoint6(c.name, ep.network) is not None]
    choice = version.gateway_choice
    if choice == "one":  # one endpoint, both families (none over IPv6 when it has no IPv6)
        return with_gw[0], with_gw[0] if with_gw[0] in dual else None
    if choice == "dual-stack" and dual:  # the first dual-stack endpoint wins both, whatever the priorities
        return dual[0], dual[0]
    return with_gw[0], dual[0] if dual else None


def endpoint_order(design: Design, addressing: Addressing, container_name: str, version: EngineVersion) -> list[tuple[str, bool]]:
    """The container's endpoints in libnetwork's order, each with whether it offers a gateway.

    Higher gw-priority first (28.0+), then non-internal networks, then endpoints with an IPv4
    and an IPv6 gateway, then endpoints that have a gateway, then network name ascending; docker_gwbridge comes last. Interfaces are
    numbered eth0, eth1, … in this order at start (confirmed on 20.10).
    """
    return [(ep.network, has_gw) for ep, has_gw in ordered_endpoints(design, addressing, design.container(container_name), version)]


def ordered_endpoints(design: Design, addressing: Addressing, c: Container, version: EngineVersion) -> list[tuple[Endpoint, bool]]:
    """:func:`endpoint_order` with the endpoints themselves."""
    candidates = []
    segments = addressing.segments
    for ep in addressing.endpoints_of(c.name):
        if ep.network == GWBRIDGE:
            candidates.append((10**9, 0, 0, 0, "~" + GWBRIDGE, ep.network, True, ep))
            continue
        net = design.network(ep.network)
        attachment = c.attachment(ep.network) if version.has_gw_priority else None
        prio = attachment.gw_priority if attachment is not None else 0
        has_gw = (
            segments[ep.segment].gateway is not None
            and net.driver is not Driver.OVERLAY  # overlay endpoints get no default route
            and not (net.internal and not version.internal_has_default_route)
            and net.gateway_mode != "isolated"
        )
        # an endpoint with gateways of both families before one without (§18i: the jii/jij test of
        # libnetwork's (*endpoint).Less at v20.10.24); a design without IPv6 never has one
        dual = 0 if has_gw and addressing.endpoints6 and addressing.endpoint6(c.name, ep.network) is not None else 1
        candidates.append((-prio, 1 if net.internal else 0, dual, 0 if has_gw else 1, net.engine_name, ep.network, has_gw, ep))
    candidates.sort()  # the network names differ: the endpoints themselves are never compared
    return [(ep, has_gw) for *_, has_gw, ep in candidates]


def published_bindings(design: Design, addressing: Addressing, host: Host, version: EngineVersion, family: int = 4):
    """Port bindings the engine programs on ``host``: (bindings, (container, why) of ignored ones,
    bindings to an ephemeral host port — their host port is unknown (0), but the engine still opens
    the container port in the filter table).

    ``family`` 6: the bindings on the host's IPv6 addresses (``addressing`` is still the whole one,
    :attr:`Addressing.endpoints6` included): a port published without a host address is bound on
    ``::`` too, an IPv6 host address only there; docker-proxy relays to the container's IPv6 address
    on its gateway network, or to its IPv4 address when it has none there (docs/confirmed-rules.md §18e;
    ``allocatePortsInternal``, libnetwork drivers/bridge/port_mapping.go at v20.10.24)."""
    bindings: list[Binding] = []
    ephemeral: list[Binding] = []
    ignored: list[tuple[str, str]] = []
    for c in design.containers_on(host.name):
        if not c.ports:
            continue
        if c.mode.kind is not ModeKind.NETWORKS:
            ignored.append((c.name, f"network_mode {c.mode} discards published ports"))
            continue
        gw4, gw6 = gateway_endpoints(design, addressing, c, version)
        gw_net = gw4.network if gw4 is not None else None
        if gw_net is None:
            ignored.append((c.name, "no endpoint provides a default gateway (internal network only), so no port is bound"))
            continue
        net = gwbridge_network((host.name,)) if gw_net == GWBRIDGE else design.network(gw_net)
        if net.internal:
            ignored.append((c.name, f"its gateway network {net.name} is internal: the engine accepts -p but binds nothing"))
            continue
        if net.driver is not Driver.BRIDGE:
            ignored.append((c.name, f"the {net.driver.value} driver does not support port mappings"))
            continue
        ep = addressing.endpoint(c.name, gw_net)
        assert ep is not None, f"{c.name} has an endpoint on its gateway network {gw_net}"
        seg = addressing.segments[ep.segment]
        assert seg.bridge is not None, f"bridge network {net.name} has a bridge"
        # [::]:P relays to the IPv6 address on the IPv6 gateway network (29.4.1+: maybe another network than
        # the IPv4 one, libnetwork's NoProxy6To4; confirmed on 29.7.2, §18u), else to the IPv4 address
        ep6, network6, bridge6 = None, gw_net, seg.bridge
        if gw6 is not None:
            net6 = design.network(gw6.network) if gw6.network != GWBRIDGE else net
            seg6 = addressing.segments[gw6.segment]
            if net6.driver is Driver.BRIDGE and not net6.internal and seg6.bridge is not None:
                ep6, network6, bridge6 = addressing.endpoint6(c.name, gw6.network), gw6.network, seg6.bridge
        for pm in c.ports:
            if family == 4:
                if isinstance(pm.host_ip, IPv6Address):
                    continue  # bound on an IPv6 address only (validatePortBindingIPv4)
                host_ip: Address = pm.host_ip if pm.host_ip is not None else net.host_binding_ipv4
                container_ip: Address = ep.address
            else:
                if isinstance(pm.host_ip, IPv4Address) or (pm.host_ip is None and not net.host_binding_ipv4.is_unspecified):
                    continue  # bound on an IPv4 address only (validatePortBindingIPv6)
                if ep6 is None and not host.daemon.userland_proxy:
                    continue  # no IPv6 address to relay to, and no docker-proxy to relay to the IPv4 one
                host_ip = pm.host_ip if pm.host_ip is not None else ANY6
                container_ip = ep6.address if ep6 is not None else ep.address
            network, bridge = (network6, bridge6) if family == 6 and ep6 is not None else (gw_net, seg.bridge)
            binding = Binding(c.name, network, host_ip, pm.host_port or 0, container_ip, pm.container_port, pm.protocol.value,
                              bridge, pm)
            if pm.host_port is None:
                ignored.append((c.name, f"{pm.container_port}/{pm.protocol.value} gets an ephemeral host port the model cannot predict"))
                ephemeral.append(binding)
            else:
                bindings.append(binding)
    return bindings, ignored, ephemeral


def ingress_filter(address: IPv4Address, mesh: tuple[PortMapping, ...]) -> Table:
    """The filter rules the engine puts in a routing-mesh task's namespace for its address on the
    ingress network: connections in only to the service's published target ports, none out (the
    reply rule, ``--sport <target> --ctstate ESTABLISHED``, matches no new connection and is left
    out). Confirmed on 20.10.24 (docs/confirmed-rules.md §17i; moby libnetwork ``service_linux.go``)."""
    table = Table("filter")
    for m in mesh:
        proto = m.protocol.value
        table.add(f"-A INPUT -d {address}/32 -p {proto} -m {proto} --dport {m.container_port} "
                  "-m conntrack --ctstate NEW,ESTABLISHED -j ACCEPT")
    for proto in ("sctp", "udp", "tcp"):
        table.add(f"-A INPUT -d {address}/32 -p {proto} -j DROP")
    for proto in ("sctp", "udp", "tcp"):
        table.add(f"-A OUTPUT -s {address}/32 -p {proto} -j DROP")
    return table
