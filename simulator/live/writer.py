"""A :class:`~simulator.model.Design` → netsim YAML that ``netsim check`` accepts.

Pure and deterministic: keys in a fixed order, networks and containers sorted by key.
What the netsim format cannot say directly is written as its equivalent: a compose
service name (a DNS name on every user-defined network) becomes an alias on each of
them; the default bridge is joined as ``bridge`` and never declared.  Swarm services are
written under ``services:`` (their tasks are not containers of the file: the loader makes
them again); what a YAML design cannot pin (a task's address, a virtual IP) is left to the
``x-netsim`` block.
"""

from __future__ import annotations

from ipaddress import IPv4Address

import yaml

from ..model import (
    DEFAULT_ADDRESS_POOLS,
    DEFAULT_ENGINE_VERSION,
    Container,
    DaemonOptions,
    Design,
    Driver,
    ModeKind,
    Network,
    SwarmService,
)

ANY = IPv4Address("0.0.0.0")


def _network(n: Network) -> dict:
    out: dict = {}
    if n.docker_name and n.docker_name != n.name:
        out["name"] = n.docker_name
    if n.driver is not Driver.BRIDGE:
        out["driver"] = n.driver.value
    if n.subnet is not None:
        out["subnet"] = str(n.subnet)
        if n.gateway is not None and n.gateway != next(n.subnet.hosts(), None):
            out["gateway"] = str(n.gateway)
    if n.ip_range is not None:
        out["ip_range"] = str(n.ip_range)
    if n.aux_addresses:
        out["aux_addresses"] = {f"aux{i}": str(a) for i, a in enumerate(n.aux_addresses)}
    if n.internal:
        out["internal"] = True
    if n.driver is Driver.BRIDGE:
        if not n.icc:
            out["icc"] = False
        if not n.masquerade:
            out["masquerade"] = False
        if n.host_binding_ipv4 != ANY:
            out["host_binding_ipv4"] = str(n.host_binding_ipv4)
        if n.gateway_mode != "nat":
            out["gateway_mode"] = str(n.gateway_mode)
        if n.gateway_mode6 != "nat":
            out["gateway_mode6"] = str(n.gateway_mode6)
    if n.driver in (Driver.MACVLAN, Driver.IPVLAN):
        if n.parent:
            out["parent"] = n.parent
        if n.vlan is not None:
            out["vlan"] = n.vlan
        if n.mode:
            out["mode"] = str(n.mode)
    if n.driver is Driver.OVERLAY:
        if n.attachable:
            out["attachable"] = True
        if n.encrypted:
            out["encrypted"] = True
    if n.labels:
        out["labels"] = dict(n.labels)
    return out


def _port(p) -> str | dict:
    proto = p.protocol.value
    if p.host_port is None:
        if p.host_ip is None:
            return f"{p.container_port}/{proto}"
        return {"target": p.container_port, "host_ip": str(p.host_ip), "protocol": proto}
    ip = f"{p.host_address}:" if p.host_ip is not None else ""
    return f"{ip}{p.host_port}:{p.container_port}/{proto}"


def _container(c: Container, design: Design) -> dict:
    out: dict = {}
    if c.docker_name and c.docker_name != c.name:
        out["name"] = c.docker_name
    if c.hostname:
        out["hostname"] = c.hostname
    if c.mode.kind is not ModeKind.NETWORKS:
        out["network_mode"] = str(c.mode)
    else:
        nets: dict = {}
        for a in c.attachments:
            default = design.has_network(a.network) and design.network(a.network).default_bridge
            aliases = list(a.aliases)
            if c.service and not default and c.service not in aliases:
                aliases.insert(0, c.service)  # compose's service name: a DNS name on the network
            spec: dict = {}
            if aliases:
                spec["aliases"] = aliases
            if a.ipv4_address is not None:
                spec["ipv4_address"] = str(a.ipv4_address)
            if a.gw_priority:
                spec["gw_priority"] = a.gw_priority
            nets["bridge" if default else a.network] = spec or None
        if not nets:
            out["network_mode"] = "none"
        elif all(v is None for v in nets.values()):
            out["networks"] = list(nets)
        else:
            out["networks"] = nets
    if c.ports:
        out["ports"] = [_port(p) for p in c.ports]
    if c.listeners:
        out["listens"] = _listens(c.listeners)
    if c.labels:
        out["labels"] = dict(c.labels)
    return out


def _listens(listeners) -> list:
    return [lst.port if lst.protocol.value == "tcp" else f"{lst.port}/{lst.protocol.value}" for lst in listeners]


def _service(s: SwarmService, design: Design) -> dict:
    """A swarm service as the ``services:`` section declares it (long port syntax with its mode)."""
    tasks = design.tasks(s.name)
    out: dict = {}
    if s.global_mode:
        out["mode"] = "global"
    else:
        out["replicas"] = len(tasks) + s.pending
    if s.endpoint_mode != "vip":
        out["endpoint_mode"] = s.endpoint_mode
    aliases = {a.network: list(a.aliases) for a in (tasks[0].attachments if tasks else ())}
    if any(aliases.values()):
        out["networks"] = {n: ({"aliases": aliases[n]} if aliases.get(n) else None) for n in s.networks}
    else:
        out["networks"] = list(s.networks)
    listens = sorted({x for t in tasks for x in t.listeners}, key=lambda x: (x.port, x.protocol.value))
    if listens:
        out["listens"] = _listens(listens)
    ports = [(p, "host") for p in (tasks[0].ports if tasks else ())] + [(p, "ingress") for p in s.ingress]
    if ports:
        out["ports"] = [{"target": p.container_port, **({"published": p.host_port} if p.host_port else {}),
                         "protocol": p.protocol.value, "mode": mode} for p, mode in ports]
    placement: dict = {}
    if s.constraints:
        placement["constraints"] = [f"{what} {op} {value}" for what, op, value in s.constraints]
    if s.max_replicas_per_node:
        placement["max_replicas_per_node"] = s.max_replicas_per_node
    if placement:
        out["placement"] = placement
    if tasks and tasks[0].labels:
        out["labels"] = dict(tasks[0].labels)
    return out


def _daemon(d: DaemonOptions) -> dict:
    out: dict = {}
    for name in ("icc", "userland_proxy", "iptables", "ip_forward", "ip_masq", "allow_direct_routing"):
        if getattr(d, name) != getattr(DaemonOptions(), name):
            out[name] = getattr(d, name)
    if d.bip is not None:
        out["bip"] = str(d.bip)
    if d.default_address_pools != DEFAULT_ADDRESS_POOLS:
        out["default_address_pools"] = [{"base": str(p.base), "size": p.size} for p in d.default_address_pools]
    return out


def design_to_data(design: Design) -> dict:
    data: dict = {"name": design.name, "engine_version": design.hosts[0].engine_version if design.hosts else DEFAULT_ENGINE_VERSION}
    hosts = {}
    for h in design.hosts:
        spec: dict = {"lan": {"interface": h.lan_interface, "address": str(h.lan_address)}}
        if (daemon := _daemon(h.daemon)):
            spec["daemon"] = daemon
        if h.routes:
            spec["routes"] = [str(r) for r in h.routes]
        if design.services or h.role != "manager":
            spec["role"] = h.role
        if h.labels:
            spec["labels"] = dict(h.labels)
        hosts[h.name] = spec
    data["hosts"] = hosts
    nets = {n.name: _network(n) or None for n in sorted(design.networks, key=lambda n: n.name)
            if not n.default_bridge and not n.ingress}  # the swarm's ingress: the loader adds it
    if nets:
        data["networks"] = nets
    data["containers"] = {c.name: _container(c, design) or None
                          for c in sorted(design.containers, key=lambda c: c.name) if c.task_of is None}
    if design.services:
        data["services"] = {s.name: _service(s, design) for s in sorted(design.services, key=lambda s: s.name)}
    return data


def render_yaml(design: Design, header: tuple[str, ...] = (), provenance: dict | None = None) -> str:
    """The design as netsim YAML, with ``header`` lines as comments on top and
    ``provenance`` (what was read from where, what is assumed) as an ``x-netsim`` block,
    which ``netsim check`` ignores."""
    body = yaml.safe_dump(design_to_data(design), sort_keys=False, default_flow_style=None, width=110,
                          allow_unicode=True)
    if provenance:
        body += yaml.safe_dump({"x-netsim": {"imported": provenance}}, sort_keys=False, default_flow_style=False,
                               width=110, allow_unicode=True)
    comments = "".join(f"# {line}\n" if line else "#\n" for line in header)
    return comments + body
