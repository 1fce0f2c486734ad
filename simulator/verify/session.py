"""One verification run: deploy, compute the model, observe, compare, clean up.

Cleanup (``destroy``) runs in a ``finally``: after an error, Ctrl-C or SIGTERM the engine
holds nothing with the design's labels and the LAN namespace is gone; the uplink guard
rule is removed by its own context manager.  Before anything is dialled the LAN namespace is
checked to have no default route, IPv4 or IPv6 (the LAN peer's probes can only go where netsim
routed them).  Multi-host designs: the extra daemons (one per
further host) are stopped and removed by the same ``destroy``.

An engine built from source (``VerifyOptions.binaries``, ``--dockerd``): every host is such a
daemon, the model's engine version is the first host's daemon's (unless given), and this
machine's engine and iptables are not touched: no uplink guard rule is needed, since every
host namespace and the LAN namespace are checked to have no default route before anything
is dialled (a probe from them cannot leave the emulated LAN).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, replace
from ipaddress import IPv4Address, IPv4Network, IPv6Address, IPv6Network

from ..adapters import lanpeer
from ..adapters.engine import Engine, design_labels
from ..adapters.extra_daemon import EngineBinaries
from ..adapters.probe_agent import RETRY_DNS_TIMEOUT_S, RETRY_TIMEOUT_MS
from ..adapters.probe_image import DEFAULT_PROBE_IMAGE
from ..analysis.reachability import reach_of
from ..deploy.apply import NoProgress, apply, destroy, engines_of, sigterm_as_interrupt
from ..deploy.plan import Plan, plan
from ..engine.topology import World, build_world
from ..engine.versions import engine_line
from ..errors import EngineError
from ..model import Design, ModeKind
from .compare import AddressRow, Comparison, ProbeRow, compare, compare_addressing
from .observe import (
    Facts,
    build_guard,
    gather_facts,
    host_forbidden,
    host_local_routes,
    observe,
    placed_tasks,
    retry_disagreeing,
)


@dataclass(frozen=True, slots=True)
class VerifyOptions:
    deploy: bool = True
    keep: bool = False
    engine_version: str | None = None
    probe_image: str | None = None
    binaries: EngineBinaries | None = None  # every host a daemon from these binaries (an engine built from source)


def run_verify(design: Design, engine: Engine | None, opts: VerifyOptions = VerifyOptions(), progress=None,
               lan_ops=None, world: Callable[[str], World] | None = None, daemon_ops=None,
               image_source: Engine | None = None) -> Comparison:
    """Deploy (unless told not to), probe every probe of the model, compare; clean up.

    ``world``: the design's world for an engine version, e.g. the pipeline's
    :meth:`~simulator.pipeline.Loaded.world` (built once per version and shared with the
    caller); by default one is built here. The model's matrix and the traces of mismatches
    both come from it.  ``engine``: this machine's engine (None with ``opts.binaries``);
    ``image_source``: where a ``--probe-image`` is copied from into the daemons."""
    progress = progress or NoProgress()
    lan_ops = lan_ops or lanpeer
    world_of = world or _worlds(design)
    the_plan = plan(design, opts.probe_image or DEFAULT_PROBE_IMAGE, lan_ops.kernel_capabilities(), opts.binaries)
    own = the_plan.on_daemons_only
    machine = None if own else engine  # this machine's engine, when it holds part of the design
    notes: list[str] = list(the_plan.notes)
    with sigterm_as_interrupt():
        try:
            if opts.deploy:
                dep = apply(the_plan, machine, lan_ops, progress, build_image=opts.probe_image is None,
                            daemon_ops=daemon_ops, image_source=image_source)
                notes += dep.notes
                lan_ready = dep.lan_ready
                engines = dep.engines
            else:
                engines = engines_of(the_plan, machine, daemon_ops)
                missing = [h.host for h in the_plan.extra_hosts if h.host not in engines]
                first = engines.get(the_plan.host)
                if first is None or not first.list_by_label(design_labels(design.name)):
                    raise EngineError(f"design {design.name!r} is not deployed: run `netsim deploy` "
                                      "or drop --no-deploy")
                lan_ready = lanpeer.namespace_exists(the_plan.lan.namespace)
                if missing:
                    raise EngineError(f"design {design.name!r}: the daemon of host(s) {', '.join(missing)} is not "
                                      "running: deploy again or drop --no-deploy")
            engine = engines[the_plan.host] if own else engine
            assert engine is not None
            progress.start("model", 1)
            version = opts.engine_version or engine_line(engine.version())
            moved = placed_tasks(design, the_plan, engine, {the_plan.host: engine, **engines}) if the_plan.services else {}
            if moved:  # the scheduler chose other nodes than the model: the model of what it chose
                design = replace(design, containers=tuple(replace(c, host=moved.get(c.name, c.host))
                                                          for c in design.containers))
                notes.append("the swarm's scheduler placed " + ", ".join(f"{t} on {h}" for t, h in sorted(moved.items()))
                             + "; the model is computed for that placement")
                model = build_world(design, version)
            else:
                model = world_of(version)
            result = reach_of(model)
            progress.advance()
            progress.start("inspect", 1)
            facts = gather_facts(design, the_plan, engine, lan_ready, engines=engines)
            progress.advance()
            notes += facts.notes
            notes_before = list(facts.notes)
            if not lan_ready:
                notes.append("external vantage point skipped: no emulated LAN (needs root and ip netns)")
            if facts.lan_ready and lanpeer.has_default_route(the_plan.lan.namespace):  # IPv4 or IPv6
                raise EngineError(f"refusing to probe: the LAN namespace {the_plan.lan.namespace} has a default route")
            guard = build_guard(facts, the_plan, host_forbidden(the_plan, facts), host_local_routes())
            with _no_guard_needed(the_plan, facts) if own else lanpeer.uplink_guard() as guard_note:
                notes.append(guard_note)
                observations = observe(design, the_plan, result.probes, engine, facts, guard, progress,
                                       engines=engines)
                observations = retry_transient(design, the_plan, result.probes, observations, engine, facts, guard,
                                               progress, engines)
            notes += facts.notes[len(notes_before):]
            rows = compare(result.probes, observations)
            if any(r.verdict == "mismatch" for r in rows):
                rows = _with_traces(model, rows)
            addressing = _addressing(design, the_plan, facts, model)
            return Comparison(design.name, version, rows, addressing, tuple(notes), placed=design if moved else None)
        finally:
            if not opts.keep:
                progress.start("cleanup", 1)
                destroy(design.name, machine, lan_ops, daemon_ops)
                progress.advance()


@contextmanager
def _no_guard_needed(the_plan: Plan, facts: Facts) -> Iterator[str]:
    """Every host is a daemon in a namespace of its own: refuse to dial unless each of them (and
    the LAN namespace, checked for every verify) has no default route, IPv4 or IPv6 (then nothing
    dialled can leave); the note."""
    open_ = sorted(h.host for h in the_plan.extra_hosts if h.host not in facts.isolated)
    if open_:
        raise EngineError("refusing to probe: a default route (or no namespace) in " + ", ".join(open_))
    yield "no uplink guard needed: every host namespace and the LAN namespace have no default route (checked)"


def retry_transient(design: Design, the_plan: Plan, probes, observations: dict, engine: Engine, facts: Facts,
                    guard, progress=None, engines=None, observe_fn=None) -> dict:
    """Dial once more, with the longer timeouts, every probe whose first observation timed
    out (or was lost) where the model expects something else; the retried observations
    carry ``attempts=2``.  Refusals are final, and agreeing timeouts are not retried."""
    observe_fn = observe_fn or observe
    return retry_disagreeing(probes, observations, lambda again: observe_fn(
        design, the_plan, again, engine, facts, guard, _Phase(progress, "retry"), engines=engines,
        timeout_ms=RETRY_TIMEOUT_MS, dns_timeout=RETRY_DNS_TIMEOUT_S, wait_ready=False))


class _Phase:
    """Progress of the retry pass under its own phase names (``retry: probing``)."""

    def __init__(self, progress, prefix: str):
        self.progress, self.prefix = progress, prefix

    def start(self, phase: str, total: int) -> None:
        if self.progress is not None:
            self.progress.start(f"{self.prefix} {phase}", total)

    def advance(self, n: int = 1) -> None:
        if self.progress is not None:
            self.progress.advance(n)


def _worlds(design: Design) -> Callable[[str], World]:
    """The design's world per engine version, each built once."""
    built: dict[str, World] = {}

    def world(version: str) -> World:
        if version not in built:
            built[version] = build_world(design, version)
        return built[version]
    return world


def _with_traces(world: World, rows: tuple[ProbeRow, ...]) -> tuple[ProbeRow, ...]:
    """The model's matrix again, on the same world, with full traces, attached to mismatching rows."""
    traced = {p.key: p for p in reach_of(world, with_traces=True).probes}
    return tuple(replace(r, probe=traced.get(r.probe.key, r.probe)) if r.verdict == "mismatch" else r for r in rows)


def _tasks_in_any_order(design: Design, held: Mapping[tuple[str, str], tuple], expected: dict, observed: dict) -> None:
    """A service's running tasks on a network got addresses among the model's: which task got which
    is the manager's choice (it allocates them together, confirmed-rules §17g), and so is which of
    them stay pending, holding theirs (``held``); each task is expected at the address it got when
    the service's addresses are the model's (``expected`` is updated)."""
    groups: dict[tuple[str, str], list[tuple[str, str]]] = {}
    for c, network in expected:
        service = design.container(c).task_of if design.has_container(c) else None
        if service is not None:
            groups.setdefault((service, network), []).append((c, network))
    for (service, network), keys in groups.items():
        allowed = {str(expected.get(k)) for k in keys} | {str(a) for a in held.get((service, network), ())}
        got = [str(observed.get(k)) for k in keys]
        if len(set(got)) == len(got) and set(got) <= allowed:
            expected.update({k: observed.get(k) for k in keys})


def _addressing(design: Design, the_plan: Plan, facts: Facts, world: World) -> tuple[AddressRow, ...]:
    """The model's addresses, subnets and default gateways (from the model's ``world``) beside
    the deployment's."""
    addressing = world.addressing  # as the engine under test allocates (its line's IPAM), not the design's line
    host = design.hosts[0].name if len(design.hosts) == 1 else None
    deployed = {c.key for c in the_plan.containers} | {k for k in facts.containers if design.has_container(k)}
    own = [c for c in design.containers if c.name in deployed and c.mode.kind is ModeKind.NETWORKS]
    exp_addr, obs_addr = {}, {}
    for c in own:
        cf = facts.containers.get(c.name)
        for ep in addressing.endpoints_of(c.name):
            exp_addr[(c.name, ep.network)] = ep.address
        for net, iface in (cf.addresses if cf else {}).items():
            obs_addr[(c.name, net)] = iface.ip
    _tasks_in_any_order(design, addressing.held, exp_addr, obs_addr)
    nets = {n for _, n in exp_addr} | {n for _, n in obs_addr}
    host_of_net: dict[str, str] = {}  # a network's segment is the one on the host of its first deployed member
    for c in own:
        for ep in addressing.endpoints_of(c.name):
            host_of_net.setdefault(ep.network, c.host)
    exp_sub = {}
    for n in nets:
        segment = addressing.segment_of(n, host or host_of_net.get(n, design.hosts[0].name))
        if segment is not None:
            exp_sub[n] = segment.subnet
    obs_sub = {n: facts.subnets.get(n) for n in nets}
    exp_gw: dict[str, IPv4Address | None] = {}
    obs_gw: dict[str, IPv4Address | None] = {}
    for c in own:
        ns = world.namespaces.get(world.ns_of.get(c.name, ""))
        default = next((r for r in ns.routes if r.dest.prefixlen == 0 and r.dest.version == 4), None) if ns else None
        exp_gw[c.name] = default.via if default and isinstance(default.via, IPv4Address) else None
    for c in own:
        cf = facts.containers.get(c.name)
        obs_gw[c.name] = IPv4Address(cf.gateway) if cf and cf.gateway else None
    rows = compare_addressing(exp_addr, obs_addr, exp_sub, obs_sub, exp_gw, obs_gw)
    # the IPv6 side: each dual-stack endpoint's address and each network's IPv6 subnet
    exp6: dict[tuple[str, str], IPv4Address | IPv6Address | None] = {}
    obs6: dict[tuple[str, str], IPv4Address | IPv6Address | None] = {}
    for c in own:
        for ep in addressing.endpoints_of(c.name):
            ep6 = addressing.endpoint6(c.name, ep.network)
            if ep6 is not None:
                exp6[(c.name, ep.network)] = ep6.address
        cf = facts.containers.get(c.name)
        obs6.update({(c.name, net): iface.ip for net, iface in (cf.addresses6 if cf else {}).items()})
    nets6 = {n for _, n in exp6} | {n for _, n in obs6}
    exp_sub6: dict[str, IPv4Network | IPv6Network | None] = {}
    for n in nets6:
        seg6 = addressing.segment6_of(n, host or host_of_net.get(n, design.hosts[0].name))
        if seg6 is not None:
            exp_sub6[n] = seg6.subnet
    obs_sub6: dict[str, IPv4Network | IPv6Network | None] = {n: facts.subnets6.get(n) for n in nets6}
    return rows + compare_addressing(exp6, obs6, exp_sub6, obs_sub6, {}, {}, family=6)
