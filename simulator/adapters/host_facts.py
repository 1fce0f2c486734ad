"""Read the machine a local engine runs on: its LAN interface and the daemon's options.

Read-only and plain data (a dict that :mod:`simulator.live.snapshot` records and the
importer maps without I/O).  Each fact says where it was read; what cannot be read
reliably is left out, so the import can say it was assumed.

* LAN: the interface holding the IPv4 default route (``ip -j -4 route show default``) and
  its IPv4 addresses (``ip -j -4 addr show dev``).
* Forwarding: ``/proc/sys/net/ipv4/ip_forward`` and ``conf/all/forwarding`` (now; whether
  forwarding was on before dockerd started is not readable afterwards).
* The daemon: ``docker info`` (IPv4Forwarding, DefaultAddressPools when the engine
  reports them), the dockerd command line (``/proc/<pid>/cmdline`` of the pid in
  ``/var/run/docker.pid``) and its configuration file (``--config-file``, default
  ``/etc/docker/daemon.json``).  dockerd refuses to start when a flag is set both on the
  command line and in the file, so the two never disagree; an option set in neither is
  the daemon's default (dockerd's ``config.go``).

The machine is only read when the engine is this machine (no ``DOCKER_HOST`` to a remote
daemon, and ``docker info``'s Name is this host name); otherwise nothing is returned and
the import says the host was not read.
"""

from __future__ import annotations

import json
import os
import shlex
import socket
import subprocess
from pathlib import Path

from ..errors import EngineError

PIDFILE = Path("/var/run/docker.pid")
DAEMON_JSON = Path("/etc/docker/daemon.json")
# dockerd option -> daemon.json key (the same spelling for these)
OPTIONS = ("userland-proxy", "iptables", "ip6tables", "ip-forward", "ip-masq", "icc", "bip",
           "default-address-pools", "allow-direct-routing")
BOOLEAN = {"userland-proxy", "iptables", "ip6tables", "ip-forward", "ip-masq", "icc", "allow-direct-routing"}


def _ip_json(*argv: str) -> list:
    try:
        proc = subprocess.run(["ip", "-j", *argv], capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.TimeoutExpired):
        return []
    try:
        return json.loads(proc.stdout or "[]") if proc.returncode == 0 else []
    except ValueError:
        return []


def read_lan() -> dict:
    """The interface of the IPv4 default route and its IPv4 addresses (prefix form)."""
    routes = _ip_json("-4", "route", "show", "default")
    if not routes or not routes[0].get("dev"):
        return {}
    dev = routes[0]["dev"]
    addrs = []
    for link in _ip_json("-4", "addr", "show", "dev", dev):
        for a in link.get("addr_info") or []:
            if a.get("family") == "inet" and a.get("local"):
                addrs.append(f"{a['local']}/{a.get('prefixlen', 32)}")
    return {"interface": dev, "addresses": addrs, "source": "ip route show default; ip addr show dev " + dev}


def read_forwarding(proc: Path = Path("/proc")) -> dict:
    out = {}
    for key, rel in (("ip_forward", "sys/net/ipv4/ip_forward"), ("all_forwarding", "sys/net/ipv4/conf/all/forwarding")):
        try:
            out[key] = (proc / rel).read_text().strip()
        except OSError:
            continue
    return out


def _flag_value(argv: list[str], option: str) -> str | None:
    """The value of ``--option`` / ``--option=value`` on a dockerd command line."""
    found = None
    for i, arg in enumerate(argv):
        if arg == f"--{option}":
            if option in BOOLEAN:
                found = "true"  # a bare boolean flag
            elif i + 1 < len(argv):
                found = argv[i + 1]
        elif arg.startswith(f"--{option}="):
            found = arg.split("=", 1)[1]
    return found


def read_daemon(info: dict, proc: Path = Path("/proc")) -> dict:
    """option -> {"value": ..., "source": ...} for every option that could be read."""
    out: dict[str, dict] = {}
    argv: list[str] = []
    try:
        pid = int(PIDFILE.read_text().strip())
        raw = (proc / str(pid) / "cmdline").read_bytes()
        argv = [a.decode(errors="replace") for a in raw.split(b"\0") if a]
    except (OSError, ValueError):
        argv = []
    if not argv or not os.path.basename(argv[0]).startswith("dockerd"):
        return out  # the daemon's command line is not readable: nothing about its options is claimed
    config_file = Path(_flag_value(argv, "config-file") or DAEMON_JSON)
    config: dict = {}
    config_read = False
    try:
        config = json.loads(config_file.read_text())
        config_read = isinstance(config, dict)
        config = config if config_read else {}
    except FileNotFoundError:
        config_read = True  # no file: nothing set there
    except (OSError, ValueError):
        config_read = False
    cmdline = "dockerd command line (" + " ".join(shlex.quote(a) for a in argv[:12]) + ")"
    for option in OPTIONS:
        flag = _flag_value(argv, option)
        if flag is not None:
            out[option] = {"value": flag, "source": cmdline}
        elif option in config:
            out[option] = {"value": config[option], "source": str(config_file)}
        elif config_read:
            out[option] = {"value": None, "source": f"dockerd's default: set neither on its command line nor in {config_file}"}
    if info.get("DefaultAddressPools"):
        out["default-address-pools"] = {"value": info["DefaultAddressPools"], "source": "docker info"}
    return out


def is_local(info: dict) -> bool:
    """Is the engine this machine (its facts are this machine's)?"""
    host = os.environ.get("DOCKER_HOST", "")
    if host and not host.startswith("unix://"):
        return False
    return bool(info) and info.get("Name") == socket.gethostname()


def read_host_facts(engine) -> dict:
    """What the engine's machine shows (see the module doc); ``{}`` for a remote engine."""
    reader = getattr(engine, "info", None)
    try:
        info = reader() if reader is not None else {}
    except EngineError as exc:
        return {"unread": f"docker info failed: {exc}"}
    if not is_local(info):
        return {"unread": "the engine is not this machine (DOCKER_HOST or another host name): its host is not read"}
    facts: dict = {"lan": read_lan(), "forwarding": read_forwarding(), "daemon": read_daemon(info)}
    if "IPv4Forwarding" in info:
        facts["engine_ipv4_forwarding"] = bool(info["IPv4Forwarding"])
    return facts
