"""Equivalence classes of containers: containers that behave alike up to their addresses.

Two containers fall into one class when everything the packet walk and the name lookup read
about them is equal except their names and addresses: the host they run on, their network
mode, their attachments (network, aliases, gateway priority; not the address), what they
publish (container port, protocol, host address, whether a host port is given; not the host
port itself), what they listen on, their service name and hostname, and the shape of the
namespace they live in (the containers sharing it with ``network_mode: container:NAME``,
described the same way). Replicas of one service are the obvious case.

The reachability matrix (:mod:`simulator.analysis.reachability`) computes one walk per pair
of classes and expands it to the probes of every member pair only when asked; a property
test (tests/unit/test_classes_property.py) checks that the expansion equals the per-probe
walk, probe for probe.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from ..engine.topology import World
from ..model import Container, Design


@dataclass(frozen=True, slots=True)
class ContainerClass:
    """Containers that behave alike up to their addresses.

    ``id`` is stable and readable: the container's name for a class of one, otherwise a
    base name (the common service or name stem), the count and the networks, e.g.
    ``"app×40 (net-a,net-b)"`` (with ``on HOST`` in designs of several hosts).
    ``members`` are container names in design order; ``key`` is what makes them equal.
    """

    id: str
    members: tuple[str, ...]
    key: tuple

    @property
    def size(self) -> int:
        return len(self.members)

    @property
    def representative(self) -> str:
        """The member whose walks stand for the class: its first in design order."""
        return self.members[0]


def _own_key(c: Container) -> tuple:
    """What the walk and the name lookup read about one container, without its name and addresses."""
    return (
        c.host,
        c.mode.kind.value,
        tuple((a.network, a.aliases, a.gw_priority) for a in c.attachments),
        tuple(sorted((p.container_port, p.protocol.value, str(p.host_ip or ""), p.host_port is None)
                     for p in c.ports)),
        tuple((lst.port, lst.protocol.value) for lst in c.listeners),
        c.service,
        c.task_of,
        c.hostname,
    )


def class_key(world: World, name: str, own: Mapping[str, tuple]) -> tuple:
    """The key of one container: its own description and the shape of the namespace it lives in
    (every member's description in namespace order, and its place among them). ``own``: every
    container's description (:func:`_own_key`) by name."""
    ns_id = world.ns_of.get(name)
    if ns_id is None:  # its namespace could not be built (an unknown owner): alone
        return ("unplaced", name)
    mine = own[name]
    ns = world.namespaces[ns_id]
    if ns.kind != "container":  # host network: the host's namespace, shared with the host itself
        return (mine, "host-ns")
    if len(ns.members) == 1:  # (most): itself only
        return (mine, (mine,), 0)
    return (mine, tuple(own[m] for m in ns.members), ns.members.index(name))


def container_classes(world: World) -> tuple[ContainerClass, ...]:
    """Every container of the world's design in exactly one class, classes in the design order
    of their first member."""
    design = world.design
    own = {c.name: _own_key(c) for c in design.containers}
    by_key: dict[tuple, list[str]] = {}
    for c in design.containers:
        by_key.setdefault(class_key(world, c.name, own), []).append(c.name)
    return _named(design, [(key, tuple(members)) for key, members in by_key.items()])


_STEM = re.compile(r"[-_.]?\d+$")


def _base(design: Design, members: tuple[str, ...]) -> str:
    first = design.container(members[0])
    if first.service and all(design.container(m).service == first.service for m in members):
        return first.service
    if first.task_of and all(design.container(m).task_of == first.task_of for m in members):
        return first.task_of
    stems = {_STEM.sub("", m) for m in members}
    if len(stems) == 1:
        stem = stems.pop()
        if stem:
            return stem
    return members[0]


def _named(design: Design, classes: list[tuple[tuple, tuple[str, ...]]]) -> tuple[ContainerClass, ...]:
    multi_host = len(design.hosts) > 1
    taken = {c.name for c in design.containers} | {h.name for h in design.hosts} | {"host", "external"}
    out = []
    used: set[str] = set()
    for key, members in classes:
        if len(members) == 1:
            cid = members[0]
        else:
            first = design.container(members[0])
            nets = ",".join(first.networks) or first.mode.kind.value
            cid = f"{_base(design, members)}×{len(members)} ({nets})"
            if multi_host:
                cid += f" on {first.host}"
            n = 2
            base = cid
            while cid in used or cid in taken:
                cid = f"{base} #{n}"
                n += 1
        used.add(cid)
        out.append(ContainerClass(cid, members, key))
    return tuple(out)
