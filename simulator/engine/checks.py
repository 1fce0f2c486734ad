"""Checks that need the engine model: address allocation and version-specific refusals."""

from __future__ import annotations

from collections import defaultdict

from ..errors import NetsimError, Problem
from ..model import Design, Driver
from .topology import build_world
from .versions import parse_version


def engine_problems(design: Design, engine_version: str | None = None) -> list[Problem]:
    """Problems the engine would raise (errors) or silently ignore (warnings) for this design."""
    problems: list[Problem] = []
    versions = [engine_version] if engine_version else [h.engine_version for h in design.hosts]
    for v in versions:
        try:
            parse_version(v)
        except NetsimError as exc:
            return [Problem(str(exc), path="engine_version", location=design.location("engine_version"))]
    version = parse_version(versions[0])
    for net in design.networks:
        if net.driver is Driver.BRIDGE and net.gateway_mode not in version.gateway_modes:
            problems.append(Problem(
                f"gateway mode {net.gateway_mode!r} does not exist on engine {version} (it knows: "
                f"{', '.join(version.gateway_modes)}): the engine ignores the option and the network behaves as nat",
                path=f"networks.{net.name}.gateway_mode", location=design.location("networks", net.name, "gateway_mode"),
                severity="warning",
            ))
    if version.macvlan_exclusive_parent:
        by_parent: dict[tuple, list[str]] = defaultdict(list)
        for net in design.networks:
            if net.driver in (Driver.MACVLAN, Driver.IPVLAN):
                for host in net.hosts or tuple(h.name for h in design.hosts):
                    lan = design.host(host).lan_interface if any(h.name == host for h in design.hosts) else "eth0"
                    by_parent[(host, net.driver, net.parent_interface or lan)].append(net.name)
        for (host, driver, parent), nets in by_parent.items():
            for extra in nets[1:]:
                problems.append(Problem(
                    f"network {nets[0]} is already using parent interface {parent} on host {host}: engine {version} allows one "
                    f"{driver.value} network per parent (27.0+ lifts this except for passthru); use a VLAN sub-interface or one network",
                    path=f"networks.{extra}.parent", location=design.location("networks", extra),
                ))
    problems.extend(_kernel_problems(design))
    world = build_world(design, engine_version)
    problems.extend(world.addressing.problems)
    for host, ignored in world.ignored_ports.items():
        for container, why in ignored:
            if "ephemeral" not in why:
                continue  # the loader's validation already warns about the other cases
            problems.append(Problem(
                f"published port not predictable: {why}",
                path=f"containers.{container}.ports", location=design.location("containers", container, "ports"),
                severity="warning",
            ))
    return _dedupe(problems)


def _kernel_problems(design: Design) -> list[Problem]:
    """What the host's kernel cannot do: the engine accepts the network, then fails at start."""
    out = []
    for net in design.networks:
        if net.driver not in (Driver.MACVLAN, Driver.IPVLAN):
            continue
        for host_name in net.hosts or tuple(h.name for h in design.hosts):
            if not any(h.name == host_name for h in design.hosts):
                continue
            kernel = design.host(host_name).kernel
            where = dict(path=f"networks.{net.name}", location=design.location("networks", net.name))
            if net.driver is Driver.IPVLAN and not kernel.ipvlan:
                out.append(Problem(
                    f"host {host_name}'s kernel has no ipvlan support ({kernel.source}): the engine creates the network, "
                    "then every container on it fails to start (\"failed to create the ipvlan port: operation not supported\"); "
                    "use macvlan or a host whose kernel has CONFIG_IPVLAN", **where))
            parent = net.parent_interface
            if parent and "." in parent and not kernel.vlan:
                out.append(Problem(
                    f"host {host_name}'s kernel has no 802.1q support ({kernel.source}): the engine refuses the network "
                    f"(\"failed to create {parent} vlan link: operation not supported\"); use an untagged parent", **where))
            if net.parent is None and not kernel.dummy:
                out.append(Problem(
                    f"a {net.driver.value} network without a parent needs a dummy link, which host {host_name}'s kernel lacks "
                    f"({kernel.source}): the engine refuses it (\"operation not supported\"); give it a parent interface", **where))
    return out


def _dedupe(problems: list[Problem]) -> list[Problem]:
    seen, out = set(), []
    for p in problems:
        key = (p.message, p.path)
        if key not in seen:
            seen.add(key)
            out.append(p)
    return out
