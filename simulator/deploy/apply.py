"""Execute a :class:`~simulator.deploy.plan.Plan` through an engine, and undo it by label.

``apply`` is all-or-nothing: on any failure, Ctrl-C or SIGTERM it removes what it
created (by label), then re-raises.  ``destroy`` removes exactly the objects carrying the
design's labels, the LAN namespace and veth, and the swarm when netsim initialised it.
"""

from __future__ import annotations

import signal
import threading
import time
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from ipaddress import IPv4Network
from typing import Callable, Iterator, Protocol, Sequence

from ..adapters import lanpeer
from ..adapters.engine import LABEL_MANAGED, LABEL_SWARM, Engine, EngineObject, design_labels
from ..errors import EngineError
from .plan import DEFAULT_BRIDGE, DeployRefused, LanSpec, Plan, lan_names

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

    def add_routes(self, lan: LanSpec, subnets: Sequence[IPv4Network]) -> None: ...

    def teardown(self, lan: LanSpec) -> list[str]: ...

    def host_routes(self) -> list[tuple[IPv4Network, str]]: ...

    def kernel_capabilities(self): ...


@dataclass
class Deployment:
    """What apply() created and learnt."""

    plan: Plan
    network_ids: dict[str, str] = field(default_factory=dict)  # design key -> id
    container_ids: dict[str, str] = field(default_factory=dict)  # design key -> id
    lan_ready: bool = False
    swarm_initialised: bool = False
    notes: list[str] = field(default_factory=list)


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


def conflicts(plan: Plan, engine_networks: Sequence[EngineObject], routes: Sequence[tuple[IPv4Network, str]]) -> list[str]:
    """Every subnet of the plan overlapping a foreign engine network or a host route (pure)."""
    problems: list[str] = []
    foreign = [n for n in engine_networks if n.labels.get("netsim.design") != plan.design]
    wanted = [(f"network {n.name}", IPv4Network(n.subnet, strict=False), n.driver) for n in plan.networks if n.subnet]
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
    return problems


def apply(plan: Plan, engine: Engine, lan_ops: LanOps = lanpeer, progress: Progress | None = None,
          build_image: bool = True) -> Deployment:
    """Create everything in the plan; on any failure remove it all again and re-raise."""
    progress = progress or NoProgress()
    dep = Deployment(plan)
    previous = destroy(plan.design, engine, lan_ops)
    if previous:
        dep.notes.append("replaced the previous deployment: removed " + ", ".join(previous))
    _refuse_foreign_names(plan, engine)
    problems = conflicts(plan, engine.list_networks(), lan_ops.host_routes())
    if problems:
        raise DeployRefused("refusing to deploy, subnets overlap:\n  " + "\n  ".join(problems))
    dep.notes.extend(engine.ensure_image(plan.image, build_default=build_image))
    try:
        _create_all(plan, engine, lan_ops, dep, progress)
    except BaseException as exc:
        removed = destroy(plan.design, engine, lan_ops)
        note = f"deploy failed ({type(exc).__name__}: {exc}); cleaned up {len(removed)} object(s)"
        if isinstance(exc, Exception) and not isinstance(exc, EngineError):
            raise EngineError(note) from exc
        if isinstance(exc, EngineError):
            raise type(exc)(f"{exc}\n{note}") from exc
        raise
    return dep


def _refuse_foreign_names(plan: Plan, engine: Engine) -> None:
    taken = []
    for kind, specs in (("network", plan.networks), ("container", plan.containers)):
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

    progress.start("networks", len(plan.networks))
    for spec in plan.networks:
        dep.network_ids[spec.key] = engine.create_network(spec)
        progress.advance()

    progress.start("containers", 2 * len(plan.containers))
    owners = [c for c in plan.containers if not c.network_mode.startswith("container:")]
    joiners = [c for c in plan.containers if c.network_mode.startswith("container:")]
    _parallel([lambda s=s: _create(engine, s, dep, progress) for s in owners])
    for spec in joiners:  # need their owner to exist
        _create(engine, spec, dep, progress)
    _start_in_order(plan, engine, dep, progress)

    if dep.lan_ready:
        subnets = []
        for step in plan.steps:
            if step.kind == "routes":
                for name in step.items:
                    subnets += [IPv4Network(s) for s in _subnets(engine, name)]
        lan_ops.add_routes(plan.lan, subnets)


def _subnets(engine: Engine, network: str) -> list[str]:
    configs = ((engine.inspect_network(network).get("IPAM") or {}).get("Config")) or []
    return [c["Subnet"] for c in configs if c.get("Subnet") and ":" not in c["Subnet"]]


def _create(engine: Engine, spec, dep: Deployment, progress: Progress) -> None:
    dep.container_ids[spec.key] = engine.create_container(spec)
    progress.advance()


def _start_in_order(plan: Plan, engine: Engine, dep: Deployment, progress: Progress) -> None:
    """Start containers concurrently, but each after every earlier container sharing a
    network with it (so each network hands out addresses in plan order) and after the
    owner of its namespace."""
    specs = {c.key: c for c in plan.containers}
    futures: dict[str, Future] = {}

    def deps_of(i: int, key: str) -> list[str]:
        spec = specs[key]
        mine = {e.network for e in spec.endpoints}
        out = []
        for earlier in plan.start_order[:i]:
            other = specs[earlier]
            if mine & {e.network for e in other.endpoints}:
                out.append(earlier)
            elif spec.network_mode == f"container:{other.name}":
                out.append(earlier)
        return out

    def start(key: str, waits: list[str]) -> None:
        for w in waits:
            futures[w].result()
        engine.start(dep.container_ids[key])
        progress.advance()

    with ThreadPoolExecutor(PARALLEL) as pool:
        for i, key in enumerate(plan.start_order):
            futures[key] = pool.submit(start, key, deps_of(i, key))
        errors = [f.exception() for f in futures.values() if f.exception() is not None]
    if errors:
        raise errors[0]


def _parallel(tasks: list[Callable[[], None]]) -> None:
    if not tasks:
        return
    with ThreadPoolExecutor(min(PARALLEL, len(tasks))) as pool:
        futures = [pool.submit(t) for t in tasks]
        errors = [f.exception() for f in futures if f.exception() is not None]
    if errors:
        raise errors[0]


def destroy(design_name: str, engine: Engine, lan_ops: LanOps = lanpeer) -> list[str]:
    """Remove everything labelled with the design, its LAN, and netsim's swarm; what went."""
    removed: list[str] = []
    failures: list[str] = []
    objects = engine.list_by_label(design_labels(design_name))
    containers = [o for o in objects if o.kind == "container"]
    networks = [o for o in objects if o.kind == "network"]
    # one at a time: removing containers of one network concurrently races in libnetwork
    # (20.10: "key modified" retries leave the network's endpoint count wrong, and the
    # network can then never be removed: "has active endpoints")
    for o in containers:
        try:
            engine.remove(o)
            removed.append(f"container {o.name}")
        except EngineError as exc:
            failures.append(str(exc))
    for o in networks:
        error = _remove_network(engine, o)
        if error is None:
            removed.append(f"network {o.name}")
        else:
            failures.append(error)
    namespace, host_if, peer_if = lan_names(design_name)
    from ipaddress import IPv4Interface

    stub = LanSpec(namespace, host_if, peer_if, IPv4Interface("0.0.0.0/32"), IPv4Interface("0.0.0.0/32"))
    removed += lan_ops.teardown(stub)
    state = engine.swarm_state()
    if state.active and LABEL_SWARM in state.labels:
        still = [o for o in engine.list_by_label({LABEL_MANAGED: "1"}) if o.kind == "network" and o.driver == "overlay"]
        if not still:
            engine.swarm_leave()
            removed.append("swarm (initialised by netsim)")
            removed += _remove_gwbridge(engine, state.labels.get(LABEL_GWBRIDGE) == "0")
    if failures:
        raise EngineError("destroy left objects behind:\n  " + "\n  ".join(failures)
                          + ("\nremoved: " + ", ".join(removed) if removed else ""))
    return removed


def _remove_network(engine: Engine, obj: EngineObject, attempts: int = 20) -> str | None:
    """Remove a network, retrying while the engine still releases endpoints of containers
    just removed ("has active endpoints"); the error text if it never goes."""
    for i in range(attempts):
        try:
            engine.remove(obj)
            return None
        except EngineError as exc:
            if "active endpoints" not in str(exc) or i == attempts - 1:
                return str(exc)
            time.sleep(0.25)
    return None


def _remove_gwbridge(engine: Engine, created_by_netsim: bool) -> list[str]:
    """docker_gwbridge appears with the first overlay endpoint; remove it again when it
    was not there before netsim initialised the swarm and nothing uses it."""
    if not created_by_netsim:
        return []
    obj = engine.find("network", GWBRIDGE)
    if obj is None or (engine.inspect_network(obj.id).get("Containers") or {}):
        return []
    engine.remove(obj)
    return [f"network {GWBRIDGE} (appeared with the swarm)"]


__all__ = ["apply", "destroy", "conflicts", "Deployment", "DeployRefused", "DEFAULT_BRIDGE", "sigterm_as_interrupt"]
