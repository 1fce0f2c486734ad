"""Observe a deployment: dial every probe of the model for real and record who answered.

Dial addresses come from the deployment, never from the model: via ``ip`` the target's
actual address on that network (inspect), via ``dns`` the name resolved inside the
source, via ``host`` the source's actual default gateway (127.0.0.1 from the host, the
host's LAN address from the LAN peer).  Every address passes the
:class:`~simulator.adapters.safety.ProbeGuard` before anything is dialled.

Family-6 probes dial IPv6: via ``ip`` the target's ``GlobalIPv6Address``, via ``dns`` the
AAAA answer inside the source, via ``host`` ``::1`` from the host and the host's
``lan_address6`` from its containers (their IPv6 gateway when it has none) and the LAN peer.
Before an IPv6 address is dialled from this machine or its engine's containers the kernel is
asked (``ip -6 route get``): what it would send out of the uplink is refused as unsafe.

Per source container: one exec to read its gateway and resolve names, one exec dialling
all its probes concurrently; sources run in parallel (bounded).  The host dials with
Python sockets; the LAN peer runs the same Python prober under ``ip netns exec``.

Multi-host designs: each container is observed through the engine of its host
(``engines``); the first design host is this machine (it dials like ``host``), every other
host is an extra daemon's network namespace, where the same Python prober runs.  Those
namespaces have no default route (checked): a probe from them can't leave the emulated
LAN, so the host-namespace rule of the guard (only prefixes this machine routes locally)
applies to this machine's namespace alone.  With an engine built from source every host is
such a namespace (:attr:`~simulator.deploy.plan.Plan.on_daemons_only`): the vantage point
``host`` of a single-host design dials from its host's namespace, not from this machine.
"""

from __future__ import annotations

import json
import sys
from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from ipaddress import IPv4Address, IPv4Interface, IPv4Network, IPv6Address, IPv6Interface, IPv6Network
from pathlib import Path

from ..adapters import lanpeer
from ..adapters.engine import ContainerSpec, Engine
from ..adapters.probe_agent import (
    DNS_TIMEOUT_S,
    TIMEOUT_MS,
    Dial,
    DialResult,
    Prepared,
    complete,
    parse_prepared,
    parse_results,
    prepare_script,
    probe_script,
    probe_sockets,
)
from ..adapters.safety import ProbeGuard
from ..analysis.probes import Probe
from ..deploy.plan import DEFAULT_BRIDGE, Plan
from ..errors import EngineError, UnsafeTarget
from ..model import Design, Driver, ModeKind
from .compare import needs_retry

GWBRIDGE = "docker_gwbridge"
SOURCES_PARALLEL = 32
EXEC_ATTEMPTS = 3  # an exec whose output lost its end marker is run again (moby/moby#27289)
PACKAGE_ROOT = str(Path(__file__).resolve().parents[2])
LOCALHOST = "127.0.0.1"


@dataclass(frozen=True, slots=True)
class Observation:
    """What really happened for one probe (matched to the model by ``key``)."""

    key: tuple
    address: str | None
    status: str  # answered | refused | timeout | empty | unresolved | no-address | no-route
    #              | skipped | unsupported | unsafe | error
    responder: str | None = None
    detail: str = ""
    transient: bool = False  # a timeout (connect or DNS) or a lost answer: worth a retry
    attempts: int = 1  # 2: dialled again with a longer timeout (see simulator/verify/session.py)
    responders: tuple[str, ...] = ()  # a name with several records: who answered at each address, each dialled

    @property
    def reachable(self) -> bool:
        return self.status == "answered" and self.responder is not None

    @property
    def compared(self) -> bool:
        return self.status not in ("skipped", "unsupported", "unsafe", "error")

    def to_json(self) -> dict:
        data: dict[str, object] = {"address": self.address, "status": self.status, "reachable": self.reachable,
                "responder": self.responder, "detail": self.detail, "attempts": self.attempts}
        if self.responders:
            data["responders"] = list(self.responders)
        return data


@dataclass
class ContainerFacts:
    key: str
    name: str
    id: str
    status: str
    exit_code: int | None
    addresses: dict[str, IPv4Interface] = field(default_factory=dict)  # design network -> address
    gateway: str | None = None  # observed default gateway (filled by the prepare exec)
    ns_owner: str | None = None  # container:X — the key of X
    addresses6: dict[str, IPv6Interface] = field(default_factory=dict)  # design network -> IPv6 address


@dataclass
class Facts:
    """The deployment as the engine shows it."""

    containers: dict[str, ContainerFacts]
    subnets: dict[str, IPv4Network]  # design network -> subnet
    gateways: dict[str, str]  # design network -> gateway address
    lan_host: IPv4Interface
    lan_peer: IPv4Interface
    lan_ready: bool
    udp: bool
    notes: list[str] = field(default_factory=list)
    lan_hosts: dict[str, IPv4Interface] = field(default_factory=dict)  # design host -> its LAN address
    host_namespaces: dict[str, str] = field(default_factory=dict)  # extra design host -> its netns
    isolated: set[str] = field(default_factory=set)  # extra hosts whose netns has no default route
    extra_subnets: list[IPv4Network] = field(default_factory=list)  # netsim's networks on extra hosts
    extra_subnets6: list[IPv6Network] = field(default_factory=list)  # their IPv6 subnets
    peer_routes: list[tuple[IPv4Network, IPv4Address]] = field(default_factory=list)  # the LAN peer's, multi-host
    answers: dict[str, str] = field(default_factory=dict)  # a task's answer -> its design name, where they differ
    subnets6: dict[str, IPv6Network] = field(default_factory=dict)  # design network -> IPv6 subnet (IPv6 enabled)
    lan_hosts6: dict[str, IPv6Interface] = field(default_factory=dict)  # design host -> its IPv6 LAN address
    on_machine: bool = True  # some probe leaves from this machine's namespace or engine (it has an uplink)
    uplink_checked: dict[str, str | None] = field(default_factory=dict)  # IPv6 address -> the uplink it leaves by

    def named(self, obs: Observation) -> Observation:
        """``obs`` with its responder as the design names it (:class:`RunningTask`: a task answers
        with its slot or node id, the design numbers its running tasks or names their node)."""
        name = self.answers.get(obs.responder or "")
        return replace(obs, responder=name) if name else obs

    def peer_gateway(self, address: str) -> IPv4Address | None:
        """The host address the LAN peer sends ``address`` to (its longest matching route), if routed."""
        ip = IPv4Address(address)
        found = [(net, via) for net, via in self.peer_routes if ip in net]
        return max(found, key=lambda nv: nv[0].prefixlen)[1] if found else None

    def addresses_of(self, key: str, family: int = 4) -> dict[str, IPv4Interface] | dict[str, IPv6Interface]:
        """Addresses of a container's namespace (a container:X joiner has its owner's), of one family."""
        seen = set()
        c = self.containers.get(key)
        while c is not None and c.ns_owner and c.key not in seen:
            seen.add(c.key)
            c = self.containers.get(c.ns_owner)
        if c is None:
            return {}
        return c.addresses6 if family == 6 else c.addresses

    def leaves_by_uplink(self, address: str) -> str | None:
        """The uplink this machine would send an IPv6 address out of (``ip -6 route get``), or None;
        asked once per address, and only when a probe leaves from this machine."""
        if ":" not in address or not self.on_machine:
            return None
        if address not in self.uplink_checked:
            self.uplink_checked[address] = lanpeer.leaves_by_uplink(address)
        return self.uplink_checked[address]


def network_keys(design: Design, plan: Plan) -> dict[str, str]:
    """Engine network name -> design network key."""
    out = {spec.name: spec.key for spec in plan.networks}
    for n in design.networks:
        if n.default_bridge:
            out[DEFAULT_BRIDGE] = n.name
        if n.ingress:  # the swarm's routing-mesh network, made by swarm init
            out[n.engine_name] = n.name
    out.setdefault(DEFAULT_BRIDGE, DEFAULT_BRIDGE)
    out[GWBRIDGE] = GWBRIDGE
    return out


def gather_facts(design: Design, plan: Plan, engine: Engine, lan_ready: bool,
                 engines: Mapping[str, Engine] | None = None) -> Facts:
    """Inspect every container and network netsim deployed for the design (multi-host: on
    the engine of each host, ``engines``)."""
    engines = dict(engines or {})
    keys = network_keys(design, plan)
    containers: dict[str, ContainerFacts] = {}
    gwbridges: dict[str, dict] = {}  # host -> docker_gwbridge's Containers
    endpoint_gateways: dict[str, str] = {}
    tasks = running_tasks(plan, engines.get(plan.host, engine), {plan.host: engine, **engines}) if plan.services else []
    for spec in (*plan.containers, *_task_specs(plan, tasks)):
        on = engines.get(spec.host, engine) if spec.host else engine
        try:
            info = on.inspect_container(spec.name)
        except EngineError:
            containers[spec.key] = ContainerFacts(spec.key, spec.name, "", "missing", None)
            continue
        state = info.get("State") or {}
        cf = ContainerFacts(spec.key, (info.get("Name") or spec.name).lstrip("/"), info["Id"], state.get("Status", ""),
                            state.get("ExitCode"))
        if spec.network_mode.startswith("container:"):
            owner = spec.network_mode.split(":", 1)[1]
            cf.ns_owner = next((c.key for c in plan.containers if c.name == owner), None)
        for net_name, ep in ((info.get("NetworkSettings") or {}).get("Networks") or {}).items():
            if ep.get("IPAddress"):
                cf.addresses[keys.get(net_name, net_name)] = IPv4Interface(f"{ep['IPAddress']}/{ep.get('IPPrefixLen') or 32}")
            if ep.get("GlobalIPv6Address"):
                cf.addresses6[keys.get(net_name, net_name)] = IPv6Interface(
                    f"{ep['GlobalIPv6Address']}/{ep.get('GlobalIPv6PrefixLen') or 128}")
            if ep.get("Gateway"):
                endpoint_gateways.setdefault(keys.get(net_name, net_name), ep["Gateway"])
        if any(n.driver == "overlay" for n in plan.networks) and spec.network_mode not in ("host", "none"):
            if spec.host not in gwbridges:
                try:
                    gwbridges[spec.host] = on.inspect_network(GWBRIDGE).get("Containers") or {}
                except EngineError:
                    gwbridges[spec.host] = {}
            ep = gwbridges[spec.host].get(info["Id"])
            if ep and ep.get("IPv4Address"):
                cf.addresses[GWBRIDGE] = IPv4Interface(ep["IPv4Address"])
        containers[spec.key] = cf
    subnets: dict[str, IPv4Network] = {}
    subnets6: dict[str, IPv6Network] = {}
    gateways: dict[str, str] = {}
    for name, key in keys.items():
        swarm_made = design.has_network(key) and design.network(key).ingress  # the routing mesh's: swarm init's
        if name != DEFAULT_BRIDGE and name != GWBRIDGE and plan.network_spec(key) is None and not swarm_made:
            continue
        configs = None
        ipv6 = False
        for on in [engine] + [e for h, e in engines.items() if e is not engine]:
            try:
                found = on.inspect_network(name)
                configs, ipv6 = ((found.get("IPAM") or {}).get("Config")) or [], bool(found.get("EnableIPv6"))
                break
            except EngineError:
                continue
        for cfg in configs or ():
            if ipv6 and ":" in (cfg.get("Subnet") or ""):
                subnets6.setdefault(key, IPv6Network(cfg["Subnet"]))
        for cfg in configs or ():
            if cfg.get("Subnet") and ":" not in cfg["Subnet"]:
                subnets[key] = IPv4Network(cfg["Subnet"])
                if cfg.get("Gateway"):
                    gateways[key] = cfg["Gateway"]
                break
    for key, gw in endpoint_gateways.items():
        gateways.setdefault(key, gw)
    udp = engine.image_supports_udp(plan.image)
    facts = Facts(containers, subnets, gateways, plan.lan.host_address, plan.lan.peer_address, lan_ready, udp)
    facts.subnets6 = subnets6
    facts.lan_hosts = {h.name: h.lan_address for h in design.hosts}
    facts.lan_hosts[plan.host or design.hosts[0].name] = plan.lan.host_address
    facts.lan_hosts6 = {h.name: h.lan_address6 for h in design.hosts if h.lan_address6 is not None}
    facts.on_machine = not plan.on_daemons_only
    for net_spec in plan.networks:  # netsim's networks on the extra hosts (they are its own too)
        extra_engine = engines.get(net_spec.host) if net_spec.host and net_spec.host != plan.host else None
        if extra_engine is None:
            continue
        try:
            found = extra_engine.inspect_network(net_spec.name)
        except EngineError:
            continue
        configs = ((found.get("IPAM") or {}).get("Config")) or []
        facts.extra_subnets += [IPv4Network(c["Subnet"]) for c in configs if c.get("Subnet") and ":" not in c["Subnet"]]
        if found.get("EnableIPv6"):
            facts.extra_subnets6 += [IPv6Network(c["Subnet"]) for c in configs if ":" in (c.get("Subnet") or "")]
    if plan.extra_hosts and lanpeer.namespace_exists(plan.lan.namespace):
        facts.peer_routes = lanpeer.gateway_routes(plan.lan.namespace)
    facts.answers = {t.answer: t.name for t in tasks if t.answer != t.name}
    for extra in plan.extra_hosts:
        if lanpeer.namespace_exists(extra.namespace):
            facts.host_namespaces[extra.host] = extra.namespace
            if not lanpeer.has_default_route(extra.namespace):
                facts.isolated.add(extra.host)
    if not udp:
        facts.notes.append(f"probe image {plan.image} has no UDP helper (nsagent): UDP probes are not compared")
    return facts


@dataclass(frozen=True, slots=True)
class RunningTask:
    """A running task of a deployed service, as the model names it."""

    name: str  # the design's: <service>.<n> (the n-th running task in slot order), global: <service>.<node>
    answer: str  # what its listener answers (its NAME): <service>.<slot>, global: <service>.<node id>
    container: str  # the engine's container id
    host: str  # the design host whose engine runs it ("" when unknown)


def running_tasks(plan: Plan, engine: Engine, engines: Mapping[str, Engine]) -> list[RunningTask]:
    """The running tasks of the plan's services. The model numbers a service's tasks 1..n and
    leaves its pending ones out; the engine may run other slots (with a task pending, slots 2 and
    3 of three), so the n-th running task in slot order is the model's ``<service>.<n>``."""
    nodes = task_nodes(engines)
    out = []
    for svc in plan.services:
        for n, (slot, cid, _, node) in enumerate(sorted(engine.service_tasks(svc.key)), 1):
            host = nodes.get(node, "")
            if svc.global_mode:
                out.append(RunningTask(f"{svc.key}.{host or plan.host}", f"{svc.key}.{node}", cid, host))
            else:
                out.append(RunningTask(f"{svc.key}.{n}", f"{svc.key}.{slot}", cid, host))
    return out


def _task_specs(plan: Plan, tasks: list[RunningTask]) -> list[ContainerSpec]:
    """The running task containers as containers of the plan (the engine names them
    ``<service>.<slot>.<task id>``), on the host that runs them."""
    by_key = {svc.key: svc for svc in plan.services}
    out = []
    for t in tasks:
        svc = by_key[t.name.rsplit(".", 1)[0]]
        out.append(ContainerSpec(key=t.name, name=t.container, image=svc.image, command=svc.command,
                                 network_mode=svc.networks[0] if svc.networks else "",
                                 host="" if t.host == plan.host else t.host))
    return out


def task_nodes(engines: Mapping[str, Engine]) -> dict[str, str]:
    """Swarm node id -> the design host whose engine it is."""
    out = {}
    for host, e in engines.items():
        try:
            node = e.swarm_node_id()
        except (EngineError, AttributeError):
            continue
        if node:
            out[node] = host
    return out


def placed_tasks(design: Design, plan: Plan, engine: Engine, engines: Mapping[str, Engine]) -> dict[str, str]:
    """Task (``<service>.<n>``) -> the design host the swarm's scheduler put it on, for the
    tasks it put elsewhere than the model."""
    return {t.name: t.host for t in running_tasks(plan, engine, engines)
            if t.host and design.has_container(t.name) and design.container(t.name).host != t.host}


def build_guard(facts: Facts, plan: Plan, forbidden: Sequence[IPv4Network | IPv6Network] = (),
                host_local: Sequence[IPv4Network | IPv6Network] = ()) -> ProbeGuard:
    """Allowed: netsim's own networks (both families), the emulated LAN, netsim's addresses on
    shared networks."""
    own = {spec.key for spec in plan.networks}
    networks: list[IPv4Network | IPv6Network] = [s for k, s in facts.subnets.items() if k in own]
    networks += list(facts.extra_subnets) + [s for k, s in facts.subnets6.items() if k in own]
    networks += list(facts.extra_subnets6)
    if facts.lan_ready:
        networks.append(plan.lan.host_address.network)
        if plan.lan.host_address6 is not None:
            networks.append(plan.lan.host_address6.network)
    addresses: set[IPv4Address | IPv6Address] = set()
    for c in facts.containers.values():
        for net, iface in c.addresses.items():
            if net not in own:
                addresses.add(iface.ip)
                if net in facts.gateways:
                    addresses.add(IPv4Address(facts.gateways[net]))
        addresses |= {iface.ip for net, iface in c.addresses6.items() if net not in own}
    return ProbeGuard.build(networks, addresses, forbidden, host_local)


def host_local_routes() -> list[IPv4Network | IPv6Network]:
    """Prefixes this machine routes through anything but its uplink (both families)."""
    uplinks = {lanpeer.uplink_interface("-4"), lanpeer.uplink_interface("-6")} - {None}
    routes: list[tuple[IPv4Network | IPv6Network, str]] = [*lanpeer.host_routes(), *lanpeer.host_routes6()]
    return [route for route, dev in routes if dev not in uplinks]


def host_forbidden(plan: Plan, facts: Facts) -> list[IPv4Network | IPv6Network]:
    """Prefixes routed on this machine through devices netsim did not create (both families)."""
    own_nets: list[IPv4Network | IPv6Network] = [*facts.subnets.values(), plan.lan.host_address.network]
    own_nets += list(facts.subnets6.values())
    if plan.lan.host_address6 is not None:
        own_nets.append(plan.lan.host_address6.network)
    out: list[IPv4Network | IPv6Network] = []
    routes: list[tuple[IPv4Network | IPv6Network, str]] = [*lanpeer.host_routes(), *lanpeer.host_routes6()]
    for route, dev in routes:
        if dev.startswith(plan.lan.host_if) or any(route.version == n.version and route.overlaps(n) for n in own_nets):
            continue
        if route.version == 6 and (route.is_link_local or route.is_multicast):
            continue  # fe80::/64 on every link, ff00::/8: never dialled anyway (the guard refuses them)
        out.append(route)
    return out


def probe_id(i: int) -> str:
    return f"p{i}"


def observe(design: Design, plan: Plan, probes: Sequence[Probe], engine: Engine, facts: Facts,
            guard: ProbeGuard, progress=None, engines: Mapping[str, Engine] | None = None,
            timeout_ms: int = TIMEOUT_MS, dns_timeout: int = DNS_TIMEOUT_S,
            wait_ready: bool = True) -> dict[tuple, Observation]:
    """Dial every probe; one observation per probe key (multi-host: ``engines`` by design host).

    Two phases, each parallel over containers: first every running probe container waits
    until its listeners are bound and reports its gateway and the names its probes use
    (one exec each); then every source dials all its probes (one exec each).  No probe is
    dialled before every target listens (``wait_ready=False``: the sources only, no waiting)."""
    engines = dict(engines or {})
    by_source: dict[str, list[tuple[int, Probe]]] = defaultdict(list)
    for i, p in enumerate(probes):
        by_source[p.source].append((i, p))
    prepared = prepare_containers(design, plan, by_source, engine, facts, engines, dns_timeout, progress, wait_ready)
    results: dict[tuple, Observation] = {}
    if progress is not None:
        progress.start("probing", len(by_source))

    def run(source: str) -> dict[tuple, Observation]:
        try:
            return _observe_source(design, plan, source, by_source[source], engine, facts, guard, engines,
                                   prepared.get(source), timeout_ms)
        except EngineError as exc:
            return {p.key: Observation(p.key, None, "error", detail=str(exc)) for _, p in by_source[source]}
        finally:
            if progress is not None:
                progress.advance()

    with ThreadPoolExecutor(SOURCES_PARALLEL) as pool:
        for part in pool.map(run, list(by_source)):
            results.update(part)
    return results


def prepare_containers(design: Design, plan: Plan, by_source: Mapping[str, list], engine: Engine, facts: Facts,
                       engines: Mapping[str, Engine], dns_timeout: int = DNS_TIMEOUT_S,
                       progress=None, wait_ready: bool = True) -> dict[str, Prepared]:
    """One exec per running probe container: wait for its listeners, read its gateway, look
    up the names its probes dial.  Containers whose listeners never bound are noted."""
    work: list[tuple[str, Engine, str]] = []
    for key, cf in facts.containers.items():
        if cf.status != "running" or not design.has_container(key):
            continue
        container = design.container(key)
        on_extra = plan.extra_host(container.host) is not None
        host_like = _in_host_namespace(design, container)
        if on_extra and host_like and container.host not in facts.isolated:
            continue  # not probed at all (reported as unsafe by _observe_source)
        items = by_source.get(key, ())
        # host-network containers count as the host: their resolver is the machine's
        names, names6 = ([], []) if host_like else dns_names(p for _, p in items)
        protocols = ("tcp", "udp") if facts.udp else ("tcp",)  # without nsagent nothing listens on UDP
        listeners = [(lst.port, proto) for lst in container.listeners
                     if (proto := getattr(lst.protocol, "value", str(lst.protocol))) in protocols] if wait_ready else []
        if not items and not listeners:
            continue
        on = engines.get(container.host, engine) if on_extra else engine
        work.append((key, on, prepare_script(names, listeners, dns_timeout, names6)))
    if progress is not None:
        progress.start("readiness", len(work))

    def run(item) -> tuple[str, Prepared | None]:
        key, on, script = item
        try:
            return key, exec_prepare(on, facts.containers[key].name, script)
        except EngineError:
            return key, None  # reported per probe by _observe_source (its own exec fails the same way)
        finally:
            if progress is not None:
                progress.advance()

    out: dict[str, Prepared] = {}
    with ThreadPoolExecutor(SOURCES_PARALLEL) as pool:
        for key, prep in pool.map(run, work):
            if prep is None:
                continue
            out[key] = prep
            facts.containers[key].gateway = prep.gateway
            if prep.not_ready:
                facts.notes.append(f"{key}: listener(s) {', '.join(prep.not_ready)} still not bound after waiting")
    return out


def exec_prepare(engine: Engine, container: str, script: str) -> Prepared:
    """Run the prepare script until its whole answer arrives (at most EXEC_ATTEMPTS times).
    Shared with ``verify --live`` (simulator/live/live_observe.py)."""
    prep = Prepared(None, (), {}, complete=False)
    for _ in range(EXEC_ATTEMPTS):
        prep = parse_prepared(engine.exec_batch(container, script).output)
        if prep.complete:
            break
    return prep




def exec_dials(engine: Engine, container: str, dials: Sequence[Dial],
               script_for: Callable[[list[Dial]], str]) -> dict[str, DialResult]:
    """Run the framed dial script ``script_for(dials)`` in a container; dials whose result
    line was lost with the end marker are dialled again (at most EXEC_ATTEMPTS execs).
    Shared with ``verify --live``, whose script is its own (``connect_script``)."""
    raw: dict[str, DialResult] = {}
    todo = list(dials)
    for _ in range(EXEC_ATTEMPTS):
        out = engine.exec_batch(container, script_for(todo)).output
        raw.update(parse_results(out))
        todo = [d for d in todo if d.id not in raw]
        if not todo or complete(out):
            break
    return raw


def _exec_dials(engine: Engine, container: str, dials: list[Dial], udp: bool, timeout_ms: int) -> dict[str, DialResult]:
    """Dial from a probe container (``probe_script``)."""
    return exec_dials(engine, container, dials, lambda todo: probe_script(todo, udp, timeout_ms))


def retry_disagreeing(probes: Sequence, observations: dict, redial: Callable[[list], dict]) -> dict:
    """The retry pass of ``verify`` and ``verify --live``: ``redial`` (the same observation
    with the longer timeouts) gets every probe whose first observation timed out (or was
    lost) where the model expects something else (:func:`~simulator.verify.compare.needs_retry`);
    the retried observations carry ``attempts=2``.  Refusals are final, agreeing timeouts
    are not retried, and nothing is dialled when no probe needs it."""
    again = [p for p in probes if needs_retry(p, observations.get(p.key))]
    if not again:
        return observations
    second = redial(again)
    out = dict(observations)
    for p in again:
        if p.key in second:
            out[p.key] = replace(second[p.key], attempts=2)
    return out


def _observe_source(design, plan, source, items, engine, facts, guard, engines=None, prepared: Prepared | None = None,
                    timeout_ms: int = TIMEOUT_MS) -> dict[tuple, Observation]:
    out: dict[tuple, Observation] = {}
    pending: list[tuple[str, int, Probe, str]] = []  # (dial id, index, probe, address)
    container = design.container(source) if design.has_container(source) else None
    cf = facts.containers.get(source) if container else None
    here = plan.host if source == "host" and plan.on_daemons_only else source  # "host": the design's one host
    machine = not plan.on_daemons_only and (
        source == "host" or (container is None and plan.multi_host and source == plan.host))
    host_ns = facts.host_namespaces.get(here) if container is None else None  # an extra host itself
    on_extra = plan.extra_host(container.host if container is not None else here) is not None
    if container is not None and on_extra:
        engine = (engines or {}).get(container.host, engine)

    if container is not None and (cf is None or cf.status != "running"):
        why = ("not deployed here" if source in plan.skipped or cf is None
               else f"probe container {cf.name} is {cf.status} (exit code {cf.exit_code})")
        status = "skipped" if source in plan.skipped else "error"
        return {p.key: Observation(p.key, None, status, detail=f"source {source} {why}") for _, p in items}
    if container is None and not machine and source != "external" and host_ns is None:
        return {p.key: Observation(p.key, None, "skipped", detail=f"source {source}: this host is not deployed")
                for _, p in items}
    if source == "external" and not facts.lan_ready:
        return {p.key: Observation(p.key, None, "skipped", detail="no emulated LAN (needs root and ip netns)")
                for _, p in items}
    src_host = container.host if container is not None else here
    if on_extra and (container is None or _in_host_namespace(design, container)) and src_host not in facts.isolated:
        return {p.key: Observation(p.key, None, "unsafe", detail=f"source {source}: the namespace of host "
                                   f"{src_host} has a default route (or is gone); not probed") for _, p in items}

    prep = Prepared(None, (), {})
    host_like = machine or host_ns is not None or (container is not None and _in_host_namespace(design, container))
    if container is not None:
        assert cf is not None  # a running container's facts (checked above)
        if prepared is None:  # its prepare exec failed: once more, here, so the error is reported per probe
            names, names6 = ([], []) if host_like else dns_names(p for _, p in items)
            prepared = exec_prepare(engine, cf.name, prepare_script(names, names6=names6))
            cf.gateway = prepared.gateway
        prep = prepared
        if not prep.complete:
            return {p.key: Observation(p.key, None, "error", transient=True,
                                       detail=f"the answer of probe container {cf.name} was lost {EXEC_ATTEMPTS} times")
                    for _, p in items}

    for i, p in items:
        addr, obs = _dial_address(design, plan, source, container, p, facts, prep, host_like)
        if obs is not None:
            out[p.key] = obs
            continue
        if p.protocol == "udp" and not facts.udp:  # no UDP listener nor prober in the image
            out[p.key] = Observation(p.key, addr, "unsupported", detail="no UDP helper in the probe image")
            continue
        if p.protocol not in ("tcp", "udp"):
            out[p.key] = Observation(p.key, addr, "unsupported", detail=f"{p.protocol} is not probed")
            continue
        addrs = addresses_to_dial(p, addr, prep.lookup(_family(p))[0].get(p.name, ()) if p.via == "dns" else ())
        try:  # an extra host's namespace has no default route: nothing from it can leave
            for a in addrs:
                guard.check(a, source, host_ns=host_like and not on_extra)
                uplink = None if on_extra or plan.on_daemons_only else facts.leaves_by_uplink(a)
                if uplink is not None:
                    raise UnsafeTarget(f"probe from {source} to {a}: this machine routes it out of {uplink} "
                                       "(ip -6 route get), its uplink; refused")
        except UnsafeTarget as exc:
            out[p.key] = Observation(p.key, addr, "unsafe", detail=str(exc))
            continue
        pending.extend((probe_id(i) + (f"-{k}" if k else ""), i, p, a) for k, a in enumerate(addrs))

    dials = [Dial(dial_id, p.protocol, addr, p.port) for dial_id, _, p, addr in pending]
    if not dials:
        return out
    if container is not None:
        assert cf is not None
        raw = _exec_dials(engine, cf.name, dials, facts.udp, timeout_ms)
    elif machine:
        raw = probe_sockets(dials, timeout_ms / 1000)
    elif host_ns is not None:
        raw = _namespace_dials(host_ns, dials, f"host {source}", timeout_ms)
    else:
        raw = _external_dials(plan, dials, timeout_ms)
    seen: dict[tuple, list[Observation]] = {}
    for dial_id, _, p, addr in pending:
        seen.setdefault(p.key, []).append(facts.named(_observation(p, addr, raw.get(dial_id))))
    for key, found in seen.items():
        out[key] = found[0] if len(found) == 1 else any_answered(found)
    return out


def _family(p) -> int:
    return getattr(p, "family", 4)


def dns_names(probes) -> tuple[list[str], list[str]]:
    """The names a source's dns probes look up: (for A records, for AAAA records)."""
    found: dict[int, set[str]] = {4: set(), 6: set()}
    for p in probes:
        if p.via == "dns" and p.name:
            found[6 if _family(p) == 6 else 4].add(p.name)
    return sorted(found[4]), sorted(found[6])


def addresses_to_dial(p, addr: str, records: Sequence[str]) -> list[str]:
    """Where a probe dials, and how often, so that who answers can be compared with the model's
    ``responders``: a name with several records at each record (the client's pick among them is
    random per query); a virtual IP or a routing-mesh port (IPVS picks round robin) twice per
    responder the model expects; anything else once."""
    balanced = getattr(p, "balanced_by", None)
    if balanced == "dns" and len(records) > 1:
        return list(records)
    if balanced in ("vip", "ingress") and p.responders:
        return [addr] * (2 * len(p.responders))
    return [addr]


def any_answered(found: list[Observation]) -> Observation:
    """One observation of a name with several records, each address dialled: the first that
    answered (with everyone who answered), else the first address's."""
    answered = [o for o in found if o.reachable]
    if not answered:
        return replace(found[0], transient=any(o.transient for o in found))
    who = tuple(sorted({o.responder for o in answered if o.responder}))
    return replace(answered[0], responders=who, transient=False,
                   detail=f"{len(answered)} of {len(found)} addresses answered")


def _dial_address(design, plan, source, container, p, facts: Facts, prep: Prepared, host_like: bool):
    """(address, None) to dial, or (None|address, Observation) when there is nothing to dial."""
    key = p.key
    family = _family(p)
    if family == 6 and p.via == "host":
        return _host_address6(plan, source, container, p, facts, host_like, prep)
    if p.via == "ip":
        if p.target in plan.skipped:
            return None, Observation(key, None, "skipped", detail=f"target {p.target} not deployed here")
        iface = facts.addresses_of(p.target, family).get(p.network)
        if iface is None:
            return None, Observation(key, None, "no-address", detail=f"{p.target} has no {'IPv6 ' if family == 6 else ''}"
                                     f"address on {p.network} in the deployment")
        if source == "external" and family == 4 and (
                other := _peer_routes_elsewhere(design, facts, p.target, IPv4Address(str(iface.ip)))):
            return None, Observation(key, None, "skipped", detail=other)
        return str(iface.ip), None
    if p.via == "dns":
        if container is None or host_like:
            return None, Observation(key, None, "skipped",
                                     detail="names are not looked up from the host or the LAN (the machine's resolver is off limits)")
        if prep.note:
            return None, Observation(key, None, "skipped", detail=prep.note)
        names, timeouts, nxdomain = prep.lookup(family)
        record = "AAAA" if family == 6 else "A"
        found = names.get(p.name, ())
        if not found and p.name in timeouts:
            return None, Observation(key, None, "unresolved", transient=True,
                                     detail=f"{p.name}: no DNS answer ({record}) in time in {source}")
        if not found:
            why = "NXDOMAIN" if p.name in nxdomain else f"no {record} record"
            return None, Observation(key, None, "unresolved", detail=f"{p.name} did not resolve in {source} ({why})")
        return found[0], None
    if p.via == "host":
        if source == "external":
            return str(facts.lan_hosts.get(getattr(p, "host", None) or "", facts.lan_host).ip), None
        if source == "host" or host_like:
            return LOCALHOST, None
        if container.mode.kind is ModeKind.NONE:
            return None, Observation(key, None, "no-address", detail="network mode none: no gateway to dial")
        if prep.gateway:
            return prep.gateway, None
        if _macvlan_only(design, container):
            return str(facts.lan_hosts.get(container.host, facts.lan_host).ip), None
        return None, Observation(key, None, "no-address", detail=f"{source} has no default route")
    return None, Observation(key, None, "skipped", detail=f"unknown probe kind via {p.via!r}")


def _host_address6(plan, source, container, p, facts: Facts, host_like: bool, prep: Prepared):
    """A family-6 ``via host`` probe's address: ``::1`` from the host itself (and what shares its
    namespace), else the host's IPv6 LAN address (``lan_address6``), from its containers and the LAN
    peer alike; a container whose host has none dials its IPv6 default gateway."""
    if source == "host" or (host_like and source != "external"):
        return "::1", None
    if container is not None and container.mode.kind is ModeKind.NONE:
        return None, Observation(p.key, None, "no-address", detail="network mode none: no route to the host")
    host = (getattr(p, "host", None) or plan.host) if source == "external" or container is None else container.host
    lan6 = facts.lan_hosts6.get(host or "")
    if lan6 is not None:
        return str(lan6.ip), None
    if container is not None and prep.gateway6:
        return prep.gateway6, None
    return None, Observation(p.key, None, "no-address", detail=f"host {host} has no IPv6 LAN address (lan_address6)"
                             + (f" and {source} no IPv6 default route" if container is not None else ""))


def _peer_routes_elsewhere(design: Design, facts: Facts, target: str, address: IPv4Address) -> str | None:
    """Why the LAN peer cannot dial ``target`` at ``address`` as the model does, if it cannot: the
    subnet is on several hosts (docker_gwbridge, a default bridge), the peer holds one route for
    it, through another host, where the model's peer routes each address through its own host."""
    via = facts.peer_gateway(str(address))
    host = design.container(target).host if design.has_container(target) else None
    mine = facts.lan_hosts.get(host or "")
    if via is None or mine is None or via == mine.ip:
        return None
    other = next((h for h, a in facts.lan_hosts.items() if a.ip == via), str(via))
    return (f"the LAN peer routes {address}'s subnet through host {other} only (one route per prefix, and the "
            f"subnet is on several hosts); the model's peer routes it through {target}'s host {host}")


def _in_host_namespace(design: Design, container) -> bool:
    """Host mode, or container:X down a chain ending at a host-mode container."""
    owner = design.namespace_owner(container.name)
    return owner is not None and design.container(owner).mode.kind is ModeKind.HOST


def _macvlan_only(design: Design, container) -> bool:
    nets = [design.network(a.network) for a in container.attachments if design.has_network(a.network)]
    return bool(nets) and all(n.driver in (Driver.MACVLAN, Driver.IPVLAN) for n in nets)


def _observation(p, addr: str, r: DialResult | None) -> Observation:
    if r is None:
        return Observation(p.key, addr, "error", detail="the prober printed no result", transient=True)
    status = {"OK": "answered", "REFUSED": "refused", "TIMEOUT": "timeout", "EMPTY": "empty",
              "UNSUPPORTED": "unsupported"}.get(r.status, "error")
    if r.status == "ERR" and any(w in r.answer.lower() for w in ("unreachable", "no route")):
        status = "no-route"  # ICMP unreachable: final
    return Observation(p.key, addr, status, r.responder, r.answer, transient=status == "timeout")


def _external_dials(plan: Plan, dials: list[Dial], timeout_ms: int = TIMEOUT_MS) -> dict[str, DialResult]:
    return _namespace_dials(plan.lan.namespace, dials, "the LAN peer", timeout_ms)


def _namespace_dials(namespace: str, dials: list[Dial], who: str, timeout_ms: int = TIMEOUT_MS) -> dict[str, DialResult]:
    """Run the Python prober inside a network namespace (the LAN peer, an extra host)."""
    code = (f"import sys; sys.path.insert(0, {PACKAGE_ROOT!r}); "
            "from simulator.adapters.probe_agent import main; main()")
    payload = json.dumps([[d.id, d.protocol, d.address, d.port] for d in dials])
    proc = lanpeer.run_in_namespace(namespace, [sys.executable, "-c", code, str(int(timeout_ms))], input=payload)
    if proc.returncode != 0:
        raise EngineError(f"{who}'s prober failed: {proc.stderr.strip()[-300:]}")
    return parse_results(proc.stdout)
