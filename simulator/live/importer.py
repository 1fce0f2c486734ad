"""A running engine → :class:`~simulator.model.Design`: the same model a YAML design gives.

:func:`import_snapshot` is a pure mapping of inspect JSON (a :class:`~.snapshot.Snapshot`)
to the model, unit-tested with recorded JSON; :func:`import_design` reads the engine
through the adapter interface and maps what it read.

Names: a compose container's key is its service (``com.docker.compose.service``), a
compose network's key its compose key (``com.docker.compose.network``); netsim's own
deployments use ``netsim.container`` / ``netsim.network``; anything else its engine
name.  Engine names stay in ``docker_name``.  What the engine adds by itself is left out:
the short-id and hostname aliases, the compose service alias (the model's ``service``),
the hostname equal to the short id.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from ipaddress import IPv4Address, IPv4Interface, IPv4Network

from ..adapters.engine import Engine
from ..engine.versions import engine_line
from ..model import (
    DEFAULT_ENGINE_VERSION,
    AddressPool,
    Attachment,
    Container,
    DaemonOptions,
    Design,
    DesignKind,
    Driver,
    Host,
    Listener,
    ModeKind,
    Network,
    NetworkMode,
    PortMapping,
    Protocol,
)
from .snapshot import (
    COMPOSE_NETWORK,
    COMPOSE_NUMBER,
    COMPOSE_PROJECT,
    COMPOSE_SERVICE,
    COMPOSE_VERSION,
    Scope,
    Snapshot,
    read_snapshot,
)
from .swarm_import import SwarmPart, import_swarm, is_task

DEFAULT_HOST = "docker1"
BRIDGE_OPT = "com.docker.network.bridge."
LAN_PEER_AUX = "netsim-lan-peer"
DRIVERS = {"bridge": Driver.BRIDGE, "macvlan": Driver.MACVLAN, "ipvlan": Driver.IPVLAN, "overlay": Driver.OVERLAY}
SKIP_NETWORKS = ("host", "none")
EMBEDDED_DNS = "127.0.0.11"  # the embedded DNS's own sockets live in every user-network namespace


@dataclass(frozen=True)
class Imported:
    """The imported design, what could not be modelled, and engine ids per container key."""

    design: Design
    notes: tuple[str, ...] = ()
    ids: Mapping[str, str] = field(default_factory=dict)  # container key -> engine id
    network_ids: Mapping[str, str] = field(default_factory=dict)  # network key -> engine id
    addresses: Mapping[tuple[str, str], IPv4Interface] = field(default_factory=dict)  # (container, network) -> address
    bindings: Mapping[tuple[str, int, str], str] = field(default_factory=dict)  # (host ip, host port, proto) -> container
    static: frozenset = frozenset()  # (container, network) whose address was requested (IPAMConfig)
    compose_names: Mapping[str, str] = field(default_factory=dict)  # service -> container name, stopped ones too
    compose_version: str = ""  # com.docker.compose.version of the project's containers
    compose_project: str = ""  # the compose project's name (scope compose)
    provenance: Mapping = field(default_factory=dict)  # what was read from where, what is assumed (x-netsim)
    virtual_ips: Mapping[tuple[str, str], IPv4Interface] = field(default_factory=dict)  # (service, network) -> VIP

    @property
    def compose_v1(self) -> bool:
        """Was the project started by docker-compose v1 (``<project>_<service>_1`` names)?"""
        return self.compose_version.startswith("1.")


def design_name(text: str) -> str:
    """A valid design name from a project name."""
    name = re.sub(r"[^a-z0-9_.-]+", "-", text.lower()).strip("-_.")
    return name or "live"


def import_design(engine: Engine, scope: Scope, name: str | None = None) -> Design:
    """Read the engine (only the scope's containers) and return it as a Design."""
    return import_snapshot(read_snapshot(engine, scope), scope, name).design


def _ipv4(text: str | None) -> IPv4Address | None:
    try:
        return IPv4Address(text) if text else None
    except ValueError:
        return None


def _first_v4_config(net: dict) -> dict:
    for cfg in (net.get("IPAM") or {}).get("Config") or []:
        if cfg.get("Subnet") and ":" not in cfg["Subnet"]:
            return cfg
    return {}


def _preferred_network_key(net: dict, scope: Scope) -> str:
    labels = net.get("Labels") or {}
    if net.get("Name") == "bridge":
        return "bridge"
    if labels.get(COMPOSE_NETWORK) and (scope.kind != "compose" or labels.get(COMPOSE_PROJECT) == scope.value):
        return labels[COMPOSE_NETWORK]
    if labels.get("netsim.network") and (scope.kind != "netsim" or labels.get("netsim.design") == scope.value):
        return labels["netsim.network"]
    return net.get("Name", "")


def _compose_service(c: dict, scope: Scope) -> tuple[str, str] | None:
    """(project, service) of a compose container the scope takes as one, else None."""
    labels = (c.get("Config") or {}).get("Labels") or {}
    if labels.get(COMPOSE_SERVICE) and (scope.kind != "compose" or labels.get(COMPOSE_PROJECT) == scope.value):
        return labels.get(COMPOSE_PROJECT, ""), labels[COMPOSE_SERVICE]
    return None


def _preferred_container_key(c: dict, scope: Scope, scaled: set[tuple[str, str]]) -> str:
    """A compose container's key is its service, ``<service>.<number>`` when the service runs several
    (``scaled``), as the compose loader names replicas."""
    labels = (c.get("Config") or {}).get("Labels") or {}
    name = (c.get("Name") or "").lstrip("/")
    service = _compose_service(c, scope)
    if service is not None:
        number = labels.get(COMPOSE_NUMBER, "1") or "1"
        return f"{service[1]}.{number}" if service in scaled else service[1]
    if labels.get("netsim.container") and (scope.kind != "netsim" or labels.get("netsim.design") == scope.value):
        return labels["netsim.container"]
    return name


def _unique_keys(items: list[tuple[str, str, str]]) -> dict[str, str]:
    """(id, preferred key, engine name) -> id: key; a clash falls back to engine names."""
    counts: dict[str, int] = {}
    for _, key, _ in items:
        counts[key] = counts.get(key, 0) + 1
    return {i: (key if counts[key] == 1 else name) for i, key, name in items}


EVERY_CONTAINER = Scope("all")


def import_snapshot(snap: Snapshot, scope: Scope = EVERY_CONTAINER, name: str | None = None) -> Imported:
    """Map inspect JSON to the model (pure)."""
    notes: list[str] = list(snap.notes)
    by_id = {c["Id"]: c for c in snap.containers}
    running = [c for c in snap.containers if (c.get("State") or {}).get("Running") and not is_task(c)]
    tasks_here = {c["Id"]: c for c in snap.containers if (c.get("State") or {}).get("Running") and is_task(c)}
    if tasks_here and not snap.nodes:
        notes.append("containers of swarm tasks are left out: this engine is no swarm manager, so their services "
                     f"cannot be read ({', '.join(sorted(c['Name'].lstrip('/') for c in tasks_here.values()))})")
    for c in snap.containers:
        if c not in running and not is_task(c):
            notes.append(f"container {c.get('Name', '').lstrip('/')} is {(c.get('State') or {}).get('Status', 'not running')}: "
                         "not part of the import (a stopped container has no network endpoints)")
    per_service: dict[tuple[str, str], int] = {}
    for c in running:
        if (service := _compose_service(c, scope)) is not None:
            per_service[service] = per_service.get(service, 0) + 1
    scaled = {s for s, n in per_service.items() if n > 1}
    ckeys = _unique_keys([(c["Id"], _preferred_container_key(c, scope, scaled), c["Name"].lstrip("/")) for c in running])

    used = {nname for c in running for nname in ((c.get("NetworkSettings") or {}).get("Networks") or {})}
    targets = {a.get("Target") for s in snap.services for a in ((s.get("Spec") or {}).get("TaskTemplate") or {}).get("Networks") or []}
    used |= {n["Name"] for n in snap.networks if n.get("Id") in targets or n.get("Name") in targets}
    mesh = any(p.get("PublishMode", "ingress") != "host"
               for s in snap.services for p in (s.get("Endpoint") or {}).get("Ports") or [])
    wanted = []
    for n in snap.networks:
        labels = n.get("Labels") or {}
        mine = ((scope.kind == "compose" and labels.get(COMPOSE_PROJECT) == scope.value)
                or (scope.kind == "netsim" and labels.get("netsim.design") == scope.value))
        if n["Name"] in SKIP_NETWORKS or n.get("Driver") in ("host", "null") or (n.get("Ingress") and not mesh):
            continue  # the ingress network: only with a service publishing through the routing mesh
        if n["Name"] in used or mine or n.get("Ingress"):
            if n.get("Driver") not in DRIVERS:
                notes.append(f"network {n['Name']}: driver {n.get('Driver')} is not modelled; left out with its endpoints")
                continue
            wanted.append(n)
    nkeys = _unique_keys([(n["Id"], _preferred_network_key(n, scope), n["Name"]) for n in wanted])
    key_of_net = {n["Name"]: nkeys[n["Id"]] for n in wanted}

    daemon = DaemonOptions()
    networks = []
    for n in sorted(wanted, key=lambda n: nkeys[n["Id"]]):
        if n["Name"] == "bridge":
            daemon = _daemon(n)
        networks.append(_network(n, nkeys[n["Id"]]))

    containers = []
    for c in sorted(running, key=lambda c: ckeys[c["Id"]]):
        containers.append(_container(c, ckeys, by_id, key_of_net, snap, notes))

    version = engine_line(snap.engine_version) if snap.engine_version else DEFAULT_ENGINE_VERSION
    host, provenance = _host(snap, daemon, version)
    hosts: tuple[Host, ...] = (host,)
    swarm = SwarmPart()
    if snap.nodes:
        net_ids = {n["Id"]: nkeys[n["Id"]] for n in wanted}
        mesh_key = next((nkeys[n["Id"]] for n in wanted if n.get("Ingress")), None)
        swarm = import_swarm(snap.services, snap.tasks, snap.nodes, snap.node_id, host,
                             lambda ref: net_ids.get(ref) or key_of_net.get(ref), tasks_here,
                             lambda c: _listeners(c, c["Name"].lstrip("/"), snap, notes), mesh_key)
        hosts = swarm.hosts if any(n.get("ID") == snap.node_id for n in snap.nodes) else (host, *swarm.hosts)
        local = hosts[0].name
        everywhere = tuple(h.name for h in hosts)
        containers = [replace(c, host=local) for c in containers] + list(swarm.tasks)
        networks = [replace(n, hosts=everywhere if n.driver is Driver.OVERLAY else (local,)) for n in networks]
        notes += swarm.notes
        provenance = {**provenance, "swarm": dict(swarm.provenance)}
    title = design_name(name or (scope.value if scope.kind in ("compose", "netsim") else "live"))
    design = Design(title, hosts, tuple(networks), tuple(containers), source="<engine>", kind=DesignKind.NETSIM,
                    services=swarm.services)
    addresses, bindings = dict(swarm.addresses), {}
    task_keys = {cid: key for key, cid in swarm.ids.items() if cid in tasks_here}
    for c in running + [tasks_here[cid] for cid in sorted(task_keys)]:
        for spec, bound in ((c.get("NetworkSettings") or {}).get("Ports") or {}).items():
            _, _, proto = spec.partition("/")
            for b in bound or []:
                if b.get("HostPort") and ":" not in (b.get("HostIp") or ""):
                    bindings[(b.get("HostIp") or "0.0.0.0", int(b["HostPort"]), proto or "tcp")] = (
                        task_keys.get(c["Id"]) or ckeys[c["Id"]])
    for c in running:
        for net_name, ep in ((c.get("NetworkSettings") or {}).get("Networks") or {}).items():
            if net_name in key_of_net and (ep or {}).get("IPAddress"):
                addresses[(ckeys[c["Id"]], key_of_net[net_name])] = IPv4Interface(
                    f"{ep['IPAddress']}/{ep.get('IPPrefixLen') or 32}")
    static = frozenset((ckeys[c["Id"]], key_of_net[n]) for c in running
                       for n, ep in ((c.get("NetworkSettings") or {}).get("Networks") or {}).items()
                       if n in key_of_net and _ipv4(((ep or {}).get("IPAMConfig") or {}).get("IPv4Address")))
    compose_names, compose_version = {}, ""
    for c in snap.containers:
        labels = (c.get("Config") or {}).get("Labels") or {}
        if scope.kind == "compose" and labels.get(COMPOSE_PROJECT) == scope.value and labels.get(COMPOSE_SERVICE):
            compose_version = compose_version or labels.get(COMPOSE_VERSION, "")
            if labels.get(COMPOSE_NUMBER, "1") in ("", "1"):
                compose_names[labels[COMPOSE_SERVICE]] = c["Name"].lstrip("/")
    provenance = {**provenance, **_address_provenance(design, running, key_of_net, ckeys, static)}
    return Imported(design, tuple(dict.fromkeys(notes)), {**{ckeys[c["Id"]]: c["Id"] for c in running}, **swarm.ids},
                    {nkeys[n["Id"]]: n["Id"] for n in wanted}, addresses, bindings, static, compose_names,
                    compose_version, scope.value if scope.kind == "compose" else "", provenance, swarm.virtual_ips)


def _address_provenance(design: Design, running: list[dict], key_of_net: dict, ckeys: dict, static) -> dict:
    """Which addresses were read (all of them) and which were requested; MACs where the
    network is a LAN segment (macvlan/ipvlan: the LAN sees the MAC)."""
    out: dict = {"addresses": "read from the engine (docker inspect): every network's subnet, gateway and "
                              "ip_range and every endpoint's ipv4_address (on the default bridge, where a design "
                              "cannot pin one, under x-netsim.default_bridge_addresses)"}
    if static:
        out["requested_addresses"] = sorted(f"{c} on {n}" for c, n in static)
    macs: dict = {}
    bridge_addrs: dict = {}
    lan_nets = {n.name for n in design.networks if n.driver in (Driver.MACVLAN, Driver.IPVLAN)}
    for c in running:
        for net_name, ep in ((c.get("NetworkSettings") or {}).get("Networks") or {}).items():
            key = key_of_net.get(net_name)
            if key in lan_nets and (ep or {}).get("MacAddress"):
                macs.setdefault(ckeys[c["Id"]], {})[key] = ep["MacAddress"]
            if net_name == "bridge" and (ep or {}).get("IPAddress"):
                bridge_addrs[ckeys[c["Id"]]] = ep["IPAddress"]
    if macs:
        out["mac_addresses"] = {k: macs[k] for k in sorted(macs)}
    if bridge_addrs:
        out["default_bridge_addresses"] = {k: bridge_addrs[k] for k in sorted(bridge_addrs)}
    return out


DAEMON_FIELDS = {"userland-proxy": "userland_proxy", "iptables": "iptables", "ip-forward": "ip_forward",
                 "ip-masq": "ip_masq", "icc": "icc", "allow-direct-routing": "allow_direct_routing"}


def _with_option(daemon: DaemonOptions, name: str, value: bool) -> DaemonOptions:
    """``daemon`` with one boolean option (by field name) set."""
    fields = {f: getattr(daemon, f) for f in DAEMON_FIELDS.values()}
    fields[name] = value
    return replace(daemon, userland_proxy=fields["userland_proxy"], iptables=fields["iptables"],
                   ip_forward=fields["ip_forward"], ip_masq=fields["ip_masq"], icc=fields["icc"],
                   allow_direct_routing=fields["allow_direct_routing"])


def _truth(value) -> bool:
    return value is True or str(value).lower() in ("true", "1", "yes")


def _host(snap: Snapshot, bridge: DaemonOptions, version: str) -> tuple[Host, dict]:
    """The design's host from what the machine showed; provenance says read or assumed."""
    facts = snap.host or {}
    read: dict = {}
    assumed: dict = {}
    kw: dict = {}
    lan = facts.get("lan") or {}
    if lan.get("interface") and lan.get("addresses"):
        kw["lan_interface"] = lan["interface"]
        kw["lan_address"] = IPv4Interface(lan["addresses"][0])
        read["lan"] = {"value": f"{lan['interface']} {lan['addresses'][0]}", "from": lan.get("source", "ip")}
    else:
        assumed["lan"] = {"value": "eth0 192.168.1.10/24",
                          "why": facts.get("unread") or "no IPv4 default route on this machine"}
    daemon = bridge
    options = facts.get("daemon") or {}
    unread = facts.get("unread") or "the daemon's command line was not readable"
    for option, name in DAEMON_FIELDS.items():
        got = options.get(option)
        if option in ("icc", "ip-masq"):  # the default bridge shows them (read from the engine)
            read[f"daemon.{option}"] = {"value": getattr(daemon, name), "from": "docker network inspect bridge"}
            continue
        if got is None:
            assumed[f"daemon.{option}"] = {"value": getattr(daemon, name), "why": f"dockerd's default; {unread}"}
            continue
        if got.get("value") is not None:
            daemon = _with_option(daemon, name, _truth(got["value"]))
        read[f"daemon.{option}"] = {"value": getattr(daemon, name), "from": got.get("source")}
    got = options.get("ip6tables")
    if got is not None:  # not modelled (IPv6 is not), recorded
        read["daemon.ip6tables"] = {"value": _truth(got["value"]) if got.get("value") is not None else False,
                                    "from": got.get("source")}
    read["daemon.bip"] = {"value": str(daemon.bip or "172.17.0.1/16"), "from": "docker network inspect bridge"}
    pools = options.get("default-address-pools")
    if pools is not None and pools.get("value"):
        try:
            found = tuple(AddressPool(IPv4Network(p.get("Base") or p.get("base")), int(p.get("Size") or p.get("size")))
                          for p in pools["value"])
            daemon = replace(daemon, default_address_pools=found)
            read["daemon.default-address-pools"] = {"value": [f"{p.base} size {p.size}" for p in found],
                                                    "from": pools.get("source")}
        except (TypeError, ValueError, AttributeError):
            assumed["daemon.default-address-pools"] = {"value": "dockerd's default pools",
                                                       "why": f"unreadable value {pools['value']!r}"}
    elif pools is not None:
        read["daemon.default-address-pools"] = {"value": "dockerd's default pools", "from": pools.get("source")}
    else:
        assumed["daemon.default-address-pools"] = {"value": "dockerd's default pools", "why": unread}
    forwarding = facts.get("forwarding") or {}
    if "ip_forward" in forwarding:
        read["net.ipv4.ip_forward"] = {"value": forwarding["ip_forward"], "from": "/proc/sys/net/ipv4/ip_forward (now)"}
    assumed["daemon.forwarding_preset"] = {"value": False, "why": "whether the machine forwarded before dockerd "
                                           "started is not readable once it runs"}
    host = Host(DEFAULT_HOST, engine_version=version, daemon=daemon, **kw)
    return host, {"read": read, "assumed": assumed}


def _daemon(bridge: dict) -> DaemonOptions:
    opts = bridge.get("Options") or {}
    cfg = _first_v4_config(bridge)
    bip = None
    if cfg.get("Gateway") and cfg.get("Subnet"):
        iface = IPv4Interface(f"{cfg['Gateway']}/{IPv4Network(cfg['Subnet'], strict=False).prefixlen}")
        if iface != IPv4Interface("172.17.0.1/16"):
            bip = iface
    return DaemonOptions(icc=opts.get(BRIDGE_OPT + "enable_icc", "true") != "false",
                         ip_masq=opts.get(BRIDGE_OPT + "enable_ip_masquerade", "true") != "false", bip=bip)


def _network(n: dict, key: str) -> Network:
    driver = DRIVERS[n["Driver"]]
    if n["Name"] == "bridge":
        return Network("bridge", Driver.BRIDGE, docker_name="bridge", hosts=(DEFAULT_HOST,), default_bridge=True)
    cfg = _first_v4_config(n)
    labels = n.get("Labels") or {}
    kw: dict = {"docker_name": n["Name"], "hosts": (DEFAULT_HOST,), "internal": bool(n.get("Internal")),
                "ingress": bool(n.get("Ingress"))}
    if cfg.get("Subnet"):
        kw["subnet"] = IPv4Network(cfg["Subnet"], strict=False)
    if gw := _ipv4(cfg.get("Gateway")):
        kw["gateway"] = gw
    if cfg.get("IPRange"):
        kw["ip_range"] = IPv4Network(cfg["IPRange"], strict=False)
    aux = cfg.get("AuxiliaryAddresses") or {}
    skip = {LAN_PEER_AUX} if labels.get("netsim.network") else set()
    kw["aux_addresses"] = tuple(a for k, v in sorted(aux.items()) if k not in skip and (a := _ipv4(v)))
    opts = n.get("Options") or {}
    if driver is Driver.BRIDGE:
        kw["icc"] = opts.get(BRIDGE_OPT + "enable_icc", "true") != "false"
        kw["masquerade"] = opts.get(BRIDGE_OPT + "enable_ip_masquerade", "true") != "false"
        if hb := _ipv4(opts.get(BRIDGE_OPT + "host_binding_ipv4")):
            kw["host_binding_ipv4"] = hb
        for family, field_ in (("ipv4", "gateway_mode"), ("ipv6", "gateway_mode6")):
            if opts.get(f"{BRIDGE_OPT}gateway_mode_{family}"):
                kw[field_] = opts[f"{BRIDGE_OPT}gateway_mode_{family}"]
    elif driver in (Driver.MACVLAN, Driver.IPVLAN):
        base, dot, tag = (opts.get("parent") or "").partition(".")
        kw["parent"] = base or None
        if dot and tag.isascii() and tag.isdigit() and len(tag) <= 4:  # "²" passes isdigit() but not int()
            kw["vlan"] = int(tag)
        kw["mode"] = opts.get(f"{driver.value}_mode") or ("bridge" if driver is Driver.MACVLAN else "l2")
    elif driver is Driver.OVERLAY:
        kw["attachable"] = bool(n.get("Attachable"))
        kw["encrypted"] = "encrypted" in opts
    kw["labels"] = tuple(sorted((k, str(v)) for k, v in labels.items()
                                if not k.startswith(("com.docker.compose.", "netsim."))))
    return Network(key, driver, **kw)


def _container(c: dict, ckeys: dict, by_id: dict, key_of_net: dict, snap: Snapshot, notes: list) -> Container:
    cid, name = c["Id"], c["Name"].lstrip("/")
    config, hostcfg = c.get("Config") or {}, c.get("HostConfig") or {}
    labels = config.get("Labels") or {}
    service = labels.get(COMPOSE_SERVICE) or None
    raw_mode = str(hostcfg.get("NetworkMode") or "default")
    mode = NetworkMode()
    if raw_mode in ("host", "none"):
        mode = NetworkMode(ModeKind(raw_mode))
    elif raw_mode.startswith("container:"):
        ref = raw_mode.split(":", 1)[1]
        owner = next((i for i in ckeys if i.startswith(ref) or by_id[i]["Name"].lstrip("/") == ref), None)
        if owner is None:
            notes.append(f"container {name} shares the namespace of {ref}, which is not running or not imported")
            mode = NetworkMode(ModeKind.NONE)
        else:
            mode = NetworkMode(ModeKind.CONTAINER, ckeys[owner])
    attachments = []
    if mode.kind is ModeKind.NETWORKS:
        endpoints = (c.get("NetworkSettings") or {}).get("Networks") or {}
        dropped = {cid[:12], config.get("Hostname") or "", name, service or ""}
        for net_name in sorted(endpoints, key=lambda n: key_of_net.get(n, n)):
            if net_name not in key_of_net:
                continue
            ep = endpoints[net_name] or {}
            aliases = () if net_name == "bridge" else tuple(dict.fromkeys(
                a for a in (ep.get("Aliases") or []) if a not in dropped))
            static = _ipv4((ep.get("IPAMConfig") or {}).get("IPv4Address"))
            if static is None and net_name != "bridge":  # the default bridge takes no pinned address
                static = _ipv4(ep.get("IPAddress"))  # what the engine assigned (x-netsim says it was read)
            attachments.append(Attachment(key_of_net[net_name], aliases, static))
    if service and attachments:
        user = [a for a in attachments if a.network != "bridge"]
        eps = (c.get("NetworkSettings") or {}).get("Networks") or {}
        has = {key_of_net[n]: service in ((eps[n] or {}).get("Aliases") or []) for n in eps if n in key_of_net}
        if user and not all(has.get(a.network) for a in user):
            # the service name is not a DNS name everywhere: keep it only where the engine has it
            attachments = [replace(a, aliases=((service,) if has.get(a.network) else ()) + a.aliases)
                           if a.network != "bridge" else a for a in attachments]
            service = None
    hostname = config.get("Hostname") or None
    if hostname == cid[:12] or mode.kind in (ModeKind.CONTAINER, ModeKind.HOST):
        hostname = None
    ports = _ports(c, name, notes) if mode.kind is ModeKind.NETWORKS else ()
    listeners = _listeners(c, name, snap, notes)
    return Container(ckeys[cid], DEFAULT_HOST, docker_name=name, mode=mode, attachments=tuple(attachments),
                     ports=ports, listeners=listeners, hostname=hostname, service=service)


def _ports(c: dict, name: str, notes: list) -> tuple[PortMapping, ...]:
    """Published ports as requested (HostConfig), ephemeral ones with the port they got."""
    bindings = (c.get("HostConfig") or {}).get("PortBindings") or {}
    actual = (c.get("NetworkSettings") or {}).get("Ports") or {}
    out = []
    for spec in sorted(bindings, key=lambda s: (int(s.split("/")[0]), s)):
        port, _, proto = spec.partition("/")
        proto = proto or "tcp"
        for b in bindings[spec] or []:
            host_ip_text = (b or {}).get("HostIp") or ""
            if ":" in host_ip_text:
                notes.append(f"container {name}: IPv6 binding [{host_ip_text}]:{b.get('HostPort')} is not modelled")
                continue
            host_ip = _ipv4(host_ip_text)
            host_port = int(b["HostPort"]) if (b or {}).get("HostPort") not in (None, "", "0") else None
            if host_port is None:
                got = [a for a in (actual.get(spec) or []) if ":" not in (a.get("HostIp") or "")]
                if got and got[0].get("HostPort"):
                    host_port = int(got[0]["HostPort"])
            out.append(PortMapping(int(port), Protocol(proto), host_port, host_ip))
    return tuple(dict.fromkeys(out))


def _listeners(c: dict, name: str, snap: Snapshot, notes: list) -> tuple[Listener, ...]:
    sockets = snap.sockets.get(c["Id"])
    if sockets is None:
        exposed = (c.get("Config") or {}).get("ExposedPorts") or {}
        if exposed:
            notes.append(f"container {name}: listening sockets not readable; ExposedPorts used instead")
        found = set()
        for spec in exposed:
            port, _, proto = spec.partition("/")
            if proto in ("tcp", "udp", "sctp") or not proto:
                found.add(Listener(int(port), Protocol(proto or "tcp")))
        return tuple(sorted(found, key=lambda lst: (lst.port, lst.protocol.value)))
    local = sorted({f"{s.port}/{s.protocol}" for s in sockets if s.loopback and s.address != EMBEDDED_DNS})
    outside = {Listener(s.port, Protocol(s.protocol)) for s in sockets if not s.loopback}
    hidden = [x for x in local if Listener(int(x.split("/")[0]), Protocol(x.split("/")[1])) not in outside]
    if hidden:
        notes.append(f"container {name}: listens on loopback only at {', '.join(hidden)} (not reachable from "
                     "outside its namespace; left out)")
    return tuple(sorted(outside, key=lambda lst: (lst.port, lst.protocol.value)))
