"""The :class:`~simulator.adapters.engine.Engine` implemented with the Docker SDK."""

from __future__ import annotations

from collections.abc import Mapping

import docker
from docker.errors import APIError, DockerException, ImageNotFound, NotFound
from docker.types import EndpointConfig, IPAMConfig, IPAMPool

from ..errors import EngineError, EngineUnavailable
from .engine import ContainerSpec, EngineObject, ExecResult, NetworkSpec, ServiceSpec, SwarmInventory, SwarmState
from .probe_image import DEFAULT_PROBE_IMAGE, LABEL_REV, LABEL_UDP, build_probe_image, image_revision


class DockerEngine:
    """Talks to dockerd through ``docker.from_env()`` (DOCKER_HOST or the local socket)."""

    def __init__(self, client: docker.DockerClient | None = None, timeout: int = 120):
        try:
            self.client = client or docker.from_env(timeout=timeout, max_pool_size=64)
            self.api = self.client.api
            self._info = self.api.version()
        except DockerException as exc:
            raise EngineUnavailable(
                f"no Docker engine reachable ({exc}); start dockerd or set DOCKER_HOST"
            ) from exc

    # -- engine facts ----------------------------------------------------------------
    def version(self) -> str:
        return str(self._info.get("Version", ""))

    def info(self) -> dict:
        """``docker info`` (the daemon's facts: host name, forwarding, address pools)."""
        try:
            return dict(self.api.info())
        except DockerException as exc:
            raise EngineError(f"docker info failed: {exc}") from exc

    def ensure_image(self, name: str, build_default: bool) -> tuple[str, ...]:
        stale = None
        try:
            found = self.api.inspect_image(name)
            labels = (found.get("Config") or {}).get("Labels") or {}
            if name != DEFAULT_PROBE_IMAGE or labels.get(LABEL_REV) == image_revision():
                return ()
            stale = found["Id"]  # netsim's own image from an older netsim: rebuild it
        except ImageNotFound:
            pass
        if not build_default or name != DEFAULT_PROBE_IMAGE:
            raise EngineUnavailable(
                f"probe image {name!r} is not on the engine and no registry is used; "
                f"build it or omit --probe-image to build {DEFAULT_PROBE_IMAGE}"
            )
        try:
            built = build_probe_image(self.api, name)
        except APIError as exc:
            raise EngineError(f"importing the probe image {name} failed: {exc.explanation}") from exc
        if stale:
            try:
                self.api.remove_image(stale)
            except APIError:
                pass  # still used by a container: leave it
        return (f"built probe image {name}",) + built.notes

    def image_needs_build(self, name: str) -> bool:
        """ensure_image would build it (netsim's probe image, missing or stale): say so first."""
        from .probe_image import needs_build

        return needs_build(self.api, name)

    def image_supports_udp(self, name: str) -> bool:
        try:
            labels = (self.api.inspect_image(name).get("Config") or {}).get("Labels") or {}
        except ImageNotFound:
            return False
        return labels.get(LABEL_UDP) == "1"

    def image_exposed_ports(self, name: str) -> tuple[str, ...] | None:
        """``docker image inspect NAME``'s Config.ExposedPorts keys; None when the engine lacks the image
        (or cannot name it). Never pulls."""
        try:
            found = self.api.inspect_image(name)
        except (ImageNotFound, NotFound):
            return None
        except APIError as exc:
            if exc.status_code in (400, 404):  # a reference the engine cannot parse: it has no such image
                return None
            raise EngineError(f"inspecting image {name} failed: {exc.explanation}") from exc
        except DockerException as exc:
            raise EngineError(f"inspecting image {name} failed: {exc}") from exc
        return tuple(sorted((found.get("Config") or {}).get("ExposedPorts") or {}))

    # -- create / start ----------------------------------------------------------------
    def create_network(self, spec: NetworkSpec) -> str:
        pools = []
        if spec.subnet or spec.gateway or spec.ip_range or spec.aux_addresses:
            pools.append(IPAMPool(
                subnet=spec.subnet,
                gateway=spec.gateway,
                iprange=spec.ip_range,
                aux_addresses=dict(spec.aux_addresses) or None,
            ))
        if spec.subnet6:  # the IPv6 pool beside the IPv4 one (the IPv4 subnet from the pools when none is given)
            pools.append(IPAMPool(subnet=spec.subnet6, gateway=spec.gateway6, iprange=spec.ip_range6))
        ipam = IPAMConfig(pool_configs=pools) if pools else None
        try:
            result = self.api.create_network(
                spec.name,
                driver=spec.driver,
                options=dict(spec.options) or None,
                ipam=ipam,
                internal=spec.internal,
                enable_ipv6=spec.enable_ipv6,
                attachable=spec.attachable or None,
                labels=dict(spec.labels),
                check_duplicate=True,
            )
        except APIError as exc:
            raise EngineError(f"creating network {spec.name} failed: {exc.explanation}") from exc
        return result["Id"]

    def create_container(self, spec: ContainerSpec) -> str:
        host_kwargs: dict = {"network_mode": spec.network_mode}
        if not spec.network_mode.startswith("container:"):
            host_kwargs["dns"] = list(spec.dns)
        port_bindings: dict = {}
        for p in spec.ports:
            key = f"{p.container_port}/{p.protocol}"
            binding = (p.host_ip or "", p.host_port) if p.host_ip else p.host_port
            port_bindings.setdefault(key, []).append(binding)
        if port_bindings:
            host_kwargs["port_bindings"] = port_bindings
        networking = None
        if spec.endpoints:
            first = spec.endpoints[0]
            networking = self.api.create_networking_config(
                {first.network: self._endpoint(first)}
            )
        try:
            created = self.api.create_container(
                spec.image,
                command=list(spec.command),
                name=spec.name,
                hostname=spec.hostname,
                environment=dict(spec.env),
                labels=dict(spec.labels),
                ports=[(p.container_port, p.protocol) for p in spec.ports] or None,
                host_config=self.api.create_host_config(**host_kwargs),
                networking_config=networking,
                detach=True,
            )
            cid = created["Id"]
            for ep in spec.endpoints[1:]:
                if ep.gw_priority:  # docker-py's connect takes no GwPriority: the same request, with it
                    res = self.api._post_json(self.api._url("/networks/{0}/connect", ep.network),
                                              data={"Container": cid, "EndpointConfig": self._endpoint(ep)})
                    self.api._raise_for_status(res)
                    continue
                self.api.connect_container_to_network(
                    cid, ep.network, aliases=list(ep.aliases) or None, ipv4_address=ep.ipv4_address,
                    ipv6_address=ep.ipv6_address,
                )
        except APIError as exc:
            raise EngineError(f"creating container {spec.name} failed: {exc.explanation}") from exc
        return cid

    def _endpoint(self, ep) -> EndpointConfig:
        config = self.api.create_endpoint_config(
            aliases=list(ep.aliases) or None, ipv4_address=ep.ipv4_address, ipv6_address=ep.ipv6_address
        )
        if ep.gw_priority:
            config["GwPriority"] = ep.gw_priority  # API 1.48 (engine 28.0); older engines ignore it
        return config

    def start(self, container: str) -> None:
        try:
            self.api.start(container)
        except APIError as exc:
            raise EngineError(f"starting container {container} failed: {exc.explanation}") from exc

    # -- observe -------------------------------------------------------------------------
    def exec_batch(self, container: str, script: str, timeout: float = 60.0) -> ExecResult:
        try:
            ex = self.api.exec_create(container, ["/bin/sh", "-c", script])
            out, err = self.api.exec_start(ex["Id"], demux=True)
            code = self.api.exec_inspect(ex["Id"]).get("ExitCode")
        except (APIError, NotFound) as exc:
            raise EngineError(f"exec in {container} failed: {getattr(exc, 'explanation', exc)}") from exc
        return ExecResult(
            exit_code=-1 if code is None else int(code),
            output=(out or b"").decode(errors="replace"),
            error=(err or b"").decode(errors="replace"),
        )

    def inspect_container(self, container: str) -> dict:
        try:
            return self.api.inspect_container(container)
        except NotFound as exc:
            raise EngineError(f"container {container} not found") from exc

    def inspect_network(self, network: str) -> dict:
        try:
            return self.api.inspect_network(network)
        except NotFound as exc:
            raise EngineError(f"network {network} not found") from exc

    def list_by_label(self, labels: Mapping[str, str]) -> list[EngineObject]:
        filters = {"label": [f"{k}={v}" for k, v in labels.items()]}
        found = [self._container_obj(c) for c in self.api.containers(all=True, filters=filters)]
        found += [self._network_obj(n) for n in self.api.networks(filters=filters)]
        if (self.api.info().get("Swarm") or {}).get("ControlAvailable"):  # a manager lists the services
            found += [EngineObject("service", s["ID"], s["Spec"]["Name"], dict(s["Spec"].get("Labels") or {}))
                      for s in self.api.services(filters=filters)]
        return found

    def list_networks(self) -> list[EngineObject]:
        return [self._network_obj(self.api.inspect_network(n["Id"])) for n in self.api.networks()]

    def find(self, kind: str, name: str) -> EngineObject | None:
        try:
            if kind == "container":
                return self._container_obj(self.api.inspect_container(name))
            return self._network_obj(self.api.inspect_network(name))
        except NotFound:
            return None

    def remove(self, obj: EngineObject) -> None:
        try:
            if obj.kind == "container":
                self.api.remove_container(obj.id, force=True, v=True)
            elif obj.kind == "service":
                self.api.remove_service(obj.id)
            else:
                self.api.remove_network(obj.id)
        except NotFound:
            pass
        except APIError as exc:
            raise EngineError(f"removing {obj.kind} {obj.name} failed: {exc.explanation}") from exc

    @staticmethod
    def _container_obj(c: dict) -> EngineObject:
        name = c.get("Name") or (c.get("Names") or [""])[0]
        labels = c.get("Labels") if "Labels" in c else (c.get("Config") or {}).get("Labels")
        state = c.get("State")
        status = state.get("Status", "") if isinstance(state, dict) else str(state or "")
        return EngineObject("container", c["Id"], name.lstrip("/"), dict(labels or {}), status=status)

    @staticmethod
    def _network_obj(n: dict) -> EngineObject:
        configs = ((n.get("IPAM") or {}).get("Config")) or []
        subnets = tuple(c["Subnet"] for c in configs if c.get("Subnet") and ":" not in c["Subnet"])
        return EngineObject(
            "network", n["Id"], n["Name"], dict(n.get("Labels") or {}), subnets=subnets,
            driver=n.get("Driver", ""),
        )

    # -- swarm ---------------------------------------------------------------------------
    def create_service(self, spec: ServiceSpec) -> str:
        types = docker.types
        task = types.TaskTemplate(
            # SIGKILL: the probe's first process ignores SIGTERM, and the swarm would wait 10 s and
            # then kill every task of a removed service at once
            types.ContainerSpec(spec.image, command=list(spec.command), labels=dict(spec.labels),
                                env=[f"NAME={spec.answer_template}"], stop_signal="SIGKILL",
                                dns_config=types.DNSConfig(nameservers=list(spec.dns))),
            networks=[types.NetworkAttachmentConfig(n, aliases=list(a) or None)
                      for n, a in zip(spec.networks, spec.aliases or [()] * len(spec.networks), strict=True)],
            restart_policy=types.RestartPolicy(condition="none"),
            placement=types.Placement(constraints=list(spec.constraints) or None, maxreplicas=spec.max_replicas or None)
            if spec.constraints or spec.max_replicas else None,
        )
        ports = [{"PublishedPort": published, "TargetPort": target, "Protocol": proto, "PublishMode": mode}
                 for published, target, proto, mode in spec.ports]
        try:
            created = self.api.create_service(
                task, name=spec.key, labels=dict(spec.labels),
                mode=types.ServiceMode("global") if spec.global_mode else types.ServiceMode("replicated", spec.replicas),
                endpoint_spec=types.EndpointSpec(mode=spec.endpoint_mode, ports=ports or None))
        except APIError as exc:
            raise EngineError(f"creating service {spec.key} failed: {exc.explanation}") from exc
        return created["ID"]

    def service_tasks(self, service: str) -> list[tuple[int, str, str, str]]:
        try:
            tasks = self.api.tasks(filters={"service": service})
        except APIError as exc:
            raise EngineError(f"listing the tasks of service {service} failed: {exc.explanation}") from exc
        out = []
        for t in tasks:
            status = t.get("Status") or {}
            cid = (status.get("ContainerStatus") or {}).get("ContainerID")
            if cid and t.get("DesiredState") == "running":
                out.append((int(t.get("Slot") or 0), cid, status.get("State", ""), t.get("NodeID", "")))
        return sorted(out)

    def swarm_node_id(self) -> str:
        return (self.api.info().get("Swarm") or {}).get("NodeID") or ""

    def swarm_inventory(self) -> SwarmInventory:
        """``GET /services``, ``/tasks`` and ``/nodes`` of the swarm this engine manages (a worker's are empty)."""
        if not (self.api.info().get("Swarm") or {}).get("ControlAvailable"):
            return SwarmInventory()
        try:
            return SwarmInventory(tuple(self.api.services()), tuple(self.api.tasks()), tuple(self.api.nodes()))
        except APIError as exc:
            raise EngineError(f"listing the swarm's services, tasks and nodes failed: {exc.explanation}") from exc

    def label_node(self, node_id: str, labels: Mapping[str, str]) -> None:
        try:
            node = self.api.inspect_node(node_id)
            spec = dict(node["Spec"])
            spec["Labels"] = {**(spec.get("Labels") or {}), **labels}
            self.api.update_node(node_id, node["Version"]["Index"], spec)
        except APIError as exc:
            raise EngineError(f"labelling swarm node {node_id} failed: {exc.explanation}") from exc

    def swarm_state(self) -> SwarmState:
        info = self.api.info().get("Swarm") or {}
        if info.get("LocalNodeState") != "active":
            return SwarmState(active=False)
        try:
            spec = self.api.inspect_swarm().get("Spec") or {}
        except APIError:
            spec = {}
        return SwarmState(active=True, labels=dict(spec.get("Labels") or {}))

    def swarm_init(self, advertise_addr: str, labels: Mapping[str, str]) -> None:
        try:
            spec = self.api.create_swarm_spec(labels=dict(labels))
            self.api.init_swarm(
                advertise_addr=advertise_addr, listen_addr=f"{advertise_addr}:2377", swarm_spec=spec
            )
        except APIError as exc:
            raise EngineError(f"swarm init failed: {exc.explanation}") from exc

    def swarm_join_token(self) -> str:
        try:
            return self.api.inspect_swarm()["JoinTokens"]["Worker"]
        except (APIError, KeyError) as exc:
            raise EngineError(f"reading the swarm's join token failed: {getattr(exc, 'explanation', exc)}") from exc

    def swarm_join(self, advertise_addr: str, manager_addr: str, token: str) -> None:
        try:
            self.api.join_swarm([f"{manager_addr}:2377"], token, listen_addr=f"{advertise_addr}:2377",
                                advertise_addr=advertise_addr)
        except APIError as exc:
            raise EngineError(f"swarm join ({advertise_addr} -> {manager_addr}) failed: {exc.explanation}") from exc

    def swarm_leave(self) -> None:
        try:
            self.api.leave_swarm(force=True)
        except APIError as exc:
            raise EngineError(f"swarm leave failed: {exc.explanation}") from exc
