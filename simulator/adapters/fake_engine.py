"""An in-memory :class:`~simulator.adapters.engine.Engine` for unit tests of plan/apply/cleanup.

It keeps containers and networks with their labels, hands out addresses in order, lets a
test make any call fail (``fail_on``), answers execs through a callback, and records every
call in ``calls`` so tests can assert what was (and was not) touched.  ``FakeLan`` does
the same for the LAN emulation.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from ipaddress import IPv4Network, IPv6Network

from ..errors import EngineError
from ..model import KernelFeatures
from .engine import ContainerSpec, EngineObject, ExecResult, NetworkSpec, ServiceSpec, SwarmInventory, SwarmState
from .extra_daemon import DaemonSpec


@dataclass
class _Net:
    obj: EngineObject
    spec: NetworkSpec | None
    members: dict[str, str] = field(default_factory=dict)  # container id -> address
    next_host: int = 2


@dataclass
class _Ctr:
    obj: EngineObject
    spec: ContainerSpec | None
    networks: list[str] = field(default_factory=list)


@dataclass
class _Svc:
    obj: EngineObject
    spec: ServiceSpec
    vips: dict[str, str] = field(default_factory=dict)  # network id -> virtual IP
    tasks: list[tuple[int, str, str]] = field(default_factory=list)  # (slot, task id, container id)


class FakeEngine:
    def __init__(self, version: str = "20.10.24", udp: bool = True, prefix: str = ""):
        self._version = version
        self.prefix = prefix  # id prefix: engines of one multi-host fake never share ids
        self.manager: FakeEngine | None = None  # a swarm worker: overlays live on the manager
        self.udp = udp
        self.networks: dict[str, _Net] = {}
        self.containers: dict[str, _Ctr] = {}
        self.swarm = SwarmState(active=False)
        self.services: dict[str, _Svc] = {}
        self.node_labels: dict[str, str] = {}  # this engine's swarm node's labels
        self.images = {"netsim-probe:1"}
        self.exposed: dict[str, tuple[str, ...]] = {}  # image -> its ExposedPorts keys (image_exposed_ports)
        self.calls: list[tuple] = []
        self.fail_on: dict[tuple[str, str], Exception] = {}  # (method, name) -> error to raise
        self.exec_handler: Callable[[str, str], ExecResult] = lambda c, s: ExecResult(0, "")
        self._ids = itertools.count(1)
        self._pools = (IPv4Network(f"172.{n}.0.0/16") for n in range(18, 32))
        self.add_network(NetworkSpec("bridge", "bridge", "bridge", subnet="172.17.0.0/16"), labels={})

    # -- helpers for tests ---------------------------------------------------------------
    def add_network(self, spec: NetworkSpec, labels: Mapping[str, str] | None = None) -> str:
        """Create a network as someone else would (no failure injection, not in ``calls``)."""
        nid = f"{self.prefix}net{next(self._ids)}"
        subnet = spec.subnet or str(next(self._pools))
        lab = dict(spec.labels) if labels is None else dict(labels)
        self.networks[nid] = _Net(EngineObject("network", nid, spec.name, lab, (subnet,), driver=spec.driver), spec)
        return nid

    def add_container(self, name: str, labels: Mapping[str, str] | None = None) -> str:
        cid = f"{self.prefix}ctr{next(self._ids)}"
        self.containers[cid] = _Ctr(EngineObject("container", cid, name, dict(labels or {}), status="running"), None)
        return cid

    def _maybe_fail(self, method: str, name: str) -> None:
        self.calls.append((method, name))
        err = self.fail_on.get((method, name)) or self.fail_on.get((method, "*"))
        if err is not None:
            raise err

    def _net(self, ref: str) -> _Net:
        for n in self.networks.values():
            if ref in (n.obj.id, n.obj.name):
                return n
        if self.manager is not None and self.swarm.active:  # an attachable overlay of the swarm
            for n in self.manager.networks.values():
                if ref in (n.obj.id, n.obj.name) and n.obj.driver == "overlay":
                    return n
        raise EngineError(f"network {ref} not found")

    def _ctr(self, ref: str) -> _Ctr:
        for c in self.containers.values():
            if ref in (c.obj.id, c.obj.name):
                return c
        raise EngineError(f"container {ref} not found")

    # -- Engine -------------------------------------------------------------------------
    def version(self) -> str:
        return self._version

    def info(self) -> dict:
        return {}  # a fake engine is no machine: its host is not read

    def ensure_image(self, name: str, build_default: bool) -> tuple[str, ...]:
        self._maybe_fail("ensure_image", name)
        if name in self.images:
            return ()
        if not build_default:
            raise EngineError(f"probe image {name!r} missing")
        self.images.add(name)
        return (f"built probe image {name}",)

    def image_supports_udp(self, name: str) -> bool:
        return self.udp

    def image_exposed_ports(self, name: str) -> tuple[str, ...] | None:
        """Images a test gave ports with ``exposed[name] = ("80/tcp",)``; others, and the probe image, expose none."""
        self._maybe_fail("image_exposed_ports", name)
        if name in self.exposed:
            return self.exposed[name]
        return () if name in self.images else None

    def create_network(self, spec: NetworkSpec) -> str:
        self._maybe_fail("create_network", spec.name)
        if any(n.obj.name == spec.name for n in self.networks.values()):
            raise EngineError(f"network with name {spec.name} already exists")
        return self.add_network(spec)

    def create_container(self, spec: ContainerSpec) -> str:
        self._maybe_fail("create_container", spec.name)
        if any(c.obj.name == spec.name for c in self.containers.values()):
            raise EngineError(f"container name {spec.name} already in use")
        cid = f"{self.prefix}ctr{next(self._ids)}"
        nets = [e.network for e in spec.endpoints]
        if not nets and spec.network_mode not in ("host", "none") and not spec.network_mode.startswith("container:"):
            nets = [spec.network_mode]
        for n in nets:
            self._net(n)
        self.containers[cid] = _Ctr(EngineObject("container", cid, spec.name, dict(spec.labels), status="created"),
                                    spec, nets)
        return cid

    def start(self, container: str) -> None:
        c = self._ctr(container)
        self._maybe_fail("start", c.obj.name)
        for ref in c.networks:
            n = self._net(ref)
            net = IPv4Network(n.obj.subnets[0])
            n.members[c.obj.id] = str(net.network_address + n.next_host)
            n.next_host += 1
        self.containers[c.obj.id] = _Ctr(EngineObject("container", c.obj.id, c.obj.name, c.obj.labels, status="running"),
                                         c.spec, c.networks)

    def exec_batch(self, container: str, script: str, timeout: float = 60.0) -> ExecResult:
        c = self._ctr(container)
        self._maybe_fail("exec_batch", c.obj.name)
        return self.exec_handler(c.obj.name, script)

    def inspect_container(self, container: str) -> dict:
        c = self._ctr(container)
        nets = {}
        for ref in c.networks:
            n = self._net(ref)
            net = IPv4Network(n.obj.subnets[0])
            nets[n.obj.name] = {"IPAddress": n.members.get(c.obj.id, ""), "IPPrefixLen": net.prefixlen,
                                "Gateway": str(net.network_address + 1)}
        return {"Id": c.obj.id, "Name": "/" + c.obj.name,
                "State": {"Status": c.obj.status, "Running": c.obj.status == "running", "ExitCode": 0},
                "Config": {"Labels": dict(c.obj.labels)}, "NetworkSettings": {"Networks": nets}}

    def inspect_network(self, network: str) -> dict:
        n = self._net(network)
        return {"Id": n.obj.id, "Name": n.obj.name, "Driver": n.obj.driver, "Labels": dict(n.obj.labels),
                "IPAM": {"Config": [{"Subnet": s} for s in n.obj.subnets]},
                "Containers": {cid: {"IPv4Address": f"{a}/{IPv4Network(n.obj.subnets[0]).prefixlen}"}
                               for cid, a in n.members.items()}}

    def list_by_label(self, labels: Mapping[str, str]) -> list[EngineObject]:
        def match(o: EngineObject) -> bool:
            return all(o.labels.get(k) == v for k, v in labels.items())

        return [c.obj for c in self.containers.values() if match(c.obj)] + [
            n.obj for n in self.networks.values() if match(n.obj)] + [
            s.obj for s in self.services.values() if match(s.obj)]

    def list_networks(self) -> list[EngineObject]:
        return [n.obj for n in self.networks.values()]

    def find(self, kind: str, name: str) -> EngineObject | None:
        pool = self.containers if kind == "container" else self.networks
        return next((o.obj for o in pool.values() if o.obj.name == name), None)

    def remove(self, obj: EngineObject) -> None:
        self._maybe_fail("remove", obj.name)
        if obj.kind == "service":
            svc = self.services.pop(obj.id, None)
            for _, _, cid in svc.tasks if svc is not None else ():
                self.remove(self.containers[cid].obj)
        elif obj.kind == "container":
            self.containers.pop(obj.id, None)
            for n in list(self.networks.values()) + (list(self.manager.networks.values()) if self.manager else []):
                n.members.pop(obj.id, None)
        else:
            net = self.networks.get(obj.id)
            if net is not None and net.members:
                raise EngineError(f"network {obj.name} has active endpoints")
            self.networks.pop(obj.id, None)

    def swarm_state(self) -> SwarmState:
        return self.swarm

    def create_service(self, spec: ServiceSpec) -> str:
        """A service whose tasks all run on this engine's node: a virtual IP per network (vip mode),
        then one started container per slot, named ``<service>.<slot>.<task id>`` as the engine names them."""
        self._maybe_fail("create_service", spec.key)
        if not self.swarm.active:
            raise EngineError("This node is not a swarm manager.")
        sid = f"{self.prefix}svc{next(self._ids)}"
        svc = _Svc(EngineObject("service", sid, spec.key, dict(spec.labels)), spec)
        nets = [self._net(n) for n in spec.networks]
        if spec.endpoint_mode == "vip":
            for n in nets:
                svc.vips[n.obj.id] = str(IPv4Network(n.obj.subnets[0]).network_address + n.next_host)
                n.next_host += 1
        slots = [0] if spec.global_mode else range(1, spec.replicas - spec.pending + 1)  # pending: no node takes them
        for slot in slots:  # (a global service's tasks have no slot: one on this engine's one node)
            task = f"{self.prefix}task{next(self._ids)}"
            labels = {**dict(spec.labels), "com.docker.swarm.service.name": spec.key, "com.docker.swarm.service.id": sid,
                      "com.docker.swarm.task.id": task, "com.docker.swarm.task.name": f"{spec.key}.{slot}.{task}",
                      "com.docker.swarm.node.id": self.swarm_node_id()}
            cid = f"{self.prefix}ctr{next(self._ids)}"
            self.containers[cid] = _Ctr(EngineObject("container", cid, f"{spec.key}.{slot}.{task}", labels,
                                                     status="created"), None, [n.obj.id for n in nets])
            self.start(cid)
            svc.tasks.append((slot, task, cid))
        self.services[sid] = svc
        return sid

    def service_tasks(self, service: str) -> list[tuple[int, str, str, str]]:
        svc = next((s for s in self.services.values() if service in (s.obj.id, s.obj.name)), None)
        if svc is None:
            raise EngineError(f"service {service} not found")
        return [(slot, cid, "running", self.swarm_node_id()) for slot, _, cid in svc.tasks]

    def swarm_node_id(self) -> str:
        return f"{self.prefix}node" if self.swarm.active else ""

    def label_node(self, node_id: str, labels: Mapping[str, str]) -> None:
        self._maybe_fail("label_node", node_id)
        self.node_labels.update(labels)

    def swarm_inventory(self) -> SwarmInventory:
        """This engine's services, their tasks and its one node, shaped as the API lists them."""
        if not self.swarm.active or self.manager is not None:
            return SwarmInventory()
        node = self.swarm_node_id()
        services, tasks = [], []
        for svc in self.services.values():
            spec = svc.spec
            nets = [self._net(n) for n in spec.networks]
            ports = [{"PublishedPort": pub, "TargetPort": target, "Protocol": proto, "PublishMode": mode}
                     for pub, target, proto, mode in spec.ports]
            placement = {**({"Constraints": list(spec.constraints)} if spec.constraints else {}),
                         **({"MaxReplicas": spec.max_replicas} if spec.max_replicas else {})}
            services.append({
                "ID": svc.obj.id,
                "Spec": {"Name": spec.key, "Labels": dict(spec.labels), "Mode": {"Replicated": {"Replicas": spec.replicas}},
                         "TaskTemplate": {"Networks": [{"Target": n.obj.id} for n in nets], "Placement": placement},
                         "EndpointSpec": {"Mode": spec.endpoint_mode, "Ports": ports}},
                "Endpoint": {"Ports": ports, "VirtualIPs": [
                    {"NetworkID": nid, "Addr": f"{vip}/{IPv4Network(self._net(nid).obj.subnets[0]).prefixlen}"}
                    for nid, vip in svc.vips.items()]}})
            for slot, task, cid in svc.tasks:
                tasks.append({"ID": task, "ServiceID": svc.obj.id, "Slot": slot, "NodeID": node, "DesiredState": "running",
                              "Status": {"State": "running", "ContainerStatus": {"ContainerID": cid}},
                              "NetworksAttachments": [
                                  {"Network": {"ID": n.obj.id},
                                   "Addresses": [f"{n.members[cid]}/{IPv4Network(n.obj.subnets[0]).prefixlen}"]}
                                  for n in nets if cid in n.members]})
            for slot in range(spec.replicas - spec.pending + 1, spec.replicas + 1):
                tasks.append({"ID": f"{svc.obj.id}-pending{slot}", "ServiceID": svc.obj.id, "Slot": slot,
                              "DesiredState": "running",
                              "Status": {"State": "pending", "Err": "no suitable node (max replicas per node limit exceed)"}})
        nodes = [{"ID": node, "Description": {"Hostname": f"{self.prefix}fake"},
                  "Spec": {"Role": "manager", "Labels": dict(self.node_labels)}, "Status": {"Addr": "127.0.0.1"}}]
        return SwarmInventory(tuple(services), tuple(tasks), tuple(nodes))

    def swarm_init(self, advertise_addr: str, labels: Mapping[str, str]) -> None:
        self._maybe_fail("swarm_init", advertise_addr)
        self.swarm = SwarmState(active=True, labels=dict(labels))

    def swarm_join_token(self) -> str:
        return "SWMTKN-fake"

    def swarm_join(self, advertise_addr: str, manager_addr: str, token: str) -> None:
        self._maybe_fail("swarm_join", advertise_addr)
        self.calls.append(("swarm_join", f"{advertise_addr}->{manager_addr}"))
        self.swarm = SwarmState(active=True)

    def swarm_leave(self) -> None:
        self.calls.append(("swarm_leave", ""))
        self.swarm = SwarmState(active=False)
        for svc in list(self.services.values()):  # a swarm left: its services and their tasks go
            self.remove(svc.obj)
        self.node_labels = {}


class FakeLan:
    """Stands in for :mod:`simulator.adapters.lanpeer` (no root, no ip commands)."""

    def __init__(self, available: bool = True, routes: list[tuple[IPv4Network, str]] | None = None):
        self.available = available
        self.routes = routes if routes is not None else [(IPv4Network("192.0.2.0/24"), "eth0")]
        self.namespaces: set[str] = set()
        self.peer_routes: dict[str, list[IPv4Network]] = {}
        self.calls: list[tuple] = []

    def unavailable_reason(self) -> str | None:
        return None if self.available else "fake: no root"

    def kernel_capabilities(self) -> KernelFeatures:
        return KernelFeatures(vlan=False, ipvlan=False, source="fake LAN")

    def setup(self, lan) -> None:
        self.calls.append(("setup", lan.namespace))
        self.namespaces.add(lan.namespace)

    def add_routes(self, lan, subnets) -> None:
        self.peer_routes[lan.namespace] = list(subnets)

    def teardown(self, lan) -> list[str]:
        self.calls.append(("teardown", lan.namespace))
        if lan.namespace in self.namespaces:
            self.namespaces.discard(lan.namespace)
            return [f"namespace {lan.namespace}"]
        return []

    def host_routes(self) -> list[tuple[IPv4Network, str]]:
        return list(self.routes)

    routes6: tuple[tuple[IPv6Network, str], ...] = ((IPv6Network("fd00::/64"), "eth0"),)

    def host_routes6(self) -> list[tuple[IPv6Network, str]]:
        return list(self.routes6)

    def namespace_exists(self, namespace: str) -> bool:
        return namespace in self.namespaces

    stale_guards = 0  # guard rules a killed run left behind
    ipv6_holders: tuple[str, ...] = ()  # designs holding IPv6 on this machine's engine (lanpeer.hold_ipv6)

    def hold_ipv6(self, design: str) -> list[str]:
        self.calls.append(("hold_ipv6", design))
        if design not in self.ipv6_holders:
            self.ipv6_holders = (*self.ipv6_holders, design)
        return [f"fake: IPv6 held for {design}"]

    def settle_ipv6(self, namespace: str | None = None) -> list[str]:
        self.calls.append(("settle_ipv6", namespace))
        return []

    def release_ipv6(self, design: str) -> list[str]:
        if design not in self.ipv6_holders:
            return []
        self.calls.append(("release_ipv6", design))
        self.ipv6_holders = tuple(h for h in self.ipv6_holders if h != design)
        return [] if self.ipv6_holders else ["fake: IPv6 forwarding put back"]

    def remove_stale_guards(self) -> int:
        self.calls.append(("remove_stale_guards",))
        found, self.stale_guards = self.stale_guards, 0
        return found


class FakeDaemons:
    """Stands in for :mod:`simulator.adapters.extra_daemon`: one FakeEngine per extra host."""

    def __init__(self, manager: FakeEngine | None = None, available: bool = True):
        self.available = available
        self.manager = manager  # this machine's fake engine (the swarm manager)
        self.engines: dict[str, FakeEngine] = {}  # design host -> engine of a running daemon
        self.records: dict[str, DaemonSpec] = {}  # by design host
        self.calls: list[tuple] = []

    def unavailable_reason(self, binaries=None) -> str | None:
        return None if self.available else "fake: no extra daemons"

    def start(self, spec, lan_namespace: str, lan_bridge: str) -> FakeEngine:
        self.calls.append(("start", spec.host))
        self.records[spec.host] = spec
        self.engines[spec.host] = FakeEngine(prefix=f"{spec.host}-")
        self.engines[spec.host].manager = self.manager
        return self.engines[spec.host]

    def discover(self, design: str) -> list:
        return [s for s in self.records.values() if s.design == design]

    def connect(self, spec) -> FakeEngine | None:
        return self.engines.get(spec.host)

    def stop(self, spec) -> list[str]:
        self.calls.append(("stop", spec.host))
        self.records.pop(spec.host, None)
        return [f"dockerd of host {spec.host}"] if self.engines.pop(spec.host, None) is not None else []
