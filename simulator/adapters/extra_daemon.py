"""Extra Docker daemons: one per additional design host, each in its own network namespace.

A multi-host design runs its first host on this machine's own engine and every other host
on a dockerd netsim starts for it::

    nsenter --net=/run/netns/<namespace> dockerd --data-root ... --exec-root ... \\
        --pidfile ... -H unix:///run/netsim/<design>-<host>.sock --containerd-namespace ...

The namespace *is* the host: its own interfaces, routes, iptables, docker0 and bridges.  Its
LAN interface (named as the design names it, e.g. ``eth0``) is a veth into the emulated LAN
bridge; it has only connected routes and **no default route**, so nothing in it can reach
this machine's uplink.  ``net.ipv4.ip_forward`` is set to 0 before dockerd starts, as on a
freshly booted host: a new namespace inherits 1 here, and dockerd then leaves the FORWARD
policy at ACCEPT instead of setting DROP (it only sets DROP when it enables forwarding).

``ip netns exec`` is not used to start dockerd: it remounts /sys in a private mount
namespace, hiding /sys/fs/cgroup ("Devices cgroup isn't mounted"); ``nsenter --net`` keeps
the mounts.  dockerd starts its own containerd under its exec root (no system containerd
socket exists here); containers go under the cgroup parent ``/<base>``, so a daemon that
had to be killed still leaves nothing running.

Each daemon is recorded in ``/run/netsim/<design>-<host>.json`` *before* anything is
created, so :func:`discover` finds it and :func:`stop` removes it (daemon, containerd,
containers, mounts, roots, cgroups, namespace) also after a crash or a kill.

An engine built from source (``--dockerd PATH``, :class:`EngineBinaries`): *every* design
host, the first one and single-host designs included, runs as such a daemon, started from
that binary with a configuration file of its own (``/run/netsim/<base>.daemon.json``):
``"features": {"containerd-snapshotter": false}`` (the graph drivers the rules were
confirmed on; the containerd image store would need a snapshotter this machine's
containerd may lack), the given OCI runtime registered under the name ``netsim-runc`` and
made the default (a name moby does not reserve: ``runc`` and ``io.containerd.runc.v2`` are
its own, daemon/config), and ``userland-proxy-path`` set to the docker-proxy built with it
(by default the file ``docker-proxy`` beside the dockerd binary).  docs/engines-from-source.md.

A daemon from ``dockerd`` on PATH (a further host of a multi-host design) gets a configuration
file too when its host states IPv6 daemon options (``ipv6``, ``fixed-cidr-v6``, ``ip6tables``,
``experimental``): :attr:`DaemonSpec.configured`.  Its LAN interface carries the host's
``lan_address6`` as well (``nodad``), and no namespace accepts router advertisements.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import signal
import subprocess
import time
from dataclasses import asdict, dataclass
from ipaddress import IPv4Interface, IPv6Interface
from pathlib import Path

from ..errors import EngineError, EngineUnavailable, UsageError

RUN_DIR = Path("/run/netsim")
DATA_DIR = Path("/var/lib/netsim")
CGROUP_ROOT = Path("/sys/fs/cgroup")
START_TIMEOUT = 60.0
STOP_TIMEOUT = 30.0
RUNTIME_NAME = "netsim-runc"  # not one of the names moby reserves (runc, io.containerd.runc.v2)


@dataclass(frozen=True, slots=True)
class EngineBinaries:
    """A Docker engine built outside the distribution: its dockerd, the OCI runtime it should
    run containers with (None: the daemon's default ``runc`` from PATH) and its docker-proxy
    (None: ``docker-proxy`` beside the dockerd binary)."""

    dockerd: str
    runtime: str | None = None
    proxy: str | None = None

    @property
    def proxy_path(self) -> str:
        return self.proxy or str(Path(self.dockerd).with_name("docker-proxy"))

    def problems(self) -> list[str]:
        """What is wrong with the files (missing, not executable); empty when they can run."""
        out = []
        for what, path in (("--dockerd", self.dockerd), ("--runtime", self.runtime),
                           ("--docker-proxy", self.proxy_path)):
            if path is None:
                continue
            if not os.path.isfile(path):
                extra = " (by default docker-proxy beside the dockerd binary)" if what == "--docker-proxy" else ""
                out.append(f"{what} {path}: no such file{extra}")
            elif not os.access(path, os.X_OK):
                out.append(f"{what} {path}: not executable")
        return out

    def daemon_config(self) -> dict:
        """The daemon.json of a daemon started from these binaries."""
        config: dict = {"features": {"containerd-snapshotter": False},
                        "userland-proxy-path": str(Path(self.proxy_path).resolve())}
        if self.runtime is not None:
            config["runtimes"] = {RUNTIME_NAME: {"path": str(Path(self.runtime).resolve())}}
            config["default-runtime"] = RUNTIME_NAME
        return config


def engine_binaries(dockerd: str | None, runtime: str | None = None, proxy: str | None = None) -> EngineBinaries | None:
    """The binaries of an engine built from source, checked; None without ``dockerd``.

    Raises UsageError naming every file that is missing or not executable."""
    if dockerd is None:
        if runtime is not None or proxy is not None:
            raise UsageError("--runtime and --docker-proxy go with --dockerd (an engine built from source)")
        return None
    found = EngineBinaries(str(Path(dockerd).absolute()), str(Path(runtime).absolute()) if runtime else None,
                           str(Path(proxy).absolute()) if proxy else None)
    problems = found.problems()
    if problems:
        raise UsageError("; ".join(problems))
    return found


LOCAL_DOCKERD = ("/usr/sbin/dockerd", "/usr/bin/dockerd")


def local_dockerd() -> EngineBinaries | None:
    """This machine's own dockerd (from PATH, else the distribution's path) as binaries whose
    problems are none, or None when there is no usable one."""
    for path in (shutil.which("dockerd"), *LOCAL_DOCKERD):
        if path and os.path.isfile(path) and os.access(path, os.X_OK):
            found = EngineBinaries(str(Path(path).resolve()))
            if not found.problems():
                return found
    return None


@dataclass(frozen=True, slots=True)
class DaemonSpec:
    """Everything about one extra daemon: where it lives and how it joins the LAN."""

    design: str
    host: str  # the design host it stands for
    base: str  # file-name stem shared by its socket, pidfile, record, roots
    namespace: str  # its network namespace (/run/netns/<namespace>)
    lan_if: str  # its LAN interface inside the namespace (the design's name, e.g. eth0)
    switch_if: str  # the other end of that veth, on the LAN bridge
    lan_address: IPv4Interface
    binaries: EngineBinaries | None = None  # an engine built from source; None: dockerd from PATH
    settings: str = "{}"  # the design host's daemon options as daemon.json keys (JSON text; without binaries: IPv6 ones)
    forwarding_preset: bool = False  # net.ipv4.ip_forward is 1 before dockerd starts (the host already routed)
    lan_address6: IPv6Interface | None = None  # the host's IPv6 LAN address (lan_address6), if it has one

    @property
    def configured(self) -> bool:
        """Whether dockerd gets a configuration file (an engine from source, or daemon options to pass)."""
        return self.binaries is not None or self.settings != "{}"

    def daemon_config(self) -> dict:
        """The daemon.json: what the binaries need (an engine from source), and the host's options."""
        return (self.binaries.daemon_config() if self.binaries is not None else {}) | json.loads(self.settings)

    @property
    def socket(self) -> str:
        return str(RUN_DIR / f"{self.base}.sock")

    @property
    def url(self) -> str:
        return f"unix://{self.socket}"

    @property
    def pidfile(self) -> str:
        return str(RUN_DIR / f"{self.base}.pid")

    @property
    def record(self) -> str:
        return str(RUN_DIR / f"{self.base}.json")

    @property
    def log(self) -> str:
        return str(RUN_DIR / f"{self.base}.log")

    @property
    def exec_root(self) -> str:
        return str(RUN_DIR / f"{self.base}.d")

    @property
    def data_root(self) -> str:
        return str(DATA_DIR / self.base)

    @property
    def cgroup_parent(self) -> str:
        return f"/netsim-{self.base}"

    @property
    def config_file(self) -> str:
        return str(RUN_DIR / f"{self.base}.daemon.json")

    def argv(self) -> list[str]:
        """The dockerd command line, entered into the host's namespace."""
        dockerd = self.binaries.dockerd if self.binaries is not None else "dockerd"
        config = ["--config-file", self.config_file] if self.configured else []
        return [
            "nsenter", f"--net=/run/netns/{self.namespace}", dockerd, *config,
            "--data-root", self.data_root, "--exec-root", self.exec_root, "--pidfile", self.pidfile,
            "-H", self.url,
            "--containerd-namespace", f"netsim-{self.base}",
            "--containerd-plugins-namespace", f"netsim-{self.base}-plugins",
            "--cgroup-parent", self.cgroup_parent,
            "--dns", "127.0.0.1",  # never the machine's resolver, also for containers netsim did not make
        ]


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", text).strip("-") or "x"


def daemon_spec(design: str, host: str, index: int, lan_if: str, lan_address: IPv4Interface,
                binaries: EngineBinaries | None = None, settings: dict | None = None,
                forwarding_preset: bool = False, lan_address6: IPv6Interface | None = None) -> DaemonSpec:
    """The names for the ``index``-th extra host of a design (pure; index from 1)."""
    base = f"{_slug(design)}-{_slug(host)}"
    if len(base) > 40:  # keeps containerd's socket paths under the unix limit
        base = f"{base[:31]}-{hashlib.sha1(f'{design}/{host}'.encode()).hexdigest()[:8]}"
    return DaemonSpec(design, host, base, f"netsim-host-{base}", lan_if, f"lanh{index}", lan_address, binaries,
                      json.dumps(settings or {}, sort_keys=True), forwarding_preset, lan_address6)


# -- what the machine can do -------------------------------------------------------------

def unavailable_reason(binaries: EngineBinaries | None = None) -> str | None:
    """Why extra daemons (from ``binaries``, else dockerd from PATH) can't run here (None when they can)."""
    if os.geteuid() != 0:
        return "extra Docker daemons need root"
    for tool in ("nsenter", "ip", "containerd") if binaries is not None else ("dockerd", "nsenter", "ip"):
        if shutil.which(tool) is None:
            return f"extra Docker daemons need {tool}"
    if binaries is not None and binaries.problems():
        return "; ".join(binaries.problems())
    return None


def _run(argv: list[str], check: bool = True, timeout: float = 30) -> subprocess.CompletedProcess:
    proc = subprocess.run(argv, capture_output=True, text=True, timeout=timeout)
    if check and proc.returncode != 0:
        raise EngineError(f"{' '.join(argv)} failed: {proc.stderr.strip() or proc.stdout.strip()}")
    return proc


def _in_ns(spec: DaemonSpec, argv: list[str], check: bool = True) -> subprocess.CompletedProcess:
    return _run(["nsenter", f"--net=/run/netns/{spec.namespace}", *argv], check=check)


# -- start -------------------------------------------------------------------------------

def start(spec: DaemonSpec, lan_namespace: str, lan_bridge: str):
    """Create the host's namespace, join it to the LAN bridge, start its dockerd; its Engine.

    Raises EngineError (with the end of the daemon's log) when dockerd does not come up;
    whatever was created is then still recorded, and :func:`stop` removes it."""
    from .docker_engine import DockerEngine

    RUN_DIR.mkdir(parents=True, exist_ok=True)
    Path(spec.record).write_text(json.dumps(_record(spec), indent=1))
    _run(["ip", "netns", "add", spec.namespace])
    _in_ns(spec, ["ip", "link", "set", "lo", "up"])
    for key in ("all", "default"):  # no router advertisement may ever give the namespace a default route
        _in_ns(spec, ["sysctl", "-qw", f"net.ipv6.conf.{key}.accept_ra=0"])
    # a fresh host: dockerd turns forwarding on (and sets the FORWARD policy to DROP), unless the host already routed
    _in_ns(spec, ["sysctl", "-qw", f"net.ipv4.ip_forward={1 if spec.forwarding_preset else 0}"])
    _run(["ip", "-n", lan_namespace, "link", "add", spec.switch_if, "type", "veth",
          "peer", "name", spec.lan_if, "netns", spec.namespace])
    _run(["ip", "-n", lan_namespace, "link", "set", spec.switch_if, "master", lan_bridge, "up"])
    _in_ns(spec, ["ip", "addr", "add", str(spec.lan_address), "dev", spec.lan_if])
    if spec.lan_address6 is not None:  # nodad: usable at once (no duplicate detection on a LAN netsim made)
        _in_ns(spec, ["ip", "addr", "add", str(spec.lan_address6), "dev", spec.lan_if, "nodad"])
    _in_ns(spec, ["ip", "link", "set", spec.lan_if, "up"])

    Path(spec.data_root).mkdir(parents=True, exist_ok=True)
    if spec.configured:
        Path(spec.config_file).write_text(json.dumps(spec.daemon_config(), indent=1, sort_keys=True))
    with open(spec.log, "ab") as log:
        proc = subprocess.Popen(spec.argv(), stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                start_new_session=True, close_fds=True)  # Ctrl-C reaches netsim, not dockerd
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise EngineError(f"dockerd for host {spec.host} exited ({proc.returncode}) during start:\n"
                              + log_tail(spec))
        engine = _connect(spec, DockerEngine)
        if engine is not None:
            return engine
        time.sleep(0.2)
    raise EngineError(f"dockerd for host {spec.host} did not answer on {spec.socket} within "
                      f"{START_TIMEOUT:.0f}s:\n" + log_tail(spec))


def _record(spec: DaemonSpec) -> dict:
    data = asdict(spec)
    data["lan_address"] = str(spec.lan_address)
    data["lan_address6"] = str(spec.lan_address6) if spec.lan_address6 is not None else None
    return data


def _from_record(data: dict) -> DaemonSpec:
    data = dict(data, lan_address=IPv4Interface(data["lan_address"]),
                lan_address6=IPv6Interface(data["lan_address6"]) if data.get("lan_address6") else None)
    if data.get("binaries") is not None:
        data["binaries"] = EngineBinaries(**data["binaries"])
    return DaemonSpec(**data)


def log_tail(spec: DaemonSpec, lines: int = 15) -> str:
    try:
        text = Path(spec.log).read_text(errors="replace").splitlines()
    except OSError:
        return "(no daemon log)"
    return "\n".join("  " + line for line in text[-lines:])


def copy_image(source, target, name: str) -> tuple[str, ...]:
    """Copy image ``name`` from engine ``source`` (this machine's) into ``target`` (a daemon
    netsim started) as ``docker save | docker load`` does, unless it is there already; notes."""
    import docker

    try:
        target.api.inspect_image(name)
        return ()
    except docker.errors.ImageNotFound:
        pass
    except docker.errors.DockerException as exc:
        raise EngineError(f"inspecting {name} on a started daemon failed: {exc}") from exc
    try:
        data = b"".join(source.api.get_image(name))
        target.api.load_image(data)
    except docker.errors.DockerException as exc:
        raise EngineUnavailable(f"copying the probe image {name} from this machine's engine failed: {exc}") from exc
    return (f"copied probe image {name} from this machine's engine",)


# -- find / connect ------------------------------------------------------------------------

def discover(design: str) -> list[DaemonSpec]:
    """Every extra daemon recorded for the design (running or not), in host order."""
    found = []
    for path in sorted(RUN_DIR.glob("*.json")) if RUN_DIR.is_dir() else ():
        try:
            if path.name.endswith(".daemon.json"):
                continue  # a daemon's configuration file, not its record
            data = json.loads(path.read_text())
            if data.get("design") != design:
                continue
            found.append(_from_record(data))
        except (OSError, ValueError, TypeError, KeyError):
            continue
    return sorted(found, key=lambda s: s.switch_if)


def connect(spec: DaemonSpec):
    """The Engine of a running extra daemon, or None."""
    from .docker_engine import DockerEngine

    return _connect(spec, DockerEngine)


def _connect(spec: DaemonSpec, engine_cls):
    if not os.path.exists(spec.socket):
        return None
    import docker

    try:
        client = docker.DockerClient(base_url=spec.url, timeout=120, max_pool_size=64)
        return engine_cls(client)
    except (EngineUnavailable, docker.errors.DockerException, OSError):
        return None


# -- stop ----------------------------------------------------------------------------------

def _pid(spec: DaemonSpec) -> int | None:
    try:
        return int(Path(spec.pidfile).read_text().strip())
    except (OSError, ValueError):
        return None


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:  # a zombie (our own child) counts as gone
        return Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0] != "Z"
    except OSError:
        return False


def _processes_of(spec: DaemonSpec) -> list[int]:
    """dockerd, its containerd, shims and container processes: by command line and cgroup."""
    marks = (spec.exec_root, spec.socket, spec.cgroup_parent + "/")
    pids = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            cgroups = (entry / "cgroup").read_text()
        except OSError:
            continue
        if any(m in cmdline for m in marks[:2]) or f":{spec.cgroup_parent}/" in cgroups:
            pids.append(int(entry.name))
    return [p for p in pids if p != os.getpid()]


def stop(spec: DaemonSpec) -> list[str]:
    """Stop the daemon (SIGTERM, then SIGKILL of everything it left), unmount and remove its
    roots, cgroups, socket, pidfile, log, record and namespace; what was removed."""
    removed: list[str] = []
    pid = _pid(spec)
    if pid is not None and _alive(pid):
        os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + STOP_TIMEOUT
        while time.monotonic() < deadline and _alive(pid):
            time.sleep(0.1)
        removed.append(f"dockerd of host {spec.host} (pid {pid})")
    leftover = [p for p in _processes_of(spec) if _alive(p)]
    for p in leftover:
        try:
            os.kill(p, signal.SIGKILL)
        except ProcessLookupError:
            pass
    if leftover:
        removed.append(f"{len(leftover)} process(es) of host {spec.host}'s daemon (killed)")
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and any(_alive(p) for p in leftover):
            time.sleep(0.1)
    for mount in _mounts_under((spec.data_root, spec.exec_root)):
        _run(["umount", "-l", mount], check=False)
    for path in (spec.data_root, spec.exec_root):
        if os.path.exists(path):
            shutil.rmtree(path, ignore_errors=True)
            removed.append(f"{'data' if path == spec.data_root else 'exec'} root {path}")
    removed += _remove_cgroups(spec)
    if os.path.exists(f"/run/netns/{spec.namespace}"):
        _run(["ip", "netns", "del", spec.namespace], check=False)
        removed.append(f"namespace {spec.namespace}")
    for path in (spec.socket, spec.pidfile, spec.log, spec.config_file, spec.record):
        try:
            os.unlink(path)
        except FileNotFoundError:
            pass
    for parent in (DATA_DIR, RUN_DIR):  # netsim's own directories go with their last daemon
        try:
            parent.rmdir()
        except OSError:
            pass
    return removed


def _mounts_under(prefixes: tuple[str, ...]) -> list[str]:
    out: list[str] = []
    try:
        lines = Path("/proc/self/mountinfo").read_text().splitlines()
    except OSError:
        return out
    for line in lines:
        point = line.split()[4].replace("\\040", " ")
        if any(point == p or point.startswith(p.rstrip("/") + "/") for p in prefixes):
            out.append(point)
    return sorted(set(out), key=len, reverse=True)  # deepest first


def _remove_cgroups(spec: DaemonSpec) -> list[str]:
    name = spec.cgroup_parent.lstrip("/")
    found = [d for d in CGROUP_ROOT.glob(f"*/{name}") if d.is_dir()] if CGROUP_ROOT.is_dir() else []
    if (CGROUP_ROOT / name).is_dir():  # cgroup v2
        found.append(CGROUP_ROOT / name)
    for top in found:
        for d in sorted((p for p in top.rglob("*") if p.is_dir()), key=lambda p: len(p.parts), reverse=True):
            try:
                d.rmdir()
            except OSError:
                pass
        try:
            top.rmdir()
        except OSError:
            pass
    return [f"cgroups {spec.cgroup_parent}"] if found else []


def leftovers(design: str) -> list[str]:
    """What remains of a design's extra daemons (for tests and `destroy` reports)."""
    out = []
    for spec in discover(design):
        out.append(f"daemon record {spec.record}")
    if RUN_DIR.is_dir():
        stem = f"{_slug(design)}-"
        for path in RUN_DIR.iterdir():
            if path.name.startswith(stem) and (path.name.endswith(".daemon.json") or not path.name.endswith(".json")):
                out.append(f"{path}")
    if DATA_DIR.is_dir():
        out += [str(p) for p in DATA_DIR.iterdir() if p.name.startswith(f"{_slug(design)}-")]
    if os.path.isdir("/run/netns"):
        out += [f"netns {n}" for n in os.listdir("/run/netns") if n.startswith(f"netsim-host-{_slug(design)}-")]
    if CGROUP_ROOT.is_dir():
        out += [str(p) for p in CGROUP_ROOT.glob(f"*/netsim-{_slug(design)}-*")]
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            except OSError:
                continue
            if cmdline.startswith(("dockerd ", "containerd ")) and f"{RUN_DIR}/{_slug(design)}-" in cmdline:
                out.append(f"process {entry.name}: {cmdline[:80]}")
    return sorted(set(out))
