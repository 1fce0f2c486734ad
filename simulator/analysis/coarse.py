"""Coarse class-level groups, computed per destination segment rather than per class pair.

:meth:`ReachResult.coarse_groups` merges, per source class, the probes of one way, port and
outcome whatever their target class. Merging the fine groups costs as much as computing them
(they grow with class pairs); this module gets the same groups from far fewer walks:

* destinations are gathered by the segment that holds them (a bridge on one host, an overlay,
  a LAN) and, within a segment, by what the host's rules can tell apart (the link, whether the
  port is published to the address, the port when it is);
* a source class is seen from its first member's namespace: the segments its own routes reach
  directly are walked one bucket each; everything else leaves through its default gateway,
  and at the Docker host owning that gateway the segments the host routes itself are walked one
  bucket each, while every segment the host sends out of its LAN interface (the others' bridges,
  overlays it is not on) is one bundle: one walk answers for all of them;
* the members of the source class that hold a destination address themselves (their own address,
  the same pool address on another host) are walked pair by pair, as in :meth:`ReachResult.groups`;
* names are looked up the same way: the names carried on the source's networks one by one, all
  the others (unresolved) as one bundle.

Counts and target classes of a bundle are kept as a shared base minus what the source excludes,
so a source class costs what its own networks and host hold, not the size of the design.
``tests/unit/test_coarse_groups.py`` holds the result to the fine groups merged
(:func:`~simulator.analysis.reachability.coarsened`), group for group, on random designs.
"""

from __future__ import annotations

import bisect
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from typing import TypeVar

from ..engine.dns import Resolution, vip_of
from ..engine.topology import Namespace
from ..engine.trace import Address, Disposition, DnsStep, Trace
from ..fanout import ordered_map
from .counts import Remainder, SharedCounts, TargetCounts
from .probes import Probe, Via
from .reachability import (
    OUTCOME_CACHE,
    ClassGroups,
    Matrix,
    ProbeGroup,
    ReachResult,
    carried_reason,
    host_of_source,
    kept_for,
    reason_shape,
    walks_and_results,
)

_R = TypeVar("_R")
_DELIVERED = Disposition.DELIVERED  # (the property Trace.delivered costs a call: asked for every row)
_NONE_OWNED: dict[tuple, list[int]] = {}  # (read only) _owned_by_seg of no owners
_LEAST_SOURCES = 64  # fewer source classes than this are computed in-process (forking costs more)
_Entry = tuple  # (target, network, address, address text, port, proto, host hint): Matrix._ip_targets


class _Row:
    __slots__ = ("count", "example", "name", "network", "targets")

    def __init__(self, example: Probe, network: str | None, name: str | None) -> None:
        self.example = example
        self.count = 0
        self.targets = TargetCounts()
        self.network = network
        self.name = name


class _Acc:
    """The coarse rows of one source class being gathered."""

    def __init__(self, cid: str, answered_only: bool = False, beyond_own_links: bool = False) -> None:
        self.cid = cid
        self.rows: dict[tuple, _Row] = {}
        self.answered_only = answered_only
        self.beyond_own_links = beyond_own_links
        self._sink: _Row | None = None

    def row(self, via: Via, port: int, proto: str, host: str | None, t: Trace, responder_class: str | None,
            make_example, network: str | None = None, name: str | None = None) -> _Row:
        if self.answered_only and t.disposition is not Disposition.DELIVERED:  # counted nowhere
            if self._sink is None:
                self._sink = _Row(make_example(), None, None)
            return self._sink
        key = (via, port, proto, host, t.disposition, responder_class, reason_shape(t.reason))
        row = self.rows.get(key)
        if row is None:
            row = self.rows[key] = _Row(make_example(), network, name)
        else:
            if row.network != network:
                row.network = None
            if row.name != name:
                row.name = None
        return row

    def merge(self, key: tuple, got: _Row, times: int, source: str) -> None:
        """Add the row ``got`` of another accumulator (counted for one member, no remainder) ``times``
        over under its key, its example as from ``source``."""
        if self.answered_only and key[4] is not Disposition.DELIVERED:
            return
        row = self.rows.get(key)
        if row is None:
            e = got.example
            row = self.rows[key] = _Row(e.made_by(source), got.network, got.name)
        else:
            if row.network != got.network:
                row.network = None
            if row.name != got.name:
                row.name = None
        row.count += got.count * times
        row.targets.add_counts(got.targets, times)

    def groups(self) -> Iterator[ProbeGroup]:
        for (via, port, proto, host, disposition, responder_class, _), row in self.rows.items():
            if row.count <= 0:
                continue
            e = row.example
            if via == Via.HOST:
                yield ProbeGroup(self.cid, via, None, row.network, row.name, host, port, proto, disposition, e.reason,
                                 responder_class, row.count, e, family=e.family)
                continue
            several, tclass = row.targets.sole()
            targets: Sequence[tuple[str, int]] = row.targets if several else ()
            yield ProbeGroup(self.cid, via, tclass, row.network, row.name, host, port, proto, disposition, e.reason,
                             responder_class, row.count, e, targets, e.family)


def _with_port(t: Trace, rep_addr: Address | None, addr: Address | None, rep_port: int, port: int,
               proto: str, responder: str | None) -> Trace:
    """A representative's outcome carried over to another destination of its bucket."""
    return Trace((), t.disposition, carried_reason(t.reason, rep_addr, addr, rep_port, port, proto),
                 responder if t.disposition is _DELIVERED else None)


class CoarseGroups:
    """Computes :meth:`ReachResult.coarse_groups` for one result (see the module's docstring)."""

    def __init__(self, result: ReachResult, matrix: Matrix) -> None:
        self.result = result
        self.m = matrix
        self.world = world = result.world
        self.tag = "" if world.family == 4 else "6"  # the IPv6 side's target sets: "ip6 PORT/PROTO"
        self.fine = fine = ClassGroups(result, matrix)
        self.entries: list[_Entry] = matrix._ip_targets()
        # the interface holding each address, per namespace, and every address a segment holds
        self.seg_addrs: dict[tuple, dict[Address, Namespace]] = {}
        for ns in world.namespaces.values():
            for i in ns.interfaces.values():
                if i.address is not None and i.segment is not None:
                    self.seg_addrs.setdefault(i.segment, {}).setdefault(i.address.ip, ns)
        # destinations by segment, and within a segment by what the rules tell apart
        self.seg_of: list[tuple] = []
        self.sub_of: list[tuple] = []
        # the subnets of a segment's destinations (several on a LAN: macvlan and ipvlan networks of one parent)
        self.subnets_of: dict[tuple, dict[tuple[int, int], None]] = {}
        self.buckets: dict[tuple, dict[tuple, list[int]]] = {}
        self.responder: list[str | None] = []
        self.tclass: list[str] = []
        self.ints: list[int] = []  # each destination's address as an integer
        self.by_addr: dict[Address, list[int]] = {}
        last: tuple | None = None  # the entry before's target and address: an address's entries come together, a port each
        seg: tuple = ()
        for idx, (target, _net, addr, _text, port, proto, hint) in enumerate(self.entries):
            if last is None or addr is not last[1] or target != last[0]:
                last = (target, addr)
                ns = world.namespace_of(target)
                iface = ns.interface_holding(addr)
                assert iface is not None and iface.segment is not None and iface.address is not None  # on a segment
                seg = iface.segment
                net = iface.address.network
                self.subnets_of.setdefault(seg, {})[(int(net.network_address), int(net.broadcast_address))] = None
                n = int(addr)
                link = (iface.kind, iface.mode, iface.parent)
                in_seg = self.buckets.setdefault(seg, {})
                at_addr = self.by_addr.setdefault(addr, [])
                cls = fine.cls(target) or target
            self.seg_of.append(seg)
            self.ints.append(n)
            at_addr.append(idx)
            published = (hint, n, port, proto) in matrix._published
            sub = (*link, published, port if published else None, proto)
            in_seg.setdefault(sub, []).append(idx)
            self.sub_of.append(sub)
            self.responder.append(ns.listeners.get((port, proto)))
            self.tclass.append(cls)
        # per segment and (port, proto): entries and their target classes (the bundles' parts)
        self.seg_counts: dict[tuple, dict[tuple[int, str], tuple[int, dict[str, int]]]] = {}
        self.all_counts: dict[tuple[int, str], tuple[list[int], dict[str, int]]] = {}
        self.net_counts: dict[tuple[int, str], dict[str, int]] = {}  # (port, proto) -> network -> destinations
        self.of_port: dict[tuple[int, str], list[int]] = {}  # (port, proto) -> its entries, in order
        self.seg_nets: dict[tuple, dict[tuple[int, str], dict[str, int]]] = {}
        pps = [(e[4], e[5]) for e in self.entries]
        for idx, pp in enumerate(pps):
            self.of_port.setdefault(pp, []).append(idx)
        # counted by what tells entries apart here (far fewer than the entries), in order of first
        # appearance: every dict below is then filled in the order the entries would fill it
        alike = Counter(zip(self.seg_of, pps, self.tclass, [e[1] for e in self.entries], strict=True))
        for (seg, pp, cls, net), k in alike.items():
            at_seg = self.seg_counts.setdefault(seg, {})
            n, d = at_seg.get(pp, (0, {}))
            d[cls] = d.get(cls, 0) + k
            at_seg[pp] = (n + k, d)
            total, g = self.all_counts.setdefault(pp, ([0], SharedCounts()))
            total[0] += k
            g[cls] = g.get(cls, 0) + k
            nets = self.net_counts.setdefault(pp, {})
            nets[net] = nets.get(net, 0) + k
            sn = self.seg_nets.setdefault(seg, {}).setdefault(pp, {})
            sn[net] = sn.get(net, 0) + k
        self.segs = list(self.buckets)
        spans: dict[tuple[int, int], list[tuple]] = {}
        for seg in self.segs:
            for span in self.subnets_of[seg]:
                spans.setdefault(span, []).append(seg)
        self._spans = sorted((lo, hi, segs) for (lo, hi), segs in spans.items())
        self._los = [lo for lo, _, _ in self._spans]
        self._widest = max((hi - lo for lo, hi, _ in self._spans), default=0)
        # segments a LAN reaches (macvlan/ipvlan children, or a LAN holding addresses in their subnet):
        # a host's LAN route leads to them, not out of the design
        lan_held = sorted(int(a) for seg, addrs in self.seg_addrs.items() if seg[0] not in ("bridge", "overlay") for a in addrs)
        self._lan_touched = {seg for seg in self.segs if seg[0] not in ("bridge", "overlay")
                             or any(_any_within(lan_held, lo, hi) for lo, hi in self.subnets_of[seg])}
        self._host_view: dict[str, tuple] = {}
        self._seg_groups: dict[tuple, tuple[list, dict]] = {}
        self._parts_cache: dict[tuple, dict[tuple, list]] = {}
        self._addrs: dict[str, list[Address]] = {}
        self._collapse_cache: dict[int, tuple[dict, dict]] = {}
        self._block_totals: dict[tuple, tuple[dict, dict, dict]] = {}
        self._held: dict[tuple, list[tuple[int, Namespace, tuple]]] = {}
        self._owned_for: dict | None = None
        self._owned_segs: dict[tuple, list[int]] = {}
        self._walks: dict[tuple, tuple[Trace, Address, int]] = {}
        self._own: dict[tuple, Trace] = {}
        self.rclass = [fine.cls(r) for r in self.responder]
        self._dns = _Names(self)
        self._source_list: list | None = None
        self._remainders: dict[tuple, Remainder] = {}
        self._routed: dict[tuple, list] = {}
        self._host_seen: dict[tuple, list[tuple[Probe, Trace, str | None]]] = {}

    # --- sources -----------------------------------------------------------------------
    def groups(self, only: set[str] | None = None, ways: set[Via] | None = None,
               beyond_own_links: bool = False, answered_only: bool = False, workers: int = 1) -> Iterator[ProbeGroup]:
        def groups_of(source: tuple) -> list[ProbeGroup]:
            return list(self.groups_of(source, ways or {Via.IP, Via.DNS, Via.HOST}, beyond_own_links, answered_only))

        for batch in self.map_sources(groups_of, only, workers):
            yield from batch

    def map_sources(self, work: Callable[[tuple], _R], only: set[str] | None = None, workers: int = 1) -> Iterator[_R]:
        """``work`` of every source class (:meth:`ClassGroups.sources` entries; ``only``: these), in
        order; with ``workers`` > 1 and many source classes, in forked processes (:mod:`simulator.fanout`)."""
        todo = [s for s in self._sources() if only is None or s[0] in only]
        # a chunk per source class: they take 1 ms to 0.6 s each, and a worker done with its share
        # takes the others' last chunks one by one
        return ordered_map(work, todo, workers, chunk=1, shared=self.shared_values(), least=_LEAST_SOURCES,
                           affinity=host_of_source, early=_from_outside)

    def _sources(self) -> list[tuple[str, list[str], list[tuple[str, Namespace]]]]:
        if self._source_list is None:
            self._source_list = list(self.fine.sources())
        return self._source_list

    def shared_values(self) -> list[dict[str, int]]:
        """The bundles' base counts: read by many groups, sent between processes by reference."""
        return [d for _, d in self.all_counts.values()] + [d for _, d in self._dns.base.values()]

    def groups_of(self, source: tuple, ways: set[Via], beyond_own_links: bool = False,
                  answered_only: bool = False) -> Iterator[ProbeGroup]:
        """The coarse groups of one source class (an entry of :meth:`ClassGroups.sources`)."""
        cid, members, placed = source
        acc = _Acc(cid, answered_only, beyond_own_links)
        if placed:
            if Via.IP in ways:
                self._ip(acc, placed)
            if Via.DNS in ways:
                self._dns.add(acc, placed)
            if Via.HOST in ways:
                self._host(acc, members, placed)
        return acc.groups()

    def _host(self, acc: _Acc, members: list[str], placed: list[tuple[str, Namespace]]) -> None:
        s0, ns0 = placed[0]
        n = len(members)
        for p, t, responder_class in self._host_probes(s0, ns0):
            row = acc.row(Via.HOST, p.port, p.protocol, p.host, t, responder_class, lambda p=p: p.made_by(s0))
            row.count += n

    def _host_probes(self, s0: str, ns0: Namespace) -> list[tuple[Probe, Trace, str | None]]:
        """The probes via host of one source (:meth:`Matrix.host_probes`), each with its outcome and the
        class of its responder: a container's are the same for every container dialling the same
        address (its gateway; over IPv6 its host's LAN address) the same way (its sender key), made
        once for them."""
        if ns0.kind != "container" or self.m.with_traces:
            return self._host_rows(s0, ns0)
        default = next((r for r in ns0.routes if r.dest.prefixlen == 0), None)
        if default is None or default.via is None:  # no gateway, or a gateway-less default (ipvlan l3)
            return self._host_rows(s0, ns0)
        [(_, dial, _)] = self.m._host_dials(s0, ns0, self.fine.host_ports)
        key = (self.m._sender(ns0, dial), dial, ns0.host)
        rows = self._host_seen.get(key)
        if rows is None:
            rows = self._host_seen[key] = self._host_rows(s0, ns0)
        return rows

    def _host_rows(self, s0: str, ns0: Namespace) -> list[tuple[Probe, Trace, str | None]]:
        """:meth:`Matrix.host_probes` of one source, each with its outcome (no hops) and responder class."""
        cls = self.fine.cls
        return [(p, Trace((), p.disposition, p.reason), cls(p.responder))
                for p in self.m.host_probes(s0, ns0, self.fine.host_ports)]

    # --- via ip --------------------------------------------------------------------------
    def _covered(self, ns: Namespace) -> dict[tuple, str]:
        """The destination segments ``ns`` routes without its default route: segment -> the interface
        it leaves by ("?" when its routes cover part of the segment's subnets only, or leave by several
        interfaces for them)."""
        per: dict[tuple, str] = {}  # (segment, subnet) -> the interface, "?" when a route covers part of it
        best: dict[tuple, int] = {}
        for r in ns.routes:
            if not r.dest.prefixlen:
                continue
            rlo, rhi = int(r.dest.network_address), int(r.dest.broadcast_address)
            at = bisect.bisect_left(self._los, rlo - self._widest)
            while at < len(self._spans) and self._spans[at][0] <= rhi:
                lo, hi, segs = self._spans[at]
                at += 1
                if hi < rlo:
                    continue
                whole = rlo <= lo and hi <= rhi
                for seg in segs:
                    key = (seg, lo, hi)
                    if per.get(key) == "?":
                        continue
                    if not whole:
                        per[key] = "?"
                    elif r.dest.prefixlen > best.get(key, -1):
                        best[key] = r.dest.prefixlen
                        per[key] = r.iface
        out: dict[tuple, str] = {}
        found: dict[tuple, int] = {}
        for (seg, _, _), ifname in per.items():
            out[seg] = ifname if out.get(seg, ifname) == ifname else "?"
            found[seg] = found.get(seg, 0) + 1
        for seg, k in found.items():
            if k < len(self.subnets_of[seg]):  # some of its subnets only: the others leave by the default route
                out[seg] = "?"
        return out

    def _gateway_host(self, ns: Namespace) -> tuple[str, Namespace | None]:
        """Where the default route of a container namespace leads: ("none", None) without one,
        ("nobody", None) when no namespace owns the gateway, ("host", host namespace),
        ("other", None) for anything else (walked destination by destination)."""
        default = next((r for r in ns.routes if r.dest.prefixlen == 0), None)
        if default is None:
            return "none", None
        if default.via is None:
            return "other", None
        iface = ns.interfaces[default.iface]
        owner = self.seg_addrs.get(iface.segment, {}).get(default.via) if iface.segment is not None else None
        if owner is None:
            return "nobody", None
        if owner.kind == "host":
            return "host", owner
        return "other", None

    def _ip(self, acc: _Acc, placed: list[tuple[str, Namespace]]) -> None:
        _, ns0 = placed[0]
        owners = self._owners(placed)
        if ns0.kind == "external":
            self._external(acc, placed, owners)
            return
        done: set[tuple] = set()
        blocks: list[tuple] = []  # the segments done, in blocks whose totals are remembered
        if ns0.kind == "host":
            host_ns: Namespace | None = ns0
        else:
            via: dict[tuple | None, list[tuple]] = {}
            for seg, ifname in self._covered(ns0).items():
                done.add(seg)
                if ifname == "?":
                    blocks.append((seg,))
                    self._per_entry(acc, placed, owners, self._of(seg))
                else:
                    via.setdefault(ns0.interfaces[ifname].segment, []).append(seg)
            for out_seg, segs in via.items():
                blocks.append(tuple(segs))
                if acc.beyond_own_links and out_seg is not None and out_seg[0] in ("bridge", "overlay"):
                    continue  # whoever answers over the source's own bridge or overlay is on its network
                self._segment(acc, placed, owners, blocks[-1], out_seg)
            how, host_ns = self._gateway_host(ns0)
            if how == "other":
                self._per_entry(acc, placed, owners, [i for seg in self.segs if seg not in done for i in self._of(seg)])
                return
        if host_ns is not None:
            local, generic = self._host_segments(host_ns)
            via = {}
            for seg, out_seg in local.items():
                if seg not in done:
                    done.add(seg)
                    via.setdefault(out_seg, []).append(seg)
            for out_seg, segs in via.items():
                blocks.append(tuple(segs))
                self._routed_segment(acc, placed, owners, blocks[-1], out_seg)
            rest = tuple(seg for seg in generic if seg not in done)
            done.update(rest)
            blocks.append(rest)
            self._per_entry(acc, placed, owners, [i for seg in rest for i in self._of(seg)])
        self._bundle(acc, placed, owners, done, blocks)

    def _external(self, acc: _Acc, placed: list[tuple[str, Namespace]], owners: dict) -> None:
        """The LAN peer routes each host's bridge subnets through that host (the route whose host hint
        is the destination's host): a bridge whose whole subnet it routes so, through a host that puts
        the subnet on that very bridge, is walked one bucket each; every other destination on its own."""
        ns0 = placed[0][1]
        covered = self._covered(ns0)
        routes: dict[tuple[int, int], list] = {}
        for r in ns0.routes:
            routes.setdefault((r.dest.prefixlen, int(r.dest.network_address)), []).append(r)
        hosts = {h.name: self.world.host_ns(h.name) for h in self.world.design.hosts}
        alone: list[int] = []
        for seg in self.segs:
            if covered.get(seg, "?") == "?" or seg[0] != "bridge" or not self._through_own_host(seg, routes, hosts):
                alone.extend(self._of(seg))
                continue
            self._segment(acc, placed, owners, (seg,), seg)
        self._per_entry(acc, placed, owners, sorted(alone))

    def _through_own_host(self, seg: tuple, routes: dict[tuple[int, int], list], hosts: dict[str, Namespace]) -> bool:
        """Whether every destination of bridge ``seg`` is routed by the LAN peer through the bridge's host
        (the one route it takes for the subnet names that host), and that host routes the subnet onto ``seg``."""
        host = seg[2]
        if host not in hosts or any(self.entries[i][6] != host for i in self._of(seg)):
            return False
        if len(self.subnets_of[seg]) != 1:
            return False
        (lo, hi), = self.subnets_of[seg]
        prefix = (32 if self.world.family == 4 else 128) - (hi - lo).bit_length()
        found = routes.get((prefix, lo))
        if not found or not any(r.host_hint == host for r in found[1:] + found[:1]):
            return False
        local, _ = self._host_segments(hosts[host])
        return local.get(seg) == seg

    def _totals(self, block: tuple) -> tuple[dict, dict, dict]:
        """Per (port, protocol): the destinations of some segments, their target classes, their networks."""
        hit = self._block_totals.get(block)
        if hit is None:
            count: dict[tuple[int, str], int] = {}
            classes: dict[tuple[int, str], dict[str, int]] = {}
            nets: dict[tuple[int, str], dict[str, int]] = {}
            for seg in block:
                for pp, (k, part) in self.seg_counts[seg].items():
                    count[pp] = count.get(pp, 0) + k
                    into = classes.setdefault(pp, {})
                    for cls, j in part.items():
                        into[cls] = into.get(cls, 0) + j
                    into = nets.setdefault(pp, {})
                    for net, j in self.seg_nets[seg][pp].items():
                        into[net] = into.get(net, 0) + j
            hit = self._block_totals[block] = (count, classes, nets)
        return hit

    def _of(self, seg: tuple) -> list[int]:
        return [i for b in self.buckets[seg].values() for i in b]

    def _host_segments(self, host_ns: Namespace) -> tuple[dict[tuple, tuple | None], set[tuple]]:
        """What a Docker host does with each destination segment: routes it itself (segment -> the
        segment of the interface it leaves by), or needs a walk per destination (``generic``: a route
        covering part of its subnet or through the LAN, a segment on a LAN, a subnet a LAN holds
        addresses in). The rest leave by its LAN interface towards a router netsim does not model:
        one bundle."""
        hit = self._host_view.get(host_ns.id)
        if hit is None:
            local: dict[tuple, tuple | None] = {}
            generic: set[tuple] = set(self._lan_touched)
            for seg, ifname in self._covered(host_ns).items():
                iface = host_ns.interfaces.get(ifname)
                if iface is None or iface.kind == "lan":
                    generic.add(seg)
                else:
                    local[seg] = iface.segment
            hit = self._host_view[host_ns.id] = (local, generic - set(local))
        return hit

    def _owners(self, placed: list[tuple[str, Namespace]]) -> dict[int, list[tuple[str, Namespace]]]:
        """entry -> the members of the source class holding its address (walked on their own)."""
        out: dict[int, list[tuple[str, Namespace]]] = {}
        for s, ns in placed:
            if ns.kind != "container":
                continue
            for addr in self.addresses(ns):
                for idx in self.by_addr.get(addr, ()):
                    out.setdefault(idx, []).append((s, ns))
        return out

    def addresses(self, ns: Namespace) -> list[Address]:
        """``ns.addresses()``, read once per namespace."""
        addrs = self._addrs.get(ns.id)
        if addrs is None:
            addrs = self._addrs[ns.id] = ns.addresses()
        return addrs

    def _rep(self, placed: list[tuple[str, Namespace]], idxs: list[int]) -> tuple[str, Namespace, int] | None:
        """A member and a destination of ``idxs`` it does not hold: the pair whose walk stands for the rest."""
        s0, ns0 = placed[0]
        for idx in idxs:
            if self.ints[idx] not in self.m.owned(ns0):
                return s0, ns0, idx
        for s, ns in placed[1:]:
            if self.ints[idxs[0]] not in self.m.owned(ns):
                return s, ns, idxs[0]
        return None

    def _others(self, n: int, owners: dict, idx: int) -> int:
        return n - len(owners.get(idx, ()))

    def _probe(self, src: str, idx: int, t: Trace) -> Probe:
        target, network, _addr, text, port, proto, _hint = self.entries[idx]
        return self.m._make(src, Via.IP, port, proto, t, target=target, network=network, address=text)

    def _add(self, acc: _Acc, src: str, idx: int, t: Trace, count: int, network: str | None) -> None:
        port, proto = self.entries[idx][4], self.entries[idx][5]
        row = acc.row(Via.IP, port, proto, None, t, self.fine.cls(t.responder) if t.disposition is _DELIVERED else None,
                      lambda: self._probe(src, idx, t), network)
        row.count += count
        row.targets.add(self.tclass[idx], count)

    def _specials(self, acc: _Acc, owners: dict, idxs) -> None:
        """The pairs where the member holds the destination's address: each on its own, but for members
        whose own walks give one row (:meth:`_alike`): counted at once, the first's the example."""
        for idx in idxs:
            holders = owners.get(idx)
            if not holders:
                continue
            e = self.entries[idx]
            s0, ns0 = holders[0]
            t = self.own_walk(ns0, e[2], e[4], e[5], e[6])
            if len(holders) > 1 and self._alike(holders, e[4], e[5]):
                self._add(acc, s0, idx, t, len(holders), e[1])
                continue
            self._add(acc, s0, idx, t, 1, e[1])
            for s, ns in holders[1:]:
                self._add(acc, s, idx, self.own_walk(ns, e[2], e[4], e[5], e[6]), 1, e[1])

    def _alike(self, holders: list[tuple[str, Namespace]], port: int, proto: str) -> bool:
        """Whether the members' own walks to ``port`` (:meth:`own_walk`) all fall in the first's row:
        no task filter (whose walk is its own), and each one's listener there, or none, of one class."""
        first = holders[0][1].listeners.get((port, proto))
        cls = self.fine.cls(first)
        for _, ns in holders:
            who = ns.listeners.get((port, proto))
            if ns.task_filter is not None or (who is None) != (first is None) or self.fine.cls(who) != cls:
                return False
        return True

    def own_walk(self, ns: Namespace, addr: Address, port: int, proto: str, hint: str | None) -> Trace:
        """The outcome of ``ns`` dialling its own address ``addr``: alike for every container (but its
        responder, itself when it listens), walked once per port and whether it listens."""
        if ns.kind != "container" or ns.task_filter is not None:  # (a task's own filter decides for itself)
            return self.m.trace(ns, addr, port, proto, hint)
        responder = ns.listeners.get((port, proto))
        key = (port, proto, responder is None)
        t = self._own.get(key)
        if t is None:
            t = self._own[key] = self.m.trace(ns, addr, port, proto, hint)
        return Trace((), t.disposition, t.reason, responder if t.disposition is _DELIVERED else None)

    def _per_entry(self, acc: _Acc, placed: list[tuple[str, Namespace]], owners: dict, idxs: list[int],
                   specials: bool = True) -> None:
        """Each destination walked on its own (from a member not holding it), and with ``specials`` the
        pairs where a member holds it."""
        n = len(placed)
        for idx in idxs:
            others = self._others(n, owners, idx)
            if others:
                rep = self._rep(placed, [idx])
                assert rep is not None
                s, ns, _ = rep
                e = self.entries[idx]
                self._add(acc, s, idx, self.m.trace(ns, e[2], e[4], e[5], e[6]), others, e[1])
        if specials:
            self._specials(acc, owners, idxs)

    def _groups_of(self, segs: tuple, out_seg: tuple | None) -> tuple[list[tuple[tuple, list[int], dict | None, dict]], dict]:
        """The destinations of ``segs`` reached through ``out_seg``, in groups one walk answers for:
        (walk key, destinations it may be walked to, who answers each when not its target, parts),
        and where each destination is (its group's number). On ``out_seg`` itself, by what the rules
        tell apart there; elsewhere (the same subnet on other segments), the addresses something on
        ``out_seg`` holds too go to that holder, grouped by what the holder is, and all the others to
        nobody there: one group per protocol, counted from each segment's totals less the held."""
        key = (segs, out_seg)
        hit = self._seg_groups.get(key)
        if hit is not None:
            return hit
        out: list[tuple[tuple, list[int], dict | None, dict]] = []
        where: dict = {}
        others = [seg for seg in segs if out_seg is None or seg != out_seg]
        for seg in segs:
            if seg in others and out_seg is not None:
                continue
            for sub, idxs in self.buckets[seg].items():
                where[(seg, sub)] = len(out)
                out.append((("seg", seg, sub), idxs, None, self._seg_parts(seg, sub)))
        if others and out_seg is not None:
            segset = set(others)
            held: dict[tuple, list[int]] = {}
            who: dict[int, str | None] = {}
            for i, holder, held_by in self._held_on(out_seg):
                if self.seg_of[i] in segset:
                    hkey, who[i] = self._holder_key(holder, held_by, i)
                    held.setdefault(hkey, []).append(i)
            link: dict[str, dict[tuple, list]] = {}
            for seg in others:
                for sub in self.buckets[seg]:
                    for pkey, (count, classes, _, _, idxs) in self._seg_parts(seg, sub).items():
                        pool = [i for i in idxs if i not in who] if who else idxs
                        by_proto = link.get(pkey[1])
                        if by_proto is None:
                            by_proto = link[pkey[1]] = {}
                        part = by_proto.get(pkey)
                        if part is None:
                            by_proto[pkey] = [count, dict(classes), pool[0] if pool else None, pkey[3], list(pool)]
                            continue
                        part[4] += pool
                        part[0] += count
                        into = part[1]
                        for cls, k in classes.items():
                            into[cls] = into.get(cls, 0) + k
                        if part[2] is None and pool:
                            part[2] = pool[0]
            for i in who:
                e = self.entries[i]
                part = link[e[5]][(e[4], e[5], self.rclass[i], e[1])]
                part[0] -= 1
                cls = self.tclass[i]
                part[1][cls] -= 1
                if not part[1][cls]:
                    del part[1][cls]
            for proto, parts in link.items():
                parts = {k: p for k, p in parts.items() if p[0] > 0}
                if parts:
                    where[("link", proto)] = len(out)
                    out.append((("link", out_seg, proto), [p[2] for p in parts.values()], None, parts))
            for hkey, idxs in held.items():
                sub_who = {i: who[i] for i in idxs}
                for i in idxs:
                    where[i] = len(out)
                out.append((("held", out_seg, hkey), idxs, sub_who, self._parts(idxs, sub_who)))
        self._seg_groups[key] = (out, where)
        return out, where

    def _seg_parts(self, seg: tuple, sub: tuple) -> dict[tuple, list]:
        key = (seg, sub)
        hit = self._parts_cache.get(key)
        if hit is None:
            hit = self._parts_cache[key] = self._parts(self.buckets[seg][sub], None)
        return hit

    def _group_of(self, where: dict, idx: int) -> int | None:
        number = where.get(idx)
        if number is None:
            number = where.get((self.seg_of[idx], self.sub_of[idx]))
        if number is None:
            number = where.get(("link", self.entries[idx][5]))
        return number

    def _held_on(self, seg: tuple) -> list[tuple[int, Namespace, tuple]]:
        """The destinations whose address something on ``seg`` holds, each with that holder and what a
        walk reads of it there (its kind, its interface's link), in the segment's order (made once per
        segment: addresses hash slowly, their integers do not)."""
        hit = self._held.get(seg)
        if hit is None:
            hit = self._held[seg] = []
            for addr, holder in self.seg_addrs.get(seg, {}).items():
                idxs = self.by_addr.get(addr)
                if idxs:
                    iface = holder.interface_holding(addr, seg)
                    assert iface is not None  # (seg_addrs: the address of an interface on seg)
                    held_by = (holder.kind, iface.kind, iface.mode, iface.parent)
                    hit += [(i, holder, held_by) for i in idxs]
        return hit

    def _holder_key(self, holder: Namespace, held_by: tuple, idx: int) -> tuple[tuple, str | None]:
        """What a walk to the holder of destination ``idx``'s address reads (``held_by``: its kind and
        link there, from :meth:`_held_on`), and who answers there."""
        e = self.entries[idx]
        port, proto = e[4], e[5]
        published = (holder.host, self.ints[idx], port, proto) in self.m._published
        who = holder.listeners.get((port, proto))
        return (*held_by, published, port if published else None, proto, who is not None), who

    def _segment(self, acc: _Acc, placed: list[tuple[str, Namespace]], owners: dict, segs: tuple, out_seg: tuple | None) -> None:
        """The destinations of some segments, reached through ``out_seg``: a walk per group; the pairs
        where a member holds the destination's address are taken out and walked on their own."""
        groups, where = self._groups_of(segs, out_seg)
        rows = [self._bucket(acc, placed, owners, idxs, who, parts, wkey) for wkey, idxs, who, parts in groups]
        by_seg = self._owned_by_seg(owners)
        owned = [i for seg in segs for i in by_seg.get(seg, ())]
        for idx in owned:
            number = self._group_of(where, idx)
            got = rows[number] if number is not None else None
            if number is None or not got:  # walked one by one, or no member but holders: nothing to take out
                continue
            k = len(owners[idx])
            e = self.entries[idx]
            who = groups[number][2]
            rclass = self.fine.cls(who[idx]) if who is not None else self.rclass[idx]
            row = got.get((e[4], e[5], rclass, e[1])) or got.get((e[4], e[5], None, None))
            if row is None:  # a part of members' own addresses only: not counted
                continue
            row.count -= k
            row.targets.subtract(self.tclass[idx], k)
        self._specials(acc, owners, owned)

    def _routed_segment(self, acc: _Acc, placed: list[tuple[str, Namespace]], owners: dict, segs: tuple,
                        out_seg: tuple | None) -> None:
        """:meth:`_segment` for segments the source reaches through its gateway's host: what they give
        depends only on how the source sends there (its sender key: host and gateway link) when no
        member holds one of their addresses, so it is gathered once per sender key, merged by row,
        and added for every source class sending the same way."""
        by_seg = self._owned_by_seg(owners)
        s0, ns0 = placed[0]
        if self.m.with_traces or any(seg in by_seg for seg in segs):
            self._segment(acc, placed, owners, segs, out_seg)
            return
        key = (self.m._sender(ns0, self.entries[self._of(segs[0])[0]][2]), segs, out_seg, acc.answered_only)
        rows = self._routed.get(key)
        if rows is None:
            alone = _Acc(acc.cid, acc.answered_only)  # answered_only: the rows somebody answers, nothing else counted
            self._segment(alone, [(s0, ns0)], {}, segs, out_seg)
            rows = self._routed[key] = [(k, r) for k, r in alone.rows.items() if r.count]
        n = len(placed)
        for row_key, got in rows:
            acc.merge(row_key, got, n, s0)

    def _owned_by_seg(self, owners: dict) -> dict[tuple, list[int]]:
        """``owners``' destinations by segment, made once per source class (an empty ``owners``, as
        :meth:`_routed_segment` passes when it walks for one sender alone, keeps what was made)."""
        if not owners:
            return _NONE_OWNED
        if self._owned_for is not owners:
            self._owned_for = owners
            self._owned_segs = {}
            for idx in owners:
                self._owned_segs.setdefault(self.seg_of[idx], []).append(idx)
        return self._owned_segs

    def _bucket(self, acc: _Acc, placed: list[tuple[str, Namespace]], owners: dict, idxs: list[int],
                responders: dict[int, str | None] | None, parts: dict, wkey: tuple) -> dict | None:
        """Destinations one walk answers for (``responders``: who answers each, when not its target),
        counted for every member; the rows they went to (None: walked one by one)."""
        if acc.answered_only and wkey[0] == "link":  # nothing on the link holds the address: nobody answers
            return {}
        rep = self._rep(placed, idxs)
        if rep is None:  # every member holds every one of them: only the pairs walked on their own
            return {}
        _, ns, ridx = rep
        r = self.entries[ridx]
        cache_key = (self.m._sender_at(ns, r[2], self.ints[ridx]), wkey,
                     r[4] if wkey[0] == "link" else None)  # a lost packet: per port, to be safe
        hit = self._walks.get(cache_key)
        if hit is None:
            t = self.m.trace(ns, r[2], r[4], r[5], r[6])
            hit = self._walks[cache_key] = (t, r[2], r[4])
        t, rep_addr, rep_port = hit
        expected = responders[ridx] if responders is not None else self.responder[ridx]
        delivered = t.disposition is _DELIVERED
        assert not (delivered and wkey[0] == "link"), "nothing on the link holds the address"
        if delivered:
            t = _with_port(t, rep_addr, r[2], rep_port, r[4], r[5], expected)
            if t.responder != expected or self.m.trace(ns, r[2], r[4], r[5], r[6]).responder != expected:
                self._per_entry(acc, placed, owners, idxs, specials=False)  # answered by someone else: each on its own
                return None
        n = len(placed)
        rows: dict[tuple, _Row] = {}
        if not delivered and acc.answered_only:
            return rows
        if not delivered:  # nobody answers: who would have does not matter, nor does the network
            own_only = {k for k, p in parts.items() if p[2] in owners and _own_only(p, owners, n)} if owners else set()
            parts = self._collapsed(parts, own_only)
        for key, part in parts.items():
            if part[2] in owners and _own_only(part, owners, n):
                continue  # every pair of the part is a member dialling its own address: walked on its own
            count, classes, first, network, pool = part
            port, proto, rclass, _ = key
            who = responders[first] if responders is not None else self.responder[first]
            # the row's key reads the reason's shape (addresses blanked): the port is carried over now,
            # the address for the example only
            shaped = t if rep_port == port else _with_port(t, None, None, rep_port, port, proto, who)

            def example(first=first, pool=pool, port=port, proto=proto) -> Probe:
                src, idx = self._example_pair(placed, first, pool)
                who = responders[idx] if responders is not None else self.responder[idx]
                return self._probe(src, idx, _with_port(t, rep_addr, self.entries[idx][2], rep_port, port, proto, who))

            row = acc.row(Via.IP, port, proto, None, shaped, rclass if delivered else None, example, network)
            row.count += count * n
            row.targets.add_all(classes, n)
            rows[key] = row
        return rows

    def _example_pair(self, placed: list[tuple[str, Namespace]], first: int, pool: list[int] | None) -> tuple[str, int]:
        """A member and a destination of a part making one of its probes: not a member dialling its own
        address (that pair is walked on its own, and answers otherwise)."""
        s, ns = placed[0]
        if self.ints[first] not in self.m.owned(ns):
            return s, first
        for idx in pool or ():
            if self.ints[idx] not in self.m.owned(ns):
                return s, idx
        for s2, ns2 in placed[1:]:
            if self.ints[first] not in self.m.owned(ns2):
                return s2, first
        return s, first

    def _collapsed(self, parts: dict[tuple, list], own_only: set[tuple]) -> dict[tuple, list]:
        """``parts`` by (port, protocol) only: [count, target classes, first, the network or None, destinations];
        the network is read from the parts not in ``own_only`` (pairs of members dialling their own
        addresses only: counted here, taken out again by :meth:`_segment`)."""
        if own_only:
            return _collapse(parts, own_only)
        hit = self._collapse_cache.get(id(parts))
        if hit is None or hit[0] is not parts:
            hit = self._collapse_cache[id(parts)] = (parts, _collapse(parts, own_only))
        return hit[1]

    def _parts(self, idxs: list[int], responders: dict[int, str | None] | None) -> dict[tuple, list]:
        """Destinations by (port, protocol, responder class, network): [count, target classes, first]."""
        out: dict[tuple, list] = {}
        for idx in idxs:
            e = self.entries[idx]
            rclass = self.fine.cls(responders[idx]) if responders is not None else self.rclass[idx]
            key = (e[4], e[5], rclass, e[1])
            part = out.get(key)
            if part is None:
                part = out[key] = [0, {}, idx, e[1], []]
            part[0] += 1
            part[4].append(idx)
            cls = self.tclass[idx]
            part[1][cls] = part[1].get(cls, 0) + 1
        return out

    def _bundle(self, acc: _Acc, placed: list[tuple[str, Namespace]], owners: dict, done: set[tuple],
                blocks: list[tuple]) -> None:
        """Every destination segment not in ``done`` (the union of ``blocks``): one walk answers for all
        (the packet leaves the design, or has no way out), counted from the shared totals less each
        block's (remembered per block, never merged)."""
        n = len(placed)
        s0, ns0 = placed[0]
        rest_owned = [i for i in owners if self.seg_of[i] not in done]
        # answered_only: the bundle's walks still tell whether somebody answers; nothing else is counted
        totals = [] if acc.answered_only else [self._totals(block) for block in blocks if block]
        for pp, (total, base) in self.all_counts.items():
            port, proto = pp
            count = total[0] - sum(b[0].get(pp, 0) for b in totals)
            minus = [b[1][pp] for b in totals if pp in b[1]]
            if count <= 0:
                continue
            idx = self._bundle_example(done, pp, ns0)
            t = None if idx is None else self.m.trace(ns0, self.entries[idx][2], port, proto, self.entries[idx][6])
            if idx is None or t is None or t.delivered:
                # every such destination the representative's own, or somebody answers after all: one by
                # one (the pairs where a member holds the address come with the rest, below)
                self._per_entry(acc, placed, owners, [i for i in self.of_port[pp] if self.seg_of[i] not in done],
                                specials=False)
                continue
            if acc.answered_only:
                continue
            network = self._bundle_network(pp, [b[2][pp] for b in totals if pp in b[2]])
            row = acc.row(Via.IP, port, proto, None, t, None, lambda idx=idx, t=t: self._probe(s0, idx, t), network)
            row.count += count * n
            row.targets.add_rest(self._remainder(base, minus, f"ip{self.tag} {port}/{proto}"), n)
            for i in rest_owned:
                if (self.entries[i][4], self.entries[i][5]) == pp:
                    k = len(owners[i])
                    row.count -= k
                    row.targets.subtract(self.tclass[i], k)
        self._specials(acc, owners, rest_owned)

    def _remainder(self, base: dict[str, int], minus: list[dict[str, int]], name: str) -> Remainder:
        """The bundle's counts less the blocks done, shared by every source that does the same blocks."""
        key = (id(base), *map(id, minus))
        rest = self._remainders.get(key)
        if rest is None:  # the remainder holds base and parts: their ids stay theirs while it is kept
            rest = self._remainders[key] = Remainder(base, minus, name)
        return rest

    def target_sets(self) -> dict[str, list[dict]]:
        """The bundles' bases by name (``target_sets`` of the reach JSON): every destination via ip of
        a port, every name probed at a port, as target classes with counts."""
        out = {f"ip{self.tag} {port}/{proto}": base for (port, proto), (_, base) in self.all_counts.items()}
        out.update((f"dns{self.tag} {port}/{proto}", base) for (port, proto), (_, base) in self._dns.base.items())
        return {name: [{"class": c, "count": n} for c, n in base.items()] for name, base in out.items()}

    def _bundle_network(self, pp: tuple[int, str], gone: list[dict[str, int]]) -> str | None:
        """The one network of a bundle's destinations, None when they are on several."""
        nets = self.net_counts[pp]
        if len(nets) > sum(map(len, gone)) + 1:
            return None
        names = [net for net, k in nets.items() if k - sum(g.get(net, 0) for g in gone) > 0]
        return names[0] if len(names) == 1 else None

    def _bundle_example(self, done: set[tuple], pp: tuple[int, str], ns0: Namespace) -> int | None:
        for seg in self.segs:
            if seg in done or pp not in self.seg_counts[seg]:
                continue
            for idxs in self.buckets[seg].values():
                for i in idxs:
                    e = self.entries[i]
                    if (e[4], e[5]) == pp and self.ints[i] not in self.m.owned(ns0):
                        return i
        return None


def _from_outside(source: tuple) -> bool:
    """Whether a source class is the LAN peer: the last in order and among the costliest (it walks to
    most destinations on their own), so its worker computes it first."""
    placed = source[2]
    return bool(placed) and placed[0][1].kind == "external"


def _own_only(part: list, owners: dict[int, list], n: int) -> bool:
    """Whether every pair of a part (of :meth:`CoarseGroups._parts`) is one of the ``n`` members dialling
    its own address."""
    _, _, first, _, pool = part
    return first in owners and part[0] * n <= sum(len(owners.get(i, ())) for i in pool or (first,))


def _collapse(parts: dict[tuple, list], own_only: set[tuple]) -> dict[tuple, list]:
    """See :meth:`CoarseGroups._collapsed`."""
    out: dict[tuple, list] = {}
    nets: dict[tuple, set[str | None]] = {}
    for pkey, (count, classes, first, network, pool) in parts.items():
        key = (pkey[0], pkey[1], None, None)
        part = out.get(key)
        if part is None:
            part = out[key] = [0, {}, first, None, []]
            nets[key] = set()
        part[0] += count
        part[4].extend(pool or (first,))
        for cls, k in classes.items():
            part[1][cls] = part[1].get(cls, 0) + k
        if pkey not in own_only:
            nets[key].add(network)
    for key, part in out.items():
        if len(nets[key]) == 1:
            part[3] = next(iter(nets[key]))
    return out


def _any_within(sorted_values: list[int], lo: int, hi: int) -> bool:
    at = bisect.bisect_left(sorted_values, lo)
    return at < len(sorted_values) and sorted_values[at] <= hi


class _Names:
    """Probes by name for coarse groups: the names on the source's networks one by one, the rest as one bundle."""

    def __init__(self, cg: CoarseGroups) -> None:
        self.cg = cg
        fine = cg.fine
        self.table = cg.m.names
        # every (name, ports, target class, name key: the name, or ("own",) for members' own names) the
        # matrix probes, in order
        self.names: list[tuple[str, list[tuple[int, str]], str | None, tuple | str]] = []
        for entry in fine.dns_entries:
            if entry[0] == "own":
                for _, name, ports in fine.own_names[entry[1]].values():
                    self.names.append((name, ports, entry[1], ("own",)))
            else:
                _, name, ports = entry
                self.names.append((name, ports, fine.owners.get(name, (None, False))[0], name))
        self._remainders: dict[tuple, Remainder] = {}
        self._probes: dict[tuple, tuple] = {}  # see _several
        self._failed: dict[tuple, tuple[DnsStep, tuple[Probe, Trace]]] = {}  # (lookup step's id, port): see _unresolved
        self._views: dict[tuple, tuple[list, list]] = {}  # a lookup view -> see _view
        # over IPv4 a name no network searched carries fails alike in every view of one kind of
        # namespace with or without the embedded DNS (NameTable._resolve: NXDOMAIN or no resolver);
        # over IPv6 a view may fail it as IPv4-only instead (NO_AAAA); with traces each probe has its own
        self.same_failures = self.table.world.ipv4 is None and not cg.m.with_traces
        self._alike_failures: dict[tuple[str, bool], dict[tuple[int, str], tuple]] = {}  # see _view
        self.by_lower: dict[str, list[int]] = {}
        self.dotted: dict[str, list[int]] = {}  # "name.network" -> by network: resolved only from that network
        self.base: dict[tuple[int, str], tuple[list[int], dict[str, int]]] = {}
        self.with_port: dict[tuple[int, str], list[int]] = {}
        for i, (name, ports, tcls, _) in enumerate(self.names):
            for pp in ports:
                self.with_port.setdefault(pp, []).append(i)
            self.by_lower.setdefault(name.lower(), []).append(i)
            if "." in name:
                self.dotted.setdefault(name.rpartition(".")[2], []).append(i)
            for pp in ports:
                total, d = self.base.setdefault(pp, ([0], SharedCounts()))
                total[0] += 1
                if tcls is not None:
                    d[tcls] = d.get(tcls, 0) + 1

    def _remainder(self, pp: tuple[int, str], base: dict[str, int], minus: dict[str, int]) -> Remainder:
        """The names at a port not resolved from a source: shared by the sources resolving the same."""
        key = (pp, frozenset(minus.items()))
        rest = self._remainders.get(key)
        if rest is None:
            rest = self._remainders[key] = Remainder(base, [minus] if minus else [], f"dns{self.cg.tag} {pp[0]}/{pp[1]}")
        return rest

    def _several(self, s: str, ns: Namespace, name: str, res, port: int, proto: str) -> Probe:
        """``Matrix._dns_probe`` of a name answered with several records: the records' walks are
        shared by every source sending to them the same way (one route takes them all); a source
        holding none of them shares the whole probe (its source then possibly another's); one holding
        one of them (a replica dialling its service's name) gets it from the matrix, which sums the
        others' walks up once."""
        m = self.cg.m
        if m.with_traces or vip_of(res.records[0][1]) is not None:  # a virtual IP: its tasks are dialled
            return m._dns_probe(s, ns, name, res, port, proto)
        owned = m.owned(ns)
        ints, place, lo, hi = m.records_of(res)
        held = [n for n in owned if n in place] if place is not None else None
        if held is not None and len(held) == 1:
            return m._dns_probe(s, ns, name, res, port, proto)
        if held == []:  # every record (one_sender of them all: their span)
            sender = m.span_sender(ns, res.records[0][0], lo, hi)
        else:
            others = [a for a, _, _ in res.records if int(a) not in owned]
            held = held if len(others) < len(ints) else []
            sender = m.one_sender(ns, others) if others else None
        if sender is None:
            return m._dns_probe(s, ns, name, res, port, proto)
        walks, made = kept_for(self._probes, (name, id(res), port, proto, ns.host, sender), res, walks_and_results)
        if held == []:
            if not made:
                made.append(m._dns_probe(s, ns, name, res, port, proto))
            return made[0]

        def walked(addr: Address, host: str | None) -> Trace:
            n = int(addr)
            if n in owned:
                return m.probe(ns, addr, port, proto, host)
            t = walks.get(n)
            if t is None:
                t = walks[n] = m.probe(ns, addr, port, proto, host)
            return t

        return m._dns_probe(s, ns, name, res, port, proto, walked)

    def _unresolved(self, s: str, ns: Namespace, name: str, pp: tuple[int, str]) -> tuple[Probe, Trace]:
        """The probe of a name ``ns`` does not resolve and its outcome, made once per failed lookup (its
        step: the name and why it failed; its source then possibly another's). The name table makes
        each failure once: its step is told by identity (a step's hash is slow), and kept."""
        m = self.cg.m
        res = self.table.resolve(ns, name)
        if m.with_traces:
            p = m._dns_probe(s, ns, name, res, pp[0], pp[1])
            return p, Trace((), p.disposition, p.reason, p.responder)
        def made() -> tuple[Probe, Trace]:
            p = m._dns_probe(s, ns, name, res, pp[0], pp[1])
            return p, Trace((), p.disposition, p.reason, p.responder)

        return kept_for(self._failed, (id(res.step), pp), res.step, made)

    def add(self, acc: _Acc, placed: list[tuple[str, Namespace]]) -> None:
        cg = self.cg
        s0, ns0 = placed[0]
        n = len(placed)
        resolved, unresolved = self._view(s0, ns0)
        owned = cg.m.owned
        mine: dict[int, list[int]] = {}  # an address (as an integer) -> the members holding it (by position)
        for at, (_, ns) in enumerate(placed):
            for a in owned(ns):
                mine.setdefault(a, []).append(at)
        for i, res in resolved:
            name, ports, tcls, _ = self.names[i]
            held = [at for x in cg.m.records_of(res)[0] if x in mine for at in mine[x]]
            if held:
                holding = set(held)
                hold = sorted(holding)
                special = [placed[at] for at in hold]
                rest = placed[0] if hold[0] else next((placed[at] for at in range(n) if at not in holding), None)
                senders = ([(rest[0], rest[1], n - len(special))] if rest else []) + [(s, ns, 1) for s, ns in special]
            else:  # no member holds one of its records (most names): the first member stands for all
                senders = [(s0, ns0, n)]
            for s, ns, count in senders:
                r = res if ns is ns0 else self.table.resolve(ns, name)
                first, ctr, _ = r.records[0]
                hint = cg.m._host_of(ctr)
                several = len(r.records) > 1 or vip_of(ctr) is not None  # Matrix._dns_probe: any record, a virtual IP
                own = not several and int(first) in owned(ns)  # its own name, say: each member's own walk, shared
                walked = not several and not own and not cg.m.with_traces  # the row's example made from its walk
                for port, proto in ports:
                    made: Probe | None = None  # the probe, when made already: then also the row's example
                    if several:
                        made = self._several(s, ns, name, r, port, proto)
                        t = Trace((), made.disposition, made.reason, made.responder)
                    elif own:
                        t = cg.own_walk(ns, first, port, proto, hint)
                    else:
                        t = cg.m.trace(ns, first, port, proto, hint)
                    row = acc.row(Via.DNS, port, proto, None, t,
                                  cg.fine.cls(t.responder if t.disposition is _DELIVERED else None),
                                  lambda s=s, ns=ns, r=r, port=port, proto=proto, name=name, made=made, t=t, walked=walked:
                                  made.made_by(s) if made is not None
                                  else cg.m.one_record_probe(s, name, port, proto, t, r.records[0][0]) if walked
                                  else cg.m._dns_probe(s, ns, name, r, port, proto),
                                  None, name)
                    row.count += count
                    if tcls is not None:
                        row.targets.add(tcls, count)
        # every other name: not resolved, alike for all members
        for pp, count, one_name, p, outcome, left in unresolved:  # (not name, t, rest: above they hold other types)
            row = acc.row(Via.DNS, pp[0], pp[1], None, outcome, None, lambda p=p: p.made_by(s0), None, one_name)
            row.count += count * n
            row.targets.add_rest(left, n)

    def _view(self, s0: str, ns0: Namespace) -> tuple[list[tuple[int, Resolution]], list[tuple]]:
        """What a source's lookups give, the same for every source of its view (:meth:`NameTable.view`):
        the names it resolves (their place, the answer), and per port of the others (not resolved, one
        bundle) their count, the name when one (a row of several names names none, _Acc.row), the probe (from the first source of the view) and its
        outcome, the target classes left."""
        view = self.table.view(ns0)
        hit = self._views.get(view)
        if hit is not None:
            return hit
        # a name resolves when a network searched carries it, or as "name.network" of one of them
        candidates: set[int] = set()
        if ns0.has_embedded_dns:
            for net in self.table._search_order(ns0):
                for lower in self.table.by_network.get(net, {}):
                    candidates.update(self.by_lower.get(lower, ()))
                candidates.update(self.dotted.get(net, ()))
        looked = ((i, self.table.resolve(ns0, self.names[i][0])) for i in sorted(candidates))
        resolved = [(i, res) for i, res in looked if res.resolved]
        skip = {i for i, _ in resolved}
        gone: dict[tuple[int, str], int] = {}
        gone_classes: dict[tuple[int, str], dict[str, int]] = {}
        for i, _ in resolved:
            _, ports, tcls, _ = self.names[i]
            for pp in ports:
                gone[pp] = gone.get(pp, 0) + 1
                if tcls is not None:
                    minus = gone_classes.setdefault(pp, {})
                    minus[tcls] = minus.get(tcls, 0) + 1
        unresolved = []
        alike = self._alike_failures.setdefault((ns0.kind, ns0.has_embedded_dns), {}) if self.same_failures else None
        for pp, (total, base) in self.base.items():
            at_port = self.with_port[pp]
            if alike is not None and pp not in gone:  # no name at the port resolved: as in every view of its kind
                entry = alike.get(pp)
                if entry is None:
                    name = self.names[at_port[0]][0]
                    p, t = self._unresolved(s0, ns0, name, pp)
                    entry = alike[pp] = (pp, total[0], name if total[0] == 1 else None, p, t, self._remainder(pp, base, {}))
                unresolved.append(entry)
                continue
            count = total[0] - gone.get(pp, 0)
            if count <= 0:
                continue
            example = at_port[0] if at_port[0] not in skip else next((i for i in at_port if i not in skip), None)
            assert example is not None
            name = self.names[example][0]
            p, t = self._unresolved(s0, ns0, name, pp)
            unresolved.append((pp, count, name if count == 1 else None, p, t, self._remainder(pp, base, gone_classes.get(pp, {}))))
        if len(self._views) >= OUTCOME_CACHE:
            self._views.clear()
        hit = self._views[view] = (resolved, unresolved)
        return hit
