"""``netsim verify --live``: probe a running environment netsim did not create, in place.

Nothing of the environment is changed.  For each source container a *helper* joins its
network namespace (``network_mode=container:<id>``, image netsim-probe:1, labelled
``netsim.managed=1`` + ``netsim.helper=1`` + a session label) and dials only the
addresses and ports of the model's probes; helpers are removed one at a time afterwards,
also on errors, Ctrl-C and SIGTERM.  The host dials with Python sockets.  The LAN peer
(``external``) is emulated where it can be without touching the real LAN
(:mod:`simulator.adapters.live_peer`: its own namespace and veth, routing only the
environment's bridge subnets and the host's own LAN address through the host); otherwise
its probes are skipped with the reason.

Responder identity: real services do not announce themselves, so the observed responder
is the container owning the dialled address (by inspect), or for a published port the
binding's container; with a shared namespace, the member that listens on the port.
Reachable means the TCP connection was accepted (busybox ``nc -e /bin/true``); UDP counts
only when the service answers (a refusal is a closed port; silence is not compared).

Safety: every address passes a :class:`~simulator.adapters.safety.ProbeGuard` built from
the environment's own networks (the default bridge only for the environment's own
addresses) and loopback; the uplink guard rule is in place while probing.  Names are
looked up only from helpers whose resolver is exactly the embedded DNS (127.0.0.11), in
a namespace attached only to bridge/overlay networks (whose upstream queries are
forwarded through DOCKER-USER, where the uplink guard rejects them), and only while the
guard is active; otherwise name probes are not compared, with a note.

Transient failures are handled as ``netsim verify`` handles them, with its code
(:mod:`simulator.verify.observe`): the helpers' answers are framed and run again when
output was lost, and a probe whose first dial timed out (connect or DNS timeout, a lost
answer) where the model expects something else is dialled once more with the longer
timeouts (``retry_disagreeing``); refusals are final.
"""

from __future__ import annotations

import errno
import shlex
import socket
import uuid
from collections import defaultdict
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from dataclasses import dataclass, field
from ipaddress import IPv4Address, IPv4Network
from typing import Any

from ..adapters import lanpeer
from ..adapters.engine import LABEL_MANAGED, ContainerSpec, Engine
from ..adapters.live_peer import LivePeer
from ..adapters.probe_agent import (
    BEGIN,
    DNS_TIMEOUT_S,
    END,
    RETRY_DNS_TIMEOUT_S,
    RETRY_TIMEOUT_MS,
    TIMEOUT_MS,
    Dial,
    DialResult,
    parse_results,
    prepare_script,
    probe_sockets,
)
from ..adapters.probe_image import DEFAULT_PROBE_IMAGE
from ..adapters.safety import ProbeGuard
from ..deploy.apply import NoProgress, sigterm_as_interrupt
from ..engine.versions import engine_line
from ..errors import EngineError, UnsafeTarget
from ..model import Design, Driver, ModeKind
from ..verify.compare import Comparison, compare
from ..verify.observe import (
    EXEC_ATTEMPTS,
    PACKAGE_ROOT,
    Observation,
    addresses_to_dial,
    any_answered,
    exec_dials,
    exec_prepare,
    retry_disagreeing,
)
from .drift import Drift, align, compute_drift, match, on_this_engine, translate
from .importer import Imported, import_snapshot
from .snapshot import LABEL_HELPER, Scope, read_snapshot

LABEL_SESSION = "netsim.helper-session"
LABEL_FOR = "netsim.helper-for"
EMBEDDED_DNS = "127.0.0.11"
PARALLEL = 16
NC_PARALLEL = 32
GUARD_ACTIVE = "uplink guard active"


@dataclass
class LiveContext:
    design: Design  # the design with the running environment's engine names and addresses
    imported: Imported
    running: Design  # the import in the design's names
    ids: dict[str, str]  # design key -> engine id of the running container
    owners: dict[str, str]  # address -> design key of the namespace owner
    members: dict[str, list[str]]  # namespace owner key -> member keys
    bindings: dict[tuple[str, int, str], str]  # (host ip, port, proto) -> design key
    guard: ProbeGuard
    names_ok: bool
    notes: list[str] = field(default_factory=list)
    address_of: dict[tuple[str, str], str] = field(default_factory=dict)  # (design container, design network)
    intended: Design | None = None  # the design as given
    peer: LivePeer | None = None  # while the LAN peer exists
    peer_guard: ProbeGuard | None = None  # what the LAN peer may dial


@dataclass(frozen=True)
class LiveComparison(Comparison):
    """A live verify's comparison: a difference is the running environment breaking the
    design (not the model being wrong), explained by the drift that causes it."""

    live: bool = True
    drift: Drift | None = None


def causes(rows: Sequence, drift: Drift | None) -> dict[tuple, tuple[str, ...]]:
    """For each mismatch, the drift items about its source, target, network or responders."""
    out: dict[tuple, tuple[str, ...]] = {}
    items = [i for i in (drift.items if drift is not None else ()) if i.severity == "drift"]
    for r in rows:
        if r.verdict != "mismatch":
            continue
        p = r.probe
        who = {p.source, getattr(p, "target", None), getattr(p, "network", None), *r.expected_responders}
        if r.observation is not None and r.observation.responder:
            who.add(r.observation.responder)
        who.discard(None)
        found = tuple(str(i) for i in items if who & set(i.subject.replace(",", " ").split()))
        out[p.key] = found
    return out


def live_addressing(ctx: LiveContext, allocate: Callable | None = None) -> tuple:
    """The addressing view: the design's addresses and subnets (pinned, else the model's
    allocation) against the running ones."""
    from ..engine.ipam import allocate as model_allocate
    from ..errors import NetsimError
    from ..verify.compare import compare_addressing

    given = ctx.intended or ctx.design
    plain = align(given, ctx.imported.design, *match(given, ctx.imported.design), ctx.imported)
    try:
        model = (allocate or model_allocate)(plain)
    except NetsimError:
        model = None
    exp_addr, exp_sub = {}, {}
    if model is not None:
        for c in plain.containers:
            for ep in model.endpoints_of(c.name):
                exp_addr[(c.name, ep.network)] = ep.address
        for n in plain.networks:
            seg = next((sg for (name, _), sg in model.segments.items() if name == n.name), None)
            exp_sub[n.name] = seg.subnet if seg is not None else n.subnet
    obs_addr = {k: IPv4Address(v) for k, v in ctx.address_of.items() if ctx.running.has_container(k[0])
                and ctx.running.container(k[0]).mode.kind is ModeKind.NETWORKS}  # joiners: their owner's
    obs_sub = {n.name: n.subnet for n in ctx.running.networks if plain.has_network(n.name)}
    return compare_addressing(exp_addr, obs_addr, exp_sub, obs_sub, {}, {})


def helper_labels(session: str, design: str) -> dict[str, str]:
    return {LABEL_MANAGED: "1", LABEL_HELPER: "1", LABEL_SESSION: session, LABEL_FOR: design}


def connect_script(dials: Sequence[Dial], timeout_ms: int = TIMEOUT_MS) -> str:
    """TCP: connection accepted or not (busybox nc runs /bin/true once connected);
    UDP: nsagent's datagram probe (answered, refused or silent).  Everything is printed at
    once between ``BEGIN`` and ``END`` (a truncated answer is told from a complete one)."""
    tcp = "\n".join(f"{d.id} {d.address} {d.port}" for d in dials if d.protocol == "tcp")
    udp = "\n".join(d.line() for d in dials if d.protocol == "udp")
    wait_s = max(1, -(-int(timeout_ms) // 1000))
    one = (f'out=$(timeout {wait_s + 2} nc -w {wait_s} "$1" "$2" -e /bin/true </dev/null 2>&1); rc=$?; '
           'if [ $rc = 0 ]; then echo "$0 OK"; else case "$out" in *refused*) echo "$0 REFUSED";; '
           '*nreachable*|*"o route"*) echo "$0 ERR no route";; *) echo "$0 TIMEOUT";; esac; fi')
    parts = []
    if tcp:
        parts.append(f"xargs -P {NC_PARALLEL} -n 3 sh -c {shlex.quote(one)} <<'NETSIM_EOF'\n{tcp}\nNETSIM_EOF")
    if udp:
        parts.append("if [ -x /bin/nsagent ]; then\n"
                     f"/bin/nsagent probe {int(timeout_ms)} <<'NETSIM_EOF'\n{udp}\nNETSIM_EOF\n"
                     "fi")
    body = "\n".join(parts)
    return f'out=$(\n{body}\n)\nprintf "{BEGIN}\\n%s\\n{END}\\n" "$out"\n'


def connect_sockets(dials: Sequence[Dial], timeout: float = TIMEOUT_MS / 1000) -> dict[str, DialResult]:
    """The host's prober: TCP accepted/refused/timeout; UDP through probe_sockets."""
    out = probe_sockets([d for d in dials if d.protocol == "udp"], timeout) if any(
        d.protocol == "udp" for d in dials) else {}

    def one(d: Dial) -> DialResult:
        try:
            with socket.create_connection((d.address, d.port), timeout=timeout):
                return DialResult(d.id, "OK")
        except ConnectionRefusedError:
            return DialResult(d.id, "REFUSED")
        except TimeoutError:
            return DialResult(d.id, "TIMEOUT")
        except OSError as exc:
            return DialResult(d.id, "ERR", "no route" if exc.errno in (errno.EHOSTUNREACH, errno.ENETUNREACH)
                              else (exc.strerror or str(exc)))

    tcp = [d for d in dials if d.protocol == "tcp"]
    if tcp:
        with ThreadPoolExecutor(min(PARALLEL, len(tcp))) as pool:
            for r in pool.map(one, tcp):
                out[r.id] = r
    return out


def connect_main() -> None:
    """Inside the LAN peer's namespace: dials JSON ``[[id, proto, addr, port, timeout_s]...]``
    from stdin with :func:`connect_sockets` (TCP: accepted is reachable) and prints result
    lines between ``BEGIN`` and ``END``."""
    import json
    import sys

    raw = json.load(sys.stdin)
    timeout = float(raw["timeout"])
    dials = [Dial(str(i), p, a, int(port)) for i, p, a, port in raw["dials"]]
    lines = [f"{r.id} {r.status} {r.answer}".rstrip() for r in connect_sockets(dials, timeout).values()]
    print("\n".join([BEGIN, *lines, END]))


def peer_dials(namespace: str, dials: Sequence[Dial], timeout_ms: int = TIMEOUT_MS) -> dict[str, DialResult]:
    """Dial from the LAN peer's namespace (:func:`connect_main` under ``ip netns exec``)."""
    import json
    import sys

    code = (f"import sys; sys.path.insert(0, {PACKAGE_ROOT!r}); "
            "from simulator.live.live_observe import connect_main; connect_main()")
    payload = json.dumps({"timeout": timeout_ms / 1000, "dials": [[d.id, d.protocol, d.address, d.port] for d in dials]})
    proc = lanpeer.run_in_namespace(namespace, [sys.executable, "-c", code], input=payload)
    if proc.returncode != 0 or END not in proc.stdout:
        raise EngineError(f"the LAN peer's prober failed: {proc.stderr.strip()[-300:]}")
    return parse_results(proc.stdout)


def build_context(design: Design, imported: Imported, routes: Sequence[tuple[IPv4Network, str]] = (),
                  host_local: Sequence[IPv4Network] = (), resolvers: Sequence[str] = ()) -> LiveContext:
    """Everything the observation needs, from the design and the import (pure)."""
    given = design
    ctrs, nets = match(design, imported.design)
    design = align(design, imported.design, ctrs, nets, imported)
    running = translate(design, imported.design, ctrs, nets)
    cback = {v: k for k, v in ctrs.items()}
    nback = {v: k for k, v in nets.items()}
    # the model speaks the engine's addresses where the design leaves them to the engine
    design = on_this_engine(design, running, {(cback.get(c, c), nback.get(n, n)): a
                                              for (c, n), a in imported.addresses.items()}, imported.design.hosts)
    ids = {cback.get(k, k): v for k, v in imported.ids.items()}
    owners: dict[str, str] = {}
    for (c, _net), iface in imported.addresses.items():
        owners[str(iface.ip)] = cback.get(c, c)
    members: dict[str, list[str]] = defaultdict(list)
    for member in running.containers:
        members[running.namespace_owner(member.name) or member.name].append(member.name)
    bindings = {k: cback.get(v, v) for k, v in imported.bindings.items()}
    own_subnets, addresses = [], set()
    for n in imported.design.networks:
        if n.default_bridge:
            continue
        if n.subnet is not None:
            own_subnets.append(n.subnet)
    for (_ctr, net_key), iface in imported.addresses.items():
        net = imported.design.network(net_key) if imported.design.has_network(net_key) else None
        if net is not None and net.default_bridge:
            addresses.add(iface.ip)
            if iface.network.num_addresses > 2:
                addresses.add(next(iface.network.hosts()))  # the bridge's gateway (docker0)
    forbidden = [r for r, _ in routes if not any(r.overlaps(s) for s in own_subnets)
                 and not any(a in r for a in addresses)]
    forbidden += [IPv4Network(f"{r}/32") for r in resolvers if _is_v4(r) and not IPv4Address(r).is_loopback]
    guard = ProbeGuard.build(own_subnets, addresses, forbidden, host_local)
    notes = list(imported.notes)
    address_of = {(cback.get(c, c), nback.get(n, n)): str(iface.ip) for (c, n), iface in imported.addresses.items()}
    for owner, group in members.items():  # container:X joiners have their owner's addresses
        for m in group:
            for (holder, net_key), a in list(address_of.items()):
                if holder == owner and m != owner:
                    address_of.setdefault((m, net_key), a)
    return LiveContext(design, imported, running, ids, owners, dict(members), bindings, guard, False, notes, address_of,
                       given)


def _is_v4(text: str) -> bool:
    try:
        IPv4Address(text)
        return True
    except ValueError:
        return False


def _responder(ctx: LiveContext, owner: str | None, port: int, proto: str, expected: Sequence[str]) -> str | None:
    """The container answering at an address: the namespace member listening on the port."""
    if owner is None:
        return None
    group = ctx.members.get(owner, [owner])
    for m in group:  # one namespace: the network cannot tell its members apart
        if m in expected:
            return m
    listening = [m for m in group if ctx.running.has_container(m) and any(
        lst.port == port and lst.protocol.value == proto for lst in ctx.running.container(m).listeners)]
    for m in listening:
        if m in expected:
            return m
    return listening[0] if listening else owner


def _resolver_ok(ctx: LiveContext, key: str, nameservers: Sequence[str]) -> str | None:
    """None when names may be looked up from this source; else why not."""
    if not ctx.names_ok:
        return "the uplink guard is not active: names are not looked up in live mode"
    if tuple(nameservers) != (EMBEDDED_DNS,):
        return (f"resolver {', '.join(nameservers) or 'none'} is not only the embedded DNS {EMBEDDED_DNS}: "
                "names are not looked up (unknown names would reach a real resolver)")
    c = ctx.running.container(key) if ctx.running.has_container(key) else None
    owner = next((o for o, m in ctx.members.items() if key in m), key)
    c = ctx.running.container(owner) if ctx.running.has_container(owner) else c
    if c is None or c.mode.kind is not ModeKind.NETWORKS:
        return "not in a namespace of its own on container networks: names are not looked up"
    for a in c.attachments:
        net = ctx.running.network(a.network) if ctx.running.has_network(a.network) else None
        if net is None or net.driver not in (Driver.BRIDGE, Driver.OVERLAY):
            return (f"attached to {a.network} ({net.driver.value if net else 'unknown'}): its upstream DNS "
                    "queries would bypass the uplink guard; names are not looked up")
    return None



def _running_address(ctx: LiveContext, p) -> tuple[str | None, Observation | None]:
    """A via-ip probe's target address as the engine runs it, or the observation that it has none."""
    addr = ctx.address_of.get((p.target, p.network))
    if addr is None:
        return None, Observation(p.key, None, "no-address", detail=f"{p.target} has no address on {p.network} running")
    return addr, None


def _observe_source(ctx: LiveContext, engine: Engine, source: str, items, helper: str | None,
                    timeout_ms: int = TIMEOUT_MS, dns_timeout: int = DNS_TIMEOUT_S) -> dict:
    if source == "external":
        return _observe_external(ctx, items, timeout_ms)
    out: dict[tuple, Observation] = {}
    container = ctx.design.container(source) if ctx.design.has_container(source) else None
    host_like = source == "host" or (container is not None and _host_mode(ctx, source))
    gateway, names = None, {}
    dns_timeouts: frozenset[str] = frozenset()
    nxdomain: frozenset[str] = frozenset()
    if container is not None and not host_like:
        assert helper is not None  # every source with a namespace of its own has one
        prep = exec_prepare(engine, helper, prepare_script([]))
        wanted = sorted({p.name for p in items if p.via == "dns" and p.name})
        why = _resolver_ok(ctx, source, prep.nameservers) if wanted and prep.complete else None
        if wanted and why is None and prep.complete:
            prep = exec_prepare(engine, helper, prepare_script(wanted, dns_timeout=dns_timeout))
            why = prep.note or None
        if not prep.complete:
            return {p.key: Observation(p.key, None, "error", transient=True, detail=f"the answer of the helper "
                                       f"in {source} was lost {EXEC_ATTEMPTS} times") for p in items}
        gateway, names = prep.gateway, prep.names
        dns_timeouts, nxdomain = prep.dns_timeouts, prep.nxdomain
    else:
        why = "names are not looked up from the host (the machine's resolver is off limits)"
    pending: list[tuple[str, Any, str]] = []
    for i, p in enumerate(items):
        addr: str | None = None
        obs: Observation | None = None
        if p.via == "ip":
            addr, obs = _running_address(ctx, p)
        elif p.via == "dns":
            if host_like or why:
                obs = Observation(p.key, None, "skipped", detail=why or "names are not looked up from the host")
            elif not names.get(p.name) and p.name in dns_timeouts:
                obs = Observation(p.key, None, "unresolved", transient=True,
                                  detail=f"{p.name}: no DNS answer in time in {source}")
            elif not names.get(p.name):
                obs = Observation(p.key, None, "unresolved", detail=f"{p.name} did not resolve in {source} "
                                  f"({'NXDOMAIN' if p.name in nxdomain else 'no address'})")
            else:
                addr = names[p.name][0]
        elif p.via == "host":
            if host_like:
                addr = "127.0.0.1"
            elif gateway:
                addr = gateway
            else:
                obs = Observation(p.key, None, "no-address", detail=f"{source} has no default route")
        else:
            obs = Observation(p.key, None, "skipped", detail=f"unknown probe kind via {p.via!r}")
        if obs is None and p.protocol not in ("tcp", "udp"):
            obs = Observation(p.key, addr, "unsupported", detail=f"{p.protocol} is not probed")
        # a probe several may answer is dialled as verify dials it
        addrs = addresses_to_dial(p, addr, names.get(p.name, ()) if p.via == "dns" else ()) if addr is not None else []
        if obs is None:
            assert addr is not None  # every probe without an observation yet has an address
            try:
                for a in addrs:
                    ctx.guard.check(a, source, host_ns=host_like)
            except UnsafeTarget as exc:
                obs = Observation(p.key, addr, "unsafe", detail=str(exc))
        if obs is not None:
            out[p.key] = obs
        else:
            pending.extend((f"p{i}" + (f"-{k}" if k else ""), p, a) for k, a in enumerate(addrs))
    if not pending:
        return out
    dials = [Dial(pid, p.protocol, addr, p.port) for pid, p, addr in pending]
    if host_like:
        raw = connect_sockets(dials, timeout_ms / 1000)
    else:
        assert helper is not None  # a source in a namespace of its own dials through its helper
        raw = exec_dials(engine, helper, dials, lambda todo: connect_script(todo, timeout_ms))
    seen: dict[tuple, list[Observation]] = {}
    for pid, p, addr in pending:
        seen.setdefault(p.key, []).append(_observation(ctx, p, addr, raw.get(pid)))
    for key, found in seen.items():
        out[key] = found[0] if len(found) == 1 else any_answered(found)
    return out


def _host_mode(ctx: LiveContext, key: str) -> bool:
    owner = ctx.running.namespace_owner(key) if ctx.running.has_container(key) else None
    return owner is not None and ctx.running.container(owner).mode.kind is ModeKind.HOST


def _observation(ctx: LiveContext, p, addr: str, r: DialResult | None) -> Observation:
    if r is None:
        return Observation(p.key, addr, "error", detail="the prober printed no result", transient=True)
    expected = tuple(getattr(p, "responders", ()) or ()) or ((p.responder,) if p.responder else ())
    if r.status == "OK":
        if p.via == "host":
            port_owner = next((k for (ip, port, proto), k in ctx.bindings.items()
                               if port == p.port and proto == p.protocol and ip in ("0.0.0.0", addr)), None)
            if port_owner is None:
                port_owner = ctx.owners.get(addr)  # a host-mode listener: the host's namespace
                if port_owner is None:
                    hosts = [c.name for c in ctx.running.containers if _host_mode(ctx, c.name) and any(
                        lst.port == p.port and lst.protocol.value == p.protocol for lst in c.listeners)]
                    port_owner = next((h for h in hosts if h in expected), hosts[0] if hosts else None)
            who = _responder(ctx, port_owner, p.port, p.protocol, expected)
        elif addr.startswith("127.") and _host_mode(ctx, p.source):
            who = None
        else:
            who = _responder(ctx, ctx.owners.get(addr), p.port, p.protocol, expected)
        if who is None:
            return Observation(p.key, addr, "answered", None, "accepted, but no container owns this address/port")
        return Observation(p.key, addr, "answered", who, "connection accepted" if p.protocol == "tcp" else r.answer)
    if r.status == "TIMEOUT" and p.protocol == "udp":
        return Observation(p.key, addr, "skipped", detail="UDP: no answer (a real service need not reply); not compared")
    status = {"REFUSED": "refused", "TIMEOUT": "timeout", "EMPTY": "empty", "UNSUPPORTED": "unsupported"}.get(r.status, "error")
    if r.status == "ERR" and "route" in r.answer.lower():
        status = "no-route"
    return Observation(p.key, addr, status, None, r.answer, transient=status == "timeout")


def remove_helpers(engine: Engine, session: str | None = None) -> list[str]:
    """Remove netsim's helper containers (of one session, or every one), one at a time."""
    labels = {LABEL_HELPER: "1"} if session is None else {LABEL_HELPER: "1", LABEL_SESSION: session}
    removed = []
    for obj in engine.list_by_label(labels):
        if obj.kind == "container" and obj.labels.get(LABEL_MANAGED) == "1":
            engine.remove(obj)
            removed.append(obj.name)
    return removed


def run_live_verify(design: Design, engine: Engine, scope: Scope, engine_version: str | None = None,
                    progress=None, reach: Callable | None = None, lan_ops=lanpeer,
                    probe_image: str | None = None, peer_ops=None) -> Comparison:
    """Probe the running environment of ``scope`` against the model of ``design``.

    ``peer_ops``: :mod:`simulator.adapters.live_peer` (the CLI's) emulates the LAN peer, so
    the ``external`` vantage point is probed too; without it, those probes are skipped."""
    progress = progress or NoProgress()
    from ..analysis.reachability import compute_reach

    model = _once(reach or compute_reach)  # the probed design is drift's design on this engine too
    snap = read_snapshot(engine, scope)
    imported = import_snapshot(snap, scope)
    if not imported.ids:
        raise EngineError(f"nothing of {scope.describe()} is running: nothing to verify")
    version = engine_version or engine_line(engine.version())
    host_local = [r for r, dev in lan_ops.host_routes() if dev != lan_ops.uplink_interface()]
    ctx = build_context(design, imported, lan_ops.host_routes(), host_local, _resolvers())
    result = model(ctx.design, version)  # the design with the running project's engine names
    notes = list(ctx.notes)
    notes.append("live mode: the environment was probed in place through helper containers; nothing of it was changed")
    image = probe_image or DEFAULT_PROBE_IMAGE
    session = uuid.uuid4().hex[:10]
    by_source = _by_source(result.probes)
    observations: dict[tuple, Observation] = {}
    with sigterm_as_interrupt():
        try:
            notes += list(engine.ensure_image(image, build_default=probe_image is None))
            helpers: dict[str, str] = {}
            for source, probes in by_source.items():
                if source != "host" and source != "external" and source not in ctx.ids:
                    observations.update({p.key: Observation(p.key, None, "skipped",
                                         detail=f"source {source} is not running") for p in probes})
            sources = [s for s in by_source if s in ("host", "external") or s in ctx.ids]
            for s in sources:
                if s not in ("host", "external") and not _host_mode(ctx, s):
                    helpers[s] = _create_helper(engine, image, ctx.ids[s], session, design.name, len(helpers))
            with ExitStack() as stack:
                guard_note = stack.enter_context(lan_ops.uplink_guard())
                notes.append(guard_note)
                ctx.names_ok = guard_note.startswith(GUARD_ACTIVE)
                if "external" in by_source:
                    why = _lan_vantage(ctx, stack, peer_ops)
                    if why is not None:
                        notes.append(f"external vantage point (the LAN) not probed: {why}")
                        sources.remove("external")
                        observations.update({p.key: Observation(p.key, None, "skipped", detail=f"the LAN peer: {why}")
                                             for p in by_source["external"]})
                    elif ctx.peer is not None:
                        peer = ctx.peer
                        notes.append(f"external vantage point probed from an emulated LAN peer: namespace "
                                     f"{peer.namespace} ({peer.peer_address}) joined to the host by its own "
                                     f"veth, routing only {', '.join(str(r) for r in peer.routed) or 'nothing'}"
                                     + (f" and the host's LAN address {peer.lan_address}" if peer.lan_address
                                        else "") + " through the host; removed afterwards")

                observations.update(_observe_all(ctx, engine, by_source, sources, helpers, progress))
                # as verify does: timeouts against the model are dialled once more, longer
                observations = retry_disagreeing(result.probes, observations, lambda again: _observe_all(
                    ctx, engine, _by_source(again), [s for s in sources if any(p.source == s for p in again)],
                    helpers, progress, "retry probing", RETRY_TIMEOUT_MS, RETRY_DNS_TIMEOUT_S))
        finally:
            progress.start("cleanup", 1)
            remove_helpers(engine, session)
            progress.advance()
    rows = compare(result.probes, observations)
    drift = compute_drift(design, imported, version, scope.describe(), reach=model)
    return LiveComparison(design.name, version, rows, live_addressing(ctx), tuple(dict.fromkeys(notes)),
                          drift=drift, causes=causes(rows, drift))


def _once(reach: Callable) -> Callable:
    """``reach`` computed once per design (compared by value) and engine version."""
    done: list[tuple[Design, str, Any]] = []

    def once(design: Design, version: str):
        for d, v, result in done:
            if v == version and d == design:
                return result
        result = reach(design, version)
        done.append((design, version, result))
        return result
    return once


def _lan_vantage(ctx: LiveContext, stack: ExitStack, peer_ops) -> str | None:
    """Set up the emulated LAN peer (``ctx.peer``, torn down with ``stack``); else why not."""
    if peer_ops is None:
        return "no LAN peer emulation here (the API caller gave none)"
    if not ctx.names_ok:
        return "the uplink guard is not active, so nothing is probed from a LAN peer"
    subnets = [n.subnet for n in ctx.imported.design.networks
               if n.driver is Driver.BRIDGE and n.subnet is not None and not n.default_bridge]
    subnets += [IPv4Network(f"{a}/32") for (c, n), a in ctx.address_of.items()
                if ctx.imported.design.has_network(n) and ctx.imported.design.network(n).default_bridge]
    lan = ctx.imported.design.hosts[0].lan_address.ip if "lan" in (ctx.imported.provenance.get("read") or {}) else None
    got = stack.enter_context(peer_ops.live_peer(subnets, lan))
    if isinstance(got, str):
        return got
    ctx.peer = got
    ctx.peer_guard = ProbeGuard.build(got.routed, [got.lan_address] if got.lan_address else [])
    return None


def _observe_external(ctx: LiveContext, items, timeout_ms: int) -> dict:
    """The LAN peer's probes: container addresses it routes and the host's LAN address."""
    out: dict[tuple, Observation] = {}
    peer, guard = ctx.peer, ctx.peer_guard
    assert peer is not None and guard is not None  # set up by _lan_vantage
    pending: list[tuple[str, Any, str]] = []
    for i, p in enumerate(items):
        addr: str | None = None
        obs: Observation | None = None
        if p.via == "ip":
            addr, obs = _running_address(ctx, p)
        elif p.via == "host":
            if peer.lan_address is None:
                obs = Observation(p.key, None, "skipped", detail="the host's LAN address was not read (or is not "
                                  "delivered locally): published ports are not dialled from the LAN peer")
            else:
                addr = str(peer.lan_address)
        else:
            obs = Observation(p.key, None, "skipped", detail="names are not looked up from the LAN peer "
                              "(the machine's resolver is off limits)")
        if obs is None and p.protocol not in ("tcp", "udp"):
            obs = Observation(p.key, addr, "unsupported", detail=f"{p.protocol} is not probed")
        if obs is None:
            assert addr is not None  # every probe without an observation yet has an address
            try:
                guard.check(addr, "the LAN peer")
            except UnsafeTarget as exc:
                obs = Observation(p.key, addr, "unsafe", detail=f"{exc} (not routed for the LAN peer: a macvlan, "
                                  "ipvlan or overlay subnet, or the uplink's)")
        if obs is not None:
            out[p.key] = obs
        elif addr is not None:
            pending.append((f"p{i}", p, addr))
    if pending:
        raw = peer_dials(peer.namespace, [Dial(pid, p.protocol, a, p.port) for pid, p, a in pending], timeout_ms)
        for pid, p, a in pending:
            out[p.key] = _observation(ctx, p, a, raw.get(pid))
    return out


def _by_source(probes) -> dict[str, list]:
    out: dict[str, list] = defaultdict(list)
    for p in probes:
        out[p.source].append(p)
    return out


def _observe_all(ctx: LiveContext, engine: Engine, by_source: dict[str, list], sources: Sequence[str],
                 helpers: dict[str, str], progress, phase: str = "probing", timeout_ms: int = TIMEOUT_MS,
                 dns_timeout: int = DNS_TIMEOUT_S) -> dict[tuple, Observation]:
    """Observe the probes of every source, in parallel (bounded)."""
    progress.start(phase, len(sources))

    def run(s: str) -> dict:
        try:
            return _observe_source(ctx, engine, s, by_source[s], helpers.get(s), timeout_ms, dns_timeout)
        except EngineError as exc:
            return {p.key: Observation(p.key, None, "error", detail=str(exc)) for p in by_source[s]}
        finally:
            progress.advance()

    out: dict[tuple, Observation] = {}
    with ThreadPoolExecutor(PARALLEL) as pool:
        for part in pool.map(run, sources):
            out.update(part)
    return out


def _create_helper(engine: Engine, image: str, target_id: str, session: str, design: str, n: int) -> str:
    spec = ContainerSpec(
        key=f"helper{n}", name=f"netsim-helper-{session}-{n}", image=image,
        command=("/bin/sh", "-c", "exec sleep 900"), network_mode=f"container:{target_id}",
        labels=tuple(sorted(helper_labels(session, design).items())),
    )
    cid = engine.create_container(spec)
    engine.start(cid)
    return cid


def _resolvers() -> list[str]:
    try:
        with open("/etc/resolv.conf") as fh:
            return [line.split()[1] for line in fh if line.startswith("nameserver") and len(line.split()) > 1]
    except OSError:
        return []
