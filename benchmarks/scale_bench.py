"""Benchmark: every command on generated designs of 1,000 to 10,000 containers (issue 12).

The designs are irregular, as real ones are: services of replicas of varied sizes (a few large,
many small) plus odd singletons (host mode, no network, the default bridge, another container's
namespace, a static address); each container on one or two user-defined networks, listening on
one or two ports, about 30 % publishing a port; bridges on one to a few hosts, some overlays
across hosts, some internal networks and some with ICC off, subnets written or taken from the
daemon's pool.

    python benchmarks/scale_bench.py [--sizes 1k,3k,10k] [--commands check,trace] [--rounds 3] [--timeout 120]
    python benchmarks/scale_bench.py --write design.yaml [--sizes 10k] [--seed 1]

Each command runs as a whole process (``python -m simulator.cli``-style, as a user runs it, with
netsim's bytecode compiled beforehand as an installed copy has it: :func:`compiled_env`) with a
timeout, so a slow command is reported as ``timeout``, not waited for. The table gives each command's
wall-clock seconds and peak memory (the child's maximum resident set, from ``wait4``) per size, and
its growth factor from the first size to the last; the CPU seconds (user + system) beside the
wall clock say more on a busy machine. Each command runs ``--rounds`` times per size (its sizes
back to back within a round) and the table gives medians, the growth being the median of the
rounds' ratios: on a shared VM the same code's speed drifts by half within minutes. A reference
workload is timed before and after (:func:`reference_seconds`): runs of different days compare
only at a like reference. ``generate(containers, networks, hosts, seed)``
is importable and returns the design as plain data.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, replace
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

#: size name -> (containers, networks, hosts)
SIZES: dict[str, tuple[int, int, int]] = {
    "1k": (1_000, 50, 10),
    "3k": (3_000, 150, 30),
    "10k": (10_000, 500, 100),
}
BENCH_KEY = "x-scale-bench"  # extension key (ignored by netsim) naming the pair `trace` is timed on
PORTS = (80, 443, 8080, 8443, 3000, 5000, 5432, 6379, 9000, 9090, 9200, 11211, 27017)
ROLES = ("web", "api", "auth", "cart", "db", "cache", "queue", "search", "worker", "metrics", "mail", "cron")


# ----------------------------------------------------------------------------------------------
# The design
# ----------------------------------------------------------------------------------------------

def generate(containers: int, networks: int, hosts: int, seed: int = 1) -> dict:
    """A netsim design of exactly ``containers`` containers on ``networks`` user-defined networks
    and ``hosts`` hosts, as plain data (``yaml.safe_dump`` writes it). Same arguments, same design."""
    if containers < 1 or networks < 1 or hosts < 1:
        raise ValueError("containers, networks and hosts must each be at least 1")
    if hosts > 250 or networks > 4000:
        raise ValueError("at most 250 hosts and 4,000 networks")
    rng = random.Random(seed)
    host_names = [f"node{h:03d}" for h in range(hosts)]
    design: dict = {"name": f"scale-{containers}c-{networks}n-{hosts}h", "engine_version": "20.10", "hosts": {}}
    for h, name in enumerate(host_names):
        design["hosts"][name] = {
            "lan": {"interface": "eth0", "address": f"192.168.{h // 200}.{10 + h % 200}/16"},
            "daemon": {"default_address_pools": [{"base": "10.128.0.0/9", "size": 21}]},
        }

    net_hosts, net_spec = _networks(rng, networks, host_names)
    design["networks"] = net_spec
    on_host: dict[str, list[str]] = {h: [] for h in host_names}
    for net, hs in net_hosts.items():
        for h in hs:
            on_host[h].append(net)

    ctrs: dict[str, dict] = {}
    state = _State(rng=rng, net_hosts=net_hosts, net_spec=net_spec, on_host=on_host, hosts=host_names)
    k = 0
    while len(ctrs) < containers:
        left = containers - len(ctrs)
        if k % 4 == 3:  # one service in four is an odd singleton (host mode, none, ...)
            _odd_singleton(state, ctrs, k)
        else:
            _service(state, ctrs, k, min(left, _replicas(rng, containers)))
        k += 1
    design["containers"] = ctrs
    design[BENCH_KEY] = {"trace": list(state.trace_pair or _any_pair(ctrs))}
    return design


@dataclass
class _State:
    rng: random.Random
    net_hosts: dict[str, list[str]]
    net_spec: dict[str, dict]
    on_host: dict[str, list[str]]
    hosts: list[str]
    host_port: int = 20_000  # next fixed host port for a singleton's publication (distinct design-wide)
    host_mode_port: int = 7_000  # next port a host-mode container listens on (never published)
    trace_pair: tuple[str, str] | None = None


def _networks(rng: random.Random, networks: int, hosts: list[str]) -> tuple[dict[str, list[str]], dict[str, dict]]:
    """Network -> the hosts it exists on, and the networks' design entries."""
    net_hosts: dict[str, list[str]] = {}
    spec: dict[str, dict] = {}
    overlays = networks // 10 if len(hosts) > 1 else 0
    for i in range(networks):
        name = f"net{i:03d}"
        entry: dict = {}
        if i < overlays:  # overlay across 2..20 hosts, written subnet in 10.64.0.0/10 (/20 each)
            span = rng.sample(hosts, min(len(hosts), rng.randint(2, 20)))
            entry = {"driver": "overlay", "attachable": True, "hosts": sorted(span),
                     "subnet": f"10.{64 + (i * 16) // 256}.{(i * 16) % 256}.0/20"}
            net_hosts[name] = sorted(span)
        else:
            span = [rng.choice(hosts)] if rng.random() < 0.75 or len(hosts) == 1 else rng.sample(hosts, min(len(hosts), rng.randint(2, 4)))
            entry["hosts"] = sorted(span)
            if i % 3 != 2:  # two in three written (10.0.0.0/11, /21 each), the others from the host's pool
                entry["subnet"] = f"10.{(i * 8) // 256}.{(i * 8) % 256}.0/21"
                if i % 5 == 0:  # dynamic addresses in the lower half: statics go in the upper half
                    entry["ip_range"] = f"10.{(i * 8) // 256}.{(i * 8) % 256}.0/22"
            if i % 11 == 4:
                entry["internal"] = True
            if i % 13 == 6:
                entry["icc"] = False
            net_hosts[name] = sorted(span)
        spec[name] = entry
    return net_hosts, spec


def _replicas(rng: random.Random, containers: int) -> int:
    """A service's replica count: many singletons and small services, a few large ones."""
    r = rng.random()
    if r < 0.35:
        return 1
    if r < 0.75:
        return rng.randint(2, 5)
    if r < 0.95:
        return rng.randint(6, 30)
    return rng.randint(31, max(31, min(200, containers // 25)))


def _service(s: _State, ctrs: dict[str, dict], k: int, replicas: int) -> None:
    rng = s.rng
    first = rng.choice(list(s.net_hosts))
    span = s.net_hosts[first]
    svc_hosts = rng.sample(span, min(len(span), rng.randint(1, 3)))
    nets = [first]
    if rng.random() < 0.4:  # a second network on every host the service runs on
        candidates = [n for n in s.on_host[svc_hosts[0]] if n != first and set(svc_hosts) <= set(s.net_hosts[n])]
        if candidates:
            nets.append(rng.choice(candidates))
    ports = rng.sample(PORTS, rng.choice((1, 1, 2)))
    publish = rng.random() < 0.3
    ephemeral = rng.random() < 0.5
    role = ROLES[k % len(ROLES)]
    alias = rng.random() < 0.2
    for r in range(replicas):
        name = f"{role}{k:04d}" if replicas == 1 else f"{role}{k:04d}-{r + 1}"
        entry: dict = {"host": svc_hosts[r % len(svc_hosts)]}
        if alias:
            entry["networks"] = {nets[0]: {"aliases": [f"{role}{k:04d}.svc"]}, **{n: None for n in nets[1:]}}
        else:
            entry["networks"] = list(nets)
        entry["listens"] = list(ports)
        if publish:
            if replicas == 1:
                entry["ports"] = [f"{s.host_port}:{ports[0]}"]
                s.host_port += 1
            elif ephemeral:
                entry["ports"] = [str(ports[0])]  # an ephemeral host port (netsim warns: not predictable)
            else:
                entry["ports"] = [f"{s.host_port}:{ports[0]}"]  # a host port of its own
                s.host_port += 1
        ctrs[name] = entry
    if s.trace_pair is None and replicas >= 2 and len(ctrs) > 20:
        names = list(ctrs)[-replicas:]
        s.trace_pair = (names[0], f"{names[1]}:{ports[0]}")


def _odd_singleton(s: _State, ctrs: dict[str, dict], k: int) -> None:
    """One container unlike the others."""
    rng = s.rng
    kind = k // 4 % 5
    host = rng.choice(s.hosts)
    name = f"odd{k:04d}"
    if kind == 0:  # host network: listens on the host's own ports
        ctrs[name] = {"host": host, "network_mode": "host", "listens": [s.host_mode_port]}
        s.host_mode_port += 1
    elif kind == 1:
        ctrs[name] = {"host": host, "network_mode": "none"}
    elif kind == 2:  # the default bridge, publishing a port
        ctrs[name] = {"host": host, "listens": [8080], "ports": [f"{s.host_port}:8080"]}
        s.host_port += 1
    elif kind == 3:  # another container's namespace (a sidecar): same host
        owner = next((n for n in reversed(ctrs) if "network_mode" not in ctrs[n]), None)
        if owner is None:
            ctrs[name] = {"host": host, "network_mode": "none"}
        else:
            ctrs[name] = {"host": ctrs[owner]["host"], "network_mode": f"container:{owner}"}
    else:  # a static address in the upper half of a network whose dynamic range is the lower half
        fixed = [n for n, e in s.net_spec.items() if "ip_range" in e and host in s.net_hosts[n]]
        if not fixed:
            ctrs[name] = {"host": host, "network_mode": "none"}
            return
        net = rng.choice(fixed)
        a, b = s.net_spec[net]["subnet"].split(".")[1:3]
        taken = {e["networks"][net]["ipv4_address"] for e in ctrs.values()
                 if isinstance(e.get("networks"), dict) and e.get("host") == host and isinstance(e["networks"].get(net), dict)
                 and "ipv4_address" in e["networks"][net]}
        for _ in range(20):
            addr = f"10.{a}.{int(b) + 4 + rng.randrange(4)}.{rng.randint(1, 254)}"
            if addr not in taken:
                break
        ctrs[name] = {"host": host, "networks": {net: {"ipv4_address": addr}}, "listens": [22]}


def _any_pair(ctrs: dict[str, dict]) -> tuple[str, str]:
    names = list(ctrs)
    return names[0], names[-1]


def write(design: dict, path: Path) -> None:
    """Write a generated design as YAML (the C emitter when PyYAML has it)."""
    import yaml

    dumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
    text = yaml.dump(design, Dumper=dumper, sort_keys=False, default_flow_style=None, width=200)
    path.write_text(f"# generated by benchmarks/scale_bench.py\n{text}", encoding="utf-8")


# ----------------------------------------------------------------------------------------------
# The runs
# ----------------------------------------------------------------------------------------------

#: command name -> arguments after `netsim` ({d}: the design, {o}: an output file, {src}/{dst}: the trace pair)
COMMANDS: dict[str, list[str]] = {
    "check": ["check", "-q", "{d}"],
    "addresses": ["addresses", "{d}"],
    "rules": ["rules", "{d}"],
    "trace": ["trace", "{d}", "{src}", "{dst}"],
    "reach": ["reach", "{d}"],
    "reach-by-class": ["reach", "{d}", "--by", "class"],
    "reach-outcomes-json": ["reach", "{d}", "--by", "outcome", "--format", "json"],
    "reach-json": ["reach", "{d}", "--format", "json"],
    "exposure": ["exposure", "{d}"],
    "audit": ["audit", "{d}", "--fail-on", "never"],  # findings are the answer, not a failure
    "diagram": ["diagram", "{d}", "-o", "{o}.svg"],
    "report": ["report", "{d}", "-o", "{o}.html"],
}


@dataclass(frozen=True)
class Run:
    """One command on one size: wall-clock seconds, peak resident memory (MB), outcome, bytes printed,
    CPU seconds (user + system: on a busy machine they say more than the wall clock)."""
    command: str
    size: str
    seconds: float
    peak_mb: float
    outcome: str  # "ok", "exit N", "timeout", "n/a" (the command has no such option)
    output_bytes: int
    cpu: float = 0.0
    round: int = 0  # which round of --rounds it ran in


def _netsim(args: list[str]) -> list[str]:
    return [sys.executable, "-c", "from simulator.cli import main; main()", *args]


def has_by_class() -> bool:
    """Whether `netsim reach` has `--by` (the class-level matrix)."""
    done = subprocess.run(_netsim(["reach", "--help"]), cwd=ROOT, capture_output=True, text=True, check=False,
                          env={**os.environ, "COLUMNS": "200"})
    return "--by" in done.stdout


def run_one(command: str, size: str, design: Path, pair: tuple[str, str], out_dir: Path, timeout: float,
            env: dict[str, str] | None = None) -> Run:
    """Run one command as a whole process; its output goes to a file (its size is recorded, then it is removed)."""
    args = [a.format(d=design, o=out_dir / f"{command}-{size}", src=pair[0], dst=pair[1]) for a in COMMANDS[command]]
    sink = out_dir / f"{command}-{size}.out"
    seconds, code, peak_mb, cpu = run_netsim(args, sink, timeout, env)
    size_bytes = sink.stat().st_size
    for leftover in out_dir.glob(f"{command}-{size}*"):
        leftover.unlink()
    outcome = "timeout" if code is None else ("ok" if code == 0 else f"exit {code}")
    return Run(command, size, seconds, peak_mb, outcome, size_bytes, cpu)


def compiled_env(cache: Path) -> dict[str, str]:
    """The environment of timed runs: netsim's bytecode compiled once, before the first run, into
    ``cache``, as an installed netsim has it. With PYTHONDONTWRITEBYTECODE set (some shells and CI
    images set it) each run would compile every module it imports again: 0.15-0.2 s of every
    command on this machine, which no user pays. The runs read bytecode from ``cache`` only, the
    standard library's too: a first, untimed run of each command (:func:`_warm_up`) fills it."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env["PYTHONPYCACHEPREFIX"] = str(cache)
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(ROOT / "simulator")], env=env, check=True,
                   capture_output=True)
    return env


def run_netsim(args: list[str], sink: Path, timeout: float,
               env: dict[str, str] | None = None) -> tuple[float, int | None, float, float]:
    """One netsim command as a whole process, its output to ``sink``: (wall seconds, exit code or
    None past ``timeout``, its own peak memory in MB, CPU seconds). ``env``: the environment
    (default: this process's), e.g. :func:`compiled_env`."""
    env = {**(os.environ if env is None else env), "COLUMNS": "120", "NO_COLOR": "1"}
    with open(sink, "wb") as out:
        start = time.perf_counter()
        proc = subprocess.Popen(_netsim(args), cwd=ROOT, stdout=out, stderr=subprocess.STDOUT, env=env,
                                start_new_session=True)
        status, usage, timed_out = _wait(proc, start + timeout)
        seconds = time.perf_counter() - start
    code = None if timed_out or status is None else os.waitstatus_to_exitcode(status)
    cpu = usage.ru_utime + usage.ru_stime if usage else 0.0
    return seconds, code, usage.ru_maxrss / 1024 if usage else 0.0, cpu


def _wait(proc: subprocess.Popen, deadline: float) -> tuple[int | None, object, bool]:
    """Wait for the child (its own resource usage from wait4); past the deadline kill its session."""
    while True:
        pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
        if pid:
            proc.returncode = os.waitstatus_to_exitcode(status)
            return status, usage, False
        if time.perf_counter() > deadline:
            os.killpg(proc.pid, signal.SIGKILL)
            _, status, usage = os.wait4(proc.pid, 0)
            proc.returncode = -9
            return None, usage, True
        time.sleep(0.02)


def bench(sizes: list[str], commands: list[str], timeout: float, seed: int = 1, progress=None,
          rounds: int = 1) -> list[Run]:
    """Every command on every size, ``rounds`` times over; within a round a command's sizes run
    back to back (their ratio then reads the machine at one speed). A command the CLI lacks is
    recorded as n/a; one that timed out is not run again in later rounds (recorded as before)."""
    runs: list[Run] = []
    by_class = not {"reach-by-class", "reach-outcomes-json"} & set(commands) or has_by_class()
    with tempfile.TemporaryDirectory(prefix="scale-bench-") as tmp:
        env = compiled_env(Path(tmp) / "pycache")
        _warm_up(commands, by_class, Path(tmp), env)
        designs: dict[str, tuple[Path, tuple[str, str]]] = {}
        with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("fork")) as aside:
            for size in sizes:
                path = Path(tmp) / f"scale-{size}.yaml"
                designs[size] = (path, aside.submit(_written, SIZES[size], seed, path).result())
        timed_out: dict[tuple[str, str], Run] = {}
        for n in range(rounds):
            for command in commands:
                for size in sizes:
                    path, pair = designs[size]
                    if command in ("reach-by-class", "reach-outcomes-json") and not by_class:
                        run = Run(command, size, 0.0, 0.0, "n/a", 0, round=n)
                    elif (command, size) in timed_out:
                        run = replace(timed_out[command, size], round=n)
                    else:
                        run = replace(run_one(command, size, path, pair, Path(tmp), timeout, env), round=n)
                        if run.outcome == "timeout":
                            timed_out[command, size] = run
                    runs.append(run)
                    if progress:
                        progress(run)
    return runs


def _written(shape: tuple[int, int, int], seed: int, path: Path) -> tuple[str, str]:
    """Write the design of ``shape`` (containers, networks, hosts) to ``path``; the pair `trace` is
    timed on. Large ones are made in a process of their own: a child's peak memory (``ru_maxrss``)
    starts from its parent's peak at the fork, so the benchmark itself never holds a design of
    10,000 containers."""
    design = generate(*shape, seed)
    write(design, path)
    src, dst = design[BENCH_KEY]["trace"]
    return src, dst


def _warm_up(commands: list[str], by_class: bool, tmp: Path, env: dict[str, str]) -> None:
    """Each command once on a small design, untimed: what the runs import from the standard library
    and site-packages is compiled into the cache too (it reads none from elsewhere)."""
    path = tmp / "warm-up.yaml"
    pair = _written((60, 4, 2), 1, path)
    for command in commands:
        if by_class or command not in ("reach-by-class", "reach-outcomes-json"):
            run_one(command, "warm-up", path, pair, tmp, 120, env)


def table(runs: list[Run], sizes: list[str], commands: list[str]) -> str:
    """The table: one row per command, wall-clock and CPU seconds and peak MB per size (each the
    median of its rounds), and the growth of the CPU time from the first size to the last: the
    median of each round's ratio (a round runs a command's sizes back to back, so a ratio is read
    at one speed of the machine, which drifts by half within minutes on a shared VM)."""
    cells: dict[tuple[str, str], list[Run]] = {}
    for r in runs:
        cells.setdefault((r.command, r.size), []).append(r)
    rounds = max((r.round for r in runs), default=0) + 1
    head = f"{'command':<15}" + "".join(f" {s + ' s':>9} {s + ' cpu':>8} {s + ' MB':>8}" for s in sizes)
    grow = len(sizes) > 1
    if grow:
        head += f" {'cpu ' + sizes[0] + '->' + sizes[-1]:>12}"
    lines = [head, "-" * len(head)]
    for command in commands:
        row = f"{command:<15}"
        for s in sizes:
            r = _median(cells[(command, s)])
            row += f" {'n/a':>9} {'-':>8} {'-':>8}" if r.outcome == "n/a" else f" {_seconds(r):>9} {r.cpu:>8.2f} {r.peak_mb:>8.0f}"
        if grow:
            last = {r.round: r for r in cells[(command, sizes[-1])]}
            ratios = sorted(last[a.round].cpu / a.cpu for a in cells[(command, sizes[0])]
                            if a.outcome == "ok" and a.cpu > 0 and a.round in last and last[a.round].outcome == "ok")
            factor = f"x{ratios[len(ratios) // 2]:.1f}" if ratios and len(ratios) == rounds else "-"
            row += f" {factor:>12}"
        lines.append(row)
    notes = [f"{r.command} at {r.size}: {r.outcome}" for r in runs
             if r.outcome not in ("ok", "n/a", "timeout") and r.round == 0]
    if rounds > 1:
        notes.append(f"{rounds} rounds: each cell the median; growth the median of the rounds' ratios "
                     "(a command's sizes run back to back)")
    return "\n".join(lines + notes) + "\n"


def _median(runs: list[Run]) -> Run:
    """The run of median CPU time among those that ran to completion; else the first that did not."""
    done = sorted((r for r in runs if r.outcome == "ok"), key=lambda r: r.cpu)
    if len(done) < len(runs):
        return next(r for r in runs if r.outcome != "ok")
    return done[len(done) // 2]


def _seconds(r: Run) -> str:
    if r.outcome == "timeout":
        return f">{r.seconds:.0f}"
    return f"{r.seconds:.2f}" + ("" if r.outcome == "ok" else "!")


def reference_seconds(rounds: int = 3) -> float:
    """CPU seconds of a fixed pure-Python workload (dict lookups, tuples, small calls: what the
    analysis does most), the least of ``rounds``: this machine's speed now. The same code's times
    differ by a third between days on a shared VM; dividing by this makes runs comparable."""
    def step(d: dict, i: int) -> tuple:
        return (i, d.get(i & 1023, 0))

    best = float("inf")
    for _ in range(rounds):
        start = time.process_time()
        d = {i: i * 7 for i in range(1024)}
        total = 0
        for i in range(2_000_000):
            total += step(d, i)[1]
        best = min(best, time.process_time() - start)
    return best


def _machine() -> str:
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    return f"machine: reference workload {reference_seconds():.3f} CPU s (load average {load})"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="1k,3k,10k", help=f"comma-separated, of: {', '.join(SIZES)}")
    ap.add_argument("--commands", default=",".join(COMMANDS), help="comma-separated (default: all)")
    ap.add_argument("--timeout", type=float, default=120.0, help="seconds one command may take (default 120)")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--rounds", type=int, default=3, help="times each command runs per size; the table takes medians (default 3)")
    ap.add_argument("--write", metavar="PATH", help="only write the design of the (first) size to PATH")
    args = ap.parse_args(argv)
    sizes = [s for s in args.sizes.split(",") if s]
    commands = [c for c in args.commands.split(",") if c]
    bad = [s for s in sizes if s not in SIZES] + [c for c in commands if c not in COMMANDS]
    if bad or not sizes or not commands:
        ap.error(f"unknown size or command: {', '.join(bad) or '(none given)'}; sizes: {', '.join(SIZES)}; "
                 f"commands: {', '.join(COMMANDS)}")
    if args.write:
        write(generate(*SIZES[sizes[0]], args.seed), Path(args.write))
        return 0
    print(f"sizes: {', '.join(f'{s} = {c:,} containers / {n} networks / {h} hosts' for s, (c, n, h) in SIZES.items() if s in sizes)}",
          flush=True)

    def progress(r: Run) -> None:
        print(f"  {r.round + 1}: {r.size:>4} {r.command:<15} {r.seconds:8.2f} s {r.cpu:8.2f} cpu s {r.peak_mb:7.0f} MB  {r.outcome}  "
              f"({r.output_bytes:,} bytes out)", file=sys.stderr, flush=True)

    print(_machine(), flush=True)
    runs = bench(sizes, commands, args.timeout, args.seed, progress, max(1, args.rounds))
    print(table(runs, sizes, commands), end="")
    print(_machine())
    return 0


if __name__ == "__main__":
    sys.exit(main())
