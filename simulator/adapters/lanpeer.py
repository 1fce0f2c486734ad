"""The emulated LAN (a network namespace joined by a veth pair) and the uplink guard rule.

Everything here shells out to ``ip`` and ``iptables`` (root only) and is idempotent:
tearing down something already gone is not an error.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from ipaddress import IPv4Address, IPv4Network, IPv6Address, IPv6Network

from ..errors import EngineError
from ..model import KernelFeatures

GUARD_COMMENT = "netsim-guard"


def _run(argv: Sequence[str], check: bool = True, input: str | None = None, timeout: float = 30) -> subprocess.CompletedProcess:
    proc = subprocess.run(list(argv), capture_output=True, text=True, input=input, timeout=timeout)
    if check and proc.returncode != 0:
        raise EngineError(f"{' '.join(argv)} failed: {proc.stderr.strip() or proc.stdout.strip()}")
    return proc


def unavailable_reason() -> str | None:
    """Why the LAN emulation can't run here (None when it can)."""
    if os.geteuid() != 0:
        return "the emulated LAN needs root (ip netns, veth)"
    if shutil.which("ip") is None:
        return "the emulated LAN needs iproute2 (the ip command)"
    return None


def namespace_exists(namespace: str) -> bool:
    return os.path.exists(f"/run/netns/{namespace}")


def link_exists(name: str) -> bool:
    return _run(["ip", "link", "show", "dev", name], check=False).returncode == 0


def setup(lan) -> None:
    """Create the namespace, the veth pair, addresses and vlan sub-interfaces (no routes).

    With ``lan.bridge`` (several design hosts share the LAN) the namespace holds a Linux
    bridge of that name carrying the peer's address; the host-side veth's other end is a
    port of it, and extra hosts join it (:mod:`extra_daemon`).  The peer does not route."""
    teardown(lan)
    _run(["ip", "netns", "add", lan.namespace])
    for key in ("all", "default"):  # the peer does not route, and no router advertisement gives it a default route
        _run(["ip", "netns", "exec", lan.namespace, "sysctl", "-qw", f"net.ipv6.conf.{key}.accept_ra=0",
              f"net.ipv6.conf.{key}.forwarding=0"])
    if getattr(lan, "bridge", None):
        _setup_switched(lan)
        return
    _run(["ip", "link", "add", lan.host_if, "type", "veth", "peer", "name", lan.peer_if])
    _run(["ip", "link", "set", lan.peer_if, "netns", lan.namespace])
    _run(["ip", "addr", "add", str(lan.host_address), "dev", lan.host_if])
    _add6(["ip"], getattr(lan, "host_address6", None), lan.host_if)
    _run(["ip", "link", "set", lan.host_if, "up"])
    ns = ["ip", "-n", lan.namespace]
    _run(ns + ["link", "set", "lo", "up"])
    _run(ns + ["addr", "add", str(lan.peer_address), "dev", lan.peer_if])
    _add6(ns, getattr(lan, "peer_address6", None), lan.peer_if)
    _run(ns + ["link", "set", lan.peer_if, "up"])
    for vlan in lan.vlans:
        _run(["ip", "link", "add", "link", lan.host_if, "name", lan.vlan_if(vlan), "type", "vlan", "id", str(vlan)])
        _run(["ip", "link", "set", lan.vlan_if(vlan), "up"])


def _setup_switched(lan) -> None:
    ns = ["ip", "-n", lan.namespace]
    _run(ns + ["link", "set", "lo", "up"])
    _run(["ip", "netns", "exec", lan.namespace, "sysctl", "-qw", "net.ipv4.ip_forward=0"])
    _run(ns + ["link", "add", lan.bridge, "type", "bridge"])
    _run(ns + ["addr", "add", str(lan.peer_address), "dev", lan.bridge])
    _add6(ns, getattr(lan, "peer_address6", None), lan.bridge)
    _run(ns + ["link", "set", lan.bridge, "up"])
    if not getattr(lan, "machine_port", True):
        return  # every host is a daemon with its own port on the bridge (an engine built from source)
    _run(["ip", "link", "add", lan.host_if, "type", "veth", "peer", "name", lan.peer_if, "netns", lan.namespace])
    _run(ns + ["link", "set", lan.peer_if, "master", lan.bridge, "up"])
    _run(["ip", "addr", "add", str(lan.host_address), "dev", lan.host_if])
    _add6(["ip"], getattr(lan, "host_address6", None), lan.host_if)
    _run(["ip", "link", "set", lan.host_if, "up"])
    for vlan in lan.vlans:
        _run(["ip", "link", "add", "link", lan.host_if, "name", lan.vlan_if(vlan), "type", "vlan", "id", str(vlan)])
        _run(["ip", "link", "set", lan.vlan_if(vlan), "up"])


def _add6(ip: list[str], address, dev: str) -> None:
    """Give ``dev`` an IPv6 address, usable at once (``nodad``: no duplicate detection on a LAN netsim made)."""
    if address is not None:
        _run([*ip, "addr", "add", str(address), "dev", dev, "nodad"])


DAD_WAIT_S = 15.0  # duplicate address detection takes a second or two per address once its link is up


def settle_ipv6(namespace: str | None = None, wait_s: float = DAD_WAIT_S) -> list[str]:
    """Wait until no IPv6 address in the namespace (None: this machine's) is still tentative.

    A bridge's IPv6 gateway address goes through duplicate address detection once the bridge
    has a port; until then the kernel neither answers for it nor uses it as a source, so
    a container's replies through that gateway, and a docker-proxy's connections, are lost.
    Links without carrier (a bridge without ports) are not waited for.  Returns the addresses
    still tentative after ``wait_s`` (empty: all usable)."""
    import time

    ip = ["ip", "-n", namespace] if namespace else ["ip"]
    deadline = time.monotonic() + wait_s
    while True:
        proc = _run([*ip, "-j", "-6", "addr", "show", "tentative"], check=False)
        left = [f"{a.get('local')} on {link.get('ifname')}" for link in json.loads(proc.stdout or "[]")
                if "LOWER_UP" in (link.get("flags") or ())  # a bridge without ports: nobody to answer
                for a in link.get("addr_info") or [] if a.get("family") == "inet6"]
        if not left or time.monotonic() >= deadline:
            return left
        time.sleep(0.1)


def has_default_route(namespace: str) -> bool:
    """Whether a namespace has a default route, IPv4 or IPv6 (where a probe could leave by)."""
    for family in ("-4", "-6"):
        proc = _run(["ip", "-n", namespace, "-j", family, "route", "show", "default"], check=False)
        if proc.returncode != 0 or json.loads(proc.stdout or "[]"):
            return True
    return False


def gateway_routes(namespace: str) -> list[tuple[IPv4Network, IPv4Address]]:
    """The IPv4 routes of a namespace that go through a gateway: (prefix, gateway)."""
    proc = _run(["ip", "-n", namespace, "-j", "-4", "route", "show"], check=False)
    out = []
    for r in json.loads(proc.stdout or "[]") if proc.returncode == 0 else ():
        if r.get("gateway") and r.get("dst") not in (None, "default"):
            out.append((IPv4Network(r["dst"]), IPv4Address(r["gateway"])))
    return out


def add_routes(lan, subnets: Sequence[IPv4Network | IPv6Network | tuple[IPv4Network | IPv6Network,
                                                                          IPv4Address | IPv6Address]]) -> None:
    """Route each subnet from the peer namespace via the host-side LAN address of its family (or,
    for a ``(subnet, gateway)`` pair, via that host's LAN address).  An IPv6 subnet needs the
    host's IPv6 LAN address: without one it is not routed."""
    host6 = getattr(lan, "host_address6", None)
    for item in subnets:
        if isinstance(item, tuple):
            subnet, via = item
        elif isinstance(item, IPv6Network):
            if host6 is None:
                continue
            subnet, via = item, host6.ip
        else:
            subnet, via = item, lan.host_address.ip
        _run(["ip", "-n", lan.namespace, "route", "replace", str(subnet), "via", str(via)])


def teardown(lan) -> list[str]:
    """Remove the veth pair (its vlans go with it) and the namespace; what was removed."""
    removed = []
    for vlan in lan.vlans:
        if link_exists(lan.vlan_if(vlan)):
            _run(["ip", "link", "del", lan.vlan_if(vlan)], check=False)
    if link_exists(lan.host_if):
        _run(["ip", "link", "del", lan.host_if], check=False)
        removed.append(f"veth {lan.host_if}")
    if namespace_exists(lan.namespace):
        _run(["ip", "netns", "del", lan.namespace], check=False)
        removed.append(f"namespace {lan.namespace}")
    return removed


UNPROBED = KernelFeatures(ipvlan=False, source="not tried (no root or no ip command): ipvlan assumed missing")


def kernel_capabilities() -> KernelFeatures:
    """Try macvlan, ipvlan and vlan links on a throw-away veth pair (root only);
    :data:`UNPROBED` when they cannot be tried."""
    if unavailable_reason() is not None:
        return UNPROBED
    a, b = f"nscap{os.getpid() % 100000}a", f"nscap{os.getpid() % 100000}b"
    if _run(["ip", "link", "add", a, "type", "veth", "peer", "name", b], check=False).returncode != 0:
        return UNPROBED
    try:
        found = {}
        for kind, extra in (("macvlan", []), ("ipvlan", []), ("vlan", ["id", "7"])):
            name = f"{a}{kind[0]}"
            ok = _run(["ip", "link", "add", "link", a, "name", name, "type", kind, *extra], check=False).returncode == 0
            if ok:
                _run(["ip", "link", "del", name], check=False)
            found[kind] = ok
    finally:
        _run(["ip", "link", "del", a], check=False)
    return KernelFeatures(macvlan=found["macvlan"], ipvlan=found["ipvlan"], vlan=found["vlan"], ipvs=ipvs_present(),
                          source="this machine's kernel, links tried")


def ipvs_present() -> bool:
    """Whether this kernel has IPVS: its table in /proc, or the module loaded or built."""
    from .kernel import link_capabilities

    return os.path.exists("/proc/net/ip_vs") or link_capabilities()[0].ipvs


def run_in_namespace(namespace: str, argv: Sequence[str], input: str | None = None, timeout: float = 60) -> subprocess.CompletedProcess:
    return _run(["ip", "netns", "exec", namespace, *argv], check=False, input=input, timeout=timeout)


def host_routes() -> list[tuple[IPv4Network, str]]:
    """The IPv4 prefixes routed on this machine (main table) and their devices."""
    return [(IPv4Network(dst, strict=False), dev) for dst, dev in _routes("-4")]


def host_routes6() -> list[tuple[IPv6Network, str]]:
    """The IPv6 prefixes routed on this machine (main table) and their devices."""
    return [(IPv6Network(dst, strict=False), dev) for dst, dev in _routes("-6")]


def _routes(family: str) -> list[tuple[str, str]]:
    """(prefix, device) of every route of a family but the default, as ``ip`` prints them."""
    proc = _run(["ip", "-j", family, "route", "show"], check=False)
    out = []
    for r in json.loads(proc.stdout or "[]"):
        dst = r.get("dst", "")
        if dst == "default":
            continue
        prefix = dst if "/" in dst else f"{dst}/{32 if family == '-4' else 128}"
        try:
            (IPv4Network if family == "-4" else IPv6Network)(prefix, strict=False)
        except ValueError:
            continue
        out.append((prefix, r.get("dev", "")))
    return out


def leaves_by_uplink(address: str) -> str | None:
    """The uplink ``ip route get`` sends ``address`` out of on this machine (the device of a
    default route, of either family), or None when it stays here; an unreadable answer counts as leaving."""
    family = "-6" if ":" in address else "-4"
    uplinks = {uplink_interface("-4"), uplink_interface("-6")} - {None}
    proc = _run(["ip", "-j", family, "route", "get", address], check=False)
    try:
        dev = (json.loads(proc.stdout or "[]") or [{}])[0].get("dev")
    except ValueError:
        dev = None
    if proc.returncode != 0 or dev is None:
        return "(no answer from ip route get)"
    return dev if dev in uplinks else None


def uplink_interface(family: str = "-4") -> str | None:
    """The interface of the default route of a family (``-4``/``-6``): where any unknown
    destination of that family would leave."""
    proc = _run(["ip", "-j", family, "route", "show", "default"], check=False)
    routes = json.loads(proc.stdout or "[]")
    return routes[0].get("dev") if routes else None


def guard_comment() -> str:
    """The comment on this process's guard rule: a later run tells a stale rule by its pid."""
    return f"{GUARD_COMMENT}:{os.getpid()}"


@dataclass(frozen=True, slots=True)
class _GuardFamily:
    """Where the uplink guard goes for one address family."""

    tool: str  # iptables | ip6tables
    chain: str
    route_family: str  # the ``ip`` flag that finds this family's default route
    reject_with: str


# IPv4: DOCKER-USER (the engine keeps it first in FORWARD). IPv6: the engine manages no
# ip6tables chains before 27.0 unless asked, so the guard goes first in FORWARD itself.
# admin-prohibited: the prober sees "no route to host", never mistaken for a closed port.
GUARD_FAMILIES = (
    _GuardFamily("iptables", "DOCKER-USER", "-4", "icmp-admin-prohibited"),
    _GuardFamily("ip6tables", "FORWARD", "-6", "icmp6-adm-prohibited"),
)


def _guard_rule(fam: _GuardFamily, uplink: str) -> list[str]:
    return [fam.chain, "-o", uplink, "-m", "comment", "--comment", guard_comment(),
            "-j", "REJECT", "--reject-with", fam.reject_with]


@contextmanager
def uplink_guard() -> Iterator[str]:
    """While active, forwarded traffic leaving by an uplink is rejected, for IPv4
    (DOCKER-USER) and IPv6 (ip6tables FORWARD).

    Yields a note for the report; the rules are removed on exit, also on errors and Ctrl-C.
    """
    removed = remove_stale_guards()
    inserted: list[tuple[str, list[str]]] = []
    notes: list[str] = []
    try:
        for fam in GUARD_FAMILIES:
            uplink = uplink_interface(fam.route_family)
            if uplink is None:
                continue
            rule = _guard_rule(fam, uplink)
            if shutil.which(fam.tool) is None or _run([fam.tool, "-I", *rule], check=False).returncode != 0:
                notes.append(f"could not insert the {fam.tool} uplink guard rule ({fam.chain} missing): "
                             f"forwarded probes to {uplink} not blocked")
                continue
            inserted.append((fam.tool, rule))
            notes.append(f"{fam.tool} {fam.chain} -o {uplink} -j REJECT")
        if not inserted and not notes:
            yield "no default route: nothing to guard"
        else:
            yield ("uplink guard active: " if inserted else "") + "; ".join(notes) + (
                f" (removed {removed} stale guard rule(s) of killed runs)" if removed else "")
    finally:
        for tool, rule in inserted:
            _run([tool, "-D", *rule], check=False)


def hold_ipv6(design: str) -> list[str]:
    """Before the design's first IPv6 network on this machine's engine: record the IPv6 forwarding
    settings and drop MLD reports on the uplink (:mod:`.ipv6_guard`); notes."""
    from . import ipv6_guard

    return ipv6_guard.hold(design, uplink_interface("-6") or uplink_interface("-4"))


def release_ipv6(design: str) -> list[str]:
    """The design's IPv6 networks are gone: the last one out puts forwarding back (:mod:`.ipv6_guard`)."""
    from . import ipv6_guard

    return ipv6_guard.release(design)


def remove_stale_guards() -> int:
    """Delete guard rules left by a killed netsim, for both families; how many went.

    A rule's comment is ``netsim-guard:<pid>`` (plain ``netsim-guard`` before pids were
    recorded): a rule whose process still runs guards a verify in progress and stays.
    The ip6tables MLD drops of :mod:`.ipv6_guard` go when no record holds them."""
    if os.geteuid() != 0:
        return 0
    from . import ipv6_guard

    count = ipv6_guard.remove_stale()
    for fam in GUARD_FAMILIES:
        if shutil.which(fam.tool) is None:
            continue
        proc = _run([fam.tool, "-S", fam.chain], check=False)
        for line in proc.stdout.splitlines():
            if not line.startswith("-A "):
                continue
            argv = shlex.split(line[3:])  # iptables -S quotes the comment: "netsim-guard:123"
            try:
                comment = argv[argv.index("--comment") + 1]
            except (ValueError, IndexError):
                continue
            if _stale(comment) and _run([fam.tool, "-D", *argv], check=False).returncode == 0:
                count += 1
    return count


def _stale(comment: str) -> bool:
    if comment == GUARD_COMMENT:
        return True
    prefix, _, pid = comment.partition(":")
    if prefix != GUARD_COMMENT or not re.fullmatch(r"[0-9]{1,10}", pid):
        return False
    return not os.path.exists(f"/proc/{pid}")
