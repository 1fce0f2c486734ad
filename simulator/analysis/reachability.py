"""The reachability matrix: every source × target listener × way of addressing it.

Sources: every container, the Docker host (``host``; in multi-host designs each host by
name) and ``external`` (a LAN peer that routes container subnets through the hosts).
Ways: ``ip`` (the target's address on each of its networks), ``dns`` (every name the
design defines, looked up from the source), ``host`` (the Docker host's address at a
host port: a container's default gateway, 127.0.0.1 from the host, the LAN address
from outside).

Walks are shared between probes of the same class (same sender profile, same target
segment, port and protocol, same published/listening situation): the matrix of a
thousand containers then costs a few thousand walks, not a million.
"""

from __future__ import annotations

import dataclasses
import functools
import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from ipaddress import IPv4Address, IPv6Address, ip_address
from operator import attrgetter
from typing import TypeVar, overload

from ..engine.dns import NameTable, vip_of
from ..engine.ipam import GWBRIDGE
from ..engine.topology import EXTERNAL, Namespace, World, build_world
from ..engine.trace import Address, Disposition, DnsStep, Hop, Place, Step, Trace
from ..engine.walk import walk
from ..fanout import ordered_map
from ..model import Design
from ..values import quick_init
from .classes import ContainerClass, container_classes
from .mesh import mesh_ports, placement_note, scheduled_host_ports, through_mesh
from .probes import Probe, Via, via_text
from .roundrobin import RoundRobin, balanced_reason

_R = TypeVar("_R")
_V = TypeVar("_V")

LOCALHOST = IPv4Address("127.0.0.1")
LOCALHOST6 = IPv6Address("::1")
OUTCOME_CACHE = 200_000  # outcomes kept per (sender, address, port): past this the cache starts again


class _Probes:
    """The ``probes`` field of a :class:`ReachResult`: the probes given, or every probe of the
    matrix materialised once on first use (a data descriptor: dataclasses pass the field's value
    to ``__set__``, so ``dataclasses.replace(result, probes=...)`` still works)."""

    @overload
    def __get__(self, obj: None, owner: type | None = None) -> None: ...

    @overload
    def __get__(self, obj: ReachResult, owner: type | None = None) -> tuple[Probe, ...]: ...

    def __get__(self, obj: ReachResult | None, owner: type | None = None) -> tuple[Probe, ...] | None:
        if obj is None:
            return None  # the field's default: computed on first use
        probes = obj.__dict__.get("_given")
        if probes is None:
            probes = obj.__dict__.get("_probes")
        if probes is None:
            probes = obj.__dict__["_probes"] = tuple(obj.iter_probes())
        return probes

    def __set__(self, obj: ReachResult, value: Iterable[Probe] | None) -> None:
        obj.__dict__["_given"] = None if value is None else tuple(value)


@quick_init
@dataclass(frozen=True, slots=True)
class ProbeGroup:
    """Probes that one pair of classes makes alike: same source class, way, target class,
    network, name, host, port and protocol, and the same outcome (disposition, responder class,
    the reason up to addresses). ``reason`` and ``example`` are those of the group's first
    probe in matrix order; ``count`` how many probes the group stands for.

    ``source_class``: a class id, or ``host``, ``external`` or a host name. ``target_class``: via
    ip the class of the target, via dns the class of the containers carrying the name (ids joined
    with " + " when several classes carry it), via host None. ``name``: via dns the name when
    the group stands for one name, None when it stands for each target member's own name.
    """

    source_class: str
    via: Via
    target_class: str | None
    network: str | None
    name: str | None
    host: str | None
    port: int
    protocol: str
    disposition: Disposition
    reason: str
    responder_class: str | None
    count: int
    example: Probe
    targets: Sequence[tuple[str, int]] = ()  # a coarse group's: its shared counts (TargetCounts)
    family: int = 4  # the address family of its probes (a group never mixes families)

    @property
    def reachable(self) -> bool:
        return self.disposition is Disposition.DELIVERED

    def __reduce__(self) -> tuple:
        """Pickled as a call with its fields (groups travel back from worker processes): the default
        state of a slotted dataclass is read and set field by field, several times slower."""
        return (ProbeGroup, _group_fields(self))

    @property
    def target_counts(self) -> Sequence[tuple[str, int]]:
        """The target classes this group covers, each with its number of probes: ``targets`` for a
        group of :meth:`ReachResult.coarse_groups`, else its one target class (none via host)."""
        if self.targets:
            return self.targets
        return ((self.target_class, self.count),) if self.target_class is not None else ()

    def covered_classes(self) -> frozenset[str] | set[str]:
        """The target classes of :attr:`target_counts`, as a set (a coarse group's shared set is not
        laid out again for this)."""
        shared = getattr(self.targets, "classes", None)
        return shared() if shared is not None else {t for t, _ in self.target_counts}

    def counts_by_class(self) -> dict[str, int]:
        """:attr:`target_counts` as a dict (a coarse group's shared counts are not copied for this:
        read it, never change it)."""
        shared = getattr(self.targets, "counts", None)
        return shared() if shared is not None else dict(self.target_counts)

    def target_preview(self, most: int = 3) -> tuple[list[str], int]:
        """The first ``most`` target classes of the group and how many it covers (a coarse group's
        shared counts are not laid out for this)."""
        preview = getattr(self.targets, "preview", None)
        if preview is not None:
            return preview(most)
        names = [c for c, _ in self.target_counts]
        return names[:most], len(names)

    def to_json(self, with_trace: bool = False) -> dict:
        """One entry of ``groups`` in ``netsim reach --by class --format json`` (docs/reach-json.md)."""
        out: dict[str, object] = {
            "source_class": self.source_class,
            "via": via_text(self.via),
            "target_class": self.target_class,
            "network": self.network,
            "name": self.name,
            "host": self.host,
            "port": self.port,
            "protocol": self.protocol,
            "family": self.family,
            "count": self.count,
            "reachable": self.disposition is Disposition.DELIVERED,
            "responder_class": self.responder_class,
            "disposition": self.disposition._value_,
            "reason": self.reason,
            "example": self.example.to_json(with_trace),
        }
        shared = getattr(self.targets, "shared_json", None)  # a coarse group (docs/reach-json.md)
        from_set = shared() if shared is not None else None
        if from_set is not None:
            out["targets_from"] = from_set
        else:
            listed = getattr(self.targets, "listed", None)  # (a coarse group's counts write their own list)
            targets = listed() if listed is not None else [{"class": t, "count": n} for t, n in self.targets]
            if targets:
                out["targets"] = targets
        return out


_group_fields = attrgetter(*(f.name for f in dataclasses.fields(ProbeGroup)))  # every field, in order: ProbeGroup.__reduce__


@dataclass(frozen=True)
class ReachResult:
    """The reachability matrix of one world.

    ``probes`` is every probe (materialised once, on first use; keep it for small designs and
    verify); :meth:`iter_probes` streams the same probes without holding them; :meth:`groups`
    gives the class-level rows, whose number grows with the classes, not the containers.
    """

    design: Design
    world: World
    probes: _Probes = _Probes()  # tuple[Probe, ...]: see _Probes
    with_traces: bool = False
    workers: int = 1  # processes that compute the coarse groups of a large design (simulator.fanout)

    @property
    def engine_version(self) -> str:
        return str(self.world.version)

    @property
    def v6(self) -> ReachResult | None:
        """The matrix of the design's IPv6 side (:attr:`World.v6`): its probes and groups are of family
        6. None when the design has no IPv6, or this result is itself that side. Without probes given,
        :meth:`iter_probes`, :meth:`groups`, :meth:`coarse_groups` and the maps give both families:
        per source (class), its IPv4 ones, then its IPv6 ones."""
        if "_v6" not in self.__dict__:
            w6 = self.world.v6
            six = None if w6 is None else ReachResult(self.design, w6, with_traces=self.with_traces, workers=self.workers)
            if six is not None:
                six.__dict__["_classes"] = self.classes  # the same classes (a class never splits by family)
            self.__dict__["_v6"] = six
        return self.__dict__["_v6"]

    def _matrix(self) -> Matrix:
        m = self.__dict__.get("_matrix_")
        if m is None:
            m = self.__dict__["_matrix_"] = Matrix(self.world, self.with_traces)
        return m

    @property
    def classes(self) -> tuple[ContainerClass, ...]:
        """Every container of the design in exactly one class (:func:`container_classes`)."""
        cs = self.__dict__.get("_classes")
        if cs is None:
            cs = self.__dict__["_classes"] = container_classes(self.world)
        return cs

    def class_of(self, container: str) -> ContainerClass:
        """The class of one container of the design."""
        if "_class_of" not in self.__dict__:
            self.__dict__["_class_of"] = {m: c for c in self.classes for m in c.members}
        return self.__dict__["_class_of"][container]

    def source_names(self) -> list[str]:
        """Every source of the matrix, in order: the containers, then ``host`` (or each host) and ``external``."""
        return [name for name, _ in self._matrix().sources()]

    def iter_probes(self) -> Iterator[Probe]:
        """Every probe, in matrix order, one at a time (the probes given, when there are)."""
        given = self.__dict__.get("_given")
        if given is None:
            given = self.__dict__.get("_probes")
        if given is not None:
            return iter(given)
        six = self.v6
        if six is None:
            return self._matrix().iter_probes()
        return (p for name, ns, ns6 in self._both_sources(six) for p in self._source_probes(six, name, ns, ns6))

    def _both_sources(self, six: ReachResult) -> list[tuple[str, Namespace, Namespace | None]]:
        """Every source with its namespace, and its IPv6 namespace when it is a source over IPv6 too."""
        over6 = dict(six._matrix().sources())
        return [(name, ns, over6.get(name)) for name, ns in self._matrix().sources()]

    def _source_probes(self, six: ReachResult, name: str, ns: Namespace, ns6: Namespace | None) -> Iterator[Probe]:
        """One source's probes of both families: IPv4, then IPv6."""
        yield from self._matrix().probes_of(name, ns, self._plan())
        if ns6 is not None:
            yield from six._matrix().probes_of(name, ns6, six._plan())

    def _plan(self) -> tuple:
        """:meth:`Matrix.plan` of this result's matrix, made once."""
        plan = self.__dict__.get("_plan_")
        if plan is None:
            plan = self.__dict__["_plan_"] = self._matrix().plan()
        return plan

    def map_probes(self, work: Callable[[list[Probe]], _R], sources: Iterable[str] | None = None) -> Iterator[_R]:
        """``work(every probe of one source)`` for every source (``sources``: these), in matrix order:
        what a command makes of them (JSON text) is made beside them, in :attr:`workers` processes
        on a large design, so only the results travel (memory grows with one source's probes)."""
        only = None if sources is None else set(sources)
        given = self.__dict__.get("_given")
        if given is None:
            given = self.__dict__.get("_probes")
        if given is not None:
            from itertools import groupby

            return (work(list(ps)) for src, ps in groupby(given, key=lambda p: p.source) if only is None or src in only)
        m = self._matrix()
        six = self.v6
        if six is not None:
            both = [s for s in self._both_sources(six) if only is None or s[0] in only]
            return ordered_map(lambda source: work(list(self._source_probes(six, *source))), both, self.workers, chunk=4,
                               least=16, affinity=lambda source: source[1].host)
        todo = [(name, ns) for name, ns in m.sources() if only is None or name in only]
        plan = m.plan()
        return ordered_map(lambda source: work(list(m.probes_of(*source, plan))), todo, self.workers, chunk=4,
                           least=16, affinity=lambda source: source[1].host)

    def groups(self, sources: Iterable[str] | None = None) -> Iterator[ProbeGroup]:
        """The class-level rows of the matrix: source classes in order (containers' classes, then
        the host(s) and ``external``), each with its groups via ip (target classes in order, each
        target's networks and ports), via dns (names in order), via host.

        One walk per pair of representatives: the cost grows with the classes, not the containers.
        With probes given (``dataclasses.replace(result, probes=...)``), the groups of those probes,
        gathered by walking them, in the order of their first probe. ``sources``: only the groups of
        these source classes (ids as :attr:`ProbeGroup.source_class` names them), the others not computed."""
        given = self.__dict__.get("_given")
        only = None if sources is None else set(sources)
        if given is not None:
            return iter(g for g in _group(self, given) if only is None or g.source_class in only)
        todo, groups_of = self._class_sources(only)
        return (g for source in todo for g in groups_of(source))

    def map_groups(self, work: Callable[[str, list[ProbeGroup]], _R], sources: Iterable[str] | None = None) -> Iterator[_R]:
        """``work(source class, its groups)`` (those of :meth:`groups`) for every source class
        (``sources``: these), in matrix order; in :attr:`workers` processes on a large design, as
        :meth:`map_coarse`, so only what ``work`` makes of them travels."""
        only = None if sources is None else set(sources)
        if self.__dict__.get("_given") is not None:
            by_class: dict[str, list[ProbeGroup]] = {}
            for g in self.groups(only):
                by_class.setdefault(g.source_class, []).append(g)
            return (work(cid, gs) for cid, gs in by_class.items())
        todo, groups_of = self._class_sources(only)
        return ordered_map(lambda source: work(source[0], groups_of(source)), todo, self.workers, chunk=4, least=16,
                           affinity=host_of_source)

    def _class_sources(self, only: set[str] | None) -> tuple[list[tuple], Callable[[tuple], list[ProbeGroup]]]:
        """The source classes (:meth:`ClassGroups.sources` entries; ``only``: these) and what gives
        one's groups of both families (:meth:`groups`)."""
        fine = ClassGroups(self, self._matrix())
        six = self.v6
        fine6 = ClassGroups(six, six._matrix()) if six is not None else None
        over6 = {source[0]: source for source in fine6.sources()} if fine6 is not None else {}

        def groups_of(source: tuple) -> list[ProbeGroup]:
            groups = list(fine.groups_of(source))
            if fine6 is not None and source[0] in over6:
                groups += [g for g in fine6.groups_of(over6[source[0]]) if answered_over_ipv6(g)]
            return groups

        return [source for source in fine.sources() if only is None or source[0] in only], groups_of

    def coarse_groups(self, sources: Iterable[str] | None = None,
                      ways: Iterable[Via] = (Via.IP, Via.DNS, Via.HOST),
                      beyond_own_links: bool = False, answered_only: bool = False) -> Iterator[ProbeGroup]:
        """The matrix in fewer, wider groups: per source class, the probes of one way, port,
        protocol and host with the same outcome (disposition, responder class, reason up to
        addresses), whatever their target class, network or name. A group standing for several
        target classes has ``target_class`` None and lists them in ``targets`` with their counts
        (``network`` and ``name`` are None when they differ). Source classes come in matrix order;
        within one, groups come in no promised order. Counts add up to those of :meth:`groups`.

        Their number grows with the source classes and the segments, not with class pairs: the
        reach summary, exposure, audit, the diagram and the report read these. ``sources`` as for
        :meth:`groups`; ``ways``: only the groups of these ways, the others not computed (a name
        resolves only on a network the source shares with whoever answers: exposure needs no
        ``dns`` groups). ``beyond_own_links``: without the probes via ip that leave the source over
        one of its own bridges or overlays (whoever answers them is on one of its networks); the
        counts then add up to less than the matrix's. ``answered_only``: only the groups somebody
        answers (disposition DELIVERED)."""
        given = self.__dict__.get("_given")
        only = None if sources is None else set(sources)
        kept = {Via(w) for w in ways}
        if given is not None:
            return coarsened(g for g in _group(self, given) if (only is None or g.source_class in only)
                             and g.via in kept and (g.reachable or not answered_only))
        if self.v6 is None:
            return self._coarse().groups(only, kept, beyond_own_links, answered_only, self.workers)
        return (g for batch in self._map_coarse_both(lambda _, gs: gs, only, kept, beyond_own_links, answered_only)
                for g in batch)

    def _map_coarse_both(self, work: Callable[[str, list[ProbeGroup]], _R], only: set[str] | None, ways: set[Via],
                         beyond_own_links: bool = False, answered_only: bool = False) -> Iterator[_R]:
        """``work(source class, its coarse groups of both families)`` per source class, in matrix order."""
        cg = self._coarse()
        six = self.v6
        assert six is not None, "a design with an IPv6 side"
        cg6 = six._coarse()
        over6 = {source[0]: source for source in cg6._sources()}

        def both(source: tuple) -> _R:
            groups = list(cg.groups_of(source, ways, beyond_own_links, answered_only))
            if source[0] in over6:
                groups += [g for g in cg6.groups_of(over6[source[0]], ways, beyond_own_links, answered_only)
                           if answered_over_ipv6(g)]
            return work(source[0], groups)

        return cg.map_sources(both, only, self.workers)

    def map_coarse(self, work: Callable[[str, list[ProbeGroup]], _R], sources: Iterable[str] | None = None,
                   ways: Iterable[Via] = (Via.IP, Via.DNS, Via.HOST), beyond_own_links: bool = False,
                   answered_only: bool = False) -> Iterator[_R]:
        """``work(source class, its coarse groups)`` for every source class (``sources``: these), in
        matrix order: what a command makes of each source class's groups (a table, JSON text) is made
        beside them, in :attr:`workers` processes on a large design, so only the results travel.
        ``ways``, ``beyond_own_links``, ``answered_only``: which groups, as for :meth:`coarse_groups`."""
        only = None if sources is None else set(sources)
        kept = {Via(w) for w in ways}
        if self.__dict__.get("_given") is not None:
            by_class: dict[str, list[ProbeGroup]] = {}
            for g in self.coarse_groups(only, kept, beyond_own_links, answered_only):
                by_class.setdefault(g.source_class, []).append(g)
            return (work(cid, gs) for cid, gs in by_class.items())
        if self.v6 is not None:
            return self._map_coarse_both(work, only, kept, beyond_own_links, answered_only)
        cg = self._coarse()
        return cg.map_sources(lambda source: work(source[0], list(cg.groups_of(source, kept, beyond_own_links, answered_only))),
                              only, self.workers)

    def target_sets(self) -> dict[str, list[dict]]:
        """The named target sets a coarse group's ``targets_from`` refers to (docs/reach-json.md); those
        of the IPv6 side are named ``ip6 PORT/PROTO``, ``dns6 PORT/PROTO``."""
        if self.__dict__.get("_given") is not None:
            return {}
        six = self.v6
        return {**self._coarse().target_sets(), **(six._coarse().target_sets() if six is not None else {})}

    def _coarse(self):
        cg = self.__dict__.get("_coarse_")
        if cg is None:
            from .coarse import CoarseGroups

            cg = self.__dict__["_coarse_"] = CoarseGroups(self, self._matrix())
        return cg

    def to_json(self) -> dict:
        return {
            "design": self.design.name,
            "engine_version": self.engine_version,
            "probes": [p.to_json(self.with_traces) for p in self.iter_probes()],
        }


def host_of_source(source: tuple) -> str | None:
    """The host a source class (a :meth:`ClassGroups.sources` entry) sends from: its walks are shared
    with the other sources there, so a worker takes all of them."""
    placed = source[2]
    return placed[0][1].host if placed else None


def answered_over_ipv6(g: ProbeGroup) -> bool:
    """False for a group of IPv6 name lookups the source's resolver does not answer with an AAAA
    record: over IPv6 only names that resolve are probed (:meth:`Matrix.probes_of`)."""
    return g.family == 4 or g.via != Via.DNS or g.disposition is not Disposition.NAME_NOT_RESOLVED


_ADDRESS = re.compile(r"(?<![\d.])\d{1,3}(?:\.\d{1,3}){3}(?:/\d{1,2})?(?![\d])")
_ADDRESS6 = re.compile(r"(?<![\w:.])(?:[0-9a-fA-F]{0,4}:){2,7}[0-9a-fA-F]{0,4}(?=(?:/\d{1,3})?(?![\w:]))")
_BOUNDS = {4: (r"(?<![\d.])", r"(?![\d])"), 6: (r"(?<![\w:.])", r"(?![\w:])")}  # a whole address of each family


def with_address(reason: str, old: Address, new: Address) -> str:
    """``reason`` naming ``new`` where it named ``old`` (a whole address, not part of a longer one)."""
    if ("." if old.version == 4 else ":") not in reason:  # most reasons name no address (its text is slow to make)
        return reason
    text = str(old)
    if text not in reason:  # no pattern to build
        return reason
    before, after = _BOUNDS[old.version]
    return re.sub(rf"{before}{re.escape(text)}{after}", str(new), reason)


def _blank6(m: re.Match) -> str:
    """An IPv6 address blanked (text that only looks like one, a MAC address, kept)."""
    try:
        ip_address(m.group())
    except ValueError:
        return m.group()
    return "·"


def carried_reason(reason: str, rep_dst: Address | None, dst: Address | None, rep_port: int | None,
                   port: int, proto: str) -> str:
    """A representative's reason carried over to another destination of its class: naming ``dst``
    where it named ``rep_dst``, and the socket's "nothing listens on PORT/PROTO" naming ``port``."""
    if dst is not None and rep_dst is not None and rep_dst != dst:
        reason = with_address(reason, rep_dst, dst)
    if rep_port is not None and rep_port != port:
        reason = _with_port_named(reason, rep_port, port, proto)
    return reason


@functools.lru_cache(maxsize=100_000)
def _with_port_named(reason: str, rep_port: int, port: int, proto: str) -> str:
    """``reason``'s "PORT/PROTO" naming ``port`` where it named ``rep_port`` (remembered: reasons repeat)."""
    return reason.replace(f" {rep_port}/{proto}", f" {port}/{proto}")


@functools.lru_cache(maxsize=100_000)
def reason_shape(reason: str) -> str:
    """A reason with its addresses blanked: equal for the probes of one class pair (remembered:
    reasons repeat, and the pattern is the cost)."""
    shape = _ADDRESS.sub("·", reason)
    return _ADDRESS6.sub(_blank6, shape) if "::" in shape or shape.count(":") > 2 else shape


def _group(result: ReachResult, probes: Iterable[Probe]) -> list[ProbeGroup]:
    """Probes gathered into class-level groups, by walking every probe."""
    design = result.design
    owners = _name_classes(result)

    def cls(name: str) -> str:
        return result.class_of(name).id if design.has_container(name) else name

    def cls_or_none(name: str | None) -> str | None:
        return None if name is None else cls(name)

    rows = _Rows()
    for p in probes:
        if p.via == Via.DNS:
            target_class, own = owners.get(p.name or "", (None, False))
            name_key = ("own",) if own else p.name
        else:
            target_class, name_key = cls_or_none(p.target), None
        rows.add(cls(p.source), target_class, name_key, p, cls_or_none(p.responder), 1, {p.name})
    return list(rows.groups())


def coarsened(groups: Iterable[ProbeGroup]) -> Iterator[ProbeGroup]:
    """Fine groups merged as :meth:`ReachResult.coarse_groups` describes, one source class at a time
    (the reference the coarse engine is tested against)."""
    rows: dict[tuple, list] = {}
    current = None
    for g in groups:
        if g.source_class != current:
            yield from _merged(rows)
            rows, current = {}, g.source_class
        key = (g.via, g.port, g.protocol, g.host, g.disposition, g.responder_class, reason_shape(g.reason), g.family)
        row = rows.get(key)
        if row is None:
            row = rows[key] = [g, {}]
        targets = row[1]
        for t, n in g.target_counts:
            targets[t] = targets.get(t, 0) + n
        row.append(g)
    yield from _merged(rows)


def _merged(rows: dict[tuple, list]) -> Iterator[ProbeGroup]:
    for first, targets, *members in rows.values():
        if len(members) == 1:
            yield first
            continue
        networks = {g.network for g in members}
        names = {g.name for g in members}
        tclasses = {g.target_class for g in members}
        yield dataclasses.replace(
            first, count=sum(g.count for g in members),
            target_class=first.target_class if len(tclasses) == 1 else None,
            network=first.network if len(networks) == 1 else None,
            name=first.name if len(names) == 1 else None,
            targets=tuple(targets.items()) if len(tclasses) > 1 else ())


class _Rows:
    """Class-level rows being gathered: one per (source class, way, target class, network, name
    key, host, port, protocol, outcome up to addresses), in the order of their first probe."""

    def __init__(self) -> None:
        self.rows: dict[tuple, list] = {}

    def add(self, source_class: str, target_class: str | None, name_key, p: Probe, responder_class: str | None,
            count: int, names: set) -> None:
        key = (source_class, p.via, target_class, p.network, name_key, p.host, p.port, p.protocol,
               p.disposition, responder_class, reason_shape(p.reason), p.family)
        row = self.rows.get(key)
        if row is None:
            self.rows[key] = [p, count, set(names)]
        else:
            row[1] += count
            if len(row[2]) < 2:
                row[2] |= names

    def groups(self) -> Iterator[ProbeGroup]:
        for key, (example, count, names) in self.rows.items():
            source_class, via, target_class, network, _, host, port, proto, disposition, responder_class, _, family = key
            name = example.name if len(names) == 1 else None
            yield ProbeGroup(source_class, via, target_class, network, name, host, port, proto, disposition,
                             example.reason, responder_class, count, example, family=family)
        self.rows = {}


class ClassGroups:
    """The class-level rows of a matrix, from one representative probe per pair of a source class and
    a subgroup of a target class (:meth:`_subgroups`): the pairs the representative cannot stand for
    (a source holding an address of the target: itself, its namespace's, the same address on another
    host; a name whose records it holds) are walked on their own."""

    def __init__(self, result: ReachResult, matrix: Matrix):
        self.result = result
        self.m = matrix
        world = result.world
        self.world = world
        self.owners = _name_classes(result)
        self.cls_of = {m: c for c in result.classes for m in c.members}
        self._class_ids = {m: c.id for m, c in self.cls_of.items()}  # :meth:`cls`, asked for every row
        # names: a container's own name gathered by its class; every other name on its own
        self.own_names: dict[str, dict[str, tuple[str, str, list]]] = {}  # class id -> member -> (member, name, ports)
        self.dns_entries: list[tuple] = []
        seen: set[str] = set()
        for name, ports in matrix._names():
            cid, own = self.owners.get(name, (None, False))
            if own and cid is not None:
                member = self._owner_of(name)
                self.own_names.setdefault(cid, {})[member] = (member, name, ports)
                if cid not in seen:
                    seen.add(cid)
                    self.dns_entries.append(("own", cid))
            else:
                self.dns_entries.append(("name", name, ports))
        self.host_ports = matrix._host_ports()
        self._subs: dict = {}
        self._placed_by_ns: tuple | None = None

    # the tables of the pair-by-pair groups (:meth:`groups_of`), made when first read: the coarse
    # groups (:mod:`.coarse`) read none of them
    @functools.cached_property
    def targets_of(self) -> dict[str, list[tuple]]:
        """target -> its entries (:meth:`Matrix._ip_targets`), in matrix order."""
        out: dict[str, list[tuple]] = {}
        for entry in self.m._ip_targets():
            out.setdefault(entry[0], []).append(entry)
        return out

    @functools.cached_property
    def held_by(self) -> dict[Address, list[str]]:
        """address -> the namespaces holding it."""
        out: dict[Address, list[str]] = {}
        for ns in self.world.namespaces.values():
            for addr in ns.addresses():
                out.setdefault(addr, []).append(ns.id)
        return out

    @functools.cached_property
    def holding(self) -> dict[Address, list[tuple[str, str]]]:
        """address -> (namespace, segment) holding it."""
        out: dict[Address, list[tuple[str, str]]] = {}
        for ns in self.world.namespaces.values():
            for i in ns.interfaces.values():
                if i.address is not None and i.segment is not None:
                    out.setdefault(i.address.ip, []).append((ns.id, str(i.segment)))
        return out

    @functools.cached_property
    def target_by_addr(self) -> dict[Address, list[str]]:
        """address -> the targets dialled at it."""
        out: dict[Address, list[str]] = {}
        for t, entries in self.targets_of.items():
            for addr in dict.fromkeys(e[2] for e in entries):
                out.setdefault(addr, []).append(t)
        return out

    def _owner_of(self, name: str) -> str:
        owner = self.__dict__.get("_by_engine_name")
        if owner is None:
            owner = self.__dict__["_by_engine_name"] = {c.engine_name: c.name for c in self.world.design.containers}
        return owner[name]

    def cls(self, name: str | None) -> str | None:
        """The class id of container ``name`` (another name as it is; None for None)."""
        return None if name is None else self._class_ids.get(name, name)

    def sources(self) -> Iterator[tuple[str, list[str], list[tuple[str, Namespace]]]]:
        """(class id, members, [(member, namespace)]) per source class, in order."""
        by_name = dict(self.m.sources())
        done: set[str] = set()
        for src_name, _ in self.m.sources():
            c = self.cls_of.get(src_name)
            if c is None:
                yield src_name, [src_name], [(src_name, by_name[src_name])]
                continue
            if c.id in done:
                continue
            done.add(c.id)
            members = [x for x in c.members if x in by_name]
            yield c.id, members, [(x, by_name[x]) for x in members]

    def groups(self, only: set[str] | None = None) -> Iterator[ProbeGroup]:
        for source in self.sources():
            if only is None or source[0] in only:
                yield from self.groups_of(source)

    def groups_of(self, source: tuple[str, list[str], list[tuple[str, Namespace]]]) -> Iterator[ProbeGroup]:
        """The groups of one source class (an entry of :meth:`sources`)."""
        cid, members, placed = source
        rows = _Rows()
        self._ip(rows, cid, members, placed)
        self._dns(rows, cid, members, placed)
        self._host(rows, cid, members, placed)
        yield from rows.groups()

    # --- via ip --------------------------------------------------------------------------
    def _subgroups(self, tc: ContainerClass) -> list[list[str]]:
        """The members of a target class whose addresses look alike from anywhere: the namespaces
        holding each of their addresses (one, or several when a subnet exists on several hosts) are
        on the same segments and of the same classes. Members of one subgroup answer every
        source alike."""
        cached = self._subs.get(tc.id)
        if cached is None:
            by_sig: dict[tuple, list[str]] = {}
            for t in tc.members:
                if t in self.targets_of:
                    sig = tuple(self._holders(e[2]) for e in self.targets_of[t])
                    by_sig.setdefault(sig, []).append(t)
            cached = self._subs[tc.id] = list(by_sig.values())
        return cached

    def _holders(self, addr: Address) -> tuple:
        return tuple(sorted((seg, tuple(self.cls(m) or "" for m in self.world.namespaces[ns_id].members) or (ns_id,))
                            for ns_id, seg in self.holding.get(addr, ())))

    def _owned(self, placed: list[tuple[str, Namespace]]) -> dict[str, list[tuple[str, Namespace]]]:
        """target container -> the members of a source class holding one of its addresses."""
        out: dict[str, list[tuple[str, Namespace]]] = {}
        for s, ns in placed:
            if ns.kind != "container":
                continue
            for addr in ns.addresses():
                for t in self.target_by_addr.get(addr, ()):
                    pairs = out.setdefault(t, [])
                    if not pairs or pairs[-1][0] != s:  # once per source, however many of its addresses it holds
                        pairs.append((s, ns))
        return out

    def _ip(self, rows: _Rows, cid: str, members: list[str], placed: list[tuple[str, Namespace]]) -> None:
        owned = self._owned(placed)
        for tc in self.result.classes:
            for ts in self._subgroups(tc):
                self._pairs(rows, cid, tc.id, placed, ts, owned, self._ip_entries)

    def _ip_entries(self, rows: _Rows, cid: str, tid: str, src: str, ns: Namespace, t: str, count: int) -> None:
        for entry in self.targets_of[t]:
            self._ip_probe(rows, cid, tid, src, ns, entry, count)

    def _pairs(self, rows: _Rows, cid: str, tid: str, placed: list[tuple[str, Namespace]], ts: list[str],
               owned: dict[str, list[tuple[str, Namespace]]], probe) -> None:
        """Every member of a source class dialling every target of one subgroup: the pairs where the
        source holds one of the target's addresses (itself, its namespace's, the same address on another
        host) each on its own, all other pairs alike, from one representative pair."""
        local = [(t, s, ns) for t in ts for s, ns in owned.get(t, ())] if owned else []
        others = len(placed) * len(ts) - len(local)
        if others:
            rep = None
            for t in ts:
                holders = {ns.id for _, ns in owned.get(t, ())}
                first = next(((s, ns) for s, ns in placed if ns.id not in holders), None)
                if first is not None:
                    rep = (first[0], first[1], t)
                    break
            assert rep is not None, "a pair that is not local exists"
            probe(rows, cid, tid, rep[0], rep[1], rep[2], others)
        for t, s, ns in local:
            probe(rows, cid, tid, s, ns, t, 1)

    def _split_by_owner(self, rows: _Rows, cid: str, tid: str | None, placed: list[tuple[str, Namespace]],
                        addresses: tuple, entry: tuple, probe) -> None:
        """The members of a source class that hold one of ``addresses`` walk on their own; the others alike."""
        owners = {x for a in addresses for x in self.held_by.get(a, ())}
        by_ns = self._by_ns(placed)
        special = [m for o in sorted(owners) for m in by_ns.get(o, ())]  # sorted: the same example every run
        rest = next(((s, ns) for s, ns in placed if ns.id not in owners), None)
        if rest is not None:
            probe(rows, cid, tid, rest[0], rest[1], entry, len(placed) - len(special))
        for s, ns in special:
            probe(rows, cid, tid, s, ns, entry, 1)

    def _by_ns(self, placed: list[tuple[str, Namespace]]) -> dict[str, list[tuple[str, Namespace]]]:
        hit = self._placed_by_ns
        if hit is None or hit[0] is not placed:
            table: dict[str, list[tuple[str, Namespace]]] = {}
            for s, ns in placed:
                table.setdefault(ns.id, []).append((s, ns))
            hit = self._placed_by_ns = (placed, table)
        return hit[1]

    def _ip_probe(self, rows: _Rows, cid: str, tid: str | None, src: str, ns: Namespace, entry: tuple, count: int) -> None:
        target, network, addr, addr_text, port, proto, hint = entry
        m = self.m
        t = m.probe(ns, addr, port, proto, hint)
        p = m._make(src, Via.IP, port, proto, t, target=target, network=network, address=addr_text)
        rows.add(cid, tid, None, p, self.cls(p.responder), count, {None})

    # --- via dns -------------------------------------------------------------------------
    def _dns(self, rows: _Rows, cid: str, members: list[str], placed: list[tuple[str, Namespace]]) -> None:
        owned = None
        for entry in self.dns_entries:
            if entry[0] == "own":
                tid = entry[1]
                if owned is None:
                    owned = self._owned(placed)
                by_member = self.own_names[tid]
                for ts in self._own_subgroups(tid):
                    names = {by_member[t][1] for t in ts[:2]}  # one name, or (two of) several

                    def probe(rows: _Rows, cid: str, tid: str, src: str, ns: Namespace, t: str, count: int,
                              names: set = names, by_member: dict = by_member) -> None:
                        self._dns_pair(rows, cid, tid, ("own",), src, ns, by_member[t], count,
                                       names if count > 1 else {by_member[t][1]})

                    self._pairs(rows, cid, tid, placed, ts, owned, probe)
                continue
            _, name, ports = entry
            self._dns_split(rows, cid, self.owners.get(name, (None, False))[0], name, placed, (None, name, ports))

    def _own_subgroups(self, tid: str) -> list[list[str]]:
        """The members of a class carrying their own name, in subgroups as for addresses (:meth:`_subgroups`)."""
        key = ("own", tid)
        cached = self._subs.get(key)
        if cached is None:
            by_sig: dict[tuple, list[str]] = {}
            for t in self.own_names[tid]:
                ns_id = self.world.ns_of.get(t)
                addrs = self.world.namespaces[ns_id].addresses() if ns_id else []
                by_sig.setdefault(tuple(self._holders(a) for a in addrs), []).append(t)
            cached = self._subs[key] = list(by_sig.values())
        return cached

    def _dns_split(self, rows: _Rows, cid: str, tid: str | None, name_key, placed: list[tuple[str, Namespace]],
                   entry: tuple) -> None:
        """One name from every member of a source class: its records resolve alike for all of them (one
        search path per class); the members holding one of the records' addresses walk on their own."""
        res = self.m.names.resolve(placed[0][1], entry[1])

        def probe(rows: _Rows, cid: str, tid: str | None, src: str, ns: Namespace, entry: tuple, count: int) -> None:
            self._dns_pair(rows, cid, tid, name_key, src, ns, entry, count, {entry[1]})

        self._split_by_owner(rows, cid, tid, placed, tuple(a for a, _, _ in res.records), entry, probe)

    def _dns_pair(self, rows: _Rows, cid: str, tid: str | None, name_key, src: str, ns: Namespace, entry: tuple,
                  count: int, names: set) -> None:
        _, name, ports = entry
        res = self.m.names.resolve(ns, name)
        for port, proto in ports:
            p = self.m._dns_probe(src, ns, name, res, port, proto)
            rows.add(cid, tid, name_key, p, self.cls(p.responder), count, names)

    # --- via host ------------------------------------------------------------------------
    def _host(self, rows: _Rows, cid: str, members: list[str], placed: list[tuple[str, Namespace]]) -> None:
        s0, ns0 = placed[0]
        for p in self.m.host_probes(s0, ns0, self.host_ports):
            rows.add(cid, None, None, p, self.cls(p.responder), len(members), {None})


def _name_classes(result: ReachResult) -> dict[str, tuple[str | None, bool]]:
    """name -> (the class id(s) of the containers carrying it, whether it is one container's own name)."""
    world = result.world
    carriers: dict[str, list[str]] = {}
    for c in world.design.containers:
        names = c.carried_names()
        if c.hostname:
            names.append(c.hostname)
        for n in dict.fromkeys(names):
            carriers.setdefault(n, []).append(c.name)
    out: dict[str, tuple[str | None, bool]] = {}
    for n, cs in carriers.items():
        ids = list(dict.fromkeys(result.class_of(c).id for c in cs))
        own = len(cs) == 1 and world.design.container(cs[0]).engine_name == n
        out[n] = (" + ".join(ids), own)
    return out


class Matrix:
    """Computes probes for one world, sharing walks between probes of one class."""

    def __init__(self, world: World, with_traces: bool = False, shared: bool = True):
        self.world = world
        self.with_traces = with_traces
        self.shared = shared  # False: the slow path, every probe walked on its own (the reference the tests compare with)
        self.names = NameTable(world)
        self._walks: dict[tuple, tuple[Trace, Address, int]] = {}  # class -> (its representative's walk, address, port)
        self._profiles: dict[str, tuple] = {}
        self.family = world.family
        self._published = {  # container ports each host's filter table opens (the class of a walk depends on it)
            (host, int(b.container_ip), b.container_port, b.protocol)  # addresses as integers: they hash fast
            for table in (world.bindings, world.ephemeral) for host, bs in table.items() for b in bs
            if b.container_ip.version == world.family  # (docker-proxy on :: relaying to IPv4 opens no rule)
        }
        self._ep_by_addr: dict[Address, list] = {}
        for ep in world.addressing.endpoints.values():
            self._ep_by_addr.setdefault(ep.address, []).append(ep)
        self._dst_info: dict = {}
        self._dst_classes: dict[tuple, tuple] = {}
        self._class_numbers: dict[tuple, int] = {}  # see _dst_class
        self._int_routes: dict[str, list[tuple]] = {}
        self._route_senders: dict[str, dict[int, tuple]] = {}  # namespace id -> _sender's key of each of its routes
        self._own_ints: dict[str, frozenset[int]] = {}  # namespace id -> its addresses as integers
        self._unresolved: dict = {}
        self._round_robins: dict[tuple, tuple] = {}  # see _held_record_probe
        self._record_ints: dict[int, tuple] = {}  # see records_of
        self._ignored = ignored_publications(world)
        self._mesh = mesh_ports(world.design) if world.family == 4 else {}  # the routing mesh is IPv4 only
        self._scheduled = scheduled_host_ports(world.design)
        self._hosts: dict[str, str | None] = {}  # container -> its host (_host_of)
        self._targets: list[tuple] | None = None  # _ip_targets, made once
        self._outcomes: dict[tuple, Trace] = {}

    # --- classes of walks --------------------------------------------------------------
    def _profile(self, ns: Namespace) -> tuple:
        prof = self._profiles.get(ns.id)
        if prof is None:
            if ns.kind != "container":
                prof = (ns.id,)
            else:
                ifaces = tuple(sorted((str(i.segment), i.kind, i.mode or "", i.parent or "") for i in ns.interfaces.values() if i.segment))
                prof = ("ctr", ns.host, ifaces, ns.gateway_network)
            self._profiles[ns.id] = prof
        return prof

    def owned(self, ns: Namespace) -> frozenset[int]:
        """``ns``'s addresses as integers (``ns.owns`` for any address but a loopback one: no record
        or container address is one)."""
        owned = self._own_ints.get(ns.id)
        if owned is None:
            owned = self._own_ints[ns.id] = frozenset(int(a) for a in ns.addresses())
        return owned

    def holds(self, ns: Namespace, dst: Address, n: int | None = None) -> bool:
        """``ns.owns(dst)``, asked of the integers first (``n``: ``dst``'s, when the caller has it): an
        address's hash is slow, and most destinations are nobody's here."""
        if n is None:
            n = int(dst)
        return (n in self.owned(ns) or (n >> 24 == 127 and dst.version == 4)) and ns.owns(dst)

    def _sender(self, ns: Namespace, dst: Address) -> tuple:
        """What of the sender a walk to ``dst`` depends on: its own namespace when it holds the address;
        a container sending through one route, only that route (host, link, gateway: nothing else of
        the sender is read once the packet has left); otherwise its profile."""
        return self._sender_at(ns, dst, int(dst))

    def _sender_at(self, ns: Namespace, dst: Address, n: int) -> tuple:
        """:meth:`_sender` of ``dst``, ``n`` its integer (asked for every walk looked up: made once)."""
        if self.holds(ns, dst, n):
            return ("own", ns.id)
        if ns.kind != "container":
            return self._profile(ns)
        routes = self._int_routes.get(ns.id)
        if routes is None:
            routes = self._int_routes[ns.id] = [
                (int(r.dest.network_address), int(r.dest.broadcast_address), r.dest.prefixlen, r) for r in ns.routes]
        default = None
        best: list = []
        for lo, hi, length, r in routes:
            if length == 0:
                default = r
            elif lo <= n <= hi:
                if not best or length > best[0].dest.prefixlen:
                    best = [r]
                elif length == best[0].dest.prefixlen:
                    best.append(r)
        if len(best) > 1:  # two links hold the subnet: the walk chooses
            return self._profile(ns)
        route = best[0] if best else default
        if route is None:
            return ("no-route",)
        made = self._route_senders.get(ns.id)
        if made is None:
            made = self._route_senders[ns.id] = {}
        key = made.get(id(route))  # the namespace's routes live as long as the matrix
        if key is None:  # a link's route, or the default route (egress)
            i = ns.interfaces[route.iface]
            via = None if route.via is None else int(route.via)  # an address's hash is slow: keys hold integers
            key = made[id(route)] = ("link" if route.dest.prefixlen else "egress", ns.host, i.segment, i.kind,
                                     i.mode or "", i.parent or "", via)
        return key

    def one_sender(self, ns: Namespace, addrs: list[Address]) -> tuple | None:
        """The sender key (:meth:`_sender`) of walks from ``ns`` to each of ``addrs`` (none of them its
        own) when one route takes them all; else None."""
        ints = [int(a) for a in addrs]
        return self.span_sender(ns, addrs[0], min(ints), max(ints))

    def span_sender(self, ns: Namespace, first_addr: Address, lo: int, hi: int) -> tuple | None:
        """:meth:`one_sender` of addresses from ``first_addr`` (the first, none of them ``ns``'s own)
        spanning ``lo`` to ``hi`` (as integers). A sender found holds for any addresses within the
        span that start with ``first_addr``."""
        first = self._sender(ns, first_addr)
        if first[0] not in ("link", "egress"):
            return None
        if first_addr.version == 4 and lo >> 24 <= 127 <= hi >> 24:
            return None
        routes = self._int_routes[ns.id]  # filled by _sender for a container
        if first[0] == "egress":  # no route but the default one may cover any of them
            return None if any(length and rlo <= hi and lo <= rhi for rlo, rhi, length, _ in routes) else first
        at = int(first_addr)
        taken = max(length for rlo, rhi, length, _ in routes if length and rlo <= at <= rhi)
        if any(length and (rlo <= hi and lo <= rhi) and (length > taken or not (rlo <= lo and hi <= rhi))
               for rlo, rhi, length, _ in routes):  # a longer route, or one of the same length covering part only
            return None
        return first

    def _dst_class(self, n: int, dst: Address, port: int, proto: str) -> tuple[tuple, bool] | None:
        """A class for container endpoints (``dst``, ``n`` its integer, not the sender's own), numbered:
        for each namespace holding the address (one, or several when the same subnet exists on several
        hosts), its segment, link, whether the port is published to it and whether it listens; with
        whether the port is published to any of them. None when the address needs its own walk."""
        holders = self._dst_info.get(n)
        if holders is None:
            holders = self._dst_info[n] = self._endpoint_info(dst)
        if holders is False:
            return None
        key = (n, port, proto)
        hit = self._dst_classes.get(key)
        if hit is None:
            if len(self._dst_classes) >= OUTCOME_CACHE:
                self._dst_classes.clear()
            ends = tuple((segment, kind, (host, n, port, proto) in self._published, (port, proto) in target_ns.listeners)
                         for segment, kind, target_ns, host in holders)
            # numbered: a walk's key holds the number, whose hash is quick (an address held on many hosts'
            # segments has a long class)
            if len(self._class_numbers) >= OUTCOME_CACHE and ends not in self._class_numbers:
                self._class_numbers.clear()  # numbered again: no walk may be kept under an old number
                self._dst_classes.clear()
                self._walks.clear()
            number = self._class_numbers.setdefault(ends, len(self._class_numbers))
            hit = self._dst_classes[key] = (("ep", number), any(h[2] for h in ends))
        return hit

    def _endpoint_info(self, dst: Address):
        """The namespaces holding ``dst`` as (segment, link, namespace, host), in segment order;
        False when a walk to it cannot be shared (a segment holding it twice, a namespace not built)."""
        out = []
        for ep in self._ep_by_addr.get(dst, ()):
            target_ns = self.world.namespaces.get(self.world.ns_of.get(ep.container, ""))
            if target_ns is None:
                return False
            iface = target_ns.interface_holding(dst)
            kind = (iface.kind, iface.mode, iface.parent) if iface else None
            out.append((ep.segment, kind, target_ns, target_ns.host))
        out.sort(key=lambda h: str(h[0]))
        if not out or len({str(h[0]) for h in out}) < len(out):
            return False
        return out

    def trace(self, ns: Namespace, dst: Address, port: int, proto: str, prefer_host: str | None = None) -> Trace:
        """The walk's outcome (no hops: :meth:`probe` walks again for those); exact for its disposition,
        responder and reason."""
        if not self.shared:
            t = walk(self.world, ns.id, dst, port, proto, prefer_host)
            return t if self.with_traces else Trace((), t.disposition, t.reason, t.responder)
        n = int(dst)
        sender = self._sender_at(ns, dst, n)
        fast_key = (sender, n, port, proto, prefer_host)
        hit = self._outcomes.get(fast_key)
        if hit is None:
            if len(self._outcomes) >= OUTCOME_CACHE:  # bounded: a matrix of millions of probes streams in constant memory
                self._outcomes.clear()
            hit = self._outcomes[fast_key] = self._trace(ns, sender, dst, n, port, proto, prefer_host)
        return hit

    def _trace(self, ns: Namespace, sender: tuple, dst: Address, n: int, port: int, proto: str,
               prefer_host: str | None) -> Trace:
        found = None if sender[0] == "own" else self._dst_class(n, dst, port, proto)  # (its own: :meth:`_sender`)
        key: tuple
        if found is None:
            dclass = None
            key = (sender, n, port, proto, prefer_host)
        else:  # a port published to none of the holders is read by no rule, only by the socket: walks share it
            dclass, published = found
            key = (sender, dclass, port if published else None, proto, prefer_host)
        cached = self._walks.get(key)
        if cached is None:
            t = walk(self.world, ns.id, dst, port, proto, prefer_host)
            t = Trace((), t.disposition, t.reason, t.responder)
            if len(self._walks) >= OUTCOME_CACHE:  # bounded like the outcomes (memory at 10,000 containers)
                self._walks.clear()
            self._walks[key] = (t, dst, port)
            return t
        rep, rep_dst, rep_port = cached
        if dclass is None:
            return rep
        adapted = self._adapt(rep, rep_dst, dst, port, proto, rep_port)
        if adapted is None:  # the representative's answer cannot be carried over: walk this one
            t = walk(self.world, ns.id, dst, port, proto, prefer_host)
            return Trace((), t.disposition, t.reason, t.responder)
        return adapted

    def _adapt(self, rep: Trace, rep_dst: Address, dst: Address, port: int, proto: str,
               rep_port: int | None = None) -> Trace | None:
        """Reuse a class representative's outcome (a walk to ``rep_dst``) for another member of the class:
        its reason names the member's address where it named the representative's (a rule's ``-d``)."""
        responder = None
        if rep.disposition is Disposition.DELIVERED:  # the holder of dst on the segment the representative reached
            rep_holders, holders = self._dst_info[int(rep_dst)], self._dst_info[int(dst)]
            at = rep_port if rep_port is not None else port
            reached = [i for i, h in enumerate(rep_holders) if h[2].listeners.get((at, proto)) == rep.responder]
            if len(reached) != 1:
                return None
            responder = holders[reached[0]][2].listeners.get((port, proto))
        return Trace((), rep.disposition, carried_reason(rep.reason, rep_dst, dst, rep_port, port, proto), responder)

    # --- probes ----------------------------------------------------------------------
    def probe(self, ns: Namespace, dst: Address, port: int, proto: str, prefer_host: str | None = None) -> Trace:
        t = self.trace(ns, dst, port, proto, prefer_host)
        if self.with_traces and not t.hops:
            t = walk(self.world, ns.id, dst, port, proto, prefer_host)
        return t

    def retrace(self, p: Probe) -> Trace | None:
        """``p`` walked again on its own, with its full trace (None when it cannot be redone alone:
        its source is not in this world, or it dialled no address)."""
        ns = dict(self.sources()).get(p.source)
        if ns is None:
            return None
        if p.via == Via.DNS and p.name:
            return self._dns_probe(p.source, ns, p.name, self.names.resolve(ns, p.name), p.port, p.protocol).trace
        if p.address is None:
            return None
        prefer = self._host_of(p.target) if p.via == Via.IP else p.host
        return self.probe(ns, ip_address(p.address), p.port, p.protocol, prefer)

    def sources(self) -> list[tuple[str, Namespace]]:
        """Every source, in matrix order. Over IPv6 only those holding an IPv6 address: the hosts,
        the containers with one (host mode: the host's), the LAN peer when a host has an IPv6 LAN address."""
        design, world = self.world.design, self.world
        out = [(c.name, world.namespace_of(c.name)) for c in design.containers if c.name in world.ns_of]
        if world.family != 4:
            out = [(name, ns) for name, ns in out if ns.kind != "container" or _has_address(ns)]
        if len(design.hosts) == 1:
            out.append(("host", world.host_ns(design.hosts[0].name)))
        else:
            out.extend((h.name, world.host_ns(h.name)) for h in design.hosts)
        peer = world.namespaces[EXTERNAL]
        if world.family == 4 or _has_address(peer):
            out.append(("external", peer))
        return out

    def compute(self) -> list[Probe]:
        return list(self.iter_probes())

    def iter_probes(self) -> Iterator[Probe]:
        """Every probe, in matrix order, produced one at a time."""
        plan = self.plan()
        for src_name, ns in self.sources():
            yield from self.probes_of(src_name, ns, plan)

    def plan(self) -> tuple[list[tuple], list[tuple[str, list]], dict[str, list]]:
        """What every source probes: the addresses (:meth:`_ip_targets`), the names, the host ports."""
        return self._ip_targets(), self._names(), self._host_ports()

    def probes_of(self, src_name: str, ns: Namespace, plan: tuple) -> Iterator[Probe]:
        """The probes of one source, in matrix order (``plan``: :meth:`plan`)."""
        targets, names, host_ports = plan
        for target, network, addr, addr_text, port, proto, hint in targets:
            t = self.probe(ns, addr, port, proto, hint)
            yield self._make(src_name, Via.IP, port, proto, t, target=target, network=network, address=addr_text)
        for name, ports in names:
            res = self.names.resolve(ns, name)
            if not res.resolved and self.family != 4:
                continue  # over IPv6, only the names the source's resolver answers with an AAAA record
            for port, proto in ports:
                yield self._dns_probe(src_name, ns, name, res, port, proto)
        yield from self.host_probes(src_name, ns, host_ports)
        if len(self.names._cache) > OUTCOME_CACHE:  # name lookups per search path: bounded as the outcomes are
            self.names._cache.clear()

    def host_probes(self, src_name: str, ns: Namespace, host_ports: dict[str, list]) -> Iterator[Probe]:
        """The probes of one source via host: every host port of the host(s) it dials."""
        for host_name, dial, ports in self._host_dials(src_name, ns, host_ports):
            text = str(dial) if dial else None  # (an address's text is slow to make: once for its ports)
            for port, proto in ports:
                yield self.host_probe(src_name, ns, host_name, dial, port, proto, text)

    def host_probe(self, src_name: str, ns: Namespace, host_name: str | None, dial: Address | None,
                   port: int, proto: str, dial_text: str | None = None) -> Probe:
        """One probe via host: ``dial`` (None: the source has no default gateway; ``dial_text``: its
        text, when the caller has it) at ``port``."""
        if dial is None:
            t = Trace((), Disposition.NO_ROUTE, "no default gateway: the container cannot reach the host")
        else:
            t = self.probe(ns, dial, port, proto, host_name)
        host = host_name or self.world.design.hosts[0].name
        mesh = self._mesh.get((port, proto))
        responders: tuple[str, ...] = ()
        if mesh is not None and t.disposition is Disposition.REFUSED:  # reached the node, where nothing else listens
            t, responders = through_mesh(self.world, host, port, proto, mesh, t)
        t = self._nobody(t, host, port, proto)
        service = self._scheduled.get((port, proto))
        if service is not None and t.disposition in (Disposition.DELIVERED, Disposition.REFUSED):
            t = placement_note(self.world.design, service, host, t)
        if dial_text is None and dial:
            dial_text = str(dial)
        p = self._make(src_name, Via.HOST, port, proto, t, host=host_name, address=dial_text)
        return p._replace(responders=responders, balanced_by="ingress") if responders else p

    def _make(self, source: str, via: Via, port: int, proto: str, t: Trace, *, target: str | None = None,
              network: str | None = None, name: str | None = None, host: str | None = None,
              address: str | None = None, responders: tuple[str, ...] = ()) -> Probe:
        return Probe._make((source, via, port, proto, t.disposition, t.reason,
                            t.responder if t.disposition is Disposition.DELIVERED else None, target,
                            network, name, host, address, responders, t if t.hops else None, None,
                            self.family))  # Probe's fields in order

    def _dns_probe(self, source: str, ns: Namespace, name: str, res, port: int, proto: str,
                   walked: Callable[[Address, str | None], Trace] | None = None) -> Probe:
        """The probe of ``name`` as ``ns`` resolves it (``res``); ``walked(address, host)``: the outcome
        of dialling one of its records, when the caller knows it (default: :meth:`probe`)."""
        if not res.resolved:
            t = self._unresolved.get(res.step)
            if t is None:
                why = res.step.failure or res.step.detail
                hops = (dns_hop(ns, res.step),) if self.with_traces else ()
                t = Trace(hops, Disposition.NAME_NOT_RESOLVED, why)
                if not self.with_traces:
                    self._unresolved[res.step] = t
            return self._make(source, Via.DNS, port, proto, t, name=name)
        records, balanced, vip_note = res.records, "dns" if len(res.records) > 1 else None, ""
        service = vip_of(records[0][1])
        if walked is None and balanced and service is None and not self.with_traces:
            held = self._held_record_probe(source, ns, name, res, port, proto)
            if held is not None:
                return held
        if service is not None:  # a swarm service's virtual IP: IPVS in the client's namespace balances it
            records, vip_note = self._through_vip(ns, service, records[0])
            balanced = "vip" if len(records) > 1 or records[0][1] != res.records[0][1] else None
        if walked is None:
            traces = [(addr, self.probe(ns, addr, port, proto, self._host_of(ctr))) for addr, ctr, _ in records]
        else:
            traces = [(addr, walked(addr, self._host_of(ctr))) for addr, ctr, _ in records]
        # the first answering record decides; one of the source's own addresses last, so that every
        # container of a service reads the same reason off a name that leads to itself among others
        answering = [(a, t) for a, t in traces if t.delivered]
        if len(answering) > 1:
            owned = self.owned(ns)
            if any(int(a) in owned for a, _ in answering):
                answering.sort(key=lambda at: int(at[0]) in owned)
        addr, first = answering[0] if answering else traces[0]
        responders = tuple(sorted({t.responder for _, t in answering if t.responder}))
        reason = first.reason
        if balanced == "vip":
            reason = f"{vip_note}; {len(answering)} of {len(traces)} task(s) answer" + (f": {reason}" if answering else f" ({reason})")
        elif len(traces) > 1:
            reason = _balanced_reason(name, traces, answering, reason)
        elif vip_note:
            reason = f"{vip_note}: {reason}"
        if first.hops:
            first = Trace(after_lookup(ns, res.step, first.hops), first.disposition, reason, first.responder)
        else:
            first = Trace((), first.disposition, reason, first.responder)
        p = self._make(source, Via.DNS, port, proto, first, name=name,
                       address=str(res.records[0][0] if service is not None else addr))
        return p._replace(responders=responders, balanced_by=balanced)

    def one_record_probe(self, source: str, name: str, port: int, proto: str, t: Trace, addr: Address) -> Probe:
        """:meth:`_dns_probe` of ``name`` resolved to one record ``addr`` (not a virtual IP, not the
        source's own), whose walk (:meth:`trace`, without hops) gave ``t``."""
        responder = t.responder if t.disposition is Disposition.DELIVERED else None
        return self._make(source, Via.DNS, port, proto, t, name=name, address=str(addr),
                          responders=(responder,) if responder else ())

    def _held_record_probe(self, source: str, ns: Namespace, name: str, res, port: int, proto: str) -> Probe | None:
        """:meth:`_dns_probe` of a name with several records, one of them ``ns``'s own (a replica dialling
        its service's name), read off the others' walks summed up once (:class:`RoundRobin`) rather than
        walk by walk for every replica; None when it holds none or several, or no one route takes the others."""
        ints, place, lo, hi = self.records_of(res)
        held = [place[n] for n in self.owned(ns) if n in place] if place is not None else []
        if len(held) != 1:
            return None
        j = held[0]
        sender = self.span_sender(ns, res.records[1 if j == 0 else 0][0], lo, hi)
        if sender is None:
            return None
        walks, summed = kept_for(self._round_robins, (name, id(res), port, proto, ns.host, sender), res, walks_and_results)
        addr, ctr, _ = res.records[j]
        own = self.probe(ns, addr, port, proto, self._host_of(ctr))
        if summed:
            rr = summed[0]
        else:  # the first replicas of a sender walk the others' records: two holding different ones walk them all
            for k, (other, holder, _) in enumerate(res.records):
                if k != j and ints[k] not in walks:
                    walks[ints[k]] = self.probe(ns, other, port, proto, self._host_of(holder))
            if len(walks) == len(ints):
                summed.append(RoundRobin([walks[n] for n in ints]))
                rr = summed[0]
            else:
                rr = RoundRobin([own if k == j else walks[n] for k, n in enumerate(ints)])
        first, decides, reason, responders = rr.held(name, j, own)
        p = self._make(source, Via.DNS, port, proto, Trace((), decides.disposition, reason, decides.responder),
                       name=name, address=str(res.records[first][0]))
        return p._replace(responders=responders, balanced_by="dns")

    def records_of(self, res) -> tuple[list[int], dict[int, int] | None, int, int]:
        """A resolution's records as integers, the place of each (None when two are the same address)
        and their span, made once per resolution."""
        return kept_for(self._record_ints, id(res), res, lambda: _records_laid_out(res))

    def _through_vip(self, ns: Namespace, service: str, record: tuple) -> tuple[tuple, str]:
        """The records a connection to a service's virtual IP reaches, and why: with IPVS on the
        client's host, every task's address on that network (the connection goes to one of them);
        without it the virtual IP itself, which nothing on the network holds."""
        vip, _, network = record
        host = self.world.design.host(ns.host) if ns.host and self.world.design.has_host(ns.host) else None
        if host is None or not host.kernel.ipvs:
            where = f"host {host.name}'s kernel" if host is not None else "this kernel"
            return (record,), (f"{service} resolves to its virtual IP {vip}, which IPVS answers; {where} has no IPVS "
                               "(CONFIG_IP_VS), so nobody holds that address")
        addressing = self.world.addressing
        tasks = tuple((ep.address, t.name, network) for t in self.world.design.tasks(service)
                      if (ep := addressing.endpoint(t.name, network)) is not None)
        return tasks or (record,), f"{service} resolves to its virtual IP {vip}, balanced by IPVS over its tasks"

    def _host_of(self, container: str | None) -> str | None:
        if container is None:
            return None
        try:
            return self._hosts[container]
        except KeyError:
            design = self.world.design
            host = self._hosts[container] = design.container(container).host if design.has_container(container) else None
            return host

    def _ip_targets(self) -> list[tuple]:
        """Every (target, network, address, address text, port, protocol, host) the matrix dials via ip,
        in matrix order; made once (read, never changed, by the class tables and the pair probes)."""
        if self._targets is None:
            self._targets = self._make_ip_targets()
        return self._targets

    def _make_ip_targets(self) -> list[tuple]:
        out: list[tuple] = []
        world = self.world
        for c in world.design.containers:
            ns_id = world.ns_of.get(c.name)
            if ns_id is None or not ns_id.startswith("ctr:"):
                continue
            ns = world.namespaces[ns_id]
            owner = ns.members[0]
            ports = sorted(ns.listeners)
            for ep in sorted(world.addressing.endpoints_of(owner), key=lambda e: (e.network == GWBRIDGE, e.network)):
                text = str(ep.address)
                out.extend((c.name, ep.network, ep.address, text, port, proto, c.host) for port, proto in ports)
        return out

    def _names(self) -> list[tuple[str, list[tuple[int, str]]]]:
        """Every name the design defines, with the listener ports of the containers carrying it."""
        world = self.world
        carriers: dict[str, set[tuple[int, str]]] = {}
        order: list[str] = []
        for c in world.design.containers:
            names = c.carried_names()
            ns_id = world.ns_of.get(c.name)
            ports = set(world.namespaces[ns_id].listeners) if ns_id else {(lst.port, lst.protocol.value) for lst in c.listeners}
            for n in names:
                if n not in carriers:
                    carriers[n] = set()
                    order.append(n)
                carriers[n] |= ports
        return [(n, sorted(carriers[n])) for n in order]

    def _nobody(self, t: Trace, host: str, port: int, proto: str) -> Trace:
        """A host port whose publication the engine ignores: say so where nothing answers."""
        ignored = self._ignored.get((host, port, proto))
        if ignored is None or t.delivered:
            return t
        container, why = ignored
        what = f"publication ignored: {container} publishes {port}/{proto}, but {why}"
        reason = f"nothing answers: {what}" if t.disposition is Disposition.REFUSED else f"{t.reason} (and {what})"
        return Trace(t.hops, t.disposition, reason, t.responder)

    def _host_ports(self) -> dict[str, list[tuple[int, str]]]:
        """Per host, the ports dialled via host: published (over either family of a dual-stack
        design: a port bound on one family only is refused on the other), listened on, ignored."""
        out = {}
        other = self.world.ipv4 if self.family != 4 else self.world.v6
        tasks_bind = {(m.host_port, m.protocol.value) for s in self.world.design.services  # host mode: dialled on
                      for t in self.world.design.tasks(s.name)[:1] for m in t.ports if m.host_port}  # every node
        for host in self.world.design.hosts:
            ports = {(b.host_port, b.protocol) for b in self.world.bindings[host.name]}
            ports |= set(self.world.host_ns(host.name).listeners)
            ports |= {(p, proto) for h, p, proto in self._ignored if h == host.name}
            ports |= set(self._mesh) | tasks_bind  # the routing mesh and host-mode ports: every node of the swarm
            ports |= {(b.host_port, b.protocol) for b in other.bindings[host.name]} if other is not None else set()
            out[host.name] = sorted(ports)
        return out

    def _host_dials(self, source: str, ns: Namespace, host_ports: dict[str, list]):
        """(host name, the address dialled, ports) for each host ``source`` dials: the LAN peer every host's
        LAN address, a host its loopback address (127.0.0.1, ::1), a container its default gateway over
        IPv4 and its host's IPv6 LAN address over IPv6 (its gateway when the host has none)."""
        design, v4 = self.world.design, self.family == 4
        if ns.kind == "external":
            for h in design.hosts:
                lan = h.lan_address if v4 else h.lan_address6
                if lan is not None:
                    yield (h.name if len(design.hosts) > 1 else None), lan.ip, host_ports[h.name]
            return
        assert ns.host is not None  # host and container namespaces live on a host
        if ns.kind == "host":
            yield (ns.host if len(design.hosts) > 1 else None), LOCALHOST if v4 else LOCALHOST6, host_ports[ns.host]
            return
        host = design.host(ns.host)
        lan = host.lan_address if v4 else host.lan_address6
        default = next((r for r in ns.routes if r.dest.prefixlen == 0), None)
        dial = default.via if default is not None else None
        if default is not None and (dial is None or not v4) and lan is not None:  # ipvlan l3: default dev without a gateway
            dial = lan.ip
        yield (ns.host if len(design.hosts) > 1 else None), dial, host_ports[ns.host]


def _has_address(ns: Namespace) -> bool:
    """Whether ``ns`` holds an address other than loopback (of its world's family)."""
    return any(i.address is not None and i.kind != "lo" for i in ns.interfaces.values())


def ignored_publications(world: World) -> dict[tuple[str, int, str], tuple[str, str]]:
    """(host, host port, protocol) -> (container, why) for every port a container publishes
    with a host port that the engine ignores (its networks are all internal, a network mode
    or driver without port mappings): probed via host, where nobody answers."""
    out: dict[tuple[str, int, str], tuple[str, str]] = {}
    for host, ignored in world.ignored_ports.items():
        for container, why in ignored:
            if "ephemeral" in why or not world.design.has_container(container):
                continue
            for pm in world.design.container(container).ports:
                if pm.host_port is not None:
                    out.setdefault((host, pm.host_port, pm.protocol.value), (container, why))
    return out


def dns_hop(ns: Namespace, step: Step) -> Hop:
    """The hop of a name lookup in the sender's namespace."""
    return Hop(Place.of(ns), (step,))


def after_lookup(ns: Namespace, step: DnsStep, hops: tuple[Hop, ...]) -> tuple[Hop, ...]:
    """A walk's hops preceded by the name lookup, which happens in the walk's first namespace."""
    place = Place.of(ns)
    if hops and hops[0].place == place:
        return (Hop(place, (step,) + hops[0].steps),) + hops[1:]
    return (dns_hop(ns, step),) + hops


def kept_for(cache: dict, key: object, obj: object, make: Callable[[], _V]) -> _V:
    """``cache``'s value under ``key`` (which holds ``id(obj)``) for ``obj``, made by ``make`` when
    missing or made for another object (``obj`` is kept in its entry so that its id stays its own);
    bounded like the outcomes."""
    hit = cache.get(key)
    if hit is None or hit[0] is not obj:
        if len(cache) >= OUTCOME_CACHE:
            cache.clear()
        hit = cache[key] = (obj, make())
    return hit[1]


def walks_and_results() -> tuple[dict, list]:
    """A resolution's entry in a cache of :func:`kept_for`: its records' walks by address, results."""
    return {}, []


def _records_laid_out(res) -> tuple[list[int], dict[int, int] | None, int, int]:
    """:meth:`Matrix.records_of`, made."""
    ints = [int(a) for a, _, _ in res.records]
    place = {n: k for k, n in enumerate(ints)}
    return ints, place if len(place) == len(ints) else None, min(ints), max(ints)


def _balanced_reason(name: str, traces: list, answering: list, reason: str) -> str:
    """:func:`balanced_reason` of the walks to each record (``traces``) and those that answer."""
    n = len(traces)
    other = "" if not answering or len(answering) == n else next(t for _, t in traces if not t.delivered).reason
    return balanced_reason(name, n, len(answering), other, reason)


def reach_of(world: World, with_traces: bool = False, workers: int = 1) -> ReachResult:
    """The full reachability matrix of the world's design under the world's engine version
    (``with_traces``: every probe with its full trace; ``workers``: processes for the coarse groups
    of a large design)."""
    return ReachResult(world.design, world, with_traces=with_traces, workers=workers)


def compute_reach(design: Design, engine_version: str | None = None, with_traces: bool = False) -> ReachResult:
    """:func:`reach_of` a world built here from ``design`` under ``engine_version`` (default: the hosts').

    For a caller holding a design only; a command passes the world it built once to :func:`reach_of`."""
    return reach_of(build_world(design, engine_version), with_traces)
