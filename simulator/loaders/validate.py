"""Checks on a whole :class:`~simulator.model.Design` that need no address allocation.

:func:`validate` runs every function in :data:`CHECKS` and returns all problems (errors and
warnings).  Each check takes a :class:`Context` and yields Problems; to add a rule, write a
function and append it to :data:`CHECKS`.  Messages quote Docker's own wording where
Docker would refuse the same thing.
"""

from __future__ import annotations

import functools
import re
from bisect import bisect_left, bisect_right
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Mapping
from ipaddress import IPv4Address, IPv4Network, IPv6Address, IPv6Network

from ..cidr import overlapping_pairs
from ..errors import Problem, Severity
from ..model import (
    DEFAULT_ENGINE_VERSION,
    Container,
    Design,
    Driver,
    Location,
    ModeKind,
    Network,
    design_problems,
    engine_version_numbers,
)
from .yamlsource import did_you_mean, format_path, shown

# Names: Docker's container name rule is moby daemon/names/names.go, RestrictedNameChars
# `[a-zA-Z0-9][a-zA-Z0-9_.-]` (RestrictedNamePattern: one of the first, then one or more of the
# second). netsim applies the same characters to network, host and design keys, with a length cap.
# All patterns are used with fullmatch: `$` would also accept a trailing newline.
DESIGN_NAME = re.compile(r"[a-z0-9][a-z0-9_.-]*")
PROJECT_NAME = re.compile(r"[a-z0-9][a-z0-9_-]*")
CONTAINER_NAME = re.compile(r"[a-zA-Z0-9][a-zA-Z0-9_.-]+")
OBJECT_NAME = re.compile(r"[a-zA-Z0-9][a-zA-Z0-9_.-]*")
HOSTNAME = re.compile(r"(?=.{1,253}\Z)[a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?(\.[a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?)*")
MAX_CONTAINER_NAME = 255  # container names and keys (a name is also a DNS name on its networks)
MAX_NAME = 128  # design, host and network names and keys
RESERVED_SOURCES = ("host", "external")  # probe sources of trace/reach and intent (from: host)
DOCKER0_DEFAULT = IPv4Network("172.17.0.0/16")
LINK_DRIVERS = (Driver.MACVLAN, Driver.IPVLAN)
OVERLAP = 'Docker: "Pool overlaps with other one on this address space"'


class Context:
    """The design plus helpers that turn model paths into Problems at the right place."""

    def __init__(self, design: Design, paths: Mapping[tuple, str] | None = None):
        self.design = design
        self.paths = paths or {}
        self.compose = design.kind == "compose"
        self.networks = {n.name: n for n in design.networks}
        self.containers = {c.name: c for c in design.containers}
        self.hosts = {h.name: h for h in design.hosts}

    @functools.cached_property
    def model_problems(self) -> list:
        """The model's own reference checks (:func:`~simulator.model.design_problems`), found once, when
        first asked for (a Context that only places problems never needs them)."""
        return design_problems(self.design)

    def path(self, model: tuple) -> str:
        for end in range(len(model), 0, -1):
            known = self.paths.get(model[:end])
            if known is not None:
                rest = format_path(("x", *model[end:]))[1:]
                return known + rest
        top = "services" if self.compose and model and model[0] == "containers" else None
        return format_path((top, *model[1:]) if top else model)

    def problem(self, model: tuple, message: str, severity: str = "error") -> Problem:
        location: Location | None = self.design.location(*model)
        return Problem(message, self.path(model), location, Severity(severity))

    def error(self, model: tuple, message: str) -> Problem:
        return self.problem(model, message)

    def warning(self, model: tuple, message: str) -> Problem:
        return self.problem(model, message, "warning")

    @property
    def things(self) -> str:
        return "service" if self.compose else "container"

    def version(self, host: str) -> tuple[int, int, int]:
        h = self.hosts.get(host)
        return engine_version_numbers(h.engine_version if h else DEFAULT_ENGINE_VERSION) or (0, 0, 0)

    def instances(self, net: Network, host: str) -> str:
        """Key of the network instance a container on ``host`` joins."""
        return "*" if net.swarm_scope else host


Check = Callable[[Context], Iterable[Problem]]


def gateway_network(ctx: Context, c: Container) -> Network | None:
    """The network providing the default route (Docker: gw_priority, non-internal, name)."""
    nets = [(a, ctx.networks[a.network]) for a in c.attachments if a.network in ctx.networks]
    nets.sort(key=lambda an: (-an[0].gw_priority, an[1].internal, an[1].engine_name))
    return next((n for _, n in nets if not n.internal), None)


# --- the checks ------------------------------------------------------------------------


def _bad_name(name: str, pattern: re.Pattern, limit: int) -> str | None:
    """Why ``name`` is not a valid name (None when it is)."""
    if len(name) > limit:
        return f"is {len(name)} characters long; netsim takes names of up to {limit}"
    if not pattern.fullmatch(name):
        return "has characters Docker does not allow in names"
    return None


def check_names(ctx: Context) -> Iterator[Problem]:
    d = ctx.design
    if ctx.compose and (len(d.name) > MAX_NAME or not PROJECT_NAME.fullmatch(d.name)):
        yield ctx.error(("name",), f'"{shown(d.name)}" is not a valid project name: use lowercase letters, digits, '
                        f"'_' and '-', starting with a letter or digit, at most {MAX_NAME} characters")
    elif not ctx.compose and (len(d.name) > MAX_NAME or not DESIGN_NAME.fullmatch(d.name)):
        yield ctx.error(("name",), f'"{shown(d.name)}" is not a valid design name: use lowercase letters, digits, '
                        f"'_', '.' and '-', starting with a letter or digit, at most {MAX_NAME} characters (e.g. shop)")
    folded: dict[str, str] = {}
    for h in d.hosts:
        if _bad_name(h.name, OBJECT_NAME, MAX_NAME):
            yield ctx.error(("hosts", h.name), f'"{shown(h.name)}" is not a valid host name: use letters, digits, '
                            f"'_', '.' and '-', starting with a letter or digit, at most {MAX_NAME} characters")
        elif h.name in RESERVED_SOURCES:
            yield ctx.error(("hosts", h.name), f'a host cannot be named "{h.name}": trace, reach and intent use '
                            f'"{h.name}" as a source of its own; rename the host')
        elif h.name.casefold() in folded:
            yield ctx.error(("hosts", h.name), f'host "{h.name}" differs from host "{folded[h.name.casefold()]}" only '
                            "in case, so a source naming either is ambiguous; rename one")
        folded.setdefault(h.name.casefold(), h.name)
    for n in d.networks:
        if n.default_bridge:
            continue
        if not ctx.compose and n.docker_name != n.name and (why := _bad_name(n.name, OBJECT_NAME, MAX_NAME)):
            yield ctx.error(("networks", n.name), f'the network key "{shown(n.name)}" {why}: use letters, digits, '
                            "'_', '.' and '-', starting with a letter or digit")
        if _bad_name(n.engine_name, OBJECT_NAME, MAX_NAME):
            where = ("networks", n.name, "name") if n.docker_name != n.name else ("networks", n.name)
            yield ctx.error(where, f'"{shown(n.engine_name)}" is not a valid network name: use letters, digits, '
                            f"'_', '.' and '-', starting with a letter or digit, at most {MAX_NAME} characters")
    for c in d.containers:
        field_ = "container_name" if ctx.compose else "name"
        if not ctx.compose and c.docker_name != c.name and (why := _bad_name(c.name, OBJECT_NAME, MAX_CONTAINER_NAME)):
            yield ctx.error(("containers", c.name), f'the container key "{shown(c.name)}" {why}: use letters, digits, '
                            "'_', '.' and '-', starting with a letter or digit")
        elif c.name in RESERVED_SOURCES:
            yield ctx.error(("containers", c.name), f'a {ctx.things} cannot be named "{c.name}": trace, reach and '
                            f'intent use "{c.name}" as a source of its own; rename the {ctx.things}')
        if len(c.engine_name) > MAX_CONTAINER_NAME:
            where = ("containers", c.name, field_) if d.location("containers", c.name, field_) else ("containers", c.name)
            yield ctx.error(where, f'container name "{shown(c.engine_name)}" is {len(c.engine_name)} characters long; '
                            f"netsim takes names of up to {MAX_CONTAINER_NAME}")
        elif not CONTAINER_NAME.fullmatch(c.engine_name):
            where = ("containers", c.name, field_) if d.location("containers", c.name, field_) else ("containers", c.name)
            yield ctx.error(where, f'Invalid container name ({shown(c.engine_name)}), only [a-zA-Z0-9][a-zA-Z0-9_.-] are '
                            "allowed (at least 2 characters)")
        if c.hostname is not None and not HOSTNAME.fullmatch(c.hostname):
            yield ctx.error(("containers", c.name, "hostname"), f'"{shown(c.hostname)}" is not a valid hostname '
                            "(letters, digits and '-' in dot-separated labels of up to 63 characters)")
        for a in c.attachments:
            for alias in a.aliases:
                if not alias or len(alias) > MAX_CONTAINER_NAME or any(ch.isspace() or not ch.isprintable()
                                                                       for ch in alias):
                    yield ctx.error(("containers", c.name, "networks", a.network, "aliases"),
                                    f'"{shown(alias)}" is not a valid alias (a DNS name without spaces or control '
                                    f"characters, at most {MAX_CONTAINER_NAME} characters)")


def check_references(ctx: Context) -> Iterator[Problem]:
    """The model's broken references (:func:`~simulator.model.design_problems`), worded for the file."""
    hosts = list(ctx.hosts)
    declared = [n.name for n in ctx.design.networks] + (["default", "bridge"] if ctx.compose else ["bridge"])
    for p in ctx.model_problems:
        if p.code == "unknown-host" and p.path[0] == "networks":
            n = ctx.networks[p.subject]
            yield ctx.error(("networks", n.name, "hosts" if len(n.hosts) > 1 else "host"),
                            f'unknown host "{p.value}"{did_you_mean(p.value, hosts)}; hosts are {", ".join(hosts)}')
        elif p.code == "no-host":
            yield ctx.error(("containers", p.subject), f"no host given and the design has several hosts "
                            f"({', '.join(hosts)}); add host: {hosts[0] if hosts else 'docker1'}")
        elif p.code == "unknown-host":
            yield ctx.error(("containers", p.subject, "host"),
                            f'unknown host "{p.value}"{did_you_mean(p.value, hosts)}; hosts are {", ".join(hosts)}')
        elif p.code == "unknown-network":
            hint = did_you_mean(p.value, declared)
            if ctx.compose:
                msg = f'service "{p.subject}" refers to undefined network {p.value}{hint}; declare it under top-level networks:'
            else:
                msg = f'unknown network "{p.value}"{hint}; declare it under networks: (or use bridge, the default bridge)'
            yield ctx.error(("containers", p.subject, "networks", p.value), msg)
        elif p.code == "unknown-target":
            hint = did_you_mean(p.value, list(ctx.containers))
            what = f"service:{p.value}" if ctx.compose else f"container:{p.value}"
            yield ctx.error(("containers", p.subject, "network_mode"),
                            f"network_mode {what} names no {ctx.things} in the design{hint}")
        elif p.code == "duplicate":
            yield ctx.error(p.path, p.message)


def check_modes(ctx: Context) -> Iterator[Problem]:
    cycles = {p.subject: p for p in ctx.model_problems if p.code == "cycle"}
    for c in ctx.design.containers:
        mode_path = ("containers", c.name, "network_mode")
        if c.mode.kind is not ModeKind.NETWORKS and c.attachments:
            if c.mode.kind is ModeKind.HOST:
                msg = "a host-mode container cannot join other networks; drop networks: or network_mode: host"
            else:
                msg = f"networks cannot be combined with network_mode: {c.mode}; keep one of them"
            yield ctx.error(("containers", c.name, "networks"), msg)
        if c.mode.kind is not ModeKind.CONTAINER:
            continue
        if c.mode.target == c.name:
            yield ctx.error(mode_path, f"network_mode refers to the {ctx.things} itself; name another {ctx.things}")
            continue
        if c.name in cycles:
            chain = cycles[c.name].value
            loop = " -> ".join(str(name) for name in chain) if isinstance(chain, tuple) else str(chain)
            yield ctx.error(mode_path, f"network_mode forms a cycle ({loop}); one of them must have its own network")
        owner = ctx.containers.get(c.mode.target or "")
        if owner is not None and owner.host != c.host and owner.host and c.host:
            yield ctx.error(mode_path, f'shares the namespace of "{owner.name}" on host {owner.host}, '
                            f"but runs on host {c.host}; put both on one host")
        if c.hostname is not None:
            yield ctx.error(("containers", c.name, "hostname"),
                            "conflicting options: hostname and the network mode; the hostname is the owner's")


def check_published_ports(ctx: Context) -> Iterator[Problem]:
    for c in ctx.design.containers:
        if not c.ports:
            continue
        where = ("containers", c.name, "ports")
        kind = c.mode.kind
        if kind is ModeKind.HOST:
            yield ctx.warning(where, "Published ports are discarded when using host network mode "
                              "(the listeners are host ports already); remove ports:")
        elif kind is ModeKind.NONE:
            yield ctx.warning(where, "published ports are ignored with network_mode: none (only loopback)")
        elif kind is ModeKind.CONTAINER:
            yield ctx.error(where, "conflicting options: port publishing and the container type network mode; "
                            f'publish the ports on "{c.mode.target}"')
        else:
            known = [ctx.networks[a.network] for a in c.attachments if a.network in ctx.networks]
            if not known:
                continue
            gw = gateway_network(ctx, c)
            if gw is None:
                yield ctx.warning(where, "published ports are ignored: every network of this container is internal, "
                                  "so nothing is bound on the host")
            elif gw.driver in LINK_DRIVERS:
                yield ctx.warning(where, f"{gw.driver.value} driver does not support port mappings; these ports "
                                  f'are ignored (network "{gw.name}" provides the gateway)')


def _wildcard(*ips: IPv4Address | IPv6Address) -> bool:
    """Whether one of the addresses is its family's wildcard (0.0.0.0 or ::): a binding on every address.
    A published port on an IPv4 and one on an IPv6 address never clash here (the next step models that
    a port published without a host IP is bound on :: too)."""
    return any(ip.is_unspecified for ip in ips)


def check_port_conflicts(ctx: Context) -> Iterator[Problem]:
    taken: dict[tuple[str, str, int], list[tuple[IPv4Address | IPv6Address, Container, object]]] = defaultdict(list)
    replicas_told: set[tuple[str, str]] = set()
    for c in ctx.design.containers:
        if c.mode.kind is not ModeKind.NETWORKS or not c.ports:
            continue
        gw = gateway_network(ctx, c)
        if gw is None or gw.driver in LINK_DRIVERS:
            continue
        seen = set()
        clashes: dict[str, list] = {}  # other container -> [(i, ip, port, protocol, who)]
        for i, p in enumerate(c.ports):
            if p.host_port is None:
                continue
            ip = p.host_ip if p.host_ip is not None else gw.host_binding_ipv4
            if (ip, p.host_port, p.protocol, p.container_port) in seen:
                continue
            seen.add((ip, p.host_port, p.protocol, p.container_port))
            slot = taken[(c.host, p.protocol.value, p.host_port)]
            clash = next((o for o in slot if o[0] == ip or (o[0].version == ip.version and _wildcard(ip, o[0]))), None)
            if clash is not None:
                other = clash[1]
                who = "twice by this container" if other is c else f'by "{other.name}" too'
                clashes.setdefault(other.name, []).append((i, ip, p, who))
            slot.append((ip, c, p))
        for other_name, found in clashes.items():  # one error per pair of containers: one cause, one message
            i, ip, p, who = found[0]
            more = f"; {len(found) - 1} more of its ports clash the same way" if len(found) > 1 else ""
            other = ctx.design.container(other_name)
            if c.service is not None and other is not c and other.service == c.service:  # replicas: said once
                if (c.service, other.name) in replicas_told:
                    continue
                replicas_told.add((c.service, other.name))
                yield ctx.error(("containers", c.name, "ports", i),
                                f"Bind for {ip}:{p.host_port} failed: port is already allocated ({p.protocol.value} "
                                f"port {p.host_port} is a fixed host port of every replica of {c.service}: "
                                f"{other.name} binds it, {c.name} and the replicas after it do not start{more}); "
                                "leave the host port out, or give a host port range with a port for each replica")
                continue
            yield ctx.error(("containers", c.name, "ports", i),
                            f"Bind for {ip}:{p.host_port} failed: port is already allocated "
                            f"({p.protocol.value} port {p.host_port} is published {who} on host {c.host}{more}); "
                            "pick another host port")


def check_subnets(ctx: Context) -> Iterator[Problem]:
    for n in ctx.design.networks:
        at = ("networks", n.name)
        s = n.subnet
        if s is None:
            for field_, value in (("gateway", n.gateway), ("ip_range", n.ip_range)):
                if value is not None:
                    yield ctx.error((*at, field_), f"{field_} {value} needs an explicit subnet; add subnet:")
            if n.aux_addresses:
                yield ctx.error((*at, "aux_addresses"), "aux_addresses need an explicit subnet; add subnet:")
            continue
        if n.gateway is not None:
            if n.gateway not in s:
                yield ctx.error((*at, "gateway"), f"gateway {n.gateway} is outside subnet {s}; "
                                f"use an address inside it such as {s.network_address + 1}")
            elif s.prefixlen < 31 and n.gateway in (s.network_address, s.broadcast_address):
                yield ctx.error((*at, "gateway"), f"gateway {n.gateway} is the network or broadcast address of {s}")
        if n.ip_range is not None and not n.ip_range.subnet_of(s):
            yield ctx.error((*at, "ip_range"), f"ip_range {n.ip_range} is outside subnet {s}; use a range inside it")
        for a in n.aux_addresses:
            if a not in s:
                yield ctx.error((*at, "aux_addresses"), f"aux address {a} is outside subnet {s}")


class _Routes:
    """A host's routes, asked which overlap a subnet without comparing every route: two CIDR
    blocks overlap only when one contains the other (its supernets: one lookup per prefix
    length; its subnets: the routes that start inside it, found by bisection)."""

    SHOWN = 3  # overlapping routes named per subnet; the rest are counted

    def __init__(self, routes: Iterable[IPv4Network]):
        self.index: dict[IPv4Network, int] = {}
        for i, r in enumerate(routes):
            self.index.setdefault(r, i)
        self.order = sorted(self.index, key=lambda r: (int(r.network_address), r.prefixlen))
        self.starts = [int(r.network_address) for r in self.order]

    def overlapping(self, net: IPv4Network) -> tuple[list[IPv4Network], int]:
        """Up to :attr:`SHOWN` overlapping routes in written order, and how many overlap in all."""
        if not self.index:
            return [], 0
        found = [sup for p in range(net.prefixlen + 1) if (sup := net.supernet(new_prefix=p)) in self.index]
        lo = bisect_left(self.starts, int(net.network_address))
        hi = bisect_right(self.starts, int(net.broadcast_address))
        inside = hi - lo - sum(1 for r in found if int(r.network_address) == int(net.network_address))
        found += [r for r in self.order[lo:min(hi, lo + self.SHOWN + 34)] if r.prefixlen > net.prefixlen]
        found = sorted(set(found), key=self.index.__getitem__)
        total = len({r for r in found if r.prefixlen <= net.prefixlen}) + inside
        return found[: self.SHOWN], max(total, len(found[: self.SHOWN]))


def check_overlaps(ctx: Context) -> Iterator[Problem]:
    indexes: dict[str, _Routes] = {}

    def routes(h) -> _Routes:
        if h.name not in indexes:
            indexes[h.name] = _Routes(h.routes)
        return indexes[h.name]

    nets = [n for n in ctx.design.networks if n.subnet is not None]
    subnets = [n.subnet for n in ctx.design.networks if n.subnet is not None]
    earlier: dict[int, list[int]] = defaultdict(list)  # a sorted sweep, not every pair (simulator/cidr.py)
    for i, j in overlapping_pairs(subnets):
        earlier[j].append(i)
    for i, n in enumerate(nets):
        subnet = subnets[i]
        where = ("networks", n.name, "subnet")
        for m in (nets[k] for k in sorted(earlier.get(i, ()))):
            shared = n.swarm_scope or m.swarm_scope or set(n.hosts) & set(m.hosts)
            if shared:
                yield ctx.error(where, f'subnet {n.subnet} overlaps {m.subnet} of network "{m.name}" ({OVERLAP}); '
                                "pick a subnet outside it")
        on = ctx.design.hosts if n.swarm_scope else [ctx.hosts[h] for h in n.hosts if h in ctx.hosts]
        for h in on:
            docker0 = h.daemon.bip.network if h.daemon.bip is not None else DOCKER0_DEFAULT
            if not n.default_bridge and subnet.overlaps(docker0):
                yield ctx.error(where, f"subnet {n.subnet} overlaps {docker0} of the default bridge docker0 on host "
                                f"{h.name} ({OVERLAP}); pick a subnet outside it")
            if n.driver is not Driver.BRIDGE:
                continue
            if subnet.overlaps(h.lan_address.network):
                yield ctx.warning(where, f"subnet {n.subnet} overlaps the LAN {h.lan_address.network} of host {h.name}: "
                                  "the host would send those LAN addresses into the bridge; pick another subnet")
            found, total = routes(h).overlapping(subnet)
            for k, r in enumerate(found):
                more = (f"; {total - len(found)} more routes of host {h.name} overlap it"
                        if k == len(found) - 1 and total > len(found) else "")
                yield ctx.warning(where, f"subnet {n.subnet} overlaps {r}, already routed on host {h.name}: "
                                  f"Docker uses an explicit subnet as written and breaks that route{more}")


def check_addresses(ctx: Context) -> Iterator[Problem]:
    used: dict[tuple[str, str, IPv4Address], str] = {}
    for c in ctx.design.containers:
        for a in c.attachments:
            n = ctx.networks.get(a.network)
            if n is None:
                continue
            at = ("containers", c.name, "networks", a.network)
            if n.default_bridge:
                if a.aliases:
                    yield ctx.error((*at, "aliases"), "network-scoped alias is supported only for containers in user "
                                    "defined networks; put the container on a user-defined network")
                if a.ipv4_address is not None:
                    yield ctx.error((*at, "ipv4_address"), "user specified IP address is supported on user defined "
                                    "networks only")
                continue
            ip = a.ipv4_address
            if ip is None:
                continue
            yield from _static_address(ctx, c, n, ip, (*at, "ipv4_address"))
            key = (n.name, ctx.instances(n, c.host), ip)
            if key in used:
                yield ctx.error((*at, "ipv4_address"), f'Address already in use: {ip} is also the static address of '
                                f'"{used[key]}" on network "{n.name}"; pick another address')
            used.setdefault(key, c.name)


def _static_address(ctx: Context, c: Container, n: Network, ip: IPv4Address, at: tuple) -> Iterator[Problem]:
    version = ctx.version(c.host)
    s = n.subnet
    if s is None:
        if version < (29, 0, 4):
            yield ctx.error(at, "user specified IP address is supported only when connecting to networks with user "
                            f'configured subnets; give network "{n.name}" a subnet:')
        return
    if ip not in s:
        if version >= (25, 0, 0):
            msg = f"no configured subnet or ip-range contain the IP address {ip}"
        else:
            msg = f"Invalid address {ip}: It does not belong to any of this network's subnets"
        yield ctx.error(at, f"{msg} (subnet {s})")
        return
    gateway = n.gateway if n.gateway is not None else (s.network_address + 1 if s.prefixlen < 31 else None)
    if s.prefixlen < 31 and ip in (s.network_address, s.broadcast_address):
        yield ctx.error(at, f"{ip} is the network or broadcast address of {s}; pick a host address")
    elif ip == gateway:
        yield ctx.error(at, f'Address already in use: {ip} is the gateway of network "{n.name}"; pick another address')
    elif ip in n.aux_addresses:
        yield ctx.error(at, f'Address already in use: {ip} is an aux address of network "{n.name}"')


def check_placement(ctx: Context) -> Iterator[Problem]:
    for c in ctx.design.containers:
        for a in c.attachments:
            n = ctx.networks.get(a.network)
            if n is None or not c.host or c.host not in ctx.hosts:
                continue
            at = ("containers", c.name, "networks", a.network)
            if c.host not in n.hosts:
                span = ", ".join(n.hosts) or "no host"
                yield ctx.error(at, f'network "{n.name}" does not exist on host {c.host} (it is on {span}); '
                                f"add {c.host} to the network's hosts")
            if n.driver is Driver.OVERLAY and not n.attachable and c.mode.kind is ModeKind.NETWORKS and c.task_of is None:
                yield ctx.error(at, f'only attachable overlays accept standalone containers; set attachable: true '
                                f'on network "{n.name}"')


def check_duplicate_names(ctx: Context) -> Iterator[Problem]:
    seen: dict[tuple[str, str], str] = {}
    for c in ctx.design.containers:
        key = (c.host, c.engine_name)
        if key in seen:
            yield ctx.error(("containers", c.name), f'Conflict. The container name "/{c.engine_name}" is already in use '
                            f'by "{seen[key]}" on host {c.host}; give one another name')
        seen.setdefault(key, c.name)
    local: dict[tuple[str, str], str] = {}  # (host, engine name) -> network
    anywhere: dict[str, str] = {}  # engine name -> first local network using it
    swarm: dict[str, str] = {}  # engine name -> overlay
    for n in ctx.design.networks:
        name = n.engine_name
        if n.swarm_scope:
            other = swarm.get(name) or anywhere.get(name)
        else:
            other = swarm.get(name) or next((local[(h, name)] for h in n.hosts if (h, name) in local), None)
        if other is not None and not (n.default_bridge and ctx.networks[other].default_bridge):
            yield ctx.error(("networks", n.name), f"network with name {name} already exists "
                            f'("{other}" uses it); give one another name')
        if n.swarm_scope:
            swarm.setdefault(name, n.name)
        else:
            anywhere.setdefault(name, n.name)
            for h in n.hosts:
                local.setdefault((h, name), n.name)


# --- IPv6 ------------------------------------------------------------------------------
# What the engine does with IPv6 settings, per line (simulator/engine/versions.py has the same rules as
# flags for the IPAM; docs/engine-versions.md cites them): moby api/types/network/ipam.go ValidateIPAM
# (25.0+), libnetwork ipam allocator (v20.10.24: vendor/github.com/docker/libnetwork/ipam/allocator.go;
# v28.5.2: libnetwork/ipams/defaultipam), daemon/daemon_unix.go (the daemon's ipv6 and ip6tables).


def _no_addresses(version: tuple[int, int, int]) -> str:
    """ipamapi.ErrNoAvailableIPs, capitalised until 24.0 (libnetwork/ipamapi/contract.go)."""
    return "No available addresses on this pool" if version < (25, 0, 0) else "no available addresses on this pool"


def _has_ipv6_pool(ctx: Context, host: str) -> bool:
    """Whether the daemon on ``host`` has an IPv6 default pool: one in default_address_pools, or from
    27.0 the ULA /48 it derives from its host ID when there is none (daemon/daemon.go at v27.0.1)."""
    h = ctx.hosts.get(host)
    if h is None:
        return True
    return ctx.version(host) >= (27, 0, 0) or any(p.base.version == 6 for p in h.daemon.default_address_pools)


def check_ipv6_networks(ctx: Context) -> Iterator[Problem]:
    """A network's IPv6 settings: enable_ipv6 and its subnet6, gateway6, ip_range6."""
    for n in ctx.design.networks:
        at = ("networks", n.name)
        s = n.subnet6
        if not n.enable_ipv6:  # one message for the network, at its first IPv6 setting
            settings: tuple[tuple[str, object], ...] = (("subnet6", s), ("gateway6", n.gateway6), ("ip_range6", n.ip_range6))
            given = [(f, v) for f, v in settings if v is not None]
            if given:
                field_, value = given[0]
                yield ctx.error((*at, field_), f"IPv6 {field_[:-1].replace('_', '-')} {value} on a network without "
                                "enable_ipv6: the engine skips a network's IPv6 settings unless IPv6 is enabled and "
                                "creates it IPv4-only; add enable_ipv6: true or remove it")
            continue
        hosts = [h for h in n.hosts if h in ctx.hosts] or list(ctx.hosts)[:1]
        version = min((ctx.version(h) for h in hosts), default=(20, 10, 0))
        if s is None:
            for field_, value in (("gateway6", n.gateway6), ("ip_range6", n.ip_range6)):
                if value is not None:
                    yield ctx.error((*at, field_), f"{field_} {value} needs an explicit IPv6 subnet; add subnet6:")
            if n.swarm_scope:
                yield ctx.error((*at, "enable_ipv6"), "an overlay with enable_ipv6 needs an explicit IPv6 subnet "
                                "(netsim models no IPv6 pool of the swarm); add subnet6:")
            elif not n.default_bridge:
                for h in hosts:
                    if not _has_ipv6_pool(ctx, h):
                        yield ctx.error((*at, "enable_ipv6"), "could not find an available, non-overlapping IPv6 "
                                        f"address pool among the defaults to assign to the network (engine "
                                        f"{ctx.hosts[h].engine_version} on host {h} has no IPv6 default pool before "
                                        "27.0); add subnet6: or an IPv6 base to the daemon's default_address_pools")
                        break
            continue
        if s.prefixlen == 128:
            yield ctx.error((*at, "subnet6"), f"failed to allocate gateway ({n.gateway6 or ''}): {_no_addresses(version)} "
                            f"(subnet6 {s} has one address, and the engine keeps the first address of an IPv6 subnet, "
                            "the subnet-router anycast address); use a /64")
            continue
        if n.gateway6 is not None:
            if n.gateway6 not in s:
                msg = (f"invalid gateway {n.gateway6}: parent subnet {s} doesn't contain this address"
                       if version >= (25, 0, 0) else
                       f"failed to allocate gateway ({n.gateway6}): Requested address is out of range (subnet6 {s})")
                yield ctx.error((*at, "gateway6"), f"{msg}; use an address inside it such as {s.network_address + 1}")
            elif n.gateway6 == s.network_address:
                yield ctx.error((*at, "gateway6"), f"failed to allocate gateway ({n.gateway6}): Address already in use "
                                f"({n.gateway6} is the subnet-router anycast address of {s}, which the engine keeps); "
                                f"use {s.network_address + 1}")
        r = n.ip_range6
        if r is not None and not r.subnet_of(s):
            yield ctx.error((*at, "ip_range6"), f"invalid ip-range {r}: parent subnet {s} doesn't contain ip-range; "
                            "use a range inside subnet6")


def check_ipv6_overlaps(ctx: Context) -> Iterator[Problem]:
    """IPv6 subnets overlapping each other, docker0's fixed_cidr_v6, or a host's IPv6 LAN."""
    nets = [n for n in ctx.design.networks if n.enable_ipv6 and n.subnet6 is not None]
    subnets: list[IPv6Network] = [n.subnet6 for n in nets if n.subnet6 is not None]
    earlier: dict[int, list[int]] = defaultdict(list)
    for i, j in overlapping_pairs(subnets):
        earlier[j].append(i)
    for i, n in enumerate(nets):
        subnet = subnets[i]
        where = ("networks", n.name, "subnet6")
        for m in (nets[k] for k in sorted(earlier.get(i, ()))):
            if n.swarm_scope or m.swarm_scope or set(n.hosts) & set(m.hosts):
                yield ctx.error(where, f'subnet6 {subnet} overlaps {m.subnet6} of network "{m.name}" ({OVERLAP}); '
                                "pick a subnet outside it")
        on = ctx.design.hosts if n.swarm_scope else [ctx.hosts[h] for h in n.hosts if h in ctx.hosts]
        for h in on:
            fixed = h.daemon.fixed_cidr_v6
            if fixed is not None and h.daemon.ipv6 and not n.default_bridge and subnet.overlaps(fixed):
                yield ctx.error(where, f"subnet6 {subnet} overlaps {fixed}, the fixed_cidr_v6 of the default bridge "
                                f"docker0 on host {h.name} ({OVERLAP}); pick a subnet outside it")
            if h.lan_address6 is not None and n.driver is Driver.BRIDGE and subnet.overlaps(h.lan_address6.network):
                yield ctx.warning(where, f"subnet6 {subnet} overlaps the IPv6 LAN {h.lan_address6.network} of host "
                                  f"{h.name}: the host would send those LAN addresses into the bridge; pick another subnet")


def check_ipv6_addresses(ctx: Context) -> Iterator[Problem]:
    """Each ``ipv6_address``: on an IPv6 network, inside its subnet6, not taken."""
    used: dict[tuple[str, str, IPv6Address], str] = {}
    for c in ctx.design.containers:
        for a in c.attachments:
            n = ctx.networks.get(a.network)
            ip = a.ipv6_address
            if n is None or ip is None:
                continue
            at = ("containers", c.name, "networks", a.network, "ipv6_address")
            version = ctx.version(c.host)
            if n.default_bridge:
                yield ctx.error(at, "user specified IP address is supported on user defined networks only")
                continue
            if not n.enable_ipv6 or n.subnet6 is None:
                if version < (29, 0, 4) or not n.enable_ipv6:
                    why = ("it has no IPv6 (add enable_ipv6: true and a subnet6)" if not n.enable_ipv6
                           else "add a subnet6")
                    yield ctx.error(at, "user specified IP address is supported only when connecting to networks with "
                                    f'user configured subnets (network "{n.name}": {why})')
                else:
                    yield ctx.warning(at, f'network "{n.name}" takes its IPv6 subnet from the daemon\'s pools, which '
                                      f"netsim cannot predict: whether {ip} is inside it is not checked; add a subnet6")
                continue
            s = n.subnet6
            if ip not in s:
                msg = (f"no configured subnet or ip-range contain the IP address {ip}" if version >= (25, 0, 0)
                       else f"Invalid address {ip}: It does not belong to any of this network's subnets")
                yield ctx.error(at, f"{msg} (subnet6 {s})")
                continue
            gateway = n.gateway6_for(s) if s.prefixlen < 128 else None
            if ip == s.network_address:
                yield ctx.error(at, f"Address already in use: {ip} is the subnet-router anycast address of {s}, which the "
                                "engine keeps; pick a host address")
                continue
            if ip == gateway:
                yield ctx.error(at, f'Address already in use: {ip} is the IPv6 gateway of network "{n.name}"; '
                                "pick another address")
                continue
            key = (n.name, ctx.instances(n, c.host), ip)
            if key in used:
                yield ctx.error(at, f'Address already in use: {ip} is also the static IPv6 address of "{used[key]}" on '
                                f'network "{n.name}"; pick another address')
            used.setdefault(key, c.name)


def check_ipv6_daemons(ctx: Context) -> Iterator[Problem]:
    """The daemon's ipv6, fixed_cidr_v6 and ip6tables settings, as dockerd checks them when it starts."""
    for h in ctx.design.hosts:
        d = h.daemon
        at = ("hosts", h.name, "daemon")
        version = ctx.version(h.name)
        if d.ipv6 and d.fixed_cidr_v6 is None and version < (28, 0, 0):
            yield ctx.error((*at, "ipv6"), "IPv6 is enabled for the default bridge, but no subnet is configured. Specify "
                            f"an IPv6 subnet using --fixed-cidr-v6 (dockerd {h.engine_version} does not start; "
                            "add fixed_cidr_v6:)")
        if d.fixed_cidr_v6 is not None and not d.ipv6:
            yield ctx.warning((*at, "fixed_cidr_v6"), "fixed_cidr_v6 without ipv6: true: the default bridge stays "
                              "IPv4-only and the setting is ignored; add ipv6: true or remove it")
        if d.ip6tables and not d.experimental and version < (27, 0, 0):
            yield ctx.error((*at, "ip6tables"), "ip6tables rules are only available if experimental features are enabled "
                            f"(dockerd {h.engine_version} does not start; add experimental: true, or leave ip6tables out)")
        ip6tables = d.ip6tables if d.ip6tables is not None else version >= (27, 0, 0)
        if not d.icc and d.ipv6 and not ip6tables and version >= (27, 0, 0):
            yield ctx.error((*at, "ip6tables"), "You specified --ip6tables=false with --icc=false. ICC=false uses "
                            "ip6tables to function. Please set --icc or --ip6tables to true")


CHECKS: list[Check] = [
    check_names,
    check_references,
    check_modes,
    check_published_ports,
    check_port_conflicts,
    check_subnets,
    check_overlaps,
    check_addresses,
    check_placement,
    check_duplicate_names,
    check_ipv6_networks,
    check_ipv6_overlaps,
    check_ipv6_addresses,
    check_ipv6_daemons,
]


def validate(design: Design, paths: Mapping[tuple, str] | None = None) -> list[Problem]:
    """Every problem :data:`CHECKS` find (errors and warnings), in check order.

    ``paths`` maps model paths to dotted source paths (loaders pass it so messages say
    ``services.web.ports[0]`` exactly as written); without it paths are derived.
    """
    ctx = Context(design, paths)
    problems: list[Problem] = []
    for check in CHECKS:
        problems.extend(check(ctx))
    return problems
