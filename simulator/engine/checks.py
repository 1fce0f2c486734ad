"""Checks that need the engine model: address allocation and version-specific refusals.

Every problem is found at a *model* path (``("networks", "db", "subnet")``); a
:data:`Place` turns it into a :class:`~simulator.errors.Problem` at the field and line the user
wrote (the pipeline passes the loader's map, so a compose file's problem names
``networks.db.ipam.config[0].subnet``). Without one the dotted model path is used.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable

from ..errors import NetsimError, Problem, Severity
from ..model import Design, Driver, Network
from .ipam import Issue
from .topology import World, build_world
from .versions import parse_version

#: (model path, message, severity) → a Problem at the place the user wrote it.
Place = Callable[[tuple, str, str], Problem]


def model_place(design: Design) -> Place:
    """Problems at the dotted model path and the location the design records for it."""

    def place(model: tuple, message: str, severity: str = "error") -> Problem:
        path = ".".join(str(part) for part in model)
        return Problem(message, path, design.location(*model), Severity(severity))

    return place


def engine_problems(design: Design, engine_version: str | None = None, place: Place | None = None) -> list[Problem]:
    """Problems the engine would raise (errors) or silently ignore (warnings) for this design."""
    return engine_check(design, engine_version, place)[0]


def engine_check(design: Design, engine_version: str | None = None,
                 place: Place | None = None) -> tuple[list[Problem], World | None]:
    """:func:`engine_problems` and the world built to find them (None when no engine version applies),
    so that a command computes the world once."""
    place = place or model_place(design)
    issues: list[Issue] = []
    versions = [engine_version] if engine_version else [h.engine_version for h in design.hosts]
    for v in versions:
        try:
            parse_version(v)
        except NetsimError as exc:
            return [place(("engine_version",), str(exc), "error")], None
    version = parse_version(versions[0])
    for net in design.networks:
        for field_, mode in (("gateway_mode", net.gateway_mode), ("gateway_mode6", net.gateway_mode6)):
            if net.driver is Driver.BRIDGE and mode not in version.gateway_modes:
                issues.append(Issue(
                    ("networks", net.name, field_),
                    f"gateway mode '{mode}' does not exist on engine {version} (it knows: "
                    f"{', '.join(version.gateway_modes)}): the engine ignores the option and the network behaves as nat",
                    severity="warning",
                ))
        if net.gateway_mode == "isolated" and "isolated" in version.gateway_modes and not net.internal:
            issues.append(Issue(  # bridge_linux.go newNetwork at v28.5.2 / docker-v29.7.2; refused on both engines here
                ("networks", net.name, "gateway_mode"),
                "gateway mode 'isolated' can only be used for an internal network (the engine refuses to create it): add internal: true",
            ))
    issues.extend(_parent_problems(design, engine_version))
    issues.extend(_kernel_problems(design))
    issues.extend(_service_problems(design))
    world = build_world(design, engine_version)
    issues.extend(world.addressing.problems)
    for ignored in world.ignored_ports.values():
        for container, why in ignored:
            if "ephemeral" not in why:
                continue  # the loader's validation already warns about the other cases
            issues.append(Issue(("containers", container, "ports"), f"published port not predictable: {why}", "warning"))
    return [place(i.model, i.message, i.severity) for i in issues], world


def _parent_problems(design: Design, engine_version: str | None) -> list[Issue]:
    """Macvlan/ipvlan networks the engine refuses because an earlier network of the same driver
    uses their parent on the same host (rule per engine line: :meth:`EngineVersion.exclusive_parent`).
    A network without a parent gets its own dummy link, so it shares nothing."""
    hosts = {h.name: h for h in design.hosts}
    by_parent: dict[tuple[str, Driver, str], list[Network]] = defaultdict(list)
    for net in design.networks:
        if net.driver in (Driver.MACVLAN, Driver.IPVLAN) and net.parent_interface is not None:
            for host in net.hosts or tuple(hosts):
                if host in hosts:
                    by_parent[(host, net.driver, net.parent_interface)].append(net)
    out = []
    for (host, driver, parent), nets in by_parent.items():
        version = parse_version(engine_version or hosts[host].engine_version)
        for i, net in enumerate(nets):
            first = next((o for o in nets[:i] if version.exclusive_parent(driver.value, net.mode, o.mode)), None)
            if first is None:
                continue
            if driver is Driver.MACVLAN and "passthru" in (net.mode, first.mode):
                out.append(Issue(("networks", net.name, "mode" if net.mode == "passthru" else "parent"),
                                 f'macvlan passthru needs parent {parent} to itself, but "{first.name}" and '
                                 f'"{net.name}" both use it on host {host}'))
                continue
            why = ("engine {version} allows one macvlan network per parent (27.0 and later allow several, "
                   "except in passthru mode)" if driver is Driver.MACVLAN else
                   "the engine allows one ipvlan network per parent (on every version)").format(version=version)
            out.append(Issue(("networks", net.name, "parent"),
                             f"network {first.engine_name} is already using parent interface {parent} on host "
                             f"{host}: {why}; use a VLAN sub-interface (vlan:) or one network"))
    return out


def _kernel_problems(design: Design) -> list[Issue]:
    """What the host's kernel cannot do: the engine accepts the network, then fails at start."""
    out = []
    for net in design.networks:
        if net.driver not in (Driver.MACVLAN, Driver.IPVLAN):
            continue
        for host_name in net.hosts or tuple(h.name for h in design.hosts):
            if not any(h.name == host_name for h in design.hosts):
                continue
            kernel = design.host(host_name).kernel
            where = ("networks", net.name)
            if net.driver is Driver.IPVLAN and not kernel.ipvlan:
                out.append(Issue(where,
                    f"host {host_name}'s kernel has no ipvlan support ({kernel.source}): the engine creates the network, "
                    "then every container on it fails to start (\"failed to create the ipvlan port: operation not supported\"); "
                    "use macvlan or a host whose kernel has CONFIG_IPVLAN"))
            parent = net.parent_interface
            if parent and "." in parent and not kernel.vlan:
                out.append(Issue(where,
                    f"host {host_name}'s kernel has no 802.1q support ({kernel.source}): the engine refuses the network "
                    f"(\"failed to create {parent} vlan link: operation not supported\"); use an untagged parent"))
            if net.parent is None and not kernel.dummy:
                out.append(Issue(where,
                    f"a {net.driver.value} network without a parent needs a dummy link, which host {host_name}'s kernel lacks "
                    f"({kernel.source}): the engine refuses it (\"operation not supported\"); give it a parent interface"))
    return out


def _service_problems(design: Design) -> list[Issue]:
    """Swarm services: networks that are not overlays (the engine refuses the service), what needs
    IPVS on a host whose kernel lacks it."""
    out = []
    for svc in design.services:
        where = ("services", svc.name)
        for network in svc.networks:
            if design.has_network(network) and design.network(network).driver is not Driver.OVERLAY:
                out.append(Issue((*where, "networks", network),
                                 f"network {network} is not an overlay: the engine refuses the service (\"network "
                                 f"{network} is not eligible for docker services\"); use a network with driver: overlay"))
        clients = sorted({c.host for c in design.containers if any(a.network in svc.networks for a in c.attachments)})
        no_ipvs = [n for n in clients if design.has_host(n) and not design.host(n).kernel.ipvs]
        if svc.endpoint_mode == "vip" and no_ipvs:
            kernel = design.host(no_ipvs[0]).kernel
            out.append(Issue(where, f"service {svc.name} is reached by name through its virtual IP, which needs IPVS "
                             f"(CONFIG_IP_VS) in the client's kernel; host(s) {', '.join(no_ipvs)} lack it "
                             f"({kernel.source}): connections to {svc.name} get no route to host there (tasks.{svc.name} "
                             "and the tasks' addresses answer); use endpoint_mode: dnsrr or a kernel with IPVS",
                             severity="warning"))
        if svc.ingress:
            ports = ", ".join(f"{m.host_port or m.container_port}/{m.protocol.value}" for m in svc.ingress)
            bare = [h.name for h in design.hosts if not h.kernel.ipvs]
            if bare:
                which = "the nodes' kernel lacks" if len(bare) == len(design.hosts) else f"the kernel of {', '.join(bare)} lacks"
                out.append(Issue((*where, "ports"), f"ingress-mode port(s) {ports} of service {svc.name} are not "
                                 f"bound where IPVS is missing: the routing mesh needs it, which {which} (the engine "
                                 "logs \"Could not get ipvs family information from the kernel\"); publish in host mode",
                                 severity="warning"))
    return out
