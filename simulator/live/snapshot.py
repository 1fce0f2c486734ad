"""Read a running engine: inspect JSON of containers and networks, and listening sockets.

This is the only I/O of the import: :func:`read_snapshot` talks to an
:class:`~simulator.adapters.engine.Engine` and reads ``/proc``; everything it gathers is
plain data (a :class:`Snapshot`) that :mod:`.importer` maps to a Design without I/O, so
the mapping is unit-tested with recorded inspect JSON.

Listening ports are read honestly and read-only, from the host: the container's main
process ``/proc/<pid>/net/{tcp,tcp6,udp,udp6}`` lists the sockets of its network
namespace (nothing is executed in the container).  The pid is trusted only when
``/proc/<pid>/ns/net`` is the namespace the engine names (``SandboxKey``), so a remote
engine (DOCKER_HOST) never reads this machine's processes.  When a namespace holds more
than one container (host mode, ``container:X``), a socket is attributed to the container
whose processes hold it (``/proc/<pid>/fd`` of its process tree).  Without /proc access,
``Config.ExposedPorts`` is the fallback (and the import says so).

On a swarm manager the snapshot also holds the scope's swarm services, their tasks and the
swarm's nodes as the API lists them; the task containers running on this engine are inspected
like the others (their sockets are the services' listeners).
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from ipaddress import IPv4Address, IPv6Address
from pathlib import Path

from ..adapters.engine import Engine, EngineObject, SwarmInventory
from ..adapters.host_facts import read_host_facts
from ..errors import EngineError

LABEL_HELPER = "netsim.helper"
COMPOSE_PROJECT = "com.docker.compose.project"
COMPOSE_SERVICE = "com.docker.compose.service"
COMPOSE_NETWORK = "com.docker.compose.network"
COMPOSE_NUMBER = "com.docker.compose.container-number"
COMPOSE_ONEOFF = "com.docker.compose.oneoff"
COMPOSE_VERSION = "com.docker.compose.version"  # 1.x: docker-compose v1 (``proj_web_1``), 2.x: v2 (``proj-web-1``)
STACK_NAMESPACE = "com.docker.stack.namespace"  # docker stack deploy: the stack a service belongs to

TCP_LISTEN = "0A"
UDP_UNCONNECTED = "07"


@dataclass(frozen=True, slots=True)
class Socket:
    """A listening socket: protocol, bound address (text) and port."""

    protocol: str  # tcp | udp
    address: str
    port: int
    inode: int = 0

    @property
    def wildcard(self) -> bool:
        return self.address in ("0.0.0.0", "::")

    @property
    def loopback(self) -> bool:
        try:
            return IPv4Address(self.address).is_loopback
        except ValueError:
            try:
                ip6 = IPv6Address(self.address)
            except ValueError:
                return False
            return ip6.is_loopback or (ip6.ipv4_mapped is not None and ip6.ipv4_mapped.is_loopback)

    def to_json(self) -> list:
        return [self.protocol, self.address, self.port]


@dataclass(frozen=True)
class Snapshot:
    """What the engine showed: inspect JSON and the listening sockets per container id.

    ``sockets`` has an entry only for containers whose sockets could be read; the
    importer falls back to ``Config.ExposedPorts`` for the others."""

    engine_version: str
    containers: tuple[dict, ...]
    networks: tuple[dict, ...]
    sockets: Mapping[str, tuple[Socket, ...]] = field(default_factory=dict)
    notes: tuple[str, ...] = ()
    host: Mapping = field(default_factory=dict)  # adapters.host_facts.read_host_facts (empty: not read)
    services: tuple[dict, ...] = ()  # the scope's swarm services (a manager's GET /services)
    tasks: tuple[dict, ...] = ()  # their tasks (GET /tasks), every state
    nodes: tuple[dict, ...] = ()  # the swarm's nodes (GET /nodes)
    node_id: str = ""  # this engine's node in the swarm ("" when it is in none)

    def to_json(self) -> dict:
        """A recording (tests/data/live/*.json) that :func:`from_json` reads back."""
        swarm = {"services": list(self.services), "tasks": list(self.tasks), "nodes": list(self.nodes),
                 "node_id": self.node_id} if self.nodes else {}
        return {"engine_version": self.engine_version, "containers": list(self.containers),
                "networks": list(self.networks),
                "sockets": {k: [s.to_json() for s in v] for k, v in sorted(self.sockets.items())},
                "notes": list(self.notes), "host": dict(self.host), **swarm}

    @classmethod
    def from_json(cls, data: dict) -> Snapshot:
        return cls(data.get("engine_version", ""), tuple(data.get("containers", ())), tuple(data.get("networks", ())),
                   {k: tuple(Socket(*s) for s in v) for k, v in (data.get("sockets") or {}).items()},
                   tuple(data.get("notes", ())), dict(data.get("host") or {}), tuple(data.get("services", ())),
                   tuple(data.get("tasks", ())), tuple(data.get("nodes", ())), data.get("node_id", ""))


# --- /proc -----------------------------------------------------------------------------


def _hex_address(text: str) -> str:
    """``0100007F`` -> 127.0.0.1; 32 hex digits -> an IPv6 address (kernel word order)."""
    raw = bytes.fromhex(text)
    if len(raw) == 4:
        return str(IPv4Address(raw[::-1]))
    words = b"".join(raw[i:i + 4][::-1] for i in range(0, 16, 4))
    ip6 = IPv6Address(words)
    return "::" if ip6 == IPv6Address("::") else str(ip6)


def parse_proc_net(text: str, protocol: str) -> list[Socket]:
    """Listening sockets of one ``/proc/<pid>/net/{tcp,tcp6,udp,udp6}`` table."""
    out = []
    for line in text.splitlines()[1:]:
        parts = line.split()
        if len(parts) < 10:
            continue
        local, remote, state = parts[1], parts[2], parts[3]
        if protocol == "tcp" and state != TCP_LISTEN:
            continue
        if protocol == "udp" and (state != UDP_UNCONNECTED or not remote.endswith(":0000")):
            continue
        addr, _, port = local.rpartition(":")
        try:
            out.append(Socket(protocol, _hex_address(addr), int(port, 16), int(parts[9])))
        except ValueError:
            continue
    return out


def namespace_sockets(pid: int, proc: Path = Path("/proc")) -> list[Socket]:
    """Every listening socket of the network namespace of ``pid``."""
    out: list[Socket] = []
    for table, protocol in (("tcp", "tcp"), ("tcp6", "tcp"), ("udp", "udp"), ("udp6", "udp")):
        try:
            text = (proc / str(pid) / "net" / table).read_text()
        except FileNotFoundError:
            continue  # no IPv6 in this kernel
        out += parse_proc_net(text, protocol)
    return out


def process_tree(pid: int, proc: Path = Path("/proc")) -> set[int]:
    """``pid`` and its descendants (through ``/proc/<pid>/task/*/children``)."""
    seen, todo = set(), [pid]
    while todo:
        p = todo.pop()
        if p in seen:
            continue
        seen.add(p)
        try:
            for task in (proc / str(p) / "task").iterdir():
                try:
                    todo += [int(c) for c in (task / "children").read_text().split()]
                except OSError:
                    pass
        except OSError:
            pass
    return seen


def socket_inodes(pids: Iterable[int], proc: Path = Path("/proc")) -> set[int]:
    """Inodes of every socket the processes hold open."""
    out: set[int] = set()
    for p in pids:
        try:
            fds = list((proc / str(p) / "fd").iterdir())
        except OSError:
            continue
        for fd in fds:
            try:
                target = os.readlink(fd)
            except OSError:
                continue
            if target.startswith("socket:["):
                out.add(int(target[8:-1]))
    return out


def _same_namespace(pid: int, sandbox_key: str, proc: Path) -> bool:
    """Is ``/proc/<pid>/ns/net`` the namespace file the engine names (a local engine)?"""
    try:
        return os.stat(proc / str(pid) / "ns" / "net").st_ino == os.stat(sandbox_key).st_ino
    except OSError:
        return False


def read_sockets(containers: list[dict], proc: Path = Path("/proc")) -> tuple[dict[str, tuple[Socket, ...]], list[str]]:
    """Listening sockets per container id, read from /proc (see the module doc)."""
    out: dict[str, tuple[Socket, ...]] = {}
    notes: list[str] = []
    by_ns: dict[str, list[dict]] = {}
    pids: dict[str, int] = {}
    for c in containers:
        state = c.get("State") or {}
        pid = int(state.get("Pid") or 0)
        mode = str((c.get("HostConfig") or {}).get("NetworkMode") or "")
        if not state.get("Running") or pid <= 0:
            continue
        if mode == "host":
            ns = "host"
        elif mode.startswith("container:"):
            ns = mode.split(":", 1)[1]
        else:
            ns = c["Id"]
        key = (c.get("NetworkSettings") or {}).get("SandboxKey") or ""
        if mode.startswith("container:") or mode == "host":
            ok = (proc / str(pid) / "net").exists() and _local_pid(c, pid, proc)
        else:
            ok = bool(key) and _same_namespace(pid, key, proc)
        if not ok:
            continue
        pids[c["Id"]] = pid
        by_ns.setdefault(_namespace_owner(ns, containers), []).append(c)
    for owner, members in by_ns.items():
        if owner == "host" or len(members) > 1 or any(m["Id"] != owner for m in members):
            # several containers (or the host's own processes) share the namespace: by fd
            for m in members:
                pid = pids[m["Id"]]
                inodes = socket_inodes(process_tree(pid, proc), proc)
                out[m["Id"]] = tuple(s for s in namespace_sockets(pid, proc) if s.inode in inodes)
        else:
            out[owner] = tuple(namespace_sockets(pids[owner], proc))
    return out, notes


def _local_pid(c: dict, pid: int, proc: Path) -> bool:
    """A container without a namespace of its own: trust the pid when its cgroup names the id."""
    try:
        return c["Id"] in (proc / str(pid) / "cgroup").read_text()
    except OSError:
        return False


def _namespace_owner(ns: str, containers: list[dict]) -> str:
    if ns == "host":
        return "host"
    for c in containers:
        if c["Id"] == ns or c["Id"].startswith(ns) or (c.get("Name") or "").lstrip("/") == ns:
            mode = str((c.get("HostConfig") or {}).get("NetworkMode") or "")
            if mode.startswith("container:") and mode.split(":", 1)[1] != ns:
                return _namespace_owner(mode.split(":", 1)[1], containers)
            return "host" if mode == "host" else c["Id"]
    return ns


# --- the engine ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Scope:
    """Which containers belong to the environment.

    ``compose``: the compose project ``value``; ``netsim``: netsim's deployment of design
    ``value``; ``names``: the containers named in ``names``; ``all``: every container."""

    kind: str  # compose | netsim | names | all
    value: str = ""
    names: tuple[str, ...] = ()

    def describe(self) -> str:
        return {"compose": f"compose project {self.value}", "netsim": f"netsim deployment of {self.value}",
                "names": f"containers {', '.join(self.names)}", "all": "every container"}[self.kind]


def list_projects(engine: Engine) -> dict[str, set[str]]:
    """Compose projects and netsim designs with containers on the engine: kind -> names."""
    found: dict[str, set[str]] = {"compose": set(), "netsim": set()}
    for obj in engine.list_by_label({}):
        if obj.kind != "container" or obj.labels.get(LABEL_HELPER) == "1":
            continue
        if obj.labels.get(COMPOSE_PROJECT):
            found["compose"].add(obj.labels[COMPOSE_PROJECT])
        elif obj.labels.get("netsim.design"):
            found["netsim"].add(obj.labels["netsim.design"])
    return found


def select_containers(engine: Engine, scope: Scope) -> list[EngineObject]:
    if scope.kind == "compose":
        found = [o for o in engine.list_by_label({COMPOSE_PROJECT: scope.value}) if o.kind == "container"]
        found = [o for o in found if o.labels.get(COMPOSE_ONEOFF, "False") != "True"]
    elif scope.kind == "netsim":
        found = [o for o in engine.list_by_label({"netsim.design": scope.value}) if o.kind == "container"]
    elif scope.kind == "names":
        found = [o for n in scope.names if (o := engine.find("container", n)) is not None]
    else:
        found = [o for o in engine.list_by_label({}) if o.kind == "container"]
    return sorted((o for o in found if o.labels.get(LABEL_HELPER) != "1"), key=lambda o: o.name)


def _of_scope(labels: Mapping[str, str], scope: Scope) -> bool:
    """Is a network (by its labels) one of the scope's own (a compose project's, a deployment's)?"""
    return ((scope.kind == "compose" and labels.get(COMPOSE_PROJECT) == scope.value)
            or (scope.kind == "netsim" and labels.get("netsim.design") == scope.value))


def service_of_scope(service: dict, scope: Scope) -> bool:
    """Is a swarm service (``GET /services`` item) part of the scope? A stack's (compose scope), a
    deployment's (netsim), a named one (names: the service or one of its tasks, ``<service>.<slot>``)."""
    spec = service.get("Spec") or {}
    labels, name = spec.get("Labels") or {}, spec.get("Name") or ""
    if scope.kind == "compose":
        return labels.get(STACK_NAMESPACE) == scope.value
    if scope.kind == "netsim":
        return labels.get("netsim.design") == scope.value
    if scope.kind == "names":
        return any(n == name or n.startswith(f"{name}.") for n in scope.names)
    return True


def read_swarm(engine: Engine, scope: Scope, notes: list[str]) -> tuple[SwarmInventory, str]:
    """The scope's services with their tasks, and every node; this engine's node id."""
    try:
        found = engine.swarm_inventory()
        node = engine.swarm_node_id() if found.nodes else ""
    except EngineError as exc:
        notes.append(f"swarm services not read: {exc}")
        return SwarmInventory(), ""
    services = tuple(s for s in found.services if service_of_scope(s, scope))
    ids = {s.get("ID") for s in services}
    return SwarmInventory(services, tuple(t for t in found.tasks if t.get("ServiceID") in ids), found.nodes), node


def read_snapshot(engine: Engine, scope: Scope, proc: Path = Path("/proc"), host: bool = True) -> Snapshot:
    """Inspect the scope's containers (and the containers whose namespace they join), its swarm
    services' tasks on this engine and every network; read their listening sockets and
    (``host``) the engine's machine."""
    notes: list[str] = []
    containers: dict[str, dict] = {}
    swarm, node = read_swarm(engine, scope, notes)
    todo = [o.id for o in select_containers(engine, scope)]
    todo += [cid for t in swarm.tasks if t.get("NodeID") == node and t.get("DesiredState") == "running"
             and (cid := ((t.get("Status") or {}).get("ContainerStatus") or {}).get("ContainerID"))]
    while todo:
        cid = todo.pop(0)
        if any(k.startswith(cid) or v.get("Name", "").lstrip("/") == cid for k, v in containers.items()):
            continue
        try:
            info = engine.inspect_container(cid)
        except EngineError:
            continue  # removed meanwhile
        containers[info["Id"]] = info
        mode = str((info.get("HostConfig") or {}).get("NetworkMode") or "")
        if mode.startswith("container:"):
            todo.append(mode.split(":", 1)[1])  # the namespace owner comes along (noted by the importer)
    networks = []
    for net in engine.list_networks():
        try:
            networks.append(engine.inspect_network(net.id))
        except EngineError:
            continue
    # a container someone started by hand on the project's networks belongs to the environment
    for inspected in networks:
        if not _of_scope(inspected.get("Labels") or {}, scope):
            continue
        for cid in sorted(inspected.get("Containers") or {}):
            if cid in containers or cid.startswith("lb-") or cid.startswith("ep-"):
                continue
            try:
                info = engine.inspect_container(cid)
            except EngineError:
                continue
            if ((info.get("Config") or {}).get("Labels") or {}).get(LABEL_HELPER) != "1":
                containers[info["Id"]] = info
    listed = list(containers.values())
    try:
        sockets, more = read_sockets(listed, proc)
        notes += more
    except OSError as exc:
        sockets = {}
        notes.append(f"listening ports could not be read from /proc ({exc}); ExposedPorts used instead")
    return Snapshot(engine.version(), tuple(sorted(listed, key=lambda c: c.get("Name", ""))),
                    tuple(sorted(networks, key=lambda n: n.get("Name", ""))), sockets, tuple(notes),
                    read_host_facts(engine) if host else {}, swarm.services, swarm.tasks, swarm.nodes, node)
