"""What a change to a design does to reachability and exposure, for review before it lands.

Probes of the two matrices are matched by :attr:`Probe.key` (source, way, target,
network, name, host, port, protocol, family). A path is *opened* when a probe answers in the
new design and did not answer (or did not exist) in the old one, *closed* the other way
round, *changed* when both answer but another container does; a probe over IPv6 is matched
only with the same probe over IPv6. Exposure entries (who can reach which listener from outside
its networks, through what, over which family) are compared as sets.
Swarm services are compared by name, field by field (mode, replicas, endpoint mode, networks,
published ports, constraints, placement), so a change of replicas reads as such and not only as
task containers appearing or disappearing. The IPv6 side of hosts (daemon ipv6, ip6tables,
experimental, fixed_cidr_v6, IPv6 LAN address), networks (IPv6 subnet and gateway) and
containers (IPv6 addresses, ports published on IPv6 host addresses) is compared the same way.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from .analysis.exposure import Exposure, compute_exposure, own_names
from .analysis.paths import PairProbes, probes_given, shared_matrix
from .analysis.probes import Probe, Via
from .analysis.reachability import ProbeGroup, ReachResult
from .engine.rules import ip6tables_managed
from .engine.topology import World
from .intent.evidence import describe_probe, outcome_of
from .model import Design, SwarmService
from .render.services import port_text


@dataclass(frozen=True, slots=True)
class Change:
    kind: str  # opened | closed | changed
    old: Probe | None
    new: Probe | None

    @property
    def probe(self) -> Probe:
        if self.new is not None:
            return self.new
        assert self.old is not None, "a change has an old or a new probe"
        return self.old

    def __str__(self) -> str:
        p, old, new = self.probe, self.old, self.new
        if self.kind == "opened":
            assert new is not None, "an opened path answers in the new design"
            was = "did not exist" if old is None else f"was {old.disposition.value}"
            return f"+ {describe_probe(p)}: now answered by {new.responder} ({was})"
        assert old is not None, "a closed or changed path answered in the old design"
        if self.kind == "closed":
            now = "no longer exists" if new is None else outcome_of(new)
            return f"- {describe_probe(p)}: was answered by {old.responder}, now {now}"
        assert new is not None, "a changed path answers in both designs"
        return f"~ {describe_probe(p)}: answered by {old.responder}, now by {new.responder}"

    def to_json(self) -> dict:
        return {"change": self.kind, "old": self.old.to_json() if self.old else None,
                "new": self.new.to_json() if self.new else None}


SERVICE_FIELDS = ("mode", "replicas", "endpoint_mode", "networks", "ingress_ports", "host_ports", "constraints",
                  "placement", "pending")


@dataclass(frozen=True, slots=True)
class ServiceChange:
    """A swarm service added, removed, or changed; ``fields``: (field, old value, new value) of each
    field of :data:`SERVICE_FIELDS` that differs (added: every field's new value, removed: its old)."""

    kind: str  # added | removed | changed
    service: str
    fields: tuple[tuple[str, object, object], ...]

    def __str__(self) -> str:
        return _fields_text(self.kind, f"service {self.service}", self.fields)

    def to_json(self) -> dict:
        return {"change": self.kind, "service": self.service, "fields": _fields_json(self.fields)}


def _fields_json(fields: tuple[tuple[str, object, object], ...]) -> dict:
    """Each changed field as ``{field: {"old": …, "new": …}}``."""
    return {f: {"old": _json(old), "new": _json(new)} for f, old, new in fields}


def _fields_text(kind: str, subject: str, fields: tuple[tuple[str, object, object], ...]) -> str:
    """``+ service api: mode replicated; …``, ``- … (was …)`` or ``~ …: field from old to new; …``."""
    def label(f: str) -> str:
        return f.replace("_", " ")

    if kind == "added":
        return f"+ {subject}: " + "; ".join(f"{label(f)} {_shown(new)}" for f, _, new in fields if new not in ((), 0, None))
    if kind == "removed":
        return f"- {subject} (was " + "; ".join(f"{label(f)} {_shown(old)}" for f, old, _ in fields
                                               if old not in ((), 0, None)) + ")"
    return f"~ {subject}: " + "; ".join(f"{label(f)} from {_shown(old)} to {_shown(new)}" for f, old, new in fields)


@dataclass(frozen=True, slots=True)
class Ipv6Change:
    """The IPv6 side of a host, network or container added, removed or changed: ``fields`` as in
    :class:`ServiceChange` (:data:`IPV6_FIELDS` of its ``subject``)."""

    kind: str  # added | removed | changed
    subject: str  # host | network | container
    name: str
    fields: tuple[tuple[str, object, object], ...]

    def __str__(self) -> str:
        return _fields_text(self.kind, f"{self.subject} {self.name}", self.fields)

    def to_json(self) -> dict:
        return {"change": self.kind, self.subject: self.name, "fields": _fields_json(self.fields)}


IPV6_FIELDS = {
    "host": ("ipv6", "ip6tables", "experimental", "fixed_cidr_v6", "lan_address6"),
    "network": ("enable_ipv6", "subnet6", "gateway6"),
    "container": ("ipv6_addresses", "ipv6_ports"),
}


def _ipv6_sides(design: Design, world: World) -> dict[tuple[str, str], dict[str, object]]:
    """(subject, name) -> the values of :data:`IPV6_FIELDS` netsim compares, for every host, network and
    container with something IPv6 about it (the engine's effective values: subnets and gateways as
    the IPAM gives them, ip6tables as the engine line defaults it)."""
    out: dict[tuple[str, str], dict[str, object]] = {}
    addressing = world.addressing
    for h in design.hosts:
        d = h.daemon
        managed = ip6tables_managed(h, world.version)
        row: dict[str, object] = {"ipv6": d.ipv6, "ip6tables": "on" if managed else "off", "experimental": d.experimental,
                                  "fixed_cidr_v6": str(d.fixed_cidr_v6) if d.fixed_cidr_v6 else None,
                                  "lan_address6": str(h.lan_address6) if h.lan_address6 else None}
        if d.ipv6 or d.ip6tables is not None or d.fixed_cidr_v6 or h.lan_address6:
            out[("host", h.name)] = row
    segments: dict[str, list] = {}
    for seg in addressing.segments6.values():
        segments.setdefault(seg.network, []).append(seg)
    for n in design.networks:
        segs = segments.get(n.name, [])
        if n.enable_ipv6 or segs:
            out[("network", n.name)] = {"enable_ipv6": n.enable_ipv6 or bool(segs),
                                        "subnet6": tuple(dict.fromkeys(str(s.subnet) for s in segs)),
                                        "gateway6": tuple(dict.fromkeys(str(s.gateway) for s in segs))}
    for c in design.containers:
        addresses = tuple(f"{ep.address} on {n}" for n in c.networks if (ep := addressing.endpoint6(c.name, n)) is not None)
        ports = tuple(port_text(m) for m in c.ports if m.host_ip is not None and m.host_ip.version == 6)
        if addresses or ports:
            out[("container", c.name)] = {"ipv6_addresses": addresses, "ipv6_ports": ports}
    return out


def ipv6_changes(old: Design, old_world: World, new: Design, new_world: World) -> tuple[Ipv6Change, ...]:
    """The IPv6 settings and addresses that differ from ``old`` to ``new``: hosts' daemon settings and
    IPv6 LAN addresses, networks' IPv6 subnets and gateways, containers' IPv6 addresses and ports
    published on IPv6 host addresses (hosts, then networks, then containers, each by name)."""
    before, after = _ipv6_sides(old, old_world), _ipv6_sides(new, new_world)
    order = {"host": 0, "network": 1, "container": 2}
    out = []
    for subject, name in sorted(set(before) | set(after), key=lambda k: (order[k[0]], k[1])):
        a, b = before.get((subject, name)), after.get((subject, name))
        fields = IPV6_FIELDS[subject]
        if a is None and b is not None:
            out.append(Ipv6Change("added", subject, name, tuple((f, None, b[f]) for f in fields)))
        elif b is None and a is not None:
            out.append(Ipv6Change("removed", subject, name, tuple((f, a[f], None) for f in fields)))
        elif a is not None and b is not None and a != b:
            out.append(Ipv6Change("changed", subject, name, tuple((f, a[f], b[f]) for f in fields if a[f] != b[f])))
    return tuple(out)


def _shown(value: object) -> str:
    if value is None:
        return "-"
    if isinstance(value, tuple):
        return ", ".join(map(str, value)) if value else "none"
    return str(value)


def _json(value: object) -> object:
    return list(value) if isinstance(value, tuple) else value


def _service_fields(design: Design, svc: SwarmService) -> dict[str, object]:
    """What ``netsim diff`` compares of a swarm service (values of :data:`SERVICE_FIELDS`)."""
    tasks = design.tasks(svc.name)
    counts: dict[str, int] = {}
    for t in tasks:
        counts[t.host] = counts.get(t.host, 0) + 1
    constraints = [" ".join(c) for c in svc.constraints]
    if svc.max_replicas_per_node is not None:
        constraints.append(f"max {svc.max_replicas_per_node} per node")
    host_ports = dict.fromkeys(port_text(m) for t in tasks for m in t.ports)
    return {"mode": "global" if svc.global_mode else "replicated",
            "replicas": None if svc.global_mode else len(tasks) + svc.pending,
            "endpoint_mode": svc.endpoint_mode, "networks": svc.networks,
            "ingress_ports": tuple(port_text(m) for m in svc.ingress), "host_ports": tuple(host_ports),
            "constraints": tuple(constraints),
            "placement": tuple(f"{h.name} ×{counts[h.name]}" for h in design.hosts if h.name in counts),
            "pending": svc.pending}


def service_changes(old: Design, new: Design) -> tuple[ServiceChange, ...]:
    """The swarm services added, removed or changed from ``old`` to ``new``, by name (sorted)."""
    before = {s.name: _service_fields(old, s) for s in old.services}
    after = {s.name: _service_fields(new, s) for s in new.services}
    out = []
    for name in sorted(set(before) | set(after)):
        a, b = before.get(name), after.get(name)
        if a is None and b is not None:
            out.append(ServiceChange("added", name, tuple((f, None, b[f]) for f in SERVICE_FIELDS)))
        elif b is None and a is not None:
            out.append(ServiceChange("removed", name, tuple((f, a[f], None) for f in SERVICE_FIELDS)))
        elif a is not None and b is not None and a != b:
            out.append(ServiceChange("changed", name, tuple((f, a[f], b[f]) for f in SERVICE_FIELDS if a[f] != b[f])))
    return tuple(out)


@dataclass(frozen=True, slots=True)
class DesignDiff:
    old: str
    new: str
    engine_version: str
    changes: tuple[Change, ...]
    exposed: tuple[Exposure, ...]  # newly exposed listeners
    unexposed: tuple[Exposure, ...]  # no longer exposed
    services: tuple[ServiceChange, ...] = ()  # swarm services added, removed or changed
    ipv6: tuple[Ipv6Change, ...] = ()  # IPv6 settings and addresses of hosts, networks and containers

    @property
    def empty(self) -> bool:
        return not (self.changes or self.exposed or self.unexposed or self.services or self.ipv6)

    def of(self, kind: str) -> list[Change]:
        return [c for c in self.changes if c.kind == kind]

    def to_json(self) -> dict:
        return {
            "old": self.old, "new": self.new, "engine_version": self.engine_version,
            "opened": [c.to_json() for c in self.of("opened")],
            "closed": [c.to_json() for c in self.of("closed")],
            "changed": [c.to_json() for c in self.of("changed")],
            "newly_exposed": [e.to_json() for e in self.exposed],
            "no_longer_exposed": [e.to_json() for e in self.unexposed],
            "services": [s.to_json() for s in self.services],
            "ipv6": [c.to_json() for c in self.ipv6],
        }


def _exposure_key(e: Exposure) -> tuple:
    return (e.container, e.port, e.protocol, e.audience, e.through, e.family)


def diff_results(old: ReachResult, new: ReachResult) -> DesignDiff:
    """Every reachability and exposure change from ``old`` to ``new``.

    Pairs of classes that are the same in both designs (the same containers, namespaces and names)
    and answer alike in both (one group each, the same outcome, count and responder class) cannot
    differ probe by probe: they are compared as groups. Only the other pairs' probes are made, on
    both sides, and compared by key; so the cost grows with what differs, not with every pair.
    Results given probes (observations) are compared probe by probe."""
    if probes_given(old) or probes_given(new):
        before = {p.key: p for p in old.iter_probes()}
        after = {p.key: p for p in new.iter_probes()}
    else:
        before, after = _differing_probes(old, new)
    changes = []
    for key in sorted(set(before) | set(after), key=lambda k: tuple("" if x is None else str(x) for x in k)):
        a, b = before.get(key), after.get(key)
        was, now = bool(a and a.reachable), bool(b and b.reachable)
        if now and not was:
            changes.append(Change("opened", a, b))
        elif was and not now:
            changes.append(Change("closed", a, b))
        elif a is not None and b is not None and was and now and a.responder != b.responder:
            changes.append(Change("changed", a, b))
    ex_old = {_exposure_key(e): e for e in compute_exposure(old)}
    ex_new = {_exposure_key(e): e for e in compute_exposure(new)}
    exposed = tuple(ex_new[k] for k in sorted(set(ex_new) - set(ex_old), key=str))
    unexposed = tuple(ex_old[k] for k in sorted(set(ex_old) - set(ex_new), key=str))
    return DesignDiff(old.design.source, new.design.source, str(new.world.version), tuple(changes), exposed, unexposed,
                      service_changes(old.design, new.design),
                      ipv6_changes(old.design, old.world, new.design, new.world))


class _Side:
    """One design's groups of one family by pair of classes, and its probes made one at a time on
    request (a design without IPv6 has an empty IPv6 side: ``result`` None)."""

    def __init__(self, result: ReachResult | None):
        self.combos: dict[tuple, list[ProbeGroup]] = {}
        if result is None:
            return
        self.result = result
        self.pairs = PairProbes(shared_matrix(result))
        self.own = own_names(result)
        own = {n for names in self.own.values() for n in names}
        family = result.world.family
        for g in result.groups():  # a group of own names carries the name when it stands for one: not part of the pair
            if g.family != family:
                continue  # the other family's side holds it
            name = None if g.name in own else g.name
            self.combos.setdefault((g.source_class, g.via, g.target_class, g.network, name, g.host, g.port, g.protocol),
                                   []).append(g)
        self.members = {c.id: c.members for c in result.classes}
        held: dict = {}
        for ns in result.world.namespaces.values():
            for addr in ns.addresses():
                held[addr] = held.get(addr, 0) + 1
        # containers an address of whose namespace another namespace holds too (a subnet on two hosts):
        # a probe to them may be answered by that other one, so their groups do not tell each responder
        self.shared = {m for m, ns_id in result.world.ns_of.items()
                       if any(held[a] > 1 for a in result.world.namespaces[ns_id].addresses() if not a.is_loopback)}

    def shape(self, class_id: str | None) -> tuple:
        """What makes a class the same class in another design: its members, their engine names and
        the containers sharing each one's namespace (a source that is no container: its name)."""
        if class_id is None:
            return ()
        members = self.members.get(class_id)
        if members is None:
            return (class_id,)
        world, design = self.result.world, self.result.design
        return tuple((m, design.container(m).engine_name,
                      tuple(world.namespaces[world.ns_of[m]].members) if m in world.ns_of else ()) for m in members)

    def signature(self, groups: list[ProbeGroup]) -> tuple:
        """The outcome of a pair of classes as the diff compares it, and the classes it involves."""
        classes: list[str | None] = [groups[0].source_class, *(groups[0].target_class or "").split(" + ")]
        classes += [g.responder_class for g in groups]
        outcome = [(g.reachable, g.responder_class, g.count, g.example.responder if g.via == Via.HOST or g.name else None)
                   for g in groups]
        return (tuple(self.shape(c or None) for c in classes), tuple(outcome))

    def alone(self, groups: list[ProbeGroup]) -> bool:
        """Whether the pair's targets hold addresses no other namespace holds (their responders then
        follow from their classes)."""
        targets = [m for c in (groups[0].target_class or "").split(" + ") for m in self.members.get(c, ())]
        return not any(t in self.shared for t in targets)

    def responders(self, groups: list[ProbeGroup]) -> list[str | None]:
        """Who answers each probe of the pair's first source (members of a source class live on one
        host: where an address is held on several hosts, the same one answers them all)."""
        return [p.responder for p in self.probes(groups, first_only=True)]

    def probes(self, groups: list[ProbeGroup], first_only: bool = False) -> Iterator[Probe]:
        """Every probe of one pair of classes, exactly (``first_only``: of its first source)."""
        g = groups[0]
        sources = [s for s in self.members.get(g.source_class, (g.source_class,)) if s in self.pairs.sources]
        sources = sources[:1] if first_only else sources
        for source in sources:
            p: Probe | None
            if g.via == Via.IP:
                assert g.network is not None  # a probe via ip dials an address on a network
                for target in self.members.get(g.target_class or "", ()):
                    p = self.pairs.ip(source, target, g.network, g.port, g.protocol)
                    if p is not None:
                        yield p
            elif g.via == Via.DNS:
                own = self.own.get(g.target_class or "", [])
                for name in [g.name] if g.name is not None and g.name not in own else own:
                    p = self.pairs.dns(source, name, g.port, g.protocol)
                    if p is not None:
                        yield p
            else:
                p = self.pairs.host(source, g.host, g.port, g.protocol)
                if p is not None:
                    yield p


def _differing_probes(old: ReachResult, new: ReachResult) -> tuple[dict[tuple, Probe], dict[tuple, Probe]]:
    """The probes of both designs except those of pairs of classes the same on both sides and
    answering alike (one group each, the same outcome), by key; each family on its own (a probe's
    key holds its family)."""
    before: dict[tuple, Probe] = {}
    after: dict[tuple, Probe] = {}
    _differing(_Side(old), _Side(new), before, after)
    v6_old, v6_new = old.v6, new.v6
    if v6_old is not None or v6_new is not None:
        _differing(_Side(v6_old), _Side(v6_new), before, after)
    return before, after


def _differing(a: _Side, b: _Side, before: dict[tuple, Probe], after: dict[tuple, Probe]) -> None:
    """:func:`_differing_probes` of one family: ``a``'s and ``b``'s probes that may differ, into
    ``before`` and ``after``."""
    for key in dict.fromkeys([*a.combos, *b.combos]):
        ga, gb = a.combos.get(key), b.combos.get(key)
        if ga and gb and len(ga) == len(gb) == 1 and a.signature(ga) == b.signature(gb) and (
                (a.alone(ga) and b.alone(gb)) or a.responders(ga) == b.responders(gb)):
            continue  # the same classes, answering alike (each target by the same container): no probe of theirs differs
        if ga and gb and not any(g.reachable for g in ga + gb) and a.signature(ga)[0] == b.signature(gb)[0]:
            continue  # the same probes, answered by nobody on either side
        if ga:
            before.update((p.key, p) for p in a.probes(ga))
        if gb:
            after.update((p.key, p) for p in b.probes(gb))


def render_text(d: DesignDiff) -> str:
    if d.empty:
        return f"{d.old} -> {d.new} (engine {d.engine_version}): no change in reachability or exposure\n"
    n = {k: len(d.of(k)) for k in ("opened", "closed", "changed")}
    services = f"{len(d.services)} swarm service(s) added, removed or changed; " if d.services else ""
    services += f"{len(d.ipv6)} IPv6 setting(s) or address(es) changed; " if d.ipv6 else ""
    lines = [f"{d.old} -> {d.new} (engine {d.engine_version}): {services}{n['opened']} path(s) opened, "
             f"{n['closed']} closed, {n['changed']} answered by another container; {len(d.exposed)} newly exposed, "
             f"{len(d.unexposed)} no longer exposed"]
    if d.services:
        lines.append("\nSwarm services:")
        lines.extend(f"  {s}" for s in d.services)
    if d.ipv6:
        lines.append("\nIPv6 (hosts, networks, containers):")
        lines.extend(f"  {c}" for c in d.ipv6)
    for title, kind in (("Opened", "opened"), ("Closed", "closed"), ("Answered by another container", "changed")):
        if d.of(kind):
            lines.append(f"\n{title}:")
            lines.extend(f"  {c}" for c in d.of(kind))
    for title, items in (("Newly exposed", d.exposed), ("No longer exposed", d.unexposed)):
        if items:
            lines.append(f"\n{title}:")
            lines.extend(f"  {e.container} {e.port}/{e.protocol} from {e.audience}{' over IPv6' if e.family == 6 else ''} "
                         f"through {e.through} (e.g. {e.example})" for e in items)
    return "\n".join(lines) + "\n"
