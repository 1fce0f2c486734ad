"""Port syntax shared by netsim designs and compose files.

``ports`` items are compose/``docker run -p`` short strings
(``[HOST_IP:][HOST_PORT[-END]:]CONTAINER_PORT[-END][/PROTO]``), bare integers, or long
mappings (``target``, ``published``, ``host_ip``, ``protocol``, ...).  ``listens`` (netsim)
and ``expose`` (compose) items are ``80``, ``"53/udp"`` or ``"9000-9002/tcp"``.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, replace
from ipaddress import IPv4Address, IPv6Address

from ..model import Listener, PortMapping, Protocol
from ..schema import design_schema
from .yamlsource import Path, Report, describe, did_you_mean, shown

MAX_RANGE = 1000  # ports in one range ("8000-8999")
MAX_PER_CONTAINER = 2000  # ports one container publishes and listens on, ranges expanded
MAX_PER_DESIGN = 50_000  # the same, summed over the design (as many as attachments: 10,000 containers listen on 1-2 ports each)
PROTOCOLS = tuple(p.value for p in Protocol)


@dataclass(frozen=True, slots=True)
class PortFormat:
    """A file format's port items: whether its JSON Schema has checked the items' numbers (the
    netsim design schema: integer ports 1-65535, a long mapping's required target and protocol
    enum, listens' pattern), so that only the rest is reported here.  The compose-spec takes any
    number or string, and a mapping without target.  Both schemas check the types and the keys
    of a long mapping."""

    schema_checks_numbers: bool


NETSIM = PortFormat(True)
COMPOSE = PortFormat(False)
_LISTENS_ITEM = design_schema()["properties"]["containers"]["additionalProperties"]["properties"]["listens"]["items"]
_LISTEN_PATTERN = re.compile(_LISTENS_ITEM["pattern"])  # what the design schema lets through as a listens string

_NUM = re.compile(r"[0-9]{1,5}")  # ASCII digits only: str.isdigit() also accepts "²", which int() refuses
_EXPOSE = re.compile(r"([0-9]{1,5})(?:-([0-9]{1,5}))?(?:/([A-Za-z]+))?")
_SPACE = re.compile(r"\s")


class _Bad(Exception):
    """A malformed port spec; the message says why."""


def _port(text: str, what: str) -> int:
    if not _NUM.fullmatch(text) or not 1 <= int(text) <= 65535:
        raise _Bad(f'{what} "{shown(text)}" is not a port number (1-65535)')
    return int(text)


def _range(text: str, what: str) -> tuple[int, int]:
    """``"80"`` → (80, 80); ``"8000-8010"`` → (8000, 8010)."""
    first, dash, last = text.partition("-")
    start = _port(first, what)
    end = _port(last, what) if dash else start
    if end < start:
        raise _Bad(f'{what} range "{shown(text)}" ends before it starts (write {end}-{start})')
    if end - start + 1 > MAX_RANGE:
        raise _Bad(f'{what} range "{shown(text)}" has {end - start + 1} ports; netsim models at most {MAX_RANGE}')
    return start, end


def _protocol(text: str) -> Protocol:
    if text not in PROTOCOLS:
        hint = did_you_mean(text.lower(), PROTOCOLS) or f" (use one of {', '.join(PROTOCOLS)})"
        raise _Bad(f'"{shown(text)}" is not a protocol{hint}')
    return Protocol(text)


def _host_ip(text: str) -> IPv4Address | IPv6Address | None:
    """An IPv4 or IPv6 host address (written without brackets), None for empty."""
    if text == "":
        return None
    try:
        return IPv4Address(text)
    except ValueError:
        pass
    try:
        return IPv6Address(text)
    except ValueError:
        raise _Bad(f'host IP "{shown(text)}" is not an IP address (e.g. 127.0.0.1 or ::1)') from None


def _expand(host: tuple[int, int] | None, ctr: tuple[int, int], proto: Protocol, ip,
            ranged: list[tuple[int, int]]) -> list[PortMapping]:
    """Pair host and container ranges the way Docker does; a host range for one container port
    (the engine binds the first free port of it) is mapped to its first port and added to ``ranged``."""
    ports = range(ctr[0], ctr[1] + 1)
    if host is None:
        return [PortMapping(p, proto, None, ip) for p in ports]
    host_len, ctr_len = host[1] - host[0], ctr[1] - ctr[0]
    if host_len != ctr_len:
        if ctr_len != 0:
            raise _Bad(
                "invalid ranges specified for container and host Ports: "
                f"{_fmt(ctr)} and {_fmt(host)} (both ranges need the same length)"
            )
        ranged.append(host)
        return [PortMapping(ctr[0], proto, host[0], ip)]
    return [PortMapping(c, proto, host[0] + i, ip) for i, c in enumerate(ports)]


def _fmt(r: tuple[int, int]) -> str:
    return str(r[0]) if r[0] == r[1] else f"{r[0]}-{r[1]}"


class PortBudget:
    """Counts one container's ports (ranges expanded) against :data:`MAX_PER_CONTAINER` and the
    design's against :data:`MAX_PER_DESIGN` (kept on the report), so an anchored list of ranges
    reused by many containers cannot take memory and time without bound."""

    def __init__(self, report: Report):
        self.report = report
        self.used = 0
        self.full = False

    @property
    def spent(self) -> bool:
        return self.full or bool(self.report.limits.get("ports-full"))

    def take(self, count: int, path: Path, what: str) -> bool:
        """Count ``count`` ports at ``path``; False (after one error) once a budget is spent."""
        report = self.report
        if self.full or report.limits.get("ports-full"):
            return False
        self.used += count
        report.limits["ports"] = report.limits.get("ports", 0) + count
        if self.used > MAX_PER_CONTAINER:
            report.error(path, f"the {what} add up to more than {MAX_PER_CONTAINER} ports (ranges expanded); netsim "
                         f"models at most {MAX_PER_CONTAINER} per container: narrow the ranges")
            self.full = True
            report.limits["exceeded"] = 1
            return False
        if report.limits["ports"] > MAX_PER_DESIGN:
            report.error(path, f"the design's ports add up to more than {MAX_PER_DESIGN} (ranges expanded, every "
                         f"container counted); netsim models at most {MAX_PER_DESIGN}: narrow the ranges")
            report.limits["ports-full"] = report.limits["exceeded"] = 1
            return False
        return True


@dataclass(frozen=True)
class Published:
    """A ``ports`` list read: its mappings, the listeners they imply and the source item of each
    mapping; ``ranges``: the host port range of each mapping (by index) that publishes one
    container port on a range of host ports."""

    mappings: list[PortMapping]
    listeners: list[Listener]
    origin: list[int]
    ranges: dict[int, tuple[int, int]]

    def of_replica(self, slot: int) -> tuple[list[PortMapping], list[int]]:
        """The mappings replica ``slot`` (1, 2, ...) binds when the replicas start in order: each takes
        the first free port of a host range, so the n-th gets its n-th port; the indexes of the
        mappings whose range is used up (the engine: "all ports are allocated")."""
        out, full = [], []
        for i, m in enumerate(self.mappings):
            if i in self.ranges:
                lo, hi = self.ranges[i]
                if lo + slot - 1 > hi:
                    full.append(i)
                    continue
                m = replace(m, host_port=lo + slot - 1)
            out.append(m)
        return out, full


def parse_ports(value: object, report: Report, path: Path, fmt: PortFormat = NETSIM,
                budget: PortBudget | None = None, replicas: int = 1) -> Published:
    """A ``ports`` list → :class:`Published`; the schema reports a ``ports`` that is not a list."""
    out = Published([], [], [], {})
    if not isinstance(value, list):
        return out
    budget = budget or PortBudget(report)
    for i, item in enumerate(value):
        if budget.spent:
            break
        ranged: list[tuple[int, int]] = []
        got, heard = parse_port(item, report, (*path, i), fmt, ranged)
        if not budget.take(max(len(got), len(heard)), (*path, i), "published ports"):
            break
        if ranged:
            out.ranges[len(out.mappings)] = host = ranged[0]
            if replicas > 1:
                report.warning((*path, i), f"host port range {_fmt(host)} for one container port: each replica binds "
                               "the first free port of the range; netsim gives the n-th replica the n-th port (the "
                               "order they start in: netsim deploy starts them in order, compose all at once)")
            else:
                report.warning((*path, i), f"host port range {_fmt(host)} for one container port: Docker binds the "
                               f"first free port of the range; netsim models {host[0]}")
        out.mappings.extend(got)
        out.origin.extend([i] * len(got))
        out.listeners.extend(heard)
    return out


def parse_port(item: object, report: Report, path: Path, fmt: PortFormat = NETSIM,
               ranged: list[tuple[int, int]] | None = None):
    """One ``ports`` item → (mappings, listeners); problems go to ``report`` (what the schema
    refuses is its to report: the item is then left out). A host port range for one container
    port is added to ``ranged``."""
    ranged = [] if ranged is None else ranged
    try:
        if isinstance(item, dict):
            return _long(item, report, path, fmt, ranged)
        if isinstance(item, int) and not isinstance(item, bool):
            if fmt.schema_checks_numbers and not 1 <= item <= 65535:
                return [], []
            item = str(item)
        if isinstance(item, float) and not fmt.schema_checks_numbers:
            raise _Bad(f'a port is a string like "8080:80", a number or a mapping with target, not {describe(item)}')
        if not isinstance(item, str):
            return [], []
        if _SPACE.search(item):
            raise _Bad(f'"{shown(item)}" contains a space or line break; write the port spec without one, '
                       'e.g. "8080:80"')
        return _short(item, report, path, ranged)
    except _Bad as exc:
        report.error(path, str(exc))
        return [], []


def _short(spec: str, report: Report, path: Path, ranged: list[tuple[int, int]]):
    text, _, proto_text = spec.rpartition("/") if "/" in spec else (spec, "", "tcp")
    proto = _protocol(proto_text)
    if text.startswith("["):
        close = text.find("]")
        if close < 0 or not text[close + 1 :].startswith(":"):
            raise _Bad(f'"{shown(spec)}" is not a port spec: write [IPv6]:HOST:CONTAINER, e.g. "[::1]:8080:80"')
        ip_text, parts = text[1:close], text[close + 2 :].split(":")
        if len(parts) != 2:
            raise _Bad(f'"{shown(spec)}" is not a port spec: write [IPv6]:HOST:CONTAINER, e.g. "[::1]:8080:80"')
        host_text, ctr_text = parts
    else:
        parts = text.split(":")
        if len(parts) > 3:
            raise _Bad(f'"{shown(spec)}" has too many colons; write an IPv6 host address in brackets, e.g. "[::1]:8080:80"')
        ip_text, host_text, ctr_text = [""] * (3 - len(parts)) + parts
        if len(parts) == 3 and ip_text == "":
            raise _Bad(f'"{shown(spec)}" has an empty host IP; drop the leading ":" (e.g. "8080:80")')
    if ctr_text == "":
        raise _Bad(f'"{shown(spec)}" has no container port (e.g. "8080:80")')
    ctr = _range(ctr_text, "container port")
    host = _range(host_text, "host port") if host_text else None
    ip = _host_ip(ip_text)
    listeners = [Listener(p, proto) for p in range(ctr[0], ctr[1] + 1)]
    return _expand(host, ctr, proto, ip, ranged), listeners


def _long(spec: dict, report: Report, path: Path, fmt: PortFormat, ranged: list[tuple[int, int]]):
    """A long mapping; its keys and their types (and in a netsim design target and protocol) are the schema's."""
    if "target" not in spec:
        if fmt.schema_checks_numbers:
            return [], []
        raise _Bad("a long port mapping needs target (the container port), e.g. {target: 80, published: 8080}")
    target = _scalar_port(spec["target"])
    proto_value = spec.get("protocol", "tcp")
    published = spec.get("published")
    ip_value = spec.get("host_ip", "")
    mode = spec.get("mode", "ingress")
    strings = (proto_value, ip_value, mode)
    if target is None or not all(isinstance(v, str) for v in strings) or (
            published not in (None, "") and _scalar_port(published) is None):
        return [], []
    if fmt.schema_checks_numbers and proto_value not in PROTOCOLS:
        return [], []
    ctr = (_port(target, "target"),) * 2
    proto = _protocol(proto_value)
    if mode not in ("host", "ingress"):
        raise _Bad(f'mode must be "host" or "ingress", not {describe(mode)}')
    host = None
    if published is not None and published != "":
        host = _range(_scalar_port(published) or "", "published port")
    ip = _host_ip(ip_value[1:-1] if ip_value.startswith("[") and ip_value.endswith("]") else ip_value)
    listeners = [Listener(ctr[0], proto)]
    return _expand(host, ctr, proto, ip, ranged), listeners


def _scalar_port(value: object) -> str | None:
    """A port as text (None for a type the schema refuses)."""
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    if isinstance(value, str):
        return value
    return None


def parse_listens(value: object, report: Report, path: Path, what: str = "listens",
                  budget: PortBudget | None = None, fmt: PortFormat = NETSIM) -> list[Listener]:
    """``listens`` / ``expose`` items: ``80``, ``"53/udp"``, ``"9000-9002/tcp"`` (the schema
    reports a value that is not a list, and what it refuses of an item)."""
    out: list[Listener] = []
    if not isinstance(value, list):
        return out
    budget = budget or PortBudget(report)
    for i, item in enumerate(value):
        if budget.spent:
            break
        if isinstance(item, bool) or not isinstance(item, (int, float, str)):
            continue  # the schema's to report
        got = _listens_of(item, type(item).__name__, fmt)
        if got is None:
            continue
        if isinstance(got, str):
            report.error((*path, i), got)
            continue
        if not budget.take(len(got), (*path, i), f"{what} ports and published ports"):
            break
        out += got
    return out


@functools.lru_cache(maxsize=1024)
def _listens_of(item: int | float | str, kind: str, fmt: PortFormat) -> tuple[Listener, ...] | str | None:
    """The listeners of one ``listens``/``expose`` item (``kind``: its type's name, so 80 and 80.0 are told
    apart), what is wrong with it, or None when its schema refuses it (the schema reports it); kept
    for the next container that writes the same item (a design of 10,000 writes a few items
    thousands of times)."""
    if not _listen_checked(item, fmt):
        return None
    try:
        if isinstance(item, int):
            item = str(item)
        if not isinstance(item, str):
            raise _Bad(f'{describe(item)} is not a port like 80, "53/udp" or "9000-9002/tcp"')
        return _listen_item(item)
    except _Bad as exc:
        return str(exc)


@functools.lru_cache(maxsize=1024)
def _listen_item(item: str) -> tuple[Listener, ...]:
    """The listeners of one ``listens``/``expose`` item (raises _Bad)."""
    if not _EXPOSE.fullmatch(item):
        raise _Bad(f'{describe(item)} is not a port like 80, "53/udp" or "9000-9002/tcp"')
    first, _, rest = item.partition("/")
    proto = _protocol(rest) if rest else Protocol.TCP
    start, end = _range(first, "port")
    return tuple(Listener(p, proto) for p in range(start, end + 1))


def _listen_checked(item: object, fmt: PortFormat) -> bool:
    """Whether a listens/expose item passed its schema (a refused one is the schema's to report)."""
    if isinstance(item, bool) or not isinstance(item, (int, float, str)):
        return False
    if not fmt.schema_checks_numbers:
        return True  # the compose-spec takes any string or number
    if isinstance(item, str):
        return _LISTEN_PATTERN.search(item) is not None
    return isinstance(item, int) and 1 <= item <= 65535


def merge_listeners(*groups) -> tuple[Listener, ...]:
    """Deduplicated listeners sorted by (port, protocol)."""
    if sum(map(len, groups)) == 1:  # most containers: one listener
        return next(tuple(group) for group in groups if group)
    unique = {(lst.port, lst.protocol.value): lst for group in groups for lst in group}
    return tuple(unique[k] for k in sorted(unique))
