"""Name resolution as the engine's embedded DNS (127.0.0.11) answers it.

Only namespaces with an endpoint on a user-defined network have the embedded DNS;
the default bridge, host mode and none use the host's resolv.conf, which knows no
container names. The embedded DNS searches the networks the querying container is
attached to, in endpoint order, and answers with every container carrying the name on
the first network where it is found (round robin: the client picks one).

A family-6 world's table answers AAAA queries: the IPv6 addresses on dual-stack user-defined
networks (confirmed on 20.10, docs/confirmed-rules.md §18d). A name found first on a network
without IPv6 gets no AAAA answer and ends the search there (``ipv6Miss``: libnetwork
network.go ``ResolveName`` and sandbox.go ``ResolveName`` at v20.10.24; from source).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from ipaddress import IPv4Address

from ..model import Attachment, Container, Driver, ModeKind
from ..values import quick_init
from .ipam import GWBRIDGE
from .ondemand import OnDemand
from .topology import Namespace, World
from .trace import DnsOutcome, DnsStep

EMBEDDED_DNS = IPv4Address("127.0.0.11")


@quick_init
@dataclass(frozen=True, slots=True)
class Resolution:
    name: str
    records: tuple[tuple[IPv4Address, str, str], ...]  # (address, container, network)
    step: DnsStep

    @property
    def resolved(self) -> bool:
        return bool(self.records)


VIP_HOLDER = "vip:"  # the "container" of a swarm service's virtual-IP record (none holds that address)


def vip_holder(service: str) -> str:
    return VIP_HOLDER + service


def vip_of(holder: str) -> str | None:
    """The service whose virtual IP a record holds (None: a container's address)."""
    return holder[len(VIP_HOLDER):] if holder.startswith(VIP_HOLDER) else None


class NameTable:
    """Per network: name → [(address, container)], each network's made the first time it is read
    (:class:`~simulator.engine.ondemand.OnDemand`: a trace looks up a few networks of thousands)."""

    def __init__(self, world: World):
        self.world = world
        self._ipv4: NameTable | None = None  # a family-6 table: the IPv4 names (ipv6Miss)
        self._dual: set[str] = set()  # and the networks with IPv6
        self._on: dict[str, list[tuple[Container, Attachment]]] | None = None  # network -> its containers, in design order
        # (a Mapping, read through its own methods: it makes each network's table when first read)
        self.by_network: Mapping[str, dict[str, list[tuple[IPv4Address, str]]]] = OnDemand(self._table, self._tables)
        self._cache: dict[tuple, Resolution] = {}
        self._answers: dict[tuple, Resolution] = {}  # _answer's, by name, network, resolver's kind and form
        self._failures: dict[tuple, Resolution] = {}  # _failure's, by name, outcome, asker and network
        self._views: dict[str, tuple] = {}

    def _attached(self) -> dict[str, list[tuple[Container, Attachment]]]:
        if self._on is None:
            self._on = {}
            for c in self.world.design.containers:
                if c.mode.kind is ModeKind.NETWORKS:
                    for att in c.attachments:
                        self._on.setdefault(att.network, []).append((c, att))
        return self._on

    def _table(self, network: object) -> dict[str, list[tuple[IPv4Address, str]]] | None:
        """The names on ``network`` (None: no container of it has an address there)."""
        if not isinstance(network, str):
            return None
        design, addressing = self.world.design, self.world.addressing
        net = design.network(network) if design.has_network(network) else None
        if net is None or net.default_bridge or net.ingress or net.driver in (Driver.HOST, Driver.NONE):
            return None  # (the swarm's ingress network carries no names: libnetwork network.go, addSvcRecords)
        table: dict[str, list[tuple[IPv4Address, str]]] | None = None
        for c, att in self._attached().get(network, ()):
            ep = addressing.endpoint(c.name, network)
            if ep is None:
                continue
            names = list(c.dns_names(att))
            if c.hostname and c.hostname not in names:
                names.append(c.hostname)
            if table is None:
                table = {}
            for name in names:
                table.setdefault(name.lower(), []).append((ep.address, c.name))
        for svc in design.services:  # a vip-mode service's name and aliases: its virtual IP on the network
            vip = addressing.vips.get((svc.name, network))
            if vip is not None:
                table = table if table is not None else {}
                tasks = design.tasks(svc.name)  # a task's aliases are its service's
                joined = tasks[0].attachment(network) if tasks else None
                for name in (svc.name, *(joined.aliases if joined is not None else ())):
                    table[name.lower()] = [(vip, vip_holder(svc.name))]
        return table

    def _tables(self) -> dict[str, dict[str, list[tuple[IPv4Address, str]]]]:
        """Every network's names, in the order a network's first container with an address there comes."""
        whole: dict[str, dict[str, list[tuple[IPv4Address, str]]]] = {}
        addressing = self.world.addressing
        for c in self.world.design.containers:
            if c.mode.kind is ModeKind.NETWORKS:
                for att in c.attachments:
                    if att.network not in whole and addressing.endpoint(c.name, att.network) is not None:
                        table = self.by_network.get(att.network)
                        if table is not None:
                            whole[att.network] = table
        return whole

    def view(self, ns: Namespace) -> tuple:
        """What of ``ns`` its lookups depend on (its kind, its resolver, its search path): namespaces of
        one view resolve every name alike."""
        view = self._views.get(ns.id)
        if view is None:
            view = self._views[ns.id] = (ns.kind, ns.has_embedded_dns, tuple(self._search_order(ns)))
        return view

    def resolve(self, ns: Namespace, name: str) -> Resolution:
        """Resolve ``name`` as seen from ``ns`` (cached per view: many senders share one)."""
        key = (self.view(ns), name)
        hit = self._cache.get(key)
        if hit is None:
            hit = self._cache[key] = self._resolve(ns, name)
        return hit

    def _resolve(self, ns: Namespace, name: str) -> Resolution:
        if not ns.has_embedded_dns:
            return self._failure(name, DnsOutcome.NO_RESOLVER, ns.kind)
        searched = self.view(ns)[2]  # the search order, made once per namespace
        for network in searched:
            records = self.by_network.get(network, {}).get(name.lower())
            if records:
                return self._answer(ns, name, network, records, qualified=False)
            if self._ipv4_only(network, name):
                return self._failure(name, DnsOutcome.NO_AAAA, ns.kind, network)
        short, _, network = name.rpartition(".")
        if short and network in searched:  # "name.network" (confirmed on 20.10)
            records = self.by_network.get(network, {}).get(short.lower())
            if records:
                return self._answer(ns, name, network, records, qualified=True)
        return self._failure(name, DnsOutcome.NXDOMAIN, ns.kind)

    def _failure(self, name: str, outcome: DnsOutcome, asker: str, network: str | None = None) -> Resolution:
        """A lookup that finds nothing: the same for every view failing so (made once, kept: a caller
        may tell failures apart by their step's identity)."""
        key = (name, outcome, asker, network)
        hit = self._failures.get(key)
        if hit is None:
            resolver = None if outcome is DnsOutcome.NO_RESOLVER else EMBEDDED_DNS
            hit = self._failures[key] = Resolution(name, (), DnsStep(name, outcome, asker, resolver, network=network))
        return hit

    def _ipv4_only(self, network: str, name: str) -> bool:
        """An AAAA lookup: whether ``network`` has no IPv6 and carries ``name`` (its IPv4 names)."""
        v4 = self.world.ipv4
        if v4 is None:
            return False
        if self._ipv4 is None:
            self._ipv4 = NameTable(v4)
            self._dual = {key[0] for key in self.world.addressing.segments}
        return network not in self._dual and name.lower() in self._ipv4.by_network.get(network, {})

    def _answer(self, ns: Namespace, name: str, network: str, records: list[tuple[IPv4Address, str]], qualified: bool) -> Resolution:
        """The answer of ``network``'s records for ``name``: the same for every view finding it there
        (made once: many views resolve the names of one network)."""
        key = (name, network, ns.kind, qualified)
        hit = self._answers.get(key)
        if hit is None:
            recs = tuple((addr, ctr, network) for addr, ctr in records)
            step = DnsStep(name, DnsOutcome.ANSWERED, ns.kind, EMBEDDED_DNS, tuple(a for a, _, _ in recs), network, qualified)
            hit = self._answers[key] = Resolution(name, recs, step)
        return hit

    def _search_order(self, ns: Namespace) -> list[str]:
        nets = []
        for iface in ns.interfaces.values():
            if iface.network and iface.network != GWBRIDGE:
                nets.append(iface.network)
        gw = ns.gateway_network
        if gw in nets:  # libnetwork sorts the gateway endpoint first
            nets.remove(gw)
            nets.insert(0, gw)
        return nets
