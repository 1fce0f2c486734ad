"""The ``stacks:`` of a netsim design: compose files deployed with ``docker stack deploy -c FILE NAME``
onto the design's hosts (the swarm's nodes), converted as the docker CLI converts them
(cli/compose/convert/service.go and compose.go, cli/command/stack/swarm/deploy_composefile.go):

* each compose service is the swarm service ``NAME_SERVICE`` (its tasks ``NAME_SERVICE.SLOT``), with
  ``deploy.replicas``, ``deploy.mode`` (replicated, global), ``deploy.endpoint_mode``,
  ``deploy.placement`` (constraints, max_replicas_per_node), ports in short syntax (ingress mode) or
  long syntax with ``mode: host|ingress``; what it listens on is inferred as for a compose service
  (:func:`.listeners.service_listeners`);
* each network a service joins is ``NAME_NETWORK`` (or its ``name:``), an overlay unless its driver
  says otherwise; a service without networks joins ``NAME_default``; an ``external`` network keeps its
  name and must be one the design declares, as a swarm-scoped (overlay) network;
* the service's own name (``web``) is an alias of the service on each of its networks, so it
  resolves there as ``NAME_web`` does (to the virtual IP, or to the tasks in dnsrr mode).

Keys the CLI refuses are errors in its words ("Compose file contains unsupported options", the
schema's "Additional property ... is not allowed"), keys it ignores are warnings ("Ignoring
unsupported options", "Ignoring deprecated options"), each at the stack file's line. Variables are
substituted from an empty environment (netsim reads no process environment here): an unset one is
a warning. The services go through :func:`.swarm.build_service`, as the design's ``services:`` do.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from ..model import Attachment, Container, Driver, Network, SwarmService
from .ports import COMPOSE, PortBudget, merge_listeners, parse_listens, parse_ports
from .replicas import MAX_REPLICAS
from .swarm import Nodes, ServiceDefinition, build_service
from .yamlsource import Doc, Report, describe, did_you_mean, shown, to_int, to_labels

if TYPE_CHECKING:
    from .native import SourceMap

STACK_LABEL = "com.docker.stack.namespace"  # cli/compose/convert/compose.go, LabelNamespace
STACK_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]*")  # netsim's rule: the names of its services start with it
VERSION = re.compile(r"3(\.[0-9]{1,2})?")  # the CLI's schemas: config_schema_v3.0.json ... v3.13.json
VERSION_OPTIONAL = (23, 0)  # docker/cli a7778806 (v23.0.0): a file without version is read as the latest 3.x

# cli/compose/types/types.go: the CLI refuses the file (ForbiddenProperties) ...
FORBIDDEN = {
    "extends": "Support for `extends` is not implemented yet.",
    "volume_driver": "Instead of setting the volume driver on the service, define a volume using the top-level "
                     "`volumes` option and specify the driver there.",
    "volumes_from": "To share a volume between services, define it using the top-level `volumes` option and "
                    "reference it from each service that shares it using the service-level `volumes` option.",
    "cpu_quota": "Set resource limits using deploy.resources",
    "cpu_shares": "Set resource limits using deploy.resources",
    "cpuset": "Set resource limits using deploy.resources",
    "mem_limit": "Set resource limits using deploy.resources",
    "memswap_limit": "Set resource limits using deploy.resources",
}
# ... ignores these with a warning (UnsupportedProperties, DeprecatedProperties) ...
UNSUPPORTED = ("build", "cgroupns_mode", "cgroup_parent", "devices", "domainname", "external_links", "ipc", "links",
               "mac_address", "network_mode", "pid", "privileged", "restart", "security_opt", "shm_size",
               "userns_mode")
DEPRECATED = {
    "container_name": "Setting the container name is not supported.",
    "expose": "Exposing ports is unnecessary - services on the same network can access each other's containers "
              "on any port.",
}
# ... and its schema (cli/compose/schema/data/config_schema_v3.13.json) has none of these keys of the
# compose specification, so it refuses them ("Additional property ... is not allowed")
NOT_IN_V3 = {
    (): ("include", "models", "name"),
    ("services",): ("annotations", "attach", "blkio_config", "cgroup", "cpu_count", "cpu_percent", "cpu_period",
                    "cpu_rt_period", "cpu_rt_runtime", "cpus", "develop", "device_cgroup_rules", "dns_opt", "gpus",
                    "group_add", "label_file", "mem_reservation", "mem_swappiness", "models", "oom_kill_disable",
                    "pids_limit", "platform", "post_start", "pre_stop", "profiles", "provider",
                    "pull_policy", "pull_refresh_after", "runtime", "scale", "storage_opt", "use_api_socket", "uts"),
    ("services", "networks"): ("gw_priority", "interface_name", "link_local_ips", "mac_address", "priority"),
    ("services", "ports"): ("app_protocol", "host_ip", "name"),
    ("networks",): ("enable_ipv4", "enable_ipv6"),
}
NOT_MODELLED = ("extra_hosts", "dns")


@dataclass(frozen=True)
class Stacks:
    """What a design's stacks add to it: networks (to be placed on the hosts), services, tasks."""

    networks: list[tuple[Network, None]]
    services: list[SwarmService]
    tasks: list[Container]


def stack_services(report: Report, smap: SourceMap, value: object, nodes: Nodes,
                   declared: list[tuple[Network, tuple | None]]) -> Stacks:
    """The ``stacks:`` section: each stack's compose file read (problems at its own lines) and
    converted; ``declared`` are the design's own networks (an external network is one of them)."""
    out = Stacks([], [], [])
    if not isinstance(value, dict):
        return out  # the schema: a mapping of stack name -> file
    from .listeners import project_dir

    base = project_dir(report.doc.source) or project_dir("<stdin>")
    for stack, path in value.items():
        at = ("stacks", stack)
        smap.mark(at, at, key=True)
        if not STACK_NAME.fullmatch(str(stack)):
            report.error(at, f'"{shown(stack)}" is not a stack name netsim models: use letters, digits, "_" and "-", '
                         "starting with a letter or digit (its services and networks are named after it)", key=True)
            continue
        if not isinstance(path, str) or not path:
            continue  # the schema: a file name
        full = os.path.join(str(base), path)
        if not os.path.isfile(full):
            report.error(at, f'stack {stack}: compose file "{shown(path)}": no such file (looked for '
                         f"{shown(full, 200)}; docker stack deploy -c would say \"no such file or directory\"); "
                         "the path is relative to the design file")
            continue
        from .compose_project import read_compose_file

        doc = read_compose_file(full)
        sub = Report(doc)
        sub.limits = report.limits  # the design's port budgets count every file
        from .native import SourceMap

        subs = SourceMap(doc)
        _convert(sub, subs, doc, stack, nodes, declared, out)
        report.problems += sub.problems
        smap.merge(subs)
    return out


def _convert(report: Report, smap: SourceMap, doc: Doc, stack: str, nodes: Nodes,
             declared: list[tuple[Network, tuple | None]], out: Stacks) -> None:
    """One stack's compose file into ``out``."""
    from . import compose
    from .compose_project import interpolate

    data = doc.data
    if not isinstance(data, dict):
        report.error((), f"a compose file for docker stack deploy is a mapping with services:, not {describe(data)}")
        return
    _refusals(report, data, nodes)
    interpolate(data, report, (), {})
    compose.schema_pass(data, report)
    specs = {svc: {k: v for k, v in spec.items() if v is not None} for svc, spec in _mapping(data.get("services")).items()
             if isinstance(spec, dict)}  # compose reads null as "not set"
    names = _networks(report, smap, stack, _mapping(data.get("networks")), specs, declared, out)
    for svc, spec in specs.items():
        _service(report, smap, stack, svc, spec, names, nodes, out)


def _refusals(report: Report, data: dict, nodes: Nodes) -> None:
    """What the CLI refuses or ignores in the file, before anything else reads it."""
    manager = next((h for h in nodes.hosts if h.role == "manager"), nodes.hosts[0] if nodes.hosts else None)
    version = data.get("version")
    if version is None:
        engine = tuple(int(p) for p in manager.engine_version.split(".")[:2]) if manager is not None else (0,)
        if engine < VERSION_OPTIONAL:
            report.error((), f"unsupported Compose file version: 1.0 (docker stack deploy of engine "
                         f"{manager.engine_version if manager else '?'} needs version: \"3.x\" at the top of the file; "
                         "from 23.0 a file without one is read as the latest 3.x)")
    elif not VERSION.fullmatch(str(version)):
        report.error(("version",), f"unsupported Compose file version: {shown(version)} (docker stack deploy reads "
                     "version 3.x files; write version: \"3.9\")")
    for key in NOT_IN_V3[()]:
        if key in data:
            report.error((key,), f"(root) Additional property {key} is not allowed (docker stack deploy's compose "
                         "schema has no such key)", key=True)
    networks = data.get("networks")
    for name, spec in (networks.items() if isinstance(networks, dict) else ()):
        for key in NOT_IN_V3[("networks",)]:
            if isinstance(spec, dict) and key in spec:
                report.error(("networks", name, key), f"networks.{name} Additional property {key} is not allowed",
                             key=True)
    services = data.get("services")
    for svc, spec in (services.items() if isinstance(services, dict) else ()):
        if not isinstance(spec, dict):
            continue
        src = ("services", svc)
        for key, why in FORBIDDEN.items():
            if key in spec:
                report.error((*src, key), f"Compose file contains unsupported options: {key}: {why} (docker stack "
                             "deploy refuses the file)", key=True)
        for key in NOT_IN_V3[("services",)]:
            if key in spec:
                report.error((*src, key), f"services.{svc} Additional property {key} is not allowed (docker stack "
                             "deploy's compose schema has no such key)", key=True)
        for key in UNSUPPORTED:
            if key in spec:
                report.warning((*src, key), f"Ignoring unsupported options: {key} (docker stack deploy ignores it; so "
                               "does netsim)", key=True)
        for key, why in DEPRECATED.items():
            if key in spec:
                also = " (netsim still reads the ports as ones the service listens on)" if key == "expose" else ""
                report.warning((*src, key), f"Ignoring deprecated options: {key}: {why}{also}", key=True)
        if "depends_on" in spec:
            report.warning((*src, "depends_on"), "depends_on is ignored when deploying a stack in swarm mode (the "
                           "services start in any order)", key=True)
        for key in NOT_MODELLED:
            if key in spec:
                report.warning((*src, key), f"{key} is not modelled; netsim ignores it", key=True)
        ports = spec.get("ports")
        for i, item in enumerate(ports if isinstance(ports, list) else []):
            for key in NOT_IN_V3[("services", "ports")]:
                if isinstance(item, dict) and key in item:
                    report.error((*src, "ports", i, key), f"services.{svc}.ports.{i} Additional property {key} is not "
                                 "allowed", key=True)
        joined = spec.get("networks")
        for name, settings in (joined.items() if isinstance(joined, dict) else ()):
            for key in NOT_IN_V3[("services", "networks")]:
                if isinstance(settings, dict) and key in settings:
                    report.error((*src, "networks", name, key), f"services.{svc}.networks.{name} Additional property "
                                 f"{key} is not allowed", key=True)


def _networks(report: Report, smap: SourceMap, stack: str, networks: dict, specs: dict[str, dict],
              declared: list[tuple[Network, tuple | None]], out: Stacks) -> dict[str, str]:
    """The networks the services join, as the CLI creates them: file key -> the design's network name."""
    from . import compose

    used = dict.fromkeys(n for spec in specs.values() for n in (_joined(spec) or ["default"]))
    by_engine = {n.engine_name: n for n, _ in declared}
    names: dict[str, str] = {}
    for key in used:
        spec = networks.get(key)
        if key not in networks and key != "default":
            continue  # each service that joins it says so (_service)
        spec = spec if isinstance(spec, dict) else {}
        src = ("networks", key)
        external = spec.get("external")
        if external is True or isinstance(external, dict) or str(external).lower() == "true":
            wanted = spec.get("name") or (external.get("name") if isinstance(external, dict) else None) or key
            found = by_engine.get(str(wanted)) or next((n for n, _ in declared if n.name == wanted), None)
            if found is None:
                report.error(src, f'network "{shown(wanted)}" is declared as external, but could not be found. You need '
                             "to create a swarm-scoped network before the stack is deployed (declare it under the "
                             "design's networks: with driver: overlay)", key=True)
            elif found.driver is not Driver.OVERLAY:
                report.error(src, f'network "{shown(wanted)}" is declared as external, but it is not in the right '
                             f'scope: "local" instead of "swarm" (the design\'s network {found.name} is a '
                             f"{found.driver.value} network; make it an overlay)", key=True)
            else:
                names[key] = found.name
            continue
        net = compose.read_network(report, smap, key, spec, stack, default_driver="overlay")
        if net is None:
            continue
        model = ("networks", net.engine_name)
        smap.mark(model, src, key=True)
        smap.fields(model, src, spec)
        labels = dict(net.labels)
        labels[STACK_LABEL] = stack
        out.networks.append((replace(net, name=net.engine_name, hosts=(), labels=tuple(labels.items())), None))
        names[key] = net.engine_name
    return names


def _mapping(value: object) -> dict:
    """``value`` when it is a mapping, else an empty one (the schema reports what it is instead)."""
    return value if isinstance(value, dict) else {}


def _joined(spec: dict) -> list[str]:
    """The names of the networks a service lists (either form)."""
    value = spec.get("networks")
    if isinstance(value, dict):
        return [str(k) for k in value]
    if isinstance(value, list):
        return [n for n in value if isinstance(n, str)]
    return []


def _service(report: Report, smap: SourceMap, stack: str, svc: str, spec: dict, names: dict[str, str], nodes: Nodes,
             out: Stacks) -> None:
    """One compose service as the CLI converts it (``names``: file network key -> design network)."""
    from . import compose
    from .listeners import project_dir, service_listeners

    name = f"{stack}_{svc}"
    src, model = ("services", svc), ("services", name)
    smap.mark(model, src, key=True)
    smap.fields(model, src, spec)
    marked = smap.mark_count()
    attachments = []
    joined = compose.service_attachments(report, smap, src, model, spec.get("networks")) or [Attachment("default")]
    for att in joined:
        target = names.get(att.network)
        if target is None:
            if att.network not in ("default",) or "networks" in spec:
                report.error((*src, "networks"), f'service {svc}: undefined network "{shown(att.network)}" (docker '
                             f"stack deploy refuses the file); declare it under the file's networks:"
                             f"{did_you_mean(att.network, list(names))}")
            continue
        if att.ipv4_address is not None:
            report.warning((*src, "networks", att.network, "ipv4_address"), "ipv4_address is ignored by docker stack "
                           "deploy (a task's address is the manager's choice); netsim ignores it", key=True)
        smap.mark_as((*model, "networks", target), (*model, "networks", att.network))
        aliases = tuple(dict.fromkeys((*att.aliases, svc)))  # the CLI adds the service's own name on each network
        attachments.append(Attachment(target, aliases))
    budget = PortBudget(report)
    published = parse_ports(spec.get("ports"), report, (*src, "ports"), COMPOSE, budget)
    for i, m in enumerate(published.mappings):
        if m.host_ip is not None and str(m.host_ip) != "0.0.0.0":
            report.warning((*src, "ports", published.origin[i]), f"ignoring IP-address ({m.host_ip}:{m.host_port}:"
                           f"{m.container_port}/{m.protocol.value}) service will listen on '0.0.0.0' (the CLI's "
                           "words: a swarm service publishes on every address)")
        if m.host_ip is not None:
            published.mappings[i] = replace(m, host_ip=None)
    exposed = parse_listens(spec.get("expose"), report, (*src, "expose"), "expose", budget, COMPOSE)
    directory = project_dir(report.doc.source)
    found = service_listeners(spec, merge_listeners(exposed, published.listeners), report, src, directory, budget)
    deploy = _mapping(spec.get("deploy"))
    at = (*src, "deploy")
    mode = deploy.get("mode", "replicated")
    if mode in ("replicated-job", "global-job"):
        report.error((*at, "mode"), f"mode {mode}: jobs run to completion and are not modelled; use replicated or "
                     "global", key=True)
    elif mode not in ("replicated", "global"):
        report.error((*at, "mode"), f"Unknown mode: {shown(mode)} (use replicated or global)")
    replicas = 1
    if "replicas" in deploy:
        replicas = to_int(report, (*at, "replicas"), deploy["replicas"], 0, MAX_REPLICAS, "a count", strings=True) or 0
    endpoint = deploy.get("endpoint_mode", "vip")
    if endpoint not in ("vip", "dnsrr"):
        report.error((*at, "endpoint_mode"), f'"{shown(endpoint)}" is not an endpoint mode: use vip (the default: '
                     "one virtual IP per network) or dnsrr (DNS round robin over the tasks)")
        endpoint = "vip"
    placement = _mapping(deploy.get("placement"))
    if placement.get("preferences"):
        report.warning((*at, "placement", "preferences"), "placement preferences (spread over a node label) are not "
                       "modelled: netsim spreads the tasks over the eligible nodes in design order", key=True)
    labels = dict(to_labels(report, (*src, "labels"), spec.get("labels"), lists=True))
    labels[STACK_LABEL] = stack  # the CLI labels the containers with their stack
    definition = ServiceDefinition(
        name, src, model, marked, tuple(attachments), spec.get("ports"), (*src, "ports"), published, found.listeners,
        endpoint_mode=endpoint, global_mode=mode == "global", replicas=replicas,
        replicas_at=(*at, "replicas") if "replicas" in deploy else None, placement=placement,
        placement_at=(*at, "placement"), labels=tuple(labels.items()), listeners_unknown=found.unknown)
    service, tasks = build_service(report, smap, definition, nodes)
    out.services.append(service)
    out.tasks.extend(tasks)
