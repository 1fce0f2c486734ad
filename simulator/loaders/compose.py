"""docker-compose files → :class:`~simulator.model.Design` (one host, ``docker1``).

Follows the compose specification: every file is checked against the published compose-spec
JSON Schema (a copy in simulator/schema/compose-spec.json, its source and commit in its
``$comment``), so every key the spec defines is accepted (those netsim does not model are
ignored, or warned about when they change networking), keys outside the spec are errors,
``x-*`` extension keys are allowed anywhere, and so are netsim's ``expect:``/``audit:``.
netsim's own checks (names, drivers and options it models, ``x-netsim-*``) follow.  The document
is the project compose would read (:mod:`.compose_project`: .env and interpolation, override and
``--file`` files merged, ``extends``, ``include``, profiles), each value at the file it came from.
"""

from __future__ import annotations

import re
from pathlib import Path as FsPath

from ..model import Attachment, Container, Design, Driver, Host, ModeKind, Network, NetworkMode
from ..schema import compose_schema
from . import compose_project
from .listeners import project_dir, service_listeners
from .native import DEFAULT_HOST, SourceMap, check_scale
from .ports import COMPOSE, PortBudget, merge_listeners, parse_listens, parse_ports
from .replicas import MAX_REPLICAS, replica_ids, replicas_of
from .schema_errors import compose_validator, report_schema_error
from .yamlsource import (
    MAX_IFNAME,
    Doc,
    Report,
    describe,
    did_you_mean,
    format_path,
    shown,
    to_bool,
    to_cidr,
    to_cidr6,
    to_int,
    to_ip,
    to_ip6,
    to_labels,
    to_str,
)

# The keys compose knows come from the published compose-spec schema (simulator/schema/compose-spec.json),
# which the loader checks every file against (schema_pass); these names are for reading the code and tests.
_SPEC = compose_schema()
TOP_KEYS = tuple(_SPEC["properties"])
SERVICE_KEYS = tuple(_SPEC["definitions"]["service"]["properties"])
INTENT_KEYS = ("expect", "audit")  # netsim's intent sections, read by simulator.intent from the same document
NOT_MODELLED = ("links", "external_links", "extra_hosts", "dns")
NETWORK_KEYS = tuple(_SPEC["definitions"]["network"]["properties"])
SERVICE_NETWORK_KEYS = tuple(_SPEC["definitions"]["service"]["properties"]["networks"]["oneOf"][1]["patternProperties"]
                             ["^[a-zA-Z0-9._-]+$"]["oneOf"][0]["properties"])
DRIVERS = ("bridge", "overlay", "macvlan", "ipvlan")
BRIDGE_OPT = "com.docker.network.bridge."
GATEWAY_MODES = ("nat", "routed", "nat-unprotected", "isolated")
NAME_KEY = re.compile(r"[a-zA-Z0-9._-]+")  # compose-go's service and network keys; used with fullmatch
MAX_KEY = 128  # netsim's cap on service and network keys (docs/design-format.md, Limits)
MAX_EXTENDS = compose_project.MAX_EXTENDS


# --- the loader ------------------------------------------------------------------------


def project_name(source: str, project_dir: str | None = None) -> str:
    """Compose's default project name: the project directory's name (default: the file's), normalised."""
    if project_dir is not None:
        directory = FsPath(project_dir)
    else:
        directory = FsPath.cwd() if source.startswith("<") else FsPath(source).absolute().parent
    return re.sub(r"[^a-z0-9_-]", "", directory.name.lower()).lstrip("_-")


def schema_pass(data: dict, report: Report) -> None:
    """Check the file against the compose-spec schema; each failure is a Problem at its key or value.

    Unknown keys are named with what holds them ("in a service") and a "did you mean"; netsim's
    intent sections (``expect:``, ``audit:``) are allowed at the top, beside the spec's ``x-*`` keys.
    """
    for err in compose_validator(_SPEC).iter_errors(_for_schema(data, {})):
        path = tuple(err.absolute_path)
        if err.instance is None and len(path) == 3 and path[0] == "services":
            continue  # a service key set to null is "not set" for compose (see _services)
        if err.validator == "pattern" and len(path) == 3 and path[0] == "services" and path[2] == "container_name":
            continue  # Docker's name rules have one owner, validate.check_names (which says more)
        for found in _closest(err) if err.validator in ("oneOf", "anyOf") else [err]:
            if found.validator == "additionalProperties" and isinstance(found.instance, dict):
                _unknown_keys(report, tuple(found.absolute_path), found)
            else:
                report_schema_error(report, tuple(found.absolute_path), found)


def _unknown_keys(report: Report, path: tuple, err) -> None:
    known = list(err.schema.get("properties", {}))
    if not known:
        return  # a mapping of names (services, networks): the loader says what a valid name is
    patterns = list(err.schema.get("patternProperties", {}))
    for key in err.instance:
        if key in known or any(re.search(p, str(key)) for p in patterns) or (path == () and key in INTENT_KEYS):
            continue
        report.error((*path, key), f'unknown key "{shown(key)}" in {_holder(path)}{did_you_mean(key, known)}', key=True)


LONG_VALUE = 256  # longer strings are checked by the schema as a stand-in (see _for_schema)


def _for_schema(value: object, memo: dict) -> object:
    """``value`` with every string longer than :data:`LONG_VALUE` replaced by a short stand-in that is
    equal exactly when the strings are (a prefix and a digest), so the schema's messages and
    uniqueness checks cost the same for a 1 MB value aliased a thousand times as for a short one.
    Keys and structure are kept, so every error's path is the document's."""
    if isinstance(value, str):
        if len(value) <= LONG_VALUE:
            return value
        found = memo.get(value)
        if found is None:
            import hashlib  # here, not at the top: loading OpenSSL's digests costs every command a few ms

            found = memo[value] = f"{value[:64]}\u2026{hashlib.sha256(value.encode('utf-8', 'surrogatepass')).hexdigest()}"
        return found
    if isinstance(value, (dict, list)):
        key = id(value)
        if key in memo:
            return memo[key]
        if isinstance(value, dict):
            mapping: dict = {}
            memo[key] = mapping
            mapping.update((k, _for_schema(v, memo)) for k, v in value.items())
            return mapping
        items: list = []
        memo[key] = items
        items.extend(_for_schema(v, memo) for v in value)
        return items
    return value


_HOLDERS = {(): "a compose file", ("services",): "a service", ("networks",): "a network",
            ("networks", "external"): "external", ("networks", "ipam"): "ipam",
            ("networks", "ipam", "config"): "an ipam config", ("services", "extends"): "extends",
            ("services", "networks"): "a service network", ("services", "ports"): "a port mapping"}


def _holder(path: tuple) -> str:
    """What holds the keys at ``path``, in words ("a service", "an ipam config")."""
    named = {1} | ({3} if path[:1] == ("services",) and path[2:3] == ("networks",) else set())
    words = tuple(part for i, part in enumerate(path) if i not in named and not isinstance(part, int))
    return _HOLDERS.get(words, format_path(path))


def _closest(err) -> list:
    """For "valid under none of" (oneOf/anyOf): the failures inside the alternative of the value's own
    type, all of them when one alternative has them (a list with a repeated item: that item), else
    the closest; when no alternative has the value's type, their types as one error."""
    own = [sub for sub in err.context if not (sub.validator == "type" and not sub.relative_path)]
    if own:
        if len({sub.schema_path[0] for sub in own}) > 1:
            own = [_best_match(own)]
        found = []
        for sub in own:
            found += _closest(sub) if sub.validator in ("oneOf", "anyOf") else [sub]
        return found
    wanted = [t for sub in err.context
              for t in (sub.validator_value if isinstance(sub.validator_value, list) else [sub.validator_value])]
    err.validator, err.validator_value = "type", list(dict.fromkeys(wanted))
    return [err]


def load(doc: Doc) -> tuple[Design | None, Report, SourceMap]:
    """Build a one-host Design from a parsed compose document (assembled as a project first when the
    caller has not: the file alone, no environment; see :func:`.compose_project.assemble`)."""
    if not isinstance(doc.data, dict):
        report = Report(doc)
        report.error((), f"a compose file is a mapping with services:, not {describe(doc.data)}")
        return None, report, SourceMap(doc)
    doc = compose_project.assemble(doc)
    report, smap = Report(doc), SourceMap(doc)
    report.problems += doc.pending
    data = doc.data
    assert isinstance(data, dict)  # assembling keeps a mapping a mapping
    schema_pass(data, report)
    if "version" in data:
        report.warning(("version",), "the attribute `version` is obsolete, it will be ignored", key=True)
    if doc.project_name:
        name = doc.project_name
    elif "name" in data:
        name = to_str(report, ("name",), data["name"]) or ""
        smap.mark(("name",), ("name",))
    else:
        name = project_name(doc.source, doc.project_dir)
        if not name:
            report.error((), "cannot derive a project name from the directory name; add a top-level name:")
    declared = _networks(report, smap, data.get("networks"), name)
    services = data.get("services")
    if not isinstance(services, dict):
        if "services" not in data:  # the schema does not require services; a services: of another type it reports
            report.error(("services",), f"services must be a mapping of service name: settings, not {describe(services)}")
        services = {}
    containers = _services(report, smap, services, name, declared)
    networks = _used_networks(report, declared, containers, name)
    check_scale(report, [Host(DEFAULT_HOST)], networks, containers, "services")
    design = Design.unchecked(name, (Host(DEFAULT_HOST),), tuple(networks), tuple(containers), doc.source, "compose",
                    smap.locations)
    return design, report, smap


def _networks(report: Report, smap: SourceMap, value: object, project: str) -> dict[str, Network]:
    out: dict[str, Network] = {}
    if value is None:
        return out
    if not isinstance(value, dict):
        return out  # the schema: networks is a mapping
    for key, spec in value.items():
        src = ("networks", key)
        smap.mark(src, src, key=True)
        if spec is None:
            spec = {}
        if not isinstance(spec, dict):
            continue  # the schema: a network is a mapping of settings (or empty)
        if len(key) > MAX_KEY or not NAME_KEY.fullmatch(key):
            report.error(src, f'"{shown(key)}" is not a valid network name: use letters, digits, ".", "_" and "-", '
                         f"at most {MAX_KEY} characters", key=True)
        smap.fields(src, src, spec)
        net = read_network(report, smap, key, spec, project)
        if net is not None:
            out[key] = net
    return out


def read_network(report: Report, smap: SourceMap, key: str, spec: dict, project: str,
                 default_driver: str = "bridge") -> Network | None:
    """One top-level network of a compose file, named ``<project>_<key>`` on the engine (None: not one
    to join); its driver is ``default_driver`` unless it names one (``docker stack deploy``: overlay)."""
    src = ("networks", key)
    docker_name = f"{project}_{key}"
    if "name" in spec:
        docker_name = to_str(report, (*src, "name"), spec["name"]) or docker_name
    external = spec.get("external", False)
    if isinstance(external, dict):
        if "name" in external:
            report.warning((*src, "external", "name"), "external.name is deprecated; use name: instead", key=True)
            docker_name = to_str(report, (*src, "external", "name"), external["name"]) or docker_name
        external = True
    else:
        external = bool(to_bool(report, (*src, "external"), external, strings=True))
    if external:
        if "name" not in spec and not isinstance(spec.get("external"), dict):
            docker_name = key
        for other in spec:
            if other not in ("external", "name", "labels") and not other.startswith("x-"):
                report.error((*src, other), f'conflicting parameters "external" and "{other}" specified for network '
                             f'"{key}": an external network is configured where it was created', key=True)
        if docker_name in ("host", "none"):
            report.error(src, f"the {docker_name} network is not joined through networks:; "
                         f"use network_mode: {docker_name} on the service", key=True)
            return None
        return Network(key, Driver.BRIDGE, docker_name=docker_name, hosts=(DEFAULT_HOST,), external=True,
                       default_bridge=docker_name == "bridge", labels=to_labels(report, (*src, "labels"), spec.get("labels"), lists=True))
    driver_text = spec.get("driver", default_driver)
    if driver_text not in DRIVERS:
        hint = did_you_mean(driver_text, DRIVERS)
        extra = "; use network_mode: on the service" if driver_text in ("host", "none") else ""
        report.error((*src, "driver"), f'driver "{driver_text}" is not modelled{hint}; netsim knows '
                     f"{', '.join(DRIVERS)}{extra}")
        driver_text = "bridge"
    driver = Driver(driver_text)
    kw: dict = {"docker_name": docker_name, "hosts": (DEFAULT_HOST,)}
    for field_ in ("internal", "attachable"):
        if field_ in spec and (flag := to_bool(report, (*src, field_), spec[field_], strings=True)) is not None:
            kw[field_] = flag
    if "enable_ipv6" in spec:
        smap.mark((*src, "enable_ipv6"), (*src, "enable_ipv6"))
        kw["enable_ipv6"] = bool(to_bool(report, (*src, "enable_ipv6"), spec["enable_ipv6"], strings=True))
    if to_bool(report, (*src, "enable_ipv4"), spec.get("enable_ipv4", True), strings=True) is False:
        report.warning((*src, "enable_ipv4"), "enable_ipv4: false is not modelled; the network is simulated with IPv4")
    if isinstance(spec.get("ipam"), dict):
        kw.update(_ipam(report, smap, src, spec["ipam"]))
    kw.update(_driver_opts(report, smap, src, driver, spec.get("driver_opts")))
    if driver in (Driver.MACVLAN, Driver.IPVLAN):
        kw.setdefault("mode", "bridge" if driver is Driver.MACVLAN else "l2")
        kw.setdefault("parent", "eth0")  # the LAN interface of docker1
    kw["labels"] = to_labels(report, (*src, "labels"), spec.get("labels"), lists=True)
    return Network(key, driver, **kw)


def _ipam(report: Report, smap: SourceMap, src: tuple, ipam: dict) -> dict:
    at = (*src, "ipam")
    if ipam.get("driver") not in (None, "default"):
        report.warning((*at, "driver"), f"IPAM driver {describe(ipam['driver'])} is not modelled; "
                       "addresses are simulated with Docker's default IPAM")
    if ipam.get("options"):
        report.warning((*at, "options"), "IPAM options are not modelled")
    configs = ipam.get("config") or []
    if not isinstance(configs, list):
        return {}  # the schema: ipam.config is a list
    kw: dict = {}
    for j, cfg in enumerate(configs):
        cp = (*at, "config", j)
        if not isinstance(cfg, dict):
            continue  # the schema: an ipam config is a mapping
        subnet = cfg.get("subnet")
        if isinstance(subnet, str) and ":" in subnet:
            kw.update(_ipam6(report, smap, src, cp, cfg, first="subnet6" not in kw))
            continue
        if "subnet" in kw:
            report.warning(cp, "only the first IPv4 subnet of a network is modelled; this one is skipped")
            continue
        if subnet is None:
            report.error(cp, "an ipam config needs a subnet (e.g. subnet: 172.28.0.0/16)")
            continue
        net = to_cidr(report, (*cp, "subnet"), subnet)
        kw["subnet"] = net
        model = src
        smap.mark((*model, "subnet"), (*cp, "subnet"))
        for field_, conv in (("gateway", to_ip), ("ip_range", to_cidr)):
            if field_ in cfg:
                smap.mark((*model, field_), (*cp, field_))
                if (v := conv(report, (*cp, field_), cfg[field_])) is not None:
                    kw[field_] = v
        aux = cfg.get("aux_addresses")
        if isinstance(aux, dict):
            smap.mark((*model, "aux_addresses"), (*cp, "aux_addresses"))
            kw["aux_addresses"] = tuple(a for n, v in aux.items()
                                        if (a := to_ip(report, (*cp, "aux_addresses", n), v)) is not None)
    if kw.get("subnet") is None:
        kw.pop("subnet", None)
    if kw.get("subnet6") is None:
        kw.pop("subnet6", None)
    return kw


def _ipam6(report: Report, smap: SourceMap, src: tuple, cp: tuple, cfg: dict, first: bool) -> dict:
    """An IPv6 ipam config: the network's subnet6, gateway6 and ip_range6 (the first one only)."""
    if not first:
        report.warning(cp, "only the first IPv6 subnet of a network is modelled; this one is skipped")
        return {}
    kw: dict = {"subnet6": to_cidr6(report, (*cp, "subnet"), cfg["subnet"])}
    smap.mark((*src, "subnet6"), (*cp, "subnet"))
    for field_, conv in (("gateway", to_ip6), ("ip_range", to_cidr6)):
        if field_ in cfg:
            smap.mark((*src, f"{field_}6"), (*cp, field_))
            if (v := conv(report, (*cp, field_), cfg[field_])) is not None:
                kw[f"{field_}6"] = v
    if cfg.get("aux_addresses"):
        report.warning((*cp, "aux_addresses"), "aux_addresses of an IPv6 subnet are not modelled; ignored")
    return kw


def _driver_opts(report: Report, smap: SourceMap, src: tuple, driver: Driver, opts: object) -> dict:
    if opts is None:
        return {}
    at = (*src, "driver_opts")
    if not isinstance(opts, dict):
        return {}  # the schema: driver_opts is a mapping
    kw: dict = {}
    for opt, raw in opts.items():
        path = (*at, opt)
        value = to_str(report, path, raw)
        if value is None:
            continue
        model = None
        if driver is Driver.BRIDGE and opt.startswith(BRIDGE_OPT):
            short = opt[len(BRIDGE_OPT):]
            if short in ("enable_icc", "enable_ip_masquerade"):
                model = "icc" if short == "enable_icc" else "masquerade"
                kw[model] = to_bool(report, path, value, strings=True)
                if kw[model] is None:
                    del kw[model]
            elif short == "host_binding_ipv4":
                model = "host_binding_ipv4"
                if (ip := to_ip(report, path, value)) is not None:
                    kw[model] = ip
            elif short in ("gateway_mode_ipv4", "gateway_mode_ipv6"):
                model = "gateway_mode" if short == "gateway_mode_ipv4" else "gateway_mode6"
                if value in GATEWAY_MODES:
                    kw[model] = value
                else:
                    report.error(path, f'"{value}" is not a gateway mode; use one of {", ".join(GATEWAY_MODES)}'
                                 f"{did_you_mean(value, GATEWAY_MODES)}")
        elif driver in (Driver.MACVLAN, Driver.IPVLAN) and opt == "parent":
            model = "parent"
            if not 0 < len(value) <= MAX_IFNAME:
                report.error(path, f'"{shown(value)}" is not an interface name: Linux names have 1 to {MAX_IFNAME} '
                             "characters (IFNAMSIZ)")
                continue
            base, dot, tag = value.partition(".")
            kw["parent"] = base
            if dot:
                if re.fullmatch(r"[0-9]{1,4}", tag) and 1 <= int(tag) <= 4094:
                    kw["vlan"] = int(tag)
                else:
                    report.error(path, f'"{shown(value)}": the part after "." is a VLAN id (1-4094), e.g. eth0.50')
        elif opt == f"{driver.value}_mode" and driver in (Driver.MACVLAN, Driver.IPVLAN):
            model = "mode"
            modes = ("bridge", "vepa", "private", "passthru") if driver is Driver.MACVLAN else ("l2", "l3", "l3s")
            if value in modes:
                kw["mode"] = value
            else:
                report.error(path, f'"{value}" is not a {driver.value} mode; use one of {", ".join(modes)}'
                             f"{did_you_mean(value, modes)}")
        elif driver is Driver.OVERLAY and opt == "encrypted":
            model = "encrypted"
            kw["encrypted"] = True
            if value.lower() == "false":
                report.warning(path, 'Docker encrypts when the "encrypted" option is present, whatever its value; '
                               "remove it for an unencrypted overlay")
        if model is None:
            report.warning(path, f'driver option "{opt}" is not modelled for {driver.value} networks; ignored',
                           key=True)
        else:
            smap.mark((*src, model), path)
    return kw


def _no_replicas(spec: dict) -> tuple | None:
    """The path of ``scale: 0`` or ``deploy.replicas: 0`` in a service, else None."""
    deploy = spec.get("deploy")
    for at, value in ((("scale",), spec.get("scale")),
                      (("deploy", "replicas"), deploy.get("replicas") if isinstance(deploy, dict) else None)):
        if (value == 0 or value == "0") and not isinstance(value, bool):
            return at
    return None


def _services(report: Report, smap: SourceMap, services: dict, project: str, declared: dict) -> list[Container]:
    specs: dict[str, dict] = {}
    for svc, spec in services.items():
        src = ("services", svc)
        if not isinstance(spec, dict):
            continue  # the schema: a service is a mapping of settings
        if len(svc) > MAX_KEY or not NAME_KEY.fullmatch(svc):
            report.error(src, f'"{shown(svc)}" is not a valid service name: use letters, digits, ".", "_" and "-", '
                         f"at most {MAX_KEY} characters", key=True)
        spec = {k: v for k, v in spec.items() if v is not None}  # compose reads null as "not set"
        if (zero := _no_replicas(spec)) is not None:
            report.warning((*src, *zero), f"{zero[-1]}: 0 means compose creates no container for this service; netsim "
                           "leaves it out (it does not run, listen or publish anything)", key=True)
            continue
        specs[svc] = spec
    counts = {svc: _replica_count(report, ("services", svc), spec) for svc, spec in specs.items()}
    by_container, firsts = {}, {}
    for svc, spec in specs.items():
        cname = spec.get("container_name")
        ids = replica_ids(svc, counts[svc])
        firsts[svc] = ids[0]
        if isinstance(cname, str) and counts[svc] == 1:
            by_container[cname] = ids[0]
        else:
            by_container.update((f"{project}-{svc}-{n}", cid) for n, cid in enumerate(ids, 1))
    out = []
    for svc, spec in specs.items():
        out += _service(report, smap, svc, spec, project, firsts, by_container, counts[svc])
    for svc, spec in specs.items():
        deps = spec.get("depends_on")
        for dep in (deps if isinstance(deps, (list, dict)) else []):
            if isinstance(dep, str) and dep not in services:
                report.error(("services", svc, "depends_on"), f'service "{svc}" depends on undefined service '
                             f'"{dep}"{did_you_mean(dep, list(services))}')
    return out


def _replica_count(report: Report, src: tuple, spec: dict) -> int:
    """How many containers ``docker compose up`` makes of a service: ``scale`` or ``deploy.replicas``
    (compose refuses both with different values), 1 when neither is given."""
    given: list[tuple[tuple, int]] = []
    if "scale" in spec:
        n = to_int(report, (*src, "scale"), spec["scale"], 0, MAX_REPLICAS, "a count", strings=True)
        if n is not None:
            given.append(((*src, "scale"), n))
    deploy = spec.get("deploy")
    if isinstance(deploy, dict) and "replicas" in deploy:
        n = to_int(report, (*src, "deploy", "replicas"), deploy["replicas"], 0, MAX_REPLICAS, "a count", strings=True)
        if n is not None:
            given.append(((*src, "deploy", "replicas"), n))
    if len(given) == 2 and given[0][1] != given[1][1]:
        report.error(given[0][0], f"scale ({given[0][1]}) and deploy.replicas ({given[1][1]}) differ: compose refuses "
                     "the service (\"can't set distinct values on 'scale' and 'deploy.replicas'\"); keep one")
    count = given[-1][1] if given else 1
    cname = spec.get("container_name")
    if count > 1 and cname is not None:
        report.error((*src, "container_name"), f'container_name "{shown(str(cname))}" with {count} replicas: a container '
                     "name is unique, so compose refuses to scale the service; remove container_name (the replicas are "
                     "named <project>-<service>-1, -2, ...)")
    return max(count, 1)


def _service(report, smap, svc, spec, project, firsts, by_container, replicas) -> list[Container]:
    src = ("services", svc)
    ids = replica_ids(svc, replicas)
    model = ("containers", ids[0])
    marked = smap.mark_count()
    smap.mark(model, src, key=True)
    smap.fields(model, src, spec)
    for key in NOT_MODELLED:
        if key in spec:
            report.warning((*src, key), f"{key} is not modelled; netsim ignores it", key=True)
    deploy = spec.get("deploy")
    for key in ("endpoint_mode", "placement"):
        if isinstance(deploy, dict) and key in deploy:
            report.warning((*src, "deploy", key), f"deploy.{key} is read by docker stack deploy (a swarm service), "
                           "not by docker compose up, which netsim models for a compose file: ignored (a netsim "
                           "design's services: section models swarm services)", key=True)
    kw: dict = {"docker_name": f"{project}-{svc}-1"}
    if "container_name" in spec:
        kw["docker_name"] = to_str(report, (*src, "container_name"), spec["container_name"]) or kw["docker_name"]
        smap.mark((*model, "container_name"), (*src, "container_name"))
    if "hostname" in spec:
        kw["hostname"] = to_str(report, (*src, "hostname"), spec["hostname"])
    mode, raw_mode = NetworkMode(), spec.get("network_mode")
    if raw_mode is not None:
        mode = _mode(report, (*src, "network_mode"), raw_mode, svc, firsts, by_container)
    attachments = service_attachments(report, smap, src, model, spec.get("networks"))
    if raw_mode == "bridge":
        if "networks" in spec:
            report.error((*src, "network_mode"), f"service {svc} declares mutually exclusive `network_mode` and "
                         "`networks`; keep one of them", key=True)
        attachments = [Attachment("bridge")]
    elif raw_mode is None and "networks" not in spec:
        attachments = [Attachment("default")]
    budget = PortBudget(report)
    published = parse_ports(spec.get("ports"), report, (*src, "ports"), COMPOSE, budget, replicas)
    heard = published.listeners
    exposed = parse_listens(spec.get("expose"), report, (*src, "expose"), "expose", budget, COMPOSE)
    if exposed and mode.kind is ModeKind.CONTAINER:
        report.error((*src, "expose"), "conflicting options: port exposing and the container type network mode; "
                     f'expose the ports on "{mode.target}"', key=True)
    source = report.doc.source  # relative builds start at the project directory (a text given without a file: nowhere)
    base = project_dir(source) if source.startswith("<") or not report.doc.project_dir else FsPath(report.doc.project_dir)
    found = service_listeners(spec, merge_listeners(exposed, heard), report, src, base, budget)
    if found.unknown is not None and mode.kind is not ModeKind.NONE:  # mode none: nothing reaches it anyway
        kw["listeners_unknown"] = found.unknown  # netsim check lists it, reach says "listens: unknown"
    first = Container(svc, DEFAULT_HOST, mode=mode, attachments=tuple(attachments), listeners=found.listeners,
                      service=svc, labels=to_labels(report, (*src, "labels"), spec.get("labels"), lists=True), **kw)
    return replicas_of(first, replicas, f"{project}-{svc}", published, report, smap, marked, src)


def _mode(report, path, raw, svc, firsts, by_container) -> NetworkMode:
    """``network_mode``; ``service:NAME`` of a scaled service joins its first replica (as compose does)."""
    if not isinstance(raw, str):
        return NetworkMode()  # the schema: network_mode is a string
    if raw in ("host", "none"):
        return NetworkMode(ModeKind(raw))
    if raw == "bridge":
        return NetworkMode()
    kind, colon, target = raw.partition(":")
    if colon and target and kind == "service":
        return NetworkMode(ModeKind.CONTAINER, firsts.get(target, target))
    if colon and target and kind == "container":
        owner = by_container.get(target)
        if owner is None:
            report.error(path, f"container {target} is not in the design: netsim models only this file's services "
                         f"(use service:NAME, or container_name / <project>-<service>-1 of one of them)"
                         f"{did_you_mean(target, list(by_container))}")
            return NetworkMode(ModeKind.NONE)
        return NetworkMode(ModeKind.CONTAINER, owner)
    report.error(path, f'"{raw}" is not a network mode; use host, none, bridge, service:NAME or container:NAME '
                 "(to join a network, list it under networks:)")
    return NetworkMode()


def service_attachments(report: Report, smap: SourceMap, src: tuple, model: tuple, value: object) -> list[Attachment]:
    """Service networks in compose's connection order: priority (high first), then name."""
    if value is None:
        return []
    if isinstance(value, list):
        entries = [(i, item, None) for i, item in enumerate(value)]
    elif isinstance(value, dict):
        entries = [(name, name, spec) for name, spec in value.items()]
    else:
        return []  # the schema: a list of names or a mapping
    ranked: list[tuple[int, str, Attachment]] = []
    seen: set[str] = set()
    for at, name, spec in entries:
        path = (*src, "networks", at)
        if not isinstance(name, str):
            continue  # the schema: a network name is a string
        if name in seen:
            report.error(path, f'network "{name}" is listed twice', key=True)
            continue
        seen.add(name)
        smap.mark((*model, "networks", name), path, key=True)
        kw: dict = {}
        priority = 0
        if isinstance(spec, dict) and spec:  # the schema reports settings that are not a mapping
            smap.fields((*model, "networks", name), path, spec)
            aliases = spec.get("aliases")
            if isinstance(aliases, list):
                named = [to_str(report, (*path, "aliases", i), a) for i, a in enumerate(aliases)]
                kw["aliases"] = tuple(a for a in named if a is not None)
            if "ipv4_address" in spec:
                kw["ipv4_address"] = to_ip(report, (*path, "ipv4_address"), spec["ipv4_address"])
            if "ipv6_address" in spec:
                kw["ipv6_address"] = to_ip6(report, (*path, "ipv6_address"), spec["ipv6_address"])
            if "gw_priority" in spec:
                kw["gw_priority"] = to_int(report, (*path, "gw_priority"), spec["gw_priority"],
                                           -(2**31), 2**31 - 1, "an integer", fractions=True) or 0
            if "priority" in spec:
                priority = to_int(report, (*path, "priority"), spec["priority"], -(2**31), 2**31 - 1,
                                  "an integer", fractions=True) or 0
            for ignored in ("mac_address", "interface_name", "driver_opts", "link_local_ips"):
                if ignored in spec:
                    report.warning((*path, ignored), f"{ignored} is not modelled; ignored", key=True)
        ranked.append((priority, name, Attachment(name, **kw)))
    ranked.sort(key=lambda r: (-r[0], r[1]))
    return [a for _, _, a in ranked]


def _used_networks(report: Report, declared: dict[str, Network], containers: list[Container],
                   project: str) -> list[Network]:
    """Networks compose would create: those a service uses (plus the implicit default)."""
    used = {a.network for c in containers for a in c.attachments}
    out: list[Network] = []
    if "bridge" in used and "bridge" not in declared:
        out.append(Network("bridge", Driver.BRIDGE, docker_name="bridge", hosts=(DEFAULT_HOST,), default_bridge=True))
    if "default" in used and "default" not in declared:
        out.append(Network("default", Driver.BRIDGE, docker_name=f"{project}_default", hosts=(DEFAULT_HOST,)))
    for key, net in declared.items():
        if key in used:
            out.append(net)
        else:
            report.warning(("networks", key), "no service uses this network, so compose does not create it", key=True)
    return out


def _best_match(errors):
    from jsonschema.exceptions import best_match  # jsonschema is imported only for a design with schema errors

    return best_match(errors)
