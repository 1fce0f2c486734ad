"""The audit reads the matrix by classes (groups and a few exact probes), never every probe: its
findings equal the ones read off every probe, proof for proof; grouped, replicas' findings become one
finding with a count, the first case's proof and every case listed (JSON) or on request (--all).

The per-probe checks below are the reference: the rules that read probes (NS001, NS002, NS003,
NS005, NS006, NS007) as they were before classes, each probe of the matrix in order.
"""

from __future__ import annotations

import json
import sys
from collections import defaultdict
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from simulator.analysis.exposure import audience
from simulator.analysis.reachability import reach_of
from simulator.audit import run_audit
from simulator.audit.checks import ANY, LINK_DRIVERS, _exposed_networks, AuditContext
from simulator.cli import app
from simulator.engine.ipam import GWBRIDGE
from simulator.engine.trace import Disposition
from simulator.intent.evidence import TraceBook, describe_probe, outcome_of
from simulator.model import ModeKind
from simulator.pipeline import load

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "benchmarks"))

from scale_bench import generate  # noqa: E402  (irregular designs with replica classes)

BUNDLED = sorted((ROOT / "designs").glob("*.yaml")) + sorted((ROOT / "designs").glob("*/compose.yaml"))
PROBE_RULES = ("NS001", "NS002", "NS003", "NS005", "NS006", "NS007")


def _labels(result, names):
    chosen, out = set(names), []
    for n in dict.fromkeys(names):
        c = result.class_of(n)
        if len(c.members) > 1 and chosen.issuperset(c.members):
            if c.id not in out:
                out.append(c.id)
        else:
            out.append(n)
    return out


def per_probe(design, result) -> list[tuple]:
    """(rule, services, message, proofs as text) of the probe-reading rules, from every probe."""
    probes = list(result.iter_probes())
    ctx = AuditContext(design, [], result, TraceBook(design, None, result.world))
    single = len(design.hosts) == 1
    out = []
    for host, b in ctx.bindings():  # NS001
        proof = [p for p in probes if p.source == "external" and p.reachable and p.responder == b.container and p.via == "host"
                 and p.port == b.host_port and p.protocol == b.protocol and (p.host or None) == (None if single else host)]
        if b.host_ip == ANY and proof:
            out.append(("NS001", (b.container,), f"{b.container} publishes {b.host_port}/{b.protocol} on 0.0.0.0 "
                        f"(every address of host {host})", [proof[0]]))
    by_target = defaultdict(list)  # NS002
    for p in probes:
        if p.via == "host" and p.reachable and p.responder and design.has_container(p.source) \
                and design.container(p.responder).mode.kind is not ModeKind.HOST and audience(result, p) == "other networks":
            by_target[(p.responder, p.port, p.protocol)].append(p)
    for (service, port, proto), ps in sorted(by_target.items()):
        others = sorted({p.source for p in ps})
        who = ", ".join(sorted(_labels(result, others)))
        out.append(("NS002", (service, *others), f"{who} reach{'es' if len(others) == 1 else ''} {service} through the "
                    f"host's published port {port}/{proto} although they share no network with it", [ps[0]]))
    direct = defaultdict(list)  # NS003
    for p in probes:
        if p.source == "external" and p.via == "ip" and p.reachable and p.network and design.has_network(p.network) \
                and design.network(p.network).driver not in LINK_DRIVERS:
            direct[(p.target, p.network)].append(p)
    for (target, network), ps in sorted(direct.items()):
        ports = ", ".join(sorted({f"{p.port}/{p.protocol}" for p in ps}))
        out.append(("NS003", (target,), f"a LAN peer reaches {target} at {ps[0].address} on {network} ({ports}) without "
                    f"going through a published host address (engine {result.world.version})", [ps[0]]))
    for c in design.containers:  # NS005
        if c.mode.kind is ModeKind.HOST:
            proof = [p for p in probes if p.source == "external" and p.via == "host" and p.responder == c.name]
            out.append(("NS005", (c.name,), None, proof[:4]))
    on = [c.name for c in design.containers
          if any(design.has_network(a.network) and design.network(a.network).default_bridge for a in c.attachments)]
    if on:  # NS006
        open_ = [p for p in probes if p.source in on and p.via == "ip" and p.reachable and p.responder in on and p.responder != p.source]
        nodns = [p for p in probes if p.source in on and p.via == "dns" and p.disposition is Disposition.NAME_NOT_RESOLVED]
        out.append(("NS006", tuple(on), None, open_[:1] + nodns[:1]))
    exposed = _exposed_networks(ctx)
    for c in design.containers:  # NS007
        nets = [n for n in c.networks if design.has_network(n) and n != GWBRIDGE]
        if c.mode.kind is not ModeKind.NETWORKS or len(nets) < 2:
            continue
        open_nets = [n for n in nets if n in exposed and not design.network(n).internal]
        closed = [n for n in nets if design.network(n).internal or n not in exposed]
        if open_nets and closed:
            inside = [p for p in probes if p.source == c.name and p.via == "ip" and p.reachable
                      and p.network in closed and p.responder not in (None, c.name)]
            out.append(("NS007", (c.name,), None, inside[:1]))
    return sorted((rule, services, message, tuple(f"{describe_probe(p)}: {outcome_of(p)}" for p in proofs))
                  for rule, services, message, proofs in out)


def by_classes(design, result) -> list[tuple]:
    found = []
    for f in run_audit(design, (), None, (), result, grouped=False):
        if f.rule.id not in PROBE_RULES:
            continue
        assert f.count == 1 and not f.proofs
        shown = tuple(str(e) for e in f.evidence if e.trace is not None)  # the probes' evidence (NS007's network notes aside)
        found.append((f.rule.id, f.services, None if f.rule.id in ("NS005", "NS006", "NS007") else f.message, shown))
    return sorted(found)


def _generated(containers, networks, hosts, seed):
    return load(yaml.safe_dump(generate(containers, networks, hosts, seed)))


@pytest.mark.parametrize("version", [None, "28.2"])
@pytest.mark.parametrize("path", BUNDLED, ids=lambda p: p.parent.name if p.name == "compose.yaml" else p.stem)
def test_bundled_designs_audit_equals_the_per_probe_one(path, version):
    loaded = load(path)
    result = reach_of(loaded.world(version))
    assert by_classes(loaded.design, result) == per_probe(loaded.design, reach_of(loaded.world(version)))


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.integers(12, 40), st.integers(2, 6), st.integers(1, 3), st.integers(0, 10_000))
def test_generated_designs_audit_equals_the_per_probe_one(containers, networks, hosts, seed):
    loaded = _generated(containers, networks, hosts, seed)
    world = loaded.world()
    assert by_classes(loaded.design, reach_of(world)) == per_probe(loaded.design, reach_of(world))


def test_replicas_findings_are_grouped_with_count_one_proof_and_every_case():
    loaded = _generated(90, 6, 2, 7)
    result = reach_of(loaded.world())
    every = run_audit(loaded.design, (), None, (), result, grouped=False)
    grouped = run_audit(loaded.design, (), None, (), result)
    assert len(grouped) < len(every)
    assert sum(f.count for f in grouped) == len(every)
    assert sorted((i.services, i.message) for f in grouped for i in (f.instances or [f])) == \
        sorted((f.services, f.message) for f in every)
    several = [f for f in grouped if f.count > 1]
    assert several
    for f in several:
        assert f.instances[0].message == f.message and {result.class_of(s).id for i in f.instances for s in i.services[:1]} \
            == {result.class_of(f.services[0]).id}
        first = next(e for e in every if e.rule is f.rule and e.message == f.message)
        assert f.evidence == first.evidence  # the first case's proof


def test_cli_table_lists_a_few_alike_and_all_on_request_json_has_every_case(tmp_path):
    path = tmp_path / "scale.yaml"
    path.write_text(yaml.safe_dump(generate(90, 6, 2, 7)))
    short = CliRunner().invoke(app, ["audit", str(path), "--fail-on", "never", "--no-trace"])
    full = CliRunner().invoke(app, ["audit", str(path), "--fail-on", "never", "--no-trace", "--all"])
    data = json.loads(CliRunner().invoke(app, ["audit", str(path), "--fail-on", "never", "-f", "json"]).output)
    assert short.exit_code == full.exit_code == 0
    big = max(data["findings"], key=lambda f: f["count"])
    assert big["count"] > 4 and len(big["instances"]) == big["count"]
    assert all({"rule", "services", "message", "fix", "location", "evidence"} <= set(f) for f in data["findings"])
    assert f"(×{big['count']} alike)" in short.output and "more alike (--all lists every one" in short.output
    for case in big["instances"][1:]:
        assert f"alike: {case['message']} ({case['location']})" in full.output
    assert "more alike" not in full.output
