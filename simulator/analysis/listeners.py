"""Where each listener of a design was learnt, and which containers' listeners are unknown.

A compose service's listeners carry their origin (:class:`~simulator.model.ListenerOrigin`: compose,
x-netsim, dockerfile, image, catalogue; a netsim design's are "design"), and a service no source
gave a port carries the reason (``Container.listeners_unknown``); docs/listeners.md.  Pure.
"""

from __future__ import annotations

from ..errors import Problem, Severity
from ..model import Design, DesignKind, ListenerOrigin, ModeKind
from .probes import Probe, Via

__all__ = ["ListenerOrigins", "unknown_listener_problems", "unknown_listeners"]


def unknown_listeners(design: Design) -> tuple[tuple[str, str], ...]:
    """(container, why) for each container whose listeners no source states, in design order."""
    return tuple((c.name, c.listeners_unknown) for c in design.containers if c.listeners_unknown is not None)


def unknown_listener_problems(design: Design) -> list[Problem]:
    """One warning per container whose listeners are unknown, at the place it is written."""
    key = "services" if design.kind is DesignKind.COMPOSE else "containers"
    return [Problem(f"listeners unknown: {why}", f"{key}.{name}", design.locations.get(("containers", name)),
                    Severity.WARNING) for name, why in unknown_listeners(design)]


class ListenerOrigins:
    """The origin of the listener a probe dials: the responder's (or the target's, or of a container
    sharing the target's namespace) listener on the probe's port and protocol."""

    def __init__(self, design: Design) -> None:
        self._origin: dict[tuple[str, int, str], ListenerOrigin] = {}
        self._sharing: dict[str, list[str]] = {}
        self._published: dict[tuple[str, int, str], int] = {}  # (container, host port, protocol) -> its port
        self._known: dict[tuple, ListenerOrigin | None] = {}  # at()'s answers: a reach JSON asks the same many times
        for c in design.containers:
            for pm in c.ports:
                if pm.host_port is not None:
                    self._published.setdefault((c.name, pm.host_port, pm.protocol.value), pm.container_port)
            for lst in c.listeners:
                self._origin.setdefault((c.name, lst.port, lst.protocol.value), lst.origin)
            if c.mode.kind is ModeKind.CONTAINER and c.mode.target is not None:
                self._sharing.setdefault(c.mode.target, []).append(c.name)

    def of(self, probe: Probe) -> ListenerOrigin | None:
        """The origin, or None when no container listens there (a host port nothing answers)."""
        return self.at(probe.via, probe.responder, probe.target, probe.port, probe.protocol)

    def at(self, via: str, responder: str | None, target: str | None, port: int, protocol: str) -> ListenerOrigin | None:
        """The origin of the listener on ``port``/``protocol`` of ``responder`` (else of the container
        dialled by address, ``target``, or one sharing its namespace); via host, ``port`` is the host
        port, and the listener is on the container port it publishes."""
        key = (via, responder, target, port, protocol)
        if key in self._known:
            return self._known[key]
        if len(self._known) >= 1 << 16:
            self._known.clear()
        found = self._known[key] = self._origin_of(via, responder, target, port, protocol)
        return found

    def _origin_of(self, via: str, responder: str | None, target: str | None, port: int, protocol: str) -> ListenerOrigin | None:
        who = responder or (target if via == Via.IP else None)
        if who is None:
            return None
        if via == Via.HOST:
            published = [self._published.get((name, port, protocol)) for name in (who, *self._sharing.get(who, ()))]
            port = next((p for p in published if p is not None), port)
        for name in (who, *self._sharing.get(who, ())):
            found = self._origin.get((name, port, protocol))
            if found is not None:
                return found
        return None
