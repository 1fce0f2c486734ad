"""Benchmark deploy + verify (all pairs) + destroy against the local engine.

    python benchmarks/verify_bench.py [--containers 30] [--networks 3] [--sample 40]

Generates a design of N containers spread over M user bridges, every container listening
on 80/tcp and 53/udp and publishing 80 on a host port, times each phase of a real run, then
times a random sample of probes done the slow way (one ``docker exec`` per probe, the
same prober) and extrapolates that to every probe.  Targets: whole run <= 60 s, >= 10x
faster than one exec per probe, 0 mismatches (a probe that timed out against the model is
retried with a longer timeout, as verify does).  Prints the figures; exit 1 when a target
is missed.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from ipaddress import IPv4Network
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from simulator.adapters import lanpeer
from simulator.adapters.docker_engine import DockerEngine
from simulator.adapters.probe_agent import (
    Dial,
    parse_results,
    probe_script,
)
from simulator.analysis.reachability import compute_reach
from simulator.deploy.apply import apply, destroy
from simulator.deploy.plan import plan
from simulator.model import (
    Attachment,
    Container,
    Design,
    Driver,
    Host,
    Listener,
    Network,
    PortMapping,
    Protocol,
)
from simulator.verify.compare import compare
from simulator.verify.observe import (
    build_guard,
    gather_facts,
    host_forbidden,
    host_local_routes,
    observe,
)
from simulator.verify.session import retry_transient


def bench_design(containers: int, networks: int) -> Design:
    nets = tuple(Network(f"n{i}", Driver.BRIDGE, docker_name=f"nsbench2_n{i}",
                         subnet=IPv4Network(f"10.241.{i}.0/24")) for i in range(networks))
    ctrs = tuple(
        Container(f"c{i:02d}", "h1", docker_name=f"nsbench2-c{i:02d}", service=f"c{i:02d}",
                  attachments=(Attachment(f"n{i % networks}"),),
                  ports=(PortMapping(80, host_port=19000 + i),),
                  listeners=(Listener(80), Listener(53, Protocol.UDP)))
        for i in range(containers)
    )
    return Design("nsbench2", (Host("h1"),), nets, ctrs)


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--containers", type=int, default=30)
    ap.add_argument("--networks", type=int, default=3)
    ap.add_argument("--sample", type=int, default=40, help="probes timed one exec each")
    args = ap.parse_args()

    design = bench_design(args.containers, args.networks)
    engine = DockerEngine()
    the_plan = plan(design, caps=lanpeer.kernel_capabilities())
    times: dict[str, float] = {}
    t_all = time.perf_counter()
    try:
        t = time.perf_counter()
        dep = apply(the_plan, engine)
        times["deploy"] = time.perf_counter() - t

        t = time.perf_counter()
        result = compute_reach(design, "20.10")
        times["model"] = time.perf_counter() - t

        t = time.perf_counter()
        facts = gather_facts(design, the_plan, engine, dep.lan_ready)
        guard = build_guard(facts, the_plan, host_forbidden(the_plan, facts), host_local_routes())
        with lanpeer.uplink_guard():
            observations = observe(design, the_plan, result.probes, engine, facts, guard)
            # as verify does: timeouts against the model are dialled once more, longer
            observations = retry_transient(design, the_plan, result.probes, observations, engine, facts, guard)
            times["probe"] = time.perf_counter() - t
            rows = compare(result.probes, observations)

            # the slow way: one docker exec per probe, on a random sample of container probes
            rng = random.Random(7)
            container_probes = [p for p in result.probes if design.has_container(p.source)
                                and observations[p.key].address and observations[p.key].compared]
            sample = rng.sample(container_probes, min(args.sample, len(container_probes)))
            per_probe = []
            for p in sample:
                o = observations[p.key]
                script = probe_script([Dial("p0", p.protocol, o.address, p.port)])
                t1 = time.perf_counter()
                parse_results(engine.exec_batch(facts.containers[p.source].name, script).output)
                per_probe.append(time.perf_counter() - t1)
    finally:
        t = time.perf_counter()
        destroy(design.name, engine)
        times["destroy"] = time.perf_counter() - t
    total = time.perf_counter() - t_all - sum(per_probe)  # the slow-way sample is not part of a run

    n = len(result.probes)
    verdicts = {v: sum(1 for r in rows if r.verdict == v) for v in ("agree", "mismatch", "detail", "not-compared")}
    verdicts["retried"] = sum(1 for r in rows if r.observation is not None and r.observation.attempts > 1)
    mean = statistics.mean(per_probe) if per_probe else 0.0
    extrapolated = mean * len(container_probes)  # host/LAN probes need no exec either way
    batched = times["probe"]
    speedup = extrapolated / batched if batched else float("inf")
    print(f"design: {args.containers} containers on {args.networks} networks, {n} probes "
          f"({len(container_probes)} from containers)")
    for phase in ("deploy", "model", "probe", "destroy"):
        print(f"  {phase:<8} {times[phase]:7.2f} s")
    print(f"  total    {total:7.2f} s  (deploy + verify + destroy; target <= 60 s)")
    print(f"  verdicts: {verdicts}")
    for r in [r for r in rows if r.verdict == "mismatch"][:5]:
        print(f"    mismatch: {r.probe.source} {r.probe.via} {r.probe.target or r.probe.name or 'host'} "
              f"{r.probe.port}/{r.probe.protocol}: {r.why}")
    print(f"one exec per probe: sample of {len(per_probe)}: mean {mean * 1000:.0f} ms "
          f"(min {min(per_probe) * 1000:.0f}, max {max(per_probe) * 1000:.0f}) -> "
          f"{extrapolated:.0f} s for the {len(container_probes)} probes from containers")
    print(f"batched probing {batched:.2f} s: {speedup:.0f}x faster (target >= 10x)")
    return 0 if total <= 60 and speedup >= 10 and verdicts["mismatch"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
