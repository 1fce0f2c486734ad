"""Execute a :class:`~simulator.deploy.plan.Plan` through an engine, and undo it by label.

``apply`` is all-or-nothing: on any failure, Ctrl-C or SIGTERM it removes what it
created (by label), then re-raises.  ``destroy`` removes exactly the objects carrying the
design's labels, the LAN namespace and veth, and the swarm when netsim initialised it.

Multi-host designs: ``apply`` also starts one extra daemon per further host
(:mod:`simulator.adapters.extra_daemon`, recorded before it starts), joins them to the
swarm and deploys each host's part on its own engine; ``destroy`` finds those daemons by
their records, removes the labelled objects on every engine, has every worker leave the
swarm, stops the daemons and removes their roots and namespaces, then returns this
machine's engine to how it was found (swarm left, docker_gwbridge removed when netsim's).

An engine built from source (:attr:`Plan.on_daemons_only`, ``--dockerd``): every host is an
extra daemon, the first one the swarm manager; this machine's engine is not used (``engine``
may be None), except as the source of a ``--probe-image`` that is copied into each daemon
(``image_source``; netsim's default image is imported into each daemon directly).
"""

from __future__ import annotations

import signal
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from functools import partial
from ipaddress import IPv4Address, IPv4Interface, IPv4Network, IPv6Address, IPv6Network, ip_network
from typing import Protocol

from ..adapters import extra_daemon, lanpeer
from ..adapters.engine import (
    LABEL_DESIGN,
    LABEL_MANAGED,
    LABEL_NETWORK,
    LABEL_SWARM,
    Engine,
    EngineObject,
    NetworkSpec,
    design_labels,
)
from ..errors import DeployRefused, EngineError, EngineUnavailable
from ..model import KernelFeatures
from .plan import DEFAULT_BRIDGE, LanSpec, Plan, lan_names

PARALLEL = 12
GWBRIDGE = "docker_gwbridge"
LABEL_GWBRIDGE = "netsim.gwbridge-preexisting"


class Progress(Protocol):
    def start(self, phase: str, total: int) -> None: ...

    def advance(self, n: int = 1) -> None: ...


class NoProgress:
    def start(self, phase: str, total: int) -> None:
        pass

    def advance(self, n: int = 1) -> None:
        pass


class LanOps(Protocol):
    """The LAN emulation operations (lanpeer in production, a fake in unit tests)."""

    def unavailable_reason(self) -> str | None: ...

    def setup(self, lan: LanSpec) -> None: ...

    def add_routes(self, lan: LanSpec, subnets: Sequence[IPv4Network | IPv6Network | tuple[
            IPv4Network | IPv6Network, IPv4Address | IPv6Address]]) -> None: ...

    def teardown(self, lan: LanSpec) -> list[str]: ...

    def host_routes(self) -> list[tuple[IPv4Network, str]]: ...

    def host_routes6(self) -> list[tuple[IPv6Network, str]]: ...

    def kernel_capabilities(self) -> KernelFeatures: ...

    def remove_stale_guards(self) -> int: ...

    def hold_ipv6(self, design: str) -> list[str]:
        """Before the design's first IPv6 network on this machine's engine (forwarding record, MLD drops)."""

    def release_ipv6(self, design: str) -> list[str]:
        """After its last one is removed: the last holder puts forwarding back."""

    def settle_ipv6(self, namespace: str | None = None) -> list[str]:
        """Wait until no IPv6 address of a namespace (None: this machine's) is tentative; those still so."""


class DaemonOps(Protocol):
    """The extra daemons of multi-host designs (extra_daemon in production, a fake in unit tests)."""

    def unavailable_reason(self, binaries=None) -> str | None: ...

    def start(self, spec, lan_namespace: str, lan_bridge: str) -> Engine: ...

    def discover(self, design: str) -> list: ...

    def connect(self, spec) -> Engine | None: ...

    def stop(self, spec) -> list[str]: ...


@dataclass
class Deployment:
    """What apply() created and learnt."""

    plan: Plan
    network_ids: dict[str, str] = field(default_factory=dict)  # design key (@host on extra hosts) -> id
    container_ids: dict[str, str] = field(default_factory=dict)  # design key -> id
    lan_ready: bool = False
    swarm_initialised: bool = False
    notes: list[str] = field(default_factory=list)
    engines: dict[str, Engine] = field(default_factory=dict)  # design host -> its engine (multi-host)

    def engine_of(self, host: str, default: Engine) -> Engine:
        return self.engines.get(host, default) if host else default


def engines_of(plan: Plan, engine: Engine | None, daemon_ops: DaemonOps | None = None) -> dict[str, Engine]:
    """The engines of a deployed design: this machine's (unless ``None``), and each running extra daemon's."""
    daemon_ops = daemon_ops or extra_daemon
    out = {plan.host: engine} if engine is not None else {}
    for spec in plan.extra_hosts:
        found = daemon_ops.connect(spec)
        if found is not None:
            out[spec.host] = found
    return out


@contextmanager
def sigterm_as_interrupt() -> Iterator[None]:
    """Turn SIGTERM into KeyboardInterrupt so every finally block runs (main thread only)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum, frame):
        raise KeyboardInterrupt("SIGTERM")

    previous = signal.signal(signal.SIGTERM, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def conflicts(plan: Plan, engine_networks: Sequence[EngineObject], routes: Sequence[tuple[IPv4Network, str]],
              routes6: Sequence[tuple[IPv6Network, str]] = ()) -> list[str]:
    """Every subnet of the plan overlapping a foreign engine network or a host route (pure); an
    IPv6 subnet (or the emulated LAN's IPv6 prefix) overlapping an IPv6 route of this machine,
    its uplink's prefix say, too."""
    problems: list[str] = []
    foreign = [n for n in engine_networks if n.labels.get("netsim.design") != plan.design]
    here = [n for n in plan.networks if n.host in ("", plan.host)]  # extra hosts are namespaces of their own
    wanted = [(f"network {n.name}", IPv4Network(n.subnet, strict=False), n.driver) for n in here if n.subnet]
    lan_net = plan.lan.host_address.network
    for what, subnet, driver in wanted + [(f"the emulated LAN of host ({plan.lan.host_address})", lan_net, "lan")]:
        for other in foreign:
            for s in other.subnets:
                if subnet.overlaps(IPv4Network(s, strict=False)):
                    problems.append(f"{what} subnet {subnet} overlaps engine network {other.name} ({s})")
        if driver == "macvlan" and subnet.overlaps(lan_net):
            continue  # macvlan on the emulated LAN shares its subnet by design
        for route, dev in routes:
            if subnet.overlaps(route):
                problems.append(f"{what} subnet {subnet} overlaps route {route} dev {dev} on this machine")
    wanted6 = [(f"network {n.name}", IPv6Network(n.subnet6, strict=False)) for n in here if n.enable_ipv6 and n.subnet6]
    if plan.lan.host_address6 is not None and plan.lan.machine_port:
        wanted6.append((f"the emulated LAN of host ({plan.lan.host_address6})", plan.lan.host_address6.network))
    for what, subnet6 in wanted6:
        for route6, dev in routes6:
            if route6.is_link_local or route6.is_multicast or dev.startswith(plan.lan.host_if):
                continue
            if subnet6.overlaps(route6):
                problems.append(f"{what} IPv6 subnet {subnet6} overlaps route {route6} dev {dev} on this machine")
    return problems


def apply(plan: Plan, engine: Engine | None, lan_ops: LanOps = lanpeer, progress: Progress | None = None,
          build_image: bool = True, daemon_ops: DaemonOps | None = None,
          image_source: Engine | None = None) -> Deployment:
    """Create everything in the plan; on any failure remove it all again and re-raise.

    ``engine``: this machine's engine (None: every host is a daemon, :attr:`Plan.on_daemons_only`);
    ``image_source``: the engine a non-default probe image is copied from into those daemons."""
    progress = progress or NoProgress()
    daemon_ops = daemon_ops or extra_daemon
    own = plan.on_daemons_only
    if engine is None and not own:
        raise DeployRefused(f"design {plan.design!r}: no engine to deploy it on")
    dep = Deployment(plan, engines={plan.host: engine} if engine is not None and not own else {})
    previous = destroy(plan.design, None if own else engine, lan_ops, daemon_ops)
    if previous:
        dep.notes.append("replaced the previous deployment: removed " + ", ".join(previous))
    if plan.multi_host:
        _refuse_multi_host(plan, engine, lan_ops, daemon_ops)
    if not own:
        assert engine is not None
        _refuse_foreign_names(plan, engine)
        problems = conflicts(plan, engine.list_networks(), lan_ops.host_routes(), lan_ops.host_routes6())
        if problems:
            raise DeployRefused("refusing to deploy, subnets overlap:\n  " + "\n  ".join(problems))
        dep.notes.extend(_ensure_image(engine, plan.image, build_image, progress))
    try:
        if plan.multi_host:
            _create_multi_host(plan, engine, lan_ops, daemon_ops, dep, progress, build_image, image_source)
        else:
            assert engine is not None
            _create_all(plan, engine, lan_ops, dep, progress)
    except BaseException as exc:
        removed = destroy(plan.design, None if own else engine, lan_ops, daemon_ops)
        note = f"deploy failed ({type(exc).__name__}: {exc}); cleaned up {len(removed)} object(s)"
        if isinstance(exc, Exception) and not isinstance(exc, EngineError):
            raise EngineError(note) from exc
        if isinstance(exc, EngineError):
            raise type(exc)(f"{exc}\n{note}") from exc
        raise
    return dep


def _ensure_image(engine: Engine, image: str, build: bool, progress: Progress, where: str = "",
                  phase: bool = True) -> tuple[str, ...]:
    """The probe image on the engine; when it has to be built, say so while it is (a phase of
    its own, and a note for progress printers that take notes)."""
    needs = getattr(engine, "image_needs_build", None)
    if not build or needs is None or not needs(image):
        return engine.ensure_image(image, build_default=build)
    note = getattr(progress, "note", None)
    if note is not None:
        note(f"building the probe image {image}{where} (once per engine, a few seconds) ...")
    if phase:
        progress.start("probe image", 1)
    notes = engine.ensure_image(image, build_default=build)
    if phase:
        progress.advance()
    return notes


def _refuse_multi_host(plan: Plan, engine: Engine | None, lan_ops: LanOps, daemon_ops: DaemonOps) -> None:
    if plan.on_daemons_only:
        binaries = plan.extra_hosts[0].binaries
        for reason in (daemon_ops.unavailable_reason(binaries), lan_ops.unavailable_reason()):
            if reason is not None:
                raise DeployRefused(f"design {plan.design!r}: each host runs as a Docker daemon started from "
                                    f"{binaries.dockerd if binaries else 'dockerd'} on the emulated LAN, which "
                                    f"can't be done here: {reason}")
        return  # fresh daemons: no swarm of this machine's engine is involved
    hosts = ", ".join([plan.host] + [h.host for h in plan.extra_hosts])
    for reason in (daemon_ops.unavailable_reason(), lan_ops.unavailable_reason()):
        if reason is not None:
            raise DeployRefused(f"design {plan.design!r} has several hosts ({hosts}), each run as its own "
                                f"Docker daemon on the emulated LAN, which can't be done here: {reason}")
    assert engine is not None
    if plan.swarm:
        state = engine.swarm_state()
        if state.active:
            owner = state.labels.get(LABEL_SWARM)
            whose = f"netsim initialised it for design {owner!r}" if owner else "netsim did not create it"
            raise DeployRefused(
                f"design {plan.design!r} spans hosts {hosts} with an overlay, which needs a swarm netsim "
                f"initialises on this machine's engine with the LAN address {plan.swarm_advertise}; the engine "
                f"is already in a swarm ({whose}): leave it (`docker swarm leave`) or destroy that design first")


def _refuse_foreign_names(plan: Plan, engine: Engine) -> None:
    taken = []
    here = [n for n in plan.networks if n.host in ("", plan.host)]
    for kind, specs in (("network", here), ("container", [c for c in plan.containers if c.host in ("", plan.host)])):
        for spec in specs:
            obj = engine.find(kind, spec.name)
            if obj is not None:
                owner = obj.labels.get("netsim.design")
                taken.append(f"{kind} {spec.name} already exists"
                             + (f" (netsim design {owner!r})" if owner else " (not created by netsim)"))
    if taken:
        raise DeployRefused("refusing to deploy, names in use:\n  " + "\n  ".join(taken)
                            + "\nremove them or rename in the design; netsim never touches foreign objects")


def _create_all(plan: Plan, engine: Engine, lan_ops: LanOps, dep: Deployment, progress: Progress) -> None:
    reason = lan_ops.unavailable_reason()
    if reason is None:
        progress.start("LAN", 1)
        lan_ops.setup(plan.lan)
        dep.lan_ready = True
        progress.advance()
    elif any(n.driver == "macvlan" for n in plan.networks):
        raise DeployRefused(f"macvlan networks need the emulated LAN, which can't be created: {reason}")
    else:
        dep.notes.append(f"no emulated LAN ({reason}): the external vantage point is skipped")

    if plan.swarm:
        state = engine.swarm_state()
        if not state.active:
            had_gwbridge = engine.find("network", GWBRIDGE) is not None
            engine.swarm_init("127.0.0.1", {LABEL_SWARM: plan.design, LABEL_GWBRIDGE: "1" if had_gwbridge else "0"})
            dep.swarm_initialised = True
            dep.notes.append("initialised a single-node swarm (left again on destroy)")

    _hold_ipv6(plan, lan_ops, dep)
    progress.start("networks", len(plan.networks))
    for spec in plan.networks:
        dep.network_ids[spec.key] = engine.create_network(spec)
        progress.advance()

    progress.start("containers", 2 * len(plan.containers))
    joined = dict(plan.joins)
    owners = [c for c in plan.containers if c.key not in joined]
    joiners = [c for c in plan.containers if c.key in joined]  # in start order: each after its owner
    _parallel([partial(_create, engine, s, dep, progress) for s in owners])
    for joiner in joiners:  # need their owner to exist
        _create(engine, joiner, dep, progress)
    _start_in_order(plan, engine, dep, progress)
    _create_services(plan, engine, progress)
    _settle_ipv6(plan, lan_ops, dep, [None])

    if dep.lan_ready:
        subnets = []
        for step in plan.steps:
            if step.kind == "routes":
                for name in step.items:
                    try:
                        subnets += [ip_network(s) for s in _subnets(engine, name, plan.lan.host_address6 is not None)]
                    except EngineError:
                        dep.notes.append(f"LAN peer: no route to {name} (the engine has no such network)")
        lan_ops.add_routes(plan.lan, subnets)


SERVICE_WAIT_S = 90.0  # a service's tasks start within a few seconds; a busy machine takes longer


def _create_services(plan: Plan, engine: Engine, progress: Progress, engines: dict[str, Engine] | None = None) -> None:
    """Each service in turn, waiting until its tasks run (so that the next one's addresses come
    after, as the model hands them out); first the nodes get the design hosts' labels, and a
    ``node.hostname`` constraint names the node of that design host."""
    if not plan.services:
        return
    nodes = {host: e.swarm_node_id() for host, e in {plan.host: engine, **(engines or {})}.items()}
    if engine.swarm_state().labels.get(LABEL_SWARM) == plan.design:  # only a swarm netsim made for the design
        for host, labels in plan.node_labels:
            if nodes.get(host):
                engine.label_node(nodes[host], dict(labels))
    progress.start("services", len(plan.services))
    for spec in plan.services:
        spec = replace(spec, constraints=tuple(_on_node(c, nodes) for c in spec.constraints))
        engine.create_service(spec)
        deadline = time.monotonic() + SERVICE_WAIT_S
        while True:
            running = [t for t in engine.service_tasks(spec.key) if t[2] == "running"]  # (slot, id, state, node)
            if len(running) >= spec.replicas - spec.pending:  # the pending ones stay pending, as the design says
                break
            if time.monotonic() > deadline:
                raise EngineError(f"service {spec.key}: {len(running)} of {spec.replicas - spec.pending} task(s) running after "
                                  f"{SERVICE_WAIT_S:.0f} s")
            time.sleep(0.5)
        progress.advance()


def _on_node(constraint: str, nodes: dict[str, str]) -> str:
    """``node.hostname == H`` of a design host: ``node.id == <its node's id>`` (every daemon here has
    this machine's host name); any other constraint as written."""
    what, op, value = constraint.split(" ", 2)
    return f"node.id {op} {nodes[value]}" if what == "node.hostname" and nodes.get(value) else constraint


def _create_multi_host(plan: Plan, machine: Engine | None, lan_ops: LanOps, daemon_ops: DaemonOps,
                       dep: Deployment, progress: Progress, build_image: bool,
                       image_source: Engine | None = None) -> None:
    """The LAN bridge, one extra daemon per further host (every host: an engine built from
    source), the swarm, then each host's part on its own engine (overlays on the manager),
    then the LAN peer's routes."""
    progress.start("LAN+hosts", 1 + len(plan.extra_hosts))
    lan_ops.setup(plan.lan)
    dep.lan_ready = True
    progress.advance()

    lan_bridge = plan.lan.bridge
    assert lan_bridge is not None, "a multi-host plan has a LAN bridge"

    def boot(spec: extra_daemon.DaemonSpec) -> None:
        started = daemon_ops.start(spec, plan.lan.namespace, lan_bridge)
        dep.engines[spec.host] = started
        if image_source is not None and not build_image:
            dep.notes.extend(extra_daemon.copy_image(image_source, started, plan.image))
        try:
            notes = _ensure_image(started, plan.image, build_image, progress, f" on host {spec.host}", phase=False)
        except EngineUnavailable as exc:
            raise EngineUnavailable(f"host {spec.host} (extra daemon): {exc}") from exc
        dep.notes.extend(f"host {spec.host}: {n}" for n in notes)
        progress.advance()

    _parallel([partial(boot, s) for s in plan.extra_hosts])
    dep.notes.append("started " + ", ".join(f"host {h.host} as {_dockerd_of(h)} in namespace {h.namespace}"
                                           for h in plan.extra_hosts))
    engine = dep.engines[plan.host] if plan.on_daemons_only else machine
    assert engine is not None
    workers = [h for h in plan.extra_hosts if h.host != plan.host]

    if plan.swarm:
        existing = engine.find("network", GWBRIDGE)
        had_gwbridge = existing is not None
        if plan.gwbridge_subnet and existing is None:
            _pin_gwbridge(plan, engine, lan_ops, dep)
        elif plan.gwbridge_subnet and existing is not None and plan.gwbridge_subnet not in existing.subnets:
            dep.notes.append(f"host {plan.host}: {GWBRIDGE} was there already with {', '.join(existing.subnets) or 'no subnet'}, "
                             f"where the model has a fresh daemon's {plan.gwbridge_subnet}: the overlay containers' "
                             f"{GWBRIDGE} addresses on this host, and the LAN peer's route to them, differ from the model")
        engine.swarm_init(plan.swarm_advertise, {LABEL_SWARM: plan.design, LABEL_GWBRIDGE: "1" if had_gwbridge else "0"})
        dep.swarm_initialised = True
        token = engine.swarm_join_token()
        for spec in workers:
            dep.engines[spec.host].swarm_join(str(spec.lan_address.ip), plan.swarm_advertise, token)
        dep.notes.append(f"initialised a swarm on host {plan.host} (advertise {plan.swarm_advertise}); "
                         + ", ".join(h.host for h in workers) + " joined as worker(s); left again on destroy")

    if not plan.on_daemons_only:
        _hold_ipv6(plan, lan_ops, dep)
    progress.start("networks", len(plan.networks))
    for net_spec in plan.networks:
        key = net_spec.key if net_spec.host in ("", plan.host) else f"{net_spec.key}@{net_spec.host}"
        dep.network_ids[key] = dep.engine_of(net_spec.host, engine).create_network(net_spec)
        progress.advance()

    progress.start("containers", 2 * len(plan.containers))
    joined = dict(plan.joins)
    owners = [c for c in plan.containers if c.key not in joined]
    joiners = [c for c in plan.containers if c.key in joined]  # in start order: each after its owner
    _parallel([partial(_create, dep.engine_of(s.host, engine), s, dep, progress) for s in owners])
    for joiner in joiners:
        _create(dep.engine_of(joiner.host, engine), joiner, dep, progress)
    _start_in_order(plan, engine, dep, progress)
    _create_services(plan, engine, progress, dep.engines)  # on the manager
    _settle_ipv6(plan, lan_ops, dep, ([] if plan.on_daemons_only else [None]) + [h.namespace for h in plan.extra_hosts])

    via: dict[str, IPv4Address | IPv6Address] = {plan.host: plan.lan.host_address.ip}
    via |= {h.host: h.lan_address.ip for h in plan.extra_hosts}
    via6 = {h.host: h.lan_address6.ip for h in plan.extra_hosts if h.lan_address6 is not None}
    if plan.lan.host_address6 is not None and plan.lan.machine_port:
        via6[plan.host] = plan.lan.host_address6.ip
    routed: list[IPv4Network | IPv6Network] = []
    routes: list[IPv4Network | IPv6Network | tuple[IPv4Network | IPv6Network, IPv4Address | IPv6Address]] = []
    for host, name in plan.peer_routes:  # the model's order: the first host wins a shared subnet
        try:
            subnets = _subnets(dep.engine_of(host, engine), name, host in via6)
        except EngineError:
            dep.notes.append(f"LAN peer: no route to {name} on host {host} (the engine has no such network)")
            continue
        for s in subnets:
            subnet = ip_network(s)
            if any(subnet.version == r.version and subnet.overlaps(r) for r in routed):
                continue
            routed.append(subnet)
            routes.append((subnet, via6[host] if subnet.version == 6 else via[host]))
    lan_ops.add_routes(plan.lan, routes)


def _dockerd_of(spec: extra_daemon.DaemonSpec) -> str:
    return spec.binaries.dockerd if spec.binaries is not None else "dockerd"


def _pin_gwbridge(plan: Plan, engine: Engine, lan_ops: LanOps, dep: Deployment) -> None:
    """Create docker_gwbridge with the subnet a fresh daemon would give it (the model's):
    this machine's engine hands out pools serially over its lifetime (confirmed-rules 13a),
    the design's hosts are fresh.  Options as the engine sets them; labelled as netsim's."""
    subnet = IPv4Network(plan.gwbridge_subnet)
    clash = [f"engine network {n.name}" for n in engine.list_networks()
             if any(subnet.overlaps(IPv4Network(s, strict=False)) for s in n.subnets)]
    clash += [f"route {r} dev {d}" for r, d in lan_ops.host_routes() if subnet.overlaps(r)]
    if clash:
        dep.notes.append(f"{GWBRIDGE} left to the engine: {subnet} (a fresh daemon's choice) overlaps "
                         + ", ".join(clash))
        return
    labels = dict(plan.labels) | {LABEL_NETWORK: GWBRIDGE}
    engine.create_network(NetworkSpec(
        key=GWBRIDGE, name=GWBRIDGE, driver="bridge", subnet=str(subnet), gateway=str(subnet.network_address + 1),
        options=(("com.docker.network.bridge.enable_icc", "false"),
                 ("com.docker.network.bridge.enable_ip_masquerade", "true"),
                 ("com.docker.network.bridge.name", GWBRIDGE)),
        labels=tuple(sorted(labels.items())), host=plan.host))
    dep.notes.append(f"host {plan.host}: created {GWBRIDGE} {subnet} (as a fresh daemon would; removed on destroy)")


def _subnets(engine: Engine, network: str, ipv6: bool = False) -> list[str]:
    """A network's IPv4 subnets as the engine has them, and with ``ipv6`` its IPv6 ones (when
    IPv6 is enabled on it: an IPv6 subnet without it is listed but unused, confirmed-rules §18a)."""
    found = engine.inspect_network(network)
    configs = ((found.get("IPAM") or {}).get("Config")) or []
    return [c["Subnet"] for c in configs if c.get("Subnet") and (
        ":" not in c["Subnet"] or (ipv6 and found.get("EnableIPv6")))]


def _settle_ipv6(plan: Plan, lan_ops: LanOps, dep: Deployment, namespaces: list[str | None]) -> None:
    """With IPv6 networks: wait until the bridges' IPv6 addresses are usable (no longer tentative)."""
    if not any(n.enable_ipv6 for n in plan.networks):
        return
    for ns in namespaces:
        left = lan_ops.settle_ipv6(ns)
        if left:
            dep.notes.append("IPv6 address(es) still tentative (duplicate address detection) after waiting: "
                             + ", ".join(left[:5]))


def _hold_ipv6(plan: Plan, lan_ops: LanOps, dep: Deployment) -> None:
    """Before the first IPv6 network on this machine's engine (see :mod:`simulator.adapters.ipv6_guard`)."""
    if any(n.enable_ipv6 and n.host in ("", plan.host) for n in plan.networks):
        dep.notes.extend(lan_ops.hold_ipv6(plan.design))


def _create(engine: Engine, spec, dep: Deployment, progress: Progress) -> None:
    dep.container_ids[spec.key] = engine.create_container(spec)
    progress.advance()


def _start_in_order(plan: Plan, engine: Engine, dep: Deployment, progress: Progress) -> None:
    """Start containers concurrently, but each after every earlier container sharing a
    network with it (so each network hands out addresses in plan order) and after the
    owner of its namespace."""
    specs = {c.key: c for c in plan.containers}
    joined = dict(plan.joins)
    futures: dict[str, Future] = {}

    def deps_of(i: int, key: str) -> list[str]:
        mine = {e.network for e in specs[key].endpoints}
        return [earlier for earlier in plan.start_order[:i]
                if mine & {e.network for e in specs[earlier].endpoints} or joined.get(key) == earlier]

    def start(key: str, waits: list[str]) -> None:
        for w in waits:
            futures[w].result()
        start_when_known(dep.engine_of(specs[key].host, engine), dep.container_ids[key])
        progress.advance()

    with ThreadPoolExecutor(PARALLEL) as pool:
        for i, key in enumerate(plan.start_order):
            futures[key] = pool.submit(start, key, deps_of(i, key))
        errors = [exc for f in futures.values() if (exc := f.exception()) is not None]
    if errors:
        raise errors[0]


NETWORK_FREE_S = 30.0  # how long a network may take to be free after its containers or tasks went
GWBRIDGE_SETTLE_S = 15.0  # the ingress sandbox's endpoint goes a moment after the swarm is left
NETWORK_SETTLE_S = 10.0  # a swarm network just created reaches a daemon's view within a few seconds


def start_when_known(engine: Engine, cid: str, settle_s: float = NETWORK_SETTLE_S) -> None:
    """Start a container; while its daemon does not know a network just created in the swarm yet
    (seen on 29.7.2 with an attachable overlay on a fresh swarm: "could not find a network matching
    network mode frontend: network frontend not found"), try again for ``settle_s``."""
    deadline = time.monotonic() + settle_s
    while True:
        try:
            engine.start(cid)
            return
        except EngineError as exc:
            text = str(exc)
            if not ("network" in text and "not found" in text) or time.monotonic() >= deadline:
                raise
            time.sleep(0.5)


def _parallel(tasks: list[Callable[[], None]]) -> None:
    if not tasks:
        return
    with ThreadPoolExecutor(min(PARALLEL, len(tasks))) as pool:
        futures = [pool.submit(t) for t in tasks]
        errors = [exc for f in futures if (exc := f.exception()) is not None]
    if errors:
        raise errors[0]


def _overlays_left(engine: Engine, design_name: str, wait_s: float = 15.0) -> list[EngineObject]:
    """netsim's overlays still on the engine; one of this design, removed, can linger a few seconds
    while the swarm lets go of its tasks' endpoints, so wait that long for those to go."""
    deadline = time.monotonic() + wait_s
    while True:
        still = [o for o in engine.list_by_label({LABEL_MANAGED: "1"}) if o.kind == "network" and o.driver == "overlay"]
        if all(o.labels.get(LABEL_DESIGN) != design_name for o in still) or time.monotonic() > deadline:
            return still
        time.sleep(0.5)


def _remove_kind(engines, labelled, kind: str, failures: list[str]) -> list[str]:
    """Every labelled object of one kind, one at a time; what went (failures added to ``failures``)."""
    removed = []
    for where, e in engines:
        for o in (o for o in labelled[id(e)] if o.kind == kind):
            try:
                e.remove(o)
                removed.append(f"{where}{kind} {o.name}")
            except EngineError as exc:
                failures.append(where + str(exc))
    return removed


def _remove_services(engines, labelled, failures: list[str], design_name: str) -> list[str]:
    """The design's swarm services, then their tasks' containers one at a time (their networks can
    only go after them): the swarm would stop every task of a removed service at once, and tasks
    letting go of the same networks together is the concurrent removal of docs/confirmed-rules.md §13c;
    what the swarm then finds gone it lets be."""
    removed = _remove_kind(engines, labelled, "service", failures)
    deadline = time.monotonic() + SERVICE_WAIT_S
    while time.monotonic() < deadline:
        left = [(e, o) for _, e in engines for o in e.list_by_label(design_labels(design_name))
                if o.kind == "container" and "com.docker.swarm.service.name" in o.labels]
        if not left:
            break
        for e, o in left:
            try:
                e.remove(o)
            except EngineError:
                pass  # the swarm removed it meanwhile; what stays is listed again
        time.sleep(0.25)
    return removed


def _endpoints_released(engines, labelled, wait_s: float = NETWORK_FREE_S) -> None:
    """Wait until the design's overlays hold no endpoint and docker_gwbridge none but the ingress
    sandbox's: the swarm lets go of a removed container's overlay attachment (and with the last one,
    of the overlay's load balancer) a moment after the container is gone, and removing the overlay
    or leaving the swarm meanwhile races with it. docker_gwbridge is looked at only where netsim
    made the swarm (a swarm of the user's keeps its own tasks there). Past ``wait_s`` the removal
    goes on regardless."""
    deadline = time.monotonic() + wait_s
    for where, e in engines:
        networks = [o.id for o in labelled[id(e)] if o.kind == "network" and o.driver == "overlay"]
        ours = bool(where) or LABEL_SWARM in e.swarm_state().labels  # (an extra daemon is netsim's)
        gw = e.find("network", GWBRIDGE) if ours else None
        while time.monotonic() < deadline:
            held = [k for n in networks for k in _endpoints(e, n)]
            held += [k for k, ep in (_endpoints(e, gw.id) if gw is not None else {}).items()
                     if ep.get("Name") != "gateway_ingress-sbox"]  # (the sandbox goes with the swarm)
            if not held:
                break
            time.sleep(0.25)


def _endpoints(engine: Engine, network: str) -> dict:
    """The endpoints on ``network`` by id (the engine's ``Containers``); none when it is gone."""
    try:
        return engine.inspect_network(network).get("Containers") or {}
    except EngineError:
        return {}


def destroy(design_name: str, engine: Engine | None, lan_ops: LanOps = lanpeer,
            daemon_ops: DaemonOps | None = None) -> list[str]:
    """Remove everything labelled with the design (on every engine of it), its extra daemons,
    its LAN, and netsim's swarm; what went.  ``engine`` None: this machine's engine is left
    alone (every host was a daemon of an engine built from source)."""
    daemon_ops = daemon_ops or extra_daemon
    removed: list[str] = []
    failures: list[str] = []
    extras = [(spec, daemon_ops.connect(spec)) for spec in daemon_ops.discover(design_name)]
    engines = [(f"host {spec.host}: ", e) for spec, e in extras if e is not None]
    engines += [("", engine)] if engine is not None else []
    labelled = {id(e): e.list_by_label(design_labels(design_name)) for _, e in engines}
    if any(o.kind == "service" for objs in labelled.values() for o in objs):
        removed += _remove_services(engines, labelled, failures, design_name)
        labelled = {id(e): e.list_by_label(design_labels(design_name)) for _, e in engines}
    swarm = any(o.kind == "network" and o.driver == "overlay" for objs in labelled.values() for o in objs)
    # one at a time: removing containers of one network concurrently races in libnetwork
    # (20.10: "key modified" retries leave the network's endpoint count wrong, and the
    # network can then never be removed: "has active endpoints")
    removed += _remove_kind(engines, labelled, "container", failures)
    if swarm:
        _endpoints_released(engines, labelled)
    for where, e in engines:  # workers first: the manager owns the overlays
        for o in (o for o in labelled[id(e)] if o.kind == "network"):
            if o.name == GWBRIDGE or (where and o.driver == "overlay"):
                continue  # docker_gwbridge goes after the swarm; overlays belong to the manager
            error = _remove_network(e, o)
            if error is None:
                removed.append(f"{where}network {o.name}")
            else:
                failures.append(where + error)
    if engine is not None and not failures:  # the design's IPv6 networks on this machine's engine are gone
        removed += lan_ops.release_ipv6(design_name)
    for spec, e in extras:
        if e is not None:
            try:
                if e.swarm_state().active:
                    e.swarm_leave()
                    removed.append(f"host {spec.host}: left the swarm")
            except EngineError as exc:
                failures.append(f"host {spec.host}: {exc}")
        try:
            removed += daemon_ops.stop(spec)
        except (EngineError, OSError) as exc:
            failures.append(f"host {spec.host}: stopping its daemon failed: {exc}")
    namespace, host_if, peer_if = lan_names(design_name)
    stub = LanSpec(namespace, host_if, peer_if, IPv4Interface("0.0.0.0/32"), IPv4Interface("0.0.0.0/32"))
    removed += lan_ops.teardown(stub)
    stale = lan_ops.remove_stale_guards()  # a killed verify's uplink guard rule (apply destroys first too)
    if stale:
        removed.append(f"{stale} stale uplink guard rule(s) in DOCKER-USER")
    if engine is None:
        if failures:
            raise EngineError("destroy left objects behind:\n  " + "\n  ".join(failures)
                              + ("\nremoved: " + ", ".join(removed) if removed else ""))
        return removed
    state = engine.swarm_state()
    if state.active and LABEL_SWARM in state.labels:
        still = _overlays_left(engine, design_name)
        if not still:
            engine.swarm_leave()
            removed.append("swarm (initialised by netsim)")
            removed += _remove_gwbridge(engine, state.labels.get(LABEL_GWBRIDGE) == "0")
    gw = engine.find("network", GWBRIDGE)
    if gw is not None and gw.labels.get(LABEL_DESIGN) == design_name and not engine.swarm_state().active:
        error = _remove_network(engine, gw)  # pre-created by netsim (multi-host), swarm already left
        if error is None:
            removed.append(f"network {GWBRIDGE} (created by netsim)")
        else:
            failures.append(error)
    if failures:
        raise EngineError("destroy left objects behind:\n  " + "\n  ".join(failures)
                          + ("\nremoved: " + ", ".join(removed) if removed else ""))
    return removed


def _remove_network(engine: Engine, obj: EngineObject, settle_s: float = NETWORK_FREE_S) -> str | None:
    """Remove a network, retrying while the engine still lets go of what was just removed: the
    endpoints of removed containers ("has active endpoints") or, on a swarm manager, the tasks of
    removed services ("is in use by task", seen once on a busy machine); the error text if it never goes."""
    deadline = time.monotonic() + settle_s
    while True:
        try:
            engine.remove(obj)
            return None
        except EngineError as exc:
            settling = any(text in str(exc) for text in ("active endpoints", "in use by task"))
            if not settling or time.monotonic() >= deadline:
                return str(exc)
            time.sleep(0.25)


def _remove_gwbridge(engine: Engine, created_by_netsim: bool) -> list[str]:
    """docker_gwbridge appears with the first overlay endpoint; remove it again when it
    was not there before netsim initialised the swarm and nothing uses it."""
    if not created_by_netsim:
        return []
    obj = engine.find("network", GWBRIDGE)
    if obj is None or _endpoints(engine, obj.id):
        return []
    deadline = time.monotonic() + GWBRIDGE_SETTLE_S
    while True:  # the ingress sandbox leaves it a moment after the swarm is left ("has active endpoints")
        try:
            engine.remove(obj)
            break
        except EngineError as exc:
            if "active endpoints" not in str(exc) or time.monotonic() >= deadline:
                raise
            time.sleep(0.5)
    how = "created by netsim" if obj.labels.get(LABEL_DESIGN) else "appeared with the swarm"
    return [f"network {GWBRIDGE} ({how})"]


__all__ = [
    "DEFAULT_BRIDGE",
    "DeployRefused",
    "Deployment",
    "apply",
    "conflicts",
    "destroy",
    "engines_of",
    "sigterm_as_interrupt",
]
