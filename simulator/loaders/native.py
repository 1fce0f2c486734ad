"""The netsim design format → :class:`~simulator.model.Design`.

Structure (types, unknown keys, enums) is checked with the JSON schema in
:mod:`simulator.schema`; values (addresses, ports, references) here; cross-object rules in
:mod:`.validate`.  Every problem goes to one :class:`~.yamlsource.Report`.
"""

from __future__ import annotations

import functools
import itertools
import re
from collections.abc import Iterator, Mapping
from dataclasses import replace

from ..model import (
    DEFAULT_ENGINE_VERSION,
    AddressPool,
    Attachment,
    Container,
    DaemonOptions,
    Design,
    Driver,
    GatewayMode,
    Host,
    KernelFeatures,
    Location,
    ModeKind,
    Network,
    NetworkMode,
)
from ..schema import design_schema
from .ports import PortBudget, merge_listeners, parse_listens, parse_ports
from .replicas import MAX_REPLICAS, replicas_of
from .schema_check import certainly_valid
from .schema_errors import fast_validator, report_schema_error
from .stack import stack_services
from .swarm import Nodes, swarm_services, with_ingress
from .yamlsource import (
    MAX_IFNAME,
    Doc,
    Report,
    describe,
    did_you_mean,
    format_path,
    shown,
    to_bool,
    to_cidr,
    to_cidr6,
    to_iface,
    to_iface6,
    to_int,
    to_ip,
    to_ip6,
    to_labels,
    to_str,
)

DEFAULT_HOST = "docker1"
PREDEFINED = ("bridge", "host", "none")
VERSION = re.compile(r"[0-9]{1,4}(\.[0-9]{1,4}){0,2}")  # fullmatch; ASCII digits only

ONLY = {  # field -> drivers it applies to
    "icc": ("bridge",), "masquerade": ("bridge",), "host_binding_ipv4": ("bridge",),
    "gateway_mode": ("bridge",), "gateway_mode6": ("bridge",), "parent": ("macvlan", "ipvlan"), "vlan": ("macvlan", "ipvlan"),
    "mode": ("macvlan", "ipvlan"), "attachable": ("overlay",), "encrypted": ("overlay",),
}
MODES = {"macvlan": ("bridge", "vepa", "private", "passthru"), "ipvlan": ("l2", "l3", "l3s")}
DAEMON_BOOLS = ("icc", "userland_proxy", "iptables", "ip_forward", "ip_masq", "allow_direct_routing", "forwarding_preset",
                "ipv6", "ip6tables", "experimental")


class DottedPaths(Mapping):
    """Model paths → the dotted source path written (``services.web.ports[0]``), each formatted
    when asked for: a design of 10,000 containers marks some 70,000 paths and a message needs a few."""

    def __init__(self) -> None:
        self.sources: dict[tuple, tuple] = {}  # model path -> source path

    def __getitem__(self, model: tuple) -> str:
        return format_path(self.sources[model])

    def __iter__(self) -> Iterator[tuple]:
        return iter(self.sources)

    def __len__(self) -> int:
        return len(self.sources)


class SourceMap:
    """Model paths → where they were written (Location) and their dotted source path."""

    def __init__(self, doc: Doc):
        self.doc = doc
        self.locations: dict[tuple, object] = {(): Location(doc.source, 1, 1)}  # fallback: the file
        self.paths = DottedPaths()
        self._since: dict[tuple, tuple[int, list[tuple]]] = {}  # (count, model) -> marks read up to, paths found

    def mark(self, model: tuple, source: tuple, *, key: bool = False) -> None:
        source = tuple(source)
        loc = self.doc.values.get(source)  # a path written in the file has its own location
        if loc is None:
            return
        if key:
            loc = self.doc.keys.get(source) or loc
        self.locations[model] = loc
        self.paths.sources[model] = source

    def entry(self, path: tuple, spec: dict) -> None:
        """:meth:`mark` (``key=True``) and :meth:`fields` of an object written where the model has it
        (``("containers", name)``), in one pass: a design of 10,000 containers marks some 50,000 of these."""
        values, locations, sources = self.doc.values, self.locations, self.paths.sources
        loc = values.get(path)
        if loc is not None:
            locations[path] = self.doc.keys.get(path) or loc
            sources[path] = path
        for name in spec:
            at = (*path, name)
            loc = values.get(at)
            if loc is not None:
                locations[at] = loc
                sources[at] = at

    def mark_count(self) -> int:
        """How many model paths are marked (for :meth:`copy_since`)."""
        return len(self.paths.sources)

    def copy_since(self, count: int, model: tuple, to: tuple) -> None:
        """The paths under ``model`` marked after :meth:`mark_count` gave ``count``, marked again under
        ``to``: a replica is written where the first replica of its service is. The paths found are
        remembered, and only those marked since read the next time (each replica adds its own: read
        again, the 5,000 replicas of a service took 10 s)."""
        sources, locations, n = self.paths.sources, self.locations, len(model)
        read, added = self._since.get((count, model), (count, []))
        fresh = [k for k in itertools.islice(reversed(sources), len(sources) - read) if k[:n] == model]
        added = fresh + added  # newest first, as read from the end (marks are added, never removed)
        self._since[count, model] = (len(sources), added)
        for k in added:
            new = (*to, *k[n:])
            sources[new] = sources[k]
            if k in locations:
                locations[new] = locations[k]

    def mark_as(self, model: tuple, other: tuple) -> None:
        """Mark ``model`` where the model path ``other`` is marked (a stack's network renamed)."""
        if other in self.paths.sources:
            self.paths.sources[model] = self.paths.sources[other]
            self.locations[model] = self.locations[other]

    def merge(self, other: SourceMap) -> None:
        """Keep every path ``other`` (the source map of another file: a stack's compose file) marked."""
        self.locations.update((k, v) for k, v in other.locations.items() if k)
        self.paths.sources.update(other.paths.sources)

    def fields(self, model: tuple, source: tuple, spec: dict) -> None:
        """:meth:`mark` for each key of ``spec``."""
        values, locations, sources = self.doc.values, self.locations, self.paths.sources
        for name in spec:
            at = (*source, name)
            loc = values.get(at)
            if loc is None:
                continue
            locations[(*model, name)] = loc
            sources[(*model, name)] = at


def _extension_key(key: str) -> bool:
    return key.startswith("x-")


def schema_pass(data: object, report: Report) -> None:
    """Validate against the JSON schema; each failure becomes a Problem at its key/value.

    A design the compiled check finds certainly valid skips jsonschema (seconds for 10,000
    containers); any other is validated by jsonschema, whose errors are the ones reported."""
    schema = design_schema()
    if certainly_valid(schema, data, _extension_key):
        return
    validator = fast_validator(schema)
    for err in validator.iter_errors(data):
        report_schema_error(report, tuple(err.absolute_path), err,
                            allow_key=lambda path, key: path == () and str(key).startswith("x-"))


def load(doc: Doc) -> tuple[Design | None, Report, SourceMap]:
    """Build a Design from a parsed netsim document (problems in the report)."""
    report, smap = Report(doc), SourceMap(doc)
    data = doc.data
    if not isinstance(data, dict):
        report.error((), f"a netsim design is a mapping with name, hosts, networks and containers, not {describe(data)}")
        return None, report, smap
    schema_pass(data, report)
    name = to_str(report, ("name",), data.get("name", "")) or ""
    smap.mark(("name",), ("name",))
    version = _version(report, ("engine_version",), data.get("engine_version", DEFAULT_ENGINE_VERSION))
    hosts = _hosts(report, smap, data.get("hosts"), version or DEFAULT_ENGINE_VERSION)
    unplaced = _networks(report, smap, data.get("networks"))
    containers = _containers(report, smap, data.get("containers"), hosts)
    nodes = Nodes(hosts)
    services, tasks = swarm_services(report, smap, data.get("services"), nodes)
    stacked = stack_services(report, smap, data.get("stacks"), nodes, unplaced)
    unplaced += stacked.networks
    services += stacked.services
    unplaced, tasks = with_ingress(report, services, unplaced, tasks + stacked.tasks)
    containers += tasks
    networks = _place_networks(report, unplaced, containers, hosts)
    check_scale(report, hosts, networks, containers)
    design = Design.unchecked(name, tuple(hosts), tuple(networks), tuple(containers), doc.source, "netsim", smap.locations,
                              services=tuple(services))
    return design, report, smap


MAX_HOSTS = 256
MAX_NETWORK_INSTANCES = 20_000  # networks times the hosts each exists on (an overlay: every host)
MAX_ENDPOINTS = 50_000  # container attachments to networks, summed over the design


def check_scale(report: Report, hosts: list[Host], networks: list[Network], containers: list[Container],
                things: str = "containers") -> None:
    """The engine model works per host, per network instance and per endpoint: bound them."""
    endpoints = sum(len(c.attachments) for c in containers)
    if endpoints > MAX_ENDPOINTS:
        report.error((things,), f"the {things} join networks {endpoints:,} times in all; netsim models at most "
                     f"{MAX_ENDPOINTS:,} attachments in one design", key=True)
        report.limits["exceeded"] = 1
    if len(hosts) > MAX_HOSTS:
        report.error(("hosts",), f"{len(hosts)} hosts; netsim models at most {MAX_HOSTS} hosts in one design", key=True)
        report.limits["exceeded"] = 1
        return
    instances = sum(len(hosts) if n.swarm_scope else len(n.hosts) for n in networks)
    if instances > MAX_NETWORK_INSTANCES:
        report.error(("networks",), f"the networks exist {instances:,} times over the hosts (each network once per "
                     f"host it is on, an overlay on every host); netsim models at most {MAX_NETWORK_INSTANCES:,}",
                     key=True)
        report.limits["exceeded"] = 1


def _version(report: Report, path: tuple, value: object) -> str | None:
    """The version as written; the schema reports a value that is neither a string nor a number."""
    text = to_str(report, path, value)
    if text is not None and not VERSION.fullmatch(text):
        report.error(path, f'{describe(value)} is not an engine version (e.g. "20.10", "28.2")')
        return None
    return text


def section_items(report: Report, path: tuple, value: object):
    """(key, spec) pairs of a mapping-of-objects section; null specs read as {} (the schema
    reports a section or a spec that is not a mapping)."""
    if not isinstance(value, dict):
        return []
    return [(key, {} if spec is None else spec) for key, spec in value.items() if spec is None or isinstance(spec, dict)]


def _hosts(report: Report, smap: SourceMap, value: object, version: str) -> list[Host]:
    if value is None:
        return [Host(DEFAULT_HOST, engine_version=version)]
    if isinstance(value, dict) and not value:
        report.error(("hosts",), f"hosts is empty; remove it to get the default host {DEFAULT_HOST}, or declare one")
    hosts = []
    for name, spec in section_items(report, ("hosts",), value):
        src = ("hosts", name)
        smap.mark(("hosts", name), src, key=True)
        smap.fields(("hosts", name), src, spec)
        kw: dict = {"engine_version": version}
        lan = spec.get("lan") or {}
        if isinstance(lan, dict):
            if "interface" in lan:
                kw["lan_interface"] = to_str(report, (*src, "lan", "interface"), lan["interface"]) or "eth0"
                if len(kw["lan_interface"]) > MAX_IFNAME:
                    report.error((*src, "lan", "interface"), f'"{shown(kw["lan_interface"])}" is not an interface '
                                 f"name: Linux names have at most {MAX_IFNAME} characters (IFNAMSIZ)")
                    kw["lan_interface"] = "eth0"
            if "address" in lan:
                smap.mark(("hosts", name, "lan_address"), (*src, "lan", "address"))
                if (address := to_iface(report, (*src, "lan", "address"), lan["address"])) is not None:
                    kw["lan_address"] = address
            if "address6" in lan:
                smap.mark(("hosts", name, "lan_address6"), (*src, "lan", "address6"))
                kw["lan_address6"] = to_iface6(report, (*src, "lan", "address6"), lan["address6"])
        if "engine_version" in spec:
            kw["engine_version"] = _version(report, (*src, "engine_version"), spec["engine_version"]) or version
        if isinstance(spec.get("daemon"), dict):
            smap.fields(("hosts", name, "daemon"), (*src, "daemon"), spec["daemon"])
            kw["daemon"] = _daemon(report, (*src, "daemon"), spec["daemon"])
        if isinstance(spec.get("kernel"), dict):
            kernel = spec["kernel"]
            kw["kernel"] = KernelFeatures(**{k: bool(kernel[k]) for k in ("ipvlan", "vlan", "dummy", "ipvs") if k in kernel},
                                          source=f"host {name}'s kernel as the design declares it")
        if spec.get("role") in ("manager", "worker"):
            kw["role"] = spec["role"]
        if isinstance(spec.get("labels"), dict):
            kw["labels"] = tuple(to_labels(report, (*src, "labels"), spec["labels"]))
        routes = spec.get("routes") or []
        if isinstance(routes, list):
            kw["routes"], kw["gateways"] = _routes(report, src, routes, kw.get("lan_address") or Host("x").lan_address)
        hosts.append(Host(name, **kw))
    return hosts or [Host(DEFAULT_HOST, engine_version=version)]


def _routes(report: Report, src: tuple, routes: list, lan) -> tuple[tuple, tuple]:
    """``10.9.0.0/24`` (routed somewhere netsim does not model) or ``10.9.0.0/24 via 192.168.1.11``
    (a static route to a neighbour on the host's LAN)."""
    prefixes, gateways = [], []
    for i, item in enumerate(routes):
        prefix, via = item.split(" via ", 1) if isinstance(item, str) and " via " in item else (item, None)
        net = to_cidr(report, (*src, "routes", i), prefix.strip() if isinstance(prefix, str) else prefix)
        if net is None:
            continue
        prefixes.append(net)
        if via is None:
            continue
        gw = to_ip(report, (*src, "routes", i), via.strip())
        if gw is not None and gw not in lan.network:
            report.error((*src, "routes", i), f"{gw} is not on the host's LAN {lan.network}: a route's gateway "
                         "must be a neighbour there")
        elif gw is not None:
            gateways.append((net, gw))
    return tuple(prefixes), tuple(gateways)


def _daemon(report: Report, path: tuple, spec: dict) -> DaemonOptions:
    kw: dict = {}
    for key in DAEMON_BOOLS:
        if key in spec and (flag := to_bool(report, (*path, key), spec[key])) is not None:
            kw[key] = flag
    if "bip" in spec:
        kw["bip"] = to_iface(report, (*path, "bip"), spec["bip"])
    if "fixed_cidr_v6" in spec:
        kw["fixed_cidr_v6"] = to_cidr6(report, (*path, "fixed_cidr_v6"), spec["fixed_cidr_v6"])
    pools = spec.get("default_address_pools")
    if isinstance(pools, list):
        out = []
        for i, pool in enumerate(pools):
            if not isinstance(pool, dict) or "base" not in pool or "size" not in pool:
                continue  # the schema: a pool is a mapping with base and size
            at = (*path, "default_address_pools", i)
            six = isinstance(pool["base"], str) and ":" in pool["base"]
            base = (to_cidr6 if six else to_cidr)(report, (*at, "base"), pool["base"])
            size = to_int(report, (*at, "size"), pool["size"], 1, 128 if six else 32, schema_range=six)
            if base is None or size is None:
                continue
            if size < base.prefixlen:
                report.error((*path, "default_address_pools", i, "size"),
                             f"size /{size} is larger than the pool {base}; use {base.prefixlen} or more")
                continue
            out.append(AddressPool(base, size))
        if not pools:
            report.error((*path, "default_address_pools"), "default_address_pools is empty; remove it for Docker's defaults")
        kw["default_address_pools"] = tuple(out)
    return DaemonOptions(**kw)


def _networks(report: Report, smap: SourceMap, value: object) -> list[tuple[Network, tuple | None]]:
    """Declared networks with their explicit hosts (None = place by containers)."""
    out = []
    for key, spec in section_items(report, ("networks",), value):
        src = ("networks", key)
        smap.entry(src, spec)
        if key in PREDEFINED:
            hint = ("containers join it with networks: [bridge]" if key == "bridge"
                    else f"containers use it with network_mode: {key}")
            report.error(src, f'"{key}" is a predefined Docker network and cannot be declared ({hint}); pick another name',
                         key=True)
            continue
        driver_text = spec.get("driver", "bridge")
        driver = Driver(driver_text) if driver_text in ("bridge", "macvlan", "ipvlan", "overlay") else Driver.BRIDGE
        kw: dict = {"docker_name": key}
        for field_, drivers in ONLY.items():
            if field_ in spec and driver.value not in drivers:
                report.error((*src, field_), f"{field_} applies only to {' and '.join(drivers)} networks "
                             f"(this one is {driver.value}); remove it", key=True)
        hosts: tuple[str, ...] | None = None
        if "host" in spec and "hosts" in spec:
            report.error((*src, "hosts"), "give host or hosts, not both", key=True)
        if "host" in spec and (h := to_str(report, (*src, "host"), spec["host"])) is not None:
            hosts = (h,)
        elif isinstance(spec.get("hosts"), list):
            named = [to_str(report, (*src, "hosts", i), h) for i, h in enumerate(spec["hosts"])]
            hosts = tuple(h for h in named if h is not None)
            if not hosts:
                report.error((*src, "hosts"), "hosts is empty; name at least one host or remove it")
                hosts = None
        if "name" in spec:
            kw["docker_name"] = to_str(report, (*src, "name"), spec["name"]) or key
        for field_, conv in (("subnet", to_cidr), ("ip_range", to_cidr), ("gateway", to_ip), ("host_binding_ipv4", to_ip),
                             ("subnet6", to_cidr6), ("ip_range6", to_cidr6), ("gateway6", to_ip6)):
            if field_ in spec and (v := conv(report, (*src, field_), spec[field_])) is not None:
                kw[field_] = v
        aux = spec.get("aux_addresses")
        if isinstance(aux, dict):
            kw["aux_addresses"] = tuple(a for n, v in aux.items()
                                        if (a := to_ip(report, (*src, "aux_addresses", n), v)) is not None)
            for n in aux:
                smap.mark(("networks", key, "aux_addresses", n), (*src, "aux_addresses", n))
        for field_ in ("internal", "icc", "masquerade", "attachable", "encrypted", "enable_ipv6"):
            if field_ in spec and (flag := to_bool(report, (*src, field_), spec[field_])) is not None:
                kw[field_] = flag
        for field_ in ("gateway_mode", "gateway_mode6"):
            mode = spec.get(field_)
            if isinstance(mode, str) and mode in frozenset(GatewayMode):  # else the schema check reports it at its line
                kw[field_] = mode
        if "parent" in spec:
            kw["parent"] = to_str(report, (*src, "parent"), spec["parent"])
            if kw["parent"] is not None and not 0 < len(kw["parent"]) <= MAX_IFNAME:
                report.error((*src, "parent"), f'"{shown(kw["parent"])}" is not an interface name: Linux names have '
                             f"1 to {MAX_IFNAME} characters (IFNAMSIZ)")
                kw["parent"] = None
            base, dot, tag = (kw["parent"] or "").partition(".")
            if dot and "vlan" in spec:
                report.error((*src, "parent"), f"give the VLAN once: parent: {shown(base)} with vlan: {shown(spec['vlan'])}")
            elif dot and re.fullmatch(r"[0-9]{1,4}", tag) and 1 <= int(tag) <= 4094:
                kw["parent"], kw["vlan"] = base, int(tag)
            elif dot:
                report.error((*src, "parent"), f'"{shown(kw["parent"])}": the part after "." is a VLAN id (1-4094), '
                             "e.g. eth0.50")
        if "vlan" in spec:
            kw["vlan"] = to_int(report, (*src, "vlan"), spec["vlan"], 1, 4094, schema_range=True)
        if driver.value in MODES:
            mode = spec.get("mode", MODES[driver.value][0])
            if mode in MODES[_other(driver.value)]:  # a mode of no driver: the schema's enum reports it
                report.error((*src, "mode"), f'"{shown(mode)}" is not a {driver.value} mode; use one of '
                             f"{', '.join(MODES[driver.value])}{did_you_mean(mode, MODES[driver.value])}")
            kw["mode"] = mode if isinstance(mode, str) and mode in MODES[driver.value] else MODES[driver.value][0]
        kw["labels"] = to_labels(report, (*src, "labels"), spec.get("labels"))
        out.append((Network(key, driver, **kw), hosts))
    return out


_DEFAULT_MODE = NetworkMode()  # a frozen value: one for every container that states no mode


def _containers(report: Report, smap: SourceMap, value: object, hosts: list[Host]) -> list[Container]:
    out = []
    for key, spec in section_items(report, ("containers",), value):
        src = ("containers", key)
        marked = smap.mark_count()
        smap.entry(src, spec)
        host = spec.get("host")
        host = to_str(report, (*src, "host"), host) if host is not None else (hosts[0].name if len(hosts) == 1 else "")
        replicas = spec.get("replicas", 1)
        if type(replicas) is not int or not 1 <= replicas <= MAX_REPLICAS:  # the schema reports it
            replicas = 1
        kw: dict = {"docker_name": key}
        if "name" in spec:
            kw["docker_name"] = to_str(report, (*src, "name"), spec["name"]) or key
            if replicas > 1:
                report.error((*src, "name"), f"name with {replicas} replicas: a container name is unique on the engine; "
                             f"remove name (the replicas are named {key}-1, {key}-2, ...) or the replicas")
        if "hostname" in spec:
            kw["hostname"] = to_str(report, (*src, "hostname"), spec["hostname"])
        mode = _DEFAULT_MODE
        raw_mode = spec.get("network_mode")
        if isinstance(raw_mode, str):
            mode = _mode(report, (*src, "network_mode"), raw_mode)
        attachments = container_attachments(report, smap, src, spec.get("networks"))
        if raw_mode == "bridge":
            if attachments:
                report.error((*src, "network_mode"), "network_mode and networks cannot be combined; "
                             "list bridge under networks instead", key=True)
            else:
                attachments = [Attachment("bridge")]
        elif "network_mode" not in spec and "networks" not in spec:
            attachments = [Attachment("bridge")]
        budget = PortBudget(report)
        published = parse_ports(spec.get("ports"), report, (*src, "ports"), budget=budget, replicas=replicas)
        listens = parse_listens(spec.get("listens"), report, (*src, "listens"), budget=budget)
        if replicas == 1:  # its ports now: replicas_of keeps it as it is
            kw["ports"] = tuple(published.of_replica(1)[0])
        first = Container(
            f"{key}.1" if replicas > 1 else key, host or "", mode=mode, attachments=tuple(attachments),
            listeners=merge_listeners(listens, published.listeners),
            labels=to_labels(report, (*src, "labels"), spec.get("labels")), service=key if replicas > 1 else None, **kw,
        )
        if replicas > 1:  # the first replica is written where the container is
            smap.copy_since(marked, src, ("containers", first.name))
        out += replicas_of(first, replicas, first.docker_name, published, report, smap, marked, src)
    return out


def _other(driver: str) -> str:
    return "ipvlan" if driver == "macvlan" else "macvlan"


def _mode(report: Report, path: tuple, text: str) -> NetworkMode:
    if text in ("host", "none"):
        return NetworkMode(ModeKind(text))
    if text.startswith("container:") and len(text) > len("container:"):
        return NetworkMode(ModeKind.CONTAINER, text[len("container:"):])
    if text != "bridge" and text.endswith("\n"):  # the schema's pattern lets a final newline through
        report.error(path, f'"{shown(text)}" is not a network mode; use host, none, bridge or container:<name>'
                     " (to join a network, list it under networks)")
    return NetworkMode()


def container_attachments(report: Report, smap: SourceMap, src: tuple, value: object) -> list[Attachment]:
    """A container's ``networks`` (list or map form) in written order."""
    out: list[Attachment] = []
    if value is None:
        return out
    entries = []
    if isinstance(value, list):
        entries = [(i, item, None) for i, item in enumerate(value)]
    elif isinstance(value, dict):
        entries = [(name, name, spec) for name, spec in value.items()]
    seen: set[str] = set()
    for at, name, spec in entries:
        path = (*src, "networks", at)
        if not isinstance(name, str):
            continue  # the schema: a network name is a string
        if name in ("host", "none"):
            report.error(path, f'"{name}" is not a network to join; use network_mode: {name} instead', key=True)
            continue
        if name in seen:
            report.error(path, f'network "{shown(name)}" is listed twice', key=True)
            continue
        seen.add(name)
        smap.mark((*src, "networks", name), path, key=True)
        kw: dict = {}
        if isinstance(spec, dict):
            smap.fields((*src, "networks", name), path, spec)
            aliases = spec.get("aliases")
            if isinstance(aliases, list):
                named = [to_str(report, (*path, "aliases", i), a) for i, a in enumerate(aliases)]
                kw["aliases"] = tuple(a for a in named if a is not None)
            if "ipv4_address" in spec:
                kw["ipv4_address"] = to_ip(report, (*path, "ipv4_address"), spec["ipv4_address"])
            if "ipv6_address" in spec:
                kw["ipv6_address"] = to_ip6(report, (*path, "ipv6_address"), spec["ipv6_address"])
            if "gw_priority" in spec:
                kw["gw_priority"] = to_int(report, (*path, "gw_priority"), spec["gw_priority"],
                                           -(2**31), 2**31 - 1, "an integer") or 0  # the schema: an integer
        out.append(Attachment(name, **kw) if kw else _plain_attachment(name))
    return out


@functools.lru_cache(maxsize=4096)
def _plain_attachment(network: str) -> Attachment:
    """``Attachment(network)``: a frozen value, one for every container that joins ``network``
    without options (a design of 10,000 containers writes some 13,000 of them)."""
    return Attachment(network)


def _place_networks(report: Report, declared, containers: list[Container], hosts: list[Host]) -> list[Network]:
    """Fill network hosts (explicit, else where containers use them), parents, default bridge."""
    order = [h.name for h in hosts]
    users: dict[str, list[str]] = {}
    for c in containers:
        for a in c.attachments:
            users.setdefault(a.network, []).append(c.host)

    def placed(name: str) -> tuple[str, ...]:
        used = set(users.get(name, ()))
        return tuple(h for h in order if h in used)  # unknown hosts are reported on the container

    out: list[Network] = []
    if "bridge" in users:
        out.append(Network("bridge", Driver.BRIDGE, docker_name="bridge", hosts=placed("bridge"), default_bridge=True))
    lan = {h.name: h.lan_interface for h in hosts}
    for net, explicit in declared:
        on = explicit if explicit is not None else placed(net.name)
        if not on:
            if len(order) == 1:
                on = tuple(order)
            else:
                report.warning(("networks", net.name), "no container uses this network and it names no host, "
                               "so it exists nowhere; add host: or hosts:", key=True)
        changes: dict = {"hosts": on}
        if net.driver in (Driver.MACVLAN, Driver.IPVLAN) and net.parent is None:
            parents = {lan.get(h) for h in on} - {None}
            if len(parents) == 1:
                changes["parent"] = parents.pop()
        out.append(replace(net, **changes))
    return out


