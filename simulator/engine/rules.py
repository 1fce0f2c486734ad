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
from .versions import EngineVersion


@dataclass(frozen=True, slots=True)
class Binding:
    """A published port as the engine programs it on one host."""

    container: str
    network: str
    host_ip: IPv4Address
    host_port: int
    container_ip: IPv4Address
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


def build_ruleset(
    design: Design,
    addressing: Addressing,
    host: Host,
    version: EngineVersion,
    bindings: list[Binding],
    ephemeral: tuple[Binding, ...] = (),
) -> Ruleset:
    rs = Ruleset()
    daemon = host.daemon
    if not daemon.iptables:
        return rs
    gen = version.generation
    bridges = bridge_segments(design, addressing, host.name)
    if not any(net.default_bridge for net, _ in bridges):
        unused = _docker0_unused(design, addressing, host)
        if unused is not None:
            bridges.insert(0, unused)
    if daemon.ip_forward and not daemon.forwarding_preset:
        # dockerd sets the DROP policy only when it turns forwarding on itself (confirmed 20.10, 28.5.2, 29.7.2)
        rs.filter.policies["FORWARD"] = "DROP"

    nat, filt, raw = rs.nat, rs.filter, rs.raw
    nat.add("-A PREROUTING -m addrtype --dst-type LOCAL -j DOCKER")
    if daemon.userland_proxy:
        nat.add("-A OUTPUT ! -d 127.0.0.0/8 -m addrtype --dst-type LOCAL -j DOCKER")
    else:
        nat.add("-A OUTPUT -m addrtype --dst-type LOCAL -j DOCKER")

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
            if version.forward_chain:
                # inserted: they come before the jumps of the other bridges (as the engine's -I)
                filt.insert(f"-A {iso1} ! -d {subnet} -i {br} -j DROP")
                filt.insert(f"-A {iso1} ! -s {subnet} -o {br} -j DROP")
                filt.add(f"-A DOCKER-FORWARD -i {br} -o {br} -j {'ACCEPT' if icc else 'DROP'}")  # one rule (28.5.2, 29.7.2)
            else:
                filt.add(f"-A DOCKER-ISOLATION-STAGE-1 ! -s {subnet} -o {br} -j DROP")
                filt.add(f"-A DOCKER-ISOLATION-STAGE-1 ! -d {subnet} -i {br} -j DROP")
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
        if not unprotected:  # 28+: a nat-unprotected bridge accepts every port, so no per-port rule (28.5.2, 29.7.2)
            filt.insert(
                f"-A DOCKER -d {b.container_ip}/32 ! -i {b.bridge} -o {b.bridge} -p {b.protocol} -m {b.protocol} "
                f"--dport {b.container_port} -j ACCEPT"
            )
        if routed:
            continue
        if hairpin:
            nat.add(
                f"-A POSTROUTING -s {b.container_ip}/32 -d {b.container_ip}/32 -p {b.protocol} -m {b.protocol} "
                f"--dport {b.container_port} -j MASQUERADE"
            )
        if not b.host_port:
            continue
        dest = "" if b.host_ip == IPv4Address("0.0.0.0") else f"-d {b.host_ip}/32 "
        not_in = f"! -i {b.bridge} " if daemon.userland_proxy else ""
        nat.add(
            f"-A DOCKER {dest}{not_in}-p {b.protocol} -m {b.protocol} --dport {b.host_port} "
            f"-j DNAT --to-destination {b.container_ip}:{b.container_port}"
        )
        if version.protects_loopback_bindings and b.host_ip.is_loopback:
            raw.add(f"-A PREROUTING -d {b.host_ip}/32 ! -i lo -p {b.protocol} -m {b.protocol} --dport {b.host_port} -j DROP")

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
                filt.add(f"-A DOCKER -o {seg.bridge} -p icmp -j ACCEPT")
            filt.add(f"-A DOCKER ! -i {seg.bridge} -o {seg.bridge} -j DROP")
        direct_ok = daemon.allow_direct_routing and version.supports_allow_direct_routing
        if version.blocks_direct_routing and not direct_ok:
            for net, seg in bridges:
                if net.gateway_mode != "nat" or net.internal:
                    continue  # routed, nat-unprotected and internal networks get no raw drops (28.5.2, 29.7.2)
                for ep in addressing.endpoints.values():
                    if ep.segment == seg.key:
                        raw.add(f"-A PREROUTING -d {ep.address}/32 ! -i {seg.bridge} -j DROP")
    return rs


def gateway_endpoint_network(design: Design, addressing: Addressing, container_name: str, version: EngineVersion) -> str | None:
    """The network whose endpoint gives the container its default route (None: no default route)."""
    for network, has_gw in endpoint_order(design, addressing, container_name, version):
        if has_gw:
            return network
    return None


def endpoint_order(design: Design, addressing: Addressing, container_name: str, version: EngineVersion) -> list[tuple[str, bool]]:
    """The container's endpoints in libnetwork's order, each with whether it offers a gateway.

    Higher gw-priority first (28.0+), then non-internal networks, then endpoints that have
    a gateway, then network name ascending; docker_gwbridge comes last. Interfaces are
    numbered eth0, eth1, … in this order at start (confirmed on 20.10).
    """
    return [(ep.network, has_gw) for ep, has_gw in ordered_endpoints(design, addressing, design.container(container_name), version)]


def ordered_endpoints(design: Design, addressing: Addressing, c: Container, version: EngineVersion) -> list[tuple[Endpoint, bool]]:
    """:func:`endpoint_order` with the endpoints themselves."""
    candidates = []
    segments = addressing.segments
    for ep in addressing.endpoints_of(c.name):
        if ep.network == GWBRIDGE:
            candidates.append((10**9, 0, 0, "~" + GWBRIDGE, ep.network, True, ep))
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
        candidates.append((-prio, 1 if net.internal else 0, 0 if has_gw else 1, net.engine_name, ep.network, has_gw, ep))
    candidates.sort()  # the network names differ: the endpoints themselves are never compared
    return [(ep, has_gw) for *_, has_gw, ep in candidates]


def published_bindings(design: Design, addressing: Addressing, host: Host, version: EngineVersion):
    """Port bindings the engine programs on ``host``: (bindings, (container, why) of ignored ones,
    bindings to an ephemeral host port — their host port is unknown (0), but the engine still opens
    the container port in the filter table)."""
    bindings: list[Binding] = []
    ephemeral: list[Binding] = []
    ignored: list[tuple[str, str]] = []
    for c in design.containers_on(host.name):
        if not c.ports:
            continue
        if c.mode.kind is not ModeKind.NETWORKS:
            ignored.append((c.name, f"network_mode {c.mode} discards published ports"))
            continue
        gw_net = gateway_endpoint_network(design, addressing, c.name, version)
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
        for pm in c.ports:
            if isinstance(pm.host_ip, IPv6Address):  # IPv6 bindings: the next step of issue 14
                ignored.append((c.name, f"[{pm.host_ip}]:{pm.host_port or ''}->{pm.container_port}/{pm.protocol.value} "
                                "is published on an IPv6 host address, which reachability does not model yet"))
                continue
            host_ip = pm.host_ip if pm.host_ip is not None else net.host_binding_ipv4
            binding = Binding(c.name, gw_net, host_ip, pm.host_port or 0, ep.address, pm.container_port, pm.protocol.value, seg.bridge, pm)
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
