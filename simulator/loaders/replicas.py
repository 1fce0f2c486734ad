"""Replicas: one service (a compose service with ``scale``/``deploy.replicas``, a netsim container
with ``replicas``) made into the containers the engine runs.

Each replica is a container of its own, with its own address on each network; the service's name
is a DNS name of every replica (an alias on each user-defined network), so it resolves to all of
their addresses, shuffled per query. A published port with a fixed host port can be bound by one
of them only; a host port range gives each replica the first port still free.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

from ..model import Container
from .ports import Published
from .yamlsource import Report

if TYPE_CHECKING:
    from .native import SourceMap

MAX_REPLICAS = 10_000


def replica_ids(service: str, count: int) -> list[str]:
    """The design names of a service's containers: the service's own name for one replica,
    ``<service>.<slot>`` (slot 1, 2, ...) for several."""
    return [service] if count == 1 else [f"{service}.{n}" for n in range(1, count + 1)]


def replicas_of(first: Container, count: int, stem: str, published: Published, report: Report, smap: SourceMap,
                marked: int, src: tuple) -> list[Container]:
    """The ``count`` containers of a service read as ``first`` (its first replica, every field but
    the ports set, or with them when it is the only one; ``smap`` marked for it since
    :meth:`SourceMap.mark_count` gave ``marked``), each with the ports it binds; on the engine
    ``<stem>-1``, ``<stem>-2``, ... (one replica: its own name)."""
    ids = replica_ids(first.service or first.name, count) if count > 1 else [first.name]
    engine_names = [f"{stem}-{n}" for n in range(1, count + 1)] if count > 1 else [first.docker_name]
    out: list[Container] = []
    for slot, (cid, engine_name) in enumerate(zip(ids, engine_names, strict=True), 1):
        mappings, full = published.of_replica(slot)
        for i in full:
            lo, hi = published.ranges[i]
            if lo + slot - 1 == hi + 1:  # the first replica left without a port
                report.error((*src, "ports", published.origin[i]),
                             f"driver failed programming external connectivity on endpoint {engine_name}: all ports "
                             f"are allocated (the host port range {lo}-{hi} has {hi - lo + 1} port(s) for "
                             f"{len(engine_names)} replicas: replica {slot} gets none, so it does not start); widen "
                             "the range or leave the host port out")
        model = ("containers", cid)
        if slot > 1:
            smap.copy_since(marked, ("containers", ids[0]), model)
        kept = [i for i in range(len(published.mappings)) if i not in full]
        for at, i in enumerate(kept):
            smap.mark((*model, "ports", at), (*src, "ports", published.origin[i]))
        ports = tuple(mappings)
        if cid == first.name and engine_name == first.docker_name and ports == first.ports:
            out.append(first)  # (one container, its ports given it already: a replace costs as much as reading it)
        else:
            out.append(replace(first, name=cid, docker_name=engine_name, ports=ports))
    return out
